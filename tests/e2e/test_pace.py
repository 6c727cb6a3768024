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


if __name__ == "__main__":
    main()
