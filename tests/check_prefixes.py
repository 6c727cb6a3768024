"""Names say where they live (CONTRIBUTING.md, Names): every symbol a
module library defines for others starts with its module's prefix, and
the utility library's with the prefix of its file.

Usage: check_prefixes.py NM LIBRARY=PREFIX[,PREFIX...]...
It lists each library's defined global symbols with NM and names every one
without an allowed prefix. Names the compiler or a sanitizer makes for
itself (starting with "__", or holding a '.') are not the project's."""
import subprocess
import sys


def exported(nm, lib):
    out = subprocess.run([nm, "-g", "--defined-only", lib],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and not fields[2].startswith("__") \
                and "." not in fields[2]:
            yield fields[2]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: check_prefixes.py NM LIBRARY=PREFIX[,PREFIX]...")
    nm, bad, total = sys.argv[1], [], 0
    for arg in sys.argv[2:]:
        lib, _, prefixes = arg.rpartition("=")
        allowed = tuple(prefixes.split(","))
        for sym in exported(nm, lib):
            total += 1
            if not sym.startswith(allowed):
                bad.append("%s: %s (not %s)" % (lib, sym, " or ".join(
                    p + "..." for p in allowed)))
    if bad:
        print("\n".join(bad))
        sys.exit("check_prefixes: %d exported names without their "
                 "module's prefix" % len(bad))
    if total == 0:
        sys.exit("check_prefixes: no exported name found: is NM right?")
    print("check_prefixes: %d exported names, each with its prefix" % total)


main()
