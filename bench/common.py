"""Shared by the bench scripts: build paths and a mounted daemon against
gptimgfs-sim, reusing the end-to-end test harness."""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

import harness  # noqa: E402


def binaries(build):
    harness.BIN = os.path.join(build, "gptimgfs")
    harness.SIM_BIN = os.path.join(build, "gptimgfs-sim")
    for b in (harness.BIN, harness.SIM_BIN):
        if not os.access(b, os.X_OK):
            sys.exit("%s: not built (cmake --build %s)" % (b, build))


class Session:
    """A simulator and a mount in a scratch directory, as a context."""

    def __init__(self, build, sim_args=(), options=()):
        binaries(build)
        self.workdir = tempfile.mkdtemp(prefix="gptimgfs-bench-")
        self.sim_args = list(sim_args)
        self.options = list(options)

    def __enter__(self):
        self.sim = harness.Sim(self.workdir, 0.0, 0.0, self.sim_args)
        self.m = harness.Mount(self.workdir, self.sim.url, self.options)
        self.m.start()
        return self

    def __exit__(self, *exc):
        self.m.cleanup()
        self.sim.close()
        import shutil
        shutil.rmtree(self.workdir, ignore_errors=True)


def build_dir():
    return sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..",
                                                               "build")
