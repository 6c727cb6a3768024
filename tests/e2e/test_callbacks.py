"""Callbacks (gptimgfs(1), CALLBACKS): with callback_listen and
callback_url, creations ask the API to post when a task ends, and the
receiver turns a post into one poll of that task. Delivered callbacks cost
about one poll a task; lost ones are made up for by the slow fallback
poll; a forged one fetches nothing but what the API says; the receiver
refuses what is not a callback; a receiver that cannot listen stops the
start."""
import hashlib
import http.client
import http.server
import json
import os
import socket
import threading
import urllib.request

from harness import (Mount, MountedTest, free_port, main,
                     png_without_embedded, status_fields, wait_for)

# the fallback poll of a task of unknown duration comes after 30 s
FALLBACK_TIMEOUT = 90


class CallbackTest(MountedTest):
    sim_pending = 0.2
    sim_processing = 0.5
    extra_options = ()

    def setUp(self):
        self.cb_port = free_port()
        self.cb_base = "http://127.0.0.1:%d" % self.cb_port
        self.mount_options = (
            "callback_listen=127.0.0.1:%d" % self.cb_port,
            "callback_url=" + self.cb_base) + self.extra_options
        super().setUp()

    def callback_url(self):
        """The callback_url of the last creation, as the API got it."""
        reqs = self.sim.requests()
        self.assertTrue(reqs, "no creation request")
        return reqs[-1]["body"]["callback_url"]

    def token(self):
        url = self.callback_url()
        self.assertTrue(url.startswith(self.cb_base + "/cb/"), url)
        return url.rsplit("/", 1)[1]

    def post(self, path, body=b"", method="POST", headers=None):
        """One request to the receiver: its status."""
        conn = http.client.HTTPConnection("127.0.0.1", self.cb_port,
                                          timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            r.read()
            return r.status
        except (ConnectionError, http.client.HTTPException):
            return None  # cut without an answer
        finally:
            conn.close()

    def chunked(self, path, size):
        """A POST of size bytes, chunked: its status, None when cut."""
        def pieces():
            for _ in range(size // 4096):
                yield b"x" * 4096
        conn = http.client.HTTPConnection("127.0.0.1", self.cb_port,
                                          timeout=10)
        try:
            conn.request("POST", path, body=pieces(), encode_chunked=True)
            r = conn.getresponse()
            r.read()
            return r.status
        except (ConnectionError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def task_id(self, name):
        def known():
            _, fields = status_fields(self.m.status(name))
            return fields.get("task_id")
        return wait_for(known, what="the task id of " + name)


class TestDelivered(CallbackTest):
    JOBS = 20

    def test_one_poll_per_task(self):
        for i in range(self.JOBS):
            self.m.write("jobs/c%02d.txt" % i, "a called-back cat %d\n" % i)
        for i in range(self.JOBS):
            self.done("c%02d" % i)
        st = self.sim.stats()
        print("\n%d jobs: %d polls, %d callbacks delivered" % (
            self.JOBS, st["polls"], st["callbacks_delivered"]))
        self.assertEqual(st["creates"], self.JOBS)
        self.assertEqual(st["callbacks_delivered"], self.JOBS)
        # each task polled when its callback came, and (with the fallback
        # 30 s out) not otherwise
        self.assertGreaterEqual(st["polls"], self.JOBS)
        self.assertLessEqual(st["polls"], self.JOBS * 1.1)
        # every creation asked for the callback, at the same secret path
        bodies = [r["body"] for r in self.sim.requests()]
        urls = {b["callback_url"] for b in bodies}
        self.assertEqual(len(urls), 1, urls)
        token = self.token()
        self.assertRegex(token, "^[0-9a-f]{32}$")
        # the log shows where callbacks go, never the secret
        log = self.m.read_log()
        self.assertIn(self.cb_base + "/cb/...", log)
        self.assertNotIn(token, log)


class TestLost(CallbackTest):
    def test_fallback_poll(self):
        self.sim.configure(callback_drop=1)
        self.m.write("jobs/l0.txt", "a lost cat\n")
        self.m.write("jobs/l1.txt", "another lost cat\n")
        for name in ("l0", "l1"):
            rc, text = self.m.wait(name, timeout=FALLBACK_TIMEOUT)
            self.assertEqual((rc, text.splitlines()[0]), (0, "completed"),
                             text)
        st = self.sim.stats()
        self.assertEqual(st["callbacks_dropped"], 2)
        self.assertEqual(st["callbacks_delivered"], 0)
        # one fallback poll each found it done
        self.assertGreaterEqual(st["polls"], 2)
        self.assertLessEqual(st["polls"], 4)


class TestRestart(CallbackTest):
    """Tasks the API has when the daemon stops are resumed at the next
    start with callbacks on, as without: polled by their ids, completed,
    nothing created twice."""
    sim_processing = 4.0
    JOBS = 4

    def in_flight(self, names):
        if self.sim.stats()["creates"] < len(names):
            return False
        words = {status_fields(self.m.status(n))[0] for n in names}
        return words <= {"pending", "processing"}

    def restart_after(self, stop):
        names = ["r%d" % i for i in range(self.JOBS)]
        for n in names:
            self.m.write("jobs/%s.txt" % n, "a resumed cat %s\n" % n)
        wait_for(lambda: self.in_flight(names),
                 what="every task at the API and recorded")
        stop()
        self.m.start()
        for n in names:
            self.done(n)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]),
                         (self.JOBS, self.JOBS))

    def test_after_kill9(self):
        self.restart_after(self.m.kill9)

    def test_after_unmount(self):
        self.restart_after(self.m.unmount)


class HitCounter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(b"\x89PNG\r\n\x1a\nforged")

    def log_message(self, *args):
        pass


class TestForged(CallbackTest):
    sim_processing = 3.0

    def test_forged_completed_fetches_nothing(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 HitCounter)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        evil = "http://127.0.0.1:%d/evil.png" % server.server_address[1]

        self.m.write("jobs/f.txt", "a cat the API draws\n")
        tid = self.task_id("f")
        forged = json.dumps({
            "id": tid, "status": "completed", "model": "gpt-image-2",
            "created_at": 1, "completed_at": 2,
            "output": {"urls": [evil]}}).encode()
        headers = {"Content-Type": "application/json",
                   "X-Event": "task.completed", "X-Task-Id": tid}
        # without the secret: refused
        self.assertEqual(self.post("/cb/" + "0" * 32, forged,
                                   headers=headers), 404)
        # with it (as someone who read the API's records would have it):
        # taken as a hint only
        self.assertEqual(self.post("/cb/" + self.token(), forged,
                                   headers=headers), 204)
        self.done("f")
        self.assertEqual(HitCounter.hits, 0)
        with open(self.m.p("out", "f.png"), "rb") as f:
            got = f.read()
        sim_png = urllib.request.urlopen(
            "%s/files/%s-1.png" % (self.sim.url, tid), timeout=10).read()
        # the API's image, with the metadata the daemon embeds
        self.assertEqual(hashlib.sha256(png_without_embedded(got)).hexdigest(),
                         hashlib.sha256(sim_png).hexdigest())
        # the forged hint cost one early poll, the real callback another
        self.assertLessEqual(self.sim.stats()["polls"], 3)


class TestRefused(CallbackTest):
    def test_answers(self):
        self.m.write("jobs/r.txt", "a cat to learn the token\n")
        self.done("r")
        path = "/cb/" + self.token()
        body = json.dumps({"id": "no-such-task"}).encode()
        self.assertEqual(self.post("/cb/" + "f" * 32, body), 404)
        self.assertEqual(self.post("/elsewhere", body), 404)
        self.assertEqual(self.post(path[:-1], body), 404)
        self.assertEqual(self.post(path, method="GET"), 405)
        self.assertEqual(self.post(path, method="PUT", body=body), 405)
        self.assertEqual(self.post(path, b"x" * (65 * 1024)), 413)
        self.assertEqual(self.post(path, b"{not json"), 400)
        self.assertEqual(self.post(path, b'{"status":"completed"}'), 400)
        self.assertEqual(self.post(path, b'{"id":"../../etc"}'), 400)
        # an unknown task: taken, and dropped by the network thread
        self.assertEqual(self.post(path, body), 204)
        # a reverse proxy may keep a prefix of its own
        self.assertEqual(self.post("/gptimgfs" + path, body), 204)

    def test_chunked_too_big_is_cut(self):
        self.m.write("jobs/r.txt", "a cat to learn the token\n")
        self.done("r")
        path = "/cb/" + self.token()
        # past 64 KiB: 413 when it ends by 320 KiB, cut past that
        self.assertEqual(self.chunked(path, 100 * 1024), 413)
        self.assertEqual(self.chunked(path, 300 * 1024), 413)
        self.assertIsNone(self.chunked(path, 400 * 1024))
        self.assertIsNone(self.chunked(path, 1024 * 1024))
        # libmicrohttpd's own words stay out of the log (debug only)
        self.assertEqual(self.post(path, b'{"id":"x"}'), 204)
        self.assertNotIn("Application reported", self.m.read_log())

    def test_flood(self):
        self.m.write("jobs/r.txt", "a cat to learn the token\n")
        self.done("r")
        path = "/cb/" + self.token()
        body = json.dumps({"id": "no-such-task"}).encode()
        answers = [self.post(path, body) for _ in range(400)]
        self.assertIn(429, answers)
        self.assertEqual(set(answers), {204, 429}, answers)
        # the burst passed before the limit bit
        self.assertEqual(answers[:150], [204] * 150)
        # and the daemon is still serving
        self.assertEqual(self.m.submit("after", "a cat after the flood")[0],
                         0)


class TestReceiverLog(CallbackTest):
    """With debug, libmicrohttpd's messages are in the daemon's log,
    prefixed; without it they are nowhere (TestRefused)."""
    extra_options = ("debug",)

    def test_chunked_too_big_is_cut(self):
        self.m.write("jobs/r.txt", "a cat to learn the token\n")
        self.done("r")
        self.assertIsNone(self.chunked("/cb/" + self.token(), 1024 * 1024))
        want = ("gptimgfs: callback receiver: Application reported "
                "internal error, closing connection.")
        wait_for(lambda: want in self.m.read_log(), what=want)
        for line in self.m.read_log().splitlines():
            if "Application reported" in line:
                self.assertEqual(line, want)


class TestStart(MountedTest):
    """A receiver that cannot listen, or half the options: no mount."""

    def start_failing(self, options, name, env=None):
        m = Mount(self.workdir, self.sim.url, options, env=env, name=name)
        m.data_dir = os.path.join(self.workdir, name + "-data")
        self.addCleanup(m.cleanup)
        m.start(wait=False)
        rc = m.proc.wait(timeout=30)
        log = m.read_log().strip()
        self.assertEqual(rc, 1, log)
        self.assertFalse(os.path.ismount(m.path))
        self.assertEqual(len(log.splitlines()), 1, log)
        return log

    def test_port_in_use(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            log = self.start_failing(
                ("callback_listen=127.0.0.1:%d" % port,
                 "callback_url=http://127.0.0.1:%d" % port), "busy")
        self.assertIn("callback_listen=127.0.0.1:%d" % port, log)
        self.assertIn("Address already in use", log)

    def test_port_in_use_names_the_variable(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            log = self.start_failing(
                ("callback_url=http://127.0.0.1:%d" % port,), "busyenv",
                env={"GPTIMGFS_CALLBACK_LISTEN": "127.0.0.1:%d" % port})
        self.assertIn("gptimgfs: GPTIMGFS_CALLBACK_LISTEN: "
                      "callback_listen=127.0.0.1:%d: cannot listen: "
                      "Address already in use" % port, log)

    def test_address_not_ours(self):
        log = self.start_failing(
            ("callback_listen=192.0.2.1:%d" % free_port(),
             "callback_url=http://192.0.2.1:80"), "notours")
        self.assertIn("callback_listen=192.0.2.1", log)
        self.assertIn("Cannot assign requested address", log)

    def test_one_without_the_other(self):
        log = self.start_failing(("callback_url=http://127.0.0.1:9",),
                                 "half")
        self.assertIn("callback_url is given without callback_listen", log)
        log = self.start_failing(
            ("callback_listen=127.0.0.1:%d" % free_port(),), "half2")
        self.assertIn("callback_listen is given without callback_url", log)
        log = self.start_failing((), "half3", env={
            "GPTIMGFS_CALLBACK_URL": "http://127.0.0.1:9"})
        self.assertIn("gptimgfs: GPTIMGFS_CALLBACK_URL: callback_url is "
                      "given without callback_listen", log)

    def test_nothing_listens_without(self):
        # the mount of setUp has no callbacks: its creations ask for none
        self.assertEqual(self.m.submit("plain", "a polled cat")[0], 0)
        self.assertNotIn("callback_url", self.sim.requests()[-1]["body"])


if __name__ == "__main__":
    main()
