"""Plain tools and editors on jobs/ (gptimgfs(1), JOBS): every way of writing a
prompt — echo, cat, cp, mv, sed -i, tee, >>, truncate, rsync, vim — submits
exactly once when the prompt changes, and never when it does not; editor
swap and backup files and rsync's temporaries never submit anything."""
import errno
import os
import shutil
import subprocess
import sys

from harness import (MountedTest, main, settle, spent, status_fields,
                     user_prompts, wait_for)

ENDED = ("completed", "failed")


class EditorsTest(MountedTest):
    # -- helpers --------------------------------------------------------
    def task_id(self, name):
        return status_fields(self.m.status(name))[1].get("task_id")

    def assert_spent(self, creates):
        """Exactly `creates` task creations so far, none refused."""
        self.assertEqual(spent(self), (creates, creates))

    def assert_unchanged(self, name, task_id, creates):
        """Nothing was submitted: same task, completed, no new creation."""
        settle(self)
        self.assert_spent(creates)
        first, fields = status_fields(self.m.status(name))
        self.assertEqual(first, "completed")
        self.assertEqual(fields["task_id"], task_id)

    def assert_jobs_dir(self, expected):
        self.assertEqual(sorted(os.listdir(self.m.p("jobs"))),
                         sorted(expected))

    def assert_status_dir(self, expected):
        self.assertEqual(sorted(os.listdir(self.m.p("status"))),
                         sorted(expected))

    def src(self, text, name="src.txt"):
        """A file outside the mount."""
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- vim ------------------------------------------------------------
    def vim(self, name, *cmds, swap=False):
        argv = ["vim", "-Nu", "NONE", "-i", "NONE", "-es"]
        if not swap:
            argv.append("-n")
        for c in cmds:
            argv += ["-c", c]
        argv.append("jobs/%s.txt" % name)
        env = dict(os.environ, HOME=self.workdir, TERM="dumb")
        r = subprocess.run(argv, cwd=self.m.path, capture_output=True,
                           text=True, timeout=30, env=env,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, "%s: %s%s" % (argv, r.stdout,
                                                        r.stderr))

    def test_vim(self):
        if not shutil.which("vim"):
            self.fail("vim is not installed (apt-get install -y vim)")
        # vim makes no backup of files under /tmp ('backupskip'), where
        # this mount lives: clear it, as for a user's own files
        modes = [
            ("auto", ["set backupskip="], False, []),
            ("norename", ["set backupskip= backupcopy=no writebackup"],
             False, []),
            ("copy", ["set backupskip= backupcopy=yes writebackup"], False,
             []),
            ("backup", ["set backupskip= backup backupcopy=auto"], False,
             ["lh-backup.txt~"]),
            ("swap", ["set backupskip="], True, []),
        ]
        creates = 0
        jobs_files = []
        for mode, setup, swap, leftovers in modes:
            with self.subTest(mode=mode):
                name = "lh-" + mode
                old = "a lighthouse at dusk, " + mode
                new = "a lighthouse at dawn, " + mode
                self.m.write("jobs/%s.txt" % name, old + "\n")
                self.done(name)
                creates += 1
                jobs_files.append(name + ".txt")
                first_id = self.task_id(name)

                # an edit: exactly one new creation, with the new prompt
                self.vim(name, *setup, "%s/dusk/dawn/", "wq", swap=swap)
                with open(self.m.p("jobs", name + ".txt")) as f:
                    self.assertEqual(f.read(), new + "\n")
                fields = self.done(name)
                creates += 1
                self.assertNotEqual(fields["task_id"], first_id)
                self.assertEqual(self.out_prompt(name), new)
                settle(self)
                self.assert_spent(creates)
                edited_id = fields["task_id"]

                # :wq without a change writes the same bytes: nothing
                self.vim(name, *setup, "wq", swap=swap)
                self.assert_unchanged(name, edited_id, creates)

                # :w twice without a change: nothing
                self.vim(name, *setup, "w", "w", "q", swap=swap)
                self.assert_unchanged(name, edited_id, creates)

                # a change written twice (:w, :w): one creation
                self.vim(name, *setup, "%s/dawn/noon/", "w", "w", "q",
                         swap=swap)
                fields = self.done(name)
                creates += 1
                self.assertNotEqual(fields["task_id"], edited_id)
                self.assertEqual(self.out_prompt(name),
                                 "a lighthouse at noon, " + mode)
                settle(self)
                self.assert_spent(creates)

                # swap, backup and 4913 test files submitted nothing and
                # (but for a kept backup) are gone
                jobs_files += leftovers
                self.assert_jobs_dir(jobs_files)
                self.assert_status_dir(f[:-4] for f in jobs_files
                                       if f.endswith(".txt"))

    def test_vim_swap_file_lives_in_jobs(self):
        """With swap files on, vim's .NAME.txt.swp is created in jobs/ while
        it edits; it is stored like any file and submits nothing."""
        self.m.write("jobs/sw.txt", "a swan\n")
        self.done("sw")
        listing = os.path.join(self.workdir, "listing")
        self.vim("sw", "set backupskip=", "%s/swan/goose/",
                 "call writefile(readdir('jobs'), '%s')" % listing, "wq",
                 swap=True)
        with open(listing) as f:
            during = f.read().split()
        self.assertIn(".sw.txt.swp", during)
        self.done("sw")
        settle(self)
        self.assert_spent(2)
        self.assertEqual(user_prompts(self), {"a swan": 1, "a goose": 1})
        self.assert_jobs_dir(["sw.txt"])
        self.assert_status_dir(["sw"])

    # -- rsync ----------------------------------------------------------
    def test_rsync(self):
        if not shutil.which("rsync"):
            self.fail("rsync is not installed (apt-get install -y rsync)")
        dest = self.m.p("jobs", "rs.txt")
        src = self.src("a red fox in snow\n")

        # rsync writes .rs.txt.XXXXXX and renames it onto rs.txt: once
        self.sh("rsync %s %s" % (src, dest))
        fields = self.done("rs")
        self.assertEqual(self.out_prompt("rs"), "a red fox in snow")
        settle(self)
        self.assert_spent(1)
        tid = fields["task_id"]

        # again, the same bytes (plain rsync rewrites the file unless size
        # and mtime match; -I always does): nothing
        self.sh("rsync %s %s" % (src, dest))
        self.assert_unchanged("rs", tid, 1)
        self.sh("rsync -I %s %s" % (src, dest))
        self.assert_unchanged("rs", tid, 1)

        # a change: once
        self.src("a red fox in the rain\n")
        self.sh("rsync %s %s" % (src, dest))
        fields = self.done("rs")
        self.assertEqual(self.out_prompt("rs"), "a red fox in the rain")
        settle(self)
        self.assert_spent(2)

        # -a --inplace writes rs.txt itself: once per change, never for
        # the same bytes
        self.src("a red fox in thick fog\n")
        self.sh("rsync -a --inplace %s %s" % (src, dest))
        fields = self.done("rs")
        self.assertEqual(self.out_prompt("rs"), "a red fox in thick fog")
        settle(self)
        self.assert_spent(3)
        self.sh("rsync -a --inplace -I %s %s" % (src, dest))
        self.assert_unchanged("rs", fields["task_id"], 3)

        self.assertEqual(user_prompts(self), {
            "a red fox in snow": 1, "a red fox in the rain": 1,
            "a red fox in thick fog": 1})
        self.assert_jobs_dir(["rs.txt"])   # no temporary left
        self.assert_status_dir(["rs"])

    def test_rsync_folder(self):
        """The manual's EXAMPLES: rsync -rtO prompts/ mnt/jobs/ exits 0,
        one submission per file, the sidecar before its prompt."""
        if not shutil.which("rsync"):
            self.fail("rsync is not installed (apt-get install -y rsync)")
        prompts = os.path.join(self.workdir, "prompts")
        os.makedirs(prompts)
        for name, text in (("ra", "a red apple\n"), ("rb", "a blue bowl\n")):
            with open(os.path.join(prompts, name + ".txt"), "w") as f:
                f.write(text)
        # a folder older than jobs/: plain -rt would set jobs/'s time
        os.utime(prompts, (1e9, 1e9))
        self.sh("rsync -rtO %s/ jobs/" % prompts)
        self.done("ra")
        self.done("rb")
        settle(self)
        self.assert_spent(2)
        self.assertEqual(user_prompts(self),
                         {"a red apple": 1, "a blue bowl": 1})
        # again, nothing changed: nothing
        self.sh("rsync -rtO %s/ jobs/" % prompts)
        settle(self)
        self.assert_spent(2)

    # -- coreutils and the shell ---------------------------------------
    def test_cp(self):
        src = self.src("a copper kettle\n")
        self.sh("cp %s jobs/cp.txt" % src)
        fields = self.done("cp")
        self.sh("cp %s jobs/cp.txt" % src)
        self.assert_unchanged("cp", fields["task_id"], 1)
        self.src("a copper kettle, steaming\n")
        self.sh("cp %s jobs/cp.txt" % src)
        self.done("cp")
        self.assertEqual(self.out_prompt("cp"), "a copper kettle, steaming")
        settle(self)
        self.assert_spent(2)

    def test_mv_onto_prompt_name(self):
        # from outside the mount (a copy across file systems)
        src = self.src("a moving van\n")
        self.sh("mv %s jobs/mv.txt" % src)
        fields = self.done("mv")
        self.assertEqual(self.out_prompt("mv"), "a moving van")

        # a note in jobs/ submits nothing; renamed onto the prompt, once
        self.sh("printf 'a moving truck\\n' > jobs/draft.md")
        self.assert_unchanged("mv", fields["task_id"], 1)
        self.sh("mv jobs/draft.md jobs/mv.txt")
        self.done("mv")
        self.assertEqual(self.out_prompt("mv"), "a moving truck")
        settle(self)
        self.assert_spent(2)
        self.assert_jobs_dir(["mv.txt"])

    def test_mv_prompt_away_forgets_job(self):
        self.m.write("jobs/gone.txt", "a ghost\n")
        self.done("gone")
        with open(self.m.p("out", "gone.png"), "rb") as f:
            image = f.read()
        self.sh("mv jobs/gone.txt jobs/gone.bak")
        self.assertErrno(errno.ENOENT, os.stat, self.m.p("status", "gone"))
        self.assertErrno(errno.ENOENT, os.stat, self.m.p("wait", "gone"))
        self.assertNotIn("gone", os.listdir(self.m.p("status")))
        with open(self.m.p("out", "gone.png"), "rb") as f:
            self.assertEqual(f.read(), image)
        with open(self.m.p("jobs", "gone.bak")) as f:
            self.assertEqual(f.read(), "a ghost\n")
        settle(self)
        self.assert_spent(1)

    def test_sed_in_place(self):
        self.m.write("jobs/sed.txt", "a lighthouse at dusk\n")
        fields = self.done("sed")
        self.sh("sed -i s/dusk/dawn/ jobs/sed.txt")
        self.done("sed")
        self.assertEqual(self.out_prompt("sed"), "a lighthouse at dawn")
        settle(self)
        self.assert_spent(2)
        # no match: sed still rewrites the file (temporary + rename)
        fields = status_fields(self.m.status("sed"))[1]
        self.sh("sed -i s/nowhere/else/ jobs/sed.txt")
        self.assert_unchanged("sed", fields["task_id"], 2)
        self.assert_jobs_dir(["sed.txt"])

    def test_heredoc(self):
        self.sh("cat > jobs/doc.txt <<'EOF'\n"
                "a poster\n"
                "with two lines\n"
                "EOF")
        self.done("doc")
        self.assertEqual(self.out_prompt("doc"), "a poster\nwith two lines")
        self.assertEqual(user_prompts(self), {"a poster\nwith two lines": 1})

    def test_printf_without_newline_is_the_same_prompt(self):
        """The prompt is the content without trailing newlines: printf
        without one, or with several, rewrites the same prompt."""
        self.sh("echo 'a paper boat' > jobs/pf.txt")
        fields = self.done("pf")
        self.sh("printf 'a paper boat' > jobs/pf.txt")
        self.assert_unchanged("pf", fields["task_id"], 1)
        self.sh("printf 'a paper boat\\n\\n\\n' > jobs/pf.txt")
        self.assert_unchanged("pf", fields["task_id"], 1)
        self.sh("printf 'a paper plane' > jobs/pf.txt")
        self.done("pf")
        self.assertEqual(self.out_prompt("pf"), "a paper plane")
        settle(self)
        self.assert_spent(2)

    def test_tee(self):
        self.sh("echo 'a tea cup' | tee jobs/tee.txt")
        fields = self.done("tee")
        self.sh("echo 'a tea cup' | tee jobs/tee.txt")
        self.assert_unchanged("tee", fields["task_id"], 1)
        self.assertEqual(user_prompts(self), {"a tea cup": 1})

    def test_append(self):
        self.sh("echo 'a garden' > jobs/app.txt")
        fields = self.done("app")
        self.sh("echo 'with roses' >> jobs/app.txt")
        new = self.done("app")
        self.assertNotEqual(new["task_id"], fields["task_id"])
        self.assertEqual(self.out_prompt("app"), "a garden\nwith roses")
        settle(self)
        self.assert_spent(2)
        self.assertEqual(user_prompts(self),
                         {"a garden": 1, "a garden\nwith roses": 1})

    def test_truncate_then_write(self):
        self.sh("echo 'a full glass' > jobs/tr.txt")
        self.done("tr")
        # an empty prompt (no reference image) is refused locally
        self.sh("truncate -s 0 jobs/tr.txt")
        wait_for(lambda: self.m.status("tr").startswith("failed"),
                 what="the empty prompt to fail")
        rc, text = self.m.wait("tr")
        self.assertNotEqual(rc, 0)
        self.assertEqual(status_fields(text)[1]["error"].split(":")[0],
                         "invalid_input", text)
        self.sh("echo 'an empty glass' > jobs/tr.txt")
        self.done("tr")
        self.assertEqual(self.out_prompt("tr"), "an empty glass")
        settle(self)
        self.assert_spent(2)
        self.assertEqual(user_prompts(self),
                         {"a full glass": 1, "an empty glass": 1})

    def test_echo_same_prompt_twice(self):
        self.sh("echo 'a cat' > jobs/cat.txt")
        fields = self.done("cat")
        self.sh("echo 'a cat' > jobs/cat.txt")
        self.assert_unchanged("cat", fields["task_id"], 1)
        # and in quick succession, before the first has even completed
        self.sh("echo 'a dog' > jobs/dog.txt; echo 'a dog' > jobs/dog.txt")
        self.done("dog")
        settle(self)
        self.assert_spent(2)
        self.assertEqual(user_prompts(self), {"a cat": 1, "a dog": 1})

    # -- descriptors shared by dup() and fork() ------------------------
    def test_dup_and_fork_submit_once(self):
        path = self.m.p("jobs", "fk.txt")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"a forked road\n")
        # a child inherits the descriptor and closes it first
        r = subprocess.run([sys.executable, "-c",
                            "import os; os.close(%d)" % fd],
                           pass_fds=(fd,), timeout=30)
        self.assertEqual(r.returncode, 0)
        os.close(fd)
        self.done("fk")

        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, b"a forked river\n")
        fd2 = os.dup(fd)
        pid = os.fork()
        if pid == 0:
            os.close(fd)
            os.close(fd2)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(status, 0)
        os.close(fd2)
        os.close(fd)
        self.done("fk")
        self.assertEqual(self.out_prompt("fk"), "a forked river")
        settle(self)
        self.assert_spent(2)
        self.assertEqual(user_prompts(self),
                         {"a forked road": 1, "a forked river": 1})


if __name__ == "__main__":
    main()
