"""The progress file (gptimgfs(1), PROGRESS): during a batch its counts add
up to the jobs, each job counted by its status/ word; at the end every job
is completed or failed, the pace and the credits spent show, and nothing is
left; its size is its text's; poll(2) signals a change with POLLPRI."""
import os
import select

from harness import MountedTest, main

FAIL_PROMPT = "a doomed kite [sim:fail=upstream_error]"
STATES = ("queued", "pending", "processing", "downloading", "completed",
          "failed")


def parse(text):
    lines = text.splitlines()
    fields = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], fields


class ProgressTest(MountedTest):
    sim_pending = 1.0
    sim_processing = 2.0

    def progress(self):
        return parse(self.m.read("progress"))

    def test_counts_during_and_after_a_batch(self):
        names = ["p%d" % i for i in range(6)]
        for n in names:
            self.m.write("jobs/%s.txt" % n, "a lantern number %s\n" % n)
        self.m.write("jobs/bad.txt", FAIL_PROMPT + "\n")
        human, f = self.progress()
        self.assertEqual(f["jobs"], "7")
        self.assertEqual(sum(int(f[s]) for s in STATES), 7)
        self.assertLess(int(f["completed"]), 7, "ended before it was read")
        self.assertRegex(human, r"^\d+ of 7 completed, \d+ failed, ")
        # each job counted as its status/ file says, at about that moment
        words = [self.m.status(n).splitlines()[0] for n in names + ["bad"]]
        self.assertTrue(set(words) <= set(STATES), words)

        for n in names + ["bad"]:
            self.m.wait(n, timeout=60)
        human, f = self.progress()
        self.assertEqual((f["completed"], f["failed"]), ("6", "1"), f)
        for s in STATES[:4]:
            self.assertEqual(f[s], "0", s)
        self.assertEqual(human, "6 of 7 completed, 1 failed, nothing left")
        self.assertEqual(f["ended_last_300_s"], "7")
        self.assertGreater(float(f["per_minute"]), 0)
        self.assertEqual(f["eta_s"], "0")
        self.assertEqual(f["credits_held"], "0.0")
        self.assertGreaterEqual(float(f["credits_spent_today"]), 28.2)  # 6 x 4.7
        self.assertRegex(f["updated"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_size_listing_and_poll(self):
        self.assertIn("progress", os.listdir(self.m.path))
        st = os.stat(self.m.p("progress"))
        self.assertEqual(st.st_mode & 0o777, 0o444)
        self.assertEqual(st.st_size, len(self.m.read("progress").encode()))
        _, f = self.progress()
        self.assertEqual((f["jobs"], f["eta_s"]), ("0", "0"))

        fd = os.open(self.m.p("progress"), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        before = os.pread(fd, 65536, 0).decode()
        p = select.poll()
        p.register(fd, select.POLLPRI)
        self.assertEqual(p.poll(0), [])
        self.m.write("jobs/one.txt", "a single moth\n")
        events = p.poll(30000)
        self.assertEqual(len(events), 1)
        self.assertTrue(events[0][1] & select.POLLPRI, events)
        _, f = parse(os.pread(fd, 65536, 0).decode())
        self.assertEqual(f["jobs"], "1")
        self.assertNotEqual(parse(before)[1]["jobs"], f["jobs"])


if __name__ == "__main__":
    main()
