"""daily_budget through a real mount: exactly the task that would exceed it
fails before anything is sent, the credits file shows what is left, the
count survives a restart, and a bad value stops the start."""
import subprocess

from harness import BIN, MountedTest, main, status_fields


class BudgetTest(MountedTest):
    mount_options = ("daily_budget=14.1",)

    def credits(self):
        r = subprocess.run(["cat", self.m.p("credits")], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        return status_fields(r.stdout)[1]

    def test_exactly_the_task_over_the_budget_fails(self):
        self.assertEqual(self.credits()["budget"], "14.1")
        self.assertEqual(self.credits()["budget_left"], "14.1")
        rc, text = self.m.submit("one", "a cat for 4.7 credits")
        self.assertEqual(rc, 0, text)
        self.m.write("jobs/two.opts", "resolution = 2k\n")
        rc, text = self.m.submit("two", "a dog for 9.4 credits")
        self.assertEqual(rc, 0, text)       # 14.1 of 14.1: fits exactly
        self.assertEqual(self.creates(), 2)

        rc, text = self.m.submit("three", "an emu for 4.7 more")
        self.assertNotEqual(rc, 0)
        first, fields = status_fields(self.m.status("three"))
        self.assertEqual(first, "failed")
        self.assertEqual(
            fields["error"],
            "budget_exceeded: the daily budget is 14.1 credits; 14.1 are "
            "spent or being sent today (0.0 of them possibly spent) and this "
            "task costs 4.7; nothing was sent (write the prompt again "
            "after midnight UTC, or raise daily_budget)")
        self.assertEqual(fields["credits"], "0 (nothing was charged)")
        self.assertEqual(self.creates(), 2)
        credits = self.credits()
        self.assertEqual(credits["spent_today"], "14.1")
        self.assertEqual(credits["possibly_spent_today"], "0.0")
        self.assertEqual(credits["budget_left"], "0.0")

        # the same day after a restart: still spent, still refused
        self.m.unmount()
        self.m.start()
        self.assertEqual(self.credits()["spent_today"], "14.1")
        rc, text = self.m.submit("three", "an emu for 4.7, again")
        self.assertNotEqual(rc, 0)
        self.assertIn("budget_exceeded", status_fields(text)[1]["error"])
        self.assertEqual(self.creates(), 2)

    def test_refused_change_keeps_the_sent_prompt_free(self):
        self.m.write("jobs/cat.opts", "resolution = 2k\n")
        rc, text = self.m.submit("cat", "a cat")
        self.assertEqual(rc, 0, text)
        self.m.write("jobs/cat.opts", "resolution = 4k\naspect_ratio = 16:9\n")
        rc, text = self.m.submit("cat", "a cat")     # 9.4 + 14.1 > 14.1
        self.assertIn("budget_exceeded", status_fields(text)[1]["error"])
        self.m.write("jobs/cat.opts", "resolution = 2k\n")
        rc, text = self.m.submit("cat", "a cat")     # what was sent: free
        self.assertEqual(rc, 0, text)
        self.assertEqual(status_fields(text)[0], "completed")
        self.assertEqual(self.creates(), 1)


class BudgetOptionTest(MountedTest):
    def test_bad_value_stops_the_start(self):
        self.m.unmount()
        for bad in ("abc", "-1", "1e3", "2000000000"):
            r = subprocess.run(
                [BIN, "-f", "-o", "daily_budget=" + bad, self.m.path],
                capture_output=True, text=True, timeout=20, env=self.m.env)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("daily_budget", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                             r.stderr)


if __name__ == "__main__":
    main()
