#!/usr/bin/env python3
"""Memory and CPU at scale (issue 9): N prompt files (10,000) copied into
jobs/ against a simulator whose tasks are long (150 s: 10 s pending, 140 s
processing), so that all of them are in flight at once.

Measured on the daemon (/proc/PID/status and /proc/PID/stat) and at the
simulator (its own counters):

  rss_mib, hwm_mib      VmRSS and VmHWM once every task is created
  requests_per_s        API requests a second while the tasks wait (a
                        window of --window seconds after the last creation)
  cpu_percent           the daemon's CPU (utime+stime) over that window
  cpu_ms_per_job        the daemon's CPU from the mount to the last job's
                        end, divided by the jobs completed
  submit_s              from the first write to the last task created

then the issue's targets that were missed (RSS <= 64 MiB, at most a few
hundred requests a second, i.e. <= 300, CPU < 5% while waiting, CPU per
job under 1 ms).

--folders K puts the prompt files in a two-level tree of K x K folders
(jobs/fI/gJ/sN.txt, issue 10), made before the clock starts, to compare
the cost per job with a flat jobs/.

usage: bench/scale.py [BUILD_DIR] [--jobs N] [--pending S] [--processing S]
                      [--window S] [--option KEY=VALUE] [--folders K]
quick: bench/scale.py build --jobs 2000 --pending 5 --processing 40
"""
import argparse
import os
import time

from common import HERE, Session

TARGET_RSS_MIB, TARGET_RPS, TARGET_CPU, TARGET_MS_PER_JOB = 64, 300, 5.0, 1.0
WAITERS = 16  # threads blocked on wait/NAME at the end, one job each
TICK = os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    """(VmRSS, VmHWM) in KiB."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                got[key] = int(value.split()[0])
    return got["VmRSS"], got["VmHWM"]


def cpu_seconds(pid):
    """utime + stime of the process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def api_requests(st):
    return st["create_requests"] + st["polls"] + st["credits_reads"]


def wait_created(s, n, deadline):
    """Until the simulator has created n tasks (it counts each once)."""
    while s.sim.stats()["creates"] < n:
        if time.monotonic() > deadline:
            raise SystemExit("scale: not every task created in time: %d of "
                             "%d" % (s.sim.stats()["creates"], n))
        time.sleep(0.2)  # a poll of the simulator's counters, no event


def job_name(i, folders):
    """sNNNNN, or fI/gJ/sNNNNN in a tree of folders x folders."""
    if not folders:
        return "s%05d" % i
    return "f%02d/g%02d/s%05d" % (i % folders, i // folders % folders, i)


def run(args):
    sim_args = ["--pending", "%g" % args.pending,
                "--processing", "%g" % args.processing,
                "--balance", str(20 * args.jobs + 10000)]
    options = ["max_inflight=%d" % max(args.jobs, 1)] + list(args.option)
    if not any(o.startswith("poll_interval=") for o in args.option):
        options.append("poll_interval=2")  # the daemon's default
    print("scale: %d jobs%s, tasks of %g s (%g s pending), daemon options %s"
          % (args.jobs, " in %d x %d folders" % (args.folders, args.folders)
             if args.folders else "", args.pending + args.processing,
             args.pending, ",".join(options)), flush=True)
    names = [job_name(i, args.folders) for i in range(args.jobs)]
    with Session(args.build, sim_args, options) as s:
        for folder in sorted({n.rpartition("/")[0] for n in names} - {""}):
            os.makedirs(s.m.p("jobs", folder), exist_ok=True)
        pid = s.m.proc.pid
        cpu0 = cpu_seconds(pid)
        start = time.monotonic()
        for n in names:
            s.m.write("jobs/%s.txt" % n, "scale probe %s\n" % n)
        wait_created(s, args.jobs, start + args.pending + args.processing)
        submit = time.monotonic() - start
        # the window: every task waits at the API
        st0, c0, t0 = s.sim.stats(), cpu_seconds(pid), time.monotonic()
        left = start + args.pending + args.processing - t0
        window = min(args.window, left - 5)
        if window < 5:
            raise SystemExit("scale: the tasks end before a window of "
                             "waiting: give them longer (--processing)")
        time.sleep(window)  # a measurement window, nothing to wait for
        st1, c1, t1 = s.sim.stats(), cpu_seconds(pid), time.monotonic()
        rss, hwm = proc_status(pid)
        ended = s.m.wait_many(names, WAITERS,
                              args.pending + args.processing + 600)
        done = sum(ok and text.startswith("completed")
                   for ok, text in ended.values())
        cpu_total = cpu_seconds(pid) - cpu0
        _, hwm = proc_status(pid)
        st = s.sim.stats()
    rps = (api_requests(st1) - api_requests(st0)) / (t1 - t0)
    cpu = 100.0 * (c1 - c0) / (t1 - t0)
    per_job = 1000.0 * cpu_total / done if done else float("inf")
    figures = (("jobs_completed", "%d" % done),
               ("submit_s", "%.1f" % submit),
               ("rss_mib", "%.1f" % (rss / 1024)),
               ("hwm_mib", "%.1f" % (hwm / 1024)),
               ("window_s", "%.1f" % (t1 - t0)),
               ("requests_per_s", "%.1f" % rps),
               ("polls_per_s", "%.1f" % ((st1["polls"] - st0["polls"])
                                         / (t1 - t0))),
               ("cpu_percent", "%.2f" % cpu),
               ("cpu_s_total", "%.2f" % cpu_total),
               ("cpu_ms_per_job", "%.3f" % per_job),
               ("polls_per_task", "%.2f" % (st["polls"] / args.jobs)),
               ("creates_per_job", "%.2f" % (st["creates"] / args.jobs)))
    for name, value in figures:
        print("scale %s %s" % (name, value))
    missed = [name for name, bad in (
        ("jobs_completed", done < args.jobs),
        ("hwm_mib", hwm / 1024 > TARGET_RSS_MIB),
        ("requests_per_s", rps > TARGET_RPS),
        ("cpu_percent", cpu >= TARGET_CPU),
        ("cpu_ms_per_job", per_job >= TARGET_MS_PER_JOB)) if bad]
    print("scale targets_missed %s" % (" ".join(missed) or "none"))


def parse_args():
    p = argparse.ArgumentParser(
        description="memory and CPU with thousands of tasks in flight")
    p.add_argument("build", nargs="?",
                   default=os.path.join(HERE, "..", "build"))
    p.add_argument("--jobs", type=int, default=10000)
    p.add_argument("--pending", type=float, default=10.0)
    p.add_argument("--processing", type=float, default=140.0)
    p.add_argument("--window", type=float, default=30.0,
                   help="seconds of waiting measured (30)")
    p.add_argument("--option", action="append", default=[],
                   metavar="KEY=VALUE", help="a daemon option (repeatable)")
    p.add_argument("--folders", type=int, default=0, metavar="K",
                   help="a tree of K x K folders (0: flat jobs/)")
    args = p.parse_args()
    if args.jobs < 1 or args.window <= 0 or not 0 <= args.folders <= 99:
        p.error("--jobs at least 1, --window above 0, --folders 0 to 99")
    return args


if __name__ == "__main__":
    run(parse_args())
