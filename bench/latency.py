#!/usr/bin/env python3
"""How long `echo PROMPT > jobs/NAME.txt && cat wait/NAME` takes against a
simulator that answers at once (pending and processing 0 s), against the
same create -> poll -> download cycle done directly with HTTP requests.

Prints the median and 90th percentile over N jobs, and the ratio
mount / direct: what the daemon adds to the API's own round trips (one poll
interval of 0.05 s included, the harness's setting). Jobs start a second
apart, so that the daemon's rate limit (20 API requests a second) does not
enter; a second run back to back shows the sustained rate it allows.

usage: bench/latency.py [BUILD_DIR]
"""
import json
import time
import urllib.request

from common import Session, build_dir
import harness

JOBS = 40


def direct_cycle(sim, prompt):
    def call(method, url, body=None):
        req = urllib.request.Request(url, method=method, data=body)
        req.add_header("Authorization", "Bearer " + harness.KEY)
        if body:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    body = json.dumps({"model": "gpt-image-2",
                       "input": {"prompt": prompt}}).encode()
    start = time.perf_counter()
    task = json.loads(call("POST", sim.url + "/v1/images/generations",
                           body))["data"]["taskId"]
    while True:
        t = json.loads(call("GET", sim.url + "/v1/tasks/" + task))
        if t["status"] == "completed":
            break
    for url in t["output"]["urls"]:
        call("GET", url)
    return time.perf_counter() - start


def stats(times):
    times = sorted(times)
    return times[len(times) // 2], times[int(len(times) * 0.9)]


def main():
    with Session(build_dir()) as s:
        mount_times, direct_times, sustained = [], [], []
        for i in range(JOBS):
            time.sleep(1.0)  # let the rate limiter's bucket refill
            start = time.perf_counter()
            rc, text = s.m.submit("lat%d" % i, "latency probe %d" % i)
            mount_times.append(time.perf_counter() - start)
            if rc != 0:
                raise SystemExit(text)
            direct_times.append(direct_cycle(s.sim, "direct probe %d" % i))
        for i in range(JOBS):
            start = time.perf_counter()
            s.m.submit("back%d" % i, "back to back %d" % i)
            sustained.append(time.perf_counter() - start)
        m50, m90 = stats(mount_times)
        b50, _ = stats(sustained)
        d50, d90 = stats(direct_times)
        print("jobs: %d, simulator at zero latency, poll_interval 0.05 s"
              % JOBS)
        print("echo -> completed through the mount: median %.1f ms, "
              "p90 %.1f ms" % (m50 * 1e3, m90 * 1e3))
        print("the same cycle with direct HTTP requests: median %.1f ms, "
              "p90 %.1f ms" % (d50 * 1e3, d90 * 1e3))
        print("back to back (rate-limited): median %.1f ms" % (b50 * 1e3))
        print("latency_ratio %.2f" % (m50 / d50))


if __name__ == "__main__":
    main()
