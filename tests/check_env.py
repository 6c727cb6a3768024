"""Every GPTIMGFS_* variable the daemon reads (a string "GPTIMGFS_..." in
config/ or daemon/main.c) is listed in the ENVIRONMENT section of both
gptimgfs(1) and gptimgfs.conf(5); a variable the sections list is one the
daemon reads.

Usage: check_env.py [SOURCE_DIR] (default: the parent of tests/)."""
import os
import re
import sys

NAME = re.compile(r"GPTIMGFS_[A-Z_]+")


def read_by_code(root):
    names = set()
    paths = [os.path.join(root, "daemon", "main.c")]
    cfg = os.path.join(root, "config")
    paths += [os.path.join(cfg, f) for f in sorted(os.listdir(cfg))
              if f.endswith(".c")]
    for path in paths:
        with open(path, encoding="utf-8") as f:
            names |= set(re.findall(r'"(GPTIMGFS_[A-Z_]+)"', f.read()))
    return names


def listed(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^\.SH ENVIRONMENT\n(.*?)^\.SH ", text, re.M | re.S)
    if not m:
        return None
    return set(NAME.findall(m.group(1)))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    code = read_by_code(root)
    if not code:
        print("check_env: no GPTIMGFS_ variable found in config/")
        return 1
    bad = 0
    for page in ("gptimgfs.1", "gptimgfs.conf.5"):
        names = listed(os.path.join(root, "man", page))
        if names is None:
            print("man/%s: no ENVIRONMENT section" % page)
            bad += 1
            continue
        for n in sorted(code - names):
            print("man/%s: ENVIRONMENT lacks %s" % (page, n))
            bad += 1
        for n in sorted(names - code):
            print("man/%s: ENVIRONMENT lists %s, which nothing reads"
                  % (page, n))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
