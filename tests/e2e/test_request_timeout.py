"""Waits that survive the kernel's FUSE request timeout (gptimgfs(1),
WAIT): with fs.fuse.default_request_timeout=5, a job of 40 s is waited for
by `cat wait/NAME && cp out/NAME.png`, by a Python reader and by bash's
`read`; all end
with the job, and the mount stays alive. The daemon answers a blocked read
EINTR before the kernel's limit, and the readers read again.

The sysctl is global, so ctest runs this file alone (RUN_SERIAL); the test
restores the value it found, even on failure."""
import os
import subprocess
import threading
import time

from harness import MountedTest, main, status_fields

SYSCTL = "/proc/sys/fs/fuse/default_request_timeout"
TIMEOUT_S = 5


def write_sysctl(value):
    with open(SYSCTL, "w") as f:
        f.write("%d\n" % value)


class RequestTimeoutTest(MountedTest):
    sim_pending = 5.0
    sim_processing = 35.0

    def setUp(self):
        if not os.path.exists(SYSCTL):
            self.skipTest("this kernel has no FUSE request timeout "
                          "(Linux < 6.14): nothing to survive")
        with open(SYSCTL) as f:
            before = int(f.read())
        write_sysctl(TIMEOUT_S)  # before the mount: the kernel takes it then
        self.addCleanup(write_sysctl, before)
        super().setUp()

    def python_wait(self, name, got):
        """A plain Python reader (it retries EINTR, PEP 475)."""
        try:
            with open(self.m.p("wait", name)) as f:
                got["text"] = f.read()
        except OSError as e:
            got["error"] = e

    def test_wait_outlives_the_timeout(self):
        self.assertIn("after %d s" % TIMEOUT_S, self.m.read_log())
        self.m.write("jobs/slow.txt", "a glacier calving, slowly\n")
        got = {}
        reader = threading.Thread(target=self.python_wait,
                                  args=("slow", got))
        reader.start()
        self.addCleanup(reader.join, 120)
        bash = subprocess.Popen(
            ["bash", "-c", 'IFS= read -r first < "$1/wait/slow" && '
             'echo "$first"', "bash", self.m.path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(bash.kill)
        dest = os.path.join(self.workdir, "slow.png")
        t0 = time.monotonic()
        shell = subprocess.run(
            ["sh", "-c", 'cat "$1/wait/slow" && cp "$1/out/slow.png" "$2"',
             "sh", self.m.path, dest],
            capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - t0
        self.assertEqual(shell.returncode, 0, shell.stderr)
        self.assertEqual(status_fields(shell.stdout)[0], "completed")
        # it waited through several timeouts' worth of parked reads
        self.assertGreater(elapsed, 4 * TIMEOUT_S)
        with open(dest, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        out, err = bash.communicate(timeout=60)
        self.assertEqual((bash.returncode, out, err), (0, "completed\n", ""))
        reader.join(60)
        self.assertNotIn("error", got)
        self.assertEqual(got.get("text"), shell.stdout)
        # the connection was never aborted: the mount still answers
        self.assertTrue(os.path.ismount(self.m.path))
        self.assertEqual(self.m.status("slow"), shell.stdout)
        self.assertIsNone(self.m.proc.poll())


if __name__ == "__main__":
    main()
