"""Reading images (gptimgfs(1), OUTPUT, Reading images): built with
libfuse 3.16+ on a kernel with FUSE passthrough (6.9+) and run as root, the
daemon hands each opened image to the kernel and says so at the mount;
otherwise it serves the reads. Either way every read gives the stored
bytes: read(2), pread at offsets, mmap, two descriptors open at once, and
again after they are closed."""
import glob
import mmap
import os
import subprocess

from harness import MountedTest, main

PASSTHROUGH_LINE = "images are read by the kernel itself"


def libfuse_minor():
    r = subprocess.run(["pkg-config", "--modversion", "fuse3"],
                       capture_output=True, text=True)
    major, minor = (r.stdout.strip().split(".") + ["0"])[:2]
    return int(major) * 100 + int(minor)


def kernel_has_passthrough():
    major, minor = os.uname().release.split(".")[:2]
    return (int(major), int("".join(c for c in minor if c.isdigit())
                              or 0)) >= (6, 9)


class ReadTest(MountedTest):
    def stored_image(self):
        files = glob.glob(os.path.join(self.m.data_dir, "out", "*.png"))
        self.assertEqual(len(files), 1, files)
        with open(files[0], "rb") as f:
            return f.read()

    def test_reads_give_the_stored_bytes(self):
        self.m.write("jobs/r.txt", "a reading lamp\n")
        self.done("r")
        want = self.stored_image()
        path = self.m.p("out", "r.png")
        for _ in range(2):  # and again once the first ones are closed
            a = os.open(path, os.O_RDONLY)
            b = os.open(path, os.O_RDONLY)
            try:
                self.assertEqual(os.read(a, len(want) + 1), want)
                self.assertEqual(os.pread(b, 100, len(want) // 2),
                                 want[len(want) // 2:][:100])
                with mmap.mmap(b, 0, prot=mmap.PROT_READ) as mm:
                    self.assertEqual(mm[:], want)
            finally:
                os.close(a)
                os.close(b)
        expected = (os.geteuid() == 0 and libfuse_minor() >= 316
                    and kernel_has_passthrough())
        self.assertEqual(PASSTHROUGH_LINE in self.m.read_log(), expected,
                         self.m.read_log())


if __name__ == "__main__":
    main()
