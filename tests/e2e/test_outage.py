"""Outages and odd answers (gptimgfs(1), RETRIES).

The API is unreachable for 75 s: the mount comes up against a loopback port
where nothing listens, jobs are written during the outage (some at its
start, some later), and one is removed again. They stay queued, saying the
API cannot be reached and that nothing was sent, for more tries than a
creation has attempts; then the simulator starts on that port and every
job completes, created exactly once; the removed one is never sent.

Redirects are never followed: polls answered 302 for a while still
complete, a balance read answered 302 is retried, and a creation answered
302 fails at once without a second creation (nothing was created).
"""
import os
import re
import shutil
import tempfile
import time
import unittest

from harness import (Mount, MountedTest, Sim, free_port, main, status_fields,
                     wait_for)

OUTAGE = 75.0
# after the outage, each job's next try comes within a minute (the cap)
RECOVERY = 90
EARLY = ["early%d" % i for i in range(4)]
LATE = ["late%d" % i for i in range(2)]
TRY = re.compile(r"^cannot reach the API \(try (\d+): .*\); nothing was "
                 r"sent; trying again in \d+ s$")


class OutageTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gptimgfs-e2e-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.port = free_port()
        self.m = Mount(self.workdir, "http://127.0.0.1:%d" % self.port,
                       ("max_inflight=16",))
        self.addCleanup(self.dump_log_on_failure)
        self.addCleanup(self.m.cleanup)

    def dump_log_on_failure(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is not None and any(
                t is self for t, _ in result.failures + result.errors):
            print("---- daemon log ----\n" + self.m.read_log())

    def tries(self, name):
        """The number of tries the note of a queued job reports."""
        first, fields = status_fields(self.m.status(name))
        self.assertEqual(first, "queued", self.m.status(name))
        match = TRY.match(fields.get("note", ""))
        return int(match.group(1)) if match else 0

    def test_jobs_written_during_an_outage_complete_afterwards(self):
        t0 = time.monotonic()
        self.m.start()
        for name in EARLY + ["gone"]:
            self.m.write("jobs/%s.txt" % name, "outage: %s\n" % name)
        for name in EARLY + ["gone"]:
            wait_for(lambda: self.tries(name) >= 1, timeout=15,
                     what="%s to wait for the API" % name)
        os.unlink(self.m.p("jobs", "gone.txt"))
        self.assertFalse(os.path.exists(self.m.p("status", "gone")))
        # five tries reach the sixth in at most 2+4+8+16+32 s: more tries
        # than a creation has attempts, and the job still waits
        for name in EARLY:
            wait_for(lambda: self.tries(name) >= 6, timeout=OUTAGE,
                     what="%s to try a sixth time" % name)
        for name in LATE:
            self.m.write("jobs/%s.txt" % name, "outage: %s\n" % name)
            wait_for(lambda: self.tries(name) >= 1, timeout=15,
                     what="%s to wait for the API" % name)
        # the rest of the outage: nothing to wait for but the time
        time.sleep(max(0.0, t0 + OUTAGE - time.monotonic()))
        for name in EARLY + LATE:
            self.assertGreaterEqual(self.tries(name), 1)

        sim = Sim(self.workdir, port=self.port)
        self.addCleanup(sim.close)
        for name in EARLY + LATE:
            rc, text = self.m.wait(name, timeout=RECOVERY)
            self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                             text)
            self.assertTrue(os.path.exists(self.m.p("out", name + ".png")))
        st = sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]),
                         (len(EARLY + LATE),) * 2)
        self.assertEqual(sim.prompts(),
                         {"outage: %s" % n: 1 for n in EARLY + LATE})


class RedirectTest(MountedTest):
    def test_polls_answered_302_for_a_while_complete(self):
        # four redirects back off 1+2+4+8 s at most
        self.sim.fault(endpoint="task", action="redirect", count=4)
        rc, text = self.m.submit("moved", "a house that moved", timeout=40)
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))
        self.assertGreaterEqual(st["polls"], 5)

    def test_balance_read_answered_302_is_retried(self):
        before = self.sim.stats()["credits_reads"]
        self.sim.fault(endpoint="credits", action="redirect", status=307,
                       count=1)

        def redirected_then_read():
            # the balance the key check got is kept 5 s: reads come after
            first = self.m.read("credits").splitlines()[0]
            self.assertNotIn("error", first)
            return self.sim.stats()["credits_reads"] >= before + 2
        wait_for(redirected_then_read, timeout=20,
                 what="a balance read answered 307, then read again")

    def test_creation_answered_302_fails_without_a_second_creation(self):
        self.sim.fault(endpoint="create", action="redirect",
                       location="https://portal.example/login", count=1)
        rc, text = self.m.submit("portal", "a captive portal")
        first, fields = status_fields(text)
        self.assertEqual((rc, first), (1, "failed"), text)
        self.assertEqual(fields["error"],
                         "redirected: the API answered 302, a redirect to "
                         "portal.example (not followed); nothing was "
                         "created")
        self.assertTrue(fields["credits"].startswith("0 (nothing was "
                                                     "charged)"), text)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 0))


if __name__ == "__main__":
    main()
