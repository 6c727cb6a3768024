"""gptimgfs(1), SIDECARS, and the prompt rules of JOBS: jobs/NAME.opts and
jobs/NAME.json reach the create request exactly; every local validation rule
refuses the job before any request is sent, with an error that names the
file (and, for .opts, the line and the key); a failed job is retried by
writing its prompt again; prompts reach the API byte-exact."""
import errno
import json
import os
import re
import subprocess

from harness import MountedTest, main, status_fields

URL = "https://images.example.com/ref-%d.png"
DEFAULT_INPUT = {"aspect_ratio": "auto", "resolution": "1k",
                 "nsfw_checker": True}


class SidecarTest(MountedTest):

    # -- helpers ----------------------------------------------------------
    def put(self, rel, data):
        """Write jobs/rel (str or bytes) the way a user's echo would."""
        self.m.write(os.path.join("jobs", rel), data)

    def counts(self):
        s = self.sim.stats()
        return s["create_requests"], s["creates"]

    def last_input(self):
        reqs = self.sim.requests()
        self.assertTrue(reqs, "no create request reached the simulator")
        return reqs[-1]["body"]["input"]

    def run_ok(self, name, prompt):
        """Submit and wait: the job must complete; returns the request's
        input object (the last create request)."""
        before = self.counts()[0]
        rc, text = self.m.submit(name, prompt) if isinstance(prompt, str) \
            else self._submit_bytes(name, prompt)
        self.assertEqual(rc, 0, text)
        self.assertEqual(status_fields(text)[0], "completed", text)
        self.assertEqual(self.counts()[0], before + 1)
        return self.last_input()

    def _submit_bytes(self, name, data):
        self.put(name + ".txt", data)
        return self.m.wait(name)

    def assert_refused(self, name, prompt, *needles):
        """Write jobs/NAME.txt: the job fails with invalid_input before any
        request is sent, and the error line holds every needle."""
        before = self.counts()
        if isinstance(prompt, str):
            prompt = prompt.encode()
        self.put(name + ".txt", prompt)
        first, fields = status_fields(self.m.status_after_write(name))
        self.assertEqual(first, "failed", fields)
        err = fields.get("error", "")
        self.assertTrue(err.startswith("invalid_input: "), err)
        for needle in needles:
            self.assertIn(needle, err)
        # cat wait/NAME prints the reason and exits non-zero (EIO)
        r = subprocess.run(["cat", self.m.p("wait", name)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("error: " + err, r.stdout)
        self.assertIn("Input/output error", r.stderr)
        self.assertEqual(self.counts(), before, "a request was sent")
        return err

    # -- every key reaches the request -------------------------------------
    def test_defaults_without_sidecar(self):
        got = self.run_ok("plain", "a plain cat")
        self.assertEqual(got, dict(DEFAULT_INPUT, prompt="a plain cat"))
        self.assertNotIn("image_urls", got)

    def test_opts_every_key(self):
        self.put("all.opts",
                 "# a comment\n"
                 "; another comment\n"
                 "\n"
                 "aspect_ratio = 16:9\n"
                 "resolution=4k\n"
                 "  nsfw_checker =  false  \n"
                 "image_url = %s\n"
                 "image_url = http://images.example.com/ref-2.png\n"
                 "image_urls = %s,%s %s , %s\n"
                 % (URL % 1, URL % 3, URL % 4, URL % 5, URL % 6))
        got = self.run_ok("all", "a lighthouse")
        self.assertEqual(got, {
            "prompt": "a lighthouse", "aspect_ratio": "16:9",
            "resolution": "4k", "nsfw_checker": False,
            "image_urls": [URL % 1, "http://images.example.com/ref-2.png",
                           URL % 3, URL % 4, URL % 5, URL % 6]})
        first, fields = status_fields(self.m.status("all"))
        self.assertEqual(fields["resolution"], "4k")
        self.assertEqual(fields["aspect_ratio"], "16:9")
        self.assertEqual(fields["credits"], "14.1")

    def test_opts_sixteen_urls_accepted(self):
        self.put("u16.opts", "".join("image_url = %s\n" % (URL % i)
                                     for i in range(16)))
        got = self.run_ok("u16", "sixteen")
        self.assertEqual(got["image_urls"], [URL % i for i in range(16)])

    def test_json_every_key(self):
        self.put("js.json", json.dumps({
            "aspect_ratio": "9:21", "resolution": "2k",
            "nsfw_checker": False,
            "image_urls": [URL % 1, URL % 2]}, indent=2))
        got = self.run_ok("js", "a tall tower")
        self.assertEqual(got, {
            "prompt": "a tall tower", "aspect_ratio": "9:21",
            "resolution": "2k", "nsfw_checker": False,
            "image_urls": [URL % 1, URL % 2]})
        self.assertEqual(status_fields(self.m.status("js"))[1]["credits"],
                         "9.4")

    def test_json_partial_keeps_defaults(self):
        self.put("jp.json", '{"resolution": "2k"}\n')
        got = self.run_ok("jp", "a boat")
        self.assertEqual(got, dict(DEFAULT_INPUT, prompt="a boat",
                                   resolution="2k"))

    def test_nsfw_checker_values(self):
        for value, want in (("true", True), ("false", False), ("yes", True),
                            ("no", False), ("on", True), ("off", False),
                            ("1", True), ("0", False)):
            with self.subTest(value=value):
                name = "nsfw-" + value
                self.put(name + ".opts", "nsfw_checker = %s\n" % value)
                got = self.run_ok(name, "a cat, nsfw " + value)
                self.assertIs(got["nsfw_checker"], want)
                self.assertEqual(got, dict(DEFAULT_INPUT, nsfw_checker=want,
                                           prompt="a cat, nsfw " + value))

    def test_empty_prompt_with_image_url(self):
        self.put("edit.opts", "image_url = %s\n" % (URL % 9))
        got = self.run_ok("edit", b"\n")
        # doc/api.md: at least one of prompt / image_urls; the daemon
        # leaves the empty prompt out (gptimgfs(1), JOBS)
        self.assertEqual(got, dict(DEFAULT_INPUT, image_urls=[URL % 9]))
        self.assertNotIn("prompt", got)
        # the same with a JSON sidecar
        self.put("edit2.json", '{"image_urls": ["%s"]}' % (URL % 8))
        got = self.run_ok("edit2", b"\n\n")
        self.assertEqual(got, dict(DEFAULT_INPUT, image_urls=[URL % 8]))

    # -- validation: refused locally, nothing sent --------------------------
    def test_opts_refusals(self):
        seventeen = ", ".join(URL % i for i in range(17))
        cases = [
            # name, .opts text, needles after "jobs/NAME.opts: "
            ("ar", "# ratio\naspect_ratio = 7:3\n",
             ["line 2", "'aspect_ratio'", "7:3"]),
            ("res", "resolution = 8k\n", ["line 1", "'resolution'", "8k"]),
            ("nsfw", "aspect_ratio = 1:1\nnsfw_checker = maybe\n",
             ["line 2", "'nsfw_checker'", "maybe"]),
            ("u17", "image_urls = %s\n" % seventeen,
             ["line 1", "'image_urls'", "17"]),
            ("u17b", "".join("image_url = %s\n" % (URL % i)
                             for i in range(17)),
             ["line 17", "'image_url'", "17"]),
            ("u17c", "image_urls = %s\nimage_url = %s\n" % (
                ", ".join(URL % i for i in range(16)), URL % 99),
             ["line 2", "'image_url'", "17"]),
            ("ftp", "image_url = ftp://images.example.com/a.png\n",
             ["line 1", "'image_url'", "ftp://images.example.com/a.png"]),
            ("file", "resolution = 2k\nimage_urls = %s file:///etc/passwd\n"
             % (URL % 1), ["line 2", "'image_urls'", "file:///etc/passwd"]),
            ("unknown", "resolution = 2k\n\ncolour = red\n",
             ["line 3", "'colour'"]),
            ("twice", "resolution = 1k\naspect_ratio = 1:1\nresolution = 2k\n",
             ["line 3", "'resolution'"]),
            ("twice-ar", "aspect_ratio = 1:1\naspect_ratio = 1:1\n",
             ["line 2", "'aspect_ratio'"]),
            ("noeq", "aspect_ratio = 1:1\nresolution 2k\n",
             ["line 2", "resolution 2k"]),
        ]
        for name, opts, needles in cases:
            with self.subTest(name=name):
                self.put(name + ".opts", opts)
                err = self.assert_refused(name, "a cat " + name)
                self.assertIn("jobs/%s.opts: " % name, err)
                for needle in needles:
                    self.assertIn(needle, err)
        self.assertEqual(self.counts(), (0, 0))

    def test_4k_needs_explicit_wide_aspect_ratio(self):
        # the error names the sidecar, the line and the key to edit: the
        # aspect_ratio when the sidecar sets one, else the resolution
        for name, opts, where in (
                ("k4-none", "resolution = 4k\n",
                 "line 1: key 'resolution': resolution 4k needs an "
                 "aspect_ratio of 16:9 9:16 2:1 1:2 21:9 9:21, which the "
                 "sidecar does not set, and the configuration's default "
                 "is auto"),
                ("k4-auto", "resolution = 4k\naspect_ratio = auto\n",
                 "line 2: key 'aspect_ratio': 'auto' does not go with "
                 "resolution 4k (line 1)"),
                ("k4-43", "aspect_ratio = 4:3\nresolution = 4k\n",
                 "line 1: key 'aspect_ratio': '4:3' does not go with "
                 "resolution 4k (line 2)"),
                ("k4-11", "aspect_ratio = 1:1\nresolution = 4K\n",
                 "line 1: key 'aspect_ratio': '1:1' does not go with "
                 "resolution 4k (line 2)")):
            with self.subTest(name=name):
                self.put(name + ".opts", opts)
                err = self.assert_refused(name, "a wide " + name,
                                          "4k", "aspect_ratio")
                self.assertTrue(err.startswith(
                    "invalid_input: jobs/%s.opts: %s" % (name, where)), err)
                # the log says the same
                self.assertRegex(self.m.read_log(), r"jobs/%s\.txt: task "
                                 r"\d+ %s" % (name, re.escape(err)))
        self.put("k4j.json", '{\n  "aspect_ratio": "3:2",\n'
                 '  "resolution": "4k"\n}')
        err = self.assert_refused("k4j", "a wide k4j")
        self.assertTrue(err.startswith(
            "invalid_input: jobs/k4j.json: line 2: key 'aspect_ratio': "
            "'3:2' does not go with resolution 4k (line 3)"), err)
        self.assertEqual(self.counts(), (0, 0))
        # each of the allowed ones goes through
        for ratio in ("16:9", "9:16", "2:1", "1:2", "21:9", "9:21"):
            name = "k4ok-" + ratio.replace(":", "x")
            self.put(name + ".opts", "resolution = 4k\naspect_ratio = %s\n"
                     % ratio)
            got = self.run_ok(name, "a wide " + name)
            self.assertEqual((got["resolution"], got["aspect_ratio"]),
                             ("4k", ratio))

    def test_json_refusals(self):
        cases = [
            ("jar", '{"aspect_ratio": "7:3"}', ["'aspect_ratio'", "7:3"]),
            ("jres", '{"resolution": "8k"}', ["'resolution'", "8k"]),
            ("jnsfw", '{"nsfw_checker": "maybe"}', ["'nsfw_checker'"]),
            ("ju17", json.dumps({"image_urls": [URL % i for i in range(17)]}),
             ["'image_urls'", "17"]),
            ("jftp", '{"image_urls": ["ftp://images.example.com/a.png"]}',
             ["'image_urls'", "ftp://images.example.com/a.png"]),
            ("jfile", '{"image_urls": ["file:///etc/passwd"]}',
             ["'image_urls'", "file:///etc/passwd"]),
            ("junk", '{\n  "resolution": "2k",\n  "colour": "red"\n}',
             ["line 3", "'colour'"]),
            ("jtwice", '{\n"resolution": "1k",\n"resolution": "2k"\n}',
             ["line 3", "'resolution'"]),
            ("jbad", '{\n  "resolution": "2k",\n  "aspect_ratio": \n}',
             ["JSON"]),
            ("jbad2", '{"resolution": "2k"', ["JSON"]),
            ("jarr", '["resolution", "2k"]', ["object"]),
        ]
        for name, text, needles in cases:
            with self.subTest(name=name):
                self.put(name + ".json", text)
                err = self.assert_refused(name, "a dog " + name)
                self.assertIn("jobs/%s.json" % name, err)
                for needle in needles:
                    self.assertIn(needle, err)
        self.assertEqual(self.counts(), (0, 0))

    def test_both_sidecars_refused(self):
        self.put("both.opts", "resolution = 2k\n")
        self.put("both.json", '{"resolution": "2k"}')
        err = self.assert_refused("both", "a cow")
        self.assertIn("jobs/both.opts", err)
        self.assertIn("jobs/both.json", err)
        # keeping one makes the retry go through
        os.unlink(self.m.p("jobs/both.json"))
        got = self.run_ok("both", "a cow")
        self.assertEqual(got["resolution"], "2k")

    def test_prompt_refusals(self):
        self.assert_refused("empty", b"\n", "jobs/empty.txt")
        self.assert_refused("empty2", b"\n\n", "jobs/empty2.txt")
        self.put("empty3.opts", "resolution = 2k\n")
        self.assert_refused("empty3", b"\n", "jobs/empty3.txt")
        self.put("empty4.json", '{"image_urls": []}')
        self.assert_refused("empty4", b"\n", "jobs/empty4")
        self.assert_refused("nul", b"a cat\x00 and a dog\n", "jobs/nul.txt",
                            "NUL")
        self.assert_refused("utf8", b"caf\xe9 au lait\n", "jobs/utf8.txt",
                            "UTF-8")
        self.assert_refused("utf8b", b"\xed\xa0\x80 surrogate\n",
                            "jobs/utf8b.txt", "UTF-8")
        self.assertEqual(self.counts(), (0, 0))

    def test_zero_byte_prompt_file(self):
        """`: > jobs/NAME.txt` creates, truncates and closes a prompt file:
        a submission like any other, so status/NAME exists when the
        shell's close() has returned (gptimgfs(1), JOBS, Submission). It is
        submitted at the RELEASE that follows: until then the status says
        queued, and wait/NAME blocks."""
        # with a reference image the empty prompt is an edit: it is sent
        for i in range(5):
            self.put("zb%d.opts" % i, "image_url = %s\n" % (URL % i))
            r = subprocess.run(": > jobs/zb%d.txt; cat status/zb%d"
                               % (i, i), shell=True, cwd=self.m.path,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(r.stdout.splitlines()[0],
                          ("queued", "pending", "processing", "downloading",
                           "completed"))
            rc, text = self.m.wait("zb%d" % i)
            self.assertEqual(rc, 0, text)
            self.assertEqual(self.last_input(),
                             dict(DEFAULT_INPUT, image_urls=[URL % i]))
        # without one it is refused: the status exists at once, and
        # wait/ says why as soon as the write has ended
        before = self.counts()
        for i in range(5):
            r = subprocess.run(": > jobs/zz%d.txt; head -n1 status/zz%d; "
                               "cat wait/zz%d" % (i, i, i), shell=True,
                               cwd=self.m.path, capture_output=True,
                               text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("Input/output error", r.stderr)
            self.assertIn(r.stdout.splitlines()[0], ("queued", "failed"))
            first, fields = status_fields(
                "\n".join(r.stdout.splitlines()[1:]))
            self.assertEqual(first, "failed")
            self.assertTrue(fields["error"].startswith(
                "invalid_input: jobs/zz%d.txt" % i), fields["error"])
        self.assertEqual(self.counts(), before)

    def test_prompt_length_counts_code_points(self):
        # 20,001 characters of 3 bytes each: refused
        self.assert_refused("long", ("\u732b" * 20001) + "\n",
                            "jobs/long.txt", "20001", "20000")
        self.assertEqual(self.counts(), (0, 0))
        # 20,000 of them (60,000 bytes) are accepted and sent whole
        got = self.run_ok("long", "\u732b" * 20000 + "\n")
        self.assertEqual(got["prompt"], "\u732b" * 20000)

    def test_prompt_file_over_1mib_refused_at_write(self):
        path = self.m.p("jobs/big.txt")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            chunk = b"a" * 65536
            written = 0
            while written < 1 << 20:
                written += os.write(fd, chunk)
            self.assertEqual(written, 1 << 20)
            with self.assertRaises(OSError) as cm:
                os.write(fd, b"a")
            self.assertEqual(cm.exception.errno, errno.EFBIG)
        finally:
            os.close(fd)
        self.assertEqual(os.stat(path).st_size, 1 << 20)
        # one write() crossing the limit: the part past 1 MiB is refused
        fd = os.open(self.m.p("jobs/big2.txt"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            data = b"b" * ((1 << 20) + 1)
            done = 0
            with self.assertRaises(OSError) as cm:
                while done < len(data):
                    n = os.write(fd, data[done:])
                    self.assertGreater(n, 0)
                    done += n
            self.assertEqual(cm.exception.errno, errno.EFBIG)
            self.assertLessEqual(done, 1 << 20)
        finally:
            os.close(fd)
        # and growing it by truncate
        self.assertErrno(errno.EFBIG, os.truncate, path, (1 << 20) + 1)
        # what was kept is too long a prompt: refused, nothing sent
        for name in ("big", "big2"):
            first, fields = status_fields(self.m.status_after_write(name))
            self.assertEqual(first, "failed")
            self.assertTrue(fields["error"].startswith(
                "invalid_input: jobs/%s.txt" % name), fields["error"])
        self.assertEqual(self.counts(), (0, 0))

    def test_wait_of_refused_job_fails_with_eio(self):
        self.put("bad.opts", "resolution = 8k\n")
        self.put("bad.txt", "a cat\n")
        fd = os.open(self.m.p("wait/bad"), os.O_RDONLY)
        try:
            text = b""
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError as e:
                    self.assertEqual(e.errno, errno.EIO)
                    break
                self.assertTrue(chunk, "EOF instead of EIO after the text")
                text += chunk
        finally:
            os.close(fd)
        first, fields = status_fields(text.decode())
        self.assertEqual(first, "failed")
        self.assertIn("jobs/bad.opts: line 1", fields["error"])

    # -- what a failed job's status shows ----------------------------------
    def test_refused_job_shows_its_sidecar_options(self):
        """A job refused for its prompt shows the options its sidecar asked
        for, not the defaults; one refused for its sidecar shows none (they
        are not known), also after a restart."""
        self.put("badtxt.opts", "resolution = 2k\naspect_ratio = 16:9\n")
        self.assert_refused("badtxt", b"caf\xe9 au lait\n", "UTF-8")
        self.put("badopt.json", '{"resolution": "2k", "aspect_ratio": "7:3"}')
        self.assert_refused("badopt", "a cat", "jobs/badopt.json")
        self.put("empty.opts", "resolution = 2k\naspect_ratio = 3:2\n")
        self.assert_refused("empty", b"\n", "jobs/empty.txt")
        for restarted in (False, True):
            with self.subTest(restarted=restarted):
                for name, want in (("badtxt", ("2k", "16:9")),
                                   ("empty", ("2k", "3:2"))):
                    first, fields = status_fields(self.m.status(name))
                    self.assertEqual(first, "failed")
                    self.assertEqual((fields.get("resolution"),
                                      fields.get("aspect_ratio")), want,
                                     name)
                first, fields = status_fields(self.m.status("badopt"))
                self.assertEqual(first, "failed")
                self.assertNotIn("resolution", fields)
                self.assertNotIn("aspect_ratio", fields)
                self.assertEqual(fields["credits"], "0 (nothing was charged)")
                self.assertIn("'7:3'", fields["error"])
            self.m.unmount()
            self.m.start()
        self.assertEqual(self.counts(), (0, 0))

    # -- retry, removal ----------------------------------------------------
    def test_failed_job_retried_after_fixing_sidecar(self):
        self.put("fix.opts", "resolution = 2k\naspect_ratio = 7:3\n")
        self.assert_refused("fix", "a fixed cat", "jobs/fix.opts", "line 2")
        # the same again, unfixed: refused again, still nothing sent
        self.assert_refused("fix", "a fixed cat", "jobs/fix.opts", "line 2")
        # fixing the sidecar alone submits nothing
        self.put("fix.opts", "resolution = 2k\naspect_ratio = 3:2\n")
        self.assertEqual(status_fields(self.m.status("fix"))[0], "failed")
        self.assertEqual(self.counts(), (0, 0))
        # writing the same prompt again retries it
        got = self.run_ok("fix", "a fixed cat")
        self.assertEqual(got, dict(DEFAULT_INPUT, prompt="a fixed cat",
                                   resolution="2k", aspect_ratio="3:2"))
        self.assertEqual(self.counts(), (1, 1))
        self.assertTrue(os.path.exists(self.m.p("out/fix.png")))

    def test_removing_sidecar_affects_only_later_submissions(self):
        self.put("rm.opts", "resolution = 2k\naspect_ratio = 1:1\n")
        got = self.run_ok("rm", "a red barn")
        self.assertEqual(got["resolution"], "2k")
        os.unlink(self.m.p("jobs/rm.opts"))
        first, fields = status_fields(self.m.status("rm"))
        self.assertEqual(first, "completed")
        self.assertEqual((fields["resolution"], fields["aspect_ratio"],
                          fields["credits"]), ("2k", "1:1", "9.4"))
        self.assertTrue(os.path.exists(self.m.p("out/rm.png")))
        self.assertEqual(self.counts(), (1, 1))
        # the next submission goes out with the defaults
        got = self.run_ok("rm", "a blue barn")
        self.assertEqual(got, dict(DEFAULT_INPUT, prompt="a blue barn"))
        first, fields = status_fields(self.m.status("rm"))
        self.assertEqual((fields["resolution"], fields["aspect_ratio"],
                          fields["credits"]), ("1k", "auto", "4.7"))

    def test_sidecar_change_with_same_prompt_resubmits(self):
        self.run_ok("chg", "a green barn")
        self.put("chg.opts", "resolution = 2k\n")
        got = self.run_ok("chg", "a green barn")
        self.assertEqual(got, dict(DEFAULT_INPUT, prompt="a green barn",
                                   resolution="2k"))

    # -- the prompt's text ---------------------------------------------------
    def test_trailing_newlines_removed_inner_kept(self):
        got = self.run_ok("nl", b"first line\n\nthird line  \n\n\n")
        self.assertEqual(got["prompt"], "first line\n\nthird line  ")
        got = self.run_ok("nl1", b"no newline at all")
        self.assertEqual(got["prompt"], "no newline at all")
        got = self.run_ok("nl2", b"\n\nleading kept\n")
        self.assertEqual(got["prompt"], "\n\nleading kept")

    def test_prompt_bytes_reach_the_api_exactly(self):
        prompt = ('say "hi" and \'bye\' \\ back\\slash \\n not a newline\t'
                  'tab \U0001f98a\U0001f3a8 \u732b\u306e\u7d75 '
                  '\u4e2d\u6587 caf\u00e9 {"json": [1]} </script> %s $HOME')
        got = self.run_ok("exact", prompt + "\n")
        self.assertEqual(got["prompt"], prompt)
        self.assertEqual(self.sim.prompts(), {prompt: 1})
        self.assertEqual(os.getxattr(self.m.p("out/exact.png"),
                                     "user.gptimgfs.prompt"),
                         prompt.encode())
        # through a shell as well
        r = subprocess.run(["sh", "-c", "printf '%s\\n' \"$P\" > jobs/sh.txt"
                            " && cat wait/sh"], cwd=self.m.path,
                           env=dict(os.environ, P=prompt),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.last_input()["prompt"], prompt)


class Default4kTest(MountedTest):
    """resolution=4k as the daemon's default: the 4k error says which
    values are defaults and names the sidecar when there is one."""
    mount_options = ("resolution=4k",)
    # SidecarTest's helpers, without its tests
    put = SidecarTest.put
    counts = SidecarTest.counts
    last_input = SidecarTest.last_input
    run_ok = SidecarTest.run_ok
    _submit_bytes = SidecarTest._submit_bytes
    assert_refused = SidecarTest.assert_refused

    def test_4k_default_errors_say_what_is_default(self):
        err = self.assert_refused("plain4k", "a cat")
        self.assertEqual(
            err, "invalid_input: jobs/plain4k.txt: resolution 4k needs an "
            "aspect_ratio of 16:9 9:16 2:1 1:2 21:9 9:21, and there is no "
            "sidecar: the configuration's defaults are resolution 4k and "
            "aspect_ratio auto (set aspect_ratio in a sidecar)")
        self.put("nsfw4k.opts", "nsfw_checker = off\n")
        err = self.assert_refused("nsfw4k", "a cat")
        self.assertTrue(err.startswith(
            "invalid_input: jobs/nsfw4k.opts: resolution 4k needs"), err)
        self.assertIn("the sidecar sets neither", err)
        self.put("ar4k.opts", "\naspect_ratio = 5:4\n")
        err = self.assert_refused("ar4k", "a cat")
        self.assertEqual(
            err, "invalid_input: jobs/ar4k.opts: line 2: key "
            "'aspect_ratio': '5:4' does not go with resolution 4k, which "
            "the sidecar does not set and is the configuration's default: "
            "4k needs an aspect_ratio of 16:9 9:16 2:1 1:2 21:9 9:21")
        self.put("ok4k.opts", "aspect_ratio = 21:9\n")
        got = self.run_ok("ok4k", "a wide cat")
        self.assertEqual((got["resolution"], got["aspect_ratio"]),
                         ("4k", "21:9"))


if __name__ == "__main__":
    main()
