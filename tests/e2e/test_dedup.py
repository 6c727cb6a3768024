"""No accidental spending, and no image lost (gptimgfs(1), JOBS, OUTPUT): an
identical rewrite submits nothing; a changed prompt or sidecar makes a new
task whose outputs take NAME.png while the old ones move to history names;
a failed job is retried by writing it again; removing a prompt forgets an
ended job but never an image that was paid for."""
import calendar
import errno
import os
import re
import subprocess
import time

from harness import (MountedTest, main, settle, spent, status_fields,
                     user_prompts, wait_for)

PNG = b"\x89PNG\r\n\x1a\n"
XATTRS = ("user.gptimgfs.prompt", "user.gptimgfs.task_id",
          "user.gptimgfs.options", "user.xdg.origin.url")


def history_re(base, ext="png"):
    """BASE~<YYYYMMDDTHHMMSSZ>.EXT (a -N may make it unique)."""
    return re.compile(r"^%s~(\d{8}T\d{6}Z)(-\d+)?\.%s$" %
                      (re.escape(base), re.escape(ext)))


class DedupBase(MountedTest):
    def fields(self, name):
        return status_fields(self.m.status(name))

    def write_prompt(self, name, prompt):
        fd = os.open(self.m.p("jobs", name + ".txt"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, prompt.encode() + b"\n")
        finally:
            os.close(fd)

    def xattrs(self, rel):
        return {k: os.getxattr(self.m.p(rel), k).decode() for k in XATTRS}

    def image(self, rel):
        with open(self.m.p(rel), "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], PNG, rel)
        return data

    def pngs(self, prefix):
        return sorted(n for n in os.listdir(self.m.p("out"))
                      if n.startswith(prefix) and n.endswith(".png"))

    def wait_task_id(self, name):
        """Until the API has accepted NAME's current task: its id."""
        def known():
            try:
                first, f = self.fields(name)
            except FileNotFoundError:
                return None
            self.assertNotIn(first, ("failed",), f)
            return f.get("task_id")
        return wait_for(known, what="a task_id for " + name)


class DedupTest(DedupBase):
    def test_identical_rewrite_submits_nothing(self):
        self.write_prompt("same", "a quiet harbour")
        before = self.done("same")
        with open(self.m.p("out/same.png"), "rb") as f:
            image = f.read()
        for _ in range(3):
            self.write_prompt("same", "a quiet harbour")
        settle(self)
        self.assertEqual(spent(self), (1, 1))
        first, after = self.fields("same")
        self.assertEqual(first, "completed")
        self.assertEqual(after["task_id"], before["task_id"])
        self.assertEqual(after["submitted"], before["submitted"])
        self.assertEqual(self.pngs("same"), ["same.png"])
        self.assertEqual(self.image("out/same.png"), image)

    def test_identical_rewrite_with_sidecar_submits_nothing(self):
        self.m.write("jobs/sc.opts", "aspect_ratio = 16:9\n")
        self.write_prompt("sc", "a wide valley")
        before = self.done("sc")
        self.m.write("jobs/sc.opts", "aspect_ratio = 16:9\n")
        self.write_prompt("sc", "a wide valley")
        settle(self)
        self.assertEqual(spent(self), (1, 1))
        self.assertEqual(self.fields("sc")[1]["task_id"], before["task_id"])

    def test_changed_prompt_keeps_old_image_in_history(self):
        t0 = time.time()
        self.write_prompt("h", "a lighthouse at dusk")
        old = self.done("h")
        old_bytes = self.image("out/h.png")
        old_x = self.xattrs("out/h.png")
        old_mtime = os.stat(self.m.p("out/h.png")).st_mtime_ns
        self.assertEqual(old_x["user.gptimgfs.prompt"], "a lighthouse at dusk")
        self.assertEqual(old_x["user.gptimgfs.task_id"], old["task_id"])

        self.write_prompt("h", "a lighthouse at dawn")
        new = self.done("h")
        t1 = time.time()
        self.assertNotEqual(new["task_id"], old["task_id"])
        self.assertEqual(new["outputs"], "out/h.png")
        x = self.xattrs("out/h.png")
        self.assertEqual(x["user.gptimgfs.prompt"], "a lighthouse at dawn")
        self.assertEqual(x["user.gptimgfs.task_id"], new["task_id"])

        names = self.pngs("h")
        self.assertEqual(len(names), 2, names)
        hist = [n for n in names if n != "h.png"]
        m = history_re("h").match(hist[0])
        self.assertTrue(m, hist)
        stamp = calendar.timegm(time.strptime(m.group(1), "%Y%m%dT%H%M%SZ"))
        self.assertGreaterEqual(stamp, int(t0) - 1)
        self.assertLessEqual(stamp, t1 + 1)
        # the old image, whole, with its own attributes
        self.assertEqual(self.image("out/" + hist[0]), old_bytes)
        self.assertEqual(self.xattrs("out/" + hist[0]), old_x)
        self.assertEqual(os.stat(self.m.p("out", hist[0])).st_mtime_ns,
                         old_mtime)
        # nothing lost: one image per completed task
        settle(self)
        self.assertEqual(spent(self), (2, 2))
        self.assertEqual(len(self.pngs("h")), 2)

    def test_changed_sidecar_makes_new_task(self):
        self.write_prompt("sd", "a mountain lake")
        first = self.done("sd")
        self.assertEqual(first["aspect_ratio"], "auto")

        # writing a sidecar submits nothing by itself
        self.m.write("jobs/sd.opts", "aspect_ratio = 16:9\n")
        settle(self)
        self.assertEqual(spent(self), (1, 1))
        self.assertEqual(self.fields("sd")[1]["task_id"], first["task_id"])

        # the same prompt again, with the new sidecar: a new task
        self.write_prompt("sd", "a mountain lake")
        second = self.done("sd")
        self.assertNotEqual(second["task_id"], first["task_id"])
        self.assertEqual(second["aspect_ratio"], "16:9")
        body = self.sim.requests()[-1]["body"]
        self.assertEqual(body["input"]["aspect_ratio"], "16:9")
        self.assertEqual(body["input"]["prompt"], "a mountain lake")

        # removing the sidecar submits nothing; the next write does
        os.unlink(self.m.p("jobs/sd.opts"))
        settle(self)
        self.assertEqual(spent(self), (2, 2))
        self.write_prompt("sd", "a mountain lake")
        third = self.done("sd")
        self.assertNotEqual(third["task_id"], second["task_id"])
        self.assertEqual(third["aspect_ratio"], "auto")
        settle(self)
        self.assertEqual(spent(self), (3, 3))
        self.assertEqual(user_prompts(self), {"a mountain lake": 3})
        self.assertEqual(len(self.pngs("sd")), 3)

    def test_failed_job_is_retried_by_writing_it_again(self):
        self.sim.fault(endpoint="create", action="error", status=400,
                       code="invalid_request", message="simulated refusal",
                       count=1)
        self.write_prompt("fl", "a flag in the wind")
        failed = self.done("fl", "failed")
        self.assertTrue(failed["error"].startswith("invalid_request: "),
                        failed)
        self.assertEqual(spent(self), (1, 0))

        self.write_prompt("fl", "a flag in the wind")
        self.done("fl")
        self.assertEqual(self.pngs("fl"), ["fl.png"])
        # completed now: the same prompt again is not spent twice
        self.write_prompt("fl", "a flag in the wind")
        settle(self)
        self.assertEqual(spent(self), (2, 1))

    def test_task_failed_upstream_is_retried(self):
        prompt = "a storm [sim:fail=upstream_error]"
        self.write_prompt("st", prompt)
        first = self.done("st", "failed")
        self.assertTrue(first["error"].startswith("upstream_error: "), first)
        self.write_prompt("st", prompt)
        second = self.done("st", "failed")
        self.assertNotEqual(second["task_id"], first["task_id"])
        settle(self)
        self.assertEqual(spent(self), (2, 2))
        self.assertEqual(user_prompts(self), {prompt: 2})
        self.assertEqual(self.pngs("st"), [])

    def test_several_outputs(self):
        self.write_prompt("m", "three cats [sim:outputs=3]")
        fields = self.done("m")
        self.assertEqual(fields["outputs"], "out/m.png out/m~2.png out/m~3.png")
        self.assertEqual(self.pngs("m"), ["m.png", "m~2.png", "m~3.png"])
        urls = set()
        for n in ("m.png", "m~2.png", "m~3.png"):
            self.image("out/" + n)
            x = self.xattrs("out/" + n)
            self.assertEqual(x["user.gptimgfs.task_id"], fields["task_id"])
            self.assertEqual(x["user.gptimgfs.prompt"],
                             "three cats [sim:outputs=3]")
            urls.add(x["user.xdg.origin.url"])
        self.assertEqual(len(urls), 3)

        # a new task with three outputs: the old three go to history
        self.write_prompt("m", "three dogs [sim:outputs=3]")
        fields = self.done("m")
        self.assertEqual(fields["outputs"], "out/m.png out/m~2.png out/m~3.png")
        names = self.pngs("m")
        self.assertEqual(len(names), 6, names)
        for base in ("m", "m~2", "m~3"):
            hist = [n for n in names if history_re(base).match(n)]
            self.assertEqual(len(hist), 1, (base, names))
            self.assertEqual(
                self.xattrs("out/" + hist[0])["user.gptimgfs.prompt"],
                "three cats [sim:outputs=3]")
            self.assertEqual(
                self.xattrs("out/%s.png" % base)["user.gptimgfs.prompt"],
                "three dogs [sim:outputs=3]")

    def test_fewer_outputs_retire_the_extra_names(self):
        """out/NAME~2.png is the current task's second output: when the new
        task has one output, the old NAME~2.png and NAME~3.png move to
        history too instead of passing for the new task's."""
        self.write_prompt("f", "three owls [sim:outputs=3]")
        self.done("f")
        self.write_prompt("f", "one owl")
        fields = self.done("f")
        self.assertEqual(fields["outputs"], "out/f.png")
        names = self.pngs("f")
        self.assertEqual(len(names), 4, names)
        self.assertNotIn("f~2.png", names)
        self.assertNotIn("f~3.png", names)
        for base in ("f", "f~2", "f~3"):
            self.assertEqual(
                len([n for n in names if history_re(base).match(n)]), 1,
                (base, names))

    def test_rm_prompt_of_ended_job(self):
        self.write_prompt("gone", "a sand castle")
        self.done("gone")
        image = self.image("out/gone.png")
        os.unlink(self.m.p("jobs/gone.txt"))
        self.assertErrno(errno.ENOENT, os.stat, self.m.p("status/gone"))
        self.assertErrno(errno.ENOENT, open, self.m.p("status/gone"))
        self.assertErrno(errno.ENOENT, open, self.m.p("wait/gone"))
        self.assertNotIn("gone", os.listdir(self.m.p("status")))
        self.assertNotIn("gone", os.listdir(self.m.p("wait")))
        self.assertEqual(self.image("out/gone.png"), image)
        settle(self)
        self.assertEqual(spent(self), (1, 1))

    def test_every_paid_image_is_kept(self):
        prompts = ["a lantern, take %d" % i for i in range(5)]
        for p in prompts:
            self.write_prompt("n", p)
            self.done("n")
        names = self.pngs("n")
        self.assertEqual(len(names), len(prompts), names)
        self.assertEqual(
            sorted(self.xattrs("out/" + n)["user.gptimgfs.prompt"]
                   for n in names), sorted(prompts))
        self.assertEqual(self.xattrs("out/n.png")["user.gptimgfs.prompt"],
                         prompts[-1])
        for n in names:
            if n != "n.png":
                self.assertTrue(history_re("n").match(n), n)
        settle(self)
        self.assertEqual(spent(self), (5, 5))

    def test_new_image_readable_when_wait_returns(self):
        """`cat wait/NAME && cp out/NAME.png DEST` after each rewrite gets
        the new image, though out/NAME.png was looked up (and may be cached
        by the kernel) while it meant the previous one. The window is small:
        many turns, the reader opening out/ right after wait/ answers."""
        dest = os.path.join(self.workdir, "copy.png")
        turns = 30
        for i in range(turns):
            prompt = "a spinning top, turn %d" % i
            self.write_prompt("top", prompt)
            if i % 5 == 4:
                r = subprocess.run(
                    "cat wait/top >/dev/null && cp out/top.png %s" % dest,
                    shell=True, cwd=self.m.path, capture_output=True,
                    text=True, timeout=30)
                self.assertEqual(r.returncode, 0,
                                 "turn %d: %s" % (i, r.stderr))
                with open(dest, "rb") as f:
                    data = f.read()
            else:
                with open(self.m.p("wait/top")) as f:
                    self.assertTrue(f.read().startswith("completed\n"))
                try:
                    with open(self.m.p("out/top.png"), "rb") as f:
                        data = f.read()
                except OSError as e:
                    self.fail("turn %d: wait/top said completed, then "
                              "out/top.png: %s" % (i, e))
            self.assertEqual(
                self.xattrs("out/top.png")["user.gptimgfs.prompt"], prompt)
            self.assertEqual(data, self.image("out/top.png"))
        self.assertEqual(len(self.pngs("top")), turns)


class InFlightTest(DedupBase):
    """Tasks that stay pending and processing long enough to be rewritten
    or removed while the API works on them."""
    sim_pending = 0.5
    sim_processing = 0.5

    def test_rewrite_while_in_flight(self):
        self.write_prompt("fl", "a kite, first")
        first_id = self.wait_task_id("fl")
        self.write_prompt("fl", "a kite, second")
        fields = self.done("fl")
        self.assertNotEqual(fields["task_id"], first_id)
        # both were paid: both images land
        wait_for(lambda: len(self.pngs("fl")) == 2,
                 what="both images in out/")
        names = self.pngs("fl")
        x = self.xattrs("out/fl.png")
        self.assertEqual(x["user.gptimgfs.prompt"], "a kite, second")
        self.assertEqual(x["user.gptimgfs.task_id"], fields["task_id"])
        hist = [n for n in names if n != "fl.png"]
        self.assertTrue(history_re("fl").match(hist[0]), names)
        x = self.xattrs("out/" + hist[0])
        self.assertEqual(x["user.gptimgfs.prompt"], "a kite, first")
        self.assertEqual(x["user.gptimgfs.task_id"], first_id)
        self.image("out/" + hist[0])
        self.assertEqual(spent(self), (2, 2))
        self.assertEqual(fields["outputs"], "out/fl.png")

    def test_rm_prompt_in_flight(self):
        self.write_prompt("rm", "a paper lantern")
        tid = self.wait_task_id("rm")
        os.unlink(self.m.p("jobs/rm.txt"))

        def landed():
            for n in self.pngs("rm"):
                if self.xattrs("out/" + n)["user.gptimgfs.task_id"] == tid:
                    return n
            return None
        name = wait_for(landed, what="the image of the removed job")
        self.image("out/" + name)
        self.assertEqual(
            self.xattrs("out/" + name)["user.gptimgfs.prompt"],
            "a paper lantern")
        # once ended, the job is forgotten
        wait_for(lambda: "rm" not in os.listdir(self.m.p("status")),
                 what="status/rm to go")
        self.assertErrno(errno.ENOENT, os.stat, self.m.p("status/rm"))
        self.assertEqual(spent(self), (1, 1))

    def test_rapid_rewrites_lose_no_paid_image(self):
        prompts = ["a comet, take %d" % i for i in range(5)]
        ids = []
        for p in prompts:
            self.write_prompt("c", p)
            ids.append(self.wait_task_id("c"))
        self.assertEqual(len(set(ids)), len(prompts))
        self.done("c")
        wait_for(lambda: len(self.pngs("c")) == len(prompts),
                 what="%d images in out/" % len(prompts))
        names = self.pngs("c")
        self.assertEqual(
            sorted(self.xattrs("out/" + n)["user.gptimgfs.task_id"]
                   for n in names), sorted(ids))
        self.assertEqual(
            sorted(self.xattrs("out/" + n)["user.gptimgfs.prompt"]
                   for n in names), sorted(prompts))
        self.assertEqual(self.xattrs("out/c.png")["user.gptimgfs.prompt"],
                         prompts[-1])
        self.assertEqual(spent(self), (5, 5))


if __name__ == "__main__":
    main()
