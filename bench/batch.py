#!/usr/bin/env python3
"""A batch at API scale (issue 9): prompt files copied into jobs/ at once,
against a simulator whose tasks take 15 s (2 s pending, 13 s processing)
and which limits, first, the request rate (40 a second), then the number
of unfinished tasks (25).

For each scenario: the makespan, from the first write until every job's
wait/NAME has answered (blocked reads of wait/ cost no API request), against
the ideal, and what it cost at the API (the simulator's own counters):

  rate:  ideal = task time + (N creations + N polls) / allowed rate
  tasks: ideal = ceil(N / max tasks) * task time (requests left out)

Prints, one figure a line as `batch_SCENARIO FIGURE VALUE`: makespan_s,
ideal_s, makespan_ratio, polls_per_task, answers_429, share_429 (of every
API request), creates_per_job (1.00 unless a job was created twice),
duplicate_creations (prompts created more than once), failed and
peak_unfinished; then the issue's targets that were missed. A scenario
that does not end within its timeout says so, with how many jobs were done.

--scale F multiplies the task times and the daemon's poll_interval (default
2 s, so polls per task stay comparable); the rate and task limits stay.
--option KEY=VALUE passes a daemon option (repeatable), e.g.
max_inflight=1000 or poll_interval=2.
--callbacks runs the scenarios (labelled rate_cb, tasks_cb) with the
callback receiver on a loopback port (callback_listen, callback_url): the
simulator posts each task's end there, polls are a fallback only, and the
target for polls per task is 1.1; it also prints callbacks_delivered.

usage: bench/batch.py [BUILD_DIR] [--jobs N] [--tasks-jobs N] [--scale F]
                      [--only rate|tasks] [--timeout S] [--option KEY=VALUE]
                      [--callbacks]
quick: bench/batch.py build --jobs 120 --scale 0.2 [--callbacks]
"""
import argparse
import errno
import math
import os
import threading
import time

from common import HERE, Session, harness

PENDING, PROCESSING = 2.0, 13.0
RATE = 40
MAX_TASKS = 25
POLL_INTERVAL = 2.0  # the daemon's default
TIMEOUT_FACTOR = 30  # a scenario gets this many ideals, at least MIN_TIMEOUT
MIN_TIMEOUT = 120.0
# the targets ("Done when"), without callbacks
TARGET_RATIO, TARGET_POLLS, TARGET_429 = 1.5, 1.5, 0.10
TARGET_POLLS_CALLBACKS = 1.1


class Waiters:
    """One thread a job blocked on wait/NAME: when each ended, and how."""

    def __init__(self):
        self.cond = threading.Condition()
        self.ended = []  # (monotonic time, ok)

    def start(self, path):
        threading.Thread(target=self._wait, args=(path,), daemon=True).start()

    def _wait(self, path):
        try:
            with open(path, "rb") as f:
                f.read()
            ok = True
        except OSError as e:
            if e.errno != errno.EIO:  # unmounted under us: not an end
                return
            ok = False
        with self.cond:
            self.ended.append((time.monotonic(), ok))
            self.cond.notify()

    def until(self, n, deadline):
        """The ends so far, once n have ended or at the deadline."""
        with self.cond:
            while len(self.ended) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.ended)


def run_batch(s, label, n, timeout):
    """Write n prompt files back to back, each followed by its waiter.
    (seconds from the first write to the last end or None, ends)."""
    waiters = Waiters()
    start = time.monotonic()
    for i in range(n):
        name = "%s%d" % (label, i)
        s.m.write("jobs/%s.txt" % name, "batch %s job %d\n" % (label, i))
        waiters.start(s.m.p("wait", name))
    ended = waiters.until(n, start + timeout)
    if len(ended) < n:
        return None, ended
    return max(t for t, _ in ended) - start, ended


def api_requests(st):
    """Every request under /v1/ (the ones a rate limit counts)."""
    return st["create_requests"] + st["polls"] + st["credits_reads"]


def report(label, n, ideal, timeout, makespan, ended, st, prompts,
           target_polls=TARGET_POLLS):
    """The figures, one a line; the targets missed."""
    def out(figure, value):
        print("batch_%s %s %s" % (label, figure, value))

    if makespan is None:
        print("batch_%s did not finish in %.0f s: %d of %d done"
              % (label, timeout, len(ended), n))
        makespan = timeout  # a lower bound: the figures below say ">="
    bound = ">=" if len(ended) < n else ""
    requests = api_requests(st)
    ratio = makespan / ideal
    polls = st["polls"] / n
    share = st["answers_429"] / requests if requests else 0.0
    twice = sum(1 for c in prompts.values() if c > 1)
    out("makespan_s", "%s%.2f" % (bound, makespan))
    out("ideal_s", "%.2f" % ideal)
    out("makespan_ratio", "%s%.2f" % (bound, ratio))
    out("polls_per_task", "%.2f" % polls)
    out("answers_429", st["answers_429"])
    out("share_429", "%.3f" % share)
    out("creates_per_job", "%.2f" % (st["creates"] / n))
    out("duplicate_creations", twice)
    out("failed", sum(1 for _, ok in ended if not ok))
    out("peak_unfinished", st["peak_unfinished"])
    if target_polls != TARGET_POLLS:
        out("callbacks_delivered", st["callbacks_delivered"])
    missed = [name for name, bad in (
        ("makespan_ratio", bound or ratio > TARGET_RATIO),
        ("polls_per_task", polls > target_polls),
        ("share_429", share >= TARGET_429),
        ("duplicate_creations", twice > 0 or st["creates"] > n))
        if bad]
    out("targets_missed", " ".join(missed) if missed else "none")


def scenario(args, label, n, limit, ideal):
    """One simulator and mount: the batch, then the simulator's counts."""
    task = (PENDING + PROCESSING) * args.scale
    timeout = args.timeout or max(MIN_TIMEOUT, TIMEOUT_FACTOR * ideal)
    sim_args = ["--pending", "%g" % (PENDING * args.scale),
                "--processing", "%g" % (PROCESSING * args.scale),
                "--balance", str(max(10000, 20 * n))] + limit
    options = list(args.option)
    if args.callbacks:
        label += "_cb"
        port = harness.free_port()
        options += ["callback_listen=127.0.0.1:%d" % port,
                    "callback_url=http://127.0.0.1:%d" % port]
    if not any(o.startswith("poll_interval=") for o in options):
        options.append("poll_interval=%.3f"
                       % max(0.001, POLL_INTERVAL * args.scale))
    print("batch_%s: %d jobs, tasks of %.1f s (%.1f s pending), "
          "simulator %s, daemon options %s, timeout %.0f s"
          % (label, n, task, PENDING * args.scale, " ".join(limit),
             ",".join(options), timeout), flush=True)
    with Session(args.build, sim_args, options) as s:
        makespan, ended = run_batch(s, label, n, timeout)
        st = s.sim.stats()
        prompts = s.sim.prompts()
        if makespan is None:
            # the waiters' open files would keep an unmounted daemon
            # alive: its end fails their reads at once
            s.m.kill9()
    report(label, n, ideal, timeout, makespan, ended, st, prompts,
           TARGET_POLLS_CALLBACKS if args.callbacks else TARGET_POLLS)


def parse_args():
    p = argparse.ArgumentParser(
        description="makespan and API cost of a batch (issue 9)")
    p.add_argument("build", nargs="?",
                   default=os.path.join(HERE, "..", "build"))
    p.add_argument("--jobs", type=int, default=600,
                   help="jobs of the rate-limited scenario (600)")
    p.add_argument("--tasks-jobs", type=int, default=120,
                   help="jobs of the task-limited scenario (120)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiplies task times and poll_interval (1)")
    p.add_argument("--only", choices=("rate", "tasks"))
    p.add_argument("--timeout", type=float, default=0.0,
                   help="seconds a scenario may take (default %d ideals, "
                   "at least %.0f s)" % (TIMEOUT_FACTOR, MIN_TIMEOUT))
    p.add_argument("--option", action="append", default=[],
                   metavar="KEY=VALUE", help="a daemon option (repeatable)")
    p.add_argument("--callbacks", action="store_true",
                   help="with the callback receiver on (polls per task "
                   "target 1.1)")
    args = p.parse_args()
    if args.jobs < 1 or args.tasks_jobs < 1 or not 0 < args.scale <= 10:
        p.error("--jobs and --tasks-jobs at least 1, --scale in (0, 10]")
    return args


def main():
    args = parse_args()
    threading.stack_size(256 << 10)  # hundreds of waiter threads
    task = (PENDING + PROCESSING) * args.scale
    if args.only != "tasks":
        n = args.jobs
        scenario(args, "rate", n, ["--max-rate", str(RATE)],
                 task + 2 * n / RATE)
    if args.only != "rate":
        n = args.tasks_jobs
        scenario(args, "tasks", n, ["--max-tasks", str(MAX_TASKS)],
                 math.ceil(n / MAX_TASKS) * task)


if __name__ == "__main__":
    main()
