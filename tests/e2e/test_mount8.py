"""mount(8) and fstab (gptimgfs(1), FSTAB AND SYSTEMD):
`mount -t fuse.gptimgfs DATA_DIR MOUNTPOINT -o OPTIONS` runs the daemon
through mount.fuse3 as `gptimgfs DATA_DIR MOUNTPOINT -o ...`; SOURCE is the
data directory, and the options only fstab, mount(8) and systemd act on
(noauto, nofail, _netdev, users, x-systemd.*, comment=) are accepted. The
fstab line of the man page mounts with `mount MOUNTPOINT`.

mount(8) finds the helper named after "fuse." on its own fixed PATH, so
the test links the binary under test into /usr/local/bin under a name of
its own (never over an installed gptimgfs) and removes it at the end. The
built-in simulator (-o simulate) serves the API: no key, no network."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

from harness import BIN, wait_for

HELPER_DIR = "/usr/local/bin"


def daemon_gone(data_dir):
    """The daemon of data_dir has exited (its pid is in the lock file)."""
    try:
        with open(os.path.join(data_dir, "lock")) as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return True
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class BackgroundDaemonTest(unittest.TestCase):
    """A scratch data directory and mountpoint for a daemon that goes to
    the background (no -f): unmounted, and its exit waited for, at the
    end."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="gptimgfs-bg-")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.data = os.path.join(self.work, "data")
        self.mnt = os.path.join(self.work, "mnt")
        os.mkdir(self.mnt)
        self.addCleanup(self.unmount)

    def unmount(self):
        subprocess.run(["fusermount3", "-uz", self.mnt],
                       stderr=subprocess.DEVNULL)
        wait_for(lambda: daemon_gone(self.data), timeout=20,
                 what="the daemon to exit after the unmount")


class Mount8Test(BackgroundDaemonTest):
    def setUp(self):
        super().setUp()
        # a helper name of this test's own: fuse.NAME runs NAME
        self.helper = "gptimgfs-e2e-" + uuid.uuid4().hex[:8]
        link = os.path.join(HELPER_DIR, self.helper)
        os.symlink(os.path.realpath(shutil.which(BIN) or BIN), link)
        self.addCleanup(os.unlink, link)

    def mounted(self):
        with open("/proc/self/mounts") as f:
            return any(line.split()[1] == self.mnt for line in f)

    def run_job(self):
        """One job through the mount; its image must land in out/ and its
        prompt in the data directory given as the source."""
        with open(os.path.join(self.mnt, "jobs", "lh.txt"), "w") as f:
            f.write("a lighthouse at dusk\n")
        with open(os.path.join(self.mnt, "wait", "lh")) as f:
            self.assertEqual(f.readline().strip(), "completed")
        with open(os.path.join(self.mnt, "out", "lh.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertTrue(os.path.exists(
            os.path.join(self.data, "jobs", "lh.txt")))

    def mount_cmd(self, *args):
        r = subprocess.run(["mount"] + list(args), capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.mounted())

    def test_mount_t(self):
        self.mount_cmd("-t", "fuse." + self.helper, self.data, self.mnt,
                       "-o", "simulate,noauto,nofail,_netdev,"
                       "x-systemd.automount,comment=e2e")
        self.assertEqual(sorted(os.listdir(self.mnt)),
                         ["credits", "jobs", "out", "progress", "status",
                          "wait"])
        self.run_job()
        r = subprocess.run(["umount", self.mnt], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: daemon_gone(self.data), timeout=20,
                 what="the daemon to exit after umount")
        self.assertFalse(self.mounted())

    def test_fstab_line(self):
        # the man page's line, with this test's paths and helper name
        fstab = os.path.join(self.work, "fstab")
        with open(fstab, "w") as f:
            f.write("%s %s fuse.%s noauto,nofail,_netdev,simulate 0 0\n"
                    % (self.data, self.mnt, self.helper))
        self.mount_cmd("-T", fstab, self.mnt)
        self.run_job()


if __name__ == "__main__":
    unittest.main(verbosity=2)
