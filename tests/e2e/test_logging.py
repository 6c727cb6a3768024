"""Where the log goes (gptimgfs(1), OPTIONS, log=): syslog by default once
the daemon is in the background, stderr in the foreground; log=FILE
appends time-stamped lines to FILE (0600) once detached, and the start says
where the log went; log=stderr without -f is refused, as stderr goes
nowhere in the background."""
import os
import subprocess
import unittest

from harness import BIN, wait_for
from test_mount8 import BackgroundDaemonTest


class LogFileTest(BackgroundDaemonTest):
    def start(self, *options):
        return subprocess.run(
            [BIN, "--simulate", "-o", ",".join(("data_dir=" + self.data,)
                                               + options), self.mnt],
            capture_output=True, text=True, timeout=60)

    def test_log_file(self):
        log = os.path.join(self.work, "gptimgfs.log")
        r = self.start("log=" + log)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("logging to " + log, r.stderr)
        with open(os.path.join(self.mnt, "jobs", "lh.txt"), "w") as f:
            f.write("a lighthouse at dusk\n")
        with open(os.path.join(self.mnt, "wait", "lh")) as f:
            self.assertEqual(f.readline().strip(), "completed")
        self.assertEqual(os.stat(log).st_mode & 0o777, 0o600)

        def logged():
            with open(log) as f:
                return [line for line in f if "jobs/lh.txt" in line]
        lines = wait_for(logged, what="the job's line in the log file")
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
                         r"gptimgfs\[\d+\]: jobs/lh.txt: task \d+ queued")

    def test_stderr_in_the_background_refused(self):
        r = self.start("log=stderr")
        self.assertEqual(r.returncode, 1)
        self.assertIn("log=stderr", r.stderr)
        self.assertIn("-f", r.stderr)

    def test_relative_path_refused(self):
        r = self.start("log=gptimgfs.log")
        self.assertEqual(r.returncode, 1)
        self.assertIn("absolute path", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
