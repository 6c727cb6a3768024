"""poll(2), select(2), epoll and O_NONBLOCK on the view files (gptimgfs(1),
WAIT and STATUS): wait/NAME is readable only once the job has ended, a
non-blocking read of it fails EAGAIN until then; status/NAME signals a
change after its text was taken with POLLPRI | POLLERR, as sysfs does,
and a read from offset 0 then gives the new text."""
import asyncio
import errno
import os
import select
import subprocess
import time

from harness import MountedTest, main, status_fields, wait_for
from test_wait import blocked_in_read

WAIT_S = 30


class PollTest(MountedTest):
    sim_pending = 1.0
    sim_processing = 2.0

    def submit(self, name):
        self.m.write("jobs/%s.txt" % name, "a heron standing still\n")

    def open_view(self, area, name, flags=0):
        fd = os.open(self.m.p(area, name), os.O_RDONLY | flags)
        self.addCleanup(os.close, fd)
        return fd

    def test_wait_readable_only_when_ended(self):
        self.submit("h")
        fd = self.open_view("wait", "h")
        p = select.poll()
        p.register(fd, select.POLLIN)
        self.assertEqual(p.poll(0), [])
        self.assertEqual(select.select([fd], [], [], 0)[0], [])
        t0 = time.monotonic()
        events = p.poll(WAIT_S * 1000)
        self.assertEqual(events, [(fd, select.POLLIN)])
        self.assertGreater(time.monotonic() - t0, 0.5, "ready too soon")
        # the job has ended by then: the read does not block
        self.assertEqual(status_fields(os.read(fd, 65536).decode())[0],
                         "completed")
        self.assertEqual(self.m.status("h").splitlines()[0], "completed")
        # an ended job's wait/ file is readable at once
        fd2 = self.open_view("wait", "h")
        self.assertEqual(select.select([fd2], [], [], 0)[0], [fd2])

    def test_nonblocking_read(self):
        self.submit("nb")
        fd = self.open_view("wait", "nb", os.O_NONBLOCK)
        with self.assertRaises(OSError) as cm:
            os.read(fd, 4096)
        self.assertEqual(cm.exception.errno, errno.EAGAIN)
        p = select.poll()
        p.register(fd, select.POLLIN)
        self.assertEqual(p.poll(WAIT_S * 1000), [(fd, select.POLLIN)])
        self.assertEqual(os.read(fd, 4096).decode().splitlines()[0],
                         "completed")

    def test_event_loop(self):
        """asyncio's loop (epoll) waits for three jobs without a thread
        each, and learns of each end."""
        names = ["e1", "e2", "e3"]
        for n in names:
            self.submit(n)
        fds = {n: self.open_view("wait", n) for n in names}

        async def wait_all():
            loop = asyncio.get_running_loop()
            ended = {}
            done = loop.create_future()

            def on_readable(name):
                loop.remove_reader(fds[name])
                ended[name] = os.read(fds[name], 65536).decode()
                if len(ended) == len(names):
                    done.set_result(ended)
            for n in names:
                loop.add_reader(fds[n], on_readable, n)
            return await asyncio.wait_for(done, WAIT_S)

        ended = asyncio.run(wait_all())
        for n in names:
            self.assertEqual(ended[n].splitlines()[0], "completed")

    def test_status_signals_a_change(self):
        self.submit("s")
        fd = self.open_view("status", "s")
        first = os.pread(fd, 65536, 0).decode()
        p = select.poll()
        p.register(fd, select.POLLPRI)
        self.assertNotEqual(first.splitlines()[0], "completed")
        seen = [first.splitlines()[0]]
        wakes = 0
        while seen[-1] != "completed" and wakes < 100:
            events = p.poll(WAIT_S * 1000)
            wakes += 1
            self.assertEqual(len(events), 1)
            self.assertTrue(events[0][1] & select.POLLPRI, events)
            self.assertTrue(events[0][1] & select.POLLERR, events)
            # the same descriptor, read from 0: the text of now
            first_line = os.pread(fd, 65536, 0).decode().splitlines()[0]
            if first_line != seen[-1]:
                seen.append(first_line)
        # through the states, in order, each seen by this descriptor
        self.assertEqual(seen[-1], "completed", seen)
        order = ["queued", "pending", "processing", "downloading",
                 "completed"]
        self.assertEqual(seen, sorted(seen, key=order.index))
        self.assertEqual(os.pread(fd, 65536, 0).decode(), self.m.status("s"))
        # nothing changes after the end: no event until the next change
        self.assertEqual(p.poll(300), [])
        # a status file stays readable all along
        q = select.poll()
        q.register(fd, select.POLLIN)
        self.assertEqual(q.poll(0), [(fd, select.POLLIN)])

    def test_status_keeps_its_text_without_a_change(self):
        """Reads of one open status/ file from offset 0 give the text of
        the first read until the job changes (one consistent version)."""
        self.submit("k")
        self.assertEqual(self.m.wait("k")[0], 0)
        fd = self.open_view("status", "k")
        first = os.pread(fd, 65536, 0)
        self.assertEqual(os.pread(fd, 65536, 0), first)
        p = select.poll()
        p.register(fd, select.POLLPRI)
        self.assertEqual(p.poll(0), [])

    def test_other_files_always_ready(self):
        self.submit("o")
        self.assertEqual(self.m.wait("o")[0], 0)
        for rel, mode in (("out/o.png", os.O_RDONLY),
                          ("jobs/o.txt", os.O_RDONLY),
                          ("credits", os.O_RDONLY)):
            fd = os.open(self.m.p(rel), mode)
            self.addCleanup(os.close, fd)
            self.assertEqual(select.select([fd], [], [], 0)[0], [fd], rel)


class ParkedReadIsNoChangeTest(MountedTest):
    """A reader blocked in wait/NAME changes nothing: status/NAME signals
    no change, and status/ keeps its time."""
    sim_processing = 60.0

    def test_parked_wait_signals_nothing(self):
        self.m.write("jobs/x.txt", "a stork on one leg\n")
        wait_for(lambda: self.m.status("x").startswith("processing"),
                 what="processing")
        fd = os.open(self.m.p("status", "x"), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        p = select.poll()
        p.register(fd, select.POLLIN | select.POLLPRI)

        def settled():
            """No change since the last read (one that comes late from
            the submission is read, and looked for again)."""
            events = p.poll(0)
            os.pread(fd, 65536, 0)
            return events == [(fd, select.POLLIN)]
        wait_for(settled, what="the submission's changes read")
        before = os.stat(self.m.p("status")).st_mtime_ns
        cat = subprocess.Popen(["cat", self.m.p("wait", "x")],
                               stdout=subprocess.DEVNULL)
        self.addCleanup(cat.wait)
        self.addCleanup(cat.kill)
        wait_for(lambda: blocked_in_read(cat.pid), what="cat blocked")
        # the notifier has taken the parked read's recheck when a second
        # reader's open and read have been answered after it
        with open(self.m.p("status", "x")) as f:
            self.assertTrue(f.read().startswith("processing"))
        self.assertEqual(p.poll(200), [(fd, select.POLLIN)])
        self.assertEqual(os.stat(self.m.p("status")).st_mtime_ns, before)


if __name__ == "__main__":
    main()
