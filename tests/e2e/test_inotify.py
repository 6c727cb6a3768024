"""inotify on out/ (gptimgfs(1), OUTPUT): a watcher of out/ receives
IN_MOVED_TO with the name of every image that lands, once per image, from
the daemon's publisher thread; the image is readable under that name,
through the node the kernel now has; listings never show the hidden name,
and nobody else can look it up. Also in single-threaded mode (-s), and with
`ls -l out/` running all along (no deadlock)."""
import ctypes
import os
import select
import struct
import subprocess
import threading

from harness import MountedTest, main, wait_for

IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE = 0x40, 0x80, 0x100
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
LIBC = ctypes.CDLL(None, use_errno=True)
EVENT = struct.Struct("iIII")


class Watch:
    """A raw inotify watch on one directory (no third-party module)."""

    def __init__(self, path, mask=IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE):
        self.fd = LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if LIBC.inotify_add_watch(self.fd, os.fsencode(path), mask) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + path)
        self.events = []

    def read(self, timeout):
        """The events available within timeout seconds: (mask, name)."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return
        data = os.read(self.fd, 65536)
        i = 0
        while i < len(data):
            _, mask, _, length = EVENT.unpack_from(data, i)
            name = data[i + EVENT.size:i + EVENT.size + length]
            self.events.append((mask, name.rstrip(b"\0").decode()))
            i += EVENT.size + length

    def moved_to(self):
        return [n for m, n in self.events if m & IN_MOVED_TO]

    def close(self):
        os.close(self.fd)


class InotifyTest(MountedTest):
    sim_processing = 0.3

    def watch_out(self):
        w = Watch(self.m.p("out"))
        self.addCleanup(w.close)
        return w

    def wait_moved_to(self, w, names):
        def arrived():
            w.read(0.5)
            return set(names) <= set(w.moved_to())
        wait_for(arrived, timeout=30, what="IN_MOVED_TO for %s" % names)

    def test_each_image_announced_once(self):
        w = self.watch_out()
        names = ["i%d" % k for k in range(5)]
        for n in names:
            self.m.write("jobs/%s.txt" % n, "an ibis, take %s\n" % n)
        for n in names:
            self.assertEqual(self.m.wait(n)[0], 0)
        pngs = [n + ".png" for n in names]
        self.wait_moved_to(w, pngs)
        w.read(0.5)  # anything late would show now
        self.assertEqual(sorted(w.moved_to()), sorted(pngs))
        # the hidden names show only as the rename's source
        for mask, name in w.events:
            if name not in pngs:
                self.assertTrue(name.startswith(".gptimgfs-publish-"), name)
                self.assertTrue(mask & IN_MOVED_FROM, (mask, name))
        self.assertEqual(sorted(os.listdir(self.m.p("out"))), sorted(pngs))
        for n in names:
            with open(self.m.p("out", n + ".png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        # a hidden name cannot be looked up by anyone else
        hidden = [n for _, n in w.events if n not in pngs]
        self.assertTrue(hidden)
        self.assertFalse(os.path.exists(self.m.p("out", hidden[0])))

    def test_second_task_and_ls_running(self):
        """A new task of the job: out/NAME.png is a new image, announced
        again; ls -l out/ in a loop meanwhile neither hangs nor errs."""
        stop = threading.Event()
        errors = []

        def lister():
            while not stop.is_set():
                r = subprocess.run(["ls", "-l", self.m.p("out")],
                                   capture_output=True, text=True,
                                   timeout=30)
                if r.returncode != 0:
                    errors.append(r.stderr)
        t = threading.Thread(target=lister)
        t.start()
        self.addCleanup(t.join, 60)
        self.addCleanup(stop.set)
        w = self.watch_out()
        self.m.write("jobs/v.txt", "a vole, first\n")
        self.assertEqual(self.m.wait("v")[0], 0)
        self.wait_moved_to(w, ["v.png"])
        self.m.write("jobs/v.txt", "a vole, second\n")
        wait_for(lambda: self.m.status("v").startswith("completed") and
                 "second" in self.out_prompt("v"), timeout=30,
                 what="the second task")
        wait_for(lambda: (w.read(0.5), w.moved_to().count("v.png") >= 2)[1],
                 timeout=30, what="the second announcement")
        stop.set()
        t.join(60)
        self.assertEqual(errors, [])


class InotifyBusyOutTest(MountedTest):
    """Images removed from out/ while others land: every new image is
    still announced (a removal must not take the publisher's hidden name
    for a stale one)."""
    sim_processing = 0.2

    def test_announced_while_images_are_removed(self):
        first = ["a%03d" % k for k in range(120)]
        for n in first:
            self.m.write("jobs/%s.txt" % n, "an egret %s\n" % n)
        for n in first:
            self.assertEqual(self.m.wait(n, timeout=120)[0], 0)
        w = Watch(self.m.p("out"))
        self.addCleanup(w.close)
        stop = threading.Event()

        def remover():
            for n in first:
                if stop.is_set():
                    break
                os.unlink(self.m.p("out", n + ".png"))
        t = threading.Thread(target=remover)
        t.start()
        self.addCleanup(t.join, 60)
        self.addCleanup(stop.set)
        names = ["s%03d" % k for k in range(80)]
        for n in names:
            self.m.write("jobs/%s.txt" % n, "a heron %s\n" % n)
        for n in names:
            self.assertEqual(self.m.wait(n, timeout=120)[0], 0)
        stop.set()
        t.join(60)
        pngs = {n + ".png" for n in names}
        wait_for(lambda: (w.read(0.5), pngs <= set(w.moved_to()))[1],
                 timeout=30, what="every new image announced")
        self.assertNotIn("cannot announce", self.m.read_log())


class InotifySingleThreadTest(InotifyTest):
    mount_args = ("-s",)


if __name__ == "__main__":
    main()
