"""kill -9 with thousands of tasks in flight (issue 9; gptimgfs(1),
FILES): a batch of prompt files all created at the API and waiting there
(long pending tasks, no concurrency cap in the way), the daemon killed,
then started again on the same data directory against the same simulator.

Every job must end `completed` with its image, each prompt created exactly
once at the API (the simulator's own records), and no creation request sent
again after the restart: the records the daemon wrote before the kill are
all it needs to find and poll every task.

2000 jobs; 400 under a sanitizer (ctest's sanitized builds set
ASAN_OPTIONS / TSAN_OPTIONS with a log_path), where every request costs
tens of times more. GPTIMGFS_KILL9_JOBS overrides either.
"""
import os

from harness import MountedTest, main, status_fields, wait_for


def sanitized():
    return any("log_path=" in os.environ.get(v, "")
               for v in ("ASAN_OPTIONS", "TSAN_OPTIONS"))


JOBS = int(os.environ.get("GPTIMGFS_KILL9_JOBS",
                          "400" if sanitized() else "2000"))
# long enough that no task can end before every prompt file is written and
# every task created (the test waits for that, it does not sleep); the
# tasks end this long after their creation, so it is also the test's floor
PENDING = 60.0 if sanitized() else 40.0
# generous: a loaded machine, a sanitized build, thousands of downloads
SETTLE_TIMEOUT = 600.0
IN_FLIGHT = ("pending", "processing")


class KillNineBatchTest(MountedTest):
    sim_pending = PENDING
    # polls are cheap here but thousands of them at the harness's 0.05 s
    # would be the test's whole load: 1 s is still far below PENDING
    mount_options = ("poll_interval=1",)

    def names(self):
        return ["k%04d" % i for i in range(JOBS)]

    def prompt(self, name):
        return "kill -9 batch: job %s, a field of sunflowers" % name

    def words(self, names):
        """{first line of status/NAME: count}"""
        counts = {}
        for n in names:
            with open(self.m.p("status", n), "rb") as f:
                w = f.readline().decode().strip()
            counts[w] = counts.get(w, 0) + 1
        return counts

    def all_created(self, names):
        """Every task at the API and recorded: the simulator created
        JOBS tasks and every status (written after its record) says
        pending or processing. The counts, or None."""
        if self.sim.stats()["creates"] < JOBS:
            return None
        counts = self.words(names)
        return counts if set(counts) <= set(IN_FLIGHT) else None

    def test_kill9_with_thousands_in_flight(self):
        names = self.names()
        for n in names:
            self.m.write("jobs/%s.txt" % n, self.prompt(n) + "\n")
        counts = wait_for(lambda: self.all_created(names),
                          timeout=SETTLE_TIMEOUT,
                          what="every task created and recorded")
        in_flight = sum(counts.values())
        self.assertEqual(in_flight, JOBS, counts)
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]),
                         (JOBS, JOBS))
        self.assertEqual(st["unfinished"], JOBS, "tasks ended before the "
                         "kill: PENDING too short for this machine")
        ids = {n: status_fields(self.m.status(n))[1]["task_id"]
               for n in names}
        self.assertEqual(len(set(ids.values())), JOBS)

        self.m.kill9()
        self.assertFalse(os.path.ismount(self.m.path))
        self.m.start()
        # each job knows its task again, by the id recorded before the kill
        self.assertEqual({n: status_fields(self.m.status(n))[1]["task_id"]
                          for n in names}, ids)

        results = self.m.wait_many(names, timeout=SETTLE_TIMEOUT)
        bad = {n: r for n, r in results.items()
               if not r[0] or not r[1].startswith("completed\n")}
        self.assertEqual(len(results), JOBS)
        self.assertEqual(bad, {}, "%d jobs did not complete" % len(bad))
        out = set(os.listdir(self.m.p("out")))
        self.assertEqual(out, {n + ".png" for n in names})
        # each prompt created exactly once, nothing else, nothing resent
        prompts = self.sim.prompts()
        self.assertEqual(prompts, {self.prompt(n): 1 for n in names})
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]),
                         (JOBS, JOBS))
        print("\n  kill -9 with %d tasks in flight: %d completed, %d "
              "creations (%d requests), %d polls" % (
                  in_flight, JOBS, st["creates"], st["create_requests"],
                  st["polls"]))


if __name__ == "__main__":
    main()
