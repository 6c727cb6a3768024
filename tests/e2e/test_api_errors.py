"""API errors and retries (gptimgfs(1), STATUS and RETRIES; doc/api.md,
Errors), driven by the simulator's fault rules.

A creation spends credits: it is resent only when the API said it did not
create the task (429 rate_limit_exceeded, 500, 503) or when nothing was sent
(connection refused); never when the answer was lost. Polls and downloads
are reads and are retried. Every failure shows `failed` and
`error: CODE: message` in status/NAME, and `cat wait/NAME` exits non-zero.
"""
import os
import subprocess
import tempfile
import time
import urllib.request

from harness import (Mount, MountedTest, Sim, free_port, main,
                     png_without_embedded, status_fields, wait_for)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"
MAY_BE_CHARGED = "may have been"


def png_whole(data):
    """A PNG with its signature, an IHDR first and an IEND last."""
    return (data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR" and
            data.endswith(IEND_CHUNK))


class ApiErrorsTest(MountedTest):
    # -- helpers ----------------------------------------------------------
    def stats_delta(self, before):
        after = self.sim.stats()
        return {k: after[k] - before[k] for k in
                ("creates", "create_requests", "polls", "downloads")}

    def assertFailed(self, name, rc, text, code, message=None):
        """wait/NAME exited non-zero and says `failed` + `error: CODE: …`;
        status/NAME says the same. Returns the error's message."""
        self.assertNotEqual(rc, 0, "cat wait/%s exited 0:\n%s" % (name, text))
        first, fields = status_fields(text)
        self.assertEqual(first, "failed", text)
        self.assertIn("error", fields, text)
        got_code, sep, got_message = fields["error"].partition(": ")
        self.assertEqual(sep, ": ", text)
        self.assertEqual(got_code, code, text)
        if message is not None:
            self.assertEqual(got_message, message, text)
        self.assertEqual(self.m.status(name), text)
        self.assertFalse(
            [f for f in os.listdir(self.m.p("out"))
             if f == name + ".png" or f.startswith(name + ".")],
            "a failed job has an output")
        return got_message

    def assertCompleted(self, name, rc, text):
        self.assertEqual(rc, 0, text)
        first, fields = status_fields(text)
        self.assertEqual(first, "completed", text)
        self.assertEqual(fields["outputs"], "out/%s.png" % name, text)
        with open(self.m.p("out", name + ".png"), "rb") as f:
            data = f.read()
        self.assertTrue(png_whole(data), "out/%s.png is not a whole PNG" %
                        name)
        return fields

    def remount(self, api_url=None, name="mnt2"):
        """Unmount the setUp mount and mount again, differently."""
        self.m.unmount()
        m = Mount(self.workdir, api_url or self.sim.url, name=name)
        self.addCleanup(m.cleanup)
        self.m = m
        return m.start()

    def watch_out(self, name, timeout=30):
        """`cat wait/NAME` while listing out/ as fast as possible: every
        name seen there must be NAME.png, and whole whenever it is seen.
        Returns (rc, text, names seen)."""
        seen = set()
        proc = subprocess.Popen(["cat", self.m.p("wait", name)],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                for f in os.listdir(self.m.p("out")):
                    seen.add(f)
                    self.assertEqual(f, name + ".png",
                                     "unexpected file in out/: %r" % f)
                    with open(self.m.p("out", f), "rb") as fh:
                        self.assertTrue(png_whole(fh.read()),
                                        "out/%s seen partial" % f)
                if time.monotonic() > deadline:
                    raise AssertionError("cat wait/%s did not end" % name)
            text = proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        seen.update(os.listdir(self.m.p("out")))
        return proc.returncode, text, seen

    # -- creation errors that are not retried ---------------------------
    def test_create_errors_not_retried(self):
        cases = [
            (400, "invalid_request", "'model' is required."),
            (401, "invalid_api_key", "Invalid API key, or disabled."),
            (402, "insufficient_credits",
             "Your credit balance is too low. Please top up."),
            (403, "ip_not_allowed", "Your IP is not on the allow-list."),
            (404, "model_not_found", "The model does not exist."),
            (429, "spend_limit_exceeded", "Daily spend limit reached."),
        ]
        for i, (status, code, message) in enumerate(cases):
            with self.subTest(code=code):
                before = self.sim.stats()
                self.sim.fault(endpoint="create", action="error",
                               status=status, code=code, message=message,
                               count=1)
                rc, text = self.m.submit("e%d" % i, "a cat number %d" % i)
                self.assertFailed("e%d" % i, rc, text, code, message)
                d = self.stats_delta(before)
                self.assertEqual(d["create_requests"], 1, code)
                self.assertEqual(d["creates"], 0, code)
                self.assertEqual(d["polls"], 0, code)
        # at the end, still no second request for any of them
        self.assertEqual(self.sim.stats()["create_requests"], len(cases))

    def test_insufficient_credits_for_real(self):
        self.sim.configure(balance=1)
        rc, text = self.m.submit("poor", "a golden cat")
        self.assertFailed("poor", rc, text, "insufficient_credits",
                          "Your credit balance is too low. Please top up.")
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 0))
        # a failed job is retried by writing its prompt again
        self.sim.configure(balance=100)
        rc, text = self.m.submit("poor", "a golden cat")
        self.assertCompleted("poor", rc, text)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (2, 1))

    # -- creation errors that are retried --------------------------------
    def test_create_retried_when_api_did_not_create(self):
        cases = [(429, "rate_limit_exceeded"), (500, "internal_error"),
                 (503, "upstream_error")]
        for i, (status, code) in enumerate(cases):
            with self.subTest(code=code):
                before = self.sim.stats()
                self.sim.fault(endpoint="create", action="error",
                               status=status, code=code, count=1)
                rc, text = self.m.submit("r%d" % i, "a retried cat %d" % i)
                self.assertCompleted("r%d" % i, rc, text)
                d = self.stats_delta(before)
                self.assertEqual(d["create_requests"], 2, code)
                self.assertEqual(d["creates"], 1, code)

    def test_rate_limit_honours_retry_after(self):
        self.sim.fault(endpoint="create", action="error", status=429,
                       code="rate_limit_exceeded", retry_after="2", count=1)
        t0 = time.monotonic()
        self.m.write("jobs/ra.txt", "a patient cat\n")
        wait_for(lambda: self.sim.stats()["create_requests"] >= 1,
                 what="the first creation request")
        # waiting for its retry: not yet accepted by the API
        first, _ = status_fields(self.m.status("ra"))
        self.assertEqual(first, "queued")
        rc, text = self.m.wait("ra")
        elapsed = time.monotonic() - t0
        self.assertCompleted("ra", rc, text)
        self.assertGreaterEqual(elapsed, 2.0, "Retry-After: 2 not honoured")
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (2, 1))

    def test_create_retried_after_connection_refused(self):
        port = free_port()    # nothing listens there: connection refused
        m = self.remount(api_url="http://127.0.0.1:%d" % port)
        m.write("jobs/cr.txt", "a cat behind a closed door\n")
        wait_for(lambda: "note:" in m.status("cr"), timeout=10,
                 what="the refused creation to be rescheduled")
        self.assertEqual(status_fields(m.status("cr"))[0], "queued")
        simdir = tempfile.mkdtemp(dir=self.workdir)
        sim2 = Sim(simdir, port=port)
        self.addCleanup(sim2.close)
        rc, text = m.wait("cr", timeout=40)
        self.assertCompleted("cr", rc, text)
        st = sim2.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))
        self.assertEqual(self.sim.stats()["create_requests"], 0)

    # -- creations whose answer was lost: never resent -------------------
    def test_create_answer_lost_not_resent(self):
        self.sim.fault(endpoint="create", action="drop_after", count=1)
        rc, text = self.m.submit("lost", "a cat in the fog")
        msg = self.assertFailed("lost", rc, text, "interrupted")
        self.assertIn(MAY_BE_CHARGED, msg)
        self.assertIn("charged", msg)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))

    def test_create_connection_closed_unanswered_not_resent(self):
        # the request left; the server hung up without a word: the daemon
        # cannot know whether the task exists, so it must not resend it
        self.sim.fault(endpoint="create", action="drop_before", count=1)
        rc, text = self.m.submit("hup", "a cat on the line")
        msg = self.assertFailed("hup", rc, text, "interrupted")
        self.assertIn(MAY_BE_CHARGED, msg)
        self.assertIn("charged", msg)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 0))

    def test_malformed_create_answer_not_resent(self):
        self.sim.fault(endpoint="create", action="malformed", count=1)
        rc, text = self.m.submit("mal", "a garbled cat")
        msg = self.assertFailed("mal", rc, text, "bad_response")
        self.assertIn(MAY_BE_CHARGED, msg)
        self.assertIn("charged", msg)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))

    # -- the task fails upstream ------------------------------------------
    def test_task_fails_upstream(self):
        rc, text = self.m.submit("up",
                                 "a forbidden cat [sim:fail=upstream_error]")
        self.assertFailed("up", rc, text, "upstream_error",
                          "simulated failure")
        first, fields = status_fields(text)
        self.assertIn("task_id", fields)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))
        self.assertEqual(st["downloads"], 0)

    # -- polls: retried forever on transient errors ----------------------
    def test_poll_errors_retried(self):
        cases = [(500, "internal_error"), (503, "upstream_error"),
                 (429, "rate_limit_exceeded")]
        for i, (status, code) in enumerate(cases):
            with self.subTest(code=code):
                before = self.sim.stats()
                self.sim.fault(endpoint="task", action="error",
                               status=status, code=code, count=3)
                rc, text = self.m.submit("p%d" % i, "a polled cat %d" % i,
                                         timeout=40)
                self.assertCompleted("p%d" % i, rc, text)
                d = self.stats_delta(before)
                self.assertGreaterEqual(d["polls"], 4, code)
                self.assertEqual((d["create_requests"], d["creates"]),
                                 (1, 1), code)

    def test_malformed_poll_answer_retried(self):
        self.sim.fault(endpoint="task", action="malformed", count=1)
        rc, text = self.m.submit("mp", "a cat read twice")
        self.assertCompleted("mp", rc, text)
        st = self.sim.stats()
        self.assertGreaterEqual(st["polls"], 2)
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))

    # -- downloads -----------------------------------------------------------
    def test_truncated_download_retried_never_partial(self):
        # the first download breaks off after 100 bytes, the second one
        # trickles in over 1.5 s while out/ is listed and read
        self.sim.fault(endpoint="file", action="truncate", bytes=100,
                       count=1)
        self.sim.fault(endpoint="file", action="slow", delay_ms=1500,
                       count=1)
        self.m.write("jobs/tr.txt", "a cat in pieces\n")
        rc, text, seen = self.watch_out("tr")
        self.assertCompleted("tr", rc, text)
        self.assertEqual(seen, {"tr.png"})
        self.assertEqual(self.sim.stats()["downloads"], 2)
        with open(self.m.p("out/tr.png"), "rb") as f:
            data = f.read()
        url = os.getxattr(self.m.p("out/tr.png"),
                          "user.xdg.origin.url").decode()
        with urllib.request.urlopen(url, timeout=10) as r:
            fresh = r.read()
        # the API's whole image, with the metadata the daemon embeds
        data = png_without_embedded(data)
        self.assertEqual(len(data), len(fresh))
        self.assertEqual(data, fresh)

    def test_nonimage_download_fails(self):
        self.m.write("jobs/ni.txt", "an expired cat [sim:nonimage]\n")
        rc, text, seen = self.watch_out("ni")
        self.assertFailed("ni", rc, text, "download_failed")
        self.assertEqual(seen, set())
        self.assertGreaterEqual(self.sim.stats()["downloads"], 1)

    # -- the price line ------------------------------------------------------
    def test_credits_line_per_resolution(self):
        self.m.write("jobs/r2.opts", "resolution = 2k\n")
        self.m.write("jobs/r4.opts", "resolution = 4k\naspect_ratio = 16:9\n")
        for name in ("r1", "r2", "r4"):
            self.m.write("jobs/%s.txt" % name, "a priced cat\n")
        for name, res, ar, price in (("r1", "1k", "auto", "4.7"),
                                     ("r2", "2k", "auto", "9.4"),
                                     ("r4", "4k", "16:9", "14.1")):
            with self.subTest(resolution=res):
                first, fields = status_fields(
                    self.m.status_after_write(name))
                self.assertEqual(fields["credits"], price)
                rc, text = self.m.wait(name)
                fields = self.assertCompleted(name, rc, text)
                self.assertEqual(fields["credits"], price)
                self.assertEqual(fields["resolution"], res)
                self.assertEqual(fields["aspect_ratio"], ar)
        self.assertAlmostEqual(self.sim.stats()["balance"], 9971.8, places=6)


if __name__ == "__main__":
    main()
