"""Downloads take only images, only from where images may come (man page,
SECURITY, Downloads): bytes that are no image are refused and nothing
appears in out/; a trickling download is cut and retried; an output URL on
an address of another class than api_url's is refused before connecting;
an output URL (or a redirect) with a scheme other than http(s) is refused;
a task stores at most max_task_bytes.
Every connection stays on loopback: the refused address is a documentation
one (192.0.2.1, never routed), and the refusal happens before any socket.
"""
import os
import socket
import struct
import time
import zlib

from harness import MountedTest, main, status_fields


def tiny_png():
    """A valid 1 x 1 grey PNG."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\x80")) +
            chunk(b"IEND", b""))


class FailedDownload:
    """For a MountedTest whose downloads fail."""

    def error_of(self, name, timeout=30, out=()):
        """wait/NAME ends failed with download_failed: its message; out/
        holds only the images named in out (those that arrived) and the
        store's tmp/ is empty."""
        rc, text = self.m.wait(name, timeout=timeout)
        first, fields = status_fields(text)
        self.assertEqual((rc, first), (1, "failed"), text)
        code, _, message = fields["error"].partition(": ")
        self.assertEqual(code, "download_failed", text)
        self.assertEqual(sorted(os.listdir(self.m.p("out"))), sorted(out))
        self.assertEqual(os.listdir(os.path.join(self.m.data_dir, "tmp")),
                         [])
        return message


class DownloadTest(FailedDownload, MountedTest):

    def test_zeros_refused(self):
        self.m.write("jobs/z.txt", "a cat of nothing [sim:nonimage=zeros]\n")
        self.assertEqual(self.error_of("z"),
                         "not an image (localhost sent only NUL bytes)")
        # asked once for fresh URLs, then gave up
        self.assertEqual(self.sim.stats()["downloads"], 2)

    def test_gzip_refused(self):
        self.m.write("jobs/g.txt", "a packed cat [sim:nonimage=gzip]\n")
        self.assertEqual(self.error_of("g"),
                         "not an image (localhost sent gzip data)")

    def test_html_refused(self):
        self.m.write("jobs/h.txt", "an expired cat [sim:nonimage]\n")
        self.assertEqual(self.error_of("h"),
                         "not an image (localhost sent HTML or XML)")

    def test_trickle_cut_and_retried(self):
        # the first download sends its few bytes over 100 s: far below
        # 4 KiB/s, cut after 30 s and fetched again, whole
        self.sim.fault(endpoint="file", action="slow", delay_ms=100000,
                       count=1)
        start = time.monotonic()
        rc, text = self.m.submit("t", "a slow cat", timeout=90)
        self.assertEqual(rc, 0, text)
        self.assertEqual(status_fields(text)[0], "completed", text)
        self.assertLess(time.monotonic() - start, 80)
        self.assertEqual(self.sim.stats()["downloads"], 2)
        with open(self.m.p("out/t.png"), "rb") as f:
            self.assertTrue(f.read().startswith(b"\x89PNG\r\n\x1a\n"))


class RefusedAddressTest(MountedTest):
    """The simulator's output URLs name 192.0.2.1 (TEST-NET-1), a class
    api_url (127.0.0.1, loopback) does not have."""

    sim_extra = ("--file-host", "192.0.2.1")

    def test_documentation_address_refused_before_connecting(self):
        self.m.write("jobs/d.txt", "a cat far away\n")
        rc, text = self.m.wait("d")
        first, fields = status_fields(text)
        self.assertEqual((rc, first), (1, "failed"), text)
        self.assertEqual(
            fields["error"],
            "download_failed: 192.0.2.1: refused before connecting: "
            "address 192.0.2.1 is documentation, not global", text)
        self.assertEqual(os.listdir(self.m.p("out")), [])
        self.assertEqual(self.sim.stats()["downloads"], 0)
        self.assertIn("refused before connecting", self.m.read_log())


class TaskCapTest(FailedDownload, MountedTest):
    """max_task_bytes=1M: images of random pixels (which do not compress)
    of 1024 x 1024 (about 3 MiB) or 512 x 512 (about 768 KiB) go over."""

    mount_options = ("max_task_bytes=1M",)
    OVER_CAP = "the images of the task are larger than 1048576 bytes in all"

    def test_small_image_completes(self):
        rc, text = self.m.submit("s", "a small cat")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        with open(self.m.p("out/s.png"), "rb") as f:
            self.assertTrue(f.read().startswith(b"\x89PNG\r\n\x1a\n"))

    def test_one_image_over_cap(self):
        self.sim.configure(image_scale=1)
        self.m.write("jobs/b.txt", "a noisy cat [sim:noise]\n")
        self.assertEqual(self.error_of("b"), self.OVER_CAP)
        # failed at once: no retry, no fresh URLs
        self.assertEqual(self.sim.stats()["downloads"], 1)
        self.assertIn(self.OVER_CAP, self.m.read_log())

    def test_second_image_over_cap(self):
        # the first image fits and is stored; the second would take the
        # task over: it fails, and only the first (paid for, whole)
        # appears in out/
        self.sim.configure(image_scale=0.5)
        self.m.write("jobs/two.txt",
                     "two noisy cats [sim:noise] [sim:outputs=2]\n")
        self.assertEqual(self.error_of("two", out=["two.png"]),
                         self.OVER_CAP)
        self.assertEqual(self.sim.stats()["downloads"], 2)
        with open(self.m.p("out/two.png"), "rb") as f:
            first = f.read()
        self.assertTrue(first.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(first), 512 * 1024)
        self.assertLessEqual(len(first), 1024 * 1024)


class SchemeTest(FailedDownload, MountedTest):
    """api_url is http://127.0.0.1:PORT: output URLs may be http:// or
    https://, nothing else. A refused scheme fails the task at once; nothing
    is fetched from where the URL points."""

    def setUp(self):
        super().setUp()
        # an image on the local file system: had the daemon read it, the
        # task would complete
        self.local_png = os.path.join(self.workdir, "local.png")
        with open(self.local_png, "wb") as f:
            f.write(tiny_png())

    def refused_url(self, name, url):
        self.m.write("jobs/%s.txt" % name, "a cat [sim:url=%s]\n" % url)
        message = self.error_of(name)
        self.assertEqual(self.sim.stats()["downloads"], 0)
        return message

    def test_file_url_refused(self):
        want = "refused: scheme file://, only http:// and https:// are allowed"
        self.assertEqual(self.refused_url("f", "file:///etc/passwd"), want)
        self.assertEqual(self.refused_url("p", "file://" + self.local_png),
                         want)
        self.assertIn("download of output 1: " + want, self.m.read_log())

    def test_ftp_url_refused_without_connecting(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(4)
            srv.setblocking(False)
            port = srv.getsockname()[1]
            self.assertEqual(
                self.refused_url("ftp", "ftp://127.0.0.1:%d/x.png" % port),
                "127.0.0.1: refused: scheme ftp://, only http:// and "
                "https:// are allowed")
            # the kernel would have queued a connection attempt
            with self.assertRaises(BlockingIOError):
                srv.accept()

    def test_redirect_to_file_refused(self):
        self.sim.fault(endpoint="file", action="redirect", status=302,
                       location="file://" + self.local_png)
        self.m.write("jobs/r.txt", "a redirected cat\n")
        self.assertEqual(self.error_of("r"),
                         "redirected: refused: scheme file://, only "
                         "http:// and https:// are allowed")
        # the simulator's file URL was asked for once, and only it
        self.assertEqual(self.sim.stats()["downloads"], 1)


if __name__ == "__main__":
    main()
