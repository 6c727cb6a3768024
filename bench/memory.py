#!/usr/bin/env python3
"""The daemon's memory: resident set size after mounting, and after N jobs
have completed, per job and as a ratio.

usage: bench/memory.py [BUILD_DIR]
"""
import subprocess

from common import Session, build_dir

JOBS = 500


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    with Session(build_dir()) as s:
        idle = rss_kib(s.m.proc.pid)
        for i in range(JOBS):
            s.m.write("jobs/m%d.txt" % i, "memory probe %d\n" % i)
        for i in range(JOBS):
            rc, text = s.m.wait("m%d" % i, timeout=300)
            if rc != 0:
                raise SystemExit(text)
        subprocess.run(["ls", "-l", s.m.p("out"), s.m.p("status")],
                       stdout=subprocess.DEVNULL, check=True)
        busy = rss_kib(s.m.proc.pid)
        print("jobs: %d completed" % JOBS)
        print("rss after mount: %d KiB, after the jobs: %d KiB" % (idle, busy))
        print("rss_per_job %.1f KiB" % ((busy - idle) / JOBS))
        print("rss_ratio %.2f" % (busy / idle))


if __name__ == "__main__":
    main()
