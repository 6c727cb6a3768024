"""Hostile input (gptimgfs(1), SIDECARS): sidecars that are huge, deep,
binary or absurd, and job names at the edges of what a filesystem allows.
Each bad sidecar is refused locally and at once, with an error that names
the file (and the line, for .opts), before any request is sent; the daemon
stays up and serves the next job. Odd but valid names work end to end. A
flood of jobs from several threads all complete. Through all of it the API
key never reaches the daemon's log (see also THE MOUNT, THE API KEY).

Cases already covered elsewhere are not repeated here: names over 200 bytes
and with a newline, quotes and '%' (test_readonly.py), prompts with NUL
bytes, invalid UTF-8 and 20,001 characters (test_sidecars.py), the key in
the mount, xattrs and cmdline (test_credits.py)."""
import errno
import os
import re
import subprocess
import threading
import time

import harness
from harness import MountedTest, main, status_fields

# The longest a refusal may take from open() to close() returned: the check
# is local and must not scale badly with the sidecar's size. Generous for
# sanitizer builds on a loaded machine, far below any quadratic blow-up.
REFUSAL_SECONDS = 5.0


class HostileBase(MountedTest):
    def setUp(self):
        super().setUp()
        self.not_utf8 = []

    def tearDown(self):
        # whatever a test threw at it, the daemon is alive and its log
        # never holds the key
        self.assertIsNone(self.m.proc.poll(), "the daemon died")
        self.assertNotIn(harness.KEY, self.m.read_log())
        # status/NAME is text (gptimgfs(1), STATUS); a message quoting the
        # user's bytes must not make it undecodable
        self.assertEqual(self.not_utf8, [], "status files that are not "
                         "UTF-8 text")

    def counts(self):
        s = self.sim.stats()
        return s["create_requests"], s["creates"]

    def put(self, rel, data):
        path = self.m.p("jobs", rel)
        if isinstance(data, str):
            data = data.encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            done = 0
            while done < len(data):
                done += os.write(fd, data[done:])
        finally:
            os.close(fd)

    def status_bytes(self, name):
        with open(self.m.p("status", name), "rb") as f:
            return f.read()

    def assert_refused(self, name, sidecar, data, *needles):
        """jobs/NAME.SIDECAR holds data; writing jobs/NAME.txt fails the job
        at once with invalid_input naming jobs/NAME.SIDECAR, nothing is
        sent, the status stays a small readable text, and the daemon still
        completes a job afterwards."""
        before = self.counts()
        self.put("%s.%s" % (name, sidecar), data)
        t0 = time.monotonic()
        self.put(name + ".txt", "a hostile cat %s\n" % name)
        self.m.status_after_write(name)
        raw = self.status_bytes(name)
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, REFUSAL_SECONDS,
                        "refusing jobs/%s.%s took %.1f s" % (
                            name, sidecar, elapsed))
        # text a script can read: one line per field, small, UTF-8
        # (checked last, below, so that the rest is checked first)
        text = raw.decode("utf-8", "replace")
        self.assertLess(len(raw), 4096, "status/%s is %d bytes" %
                        (name, len(raw)))
        first, fields = status_fields(text)
        self.assertEqual(first, "failed", text)
        err = fields.get("error", "")
        self.assertTrue(err.startswith("invalid_input: jobs/%s.%s" %
                                       (name, sidecar)), err)
        for line in text.splitlines()[1:]:
            self.assertRegex(line, r"^[a-z_]+: ", "not a key: value line")
        for c in err:
            self.assertFalse(ord(c) < 0x20 or ord(c) == 0x7f,
                             "control character in %r" % err)
        for needle in needles:
            self.assertIn(needle, err)
        # cat wait/NAME says why and exits non-zero
        r = subprocess.run(["cat", self.m.p("wait", name)],
                           capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"error: invalid_input: jobs/", r.stdout)
        self.assertEqual(self.counts(), before, "a request was sent")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            # reported at the end of the test (tearDown), so that one
            # such case does not hide the checks of the next ones
            self.not_utf8.append("status/%s (%s): %r" % (name, e, err))
        return err

    def assert_serves(self, name="alive"):
        """The daemon still completes a job (and lists its files)."""
        rc, text = self.m.submit(name, "a cat proving the daemon is up")
        self.assertEqual(rc, 0, text)
        self.assertEqual(status_fields(text)[0], "completed", text)
        self.assertIn(name + ".png", os.listdir(self.m.p("out")))
        os.unlink(self.m.p("jobs", name + ".txt"))


class HostileSidecarTest(HostileBase):

    # -- .opts ---------------------------------------------------------------
    def test_opts_ten_thousand_keys(self):
        keys = "".join("key%05d = value %d\n" % (i, i) for i in range(10000))
        self.assert_refused("k1", "opts", keys, "line 1", "'key00000'")
        # the same keys after 10,000 comment lines: the line number is
        # counted all the way down
        lines = "# padding\n" * 9999 + "; last comment\n" + keys[:20000]
        self.assert_refused("k2", "opts", lines, "line 10001",
                            "'key00000'")
        # 10,000 of the one repeatable key: refused where the 17th is
        urls = "".join("image_url=http://e.x/%d\n" % i
                       for i in range(10000))
        self.assertLess(len(urls), 256 * 1024)
        self.assert_refused("k3", "opts", urls, "line 17", "'image_url'")
        # 10,000 repeats of a single-valued key: refused on the second
        self.assert_refused("k4", "opts", "resolution = 2k\n" * 10000,
                            "line 2", "'resolution'")
        self.assert_serves()

    def test_opts_huge_values(self):
        big = "x" * (200 * 1024)
        err = self.assert_refused("v1", "opts", "aspect_ratio = %s\n" % big,
                                  "line 1", "'aspect_ratio'")
        # the value is quoted cut, not whole
        self.assertLess(len(err), 1024, err)
        err = self.assert_refused(
            "v2", "opts", "resolution = 1k\nimage_url = https://example.com/"
            "%s.png\n" % big, "line 2", "'image_url'")
        self.assertLess(len(err), 1024, err)
        # a 200 KB line that is no key = value at all
        err = self.assert_refused("v3", "opts", "# ok\n" + big + "\n",
                                  "line 2")
        self.assertLess(len(err), 1024, err)
        # a 200 KB key
        err = self.assert_refused("v4", "opts", big + " = 1k\n", "line 1")
        self.assertLess(len(err), 1024, err)
        self.assert_serves()

    def test_sidecar_over_256_kib(self):
        # 300 KB of comments and a valid key: refused for its size alone
        text = "# padding padding padding padding padding padding pad\n" * \
            5600 + "resolution = 2k\n"
        self.assertGreater(len(text), 300 * 1000)
        err = self.assert_refused("s1", "opts", text)
        self.assertRegex(err, r"256 ?KiB|262144")
        # the same for JSON (white space padding)
        text = '{"resolution": "2k"' + " " * (300 * 1024) + "}"
        err = self.assert_refused("s2", "json", text)
        self.assertRegex(err, r"256 ?KiB|262144")
        # one byte over the cap too
        text = "resolution = 2k\n"
        text += "#" * (256 * 1024 - len(text)) + "\n"
        self.assertEqual(len(text), 256 * 1024 + 1)
        err = self.assert_refused("s3", "opts", text)
        self.assertRegex(err, r"256 ?KiB|262144")
        self.assertEqual(self.counts(), (0, 0))
        # exactly at the cap is a sidecar like any other
        text = "resolution = 2k\n"
        text += "#" * (256 * 1024 - len(text) - 1) + "\n"
        self.assertEqual(len(text), 256 * 1024)
        self.put("s4.opts", text)
        rc, out = self.m.submit("s4", "a cat with a fat sidecar")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.sim.requests()[-1]["body"]["input"]
                         ["resolution"], "2k")

    def test_opts_binary_garbage_and_nul(self):
        garbage = bytes(b for b in range(256) if b not in (0, 10))
        self.assert_refused("g1", "opts", b"resolution = 2k\n" + garbage +
                            b"\n", "line 2")
        # invalid UTF-8 in the key
        self.assert_refused("g2", "opts", b"\xff\xfe\xfd = 1k\n", "line 1")
        # invalid UTF-8 in a value
        self.assert_refused("g3", "opts", b"aspect_ratio = 16:9\xc0\xaf\n",
                            "line 1", "'aspect_ratio'")
        # a NUL byte: in a comment, in a value, alone
        self.assert_refused("n1", "opts", b"# a \x00 comment\n", "line 1",
                            "NUL")
        self.assert_refused("n2", "opts",
                            b"aspect_ratio = 1:1\nresolution = 2k\x00\n",
                            "line 2", "NUL")
        self.assert_refused("n3", "opts", b"\x00" * 1000, "line 1", "NUL")
        # escape sequences a terminal would obey are not echoed raw
        err = self.assert_refused("esc", "opts",
                                  b"\x1b[2J\x1b]0;owned\x07 = 1\n", "line 1")
        self.assertNotIn("\x1b", err)
        # random bytes, a lot of them
        rnd = bytes((i * 2654435761 >> 13) & 0xff for i in range(100000))
        self.assert_refused("g4", "opts", rnd)
        self.assert_serves()

    def test_opts_odd_but_valid(self):
        """What editors write is accepted: CRLF line ends, a BOM, blank
        lines with white space, a quoted value."""
        self.put("w.opts", b"\xef\xbb\xbfresolution = 2k\r\n\r\n  \t\r\n"
                 b"aspect_ratio = \"3:2\"\r\n")
        rc, text = self.m.submit("w", "a windows cat")
        self.assertEqual(rc, 0, text)
        got = self.sim.requests()[-1]["body"]["input"]
        self.assertEqual((got["resolution"], got["aspect_ratio"]),
                         ("2k", "3:2"))

    # -- .json ---------------------------------------------------------------
    def test_json_ten_thousand_keys(self):
        doc = "{" + ",\n".join('"key%05d": %d' % (i, i)
                               for i in range(10000)) + "}"
        self.assert_refused("j1", "json", doc)
        # 10,000 times the same known key
        doc = "{" + ",".join('"resolution": "2k"' for _ in range(10000)) + "}"
        self.assert_refused("j2", "json", doc)
        self.assert_serves()

    def test_json_deep_nesting(self):
        for name, doc in (
                ("d1", "[" * 10000 + "]" * 10000),
                ("d2", '{"a":' * 10000 + "1" + "}" * 10000),
                ("d3", '{"resolution": ' + "[" * 10000 + "]" * 10000 + "}"),
                ("d4", "[" * 200000),
                ("d5", '{"image_urls": ' + "[" * 100000)):
            with self.subTest(name=name):
                self.assert_refused(name, "json", doc)
        self.assert_serves()

    def test_json_huge_arrays_and_values(self):
        doc = '{"image_urls": [' + ",".join(["1"] * 100000) + "]}"
        self.assertLess(len(doc), 256 * 1024)
        self.assert_refused("a1", "json", doc)
        doc = '{"image_urls": [' + ",".join(
            ['"https://e.x/%d"' % i for i in range(10000)]) + "]}"
        self.assertGreater(len(doc), 150000)
        self.assertLess(len(doc), 256 * 1024)
        self.assert_refused("a2", "json", doc)
        big = "x" * (200 * 1024)
        err = self.assert_refused("a3", "json",
                                  '{"aspect_ratio": "%s"}' % big,
                                  "'aspect_ratio'")
        self.assertLess(len(err), 1024, err)
        err = self.assert_refused(
            "a4", "json", '{"image_urls": ["https://example.com/%s"]}' % big,
            "'image_urls'")
        self.assertLess(len(err), 1024, err)
        err = self.assert_refused("a5", "json", '{"%s": 1}' % big)
        self.assertLess(len(err), 1024, err)
        # numbers, floats and escapes of absurd length
        self.assert_refused("a6", "json",
                            '{"nsfw_checker": %s}' % ("9" * 100000))
        self.assert_refused("a7", "json",
                            '{"resolution": "%s"}' % ("\\u0000" * 20000))
        self.assert_serves()

    def test_json_binary_and_nul(self):
        self.assert_refused("b1", "json", b'{"resolution": "2k"}\x00')
        self.assert_refused("b2", "json", b'{"resolution": "2\x00k"}')
        self.assert_refused("b3", "json", b'{"resolution": "\xff\xfe"}')
        self.assert_refused("b4", "json", b"\x89PNG\r\n\x1a\n" +
                            bytes(range(256)) * 100)
        self.assert_refused("b5", "json", b"\xef\xbb\xbf\xef\xbb\xbf{}")
        self.assert_serves()


class HostileNameTest(HostileBase):

    def test_255_byte_names(self):
        jobs = self.m.p("jobs")
        # a prompt file name of 255 bytes: NAME is 251 bytes, over 200
        name = "p" * 251
        self.assertEqual(len((name + ".txt").encode()), 255)
        self.assertErrno(errno.ENAMETOOLONG, os.open,
                         os.path.join(jobs, name + ".txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        # 256 bytes never reaches the daemon
        self.assertErrno(errno.ENAMETOOLONG, os.open,
                         os.path.join(jobs, "p" * 252 + ".txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        # 255 bytes of four-byte characters (63 of them + ".txt" = 256:
        # too long for the kernel; 62 + "x.txt" = 253 for the daemon)
        self.assertErrno(errno.ENAMETOOLONG, os.open,
                         os.path.join(jobs, "\U0001f98a" * 62 + "x.txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        self.assertEqual(os.listdir(jobs), [])
        self.assertEqual(os.listdir(self.m.p("status")), [])
        # a file that is no prompt may have a 255-byte name: it is the
        # user's file, stored as it is
        notes = "n" * 251 + ".md"
        self.assertEqual(len(notes), 254)
        for n in (notes, "n" * 255, "." + "h" * 250 + ".txt"):
            with self.subTest(n=len(n)):
                self.put(n, "not a prompt\n")
                with open(os.path.join(jobs, n)) as f:
                    self.assertEqual(f.read(), "not a prompt\n")
                self.assertIn(n, os.listdir(jobs))
        self.assertEqual(os.listdir(self.m.p("status")), [])
        # ... but cannot be renamed onto a too long prompt name
        self.assertErrno(errno.ENAMETOOLONG, os.rename,
                         os.path.join(jobs, notes),
                         os.path.join(jobs, "p" * 250 + ".txt"))
        self.assertTrue(os.path.exists(os.path.join(jobs, notes)))
        self.assertEqual(self.counts(), (0, 0))
        self.assert_serves()

    def test_control_characters_refused(self):
        jobs = self.m.p("jobs")
        for bad in ("tab\there", "del\x7fhere", "cr\rhere", "esc\x1b[31m",
                    "bell\x07", "\x01start", "end\x1f"):
            with self.subTest(name=repr(bad)):
                self.assertErrno(errno.EINVAL, os.open,
                                 os.path.join(jobs, bad + ".txt"),
                                 os.O_WRONLY | os.O_CREAT, 0o644)
                self.put("ok.tmp", "a renamed cat\n")
                self.assertErrno(errno.EINVAL, os.rename,
                                 os.path.join(jobs, "ok.tmp"),
                                 os.path.join(jobs, bad + ".txt"))
        self.assertEqual(os.listdir(jobs), ["ok.tmp"])
        self.assertEqual(os.listdir(self.m.p("status")), [])
        self.assertEqual(self.counts(), (0, 0))
        # the shell says so too
        r = subprocess.run(['bash', '-c', 'echo "a cat" > "jobs/a$(printf '
                            '"\\t")b.txt"'], cwd=self.m.path,
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Invalid argument", r.stderr)
        self.assert_serves()

    def test_odd_names_end_to_end(self):
        names = ["back\\slash", "trailing backslash\\", "-rf", "--help",
                 "a.txt", "*?[glob]", "x=y;z", "$(touch pwned)", "`id`",
                 "\U0001f469\u200d\U0001f469\u200d\U0001f467 family",
                 "caf\u00e9", "cafe\u0301", "\u202eevil\u202c", "'",
                 '"', "%", "%%", "%s%s%s%n", " ", "!", "#hash", "@at",
                 "a\u00a0nbsp", "\u4e2d\u6587\u540d\u5b57"]
        for name in names:
            with self.subTest(name=name):
                r = subprocess.run(
                    'printf "%s\\n" "a cat named $N" > "jobs/$N.txt" && '
                    'cat "wait/$N" && cat "out/$N.png" > "$W/copy.png"',
                    shell=True, cwd=self.m.path, capture_output=True,
                    env=dict(os.environ, N=name, W=self.workdir),
                    timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                first, fields = status_fields(r.stdout.decode())
                self.assertEqual(first, "completed")
                self.assertEqual(fields["outputs"], "out/%s.png" % name)
                with open(os.path.join(self.workdir, "copy.png"), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
                self.assertEqual(
                    os.getxattr(self.m.p("out", name + ".png"),
                                "user.gptimgfs.prompt").decode(),
                    "a cat named " + name)
        # every one distinct: NFC and NFD spellings are two jobs
        self.assertEqual(sorted(os.listdir(self.m.p("status"))),
                         sorted(names))
        self.assertEqual(sorted(os.listdir(self.m.p("out"))),
                         sorted(n + ".png" for n in names))
        self.assertFalse(os.path.exists(os.path.join(self.m.path,
                                                     "pwned")))
        self.assertFalse(os.path.exists(self.m.p("jobs", "pwned")))
        self.assertEqual(self.counts(), (len(names), len(names)))

    def test_200_byte_name_with_history_and_four_outputs(self):
        """The longest NAME, four outputs, then a second task: the first
        task's outputs move to history names (NAME~4~<time>.png), which
        must still fit in 255 bytes."""
        name = "\u732b" * 66 + "zz"          # 200 bytes
        self.assertEqual(len(name.encode()), 200)
        for i in (1, 2):
            rc, text = self.m.submit(name, "cat %d [sim:outputs=4]" % i)
            self.assertEqual(rc, 0, text)
            self.assertEqual(status_fields(text)[1]["outputs"],
                             " ".join("out/%s%s.png" % (name, s)
                                      for s in ("", "~2", "~3", "~4")))
        out = os.listdir(self.m.p("out"))
        self.assertEqual(len(out), 8, out)
        for n in out:
            self.assertTrue(n.startswith(name), n)
            self.assertLessEqual(len(n.encode()), 255)
            self.assertTrue(n.endswith(".png"), n)
        history = [n for n in out if re.search(r"~\d{8}T\d{6}Z\.png$", n)]
        self.assertEqual(len(history), 4, out)
        for n in history:
            self.assertRegex(n[len(name):], r"^(~[234])?~\d{8}T\d{6}Z\.png$")
        self.assertEqual(self.counts(), (2, 2))


class FloodTest(HostileBase):
    def test_200_jobs_from_4_threads(self):
        n_threads, per_thread = 4, 50
        errors = []
        start = threading.Barrier(n_threads)

        def writer(t):
            try:
                start.wait()
                for i in range(per_thread):
                    name = "flood-%d-%02d" % (t, i)
                    fd = os.open(self.m.p("jobs", name + ".txt"),
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                                 0o644)
                    os.write(fd, b"flood %d %d\n" % (t, i))
                    os.close(fd)
                    # no race for scripts, even under load
                    with open(self.m.p("status", name)) as f:
                        first = f.readline().strip()
                    if first not in ("queued", "pending", "processing",
                                     "downloading", "completed"):
                        errors.append((name, first))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(("thread %d" % t, repr(e)))

        threads = [threading.Thread(target=writer, args=(t,))
                   for t in range(n_threads)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
            self.assertFalse(t.is_alive(), "a writer thread hangs")
        self.assertEqual(errors, [])
        written = time.monotonic() - t0
        names = ["flood-%d-%02d" % (t, i) for t in range(n_threads)
                 for i in range(per_thread)]
        self.assertEqual(sorted(os.listdir(self.m.p("status"))),
                         sorted(names))
        deadline = time.monotonic() + 120
        for name in names:
            self.assertIsNone(self.m.proc.poll(), "the daemon died")
            rc, text = self.m.wait(
                name, timeout=max(1.0, deadline - time.monotonic()))
            self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                             name + ": " + text)
        out = os.listdir(self.m.p("out"))
        self.assertEqual(sorted(out), sorted(n + ".png" for n in names))
        self.assertEqual(self.counts(), (200, 200))
        prompts = self.sim.prompts()
        self.assertEqual(len(prompts), 200)
        self.assertTrue(all(c == 1 for c in prompts.values()), prompts)
        # the writes themselves were not held up by the network
        self.assertLess(written, 30, "writing 200 prompts took %.1f s" %
                        written)
        self.assert_serves()


if __name__ == "__main__":
    main()
