"""gptimgfs(1), THE MOUNT: everything outside jobs/ is read-only, also
for root (unlink of out/ files excepted); jobs/ holds no links or special
files; other files in jobs/ submit nothing; ownership; listings; job names
refused or accepted."""
import errno
import os
import stat
import subprocess

from harness import MountedTest, main, status_fields

READONLY = (errno.EACCES, errno.EROFS)


class ReadOnlyTest(MountedTest):

    def setUp(self):
        super().setUp()
        rc, text = self.m.submit("x", "a fox in the snow")
        self.assertEqual(rc, 0, text)

    def assertRefused(self, fn, *args, allowed=READONLY):
        """fn(*args) fails with one of `allowed` errnos."""
        with self.assertRaises(OSError, msg="%s%r succeeded" % (
                fn.__name__, args)) as cm:
            fn(*args)
        self.assertIn(cm.exception.errno, allowed,
                      "%s%r: got %s" % (fn.__name__, args, errno.errorcode.get(
                          cm.exception.errno, cm.exception.errno)))

    def snapshot(self):
        """Every name under the mount outside jobs/, with its size."""
        out = {}
        for d in ("", "status", "wait", "out"):
            for n in os.listdir(self.m.p(d)):
                out[os.path.join(d, n)] = None if d == "" else \
                    os.stat(self.m.p(d, n)).st_size
        return out

    # -- outside jobs/: read-only, also for root --------------------------
    def test_tests_run_as_root(self):
        # the read-only checks below are meant to hold for root, who
        # bypasses every permission bit: make sure that is what we test
        self.assertEqual(os.geteuid(), 0, "run the e2e tests as root")

    def test_open_for_writing_refused(self):
        self.assertEqual(os.geteuid(), 0)
        for rel in ("status/x", "wait/x", "out/x.png", "credits"):
            for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_APPEND,
                          os.O_WRONLY | os.O_TRUNC, os.O_RDONLY | os.O_TRUNC,
                          os.O_WRONLY | os.O_CREAT):
                with self.subTest(rel=rel, flags=flags):
                    self.assertErrno(errno.EACCES, os.open, self.m.p(rel),
                                     flags)
        # and still readable and whole
        first, _ = status_fields(self.m.status("x"))
        self.assertEqual(first, "completed")
        with open(self.m.p("out/x.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_create_refused(self):
        self.assertEqual(os.geteuid(), 0)
        before = self.snapshot()
        for d in ("", "status", "wait", "out"):
            with self.subTest(d=d):
                path = self.m.p(d, "new.png")
                self.assertRefused(os.open, path,
                                   os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                   0o644)
                self.assertRefused(os.mkdir, self.m.p(d, "newdir"))
                self.assertRefused(os.symlink, "x.png", path)
                self.assertRefused(os.link, self.m.p("out/x.png"), path)
                self.assertRefused(os.mknod, path, 0o644 | stat.S_IFIFO)
                self.assertFalse(os.path.exists(path))
        self.assertEqual(self.snapshot(), before)

    def test_truncate_chmod_unlink_refused(self):
        self.assertEqual(os.geteuid(), 0)
        before = self.snapshot()
        for rel in ("status/x", "wait/x", "out/x.png", "credits"):
            with self.subTest(rel=rel):
                self.assertRefused(os.truncate, self.m.p(rel), 0)
                self.assertRefused(os.chmod, self.m.p(rel), 0o666)
                if rel != "out/x.png":
                    self.assertRefused(os.unlink, self.m.p(rel))
                self.assertEqual(stat.S_IMODE(os.stat(self.m.p(rel)).st_mode),
                                 0o444)
        for rel in ("", "status", "wait", "out"):
            with self.subTest(rel=rel):
                mode = os.stat(self.m.p(rel)).st_mode
                self.assertRefused(os.chmod, self.m.p(rel), 0o777)
                self.assertEqual(os.stat(self.m.p(rel)).st_mode, mode)
        for rel in ("status", "wait", "out", "jobs"):
            with self.subTest(rmdir=rel):
                self.assertRefused(os.rmdir, self.m.p(rel))
        self.assertEqual(self.snapshot(), before)
        self.assertGreater(os.stat(self.m.p("out/x.png")).st_size, 8)

    def test_xattr_changes_refused(self):
        # an output's attributes are part of it: changing them is a write
        # outside jobs/ like any other
        prompt = os.getxattr(self.m.p("out/x.png"), "user.gptimgfs.prompt")
        for rel in ("out/x.png", "status/x", "wait/x", "credits", "out"):
            with self.subTest(rel=rel):
                self.assertRefused(os.setxattr, self.m.p(rel), "user.note",
                                   b"mine")
                self.assertRefused(os.setxattr, self.m.p(rel),
                                   "user.gptimgfs.prompt", b"forged")
                self.assertRefused(os.removexattr, self.m.p(rel),
                                   "user.gptimgfs.prompt")
        self.assertEqual(os.getxattr(self.m.p("out/x.png"),
                                     "user.gptimgfs.prompt"), prompt)

    def test_rename_refused(self):
        self.assertEqual(os.geteuid(), 0)
        before = self.snapshot()
        for src, dst in (("status/x", "status/y"), ("wait/x", "wait/y"),
                         ("out/x.png", "out/y.png"), ("credits", "credits2"),
                         ("out", "out2"), ("status", "status2"),
                         ("jobs", "jobs2"), ("credits", "out/credits"),
                         ("out/x.png", "status/x.png")):
            with self.subTest(src=src, dst=dst):
                self.assertRefused(os.rename, self.m.p(src), self.m.p(dst))
        self.assertEqual(self.snapshot(), before)

    def test_rename_refused_errnos(self):
        # EACCES within one directory and across directories alike (not
        # EXDEV: mv would then copy and unlink, moving an image out of
        # out/ or leaving stray copies)
        self.assertErrno(errno.EACCES, os.rename, self.m.p("status/x"),
                         self.m.p("status/y"))
        self.assertErrno(errno.EACCES, os.rename, self.m.p("out/x.png"),
                         self.m.p("out/y.png"))
        self.assertErrno(errno.EACCES, os.rename, self.m.p("credits"),
                         self.m.p("credits2"))
        self.assertErrno(errno.EACCES, os.rename, self.m.p("out/x.png"),
                         self.m.p("status/x.png"))

    def test_shell_tools_cannot_write(self):
        for cmd in ("echo hi > status/x", "echo hi >> wait/x",
                    "echo 100 > credits", ": > out/x.png", "touch status/new",
                    "cp out/x.png out/copy.png", "mv out/x.png out/y.png",
                    "mkdir out/d", "echo hi > new.txt", "rm status/x",
                    "chmod 644 out/x.png"):
            with self.subTest(cmd=cmd):
                r = subprocess.run(cmd, shell=True, cwd=self.m.path,
                                   capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0, cmd)
                self.assertRegex(r.stderr, "Permission denied|Read-only")
        self.assertEqual(sorted(os.listdir(self.m.p("out"))), ["x.png"])
        self.assertEqual(sorted(os.listdir(self.m.p("status"))), ["x"])

    # -- jobs/ holds files and folders only -----------------------------
    def test_jobs_holds_no_links(self):
        """Files and folders only (folders: test_folders.py), at the top
        and in a folder alike."""
        jobs = self.m.p("jobs")
        os.mkdir(os.path.join(jobs, "d"))
        self.assertErrno(errno.EPERM, os.symlink, "../x.txt",
                         os.path.join(jobs, "d", "l.txt"))
        self.assertErrno(errno.EPERM, os.mknod,
                         os.path.join(jobs, "d", "f.txt"),
                         0o644 | stat.S_IFIFO)
        os.rmdir(os.path.join(jobs, "d"))
        self.assertErrno(errno.EPERM, os.symlink, "x.txt",
                         os.path.join(jobs, "l.txt"))
        self.assertErrno(errno.EPERM, os.symlink, "/etc/passwd",
                         os.path.join(jobs, "notes"))
        self.assertErrno(errno.EPERM, os.link, os.path.join(jobs, "x.txt"),
                         os.path.join(jobs, "y.txt"))
        self.assertErrno(errno.EPERM, os.link, os.path.join(jobs, "x.txt"),
                         os.path.join(jobs, "x.bak"))
        self.assertErrno(errno.EPERM, os.link, self.m.p("out/x.png"),
                         os.path.join(jobs, "x.png"))
        self.assertErrno(errno.EPERM, os.mknod, os.path.join(jobs, "f.txt"),
                         0o644 | stat.S_IFIFO)
        self.assertErrno(errno.EPERM, os.mknod, os.path.join(jobs, "fifo"),
                         0o644 | stat.S_IFIFO)
        self.assertEqual(sorted(os.listdir(jobs)), ["x.txt"])
        self.assertEqual(sorted(os.listdir(self.m.p("status"))), ["x"])
        self.assertEqual(self.sim.stats()["create_requests"], 1)

    def test_rename_between_jobs_and_out(self):
        with open(self.m.p("jobs/x.txt"), "rb") as f:
            prompt_file = f.read()
        with open(self.m.p("out/x.png"), "rb") as f:
            image = f.read()
        self.assertErrno(errno.EACCES, os.rename, self.m.p("jobs/x.txt"),
                         self.m.p("out/x.txt"))
        self.assertErrno(errno.EACCES, os.rename, self.m.p("out/x.png"),
                         self.m.p("jobs/x.png"))
        self.assertErrno(errno.EACCES, os.rename, self.m.p("out/x.png"),
                         self.m.p("jobs/y.txt"))
        self.assertErrno(errno.EACCES, os.rename, self.m.p("jobs/x.txt"),
                         self.m.p("status/x"))
        # and mv(1) does not fall back to copy and unlink
        r = subprocess.run(["mv", self.m.p("out/x.png"), self.m.p("jobs/")],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        # nothing moved
        self.assertEqual(sorted(os.listdir(self.m.p("jobs"))), ["x.txt"])
        self.assertEqual(sorted(os.listdir(self.m.p("out"))), ["x.png"])
        with open(self.m.p("jobs/x.txt"), "rb") as f:
            self.assertEqual(f.read(), prompt_file)
        with open(self.m.p("out/x.png"), "rb") as f:
            self.assertEqual(f.read(), image)
        self.assertEqual(self.sim.stats()["create_requests"], 1)

    # -- rm out/NAME.png ---------------------------------------------------
    def test_rm_output_deletes_it_for_good(self):
        with open(self.m.p("out/x.png"), "rb") as f:
            image = f.read()
        r = subprocess.run(["rm", self.m.p("out/x.png")], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(self.m.p("out")), [])
        self.assertFalse(os.path.exists(self.m.p("out/x.png")))
        self.assertErrno(errno.ENOENT, os.unlink, self.m.p("out/x.png"))
        first, _ = status_fields(self.m.status("x"))
        self.assertEqual(first, "completed")
        self.assertEqual(os.listdir(self.m.p("status")), ["x"])
        # not kept anywhere in the data directory either
        for root, _, files in os.walk(self.m.data_dir):
            for n in files:
                p = os.path.join(root, n)
                if os.path.getsize(p) == len(image):
                    with open(p, "rb") as f:
                        self.assertNotEqual(f.read(), image, p)
        # and not back after a restart
        self.m.unmount()
        self.m.start()
        self.assertEqual(os.listdir(self.m.p("out")), [])
        self.assertEqual(status_fields(self.m.status("x"))[0], "completed")
        self.assertEqual(self.sim.stats()["create_requests"], 1)

    # -- other files in jobs/ submit nothing -------------------------------
    def test_non_prompt_files_are_free(self):
        jobs = self.m.p("jobs")
        base = self.sim.stats()
        names = [".x.txt", "notes.md", "x.txt~", "4913", ".x.txt.swp",
                 ".rsync.txt.Ab12cd", "x.txt.bak", "x.TXT", ".txt"]
        for n in names:
            with self.subTest(n=n):
                p = os.path.join(jobs, n)
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                self.assertEqual(os.write(fd, b"not a prompt\n"), 13)
                os.close(fd)
                with open(p, "ab") as f:
                    f.write(b"more\n")
                os.truncate(p, 5)
                os.chmod(p, 0o640)
                with open(p, "rb") as f:
                    self.assertEqual(f.read(), b"not a")
        # renamed among themselves, with real tools too
        os.rename(os.path.join(jobs, "notes.md"), os.path.join(jobs, "n2.md"))
        os.rename(os.path.join(jobs, "x.txt~"), os.path.join(jobs, "4913"))
        r = subprocess.run("echo draft > .y.txt.swp && mv .y.txt.swp .y.txt"
                           " && cp .y.txt y.txt~ && printf 'a' >> 4913",
                           shell=True, cwd=jobs, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        others = [".x.txt", "n2.md", "4913", ".x.txt.swp",
                  ".rsync.txt.Ab12cd", "x.txt.bak", "x.TXT", ".txt", ".y.txt",
                  "y.txt~"]
        self.assertEqual(sorted(os.listdir(jobs)), sorted(others + ["x.txt"]))
        self.assertEqual(sorted(os.listdir(self.m.p("status"))), ["x"])
        self.assertEqual(sorted(os.listdir(self.m.p("wait"))), ["x"])
        for n in others:
            os.unlink(os.path.join(jobs, n))
        self.assertEqual(os.listdir(jobs), ["x.txt"])
        self.assertEqual(status_fields(self.m.status("x"))[0], "completed")
        stats = self.sim.stats()
        self.assertEqual(stats["create_requests"], base["create_requests"])
        self.assertEqual(stats["creates"], base["creates"])
        for n in (".x", "notes", "x.txt~", "4913", ".x.txt", ".y", "y.txt~"):
            self.assertFalse(os.path.exists(self.m.p("status", n)), n)

    def test_non_prompt_files_create_no_status(self):
        jobs = self.m.p("jobs")
        for n in (".a.txt", "notes.md", "a.txt~", "4913", ".a.txt.swp"):
            with open(os.path.join(jobs, n), "w") as f:
                f.write("a cat\n")
        self.assertEqual(sorted(os.listdir(self.m.p("status"))), ["x"])
        self.assertEqual(sorted(os.listdir(self.m.p("wait"))), ["x"])
        for n in (".a", "a", "notes", "a.txt~", "4913", ".a.txt"):
            self.assertFalse(os.path.exists(self.m.p("status", n)), n)
        self.assertEqual(self.sim.stats()["create_requests"], 1)

    # -- ownership and listings --------------------------------------------
    def test_ownership_is_the_mounting_users(self):
        self.m.write("jobs/notes.md", "hello")
        uid, gid = os.getuid(), os.getgid()
        paths = [""]
        for d in ("jobs", "status", "wait", "out"):
            paths.append(d)
            paths += [os.path.join(d, n) for n in os.listdir(self.m.p(d))]
        paths.append("credits")
        self.assertIn("out/x.png", paths)
        self.assertIn("jobs/notes.md", paths)
        for rel in paths:
            st = os.lstat(self.m.p(rel))
            self.assertEqual((st.st_uid, st.st_gid), (uid, gid), rel)
        # and it stays so: chown in jobs/ is refused
        self.assertErrno(errno.EPERM, os.chown, self.m.p("jobs/notes.md"),
                         1234, 1234)
        st = os.stat(self.m.p("jobs/notes.md"))
        self.assertEqual((st.st_uid, st.st_gid), (uid, gid))

    def test_listings(self):
        self.m.submit("y", "a yak")
        self.m.submit("z", "a zebra [sim:outputs=2]")
        self.m.write("jobs/bad.opts", "resolution = 8k\n")
        self.m.write("jobs/bad.txt", "a badger\n")
        self.assertEqual(sorted(os.listdir(self.m.p("status"))),
                         ["bad", "x", "y", "z"])
        self.assertEqual(sorted(os.listdir(self.m.p("wait"))),
                         ["bad", "x", "y", "z"])
        self.assertEqual(sorted(os.listdir(self.m.p("out"))),
                         ["x.png", "y.png", "z.png", "z~2.png"])
        self.assertEqual(sorted(os.listdir(self.m.path)),
                         ["credits", "jobs", "out", "progress", "status",
                          "wait"])
        for e in os.scandir(self.m.p("status")):
            self.assertTrue(e.is_file(), e.name)
        for e in os.scandir(self.m.p("out")):
            self.assertTrue(e.is_file(), e.name)
            self.assertGreater(e.stat().st_size, 8)
        r = subprocess.run(["ls", "-la", "status", "wait", "out"],
                           cwd=self.m.path, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for n in ("bad", "z~2.png"):
            self.assertIn(n, r.stdout)

    # -- names ---------------------------------------------------------------
    def test_name_longer_than_200_bytes_refused(self):
        jobs = self.m.p("jobs")
        long = "n" * 201
        self.assertErrno(errno.ENAMETOOLONG, os.open,
                         os.path.join(jobs, long + ".txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        # bytes, not characters: 67 three-byte characters are 201 bytes
        self.assertErrno(errno.ENAMETOOLONG, os.open,
                         os.path.join(jobs, "\u732b" * 67 + ".txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        # renamed onto such a name, too
        self.assertErrno(errno.ENAMETOOLONG, os.rename,
                         os.path.join(jobs, "x.txt"),
                         os.path.join(jobs, long + ".txt"))
        self.assertTrue(os.path.exists(os.path.join(jobs, "x.txt")))
        r = subprocess.run("echo 'a cat' > jobs/%s.txt" % long, shell=True,
                           cwd=self.m.path, capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("File name too long", r.stderr)
        self.assertEqual(sorted(os.listdir(jobs)), ["x.txt"])
        self.assertEqual(self.sim.stats()["create_requests"], 1)
        # exactly 200 bytes is fine, end to end
        name = "m" * 200
        rc, text = self.m.submit(name, "a long-named cat")
        self.assertEqual(rc, 0, text)
        self.assertTrue(os.path.exists(self.m.p("out", name + ".png")))
        name = "\u732b" * 66 + "mm"          # 200 bytes
        rc, text = self.m.submit(name, "a long-named cat, again")
        self.assertEqual(rc, 0, text)
        self.assertIn(name + ".png", os.listdir(self.m.p("out")))

    def test_name_with_newline_refused(self):
        jobs = self.m.p("jobs")
        self.assertErrno(errno.EINVAL, os.open,
                         os.path.join(jobs, "two\nlines.txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        self.assertErrno(errno.EINVAL, os.rename, os.path.join(jobs, "x.txt"),
                         os.path.join(jobs, "x\n.txt"))
        self.assertEqual(sorted(os.listdir(jobs)), ["x.txt"])
        self.assertEqual(sorted(os.listdir(self.m.p("status"))), ["x"])
        self.assertEqual(self.sim.stats()["create_requests"], 1)

    def test_odd_names_work_end_to_end(self):
        for name in ("100% sure", "it's \"quoted\"", "  spaces  around ",
                     "a%20b %s %n", "semi;colon & amp", "\u732b \U0001f98a"):
            with self.subTest(name=name):
                r = subprocess.run(
                    'echo "a cat called $N" > "jobs/$N.txt" && '
                    'cat "wait/$N" && cp "out/$N.png" "$W/copy.png"',
                    shell=True, cwd=self.m.path, capture_output=True,
                    text=True, env=dict(os.environ, N=name, W=self.workdir),
                    timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                first, fields = status_fields(r.stdout)
                self.assertEqual(first, "completed")
                self.assertEqual(fields["outputs"], "out/%s.png" % name)
                self.assertIn(name, os.listdir(self.m.p("status")))
                self.assertIn(name + ".png", os.listdir(self.m.p("out")))
                with open(os.path.join(self.workdir, "copy.png"), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
                self.assertEqual(self.sim.requests()[-1]["body"]["input"]
                                 ["prompt"], "a cat called " + name)


if __name__ == "__main__":
    main()
