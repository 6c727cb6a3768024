"""Folders in jobs/ (gptimgfs(1), JOBS, Folders): jobs/ holds folders up to
16 deep; jobs/a/b/x.txt is job a/b/x, with status/a/b/x, wait/a/b/x and
out/a/b/x.png, and its sidecar beside it; status/, wait/ and out/ hold a
folder while jobs/ has it or while an entry is under it; a name is a job or
a folder, not both; hidden folders are never submitted; a folder that
holds prompt files cannot be renamed; rsync -a and cp -r of a tree work,
and a second rsync pays for nothing; inotify, poll(2) and a remount work
in folders as at the top."""
import errno
import json
import os
import select
import shutil
import stat

from harness import MountedTest, main, settle, spent, status_fields, wait_for
from test_dedup import history_re
from test_inotify import IN_CREATE, IN_MOVED_TO, Watch
from test_remount import RemountBase

PNG = b"\x89PNG\r\n\x1a\n"
VIEWS = ("status", "wait", "out")
REFUSED = (errno.EACCES, errno.EPERM)


def umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class FolderBase(MountedTest):
    def mkdirs(self, rel):
        """mkdir -p jobs/REL"""
        os.makedirs(self.m.p("jobs", rel))

    def put(self, rel, text):
        """Write jobs/REL the way a user's echo would."""
        self.m.write(os.path.join("jobs", rel), text)

    def image(self, rel):
        with open(self.m.p("out", rel), "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], PNG, rel)
        return data

    def is_dir(self, rel):
        try:
            return stat.S_ISDIR(os.stat(self.m.p(rel)).st_mode)
        except FileNotFoundError:
            return False

    def gone(self, rel):
        self.assertErrno(errno.ENOENT, os.stat, self.m.p(rel))

    def entries(self, rel):
        """{name: is a directory} of a listing, by its d_type."""
        with os.scandir(self.m.p(rel)) as it:
            return {e.name: e.is_dir(follow_symlinks=False) for e in it}

    def tree(self, area):
        """Every path under AREA, folders with a trailing slash."""
        found = set()

        def walk(rel):
            for name, is_dir in self.entries(os.path.join(area, rel)).items():
                path = os.path.join(rel, name)
                found.add(path + "/" if is_dir else path)
                if is_dir:
                    walk(path)
        walk("")
        return found


class FolderBasicsTest(FolderBase):
    """mkdir keeps the mode asked for, rmdir removes an empty folder,
    folders nest 16 deep (a 17th is ENAMETOOLONG); rmdir of a non-empty
    folder is ENOTEMPTY, and refused in status/, wait/, out/; a name is not
    both a job and a folder (EEXIST); files under a hidden folder are
    stored and never submitted."""

    def test_mkdir_mode_nesting_and_rmdir(self):
        os.mkdir(self.m.p("jobs/a"), 0o750)
        os.mkdir(self.m.p("jobs/a/b"), 0o700)
        os.mkdir(self.m.p("jobs/a/b/c"))
        mask = umask()
        for rel, mode in (("a", 0o750), ("a/b", 0o700), ("a/b/c", 0o777)):
            st = os.stat(self.m.p("jobs", rel))
            self.assertTrue(stat.S_ISDIR(st.st_mode), rel)
            # never written by group or others: they would spend the
            # mounting user's credits
            self.assertEqual(stat.S_IMODE(st.st_mode),
                             mode & ~mask & ~0o022, rel)
        self.assertEqual(self.entries("jobs"), {"a": True})
        self.assertEqual(self.entries("jobs/a/b"), {"c": True})
        os.rmdir(self.m.p("jobs/a/b/c"))
        self.gone("jobs/a/b/c")
        self.assertEqual(self.entries("jobs/a/b"), {})
        os.rmdir(self.m.p("jobs/a/b"))
        os.rmdir(self.m.p("jobs/a"))
        self.assertEqual(os.listdir(self.m.p("jobs")), [])

    def test_sixteen_levels_deep_and_no_more(self):
        rel = "/".join("f%d" % k for k in range(1, 17))
        self.mkdirs(rel)
        self.put(rel + "/x.txt", "a well, sixteen floors down\n")
        self.done(rel + "/x")
        self.image(rel + "/x.png")
        self.assertErrno(errno.ENAMETOOLONG, os.mkdir,
                         self.m.p("jobs", rel, "f17"))
        self.assertEqual(os.listdir(self.m.p("jobs", rel)), ["x.txt"])

    def test_rmdir_refused_where_it_must_be(self):
        self.mkdirs("a/e")
        self.put("a/notes.md", "not a prompt\n")
        self.assertErrno(errno.ENOTEMPTY, os.rmdir, self.m.p("jobs/a"))
        self.put("a/e/x.txt", "an empty room\n")
        self.done("a/e/x")
        self.assertErrno(errno.ENOTEMPTY, os.rmdir, self.m.p("jobs/a/e"))
        for area in VIEWS:
            for rel in ("a", "a/e"):
                with self.assertRaises(OSError, msg=area + "/" + rel) as cm:
                    os.rmdir(self.m.p(area, rel))
                self.assertIn(cm.exception.errno, REFUSED)
        # an empty one too
        os.mkdir(self.m.p("jobs/empty"))
        for area in VIEWS:
            with self.assertRaises(OSError, msg=area) as cm:
                os.rmdir(self.m.p(area, "empty"))
            self.assertIn(cm.exception.errno, REFUSED)
            self.assertTrue(self.is_dir(area + "/empty"), area)
        self.assertEqual(self.m.status("a/e/x").splitlines()[0], "completed")

    def test_name_is_a_job_or_a_folder(self):
        os.mkdir(self.m.p("jobs/a"))
        self.assertErrno(errno.EEXIST, os.open, self.m.p("jobs/a.txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        self.put("b.txt", "a bee\n")
        self.done("b")
        self.assertErrno(errno.EEXIST, os.mkdir, self.m.p("jobs/b"))
        self.assertEqual(self.entries("jobs"), {"a": True, "b.txt": False})
        self.assertEqual(self.entries("status"), {"a": True, "b": False})
        settle(self)
        self.assertEqual(spent(self), (1, 1))

    def test_folder_named_like_an_image_refused(self):
        """out/b.png could not be both job b's image and a folder."""
        for name in ("b.png", "b.jpg", "b.webp", "b~2.png"):
            self.assertErrno(errno.EINVAL, os.mkdir,
                             self.m.p("jobs", name))
        os.mkdir(self.m.p("jobs/n"))
        self.assertErrno(errno.EINVAL, os.rename, self.m.p("jobs/n"),
                         self.m.p("jobs/n.png"))
        os.mkdir(self.m.p("jobs/b.png.d"))  # not an image's name
        self.assertIn("out/ shows images", self.m.read_log())

    def test_no_link_followed_in_the_store(self):
        """A folder of DATA_DIR/jobs swapped for a symbolic link (by hand:
        the mount makes none) leads nowhere: the daemon, maybe root, never
        creates, lists or removes through it."""
        self.mkdirs("a")
        os.stat(self.m.p("jobs/a"))  # the kernel holds the folder
        outside = os.path.join(self.workdir, "outside")
        os.mkdir(outside)
        with open(os.path.join(outside, "keep.txt"), "w") as f:
            f.write("not the store's\n")
        stored = os.path.join(self.m.data_dir, "jobs", "a")
        os.rmdir(stored)
        os.symlink(outside, stored)
        for fn, args in ((os.open, (self.m.p("jobs/a/f.txt"),
                                    os.O_WRONLY | os.O_CREAT, 0o644)),
                         (os.mkdir, (self.m.p("jobs/a/d"),)),
                         (os.unlink, (self.m.p("jobs/a/keep.txt"),)),
                         (os.listdir, (self.m.p("jobs/a"),))):
            with self.assertRaises(OSError, msg=fn.__name__):
                fn(*args)
        self.assertEqual(os.listdir(outside), ["keep.txt"])

    def test_stored_modes_shown_without_write_for_others(self):
        """A folder or file of DATA_DIR/jobs writable by others (an older
        version's, or put there by hand) is shown without that write."""
        self.mkdirs("w")
        self.put("w/p.txt", "a wide open prompt\n")
        self.done("w/p")
        stored = os.path.join(self.m.data_dir, "jobs", "w")
        os.chmod(stored, 0o777)
        os.chmod(os.path.join(stored, "p.txt"), 0o666)
        wait_for(lambda: stat.S_IMODE(os.stat(self.m.p("jobs/w"))
                                      .st_mode) == 0o755,
                 timeout=5, what="jobs/w shown 0755")
        self.assertEqual(stat.S_IMODE(os.stat(self.m.p("jobs/w/p.txt"))
                                      .st_mode), 0o644)

    def test_hidden_folder_never_submitted(self):
        self.mkdirs(".git/objects")
        self.put(".git/x.txt", "a hidden prompt\n")
        self.put(".git/objects/y.txt", "a deeper hidden prompt\n")
        self.assertEqual(self.m.read("jobs/.git/x.txt"), "a hidden prompt\n")
        self.assertEqual(self.entries("jobs/.git"),
                         {"objects": True, "x.txt": False})
        settle(self)
        self.assertEqual(spent(self), (0, 0))
        for area in ("status", "wait"):
            self.assertNotIn(".git", os.listdir(self.m.p(area)), area)
        self.gone("status/.git/x")
        self.gone("status/.git")


class FolderJobTest(FolderBase):
    """jobs/a/b/x.txt is job a/b/x: status/a/b/x, wait/a/b/x and
    out/a/b/x.png, its sidecar jobs/a/b/x.opts applies, a second prompt
    keeps the first image as a history name in the same folder; listings
    show the folders as directories; the views' folders follow jobs/, and
    after rm -r the ended jobs are forgotten at once while the images stay
    until removed."""

    def test_nested_job_with_sidecar(self):
        self.mkdirs("a/b")
        self.put("a/b/x.opts", "aspect_ratio = 16:9\n")
        self.put("a/b/x.txt", "a wide harbour at noon\n")
        fields = self.done("a/b/x")
        self.assertEqual(fields["aspect_ratio"], "16:9")
        first, again = status_fields(self.m.status("a/b/x"))
        self.assertEqual(first, "completed")
        self.assertEqual(again["task_id"], fields["task_id"])
        self.assertEqual(self.sim.requests()[-1]["body"]["input"]
                         ["aspect_ratio"], "16:9")
        path = self.m.p("out/a/b/x.png")
        self.image("a/b/x.png")
        self.assertEqual(os.getxattr(path, "user.gptimgfs.prompt"),
                         b"a wide harbour at noon")
        self.assertEqual(os.getxattr(path, "user.gptimgfs.task_id"),
                         fields["task_id"].encode())
        options = json.loads(os.getxattr(path, "user.gptimgfs.options"))
        self.assertEqual(options["aspect_ratio"], "16:9")
        # nothing of it at the top
        for area in ("status", "wait"):
            self.assertEqual(self.entries(area), {"a": True}, area)
            self.assertEqual(self.entries(area + "/a"), {"b": True}, area)
            self.assertEqual(self.entries(area + "/a/b"), {"x": False}, area)
        self.assertEqual(self.entries("out"), {"a": True})
        self.assertEqual(self.entries("out/a"), {"b": True})
        self.assertEqual(self.entries("out/a/b"), {"x.png": False})
        self.gone("status/x")
        self.gone("out/x.png")

    def test_second_prompt_keeps_history_in_the_folder(self):
        self.mkdirs("a/b")
        self.put("a/b/x.txt", "a lighthouse at dusk\n")
        old = self.done("a/b/x")
        old_bytes = self.image("a/b/x.png")
        self.put("a/b/x.txt", "a lighthouse at dawn\n")
        new = self.done("a/b/x")
        self.assertNotEqual(new["task_id"], old["task_id"])
        names = sorted(os.listdir(self.m.p("out/a/b")))
        self.assertEqual(len(names), 2, names)
        self.assertEqual(names[0], "x.png")
        self.assertTrue(history_re("x").match(names[1]), names)
        self.assertEqual(self.image("a/b/" + names[1]), old_bytes)
        self.assertEqual(os.getxattr(self.m.p("out/a/b/x.png"),
                                     "user.gptimgfs.prompt"),
                         b"a lighthouse at dawn")
        self.assertEqual(self.entries("out"), {"a": True})
        settle(self)
        self.assertEqual(spent(self), (2, 2))

    def test_view_folders_follow_jobs_folders(self):
        os.mkdir(self.m.p("jobs/a"))
        for area in VIEWS:
            self.assertTrue(self.is_dir(area + "/a"), area)
            self.assertEqual(self.entries(area), {"a": True}, area)
            self.assertEqual(os.listdir(self.m.p(area, "a")), [], area)
            # as ls -l sees a directory: attributes, no xattrs, times
            st = os.stat(self.m.p(area, "a"))
            self.assertGreater(st.st_atime, 0, area)
            self.assertEqual(os.listxattr(self.m.p(area, "a")), [], area)
            self.assertErrno(errno.ENODATA, os.getxattr,
                             self.m.p(area, "a"), "user.gptimgfs.prompt")
        os.mkdir(self.m.p("jobs/a/b"))
        for area in VIEWS:
            self.assertEqual(self.entries(area + "/a"), {"b": True}, area)
        os.rmdir(self.m.p("jobs/a/b"))
        os.rmdir(self.m.p("jobs/a"))
        for area in VIEWS:
            wait_for(lambda: "a" not in os.listdir(self.m.p(area)),
                     timeout=5, what=area + "/a to go")
            self.gone(area + "/a")

    def test_rm_r_forgets_jobs_and_keeps_images(self):
        self.mkdirs("a/b")
        self.put("a/b/x.txt", "an ox in a barn\n")
        self.put("a/y.txt", "a yak on a hill\n")
        self.done("a/b/x")
        self.done("a/y")
        x_bytes = self.image("a/b/x.png")
        self.sh("rm -r jobs/a")
        self.assertFalse(os.path.exists(self.m.p("jobs/a")))
        # forgotten at once
        for rel in ("status/a/b/x", "wait/a/b/x", "status/a/y", "status/a",
                    "wait/a"):
            self.gone(rel)
        self.assertEqual(os.listdir(self.m.p("status")), [])
        self.assertEqual(os.listdir(self.m.p("wait")), [])
        # the images stay, and their folders with them
        self.assertEqual(self.image("a/b/x.png"), x_bytes)
        self.assertEqual(self.entries("out/a"), {"b": True, "y.png": False})
        os.unlink(self.m.p("out/a/b/x.png"))
        wait_for(lambda: not self.is_dir("out/a/b"), timeout=5,
                 what="out/a/b to go")
        self.assertEqual(self.entries("out/a"), {"y.png": False})
        os.unlink(self.m.p("out/a/y.png"))
        wait_for(lambda: not self.is_dir("out/a"), timeout=5,
                 what="out/a to go")
        self.assertEqual(os.listdir(self.m.p("out")), [])
        settle(self)
        self.assertEqual(spent(self), (2, 2))


class FolderRenameTest(FolderBase):
    """A prompt file renamed across folders is a flat rename (the old job
    is forgotten, the new one submitted); a folder without prompt files
    renames; one that holds prompt files at any depth is refused with EPERM
    and nothing moves."""

    def test_rename_file_across_folders(self):
        self.mkdirs("a")
        self.mkdirs("b")
        self.put("a/x.txt", "a fox crossing\n")
        self.done("a/x")
        a_bytes = self.image("a/x.png")
        os.rename(self.m.p("jobs/a/x.txt"), self.m.p("jobs/b/x.txt"))
        self.gone("status/a/x")
        self.done("b/x")
        self.assertEqual(self.entries("jobs/a"), {})
        self.assertEqual(self.entries("jobs/b"), {"x.txt": False})
        self.assertEqual(self.entries("status/a"), {})
        self.assertEqual(self.entries("status/b"), {"x": False})
        self.assertEqual(self.image("a/x.png"), a_bytes)
        self.image("b/x.png")
        settle(self)
        self.assertEqual(spent(self), (2, 2))

    def test_rename_folder_without_prompts(self):
        self.mkdirs("n/e")
        self.put("n/notes.md", "ideas, not prompts\n")
        os.mkdir(self.m.p("jobs/empty"))
        os.rename(self.m.p("jobs/n"), self.m.p("jobs/m"))
        os.rename(self.m.p("jobs/empty"), self.m.p("jobs/m/empty"))
        self.assertEqual(self.entries("jobs"), {"m": True})
        self.assertEqual(self.entries("jobs/m"),
                         {"e": True, "empty": True, "notes.md": False})
        self.assertEqual(self.m.read("jobs/m/notes.md"),
                         "ideas, not prompts\n")
        for area in VIEWS:
            wait_for(lambda: self.entries(area) == {"m": True}, timeout=5,
                     what=area + " to follow the rename")
            self.assertEqual(self.entries(area + "/m"),
                             {"e": True, "empty": True}, area)
        settle(self)
        self.assertEqual(spent(self), (0, 0))

    def test_rename_folder_with_prompts_refused(self):
        self.mkdirs("p/q")
        self.mkdirs("t")
        self.put("p/notes.md", "notes\n")
        self.put("p/q/x.txt", "a quail in the grass\n")
        task_id = self.done("p/q/x")["task_id"]
        for src, dst in (("p", "r"), ("p", "t/p"), ("p/q", "p/s"),
                         ("p/q", "q")):
            self.assertErrno(errno.EPERM, os.rename, self.m.p("jobs", src),
                             self.m.p("jobs", dst))
        self.assertEqual(self.entries("jobs"), {"p": True, "t": True})
        self.assertEqual(self.entries("jobs/p"),
                         {"notes.md": False, "q": True})
        self.assertEqual(self.entries("jobs/p/q"), {"x.txt": False})
        self.assertEqual(self.entries("jobs/t"), {})
        first, fields = status_fields(self.m.status("p/q/x"))
        self.assertEqual(first, "completed")
        self.assertEqual(fields["task_id"], task_id)
        self.assertEqual(self.entries("status"), {"p": True, "t": True})
        settle(self)
        self.assertEqual(spent(self), (1, 1))

    def test_hidden_folder_with_prompts_stays_hidden(self):
        """Prompt files kept in a hidden folder would all be submitted
        under a visible name: refused; between hidden names it moves."""
        self.mkdirs(".stash")
        self.put(".stash/x.txt", "a stashed prompt\n")
        self.assertErrno(errno.EPERM, os.rename, self.m.p("jobs/.stash"),
                         self.m.p("jobs/stash"))
        os.rename(self.m.p("jobs/.stash"), self.m.p("jobs/.old"))
        self.assertEqual(self.entries("jobs"), {".old": True})
        self.assertEqual(self.entries("status"), {})
        settle(self)
        self.assertEqual(spent(self), (0, 0))


class FolderCopyTest(FolderBase):
    """rsync -a of a three-level tree with sidecars exits 0, every job
    completes, status/, wait/ and out/ mirror the tree, the folders take
    the source's times, and a second rsync -a creates no task; cp -r of a
    tree works too."""

    TREE = {"top.txt": "a top hat\n",
            "a/one.txt": "one apple\n",
            "a/one.opts": "aspect_ratio = 16:9\n",
            "a/b/two.txt": "two bees\n",
            "a/b/c/three.txt": "three cats\n"}
    JOBS = ("top", "a/one", "a/b/two", "a/b/c/three")
    A_TIME = 1_700_000_000_000_000_000
    B_TIME = 1_650_000_000_000_000_000

    def source(self):
        src = os.path.join(self.workdir, "src")
        for rel, text in self.TREE.items():
            path = os.path.join(src, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        for rel in ("", "a", "a/b", "a/b/c"):
            os.chmod(os.path.join(src, rel), 0o755)
        os.utime(os.path.join(src, "a/b"), ns=(self.B_TIME, self.B_TIME))
        os.utime(os.path.join(src, "a"), ns=(self.A_TIME, self.A_TIME))
        return src

    def rsync(self, src):
        self.sh("rsync -a %s/ %s/" % (src, self.m.p("jobs")))

    def test_rsync_a_of_a_tree(self):
        if not shutil.which("rsync"):
            self.fail("rsync is not installed (apt-get install -y rsync)")
        src = self.source()
        self.rsync(src)
        for name in self.JOBS:
            self.done(name)
        self.assertEqual(status_fields(self.m.status("a/one"))[1]
                         ["aspect_ratio"], "16:9")
        folders = {"a/", "a/b/", "a/b/c/"}
        self.assertEqual(self.tree("jobs"), folders | set(self.TREE))
        self.assertEqual(self.tree("status"), folders | set(self.JOBS))
        self.assertEqual(self.tree("wait"), folders | set(self.JOBS))
        self.assertEqual(self.tree("out"),
                         folders | {n + ".png" for n in self.JOBS})
        for name in self.JOBS:
            self.image(name + ".png")
        mtime = os.stat(self.m.p("jobs/a")).st_mtime_ns
        self.assertEqual(mtime, self.A_TIME)
        self.assertEqual(os.stat(self.m.p("jobs/a/b")).st_mtime_ns,
                         self.B_TIME)
        settle(self)
        self.assertEqual(spent(self), (4, 4))
        self.rsync(src)
        settle(self)
        self.assertEqual(spent(self), (4, 4))
        for name in self.JOBS:
            self.assertEqual(self.m.status(name).splitlines()[0],
                             "completed", name)
        self.assertEqual(os.stat(self.m.p("jobs/a")).st_mtime_ns,
                         self.A_TIME)

    def test_cp_r_of_a_tree(self):
        src = self.source()
        self.sh("cp -r %s jobs/tree" % src)
        names = ["tree/" + n for n in self.JOBS]
        for name in names:
            self.done(name)
        self.assertEqual(self.entries("status/tree"),
                         {"a": True, "top": False})
        self.assertEqual(self.tree("out"),
                         {"tree/", "tree/a/", "tree/a/b/", "tree/a/b/c/"} |
                         {n + ".png" for n in names})
        settle(self)
        self.assertEqual(spent(self), (4, 4))


class FolderInotifyTest(FolderBase):
    """A watch on out/a/ (made by mkdir jobs/a) hears x.png land when job
    a/x completes; a watch on out/ still hears top-level images."""

    def test_watch_on_an_out_folder(self):
        os.mkdir(self.m.p("jobs/a"))
        inner = Watch(self.m.p("out/a"))
        self.addCleanup(inner.close)
        outer = Watch(self.m.p("out"))
        self.addCleanup(outer.close)
        self.put("a/x.txt", "an axolotl in a tank\n")
        self.put("top.txt", "a top spinning\n")
        self.done("a/x")
        self.done("top")

        def heard(w, name):
            w.read(0.5)
            return name in [n for m, n in w.events
                            if m & (IN_MOVED_TO | IN_CREATE)]
        wait_for(lambda: heard(inner, "x.png"), timeout=10,
                 what="x.png announced in out/a")
        wait_for(lambda: heard(outer, "top.png"), timeout=10,
                 what="top.png announced in out")
        self.image("a/x.png")


class FolderPollTest(FolderBase):
    """poll(2) on wait/a/x: not readable while the job runs, POLLIN once
    it has ended."""
    sim_processing = 1.0

    def test_wait_in_a_folder_polls(self):
        os.mkdir(self.m.p("jobs/a"))
        self.put("a/x.txt", "a slow snail\n")
        fd = os.open(self.m.p("wait/a/x"), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        p = select.poll()
        p.register(fd, select.POLLIN)
        self.assertEqual(p.poll(0), [])
        self.assertEqual(p.poll(30_000), [(fd, select.POLLIN)])
        self.assertEqual(os.read(fd, 65536).decode().splitlines()[0],
                         "completed")


class FolderRemountTest(FolderBase, RemountBase):
    """After a remount on the same data directory, folder jobs are still
    there, completed, with their images, and nothing is sent again."""

    def test_folder_jobs_survive_remount(self):
        self.mkdirs("a/b")
        self.put("a/b/x.txt", "a boat in a bottle\n")
        task_id = self.done("a/b/x")["task_id"]
        image = self.image("a/b/x.png")
        settle(self)
        before = spent(self)
        self.remount()
        first, fields = status_fields(self.m.status("a/b/x"))
        self.assertEqual(first, "completed")
        self.assertEqual(fields["task_id"], task_id)
        self.assertEqual(self.image("a/b/x.png"), image)
        self.assertEqual(self.tree("status"), {"a/", "a/b/", "a/b/x"})
        self.assertEqual(self.tree("out"), {"a/", "a/b/", "a/b/x.png"})
        self.assertEqual(self.m.read("jobs/a/b/x.txt"),
                         "a boat in a bottle\n")
        settle(self)
        self.assertEqual(spent(self), before)


if __name__ == "__main__":
    main()
