"""Other users under allow_other (gptimgfs(1), SECURITY, Other users): a
job's status/NAME, wait/NAME, images and their attributes take the read
permissions of its prompt file at submission, history images and a restart
included; credits is the mount owner's alone. Reads are made by a user
created for the test (useradd) and removed again whatever happens."""
import errno
import json
import os
import pwd
import stat
import subprocess

from harness import Mount, MountedTest, main

XATTR = "user.gptimgfs.prompt"

def attempt(op, path):
    """op on path: "ok" or the errno's name."""
    try:
        if op == "read":
            with open(path, "rb") as f:
                f.read()
        elif op == "getxattr":
            os.getxattr(path, XATTR)
        elif op == "write":
            with open(path, "w") as f:
                f.write("another user's prompt\n")
        elif op == "mkdir":
            os.mkdir(path)
        else:
            os.listxattr(path)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]


class OtherUserTest(MountedTest):
    mount_options = ("allow_other",)

    def setUp(self):
        self.user = "gie2e%d" % os.getpid()
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", self.user],
                       check=True, capture_output=True)
        # registered before the mount's cleanups: runs after them
        self.addCleanup(subprocess.run, ["userdel", self.user],
                        capture_output=True)
        pw = pwd.getpwnam(self.user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        super().setUp()
        # the other user must reach the mountpoint
        os.chmod(self.workdir, 0o711)

    def as_other(self, *ops):
        """Try each (op, path) in a child that became the other user."""
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                os.close(rfd)
                os.setgroups([])
                os.setgid(self.gid)
                os.setuid(self.uid)
                answers = [attempt(op, path) for op, path in ops]
                os.write(wfd, json.dumps(answers).encode())
                status = 0
            finally:
                os._exit(status)
        os.close(wfd)
        with os.fdopen(rfd, "rb") as f:
            text = f.read()
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        return json.loads(text)

    def job_files(self, name):
        out = self.m.p("out", name + ".png")
        return [("read", self.m.p("status", name)),
                ("read", self.m.p("wait", name)),
                ("read", out), ("getxattr", out), ("listxattr", out)]

    def write_prompt(self, name, text, mode):
        fd = os.open(self.m.p("jobs", name + ".txt"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.write(fd, text.encode())
        os.close(fd)

    def mode_of(self, *rel):
        return stat.S_IMODE(os.stat(self.m.p(*rel)).st_mode)

    def test_private_and_public_prompts(self):
        self.write_prompt("priv", "a secret garden\n", 0o600)
        self.write_prompt("pub", "a public square\n", 0o644)
        self.done("priv")
        self.done("pub")
        for f in ("status/priv", "wait/priv", "out/priv.png"):
            self.assertEqual(self.mode_of(f), 0o400, f)
        for f in ("status/pub", "wait/pub", "out/pub.png"):
            self.assertEqual(self.mode_of(f), 0o444, f)
        self.assertEqual(self.as_other(*self.job_files("priv")),
                         ["EACCES"] * 5)
        self.assertEqual(self.as_other(*self.job_files("pub")), ["ok"] * 5)
        # the owner still reads everything
        self.assertEqual(self.out_prompt("priv"), "a secret garden")

    def test_history_images_and_restart_keep_the_mode(self):
        self.write_prompt("priv", "first secret\n", 0o600)
        self.done("priv")
        self.write_prompt("priv", "second secret\n", 0o600)
        self.done("priv")
        history = [n for n in os.listdir(self.m.p("out"))
                   if n.startswith("priv~")]
        self.assertEqual(len(history), 1, history)
        self.m.unmount()
        self.m = Mount(self.workdir, self.sim.url, self.mount_options)
        self.addCleanup(self.m.cleanup)
        self.m.start()
        hist = self.m.p("out", history[0])
        self.assertEqual(self.mode_of("out", history[0]), 0o400)
        self.assertEqual(self.mode_of("status", "priv"), 0o400)
        self.assertEqual(self.as_other(("read", hist), ("getxattr", hist),
                                       *self.job_files("priv")),
                         ["EACCES"] * 7)

    def test_being_written_takes_the_files_mode_now(self):
        fd = os.open(self.m.p("jobs", "w.txt"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"still typing")
            self.assertEqual(self.mode_of("status", "w"), 0o400)
            self.assertEqual(self.as_other(("read", self.m.p("status", "w"))),
                             ["EACCES"])
            os.fchmod(fd, 0o644)
            self.assertEqual(self.mode_of("status", "w"), 0o444)
        finally:
            os.close(fd)
        self.done("w")
        self.assertEqual(self.mode_of("out", "w.png"), 0o444)

    def test_jobs_never_writable_by_others(self):
        """Whoever writes in jobs/ spends the mounting user's credits: a
        folder or prompt file asked for 0777 or 0666 (mkdir, chmod, a copy
        made under umask 002) gets no write for group or others."""
        os.mkdir(self.m.p("jobs", "open"), 0o777)
        os.chmod(self.m.p("jobs", "open"), 0o777)
        self.write_prompt("open/p", "a shared prompt\n", 0o666)
        os.chmod(self.m.p("jobs", "open", "p.txt"), 0o666)
        self.done("open/p")
        self.assertEqual(self.mode_of("jobs", "open"), 0o755)
        self.assertEqual(self.mode_of("jobs", "open", "p.txt"), 0o644)
        self.assertEqual(
            self.as_other(("write", self.m.p("jobs", "open", "q.txt")),
                          ("write", self.m.p("jobs", "open", "p.txt")),
                          ("mkdir", self.m.p("jobs", "open", "d"))),
            ["EACCES"] * 3)
        self.assertEqual(self.creates(), 1)

    def test_credits_is_the_owners(self):
        self.assertEqual(self.mode_of("credits"), 0o400)
        self.assertIn("spent_today:", self.m.read("credits"))
        before = self.sim.stats()
        self.assertEqual(self.as_other(("read", self.m.p("credits"))),
                         ["EACCES"])
        self.assertEqual(self.sim.stats().get("credits_reads"),
                         before.get("credits_reads"))

    def test_progress_is_the_owners(self):
        """It counts every user's jobs: the owner's alone, as credits."""
        self.assertEqual(self.mode_of("progress"), 0o400)
        self.assertIn("jobs:", self.m.read("progress"))
        self.assertEqual(self.as_other(("read", self.m.p("progress"))),
                         ["EACCES"])


class WithoutAllowOtherTest(MountedTest):
    def test_modes_as_before(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.m.p("credits")).st_mode),
                         0o444)
        fd = os.open(self.m.p("jobs", "p.txt"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, b"a quiet room\n")
        os.close(fd)
        self.done("p")
        # the modes still say what the prompt's said
        self.assertEqual(stat.S_IMODE(os.stat(self.m.p("out/p.png")).st_mode),
                         0o400)


if __name__ == "__main__":
    main()
