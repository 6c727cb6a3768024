"""Downloads take only images, only from where images may come (man page,
SECURITY, Downloads): bytes that are no image are refused and nothing
appears in out/; a trickling download is cut and retried; an output URL on
an address of another class than api_url's is refused before connecting.
Every connection stays on loopback: the refused address is a documentation
one (192.0.2.1, never routed), and the refusal happens before any socket.
"""
import os
import time

from harness import MountedTest, main, status_fields


class DownloadTest(MountedTest):

    def error_of(self, name, timeout=30):
        """wait/NAME ends failed with download_failed: its message; out/
        and the store's tmp/ stay empty."""
        rc, text = self.m.wait(name, timeout=timeout)
        first, fields = status_fields(text)
        self.assertEqual((rc, first), (1, "failed"), text)
        code, _, message = fields["error"].partition(": ")
        self.assertEqual(code, "download_failed", text)
        self.assertEqual(os.listdir(self.m.p("out")), [])
        self.assertEqual(os.listdir(os.path.join(self.m.data_dir, "tmp")),
                         [])
        return message

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


if __name__ == "__main__":
    main()
