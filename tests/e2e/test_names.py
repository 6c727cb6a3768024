"""Names in out/: out/NAME.EXT is always job NAME's own newest first image.
Further images are NAME~2.EXT ... NAME~16.EXT, older ones
NAME~YYYYMMDDTHHMMSSZ.EXT and NAME~I~YYYYMMDDTHHMMSSZ.EXT; '~' is refused in
a prompt file's NAME, so none of these is, or can become, another job's
first image."""
import calendar
import errno
import os
import re
import time

from harness import MountedTest, main, settle, spent, status_fields

STAMP = r"(\d{8}T\d{6}Z)(-\d+)?"


class NamesTest(MountedTest):

    def image(self, name):
        with open(self.m.p("out", name), "rb") as f:
            return f.read()

    def prompt_of(self, name):
        return os.getxattr(self.m.p("out", name),
                           "user.gptimgfs.prompt").decode()

    def test_second_output_never_takes_another_jobs_name(self):
        self.m.write("jobs/col-2.txt", "job col-2\n")
        self.done("col-2")
        col2 = self.image("col-2.png")
        self.m.write("jobs/col.txt", "job col [sim:outputs=2]\n")
        fields = self.done("col")
        self.assertEqual(fields["outputs"], "out/col.png out/col~2.png")
        self.assertEqual(self.image("col-2.png"), col2)
        self.assertEqual(self.prompt_of("col-2.png"), "job col-2")
        self.assertEqual(self.prompt_of("col~2.png"),
                         "job col [sim:outputs=2]")
        self.assertEqual(self.prompt_of("col.png"), "job col [sim:outputs=2]")
        self.assertEqual(
            status_fields(self.m.status("col-2"))[1]["outputs"],
            "out/col-2.png")
        self.assertEqual(sorted(os.listdir(self.m.p("out"))),
                         ["col-2.png", "col.png", "col~2.png"])

    def test_rewrite_moves_outputs_to_stamped_names(self):
        self.m.write("jobs/h.txt", "first [sim:outputs=2]\n")
        self.done("h")
        first = {n: self.image(n) for n in ("h.png", "h~2.png")}
        mtime = os.stat(self.m.p("out/h.png")).st_mtime
        self.m.write("jobs/h.txt", "second [sim:outputs=2]\n")
        fields = self.done("h")
        self.assertEqual(fields["outputs"], "out/h.png out/h~2.png")
        names = sorted(os.listdir(self.m.p("out")))
        self.assertEqual(len(names), 4, names)
        for base in ("h", "h~2"):
            hist = [n for n in names
                    if re.match(r"^%s~%s\.png$" % (re.escape(base), STAMP),
                                n)]
            self.assertEqual(len(hist), 1, (base, names))
            self.assertEqual(self.image(hist[0]), first[base + ".png"])
            self.assertEqual(self.prompt_of(hist[0]),
                             "first [sim:outputs=2]")
            self.assertEqual(self.prompt_of(base + ".png"),
                             "second [sim:outputs=2]")
            # stamped with the older image's own completion time, UTC
            stamp = re.search(STAMP, hist[0]).group(1)
            when = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
            self.assertEqual(when, int(mtime))

    def test_tilde_in_prompt_name_refused(self):
        jobs = self.m.p("jobs")
        for name in ("a~b.txt", "~.txt", "x~2.txt"):
            with self.subTest(name=name):
                self.assertErrno(errno.EINVAL, os.open,
                                 os.path.join(jobs, name),
                                 os.O_WRONLY | os.O_CREAT, 0o644)
        self.m.write("jobs/tmp.part", "a cat\n")
        self.assertErrno(errno.EINVAL, os.rename,
                         os.path.join(jobs, "tmp.part"),
                         os.path.join(jobs, "a~b.txt"))
        # other files may hold '~': backups, swap files, notes
        for name in ("x.txt~", ".x.txt.swp", "a~b.md", "~notes"):
            self.m.write("jobs/" + name, "not a prompt\n")
        self.assertEqual(
            sorted(os.listdir(jobs)),
            sorted([".x.txt.swp", "a~b.md", "tmp.part", "x.txt~", "~notes"]))
        self.assertEqual(os.listdir(self.m.p("status")), [])
        log = self.m.read_log()
        self.assertIn('"a~b.txt" refused', log)
        self.assertIn("'~'", log)
        self.assertEqual(self.sim.stats()["create_requests"], 0)

    def test_tilde_prompt_file_of_an_older_version_never_sent(self):
        # created behind the daemon's back, as an older version allowed
        with open(os.path.join(self.m.data_dir, "jobs", "a~b.txt"), "w") as f:
            f.write("a cat\n")
        fd = os.open(self.m.p("jobs/a~b.txt"), os.O_WRONLY | os.O_TRUNC)
        os.write(fd, b"a cat, again\n")
        os.close(fd)
        rc, text = self.m.wait("a~b")
        first, fields = status_fields(text)
        self.assertNotEqual(rc, 0, text)
        self.assertEqual(first, "failed", text)
        self.assertTrue(fields["error"].startswith(
            "invalid_input: jobs/a~b.txt: the name holds '~'"),
            fields["error"])
        settle(self)
        self.assertEqual(spent(self), (0, 0))


if __name__ == "__main__":
    main()
