"""Unmount and mount again (gptimgfs(1), FILES): the user's files, every
job's status and every image come back as they were; a task in flight at
unmount completes after the next mount without being created twice; one
daemon per data directory; the data directory is created 0700."""
import os
import stat
import subprocess

from harness import (BIN, Mount, MountedTest, main, settle, spent, status_fields,
                     user_prompts, wait_for)

XATTRS = ("user.gptimgfs.prompt", "user.gptimgfs.task_id",
          "user.gptimgfs.options", "user.xdg.origin.url")


class RemountBase(MountedTest):
    def remount(self):
        """fusermount3 -u, then the same mountpoint and data directory."""
        self.m.unmount()
        self.assertFalse(os.path.ismount(self.m.path))
        self.m = Mount(self.workdir, self.sim.url, self.mount_options)
        self.addCleanup(self.m.cleanup)
        self.m.start()

    def snapshot_jobs(self):
        snap = {}
        for n in os.listdir(self.m.p("jobs")):
            st = os.stat(self.m.p("jobs", n))
            with open(self.m.p("jobs", n), "rb") as f:
                snap[n] = (f.read(), stat.S_IMODE(st.st_mode))
        return snap

    def snapshot_status(self):
        snap = {}
        for n in os.listdir(self.m.p("status")):
            first, fields = status_fields(self.m.status(n))
            snap[n] = (first, fields.get("task_id"), fields.get("submitted"),
                       fields.get("outputs"), fields.get("error"))
        return snap

    def snapshot_out(self):
        snap = {}
        for n in os.listdir(self.m.p("out")):
            p = self.m.p("out", n)
            with open(p, "rb") as f:
                data = f.read()
            snap[n] = (data, os.stat(p).st_mtime_ns,
                       {k: os.getxattr(p, k) for k in XATTRS})
        return snap


class RemountTest(RemountBase):
    def test_everything_survives_remount(self):
        m = self.m
        m.write("jobs/a.txt", "an apple\n")
        m.write("jobs/b.opts", "aspect_ratio = 16:9\n")
        m.write("jobs/b.txt", "a banana\n")
        m.write("jobs/c.txt", "a cherry [sim:outputs=2]\n")
        m.write("jobs/bad.txt", "a broken one [sim:fail=upstream_error]\n")
        m.write("jobs/notes.md", "not a prompt\n")
        m.write("jobs/.hidden.txt", b"\x00\x01 binary, hidden\n")
        os.chmod(m.p("jobs/a.txt"), 0o600)
        os.chmod(m.p("jobs/notes.md"), 0o640)
        for n in ("a", "b", "c"):
            self.assertEqual(m.wait(n)[0], 0)
        self.assertNotEqual(m.wait("bad")[0], 0)
        # a second task for a: its first image goes to history
        m.write("jobs/a.txt", "an apple, sliced\n")
        self.assertEqual(m.wait("a")[0], 0)

        jobs, status, out = (self.snapshot_jobs(), self.snapshot_status(),
                             self.snapshot_out())
        self.assertEqual(sorted(status), ["a", "b", "bad", "c"])
        self.assertEqual(len(out), 5, sorted(out))
        self.assertEqual(jobs["a.txt"][1], 0o600)
        self.assertEqual(jobs["notes.md"][1], 0o640)
        before = spent(self)

        self.remount()
        self.assertEqual(self.snapshot_jobs(), jobs)
        self.assertEqual(self.snapshot_status(), status)
        self.assertEqual(sorted(self.snapshot_out()), sorted(out))
        for n, (data, mtime, xattrs) in self.snapshot_out().items():
            self.assertEqual(data, out[n][0], n)
            self.assertEqual(mtime, out[n][1], n)
            self.assertEqual(xattrs, out[n][2], n)
        for n in ("a", "b", "c"):
            rc, text = self.m.wait(n)
            self.assertEqual((rc, text.splitlines()[0]), (0, "completed"))
        # mounting again submitted nothing
        settle(self)
        self.assertEqual(spent(self), before)

        # and the jobs go on as before: the same prompt is not spent again,
        # a new one is
        self.m.write("jobs/b.txt", "a banana\n")
        self.m.write("jobs/c.txt", "a cherry, ripe\n")
        self.assertEqual(self.m.wait("c")[0], 0)
        settle(self)
        self.assertEqual(spent(self), (before[0] + 1, before[1] + 1))
        self.assertEqual(status_fields(self.m.status("b"))[1]["task_id"],
                         status["b"][1])

    def test_second_daemon_on_same_data_dir_refuses(self):
        self.m.submit("one", "a single daemon")
        other = Mount(self.workdir, self.sim.url, name="mnt2")
        self.assertEqual(other.data_dir, self.m.data_dir)
        self.addCleanup(other.cleanup)
        other.start(wait=False)
        try:
            rc = other.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("a second daemon on %s did not exit" % other.data_dir)
        other.log.close()
        other.proc = None
        log = other.read_log()
        self.assertNotEqual(rc, 0, log)
        self.assertIn(self.m.data_dir, log)
        self.assertTrue(any(w in log.lower() for w in
                            ("in use", "another", "already", "locked")), log)
        self.assertFalse(os.path.ismount(other.path))
        # the first mount keeps working
        rc, text = self.m.submit("two", "still serving")
        self.assertEqual((rc, text.splitlines()[0]), (0, "completed"))
        self.assertEqual(self.m.status("one").splitlines()[0], "completed")

    def test_data_dir_created_0700(self):
        st = os.stat(self.m.data_dir)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertEqual(st.st_uid, os.getuid())

    def mount_default_data_dir(self, xdg):
        """A mount without data_dir=: $XDG_DATA_HOME/gptimgfs."""
        other = Mount(self.workdir, self.sim.url, name="mnt3",
                      env={"XDG_DATA_HOME": xdg})
        other.argv = lambda: [
            BIN, "-f", "-o", "api_url=%s,poll_interval=0.05" % self.sim.url,
            other.path]
        self.addCleanup(other.cleanup)
        other.start()
        data = os.path.join(xdg, "gptimgfs")
        st = os.stat(data)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        other.write("jobs/d.txt", "a default place\n")
        self.assertEqual(other.wait("d")[0], 0)
        self.assertTrue(os.path.exists(os.path.join(data, "jobs", "d.txt")))

    def test_default_data_dir_created_0700(self):
        """data_dir defaults to $XDG_DATA_HOME/gptimgfs, created 0700."""
        xdg = os.path.join(self.workdir, "xdg-data")
        os.mkdir(xdg, 0o755)
        self.mount_default_data_dir(xdg)

    def test_default_data_dir_created_with_missing_parents(self):
        """A fresh account may have no ~/.local/share yet: the missing
        $XDG_DATA_HOME is created too (0700, as the XDG base directory
        specification asks), not a reason to refuse to start."""
        xdg = os.path.join(self.workdir, "fresh-home", ".local", "share")
        self.mount_default_data_dir(xdg)
        self.assertEqual(stat.S_IMODE(os.stat(xdg).st_mode), 0o700)


class InFlightRemountTest(RemountBase):
    sim_pending = 2.0

    def test_task_in_flight_completes_after_remount(self):
        self.m.write("jobs/fly.txt", "a bird in flight\n")
        tid = wait_for(
            lambda: status_fields(self.m.status("fly"))[1].get("task_id"),
            what="the task to be created")
        self.assertEqual(self.m.status("fly").splitlines()[0], "pending")
        self.remount()
        rc, text = self.m.wait("fly")
        self.assertEqual(rc, 0, text)
        first, fields = status_fields(text)
        self.assertEqual(first, "completed")
        self.assertEqual(fields["task_id"], tid)
        self.assertEqual(os.getxattr(self.m.p("out/fly.png"),
                                     "user.gptimgfs.task_id").decode(), tid)
        self.assertEqual(user_prompts(self), {"a bird in flight": 1})
        self.assertEqual(spent(self), (1, 1))

    def test_queued_task_is_sent_after_remount(self):
        """Unmounted before its creation was answered (the API stalls):
        after the next mount the job still ends, and it was created at most
        once."""
        self.sim.fault(endpoint="create", action="stall", delay_ms=1500,
                       count=1)
        self.m.write("jobs/q.txt", "a queue of geese\n")
        wait_for(lambda: self.sim.stats()["create_requests"] == 1,
                 what="the create request")
        self.remount()
        rc, text = self.m.wait("q")
        first, fields = status_fields(text)
        self.assertIn(first, ("completed", "failed"), text)
        if first == "failed":
            self.assertTrue(fields["error"].startswith("interrupted: "), text)
        self.assertLessEqual(user_prompts(self).get("a queue of geese", 0), 1)
        self.assertEqual(self.sim.stats()["create_requests"], 1)


if __name__ == "__main__":
    main()
