"""wait/NAME (gptimgfs(1), WAIT): a read blocks until the job ends and then
gives its status text; an ended job answers at once; hundreds of blocked
readers hold no daemon thread; a signal ends a blocked read; a failed
job's text is followed by EIO, so `cat wait/NAME` exits non-zero."""
import errno
import os
import platform
import signal
import subprocess
import sys
import time

from harness import MountedTest, main, status_fields, wait_for

# the number of read(2) on this machine, to see a process blocked in it
READ_NR = {"x86_64": 0, "aarch64": 63, "riscv64": 63, "ppc64le": 3,
           "s390x": 3, "i686": 3, "armv7l": 3}[platform.machine()]

FAIL_PROMPT = "a doomed kite [sim:fail=upstream_error]"


def blocked_in_read(pid):
    """True when process pid sleeps inside read(2)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rpartition(")")[2].split()[0]
        with open("/proc/%d/syscall" % pid) as f:
            nr = f.read().split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state == "S" and nr == str(READ_NR)


class WaitBase(MountedTest):
    def popen_wait(self, name):
        p = subprocess.Popen(["cat", self.m.p("wait", name)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        self.addCleanup(self.reap, p)
        return p

    @staticmethod
    def reap(p):
        if p.poll() is None:
            p.kill()
        p.communicate()

    def write_prompt(self, name, prompt):
        with open(self.m.p("jobs", name + ".txt"), "w") as f:
            f.write(prompt + "\n")


class WaitTest(WaitBase):
    sim_processing = 1.0

    def test_blocks_until_completed(self):
        self.write_prompt("w", "a slow sunrise")
        first = self.m.status("w").splitlines()[0]
        self.assertIn(first, ("queued", "pending", "processing"))
        t0 = time.monotonic()
        rc, text = self.m.wait("w")
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, text)
        first, fields = status_fields(text)
        self.assertEqual(first, "completed")
        self.assertEqual(fields["outputs"], "out/w.png")
        self.assertGreater(elapsed, 0.5, "wait/w did not block")
        # the image is there when wait/ says completed
        with open(self.m.p("out/w.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.m.status("w"), text)

        # an ended job answers at once, every time
        for _ in range(3):
            t0 = time.monotonic()
            rc, again = self.m.wait("w", timeout=5)
            self.assertLess(time.monotonic() - t0, 2.0)
            self.assertEqual((rc, again), (0, text))

    def test_failed_job(self):
        self.write_prompt("bad", FAIL_PROMPT)
        r = subprocess.run(["cat", self.m.p("wait/bad")], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        first, fields = status_fields(r.stdout)
        self.assertEqual(first, "failed", r.stdout)
        self.assertEqual(fields["error"], "upstream_error: simulated failure")
        self.assertIn("Input/output error", r.stderr)
        self.assertEqual(r.stdout, self.m.status("bad"))

        # a read() loop: the whole text, then EIO (small reads: offsets)
        fd = os.open(self.m.p("wait/bad"), os.O_RDONLY)
        try:
            got = b""
            with self.assertRaises(OSError) as cm:
                while True:
                    chunk = os.read(fd, 7)
                    self.assertTrue(chunk, "EOF instead of EIO")
                    got += chunk
            self.assertEqual(cm.exception.errno, errno.EIO)
        finally:
            os.close(fd)
        self.assertEqual(got.decode(), r.stdout)

        # the chain of gptimgfs(1), EXAMPLES stops at cat
        r = subprocess.run("cat wait/bad && cp out/bad.png %s" % self.workdir,
                           shell=True, cwd=self.m.path, capture_output=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(self.workdir,
                                                     "bad.png")))

    def test_unknown_job(self):
        self.assertErrno(errno.ENOENT, open, self.m.p("wait/nothing"))
        r = subprocess.run(["cat", self.m.p("wait/nothing")],
                           capture_output=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)


class ManyWaitersTest(WaitBase):
    sim_processing = 5.0

    def test_300_waiters(self):
        jobs = {"j0": "a crowd", "j1": "a queue", "j2": "a flock",
                "jf": FAIL_PROMPT}
        for name, prompt in jobs.items():
            self.write_prompt(name, prompt)
        names = ["j0"] * 200 + ["j1"] * 40 + ["j2"] * 30 + ["jf"] * 30
        procs = [(n, self.popen_wait(n)) for n in names]

        # every reader is parked in read(); none has an answer yet
        wait_for(lambda: all(blocked_in_read(p.pid) for _, p in procs),
                 timeout=30, what="300 readers blocked in read()")
        # meanwhile the daemon serves everything else
        r = subprocess.run(["ls", "status", "out", "jobs"], cwd=self.m.path,
                           capture_output=True, text=True, timeout=5)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in jobs:
            self.assertIn(name, r.stdout.split())
            self.assertIn(self.m.status(name).splitlines()[0],
                          ("pending", "processing"))
        self.write_prompt("late", "a latecomer")
        self.assertIn(self.m.status("late").splitlines()[0],
                      ("queued", "pending", "processing"))
        with open(self.m.p("credits")) as f:
            self.assertTrue(f.read().strip())
        self.assertEqual([p for _, p in procs if p.poll() is not None], [])

        results = []
        for n, p in procs:
            out, _ = p.communicate(timeout=60)
            results.append((n, p.returncode, out))
        final = {n: self.m.status(n) for n in jobs}
        for name, rc, text in results:
            first = text.splitlines()[0] if text else ""
            if name == "jf":
                self.assertEqual((rc != 0, first), (True, "failed"), text)
            else:
                self.assertEqual((rc, first), (0, "completed"), text)
            self.assertEqual(text, final[name])
        self.assertIsNone(self.m.proc.poll())


class InterruptTest(WaitBase):
    sim_processing = 8.0

    def test_ctrl_c_ends_cat(self):
        self.write_prompt("x", "a very slow painting")
        p = self.popen_wait("x")
        wait_for(lambda: blocked_in_read(p.pid), what="cat blocked in read")
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.fail("cat wait/x ignored SIGINT")
        self.assertEqual(p.returncode, -signal.SIGINT)

        # a Python reader: the read fails with EINTR, its handler runs and
        # the process goes on
        script = ("import sys\n"
                  "try:\n"
                  "    open(sys.argv[1]).read()\n"
                  "    print('returned')\n"
                  "except KeyboardInterrupt:\n"
                  "    print('interrupted')\n")
        py = subprocess.Popen([sys.executable, "-c", script,
                               self.m.p("wait/x")], stdout=subprocess.PIPE,
                              text=True)
        self.addCleanup(self.reap, py)
        wait_for(lambda: blocked_in_read(py.pid), what="python blocked")
        py.send_signal(signal.SIGINT)
        out, _ = py.communicate(timeout=5)
        self.assertEqual((py.returncode, out), (0, "interrupted\n"))

        # the daemon is up, the job untouched and still running
        self.assertIsNone(self.m.proc.poll())
        self.assertIn("x", os.listdir(self.m.p("status")))
        self.assertIn(self.m.status("x").splitlines()[0],
                      ("pending", "processing"))
        # and it completes: a new reader sees it through
        rc, text = self.m.wait("x", timeout=30)
        self.assertEqual((rc, text.splitlines()[0]), (0, "completed"), text)
        self.assertEqual(self.sim.stats()["creates"], 1)


if __name__ == "__main__":
    main()
