"""The data directory misbehaving (gptimgfs(1), JOBS, FILES): a full disk,
an unwritable records directory, a torn or corrupt record, a lock held by
another process. The affected jobs fail clearly (status/NAME and wait/NAME
say store_failed and why once the write has ended: the prompt file is
submitted at its last close's RELEASE, after close() has returned, so
close() cannot carry the error; write() and rename() still do), nothing is sent for a job
that could not be recorded, the daemon stays up and serves everything
else, and it works again once the cause is gone.

Run as root: a tmpfs is mounted for the disk-full cases and `chattr +i`
makes a directory unwritable even for root (mode bits do not stop root).
Both are undone in cleanups that run when a test fails, too."""
import errno
import fcntl
import json
import os
import subprocess
import tempfile
import shutil

from harness import (Mount, MountedTest, Sim, main, reseal, settle, spent,
                     status_fields, wait_for)

NO_SPACE = os.strerror(errno.ENOSPC)          # "No space left on device"


def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(argv), r.stderr.strip()))


class StoreBase(MountedTest):
    """MountedTest whose data directory may live on a small tmpfs."""

    tmpfs_size = None          # e.g. "2m": data_dir on a tmpfs that size

    def setUp(self):
        self.assertEqual(os.geteuid(), 0, "run the e2e tests as root")
        self.workdir = tempfile.mkdtemp(prefix="gptimgfs-e2e-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        data_dir = None
        if self.tmpfs_size:
            self.fsroot = os.path.join(self.workdir, "fs")
            os.mkdir(self.fsroot)
            run("mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" %
                self.tmpfs_size, "gptimgfs-e2e", self.fsroot)
            self.addCleanup(self.umount_tmpfs)
            data_dir = os.path.join(self.fsroot, "data")
            self.filler = None
        self.sim = Sim(self.workdir, self.sim_pending, self.sim_processing)
        self.addCleanup(self.sim.close)
        self.m = self.new_mount(data_dir)
        self.addCleanup(self.dump_log_on_failure)
        self.m.start()

    def new_mount(self, data_dir=None, name="mnt"):
        m = Mount(self.workdir, self.sim.url, self.mount_options, name=name)
        if data_dir:
            m.data_dir = data_dir
        self.addCleanup(m.cleanup)
        return m

    def remount(self):
        data_dir = self.m.data_dir
        self.m.unmount()
        self.m = self.new_mount(data_dir)
        self.m.start()

    def umount_tmpfs(self):
        if self.filler is not None:
            os.close(self.filler)
            self.filler = None
        if subprocess.run(["umount", self.fsroot],
                          stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["umount", "-l", self.fsroot])

    # -- the disk ----------------------------------------------------------
    def fill(self):
        """Fill the tmpfs with a file beside (not in) the data directory,
        until not one block is left."""
        path = os.path.join(self.fsroot, "filler")
        self.filler = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                              0o600)
        chunk = b"\0" * 65536
        while True:
            try:
                os.write(self.filler, chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 4096:
                    break
                chunk = chunk[:4096]
        self.assertEqual(os.statvfs(self.fsroot).f_bavail, 0)

    def free(self, keep=None):
        """Give the space back: all of it, or all but `keep` bytes."""
        os.ftruncate(self.filler, keep or 0)
        if not keep:
            os.close(self.filler)
            self.filler = None
            os.unlink(os.path.join(self.fsroot, "filler"))

    # -- the user's view -----------------------------------------------------
    def assert_up(self, done=("ok",)):
        """The daemon is alive and everything that worked still does."""
        self.assertIsNone(self.m.proc.poll(), "the daemon died")
        self.assertEqual(sorted(os.listdir(self.m.path)),
                         ["credits", "jobs", "out", "progress", "status",
                          "wait"])
        for name in done:
            self.assertEqual(self.m.status(name).splitlines()[0],
                             "completed")
            with open(self.m.p("out", name + ".png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            rc, _ = self.m.wait(name)
            self.assertEqual(rc, 0)
        with open(self.m.p("credits")) as f:
            self.assertTrue(f.readline().strip())

    def write_prompt(self, name, data):
        """open, write, close jobs/NAME.txt: (write errno, close errno),
        None where the call succeeded."""
        fd = os.open(self.m.p("jobs", name + ".txt"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        werr = cerr = None
        try:
            self.assertEqual(os.write(fd, data), len(data))
        except OSError as e:
            werr = e.errno
        try:
            os.close(fd)
        except OSError as e:
            cerr = e.errno
        return werr, cerr

    def assert_store_failed(self, name, why):
        first, fields = status_fields(self.m.status_after_write(name))
        self.assertEqual(first, "failed", fields)
        self.assertTrue(fields["error"].startswith("store_failed: "),
                        fields["error"])
        self.assertIn(why, fields["error"])
        self.assertNotIn("task_id", fields)
        r = subprocess.run(["cat", self.m.p("wait", name)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("error: store_failed: ", r.stdout)


# ---------------------------------------------------------------------------
class DiskFullTest(StoreBase):
    tmpfs_size = "2m"

    def test_submission_on_a_full_disk(self):
        rc, text = self.m.submit("ok", "a cat before the disk filled")
        self.assertEqual(rc, 0, text)
        before = spent(self)
        self.fill()

        # not even the prompt fits: write() fails with ENOSPC; the job
        # cannot be recorded (close() has returned before the submission)
        self.assertEqual(self.write_prompt("x", b"a cat on a full disk\n"),
                         (errno.ENOSPC, None))
        self.assert_store_failed("x", NO_SPACE)
        self.assert_up()

        # the prompt fits (one block freed) but the job's record does not:
        # write() succeeds; the status says why nothing was sent
        self.free(keep=os.fstat(self.filler).st_size - 4096)
        self.assertEqual(self.write_prompt("y", b"a cat with no record\n"),
                         (None, None))
        with open(self.m.p("jobs/y.txt"), "rb") as f:
            self.assertEqual(f.read(), b"a cat with no record\n")
        self.assert_store_failed("y", NO_SPACE)
        self.assertIn("nothing was sent", self.m.status("y"))

        # what a shell user sees
        r = subprocess.run(["bash", "-c", "echo 'a bash cat' > jobs/z.txt"],
                           cwd=self.m.path, capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(NO_SPACE, r.stderr)
        self.assert_store_failed("z", NO_SPACE)

        self.assert_up()
        self.assertEqual(spent(self), before, "a job was sent")

        # space again: writing the prompts again submits them
        self.free()
        for name, prompt in (("x", "a cat on a full disk"),
                             ("y", "a cat with no record"),
                             ("z", "a bash cat")):
            rc, text = self.m.submit(name, prompt)
            self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                             text)
        self.assertEqual(spent(self), (before[0] + 3, before[1] + 3))
        self.assertIsNone(self.m.proc.poll())
        # and what was recorded survives a remount
        self.remount()
        for name in ("ok", "x", "y", "z"):
            self.assertEqual(self.m.status(name).splitlines()[0],
                             "completed")

    def test_disk_fills_while_the_image_is_made(self):
        """The task is created (paid for), then the disk fills before its
        image arrives. The job must say why it has no image; once there is
        space again the image it paid for must arrive without a second
        task being created (gptimgfs(1), OUTPUT: no image that was paid for
        is deleted; RETRIES, Download: a full disk is retried for as long as
        it takes, as the image waits at the API)."""
        rc, text = self.m.submit("ok", "a cat before the disk filled")
        self.assertEqual(rc, 0, text)
        self.sim.configure(processing_seconds=2.0)
        self.m.write("jobs/d.txt", "a cat that is paid for\n")
        tid = wait_for(
            lambda: status_fields(self.m.status("d"))[1].get("task_id"),
            what="the task to be created")
        self.assertIn(self.m.status("d").splitlines()[0],
                      ("pending", "processing"))
        self.fill()
        # the job says why, as an error or as a note while it retries
        text = wait_for(lambda: (lambda t: t if NO_SPACE in t else None)(
            self.m.status("d")), timeout=30,
            what="status/d to mention the full disk")
        first, fields = status_fields(text)
        if first == "failed":
            self.assertRegex(fields["error"],
                             r"^(download_failed|store_failed): ")
            self.assertIn(NO_SPACE, fields["error"])
        else:
            self.assertEqual(first, "downloading", text)
            self.assertIn(NO_SPACE, fields.get("note", ""))
        self.assertEqual(fields["task_id"], tid)
        self.assert_up()
        self.assertEqual(os.listdir(self.m.p("out")), ["ok.png"])

        # space again: the image that was paid for arrives, no new task
        self.free()
        try:
            wait_for(lambda: self.m.status("d").splitlines()[0] ==
                     "completed", timeout=30,
                     what="the paid-for image after space was freed")
        except AssertionError:
            self.fail("the image of task %s was paid for and is lost: "
                      "after freeing space status/d still says:\n%s"
                      % (tid, self.m.status("d")))
        rc, text = self.m.wait("d")
        self.assertEqual(rc, 0, text)
        self.assertEqual(status_fields(text)[1]["task_id"], tid)
        with open(self.m.p("out/d.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.sim.stats()["creates"], 2)


# ---------------------------------------------------------------------------
class UnwritableTest(StoreBase):
    """chattr +i: no file may be created, renamed or removed in the
    directory, whoever asks (the test file system is ext4)."""

    def immutable(self, sub):
        path = os.path.join(self.m.data_dir, sub)
        self.addCleanup(subprocess.run, ["chattr", "-i", path],
                        stderr=subprocess.DEVNULL)
        run("chattr", "+i", path)
        r = subprocess.run(["lsattr", "-d", path], capture_output=True,
                           text=True)
        self.assertIn("i", r.stdout.split()[0], r.stdout)
        return path

    def test_records_directory_unwritable(self):
        rc, text = self.m.submit("ok", "a cat before")
        self.assertEqual(rc, 0, text)
        before = spent(self)
        records = self.immutable("records")

        self.assertEqual(self.write_prompt("x", b"a cat unrecorded\n"),
                         (None, None))
        self.assert_store_failed("x", os.strerror(errno.EPERM))
        self.assertIn("nothing was sent", self.m.status("x"))
        # the prompt file itself is the user's and was kept
        with open(self.m.p("jobs/x.txt")) as f:
            self.assertEqual(f.read(), "a cat unrecorded\n")
        # a shell user: `echo > file`, then wait/ says it as soon as the
        # write has ended
        r = subprocess.run("echo 'a shell cat' > jobs/s.txt; cat wait/s",
                           shell=True, cwd=self.m.path, capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        first, fields = status_fields(r.stdout)
        self.assertEqual(first, "failed", r.stdout)
        self.assertTrue(fields["error"].startswith("store_failed: "))
        self.assert_up()
        self.assertEqual(spent(self), before, "an unrecorded job was sent")
        self.assertNotIn("a cat unrecorded", self.sim.prompts())

        # undone: writing the prompt again works
        run("chattr", "-i", records)
        rc, text = self.m.submit("x", "a cat unrecorded")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        self.assertEqual(spent(self), (before[0] + 1, before[1] + 1))

    def test_job_in_flight_while_records_unwritable(self):
        """A task already created goes on: its image lands in out/ (the
        records are bookkeeping, the image is paid for), and after the
        next mount nothing is created again."""
        rc, text = self.m.submit("ok", "a cat before")
        self.assertEqual(rc, 0, text)
        self.sim.configure(processing_seconds=1.0)
        self.m.write("jobs/fly.txt", "a bird in flight\n")
        tid = wait_for(
            lambda: status_fields(self.m.status("fly"))[1].get("task_id"),
            what="the task to be created")
        records = self.immutable("records")
        rc, text = self.m.wait("fly")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        with open(self.m.p("out/fly.png"), "rb") as f:
            image = f.read()
        self.assert_up(("ok", "fly"))
        run("chattr", "-i", records)
        self.remount()
        rc, text = self.m.wait("fly")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        self.assertEqual(status_fields(text)[1]["task_id"], tid)
        self.assertEqual(sorted(os.listdir(self.m.p("out"))),
                         ["fly.png", "ok.png"])
        with open(self.m.p("out/fly.png"), "rb") as f:
            self.assertEqual(f.read(), image)
        settle(self)
        self.assertEqual(spent(self), (2, 2))

    def test_jobs_directory_unwritable(self):
        rc, text = self.m.submit("ok", "a cat before")
        self.assertEqual(rc, 0, text)
        jobs = self.immutable("jobs")
        # the stored directory refuses the new file: so does the mount
        self.assertErrno(errno.EPERM, os.open, self.m.p("jobs/n.txt"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        self.assertErrno(errno.EPERM, os.unlink, self.m.p("jobs/ok.txt"))
        self.assertEqual(os.listdir(self.m.p("jobs")), ["ok.txt"])
        self.assertEqual(os.listdir(self.m.p("status")), ["ok"])
        self.assert_up()
        run("chattr", "-i", jobs)
        rc, text = self.m.submit("n", "a cat after")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"),
                         text)
        self.assertEqual(self.sim.stats()["creates"], 2)


# ---------------------------------------------------------------------------
class CorruptStoreTest(StoreBase):
    def records(self):
        d = os.path.join(self.m.data_dir, "records")
        return d, sorted(os.listdir(d))

    def record_of(self, name):
        d, files = self.records()
        for f in files:
            if f.endswith(".json") and not f.startswith("."):
                with open(os.path.join(d, f)) as fh:
                    if json.load(fh)["name"] == name:
                        return os.path.join(d, f)
        raise AssertionError("no record of " + name)

    def snapshot(self, names):
        snap = {}
        for n in names:
            first, fields = status_fields(self.m.status(n))
            snap[n] = (first, fields.get("task_id"), fields.get("submitted"),
                       fields.get("outputs"), fields.get("error"))
        return snap

    def test_torn_and_corrupt_records_set_aside(self):
        m = self.m
        for name, prompt in (("a", "an apple"), ("b", "a banana"),
                             ("f", "a fig [sim:fail=upstream_error]"),
                             ("c", "a cherry"), ("e", "an elderberry")):
            m.write("jobs/%s.txt" % name, prompt + "\n")
            m.wait(name)
        keep = self.snapshot(["a", "f", "e"])
        with open(m.p("out/a.png"), "rb") as fh:
            image_a = fh.read()
        with open(m.p("out/b.png"), "rb") as fh:
            image_b = fh.read()
        before = spent(self)
        m.unmount()

        # b: a torn write, cut in the middle; c (the last record but
        # one): empty; a record of garbage bytes with the newest number
        rec_b, rec_c = self.record_of("b"), self.record_of("c")
        with open(rec_b, "rb") as fh:
            data = fh.read()
        with open(rec_b, "wb") as fh:
            fh.write(data[:len(data) // 2])
        open(rec_c, "wb").close()
        d, files = self.records()
        last = max(int(f.split(".")[0]) for f in files if f[0].isdigit())
        garbage = os.path.join(d, "%016d.json" % (last + 1))
        with open(garbage, "wb") as fh:
            fh.write(b"\x00\xff\x89PNG garbage\n" * 10)
        bad = [os.path.basename(p) for p in (rec_b, rec_c, garbage)]

        log_start = len(m.read_log())
        m.start()
        log = m.read_log()[log_start:]
        for f in bad:
            lines = [ln for ln in log.splitlines() if f in ln]
            self.assertTrue(lines, "no log line names %s:\n%s" % (f, log))
            self.assertTrue(any("set aside" in ln for ln in lines), lines)
        d, files = self.records()
        for f in bad:
            self.assertNotIn(f, files)
            self.assertIn("." + f + ".corrupt", files)
        # the torn bytes are kept for inspection
        with open(os.path.join(d, "." + bad[0] + ".corrupt"), "rb") as fh:
            self.assertEqual(fh.read(), data[:len(data) // 2])

        # every other job is as it was; the user's files and images too
        self.assertEqual(self.snapshot(["a", "f", "e"]), keep)
        self.assertEqual(sorted(os.listdir(m.p("jobs"))),
                         ["a.txt", "b.txt", "c.txt", "e.txt", "f.txt"])
        with open(m.p("out/a.png"), "rb") as fh:
            self.assertEqual(fh.read(), image_a)
        # an image that was paid for is never silently lost: b's stays
        self.assertIn("b.png", os.listdir(m.p("out")))
        with open(m.p("out/b.png"), "rb") as fh:
            self.assertEqual(fh.read(), image_b)
        # starting sent nothing
        settle(self)
        self.assertEqual(spent(self), before)

        # the daemon goes on: new jobs are numbered past the set-aside
        # records and everything survives the next mount
        rc, text = m.submit("g", "a grape")
        self.assertEqual(rc, 0, text)
        rc, text = m.submit("b", "a banana, again")
        self.assertEqual(rc, 0, text)
        keep = self.snapshot(["a", "b", "e", "f", "g"])
        log_start = len(m.read_log())
        self.remount()
        self.assertNotIn("set aside", self.m.read_log()[log_start:])
        self.assertEqual(self.snapshot(["a", "b", "e", "f", "g"]), keep)
        d, files = self.records()
        for f in bad:
            self.assertIn("." + f + ".corrupt", files)

    def test_record_with_wrong_fields_set_aside(self):
        """Records that parse as JSON but are not a job's (a hand edit, a
        bit flip in a field) are set aside the same way."""
        m = self.m
        for name in ("a", "b", "c"):
            rc, _ = m.submit(name, "a %s cat" % name)
            self.assertEqual(rc, 0)
        keep = self.snapshot(["a", "c"])
        m.unmount()
        rec_b = self.record_of("b")
        with open(rec_b) as fh:
            doc = json.load(fh)
        doc["state"] = "exploded"
        doc["seq"] = "not a number"
        with open(rec_b, "w") as fh:
            json.dump(doc, fh)
        # sealed as the daemon would: the fields, not the seal, are wrong
        reseal(m.data_dir, "records", os.path.basename(rec_b))
        log_start = len(m.read_log())
        m.start()
        log = m.read_log()[log_start:]
        self.assertIn(os.path.basename(rec_b), log)
        self.assertIn("set aside", log)
        self.assertEqual(self.snapshot(["a", "c"]), keep)
        self.assertNotIn("b", os.listdir(m.p("status")))
        self.assertIn("b.png", os.listdir(m.p("out")))
        rc, _ = m.submit("d", "a cat after")
        self.assertEqual(rc, 0)


# ---------------------------------------------------------------------------
class LockTest(StoreBase):
    def test_lock_held_by_a_live_process(self):
        """Whoever holds data_dir/lock (here: this test, with flock), a
        daemon on that data directory refuses to start, says why, and
        mounts nothing."""
        data_dir = os.path.join(self.workdir, "locked")
        os.mkdir(data_dir, 0o700)
        fd = os.open(os.path.join(data_dir, "lock"),
                     os.O_RDWR | os.O_CREAT, 0o600)
        self.addCleanup(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
        other = self.new_mount(data_dir, name="mnt2")
        other.start(wait=False)
        try:
            rc = other.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("a daemon on a locked data directory did not exit")
        other.log.close()
        other.proc = None
        log = other.read_log()
        self.assertNotEqual(rc, 0, log)
        self.assertFalse(os.path.ismount(other.path))
        self.assertEqual(len(log.strip().splitlines()), 1, log)
        self.assertIn(data_dir, log)
        self.assertIn("in use", log)
        self.assertIn(str(os.getpid()), log)
        # nothing was touched: no store created in the locked directory
        self.assertEqual(os.listdir(data_dir), ["lock"])
        # released (the holder ended): the same directory mounts
        fcntl.flock(fd, fcntl.LOCK_UN)
        other.start()
        rc, text = other.submit("free", "a cat after the lock")
        self.assertEqual(rc, 0, text)
        # and the first mount was never disturbed
        rc, text = self.m.submit("one", "the first mount")
        self.assertEqual(rc, 0, text)

    def test_stale_lock_file_is_no_obstacle(self):
        """A lock file left by a daemon killed with -9 (its pid dead, no
        lock held) does not keep the next daemon out."""
        rc, _ = self.m.submit("x", "a cat")
        self.assertEqual(rc, 0)
        pid = self.m.proc.pid
        self.m.kill9()
        with open(os.path.join(self.m.data_dir, "lock")) as f:
            self.assertEqual(f.read().strip(), str(pid))
        self.m.start()
        self.assertEqual(self.m.status("x").splitlines()[0], "completed")
        with open(os.path.join(self.m.data_dir, "lock")) as f:
            self.assertEqual(f.read().strip(), str(self.m.proc.pid))


if __name__ == "__main__":
    main()
