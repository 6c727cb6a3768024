"""The source tree is formatted as .clang-format says: every .c and .h file
of the modules and the tests, checked with `clang-format --dry-run
-Werror`. The layout chosen for a line depends on clang-format's version,
so this runs with the one the tree is formatted with (CONTRIBUTING.md,
Style); tests/CMakeLists.txt registers it only where that one exists.

Usage: check_format.py CLANG_FORMAT [SOURCE_DIR] (default: the parent of
tests/). It walks the tree itself (no git needed), skipping .git and build
trees (any directory holding a CMakeCache.txt)."""
import os
import subprocess
import sys


def sources(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git" and not
                         os.path.exists(os.path.join(top, d, "CMakeCache.txt")))
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.join(top, f)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: check_format.py CLANG_FORMAT [SOURCE_DIR]")
    tool = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    files = list(sources(root))
    if not files:
        sys.exit("check_format: no source file under %s" % root)
    r = subprocess.run([tool, "--dry-run", "-Werror", "--style=file"] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        print(r.stdout[:20000])
        sys.exit("check_format: not formatted as .clang-format says; run "
                 "`%s -i` on the files named above" % tool)
    print("check_format: %d files formatted" % len(files))


main()
