"""jobs/ behaves like a directory of real files: descriptors that outlive
their names, renames that swap, directory syncs."""
import ctypes
import os

from harness import MountedTest, main, status_fields

RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)


def renameat2(old, new, flags):
    if libc.renameat2(-100, old.encode(), -100, new.encode(), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class JobsFilesTest(MountedTest):
    def test_rename_exchange_keeps_both_names(self):
        self.m.write("jobs/a.txt", "an apple\n")
        self.m.write("jobs/b.notes", "notes\n")
        renameat2(self.m.p("jobs/a.txt"), self.m.p("jobs/b.notes"),
                  RENAME_EXCHANGE)
        self.assertEqual(self.m.read("jobs/a.txt"), "notes\n")
        self.assertEqual(self.m.read("jobs/b.notes"), "an apple\n")

    def test_open_file_outlives_its_name(self):
        fd = os.open(self.m.p("jobs/n.notes"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"some notes")
            os.unlink(self.m.p("jobs/n.notes"))
            self.assertEqual(os.fstat(fd).st_size, 10)
            os.ftruncate(fd, 4)
            os.fchmod(fd, 0o600)
            st = os.fstat(fd)
            self.assertEqual((st.st_size, st.st_mode & 0o777), (4, 0o600))
        finally:
            os.close(fd)

    def test_renamed_over_while_open(self):
        self.m.write("jobs/r.notes", "old")
        fd = os.open(self.m.p("jobs/r.notes"), os.O_RDWR)
        try:
            self.m.write("jobs/tmp.notes", "new")
            os.rename(self.m.p("jobs/tmp.notes"), self.m.p("jobs/r.notes"))
            os.ftruncate(fd, 1)
            self.assertEqual(os.fstat(fd).st_size, 1)
            self.assertEqual(self.m.read("jobs/r.notes"), "new")
        finally:
            os.close(fd)

    def test_directory_fsync(self):
        """An editor's careful save: write, fsync, rename, fsync(dir)."""
        with open(self.m.p("jobs/.c.txt.tmp"), "w") as f:
            f.write("a careful cat\n")
            f.flush()
            os.fsync(f.fileno())
        os.rename(self.m.p("jobs/.c.txt.tmp"), self.m.p("jobs/c.txt"))
        dfd = os.open(self.m.p("jobs"), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        rc, text = self.m.wait("c")
        self.assertEqual(rc, 0, text)

    def test_rm_image_leaves_outputs_line_true(self):
        rc, text = self.m.submit("w", "a whale")
        self.assertEqual(status_fields(text)[1]["outputs"], "out/w.png")
        os.unlink(self.m.p("out/w.png"))
        first, fields = status_fields(self.m.status("w"))
        self.assertEqual(first, "completed")
        self.assertNotIn("outputs", fields)


if __name__ == "__main__":
    main()
