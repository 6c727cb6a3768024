"""Polls when they pay (gptimgfs(1), POLLING): the duration of finished
tasks is learned from the API's answers, and later tasks are polled first
near their expected end instead of every poll_interval (0.05 s here)."""
import time

from harness import MountedTest, main

PROCESSING = 3.0  # seconds; fixed polling every 0.05 s: ~60 polls a task
BATCH = 4


class PaceTest(MountedTest):
    sim_processing = PROCESSING

    def test_learned_durations_spare_polls(self):
        # nothing learned yet: polls every poll_interval at first, then
        # at intervals growing with the task's age (about a dozen)
        rc, text = self.m.submit("first", "a slow cat", timeout=30)
        self.assertEqual(rc, 0, text)
        first = self.sim.stats()["polls"]
        self.assertLessEqual(first, 25)
        # learned: one poll a task, or two when a machine is slow; none
        # of them seen much later than it ends
        start = time.monotonic()
        for i in range(BATCH):
            self.m.write("jobs/b%d.txt" % i, "a slow cat %d\n" % i)
        for i in range(BATCH):
            rc, text = self.m.wait("b%d" % i, timeout=30)
            self.assertEqual(rc, 0, text)
        took = time.monotonic() - start
        polls = self.sim.stats()["polls"] - first
        print("first task: %d polls; then %.2f polls a task, %.1f s for "
              "%d tasks of %.0f s" % (first, polls / BATCH, took, BATCH,
                                       PROCESSING))
        self.assertLessEqual(polls, 2 * BATCH)
        self.assertLess(took, PROCESSING + 10)


class ScoutTest(MountedTest):
    """Nothing learned yet: of a batch written at once, one task (the
    scout) is polled as the prior says; the others wait for it (their first
    poll is 30 s away) and are polled near their end once the scout's end
    teaches the duration."""
    sim_processing = PROCESSING

    def test_batch_waits_for_its_scout(self):
        n = 12
        start = time.monotonic()
        for i in range(n):
            self.m.write("jobs/s%d.txt" % i, "a slow dog %d\n" % i)
        for i in range(n):
            rc, text = self.m.wait("s%d" % i, timeout=30)
            self.assertEqual(rc, 0, text)
        took = time.monotonic() - start
        polls = self.sim.stats()["polls"]
        print("%d tasks unknown: %d polls, %.1f s" % (n, polls, took))
        # each polled as the prior says: about a dozen polls a task
        # (~100); the scout's dozen and one or two for each other
        self.assertLessEqual(polls, 25 + 2 * (n - 1))
        # none waited for its 30 s fallback poll
        self.assertLess(took, PROCESSING + 10)


if __name__ == "__main__":
    main()
