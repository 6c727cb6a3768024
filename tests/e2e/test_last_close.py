"""Submission at the last close (man gptimgfs(1), JOBS, Submission): a
prompt file is submitted when the last handle that changed it is released,
or when it is renamed onto its name; a FLUSH (any close(2), a child's or a
helper's included) never submits. Every ordinary way of writing a prompt
creates exactly ONE task at the simulator, with the whole text; while the
file is still open, status/NAME says queued and wait/NAME blocks; when the
writer's close() returns, status/NAME exists; and `cat wait/NAME && cp
out/NAME.png` never gets the older image after a rewrite."""
import os
import pty
import select
import shutil
import subprocess
import sys
import time

from harness import (MountedTest, main, settle, spent, status_fields,
                     user_prompts)

NOTE = "jobs/%s.txt is being written; it is submitted at its last close"

WRAPPER = """#!/bin/bash
# like a version manager's shim: helpers that inherit stdout and exit
# (closing it), a subshell, then exec of the real program
true
/bin/true
sh -c ':'
(:)
command -v printf > /dev/null
exec printf 'what the shim printed\\n'
"""

MAKEFILE = """all: jobs/mk.txt
jobs/mk.txt:
\t{ echo 'made by make'; echo 'in one recipe'; } > $@
"""


class LastCloseTest(MountedTest):
    # -- helpers --------------------------------------------------------
    def assert_once(self, name, prompt):
        """Job NAME completed with the whole text, and after a barrier the
        simulator has seen exactly one creation of it."""
        self.done(name)
        self.assertEqual(self.out_prompt(name), prompt)
        settle(self)
        self.assertEqual(user_prompts(self).get(prompt), 1,
                         "%s: %r" % (name, user_prompts(self)))

    def assert_only(self, prompts):
        """The simulator created exactly these tasks, once each, and no
        creation was refused."""
        settle(self)
        self.assertEqual(user_prompts(self), dict.fromkeys(prompts, 1))
        self.assertEqual(spent(self), (len(prompts), len(prompts)))

    def src(self, text, name="src.txt"):
        """A file outside the mount."""
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- the shell ----------------------------------------------------
    def test_shell_idioms(self):
        cases = [
            ("g", "{ echo 'grouped one'; /bin/true; sh -c 'ls / > /dev/null';"
                  " echo 'grouped two'; } > jobs/g.txt",
             "grouped one\ngrouped two"),
            ("c", "(echo 'sub one'; sleep 0.3; echo 'sub two') > jobs/c.txt",
             "sub one\nsub two"),
            ("e", "echo 'an echo' > jobs/e.txt", "an echo"),
            ("pa", "printf 'a printf, appended' >> jobs/pa.txt",
             "a printf, appended"),
            ("tee", "printf 'a tee\\n' | tee jobs/tee.txt > /dev/null",
             "a tee"),
            ("dd", "printf 'dd in small blocks\\n' | "
                   "dd of=jobs/dd.txt bs=4 status=none", "dd in small blocks"),
            ("xa", "printf 'x1\\nx2\\nx3\\n' | xargs -n1 echo > jobs/xa.txt",
             "x1\nx2\nx3"),
        ]
        for name, cmd, prompt in cases:
            with self.subTest(name=name):
                self.sh(cmd)
                self.assert_once(name, prompt)
        self.assert_only([prompt for _, _, prompt in cases])

    def test_subshell_with_pauses(self):
        """Every write of the subshell lands in the one task; children
        that inherit the descriptor and exit (sleep) close it first."""
        self.sh("(echo 'first line'; sleep 0.5; echo 'second line'; "
                "sleep 0.5; echo 'third line') > jobs/sub.txt")
        self.assert_once("sub", "first line\nsecond line\nthird line")
        self.assert_only(["first line\nsecond line\nthird line"])

    def test_wrapper_three_times(self):
        """A shim run three times with the same output: one task."""
        shim = os.path.join(self.workdir, "shim")
        with open(shim, "w") as f:
            f.write(WRAPPER)
        os.chmod(shim, 0o755)
        task_ids = set()
        for _ in range(3):
            self.sh("%s > jobs/shim.txt" % shim)
            task_ids.add(self.done("shim")["task_id"])
        self.assertEqual(len(task_ids), 1, task_ids)
        self.assertEqual(self.out_prompt("shim"), "what the shim printed")
        self.assert_only(["what the shim printed"])

    def test_truncate_then_append(self):
        """The empty intermediate may be refused locally (invalid_input,
        free); the simulator sees one creation, of the whole text."""
        self.sh("truncate -s0 jobs/ta.txt && "
                "printf 'appended after truncate\\n' >> jobs/ta.txt")
        self.assert_once("ta", "appended after truncate")
        self.assert_only(["appended after truncate"])

    def test_make(self):
        mk = os.path.join(self.workdir, "Makefile")
        with open(mk, "w") as f:
            f.write(MAKEFILE)
        self.sh("make -s -f %s" % mk)
        self.assert_once("mk", "made by make\nin one recipe")
        self.assert_only(["made by make\nin one recipe"])

    # -- copies, renames, in-place edits ---------------------------------
    def test_cp_mv_rsync_sed(self):
        self.sh("cp %s jobs/cp.txt" % self.src("a copy\n"))
        self.assert_once("cp", "a copy")

        self.sh("printf 'a rename\\n' > jobs/mv.draft && "
                "mv jobs/mv.draft jobs/mv.txt")
        self.assert_once("mv", "a rename")
        self.sh("mv %s jobs/mvx.txt" % self.src("a move across\n", "mvx"))
        self.assert_once("mvx", "a move across")

        if not shutil.which("rsync"):
            self.fail("rsync is not installed (apt-get install -y rsync)")
        self.sh("rsync %s jobs/rs.txt" % self.src("an rsync\n", "rs"))
        self.assert_once("rs", "an rsync")

        self.sh("printf 'sed before\\n' > jobs/sed.txt")
        self.assert_once("sed", "sed before")
        self.sh("sed -i s/before/after/ jobs/sed.txt")
        self.assert_once("sed", "sed after")
        self.assert_only(["a copy", "a rename", "a move across", "an rsync",
                          "sed before", "sed after"])
        self.assertEqual(sorted(os.listdir(self.m.p("jobs"))),
                         ["cp.txt", "mv.txt", "mvx.txt", "rs.txt",
                          "sed.txt"])

    def test_vim(self):
        if not shutil.which("vim"):
            self.fail("vim is not installed (apt-get install -y vim)")
        env = dict(os.environ, HOME=self.workdir, TERM="dumb")
        # a new file, written in ex mode, and an edit saved with backups
        # (vim renames the old file away and writes a new one)
        self.sh("vim -Nu NONE -i NONE -es -n "
                "-c 'call setline(1, [\"vim line one\", \"vim line two\"])' "
                "-c wq jobs/vi.txt", env=env)
        self.assert_once("vi", "vim line one\nvim line two")
        self.sh("vim -Nu NONE -i NONE -es -n -c 'set backupskip= backup' "
                "-c '%s/two/2/' -c wq jobs/vi.txt", env=env)
        self.assert_once("vi", "vim line one\nvim line 2")
        self.sh("ex -Nu NONE -i NONE -s -n -c '$a|vim line 3' -c x "
                "jobs/vi.txt", env=env)
        self.assert_once("vi", "vim line one\nvim line 2\nvim line 3")
        self.assert_only(["vim line one\nvim line two",
                          "vim line one\nvim line 2",
                          "vim line one\nvim line 2\nvim line 3"])

    def nano(self, rel, keys):
        """Run nano on a pseudo-terminal, type keys, and wait for it to
        exit (--saveonexit: ^X saves without asking)."""
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(self.m.path)
            os.environ.update(TERM="xterm", HOME=self.workdir)
            os.execvp("nano", ["nano", "--ignorercfiles", "--saveonexit",
                               "--nohelp", rel])
        # type only once nano has drawn its screen: keys that come before
        # it has put the terminal in raw mode are cooked by the line
        # discipline (a CR becomes a LF, which nano takes for another key)
        screen = b""
        deadline = time.monotonic() + 30
        while b"GNU nano" not in screen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    screen += os.read(fd, 65536)
                except OSError:     # EIO: nano closed the terminal
                    break
        os.write(fd, keys)
        deadline = time.monotonic() + 30
        status = None
        while status is None:
            # drain the screen, or nano blocks writing to the terminal
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    os.read(fd, 65536)
                except OSError:     # EIO: nano closed the terminal
                    pass
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            elif time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                self.fail("nano did not exit")
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)

    def test_nano(self):
        if not shutil.which("nano"):
            self.fail("nano is not installed (apt-get install -y nano)")
        self.nano("jobs/na.txt", b"nano line one\rnano line two\x18")
        self.assert_once("na", "nano line one\nnano line two")
        # an edit of the existing file: to its end (the empty line after
        # the last newline), one more line
        self.nano("jobs/na.txt", b"\x1b/nano line three\x18")
        self.assert_once("na", "nano line one\nnano line two\nnano line three")
        self.assert_only(["nano line one\nnano line two",
                          "nano line one\nnano line two\nnano line three"])

    # -- a file held open ----------------------------------------------
    def test_held_open(self):
        """A process keeps the file open: nothing is sent, status says
        queued, wait blocks, until its close — whatever its children and
        duplicates close meanwhile."""
        path = self.m.p("jobs", "ho.txt")
        f = open(path, "w")
        self.addCleanup(f.close)
        f.write("held open, ")
        f.flush()
        waiter = subprocess.Popen(["cat", self.m.p("wait", "ho")],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(waiter.kill)
        # a child inherits the descriptor and exits; a duplicate closes
        r = subprocess.run([sys.executable, "-c", "import sys"],
                           pass_fds=(f.fileno(),), timeout=30)
        self.assertEqual(r.returncode, 0)
        os.close(os.dup(f.fileno()))
        f.write("then written more")
        f.flush()
        settle(self)    # every earlier request was handled
        first, fields = status_fields(self.m.status("ho"))
        self.assertEqual(first, "queued")
        self.assertEqual(fields["note"], NOTE % "ho")
        self.assertIn("ho", os.listdir(self.m.p("status")))
        self.assertIsNone(waiter.poll(), "wait/ho did not block")
        self.assertEqual(user_prompts(self), {})
        self.assertEqual(spent(self), (0, 0))

        f.close()
        out, _ = waiter.communicate(timeout=30)
        self.assertEqual(waiter.returncode, 0, out)
        self.assertEqual(status_fields(out)[0], "completed", out)
        self.assertEqual(self.out_prompt("ho"), "held open, then written more")
        self.assert_only(["held open, then written more"])

    # -- the two promises ----------------------------------------------
    def test_status_exists_when_close_returns(self):
        for i in range(20):
            name = "st%d" % i
            fd = os.open(self.m.p("jobs", name + ".txt"),
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"status at close %d\n" % i)
            os.close(fd)
            first = self.m.status(name).splitlines()[0]
            self.assertIn(first, ("queued", "pending", "processing",
                                  "downloading", "completed"))
        out = self.sh("for i in 1 2 3 4 5; do echo \"shell $i\" > jobs/sh$i.txt"
                      " && head -n1 status/sh$i; done")
        self.assertEqual(len(out.splitlines()), 5, out)
        for i in range(20):
            self.done("st%d" % i)
        self.assert_only(["status at close %d" % i for i in range(20)] +
                         ["shell %d" % i for i in range(1, 6)])


class RewriteTest(MountedTest):
    """The image takes a while: a rewrite must never let `cat wait/x &&
    cp out/x.png` see the older image."""

    sim_processing = 0.3

    def image(self):
        with open(self.m.p("out", "x.png"), "rb") as f:
            return f.read()

    def test_rewrite_then_wait_gets_new_image(self):
        older = None
        for i in range(4):
            prompt = "a rewrite number %d" % i
            copy = os.path.join(self.workdir, "copy%d.png" % i)
            r = subprocess.run(
                "echo '%s' > jobs/x.txt && cat wait/x > /dev/null && "
                "cp out/x.png %s" % (prompt, copy), shell=True,
                cwd=self.m.path, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(copy, "rb") as f:
                got = f.read()
            self.assertEqual(got, self.image())
            self.assertNotEqual(got, older, "the older image was copied")
            self.assertEqual(os.getxattr(self.m.p("out", "x.png"),
                                         "user.gptimgfs.prompt").decode(),
                             prompt)
            older = got


if __name__ == "__main__":
    main()
