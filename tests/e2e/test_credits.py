"""The credits file, spending, refunds, output xattrs, and the API key that
must never show (gptimgfs(1), OUTPUT, CREDITS and THE API KEY)."""
import errno
import json
import os
import re
import subprocess
import urllib.request
from decimal import Decimal

import harness
from harness import (MountedTest, main, png_without_embedded, status_fields,
                     wait_for)

NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def read_through_eio(path):
    """Everything a read returns before it fails: wait/NAME of a failed
    job gives its text, then EIO (gptimgfs(1), WAIT)."""
    chunks = []
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError as e:
                if e.errno != errno.EIO or "/wait/" not in path:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


class CreditsTest(MountedTest):
    def credits(self, timeout=20):
        """`cat credits` -> (first line, {key: value}); it must not hang."""
        r = subprocess.run(["cat", self.m.p("credits")], capture_output=True,
                           text=True, timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stderr)
        return status_fields(r.stdout)

    def credits_after_mount(self):
        """`cat credits` once the balance the key check got at the mount,
        kept 5 s like any answer, has made way for a newer answer."""
        got = []

        def newer():
            got[:] = [self.credits()]
            return got[0][0] != "10000"
        wait_for(newer, timeout=15, what="an answer after the key check's")
        return got[0]

    def balance(self):
        first, fields = self.credits()
        self.assertRegex(first, NUMBER)
        self.assertRegex(fields.get("spent_today", ""), NUMBER)
        return Decimal(first), Decimal(fields["spent_today"])

    def test_balance_and_spent_today(self):
        self.assertEqual(self.balance(), (Decimal("10000"), Decimal("0")))
        rc, text = self.m.submit("one", "a cat worth 4.7 credits")
        self.assertEqual(rc, 0, text)
        self.assertEqual(self.sim.stats()["balance"], 9995.3)
        # the balance may be a few seconds stale, no more
        wait_for(lambda: self.balance() == (Decimal("9995.3"),
                                            Decimal("4.7")),
                 timeout=15, what="credits to show 9995.3 / 4.7")

    def test_size_is_the_known_text(self):
        """stat shows the text's size as last known (the key check's
        balance at the mount), without asking the API: file(1) does not
        call it empty."""
        before = self.sim.stats()["credits_reads"]
        size = os.stat(self.m.p("credits")).st_size
        self.assertEqual(self.sim.stats()["credits_reads"], before)
        with open(self.m.p("credits"), "rb") as f:
            text = f.read()
        self.assertGreater(size, 0)
        self.assertEqual(size, len(text))

    def test_fetched_at_most_once_every_few_seconds(self):
        for _ in range(50):
            with open(self.m.p("credits")) as f:
                first = f.read().splitlines()[0]
            self.assertEqual(Decimal(first), Decimal("10000"))
        # this simulator started with the mount: every balance read the
        # daemon ever made is counted, the key check's among them (its
        # answer is the first one shown)
        self.assertIn(self.sim.stats()["credits_reads"], (1, 2))

    def test_api_error_is_the_first_line(self):
        self.sim.fault(endpoint="credits", action="error", status=500,
                       code="internal_error", message="ledger offline",
                       count=0)
        first, fields = self.credits_after_mount()
        self.assertEqual(first, "error: internal_error: ledger offline")
        self.assertIn("spent_today", fields)

    def test_api_unreachable_is_an_error_line(self):
        self.sim.close()
        first, fields = self.credits_after_mount()
        self.assertRegex(first, r"^error: [a-z0-9_]+: .+")
        self.assertIn("spent_today", fields)

    def test_failed_task_is_refunded(self):
        self.m.write("jobs/ok.txt", "a cat that works\n")
        self.m.write("jobs/ko.txt",
                     "a cat that fails [sim:fail=upstream_error]\n")
        rc, text = self.m.wait("ok")
        self.assertEqual(rc, 0, text)
        rc, text = self.m.wait("ko")
        self.assertNotEqual(rc, 0, text)
        self.assertEqual(status_fields(text)[1]["error"],
                         "upstream_error: simulated failure")
        self.assertEqual(self.sim.stats()["balance"], 9995.3)
        # only the completed task is paid for, on the balance and in
        # spent_today
        wait_for(lambda: self.balance() == (Decimal("9995.3"),
                                            Decimal("4.7")),
                 timeout=15, what="credits to show 9995.3 / 4.7")

    def test_key_never_visible(self):
        key = harness.KEY
        self.m.write("jobs/good.opts", "resolution = 2k\n")
        for name, prompt in (("good", "a cat"),
                             ("bad", "a cat [sim:fail=upstream_error]"),
                             ("two", "two cats [sim:outputs=2]")):
            self.m.write("jobs/%s.txt" % name, prompt + "\n")
        for name in ("good", "bad", "two"):
            self.m.wait(name)
        self.sim.fault(endpoint="create", action="error", status=401,
                       code="invalid_api_key", count=1)
        rc, _ = self.m.submit("denied", "a cat without a key")
        self.assertNotEqual(rc, 0)
        seen = []
        for top in ("status", "wait", "out", "jobs"):
            for f in os.listdir(self.m.p(top)):
                path = self.m.p(top, f)
                data = read_through_eio(path)
                seen.append(path)
                self.assertNotIn(key.encode(), data, path)
                for attr in os.listxattr(path):
                    self.assertNotIn(key.encode(), os.getxattr(path, attr),
                                     path + " " + attr)
        with open(self.m.p("credits"), "rb") as fh:
            self.assertNotIn(key.encode(), fh.read())
        self.assertIn(self.m.p("out", "two~2.png"), seen)
        self.assertNotIn(key, self.m.read_log())
        with open("/proc/%d/cmdline" % self.m.proc.pid, "rb") as fh:
            self.assertNotIn(key.encode(), fh.read())
        st = self.sim.stats()
        self.assertGreaterEqual(st["downloads"], 3)
        self.assertEqual(st["auth_on_files"], 0)

    def test_output_xattrs(self):
        prompt = "un café à l'aube — 夜明けの猫"
        self.m.write("jobs/x.opts", "aspect_ratio = 3:2\nresolution = 2k\n"
                     "nsfw_checker = no\n")
        rc, text = self.m.submit("x", prompt)
        self.assertEqual(rc, 0, text)
        task_id = status_fields(text)[1]["task_id"]
        path = self.m.p("out", "x.png")
        self.assertEqual(
            sorted(os.listxattr(path)),
            sorted(["user.gptimgfs.prompt", "user.gptimgfs.task_id",
                    "user.gptimgfs.options", "user.xdg.origin.url",
                    "user.gptimgfs.metadata"]))
        self.assertEqual(os.getxattr(path, "user.gptimgfs.prompt"),
                         prompt.encode("utf-8"))
        self.assertEqual(os.getxattr(path, "user.gptimgfs.task_id"),
                         task_id.encode())
        options = json.loads(os.getxattr(path, "user.gptimgfs.options"))
        self.assertEqual(options["aspect_ratio"], "3:2")
        self.assertEqual(options["resolution"], "2k")
        self.assertIs(options["nsfw_checker"], False)
        url = os.getxattr(path, "user.xdg.origin.url").decode()
        self.assertTrue(url.startswith("http://localhost:"), url)
        self.assertTrue(url.endswith(".png"), url)
        self.assertIn(task_id, url)
        with urllib.request.urlopen(url, timeout=10) as r:
            fresh = r.read()
        with open(path, "rb") as fh:
            # the API's image, with the metadata the daemon embeds
            self.assertEqual(png_without_embedded(fh.read()), fresh)
        self.assertErrno(errno.ENODATA, os.getxattr, path, "user.nope")


if __name__ == "__main__":
    main()
