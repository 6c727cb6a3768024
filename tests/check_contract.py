"""The contract lives in the repository: no file of the source tree may cite
a document that is not in it (the old SPEC, DESIGN and api.md notes) or a
path on the machine it was written on. Rules are cited as the man page
section that states them ("gptimgfs(1), RETRIES"), the API's wire format as
doc/api.md; a doc/ page that is cited must exist.

Usage: check_contract.py [SOURCE_DIR] (default: the parent of tests/). It
walks the tree itself (no git needed), skipping .git, build trees (any
directory holding a CMakeCache.txt) and binary files, and first checks its
own patterns against known lines, so that a pattern that stops matching,
or starts matching words such as ASPECT_RATIO, fails too."""
import os
import re
import sys

# (what is wrong, pattern, also wrong in doc/). Case matters where it says
# so: "SPEC" and "DESIGN" in capitals are the documents' names; "the XDG
# spec" is not. In doc/ a page may name its sibling api.md.
RULES = [
    ("cites SPEC", re.compile(r"\bSPEC\b"), True),
    ("cites a spec section",
     re.compile(r"\bspec(ification)?\s+sections?\s+\d", re.I), True),
    ("cites DESIGN", re.compile(r"\bDESIGN\b"), True),
    ("cites a document outside the repository",
     re.compile(r"\b(SPEC|DESIGN)\.md\b", re.I), True),
    ("cites api.md, not doc/api.md",
     re.compile(r"(?<![\w./-])api\.md\b"), False),
    ("names a path outside the repository",
     re.compile(r"(?<![\w.}\])~$/-])/work/"), True),
]
DOC_CITATION = re.compile(r"(?<![\w./-])doc/([\w.-]+\.md)\b")

SHOULD_FLAG = [
    "/* The one retry policy (SPEC section 6): which failures */",
    "# SPEC 3: status/NAME is text",
    '"""API errors (spec sections 3 and 6)',
    "/* Replies: api.md's error table */",
    "see DESIGN, Threads",
    "as in design.md",
    "cat /work/shared/SPEC.md",
    "include(/work/main/cmake/x.cmake)",
]
SHOULD_PASS = [
    "#define DEFAULT_ASPECT_RATIO \"auto\"",
    "{ 0x00000000, 32, ADDR_UNSPECIFIED },",
    "/* Replies: doc/api.md's error table */",
    "/* as the XDG base directory spec says */",
    "the design of the store; a designated file",
    "The HTTP-date forms of RFC 9110 section 5.6.7",
    "-D WORK=${CMAKE_CURRENT_BINARY_DIR}/work/${name}",
    "m.write(\"jobs/notes.md\", \"hello\")",
    "(gptimgfs(1), RETRIES)",
]


def problems(line, in_doc=False):
    return [what for what, pattern, in_doc_too in RULES
            if (in_doc_too or not in_doc) and pattern.search(line)]


def self_test():
    bad = ["not flagged: " + s for s in SHOULD_FLAG if not problems(s)]
    bad += ["flagged: %s (%s)" % (s, ", ".join(problems(s)))
            for s in SHOULD_PASS if problems(s)]
    for b in bad:
        print("check_contract.py self-test: " + b)
    return not bad


def source_files(root, me):
    for top, dirs, files in os.walk(root):
        if top != root and "CMakeCache.txt" in files:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs
                         if d not in (".git", "__pycache__")
                         and not os.path.exists(
                             os.path.join(top, d, "CMakeCache.txt")))
        for f in sorted(files):
            path = os.path.join(top, f)
            if f != ".git" and os.path.realpath(path) != me:
                yield path


def text_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"\0" in data[:8192]:
        return []
    return data.decode("utf-8", "replace").splitlines()


def check_tree(root):
    me = os.path.realpath(__file__)
    found = 0
    for path in source_files(root, me):
        rel = os.path.relpath(path, root)
        in_doc = rel.startswith("doc" + os.sep)
        for n, line in enumerate(text_lines(path), 1):
            whats = problems(line, in_doc)
            for page in DOC_CITATION.findall(line):
                if not os.path.isfile(os.path.join(root, "doc", page)):
                    whats.append("cites doc/%s, which does not exist" % page)
            if whats:
                print("%s:%d: %s: %s" % (rel, n, "; ".join(whats),
                                         line.strip()))
                found += 1
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    root = os.path.abspath(root)
    if not self_test():
        return 1
    found = check_tree(root)
    if found:
        print("%d line(s) cite something outside the repository: cite the "
              "man page section (gptimgfs(1), SECTION) or a doc/ page"
              % found)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
