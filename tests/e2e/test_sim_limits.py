"""The simulator's own limits, spoken to over loopback without a mount
(gptimgfs(1), SIMULATION; gptimgfs-sim --help): --max-rate and --max-tasks
answer 429 rate_limit_exceeded with Retry-After, tasks carry their times,
--duration-spread and --callback-drop draw from --seed, and /_sim/stats
counts it all."""
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import harness
from harness import Sim, main, wait_for


def create_body(prompt, callback_url=None):
    body = {"model": "gpt-image-2", "input": {"prompt": prompt}}
    if callback_url:
        body["callback_url"] = callback_url
    return body


class Answer:
    def __init__(self, status, headers, text):
        self.status = status
        self.headers = headers
        self.json = json.loads(text) if text.strip() else None


def call(sim, method, path, body=None, key=harness.KEY):
    """One request; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(sim.url + path, data=data, method=method)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return Answer(r.status, r.headers, r.read().decode())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.headers, e.read().decode())


class SimTest(unittest.TestCase):
    def start(self, *extra, pending=0.0, processing=0.0):
        workdir = tempfile.mkdtemp(prefix="gptimgfs-sim-limits-")
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        sim = Sim(workdir, pending, processing, extra)
        self.addCleanup(sim.close)
        return sim

    def assertThrottled(self, a, message=None):
        self.assertEqual(a.status, 429)
        err = a.json["error"]
        self.assertEqual(err["code"], "rate_limit_exceeded")
        self.assertEqual(err["type"], "rate_limit_error")
        if message:
            self.assertIn(message, err["message"])
        retry = a.headers.get("Retry-After")
        self.assertIsNotNone(retry)
        self.assertRegex(retry, r"^[0-9]+$")
        self.assertGreaterEqual(int(retry), 1)
        return int(retry)


class TestMaxRate(SimTest):
    def test_burst_then_429(self):
        # a token every 5 s, burst 1: a run of 12 gets one through
        sim = self.start("--max-rate", "0.2")
        answers = [call(sim, "GET", "/v1/credits") for _ in range(12)]
        ok = [a for a in answers if a.status == 200]
        throttled = [a for a in answers if a.status != 200]
        self.assertEqual(len(ok), 1)
        for a in throttled:
            self.assertLessEqual(self.assertThrottled(
                a, "Too many requests"), 5)
        # polls and creations take from the same bucket
        poll = call(sim, "GET", "/v1/tasks/nope")
        create = call(sim, "POST", "/v1/images/generations",
                      create_body("a cat"))
        self.assertThrottled(poll)
        self.assertThrottled(create)
        # neither the files nor /_sim/ are limited
        self.assertEqual(call(sim, "GET", "/files/nope.png").status, 404)
        st = sim.stats()
        self.assertEqual(st["answers_429"], len(throttled) + 2)
        self.assertEqual(st["creates_429"], 1)
        self.assertEqual(st["create_requests"], 1)
        self.assertEqual(st["creates"], 0)
        self.assertEqual(st["polls"], 1)
        self.assertEqual(st["credits_reads"], 12)

    def test_rate_holds_over_time(self):
        rate, burst = 10, 1
        sim = self.start("--max-rate", str(rate))
        time.sleep(0.2)  # the bucket is full
        accepted = []
        start = time.monotonic()
        while time.monotonic() - start < 2.5:
            a = call(sim, "GET", "/v1/credits")
            if a.status == 200:
                accepted.append(time.monotonic())
            else:
                self.assertThrottled(a)
        elapsed = time.monotonic() - start
        self.assertLessEqual(len(accepted), burst + rate * elapsed + 1)
        # a loaded machine may ask less often than the rate allows
        self.assertGreaterEqual(len(accepted), rate * elapsed * 0.6)
        # at most rate + burst in any one second (client clocks: +1)
        for i, t in enumerate(accepted):
            in_window = [u for u in accepted[i:] if u < t + 1.0]
            self.assertLessEqual(len(in_window), rate + burst + 1)

    def test_config_and_reset(self):
        sim = self.start()
        for _ in range(20):
            self.assertEqual(call(sim, "GET", "/v1/credits").status, 200)
        sim.configure(max_rate=0.2)
        self.assertEqual(call(sim, "GET", "/v1/credits").status, 200)
        self.assertThrottled(call(sim, "GET", "/v1/credits"))
        sim._call("POST", "/_sim/reset")
        self.assertEqual(sim.stats()["answers_429"], 0)
        for _ in range(20):
            self.assertEqual(call(sim, "GET", "/v1/credits").status, 200)
        with self.assertRaises(urllib.error.HTTPError):
            sim.configure(max_tasks=1.5)
        with self.assertRaises(urllib.error.HTTPError):
            sim.configure(max_rate=-1)


class TestMaxTasks(SimTest):
    def test_unfinished_limit(self):
        sim = self.start("--max-tasks", "3", processing=3)
        ids = []
        for n in range(3):
            a = call(sim, "POST", "/v1/images/generations",
                     create_body("task %d" % n))
            self.assertEqual(a.status, 200)
            ids.append(a.json["data"]["taskId"])
        refused = call(sim, "POST", "/v1/images/generations",
                       create_body("one too many"))
        self.assertLessEqual(
            self.assertThrottled(refused, "3 tasks are unfinished"), 3)
        # polls are no creations: still answered
        self.assertEqual(call(sim, "GET", "/v1/tasks/" + ids[0]).status,
                         200)
        st = sim.stats()
        self.assertEqual(st["creates"], 3)
        self.assertEqual(st["creates_429"], 1)
        self.assertEqual(st["unfinished"], 3)
        self.assertEqual(st["peak_unfinished"], 3)
        wait_for(lambda: call(sim, "POST", "/v1/images/generations",
                              create_body("after")).status == 200,
                 timeout=10, what="a free slot")
        st = sim.stats()
        self.assertEqual(st["creates"], 4)
        self.assertEqual(st["peak_unfinished"], 3)
        sim.configure(max_tasks=0)
        for n in range(4):
            self.assertEqual(call(sim, "POST", "/v1/images/generations",
                                  create_body("free %d" % n)).status, 200)
        self.assertGreaterEqual(sim.stats()["peak_unfinished"], 4)


def cost_times(sim, n):
    ids = [call(sim, "POST", "/v1/images/generations",
                create_body("spread %d" % i)).json["data"]["taskId"]
           for i in range(n)]
    tasks = {}

    def all_done():
        for i in ids:
            if i not in tasks:
                t = call(sim, "GET", "/v1/tasks/" + i).json
                if t["status"] == "completed":
                    tasks[i] = t
        return len(tasks) == n
    wait_for(all_done, timeout=15, what="tasks completed")
    return [tasks[i] for i in ids]


class TestDurations(SimTest):
    def test_times_and_seeded_spread(self):
        args = ("--duration-spread", "0.75", "--seed", "7")
        first = cost_times(self.start(*args, processing=2), 8)
        for t in first:
            cost = t["output"]["metadata"]["costTime"]
            self.assertIsInstance(t["created_at"], int)
            self.assertIsInstance(t["completed_at"], int)
            self.assertEqual(t["completed_at"] - t["created_at"], cost)
            self.assertGreaterEqual(cost, 0)
            self.assertLessEqual(cost, 4)
        costs = [t["output"]["metadata"]["costTime"] for t in first]
        self.assertGreater(len(set(costs)), 1, costs)
        again = cost_times(self.start(*args, processing=2), 8)
        self.assertEqual(
            [t["output"]["metadata"]["costTime"] for t in again], costs)


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((time.monotonic(), self.headers["X-Task-Id"],
                                json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class TestCallbacks(SimTest):
    def receiver(self):
        server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
        server.got = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server, "http://127.0.0.1:%d/hook" % server.server_port

    def test_delivered_at_the_end(self):
        server, url = self.receiver()
        sim = self.start(processing=1.0)
        created = time.monotonic()
        a = call(sim, "POST", "/v1/images/generations",
                 create_body("call me", url))
        task_id = a.json["data"]["taskId"]
        wait_for(lambda: server.got, timeout=10, what="the callback")
        when, got_id, body = server.got[0]
        self.assertEqual(got_id, task_id)
        self.assertEqual(body["status"], "completed")
        self.assertGreaterEqual(when - created, 0.9)
        self.assertLess(when - created, 5.0)
        wait_for(lambda: sim.stats()["callbacks_delivered"] == 1,
                 what="the count")
        # a receiver that is not there: failed, counted
        dead = "http://127.0.0.1:%d/hook" % harness.free_port()
        call(sim, "POST", "/v1/images/generations", create_body("lost", dead))
        wait_for(lambda: sim.stats()["callbacks_failed"] == 1, timeout=10,
                 what="the failed callback")

    def test_seeded_drops(self):
        server, url = self.receiver()
        sim = self.start("--callback-drop", "0.5", "--seed", "3")
        for n in range(16):
            call(sim, "POST", "/v1/images/generations",
                 create_body("drop %d" % n, url))

        def settled():
            st = sim.stats()
            return st["callbacks_delivered"] + st["callbacks_dropped"] == 16
        wait_for(settled, timeout=15, what="callbacks sent or dropped")
        st = sim.stats()
        self.assertGreater(st["callbacks_dropped"], 0)
        self.assertGreater(st["callbacks_delivered"], 0)
        self.assertEqual(st["callbacks_failed"], 0)
        wait_for(lambda: len(server.got) == st["callbacks_delivered"],
                 what="every delivered callback received")


class TestOptions(SimTest):
    def test_bad_values(self):
        for opt, value in (("--max-rate", "-1"), ("--max-tasks", "1.5"),
                           ("--max-tasks", "100001"),
                           ("--duration-spread", "1.5"),
                           ("--callback-drop", "2"), ("--seed", "x")):
            p = subprocess.run([harness.SIM_BIN, opt, value],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, (opt, value))
            self.assertIn("bad " + opt, p.stderr)
        # each says the range it takes
        for opt, value, want in (
                ("--max-rate", "-1", "(a number from 0 to 1000000)"),
                ("--max-tasks", "1.5", "(a whole number from 0 to 100000)"),
                ("--port", "70000", "(a whole number from 0 to 65535)"),
                ("--pending", "x", "(seconds, 0 to 1000000)"),
                ("--processing", "-2", "(seconds, 0 to 1000000)"),
                ("--balance", "-1", "(credits, 0 to 1000000000000)"),
                ("--image-scale", "0", "(a number from 0.000001 to 1)"),
                ("--duration-spread", "1.5", "(a number from 0 to 1)"),
                ("--callback-drop", "2", "(a number from 0 to 1)"),
                ("--seed", "x", "(a whole number from 0 to 2^53)")):
            p = subprocess.run([harness.SIM_BIN, opt, value],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, (opt, value))
            self.assertEqual(p.stderr, "gptimgfs-sim: bad %s: '%s' %s\n"
                             % (opt, value, want))


if __name__ == "__main__":
    main()
