"""A store only its owner controls: a data directory another user could
change is refused at start, nothing planted in the store is followed or
deleted through a link, and a record the daemon did not write is never
sent (man gptimgfs, SECURITY, "The data directory")."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import (Mount, MountedTest, Sim, main, reseal, settle, spent,
                     status_fields)


def bait_files(workdir):
    """A folder of ours, outside the store, with a file and a folder in
    it: what planted links point to. Its contents, for comparison."""
    bait = os.path.join(workdir, "bait")
    os.makedirs(os.path.join(bait, "dir"))
    for rel, text in (("file", "bait file\n"), ("dir/inner", "inner\n"),
                      ("secret", "root only\n")):
        with open(os.path.join(bait, rel), "w") as f:
            f.write(text)
    return bait, snapshot(bait)


def snapshot(top):
    snap = {}
    for d, _, files in os.walk(top):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                snap[os.path.relpath(os.path.join(d, f), top)] = fh.read()
    return snap


class RefusedStoreTest(unittest.TestCase):
    """What a start refuses: one line naming the path and what is wrong,
    a non-zero exit, nothing mounted, nothing behind a link touched."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gptimgfs-e2e-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.sim = Sim(self.workdir)
        self.addCleanup(self.sim.close)
        self.m = Mount(self.workdir, self.sim.url)
        self.addCleanup(self.m.cleanup)
        self.bait, self.bait_before = bait_files(self.workdir)

    def first_start(self):
        """Make the store with one completed job, and stop."""
        self.m.start()
        rc, text = self.m.submit("ok", "a cat")
        self.assertEqual(rc, 0, text)
        self.m.unmount()

    def refused(self, *needles):
        log_start = (len(self.m.read_log())
                     if os.path.exists(self.m.log_path) else 0)
        self.m.start(wait=False)
        try:
            rc = self.m.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("gptimgfs did not exit")
        self.m.log.close()
        self.m.proc = None
        out = self.m.read_log()[log_start:]
        self.assertNotEqual(rc, 0, out)
        self.assertFalse(os.path.ismount(self.m.path), out)
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 1, out)
        for needle in needles:
            self.assertIn(needle, lines[0])
        self.assertEqual(snapshot(self.bait), self.bait_before)
        return lines[0]

    def test_world_writable_data_dir(self):
        os.mkdir(self.m.data_dir)
        os.chmod(self.m.data_dir, 0o777)
        self.refused(self.m.data_dir + ": writable by group or others",
                     "mode 0777")
        os.chmod(self.m.data_dir, 0o700)
        self.m.start()
        self.assertEqual(self.m.submit("ok", "a cat")[0], 0)

    def test_parent_writable_by_others(self):
        os.chmod(self.workdir, 0o777)
        self.addCleanup(os.chmod, self.workdir, 0o700)
        self.refused(self.workdir + " (above the data directory",
                     "writable by group or others without the sticky bit")
        os.chmod(self.workdir, 0o1777)
        self.m.start()
        self.assertEqual(self.m.submit("ok", "a cat")[0], 0)

    def test_symlinked_store_folder(self):
        self.first_start()
        for sub in ("out", "tmp", "records", "jobs"):
            path = os.path.join(self.m.data_dir, sub)
            os.rename(path, path + ".real")
            os.symlink(self.bait, path)
            self.refused(path + ": a symbolic link", "real directories")
            os.unlink(path)
            os.rename(path + ".real", path)
        self.m.start()
        self.assertEqual(self.m.status("ok").splitlines()[0], "completed")

    def test_symlinked_data_dir(self):
        self.first_start()
        real = self.m.data_dir + ".real"
        os.rename(self.m.data_dir, real)
        os.symlink(real, self.m.data_dir)
        self.refused(self.m.data_dir + ": a symbolic link")

    def test_lock_is_a_link(self):
        self.first_start()
        lock = os.path.join(self.m.data_dir, "lock")
        os.unlink(lock)
        os.symlink(os.path.join(self.bait, "file"), lock)
        self.refused(lock + ": not a regular file", "not followed")


class PlantedTest(MountedTest):
    """Links and records planted in the store of a stopped daemon (by
    someone who could write there once)."""

    def setUp(self):
        super().setUp()
        rc, text = self.m.submit("a", "an apple")
        self.assertEqual(rc, 0, text)
        self.bait, self.bait_before = bait_files(self.workdir)
        self.m.unmount()

    def data(self, *parts):
        return os.path.join(self.m.data_dir, *parts)

    def record_of(self, name):
        for f in os.listdir(self.data("records")):
            if f[0].isdigit():
                with open(self.data("records", f)) as fh:
                    doc = json.load(fh)
                if doc["name"] == name:
                    return f, doc
        raise AssertionError("no record of " + name)

    def plant_queued(self, seq, name, prompt):
        """A valid-looking queued record of a 4k job, and its prompt file
        in jobs/: what would be sent if the record were trusted."""
        _, doc = self.record_of("a")
        doc.pop("mac", None)
        doc.update(seq=seq, name=name, state="queued", prompt=prompt,
                   task_id="", urls=[], stored=[], embedded=[], outputs=[],
                   sent=0,
                   charge="none", options={"resolution": "4k"})
        file = "%016d.json" % seq
        with open(self.data("records", file), "w") as f:
            json.dump(doc, f)
        with open(self.data("jobs", name + ".txt"), "w") as f:
            f.write(prompt + "\n")
        return file

    def test_links_neither_followed_nor_deleted(self):
        b = self.bait
        f_bait = os.path.join(b, "file")
        # records/: a record and a leftover temporary that are links
        os.symlink(f_bait, self.data("records", "0000000000000090.json"))
        os.symlink(f_bait, self.data("records", ".0000000000000091.json.tmp"))
        # out/: metadata, sealed right, of an image that is a link
        os.symlink(os.path.join(b, "secret"),
                   self.data("out", "0000000000001440-1.png"))
        with open(self.data("out", "0000000000001440-1.png.json"), "w") as f:
            json.dump({"name": "leak.png", "job": "leak", "live": True,
                       "id": 1440, "prompt": "p", "task_id": "t",
                       "options": "{}", "url": "u", "completed": 1,
                       "completed_ns": 0}, f)
        reseal(self.m.data_dir, "out", "0000000000001440-1.png.json")
        # metadata that is itself a link
        os.symlink(f_bait, self.data("out", "0000000000001456-1.png.json"))
        # tmp/: links to a folder and a file, and a folder
        os.symlink(b, self.data("tmp", "dl-dir"))
        os.symlink(f_bait, self.data("tmp", "dl-file"))
        os.mkdir(self.data("tmp", "real"))
        with open(self.data("tmp", "real", "kept"), "w") as f:
            f.write("kept\n")
        # jobs/: a prompt file that is a link
        os.symlink(f_bait, self.data("jobs", "link.txt"))

        log_start = len(self.m.read_log())
        self.m.start()
        log = self.m.read_log()[log_start:]
        self.assertEqual(snapshot(b), self.bait_before)
        self.assertIn("records/0000000000000090.json: not a regular file",
                      log)
        self.assertIn(".0000000000000090.json.corrupt",
                      os.listdir(self.data("records")))
        self.assertIn("out/0000000000001440-1.png: image missing, not a "
                      "regular file", log)
        self.assertIn("0000000000001456-1.png.json: not a regular file",
                      log)
        self.assertIn("tmp/dl-dir: not a regular file", log)
        self.assertNotIn("leak.png", os.listdir(self.m.p("out")))
        with open(self.data("tmp", "real", "kept")) as f:
            self.assertEqual(f.read(), "kept\n")
        # the daemon goes on, and writes records past a planted temporary
        os.symlink(f_bait, self.data("records", ".0000000000000093.json.tmp"))
        rc, text = self.m.submit("b", "a banana")
        self.assertEqual((rc, status_fields(text)[0]), (0, "completed"), text)
        self.assertEqual(snapshot(b), self.bait_before)
        self.assertEqual(self.m.status("a").splitlines()[0], "completed")

    def test_planted_records_never_sent(self):
        before = self.sim.stats()["creates"]
        # copied from another store: sealed with another key
        copied = self.plant_queued(200, "copied", "a copied 4k poster")
        reseal(self.m.data_dir, "records", copied, key=os.urandom(32))
        # without a seal, as an older version (or anybody) wrote it
        self.plant_queued(201, "unsealed", "an unsealed 4k poster")

        log_start = len(self.m.read_log())
        self.m.start()
        log = self.m.read_log()[log_start:]
        self.assertIn("records/%s: not written by this store" % copied, log)
        self.assertIn("." + copied + ".corrupt",
                      os.listdir(self.data("records")))
        rc, text = self.m.wait("unsealed")
        first, fields = status_fields(text)
        self.assertEqual(first, "failed", text)
        self.assertRegex(fields["error"],
                         r"^interrupted: records/0+201\.json could not be "
                         r"verified.*nothing was sent")
        settle(self)
        self.assertEqual(spent(self), (before, before))
        self.assertFalse([p for p in self.sim.prompts()
                          if "4k poster" in p], self.sim.prompts())
        # and not after another restart either
        self.m.unmount()
        self.m.start()
        settle(self)
        self.assertEqual(spent(self), (before, before))
        self.assertEqual(self.m.status("unsealed").splitlines()[0], "failed")


if __name__ == "__main__":
    main()
