"""kill -9 at any moment: the daemon is killed with dozens of
jobs in flight — queued, just after their creation request was sent,
pending, processing, mid-download, and at a run of milestones while jobs
flow — then started again on the same data directory against the same
simulator (a separate process that keeps its tasks); see gptimgfs(1), FILES.

After each restart: every job ends `completed` with a whole image, its task
created exactly once; or, only for a creation whose request reached the API
and whose answer was lost, `failed` with `error: interrupted: …` saying it
may have been charged, created at most once and never sent again. Prompt
files are byte-identical, completed jobs' status and images unchanged, and
no partial or temporary file is ever listed in out/.
"""
import json
import os
import stat
import threading
import urllib.request

from harness import (KEY, MountedTest, main, png_size, settle, spent,
                     status_fields, user_prompts, wait_for)

JOBS = 30
WAIT_TIMEOUT = 90
# sidecar variants: (.opts text, expected IHDR size at --image-scale 0.0625)
VARIANTS = ((None, (64, 64)),
            ("aspect_ratio = 16:9\n", (64, 36)),
            ("resolution = 2k\n", (128, 128)))
IN_FLIGHT = ("queued", "pending", "processing", "downloading")

FIGURES = {"jobs": 0, "kills": 0, "creations": 0, "create_requests": 0,
           "images": 0, "listings": 0, "watched": 0, "interrupted": 0}


class OutWatcher:
    """Lists out/ over and over while a daemon runs, and reads every file
    it lists: each must be a whole PNG. Stopped before each kill."""

    def __init__(self, m):
        self.m = m
        self.errors = []
        self.listings = 0
        self.files = 0
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        out = self.m.p("out")
        while not self.stop_ev.is_set():
            try:
                for name in os.listdir(out):
                    with open(os.path.join(out, name), "rb") as f:
                        data = f.read()
                    try:
                        png_size(data)
                    except AssertionError as e:
                        self.errors.append("out/%s: %s" % (name, e))
                    if not name.endswith(".png") or name.startswith("."):
                        self.errors.append("out/%s listed" % name)
                    self.files += 1
                self.listings += 1
            except OSError as e:
                self.errors.append("listing out/: %r" % e)
                return
            self.stop_ev.wait(0.01)

    def stop(self):
        self.stop_ev.set()
        self.thread.join(timeout=30)
        FIGURES["listings"] += self.listings
        FIGURES["watched"] += self.files
        return self.errors


class CrashBase(MountedTest):
    mount_options = ("max_inflight=32",)

    def setUp(self):
        super().setUp()
        self.kills = 0
        self.watcher = None
        self.addCleanup(self.stop_watching)

    # -- jobs -------------------------------------------------------------
    def make_jobs(self, n=JOBS, prefix="j", first=0):
        """n jobs, a third with a 16:9 sidecar, a third at 2k. Returns
        {name: (prompt, (w, h))}."""
        jobs = {}
        for i in range(first, first + n):
            name = "%s%02d" % (prefix, i)
            opts, size = VARIANTS[i % len(VARIANTS)]
            prompt = "%s: job %s of a crash test, a lighthouse in a storm" % (
                self.id().rsplit(".", 1)[-1], name)
            if opts:
                self.m.write("jobs/%s.opts" % name, opts)
            self.m.write("jobs/%s.txt" % name, prompt + "\n")
            jobs[name] = (prompt, size)
        FIGURES["jobs"] += n
        # close() returns before its release, the submission, reaches the
        # daemon (gptimgfs(1), JOBS, Submission); these kills come after
        wait_for(lambda: not any("is being written" in self.m.status(name)
                                 for name in jobs),
                 what="every prompt file to be submitted")
        return jobs

    def words(self, names):
        """{name: first line of status/NAME}"""
        return {n: self.m.status(n).splitlines()[0] for n in names}

    def count_words(self, names):
        counts = {}
        for w in self.words(names).values():
            counts[w] = counts.get(w, 0) + 1
        return counts

    # -- snapshots --------------------------------------------------------
    def snapshot_jobs(self):
        snap = {}
        for n in os.listdir(self.m.p("jobs")):
            p = self.m.p("jobs", n)
            with open(p, "rb") as f:
                snap[n] = (f.read(), stat.S_IMODE(os.stat(p).st_mode))
        return snap

    def snapshot_completed(self, names):
        """status text and image bytes of every completed job."""
        snap = {}
        for n in names:
            text = self.m.status(n)
            if text.startswith("completed\n"):
                with open(self.m.p("out", n + ".png"), "rb") as f:
                    snap[n] = (text, f.read())
        return snap

    # -- kill and restart -------------------------------------------------
    def watch(self):
        self.watcher = OutWatcher(self.m)

    def stop_watching(self):
        if self.watcher:
            errors = self.watcher.stop()
            self.watcher = None
            self.assertEqual(errors, [], "out/ listed a partial or "
                             "temporary file")

    def crash_and_restart(self, names, before_restart=None):
        """Snapshot, kill -9, (before_restart()), start again on the same
        data directory; the user's files and every completed job must be
        exactly as they were."""
        self.stop_watching()
        jobs_before = self.snapshot_jobs()
        done_before = self.snapshot_completed(names)
        self.m.kill9()
        self.kills += 1
        FIGURES["kills"] += 1
        self.assertFalse(os.path.ismount(self.m.path))
        if before_restart:
            before_restart()
        self.m.start()
        self.assertEqual(self.snapshot_jobs(), jobs_before,
                         "prompt files changed across kill -9")
        self.assertEqual(self.snapshot_completed(done_before), done_before,
                         "a completed job changed across kill -9")
        return done_before

    # -- the end ----------------------------------------------------------
    def check_outcomes(self, jobs, interrupted_ok=False):
        """Block on wait/NAME for every job, then check each outcome
        against the simulator. Returns the names that ended interrupted."""
        outcome = {}
        for name in sorted(jobs):
            rc, text = self.m.wait(name, timeout=WAIT_TIMEOUT)
            outcome[name] = (rc, text)
        self.stop_watching()
        prompts = user_prompts(self)
        interrupted = []
        for name, (rc, text) in sorted(outcome.items()):
            prompt, size = jobs[name]
            first, fields = status_fields(text)
            if first == "failed":
                self.assertNotEqual(rc, 0, text)
                error = fields.get("error", "")
                self.assertTrue(interrupted_ok and
                                error.startswith("interrupted: "),
                                "%s failed:\n%s" % (name, text))
                self.assertIn("charged", error, text)
                self.assertLessEqual(prompts.get(prompt, 0), 1,
                                     "%s created twice" % name)
                interrupted.append(name)
                continue
            self.assertEqual((rc, first), (0, "completed"),
                             "%s:\n%s" % (name, text))
            self.assertEqual(fields["outputs"], "out/%s.png" % name, text)
            self.assertEqual(prompts.get(prompt), 1,
                             "%s: created %s times" % (name,
                                                       prompts.get(prompt)))
            path = self.m.p("out", name + ".png")
            with open(path, "rb") as f:
                self.assertEqual(png_size(f.read()), size, name)
            self.assertEqual(os.getxattr(path, "user.gptimgfs.prompt"),
                             prompt.encode(), name)
            self.assertEqual(os.getxattr(path, "user.gptimgfs.task_id"),
                             fields["task_id"].encode(), name)
            FIGURES["images"] += 1
        completed = sorted(set(jobs) - set(interrupted))
        # one image per completed job, nothing else: no history name (a
        # second completion), no partial or temporary file
        self.assertEqual(sorted(os.listdir(self.m.p("out"))),
                         sorted(n + ".png" for n in completed))
        self.assertEqual(os.listdir(os.path.join(self.m.data_dir, "tmp")),
                         [], "downloads left behind in data_dir/tmp")
        # every task the simulator created is one of ours, once
        st = self.sim.stats()
        self.assertEqual(sum(prompts.values()), st["creates"])
        self.assertTrue(all(c == 1 for c in prompts.values()), prompts)
        FIGURES["creations"] += st["creates"]
        FIGURES["create_requests"] += st["create_requests"]
        FIGURES["interrupted"] += len(interrupted)
        print("\n  %s: %d jobs, %d kills, %d creations (%d requests), "
              "%d completed, %d interrupted" % (
                  self.id().rsplit(".", 1)[-1], len(jobs), self.kills,
                  st["creates"], st["create_requests"], len(completed),
                  len(interrupted)))
        return interrupted


class KillWhileQueuedTest(CrashBase):
    """One slot: the first task holds it (pending at the API), the others
    are queued, never sent. After the restart each is sent once."""
    mount_options = ("max_inflight=1",)

    def test_kill_while_queued(self):
        self.sim.configure(pending_seconds=3)
        jobs = self.make_jobs()
        first = wait_for(lambda: [n for n, w in self.words(jobs).items()
                                  if w != "queued"],
                         what="the first task to be sent")
        self.assertEqual(len(first), 1, first)
        wait_for(lambda: self.m.status(first[0]).startswith("pending\n"),
                 what="the first task to be pending")
        self.watch()
        self.crash_and_restart(jobs, lambda: self.sim.configure(
            pending_seconds=0))
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (1, 1))
        # the queued jobs are queued again, not failed nor lost
        words = self.words(jobs)
        self.assertEqual(sorted(words), sorted(jobs))
        self.assertTrue(all(w in IN_FLIGHT for w in words.values()), words)
        self.watch()
        self.assertEqual(self.check_outcomes(jobs), [])
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]),
                         (JOBS, JOBS))


class KillAfterCreationSentTest(CrashBase):
    """Creation requests that reached the API (which created and charged
    the tasks) but whose answers were still on their way at the kill: after
    the restart those jobs fail with `interrupted` and are never resent;
    the jobs already done or pending carry on."""

    def test_kill_while_creation_answers_are_lost(self):
        self.sim.configure(pending_seconds=2, processing_seconds=0.5)
        early = self.make_jobs(10, prefix="early")
        for n in list(early)[:5]:
            self.assertEqual(self.m.wait(n)[0], 0)
        wait_for(lambda: all(w in ("pending", "processing", "downloading",
                                   "completed")
                             for w in self.words(early).values()),
                 what="the early tasks to be created")
        self.sim.fault(endpoint="create", action="stall", delay_ms=120000)
        doubt = self.make_jobs(20, prefix="doubt")
        wait_for(lambda: self.sim.stats()["create_requests"] == 30,
                 what="every creation request to reach the API")
        st = self.sim.stats()
        self.assertEqual((st["create_requests"], st["creates"]), (30, 30))
        # not answered: the user sees them as not yet accepted
        self.assertEqual(set(self.words(doubt).values()), {"queued"})
        self.crash_and_restart(list(early) + list(doubt),
                               self.sim.clear_faults)
        self.watch()
        interrupted = self.check_outcomes(dict(early, **doubt),
                                          interrupted_ok=True)
        self.assertEqual(interrupted, sorted(doubt))
        for n in doubt:
            text = self.m.status(n)
            self.assertIn("may have been", text)
        # none was sent again, then or later
        settle(self)
        self.assertEqual(spent(self), (30, 30))
        self.assertEqual(sorted(user_prompts(self).values()), [1] * 30)


def api_status(sim, task_id):
    """The task's status as the simulator (the API) has it."""
    req = urllib.request.Request(sim.url + "/v1/tasks/" + task_id)
    req.add_header("Authorization", "Bearer " + KEY)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode())["status"]


class KillWhilePendingProcessingTest(CrashBase):
    """Every task known to the API by its id: killed while all are
    pending, then again while all are processing; each is polled again and
    completes, created once."""

    def test_kill_while_pending_then_processing(self):
        self.sim.configure(pending_seconds=4, processing_seconds=5)
        jobs = self.make_jobs()

        def all_pending():
            c = self.count_words(jobs)
            return set(c) <= {"pending", "processing"} and \
                c.get("pending", 0) >= JOBS * 2 // 3
        wait_for(all_pending, what="every task created, most pending")
        ids = {n: status_fields(self.m.status(n))[1]["task_id"]
               for n in jobs}
        self.watch()
        self.crash_and_restart(jobs)
        self.assertEqual(self.sim.stats()["create_requests"], JOBS)
        self.assertEqual({n: status_fields(self.m.status(n))[1]["task_id"]
                          for n in jobs}, ids)

        def all_processing():
            # as the API has them: the daemon's status of a task changes
            # at its polls only, and until a task of its resolution is
            # seen finished only its scout is polled soon (POLLING)
            c = self.count_words(jobs)
            at_api = [api_status(self.sim, i) for i in ids.values()]
            return ("queued" not in c and "failed" not in c and
                    "pending" not in at_api and
                    at_api.count("processing") >= JOBS // 2)
        self.watch()
        wait_for(all_processing, timeout=30, what="the tasks processing")
        self.crash_and_restart(jobs)
        self.assertEqual({n: status_fields(self.m.status(n))[1]["task_id"]
                          for n in jobs}, ids)
        self.watch()
        self.assertEqual(self.check_outcomes(jobs), [])
        self.assertEqual(self.sim.stats()["create_requests"], JOBS)


class KillMidDownloadTest(CrashBase):
    """Downloads cut off by the kill start again from scratch after the
    restart; out/ never lists a partial image, before or after."""

    def test_kill_mid_download(self):
        self.sim.fault(endpoint="file", action="slow", delay_ms=3000)
        self.watch()
        jobs = self.make_jobs()
        wait_for(lambda: self.sim.stats()["downloads"] >= JOBS // 2 and
                 "downloading" in self.count_words(jobs),
                 what="downloads in progress")
        tmp = os.path.join(self.m.data_dir, "tmp")
        self.assertNotEqual(os.listdir(tmp), [], "no download in progress")
        self.crash_and_restart(jobs)
        self.watch()
        self.assertEqual(self.check_outcomes(jobs), [])
        self.assertEqual(self.sim.stats()["create_requests"], JOBS)


class RepeatedKillsTest(CrashBase):
    """Jobs flowing through every state at once (8 slots, short pending
    and processing, slow downloads), killed at six milestones in a row."""
    mount_options = ()

    def test_kill_again_and_again(self):
        self.sim.configure(pending_seconds=0.4, processing_seconds=0.4)
        self.sim.fault(endpoint="file", action="slow", delay_ms=800)
        self.watch()
        jobs = self.make_jobs()
        milestones = (("creates", 3), ("creates", 9), ("downloads", 8),
                      ("creates", 17), ("creates", 24), ("downloads", 26))
        for key, n in milestones:
            def reached():
                st = self.sim.stats()
                return st[key] >= n or all(
                    w in ("completed", "failed")
                    for w in self.words(jobs).values())
            wait_for(reached, timeout=40, what="%s >= %d" % (key, n))
            self.crash_and_restart(jobs)
            self.watch()
        self.check_outcomes(jobs, interrupted_ok=True)
        settle(self)
        self.assertEqual(spent(self)[1], sum(user_prompts(self).values()))


def tearDownModule():
    print("\ncrash figures: %(jobs)d jobs, %(kills)d kills, %(creations)d "
          "creations counted (%(create_requests)d creation requests), "
          "%(images)d images checked whole at the end, %(listings)d listings "
          "of out/ while jobs ran (%(watched)d files read, each whole), "
          "%(interrupted)d interrupted" % FIGURES)


if __name__ == "__main__":
    main()
