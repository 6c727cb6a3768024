#!/usr/bin/env python3
"""How long `cat status/NAME` of an ended job takes while the daemon is
recording 200 others, against the same reads while it is idle.

The loaded reads run while 200 prompt files are written back to back and
their jobs go through the simulator (each job's record is written, synced
and renamed several times on its way); the idle reads run against the same
mount before that. Prints the median and 99th percentile of both and the
ratio loaded / idle: what the daemon's recording adds to a reader of
status/ (the scheduler's share of it included: the machine is the same).

usage: bench/status_latency.py [BUILD_DIR]
"""
import os
import threading
import time

from common import Session, build_dir

JOBS = 200
IDLE_READS = 2000
LOAD_TIMEOUT = 180.0


def read_status(path):
    start = time.perf_counter()
    with open(path, "rb") as f:
        f.read()
    return time.perf_counter() - start


def stats(times):
    times = sorted(times)
    return times[len(times) // 2], times[min(len(times) - 1,
                                             int(len(times) * 0.99))]


def load(s, done):
    """Write the prompt files at once, then wait for every job to end."""
    for i in range(JOBS):
        s.m.write("jobs/load%d.txt" % i, "status latency load %d\n" % i)
    for i in range(JOBS):
        s.m.wait("load%d" % i, timeout=LOAD_TIMEOUT)
    done.set()


def main():
    with Session(build_dir()) as s:
        rc, text = s.m.submit("x", "the job whose status is read")
        if rc != 0:
            raise SystemExit(text)
        path = s.m.p("status", "x")
        idle = [read_status(path) for _ in range(IDLE_READS)]
        done = threading.Event()
        writer = threading.Thread(target=load, args=(s, done))
        start = time.perf_counter()
        writer.start()
        loaded = []
        while not done.is_set():
            loaded.append(read_status(path))
        writer.join()
        took = time.perf_counter() - start
        i50, i99 = stats(idle)
        l50, l99 = stats(loaded)
        print("jobs: %d recorded in %.1f s, simulator at zero latency"
              % (JOBS, took))
        print("cat status/x idle:   median %.3f ms, p99 %.3f ms (%d reads)"
              % (i50 * 1e3, i99 * 1e3, len(idle)))
        print("cat status/x loaded: median %.3f ms, p99 %.3f ms (%d reads)"
              % (l50 * 1e3, l99 * 1e3, len(loaded)))
        print("status_ratio median %.2f p99 %.2f" % (l50 / i50, l99 / i99))


if __name__ == "__main__":
    main()
