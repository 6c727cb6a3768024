"""The core path: echo -> status -> wait -> out, through a real mount."""
import os
import stat
import subprocess

from harness import MountedTest, main, status_fields


class BasicTest(MountedTest):
    def test_echo_wait_out(self):
        rc, text = self.m.submit("lh", "a lighthouse at dusk")
        self.assertEqual(rc, 0, text)
        first, fields = status_fields(text)
        self.assertEqual(first, "completed")
        self.assertEqual(fields["outputs"], "out/lh.png")
        self.assertEqual(fields["credits"], "4.7")
        self.assertIn("task_id", fields)
        with open(self.m.p("out/lh.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_status_exists_when_close_returns(self):
        for i in range(20):
            r = subprocess.run(
                "echo 'a cat %d' > jobs/c%d.txt; cat status/c%d" % (i, i, i),
                shell=True, cwd=self.m.path, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(r.stdout.splitlines()[0],
                          ("queued", "pending", "processing", "downloading",
                           "completed"))

    def test_layout_and_modes(self):
        self.assertEqual(sorted(os.listdir(self.m.path)),
                         ["credits", "jobs", "out", "progress", "status",
                          "wait"])
        # out/ is 0755 so that rm works there under default_permissions
        for d, mode in (("jobs", 0o755), ("status", 0o555), ("wait", 0o555),
                        ("out", 0o755)):
            st = os.stat(self.m.p(d))
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), mode, d)
            self.assertEqual(st.st_uid, os.getuid())
        self.m.submit("x", "a fox")
        for f in ("status/x", "wait/x", "out/x.png", "credits"):
            self.assertEqual(stat.S_IMODE(os.stat(self.m.p(f)).st_mode),
                             0o444, f)
        self.assertEqual(stat.S_IMODE(os.stat(self.m.p("jobs/x.txt")).st_mode)
                         & 0o600, 0o600)


if __name__ == "__main__":
    main()
