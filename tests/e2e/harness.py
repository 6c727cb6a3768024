"""End-to-end harness: the real gptimgfs binary mounted on a temporary
directory against the real gptimgfs-sim on loopback.

Every mount made here is unmounted with `fusermount3 -uz` in a cleanup that
runs even when the test fails, and every process started here is killed.
Waiting is done on events where there is one (a blocking read of wait/NAME,
the simulator printing its port); where there is none (a mount appearing),
a condition is polled against a deadline.
"""
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

BIN = os.environ.get("GPTIMGFS_BIN", "gptimgfs")
SIM_BIN = os.environ.get("GPTIMGFS_SIM_BIN", "gptimgfs-sim")
KEY = "sk-e2e-secret-4c1f9a0b7d2e"
# what status/NAME says while jobs/NAME.txt is open in a handle that
# changed it (submitted at its last close)
WRITING_NOTE = "is being written; it is submitted at its last close"


def wait_for(predicate, timeout=20.0, what="condition"):
    """Poll predicate until it is true or the deadline passes."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def free_port():
    """A loopback port where nothing listens (for now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    """gptimgfs-sim on a loopback port: an ephemeral one unless port is
    given."""

    def __init__(self, workdir, pending=0.0, processing=0.0, extra=(),
                 port=0):
        self.log = open(os.path.join(workdir, "sim.log"), "w")
        env = dict(os.environ, GPTIMGFS_SIM_KEY=KEY)
        self.proc = subprocess.Popen(
            [SIM_BIN, "--port", str(port), "--pending", str(pending),
             "--processing", str(processing), "--image-scale", "0.0625",
             *extra],
            stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError("gptimgfs-sim did not print its port")
        self.port = int(line)
        self.url = "http://127.0.0.1:%d" % self.port

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        return json.loads(text) if text.strip() else None

    def stats(self):
        return self._call("GET", "/_sim/stats")

    def requests(self):
        """Every task-creation request the simulator received."""
        return self._call("GET", "/_sim/requests")

    def prompts(self):
        return self._call("GET", "/_sim/prompts")

    def fault(self, **rule):
        return self._call("POST", "/_sim/faults", rule)

    def clear_faults(self):
        return self._call("DELETE", "/_sim/faults")

    def configure(self, **settings):
        return self._call("POST", "/_sim/config", settings)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                # long enough for a sanitized build's exit (the leak
                # check): a kill in the middle leaves a truncated report
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class Mount:
    """gptimgfs -f on a temporary mountpoint."""

    def __init__(self, workdir, api_url, options=(), env=None, name="mnt",
                 args=()):
        self.workdir = workdir
        self.args = list(args)  # before -o, e.g. -s
        self.path = os.path.join(workdir, name)
        self.data_dir = os.path.join(workdir, "data")
        self.api_url = api_url
        self.options = list(options)
        self.env = dict(os.environ, HOME=workdir,
                        XDG_CONFIG_HOME=os.path.join(workdir, "config"),
                        XDG_DATA_HOME=os.path.join(workdir, "share"),
                        GPTIMGFS_API_KEY=KEY)
        for k in ("GPTIMGFS_CONFIG", "GPTIMGFS_DATA_DIR", "GPTIMGFS_API_URL",
                  "GPTIMGFS_KEY_FILE"):
            self.env.pop(k, None)
        if env:
            self.env.update(env)
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None
        os.makedirs(self.path, exist_ok=True)

    def argv(self):
        opts = ["api_url=" + self.api_url, "data_dir=" + self.data_dir,
                "poll_interval=0.05"] + self.options
        return [BIN, "-f"] + self.args + ["-o", ",".join(opts), self.path]

    def start(self, wait=True):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        if wait:
            wait_for(lambda: os.path.ismount(self.path) or
                     self.proc.poll() is not None, what="the mount")
            if self.proc.poll() is not None:
                raise AssertionError("gptimgfs exited %d:\n%s" %
                                     (self.proc.returncode, self.read_log()))
        return self

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def unmount(self):
        """Clean unmount, then wait for the daemon to exit."""
        subprocess.run(["fusermount3", "-u", self.path],
                       stderr=subprocess.DEVNULL)
        if self.proc:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            self.proc = None

    def kill9(self):
        """The daemon dies at once; the mount is torn down lazily."""
        if self.proc:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.log.close()
            self.proc = None
        subprocess.run(["fusermount3", "-uz", self.path],
                       stderr=subprocess.DEVNULL)

    def cleanup(self):
        subprocess.run(["fusermount3", "-uz", self.path],
                       stderr=subprocess.DEVNULL)
        if self.proc and self.proc.poll() is None:
            # the unmount ends the daemon: let it exit (and a sanitized
            # build finish its leak check and report) before a kill
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
            self.proc = None

    # -- the user's view ------------------------------------------------
    def write(self, rel, data):
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(self.p(rel), mode) as f:
            f.write(data)

    def read(self, rel):
        with open(self.p(rel)) as f:
            return f.read()

    def status(self, name):
        return self.read(os.path.join("status", name))

    def status_after_write(self, name):
        """status/NAME once the write of jobs/NAME.txt has ended. The
        RELEASE that submits the file reaches the daemon a moment after
        close() has returned; until then status/NAME says queued, with a
        note that the file is being written."""
        def ended():
            with open(self.p("status", name), "rb") as f:
                text = f.read().decode("utf-8", "replace")
            return None if WRITING_NOTE in text else text
        return wait_for(ended, what="the write of jobs/%s.txt to end" % name)

    def wait(self, name, timeout=30):
        """cat wait/NAME: (exit code, text)."""
        r = subprocess.run(["cat", self.p("wait", name)],
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout

    def wait_many(self, names, threads=8, timeout=600.0):
        """Read wait/NAME of every job from a few threads (each read blocks
        until its job ends): {name: (read ok, text)} of those that ended
        within timeout."""
        results = {}
        lock = threading.Lock()
        todo = list(names)

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    n = todo.pop()
                try:
                    with open(self.p("wait", n), "rb") as f:
                        r = (True, f.read().decode(errors="replace"))
                except OSError as e:
                    r = (False, repr(e))
                with lock:
                    results[n] = r

        workers = [threading.Thread(target=worker, daemon=True)
                   for _ in range(threads)]
        for w in workers:
            w.start()
        end = time.monotonic() + timeout
        for w in workers:
            w.join(max(0.0, end - time.monotonic()))
        with lock:
            return dict(results)

    def submit(self, name, prompt, timeout=30):
        """echo PROMPT > jobs/NAME.txt && cat wait/NAME"""
        self.write("jobs/%s.txt" % name, prompt + "\n")
        return self.wait(name, timeout)


def status_fields(text):
    """status text -> (first line, {key: value})."""
    lines = text.splitlines()
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        fields[k] = v
    return (lines[0] if lines else ""), fields


class MountedTest(unittest.TestCase):
    """A simulator and a mount for each test, torn down whatever happens."""

    sim_pending = 0.0
    sim_processing = 0.0
    sim_extra = ()
    mount_options = ()
    mount_args = ()  # command-line arguments before -o, e.g. ("-s",)

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gptimgfs-e2e-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.sim = Sim(self.workdir, self.sim_pending, self.sim_processing,
                       self.sim_extra)
        self.addCleanup(self.sim.close)
        self.m = Mount(self.workdir, self.sim.url, self.mount_options,
                       args=self.mount_args)
        self.addCleanup(self.dump_log_on_failure)
        self.addCleanup(self.m.cleanup)
        self.m.start()

    def dump_log_on_failure(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        failed = result is not None and any(
            t is self for t, _ in result.failures + result.errors)
        if failed and os.path.exists(self.m.log_path):
            print("---- daemon log ----\n" + self.m.read_log())

    def assertErrno(self, err, fn, *args, **kwargs):
        with self.assertRaises(OSError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.errno, err,
                         "%s: got %s, want %s" % (
                             fn.__name__, errno.errorcode.get(
                                 cm.exception.errno), errno.errorcode[err]))
        return cm.exception

    def creates(self):
        return self.sim.stats()["creates"]

    def sh(self, cmd, cwd=None, env=None):
        """Run a shell command line in the mount (or cwd); it must exit 0.
        Its standard output."""
        r = subprocess.run(cmd, shell=True, cwd=cwd or self.m.path,
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, env=env)
        self.assertEqual(r.returncode, 0, "%s: %s" % (cmd, r.stderr))
        return r.stdout

    def out_prompt(self, name):
        """The prompt xattr of out/NAME.png."""
        return os.getxattr(self.m.p("out", name + ".png"),
                           "user.gptimgfs.prompt").decode()

    def done(self, name, want="completed"):
        """cat wait/NAME must end in state want (exit 0 when completed,
        1 when failed); the status's fields."""
        rc, text = self.m.wait(name)
        first, fields = status_fields(text)
        self.assertEqual(first, want, text)
        self.assertEqual(rc, 0 if want == "completed" else 1, text)
        return fields


def main():
    unittest.main(verbosity=2)


# -- barriers for "nothing was submitted" checks (appended) ---------------
def settle(test):
    """Barrier before asserting that nothing was submitted: a close()'s
    FUSE release reaches the daemon after close() has returned, and a
    queued task reaches the API a little later. Submit a sentinel job
    (zz-settle) and block on wait/zz-settle; by then every earlier release
    was handled and every earlier task was sent. The sentinel is removed
    again (jobs/, out/), and spent(test) leaves it out of the counts."""
    sim, m = test.sim, test.m
    n = getattr(sim, "settles", 0) + 1
    rc, text = m.submit("zz-settle", "settle barrier %d" % n)
    if rc != 0 or not text.startswith("completed"):
        raise AssertionError("settle job did not complete: %r" % text)
    sim.settles = n
    os.unlink(m.p("jobs", "zz-settle.txt"))
    for name in os.listdir(m.p("out")):
        if name.startswith("zz-settle"):
            os.unlink(m.p("out", name))


def spent(test):
    """(create_requests, creates) of the simulator, sentinel jobs of
    settle() left out."""
    st = test.sim.stats()
    n = getattr(test.sim, "settles", 0)
    return st["create_requests"] - n, st["creates"] - n


def user_prompts(test):
    """/_sim/prompts without settle()'s sentinel prompts."""
    return {p: c for p, c in test.sim.prompts().items()
            if not p.startswith("settle barrier ")}


# -- whole-image check (appended) -------------------------------------------
def png_without_embedded(data):
    """A PNG without the chunks gptimgfs embeds (gptimgfs(1), OUTPUT,
    Metadata in the image): the bytes the API sent."""
    import struct

    pos, kept = 8, [data[:8]]
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        raw = data[pos:pos + 12 + n]
        key = raw[8:].partition(b"\0")[0]
        if not (raw[4:8] in (b"tEXt", b"iTXt") and
                key in (b"parameters", b"XML:com.adobe.xmp")):
            kept.append(raw)
        pos += 12 + n
    return b"".join(kept)


def png_size(data):
    """(width, height) of a whole PNG, or AssertionError saying what is
    wrong: the signature, every chunk's length and CRC, IHDR first, IEND
    last with nothing after it, and (non-interlaced) the inflated IDAT
    holding exactly height rows of the IHDR's width."""
    import struct
    import zlib

    def bad(why):
        raise AssertionError("not a whole PNG (%d bytes): %s" %
                             (len(data), why))

    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        bad("no PNG signature")
    pos, ihdr, idat, ended = 8, None, [], False
    while pos < len(data):
        if ended:
            bad("bytes after IEND")
        if pos + 8 > len(data):
            bad("cut inside a chunk header at %d" % pos)
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            bad("chunk %r cut short at %d" % (ctype, pos))
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:end])
        if zlib.crc32(ctype + body) & 0xffffffff != crc:
            bad("bad CRC in chunk %r at %d" % (ctype, pos))
        if ihdr is None and ctype != b"IHDR":
            bad("first chunk is %r" % ctype)
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            ended = True
        pos = end
    if not ended:
        bad("no IEND")
    width, height, depth, color, _, _, interlace = ihdr
    if interlace == 0:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color)
        if channels is None:
            bad("color type %d" % color)
        try:
            raw = zlib.decompress(b"".join(idat))
        except zlib.error as e:
            bad("IDAT does not inflate: %s" % e)
        row = (width * channels * depth + 7) // 8 + 1
        if len(raw) != row * height:
            bad("IDAT holds %d bytes, %dx%d needs %d" %
                (len(raw), width, height, row * height))
    return width, height


# -- the store's seals (appended) ---------------------------------------------
def reseal(data_dir, sub, name, key=None):
    """Seal DATA_DIR/SUB/NAME (a record or image metadata edited by a test)
    as the daemon writes it: the JSON object's last member "mac" is the
    HMAC-SHA256 of NAME, a NUL and the bytes before it, keyed with
    DATA_DIR/store.key (or with key: a file another store sealed)."""
    import hashlib
    import hmac
    if key is None:
        with open(os.path.join(data_dir, "store.key"), "rb") as f:
            key = f.read()
    path = os.path.join(data_dir, sub, name)
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    doc.pop("mac", None)
    body = json.dumps(doc, separators=(",", ":")).encode()[:-1]
    mac = hmac.new(key, name.encode() + b"\0" + body, hashlib.sha256)
    with open(path, "wb") as f:
        f.write(body + b',"mac":"' + mac.hexdigest().encode() + b'"}\n')
