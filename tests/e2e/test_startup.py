"""Starting the daemon: what it refuses to start with, and
how it guards the key once running. A refusal is a non-zero exit with one
clear line naming what is wrong (never quoting the key) and nothing
mounted. The key comes from GPTIMGFS_API_KEY, key_file or the config file,
never the command line; files holding it must be private; plain http://
only to loopback; allow_other brings default_permissions; the running
daemon is not dumpable (no core file, no /proc/PID/mem for the user's other
processes) and `ps` shows no key. See gptimgfs(1), OPTIONS and THE API KEY.

Before the mount the daemon asks the API once (GET /v1/credits) whether it
takes the key: a 401 or 403 is such a refusal, naming where the key came
from and the API's message; an API that cannot be reached or answers
anything else is said in one line, and the mount comes up all the same."""
import errno
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Mount, Sim, main, status_fields, wait_for

KEY = harness.KEY
NOBODY = 65534


class StartupBase(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gptimgfs-e2e-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.sim = Sim(self.workdir)
        self.addCleanup(self.sim.close)
        self.n = 0

    def mount(self, options=(), env=None, drop_key=False):
        """A Mount (not started) with its own mountpoint and log; the
        environment's key removed when drop_key."""
        self.n += 1
        m = Mount(self.workdir, self.sim.url, options, env=env,
                  name="mnt%d" % self.n)
        m.data_dir = os.path.join(self.workdir, "data%d" % self.n)
        if drop_key:
            del m.env["GPTIMGFS_API_KEY"]
        self.addCleanup(m.cleanup)
        return m

    def secret(self, name, text, mode):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def refused(self, options=(), env=None, drop_key=False, argv=None):
        """The daemon exits non-zero at once with one line on its output,
        which is returned; nothing is mounted, and the key is not in it."""
        m = self.mount(options, env, drop_key)
        if argv is not None:
            default = m.argv
            m.argv = lambda: argv(default(), m)
        m.start(wait=False)
        try:
            rc = m.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("gptimgfs %r did not exit" % (m.argv(),))
        m.log.close()
        m.proc = None
        out = m.read_log()
        self.assertNotEqual(rc, 0, out)
        self.assertFalse(os.path.ismount(m.path), out)
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 1, out)
        self.assertTrue(lines[0].startswith("gptimgfs: "), out)
        for secret in (KEY, "sk-cmdline-secret", "sk-config-secret",
                       "sk-file-secret"):
            self.assertNotIn(secret, out)
        # the data directory was not even created
        self.assertFalse(os.path.exists(m.data_dir), out)
        return lines[0]

    def assert_works(self, m):
        """The mount came up and a job completes: the simulator accepted
        the key the daemon read."""
        m.start()
        rc, text = m.submit("ok", "a cat, key and all")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        return m


class KeyFileTest(StartupBase):
    def test_key_file_readable_by_group_or_others_refused(self):
        for mode in (0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o666):
            with self.subTest(mode=oct(mode)):
                path = self.secret("key-%o" % mode, "sk-file-secret\n", mode)
                msg = self.refused(["key_file=" + path], drop_key=True)
                self.assertIn(path, msg)
                self.assertIn("group or others", msg)
                self.assertIn("chmod 600", msg)

    def test_private_key_file_used(self):
        # 0600 and 0400, the key with white space around it
        for mode in (0o600, 0o400):
            with self.subTest(mode=oct(mode)):
                path = self.secret("key-%o" % mode, "  %s \t\n" % KEY, mode)
                m = self.assert_works(self.mount(["key_file=" + path],
                                                 drop_key=True))
                with open("/proc/%d/cmdline" % m.proc.pid, "rb") as f:
                    self.assertNotIn(KEY.encode(), f.read())
                with open("/proc/%d/environ" % m.proc.pid, "rb") as f:
                    self.assertNotIn(KEY.encode(), f.read())
                m.unmount()

    def test_key_file_missing_or_empty(self):
        msg = self.refused(["key_file=" + os.path.join(self.workdir, "no")],
                           drop_key=True)
        self.assertIn(os.path.join(self.workdir, "no"), msg)
        self.assertIn(os.strerror(errno.ENOENT), msg)
        path = self.secret("empty", "\n", 0o600)
        msg = self.refused(["key_file=" + path], drop_key=True)
        self.assertIn(path, msg)
        self.assertIn("empty", msg)


class ConfigFileTest(StartupBase):
    def test_config_holding_key_readable_by_others_refused(self):
        for mode in (0o644, 0o640, 0o604):
            with self.subTest(mode=oct(mode)):
                path = self.secret("c-%o.ini" % mode,
                                   "poll_interval = 0.05\n"
                                   "api_key = sk-config-secret\n", mode)
                msg = self.refused(["config=" + path], drop_key=True)
                self.assertIn(path, msg)
                self.assertIn("api_key", msg)
                self.assertIn("group or others", msg)
        # the same when the key that would be used comes from elsewhere:
        # the file still leaks a key
        path = self.secret("c-env.ini", "api_key = sk-config-secret\n",
                           0o644)
        msg = self.refused(["config=" + path])
        self.assertIn(path, msg)

    def test_default_config_location_checked_too(self):
        cfg = os.path.join(self.workdir, "config", "gptimgfs")
        os.makedirs(cfg)
        path = os.path.join(cfg, "config.ini")
        with open(path, "w") as f:
            f.write("api_key = sk-config-secret\n")
        os.chmod(path, 0o644)
        msg = self.refused(drop_key=True)
        self.assertIn(path, msg)

    def test_private_config_key_used_public_config_without_key_fine(self):
        path = self.secret("c.ini", "# mine\napi_key = %s\n" % KEY, 0o600)
        m = self.assert_works(self.mount(["config=" + path], drop_key=True))
        m.unmount()
        # a world-readable config without a key is no secret
        path = self.secret("p.ini", "resolution = 2k\n", 0o644)
        self.assert_works(self.mount(["config=" + path]))
        self.assertEqual(self.sim.requests()[-1]["body"]["input"]
                         ["resolution"], "2k")


class OptionsTest(StartupBase):
    def test_key_on_the_command_line_refused(self):
        for opt in ("api_key=sk-cmdline-secret", "api_key"):
            with self.subTest(opt=opt):
                msg = self.refused([opt])
                self.assertIn("command line", msg)
                self.assertIn("GPTIMGFS_API_KEY", msg)
        # not even beside a valid key from the environment, nor as a
        # separate -o
        msg = self.refused(argv=lambda a, m: a[:-1] + [
            "-o", "api_key=sk-cmdline-secret", m.path])
        self.assertIn("command line", msg)

    def test_bad_option_values_refused_naming_the_option(self):
        for opt, value in (("poll_interval", "abc"),
                           ("poll_interval", "-1"),
                           ("max_inflight", "abc"),
                           ("max_inflight", "0"),
                           ("resolution", "8k"),
                           ("aspect_ratio", "7:3"),
                           ("nsfw_checker", "maybe"),
                           ("api_url", "not a url")):
            with self.subTest(opt=opt, value=value):
                msg = self.refused(["%s=%s" % (opt, value)])
                self.assertTrue(msg.startswith("gptimgfs: %s: " % opt), msg)

    def test_plain_http_only_to_loopback(self):
        for url in ("http://example.com", "http://10.0.0.1:8080",
                    "http://127.0.0.1.example.com", "ftp://127.0.0.1/"):
            with self.subTest(url=url):
                msg = self.refused(["api_url=" + url])
                self.assertTrue(msg.startswith("gptimgfs: api_url: "), msg)
        msg = self.refused(["api_url=http://example.com"])
        self.assertIn("loopback", msg)
        self.assertIn("https://", msg)

    def test_no_key_at_all(self):
        msg = self.refused(drop_key=True)
        self.assertIn("GPTIMGFS_API_KEY", msg)
        self.assertIn("key_file", msg)
        # an empty variable is no key either
        msg = self.refused(env={"GPTIMGFS_API_KEY": ""})
        self.assertIn("GPTIMGFS_API_KEY", msg)


class KeyCheckTest(StartupBase):
    """The key is checked once before the mount."""
    WRONG = "sk-file-secret"    # refused() checks it is never printed
    API_401 = "401 invalid_api_key: Invalid API key. Keys start with sk-."

    def log_lines(self, m, what):
        return [ln for ln in m.read_log().splitlines() if what in ln]

    def test_refused_key_names_its_source(self):
        key_file = self.secret("wrong-key", self.WRONG + "\n", 0o600)
        config = self.secret("wrong.ini", "api_key = %s\n" % self.WRONG,
                             0o600)
        for how, options, env, source in (
                ("environment", [], {"GPTIMGFS_API_KEY": self.WRONG},
                 "GPTIMGFS_API_KEY"),
                ("key_file", ["key_file=" + key_file], None,
                 "key_file " + key_file),
                ("config file", ["config=" + config], None,
                 "api_key in " + config)):
            with self.subTest(source=how):
                msg = self.refused(options, env=env, drop_key=env is None)
                self.assertEqual(msg, "gptimgfs: the API refused the key "
                                 "from %s: %s" % (source, self.API_401))
        st = self.sim.stats()
        self.assertEqual(st["credits_reads"], 3)
        self.assertEqual(st["create_requests"], 0)

    def test_key_not_allowed_403_refused(self):
        self.sim.fault(endpoint="credits", action="error", status=403,
                       code="ip_not_allowed",
                       message="Your IP is not on the allow-list.", count=1)
        msg = self.refused()
        self.assertEqual(msg, "gptimgfs: the API refused the key from "
                         "GPTIMGFS_API_KEY: 403 ip_not_allowed: Your IP is "
                         "not on the allow-list.")

    def test_unreachable_api_mounts_and_says_so(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()     # nothing listens there now: connection refused
        m = self.mount()
        m.api_url = "http://127.0.0.1:%d" % port
        m.start()
        lines = self.log_lines(m, "key from")
        self.assertEqual(len(lines), 1, m.read_log())
        self.assertTrue(lines[0].startswith(
            "gptimgfs: the key from GPTIMGFS_API_KEY was not checked: the "
            "API could not be reached ("), lines[0])
        self.assertTrue(lines[0].endswith("); mounting anyway"), lines[0])
        self.assertNotIn(KEY, m.read_log())
        # a job waits and retries as it always did
        m.write("jobs/cr.txt", "a cat behind a closed door\n")
        wait_for(lambda: "note:" in m.status("cr"), timeout=10,
                 what="the refused creation to be rescheduled")
        self.assertEqual(status_fields(m.status("cr"))[0], "queued")

    def test_other_answers_mount_and_say_so(self):
        for rule, said in (
                ({"action": "error", "status": 503, "code": "upstream_error",
                  "message": "busy"},
                 "the API answered 503 upstream_error: busy"),
                ({"action": "error", "status": 429,
                  "code": "rate_limit_exceeded", "message": "slow down"},
                 "the API answered 429 rate_limit_exceeded: slow down"),
                ({"action": "malformed"}, "the API answered 200 but credits "
                 "answer: not JSON")):
            with self.subTest(rule=rule):
                self.sim.fault(endpoint="credits", count=1, **rule)
                m = self.mount()
                m.start()
                lines = self.log_lines(m, "not checked")
                self.assertEqual(len(lines), 1, m.read_log())
                self.assertIn(": " + said, lines[0])
                self.assertTrue(lines[0].endswith("; mounting anyway"),
                                lines[0])
                rc, text = m.submit("ok", "a cat despite it all")
                self.assertEqual(status_fields(text)[0], "completed", text)
                m.unmount()

    def test_good_key_mounts_silently(self):
        m = self.mount()
        t0 = time.monotonic()
        m.start()
        self.assertEqual(m.read("credits").splitlines()[0], "10000")
        # the check's balance is what `cat credits` shows at first: no
        # second read while it is fresh (5 s)
        if time.monotonic() - t0 < 4:
            self.assertEqual(self.sim.stats()["credits_reads"], 1)
        rc, text = m.submit("ok", "a cat, key and all")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        self.assertEqual(self.log_lines(m, "key from"), [], m.read_log())

    def test_simulate_checks_its_own_simulator(self):
        m = self.mount(["simulate"], drop_key=True)
        m.start()
        self.assertEqual(self.log_lines(m, "key from"), [], m.read_log())
        self.assertEqual(m.read("credits").splitlines()[0], "10000")
        self.assertEqual(self.sim.stats()["credits_reads"], 0)


class RunningTest(StartupBase):
    def proc_options(self, path):
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                if fields[1] == path:
                    return fields[3].split(",")
        self.fail("%s is not in /proc/mounts" % path)

    def test_allow_other_brings_default_permissions(self):
        os.chmod(self.workdir, 0o755)
        for opts in (["allow_other"], ["allow_other", "default_permissions"],
                     ["default_permissions", "allow_other"]):
            with self.subTest(opts=opts):
                m = self.mount(opts)
                self.assert_works(m)
                mo = self.proc_options(m.path)
                self.assertIn("allow_other", mo)
                self.assertIn("default_permissions", mo)
                # another user may look, and the kernel checks the modes
                r = self.as_nobody(
                    "sh", "-c", 'cat "$D/status/ok" >/dev/null && '
                    'ls "$D/out" && echo "a cat" > "$D/jobs/n.txt"',
                    env=dict(os.environ, D=m.path))
                self.assertIn("ok.png", r.stdout)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("Permission denied", r.stderr)
                self.assertNotIn("n", os.listdir(m.p("status")))
                m.unmount()

    def test_other_users_see_nothing_without_allow_other(self):
        os.chmod(self.workdir, 0o755)
        m = self.assert_works(self.mount())
        mo = self.proc_options(m.path)
        self.assertNotIn("allow_other", mo)
        r = self.as_nobody("ls", m.p("status"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Permission denied", r.stderr)

    def as_nobody(self, *argv, env=None):
        return subprocess.run(["setpriv", "--reuid=%d" % NOBODY,
                               "--regid=%d" % NOBODY, "--clear-groups",
                               *argv], env=env, capture_output=True,
                              text=True, timeout=30)

    def test_daemon_is_not_dumpable(self):
        """PR_SET_DUMPABLE 0 cannot be read from outside directly, but it
        shows: the kernel makes the /proc/PID files of a non-dumpable
        process owned by root:root whatever the process's ids. Start the
        daemon (and a control process) with group 4242: the daemon's
        /proc/PID/environ must be group 0, the control's group 4242.
        (allow_other: this test, group 0, is another user to FUSE.)"""
        m = self.mount(["allow_other"])
        m.log = open(m.log_path, "a")
        m.proc = subprocess.Popen(m.argv(), stdout=m.log,
                                  stderr=subprocess.STDOUT, env=m.env,
                                  group=4242, extra_groups=[])
        wait_for(lambda: os.path.ismount(m.path) or
                 m.proc.poll() is not None, what="the mount")
        self.assertIsNone(m.proc.poll(), m.read_log())
        control = subprocess.Popen(["sleep", "60"], group=4242,
                                   extra_groups=[])
        self.addCleanup(control.wait)
        self.addCleanup(control.kill)
        with open("/proc/%d/status" % m.proc.pid) as f:
            gids = [ln for ln in f if ln.startswith("Gid:")][0].split()[1:]
        self.assertEqual(gids, ["4242"] * 4)
        self.assertEqual(os.stat("/proc/%d/environ" % control.pid).st_gid,
                         4242)
        for f in ("environ", "mem", "maps", "auxv"):
            st = os.stat("/proc/%d/%s" % (m.proc.pid, f))
            self.assertEqual((st.st_uid, st.st_gid), (0, 0),
                             "/proc/PID/%s: the daemon is dumpable" % f)
        # every thread (the network thread holds the key too)
        for tid in os.listdir("/proc/%d/task" % m.proc.pid):
            st = os.stat("/proc/%d/task/%s/environ" % (m.proc.pid, tid))
            self.assertEqual(st.st_gid, 0, "thread %s is dumpable" % tid)
        # and it works as usual
        rc, text = m.submit("ok", "a cat from group 4242")
        self.assertEqual(rc, 0, text)
        self.assertEqual(os.stat(m.p("out/ok.png")).st_gid, 4242)

    def test_ps_never_shows_the_key(self):
        path = self.secret("key", KEY + "\n", 0o600)
        m1 = self.assert_works(self.mount(["key_file=" + path],
                                          drop_key=True))
        m2 = self.assert_works(self.mount())
        r = subprocess.run(["ps", "-eww", "-o", "pid,args"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(m1.path, r.stdout)
        self.assertIn(m2.path, r.stdout)
        self.assertNotIn(KEY, r.stdout)
        for m in (m1, m2):
            with open("/proc/%d/cmdline" % m.proc.pid, "rb") as f:
                self.assertNotIn(KEY.encode(), f.read())
            self.assertNotIn(KEY, m.read_log())
            self.assertEqual(stat.S_IMODE(os.stat(m.data_dir).st_mode),
                             0o700)


if __name__ == "__main__":
    main()
