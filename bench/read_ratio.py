#!/usr/bin/env python3
"""Reading an image through the mount against reading its stored file.

Prints the speed of reading a 4k image of random pixels (about 28 MB)
through the mount against reading its stored file directly, as a ratio of
throughputs (1.00: as fast; above: faster), with the page cache warm (the
common case: the image was just downloaded) and cold (both caches dropped
before each read), and whether the kernel read the image itself (FUSE
passthrough: libfuse 3.16+, Linux 6.9+, a daemon with CAP_SYS_ADMIN) or
the daemon served the reads (it then asks the disk to read ahead at open).
Targets (issue 11): 0.95 with passthrough, warm and cold; 0.85 cold
without.

usage: bench/read_ratio.py [BUILD_DIR]
"""
import glob
import os
import time

from common import Session, build_dir

ROUNDS = 15
CHUNK = 1 << 20


def read_all(path, drop_cache):
    fd = os.open(path, os.O_RDONLY)
    try:
        if drop_cache:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        start = time.perf_counter()
        total = 0
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            total += len(chunk)
        return time.perf_counter() - start, total
    finally:
        os.close(fd)


def drop_cache(path):
    """Drop path's pages from the page cache, reading nothing."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def median_time(path, drop, also_drop=None):
    times = []
    for _ in range(ROUNDS):
        if also_drop:
            drop_cache(also_drop)  # the other copy's too, unread
        t, size = read_all(path, drop)
        times.append(t)
    times.sort()
    return times[len(times) // 2], size


def main():
    # --image-scale 1: real sizes (the e2e harness uses small images)
    with Session(build_dir(), sim_args=["--image-scale", "1"]) as s:
        s.m.write("jobs/big.opts", "resolution = 4k\naspect_ratio = 16:9\n")
        rc, text = s.m.submit("big", "[sim:noise] bench image", timeout=120)
        if rc != 0:
            raise SystemExit("the job failed:\n" + text)
        mounted = s.m.p("out", "big.png")
        stored = max(glob.glob(os.path.join(s.m.data_dir, "out", "*.png")),
                     key=os.path.getsize)
        read_all(mounted, False)
        warm_m, size = median_time(mounted, False)
        warm_s, _ = median_time(stored, False)
        cold_m, _ = median_time(mounted, True, also_drop=stored)
        cold_s, _ = median_time(stored, True)
        mb = size / 1e6
        print("image: %.1f MB, %d rounds, median times" % (mb, ROUNDS))
        print("warm: mount %.1f ms (%.0f MB/s), stored file %.1f ms "
              "(%.0f MB/s)" % (warm_m * 1e3, mb / warm_m, warm_s * 1e3,
                               mb / warm_s))
        print("cold: mount %.1f ms (%.0f MB/s), stored file %.1f ms "
              "(%.0f MB/s)" % (cold_m * 1e3, mb / cold_m, cold_s * 1e3,
                               mb / cold_s))
        passthrough = "passthrough" in s.m.read_log()
        print("read_passthrough %s" % ("yes" if passthrough else "no"))
        print("read_speed_ratio_warm %.2f" % (warm_s / warm_m))
        print("read_speed_ratio_cold %.2f" % (cold_s / cold_m))


if __name__ == "__main__":
    main()
