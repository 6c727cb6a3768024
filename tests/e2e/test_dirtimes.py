"""The times of the fixed directories (gptimgfs(1), THE MOUNT): out/ moves
when an image lands or is removed, status/ and wait/ when any job changes;
jobs/ has the stored directory's times, which touch(1) and rsync -a set,
and takes a chmod to 0755 or wider as 0755 (rsync -a then exits 0); the
other directories' times cannot be set."""
import errno
import os
import subprocess

from harness import MountedTest, main, wait_for


class DirTimesTest(MountedTest):
    def mtime(self, rel):
        return os.stat(self.m.p(rel)).st_mtime_ns

    def moved(self, rel, since):
        """The notifier stamps a directory as it takes the change: soon
        after, not within the system call that made it."""
        wait_for(lambda: self.mtime(rel) > since, timeout=10,
                 what="a newer time on " + rel)
        return self.mtime(rel)

    def test_out_and_views_follow_their_content(self):
        before = {d: self.mtime(d) for d in ("out", "status", "wait")}
        self.m.write("jobs/t.txt", "a tide pool at noon\n")
        self.moved("status", before["status"])
        self.moved("wait", before["wait"])
        self.assertEqual(self.m.wait("t")[0], 0)
        landed = self.moved("out", before["out"])
        # not older than the image itself
        self.assertGreaterEqual(landed // 10**9,
                                os.stat(self.m.p("out/t.png")).st_mtime - 1)
        os.unlink(self.m.p("out/t.png"))
        self.moved("out", landed)

    def test_jobs_times_can_be_set(self):
        os.utime(self.m.p("jobs"), ns=(1_600_000_000_123_000_000,
                                       1_600_000_000_456_000_000))
        st = os.stat(self.m.p("jobs"))
        self.assertEqual(st.st_mtime_ns, 1_600_000_000_456_000_000)
        self.assertEqual(st.st_atime_ns, 1_600_000_000_123_000_000)
        # kept in the stored directory
        self.assertEqual(os.stat(os.path.join(self.m.data_dir, "jobs"))
                         .st_mtime_ns, 1_600_000_000_456_000_000)
        for d in ("status", "wait", "out", ""):
            with self.assertRaises(OSError, msg=d) as cm:
                os.utime(self.m.p(d), ns=(0, 0))
            self.assertIn(cm.exception.errno, (errno.EACCES, errno.EPERM))

    def test_rsync_a_of_a_folder(self):
        src = os.path.join(self.workdir, "prompts")
        os.mkdir(src)
        os.chmod(src, 0o755)
        for n in ("r1", "r2"):
            with open(os.path.join(src, n + ".txt"), "w") as f:
                f.write("a reed bed, take %s\n" % n)
        os.utime(src, ns=(1_700_000_000_000_000_000,
                          1_700_000_000_000_000_000))
        r = subprocess.run(["rsync", "-a", src + "/", self.m.p("jobs") + "/"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.mtime("jobs"), 1_700_000_000_000_000_000)
        for n in ("r1", "r2"):
            self.assertEqual(self.m.wait(n)[0], 0)

    def test_rsync_a_of_a_group_writable_folder(self):
        """A chmod of jobs/ to 0755 or wider (a folder made under umask
        002) is taken as 0755, so rsync -a exits 0; one that would take
        access away is refused."""
        src = os.path.join(self.workdir, "shared")
        os.mkdir(src)
        with open(os.path.join(src, "g.txt"), "w") as f:
            f.write("a shared folder\n")
        for mode in (0o775, 0o777):
            os.chmod(src, mode)
            r = subprocess.run(["rsync", "-a", src + "/",
                                self.m.p("jobs") + "/"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(os.stat(self.m.p("jobs")).st_mode & 0o7777,
                             0o755)
        self.assertEqual(self.m.wait("g")[0], 0)
        for mode in (0o700, 0o750, 0o555):
            with self.assertRaises(PermissionError, msg=oct(mode)):
                os.chmod(self.m.p("jobs"), mode)
        self.assertEqual(os.stat(self.m.p("jobs")).st_mode & 0o7777, 0o755)


if __name__ == "__main__":
    main()
