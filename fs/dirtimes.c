/* The times of the fixed directories (gptimgfs(1), THE MOUNT).
 *
 *   jobs/            the stored directory's own times, which touch(1)
 *                    and rsync -a may set; its mode stays 0755
 *   status/ wait/    the last change of any job: as the newest file there
 *   out/             the last image published or removed
 *   /                the mount's time
 *
 * The notifier stamps the change times as it takes the events, and tells
 * the kernel to forget the directories' attributes once its queue is
 * empty, so a burst of changes costs one notification per directory. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

/* The notifier, for an event: stamp the directories it changes. */
void fs_dir_times_touch(struct fs *fs, bool views, bool out)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&fs->events_lock);
	if (views)
		fs->views_mtime = now;
	if (out)
		fs->out_mtime = now;
	fs->views_stale |= views;
	fs->out_stale |= out;
	pthread_mutex_unlock(&fs->events_lock);
}

/* The notifier, its queue empty: the kernel forgets the stamped
 * directories' attributes (offset -1: attributes only). */
void fs_dir_times_flush(struct fs *fs)
{
	bool views, out;

	pthread_mutex_lock(&fs->events_lock);
	if (fs->events_head) { /* more to come: later */
		pthread_mutex_unlock(&fs->events_lock);
		return;
	}
	views = fs->views_stale;
	out = fs->out_stale;
	fs->views_stale = fs->out_stale = false;
	pthread_mutex_unlock(&fs->events_lock);
	if (fs_session_gone(fs))
		return;
	/* -ENOENT: the kernel held nothing; -EBADF, -ENODEV: unmounting */
	if (views) {
		fuse_lowlevel_notify_inval_inode(fs->se, FS_INO_STATUS, -1, 0);
		fuse_lowlevel_notify_inval_inode(fs->se, FS_INO_WAIT, -1, 0);
	}
	if (out)
		fuse_lowlevel_notify_inval_inode(fs->se, FS_INO_OUT, -1, 0);
}

void fs_dir_times_stat(struct fs *fs, fuse_ino_t ino, struct stat *st)
{
	struct stat stored;

	switch (ino) {
	case FS_INO_JOBS:
		if (fstat(core_jobs_dirfd(fs->core), &stored) == 0) {
			st->st_atim = stored.st_atim;
			st->st_mtim = stored.st_mtim;
			st->st_ctim = stored.st_ctim;
		}
		return;
	case FS_INO_STATUS:
	case FS_INO_WAIT:
		pthread_mutex_lock(&fs->events_lock);
		st->st_mtim = st->st_ctim = fs->views_mtime;
		pthread_mutex_unlock(&fs->events_lock);
		return;
	case FS_INO_OUT:
		pthread_mutex_lock(&fs->events_lock);
		st->st_mtim = st->st_ctim = fs->out_mtime;
		pthread_mutex_unlock(&fs->events_lock);
		return;
	default:
		return;
	}
}

/* Set the times of jobs/ (touch, rsync -a); nothing else of a fixed
 * directory can change. A chmod of jobs/ that asks for at least 0755
 * (0775 or 0777: a folder copied with rsync -a or cp -a under umask 002)
 * is taken as 0755, its mode: others never write in the store. One that
 * would take access away is refused, as it cannot be kept. */
static int set_jobs_attrs(struct fs *fs, fuse_ino_t ino,
			  const struct stat *attr, int to_set)
{
	const int times = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW;
	/* a kernel may pass the ctime along; it follows the change anyway */
	const int ignored = FUSE_SET_ATTR_CTIME;
	int fd = core_jobs_dirfd(fs->core);

	if (ino != FS_INO_JOBS ||
	    (to_set & ~(times | ignored | FUSE_SET_ATTR_MODE)) ||
	    !(to_set & (times | FUSE_SET_ATTR_MODE)))
		return -EACCES;
	if ((to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & 0755) != 0755)
		return -EPERM;
	return (to_set & times) ? fs_set_times(fd, attr, to_set) : 0;
}

void fs_dir_times_setattr(fuse_req_t req, fuse_ino_t ino,
			  const struct stat *attr, int to_set)
{
	struct stat st;
	int rc = set_jobs_attrs(fs_of(req), ino, attr, to_set);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_fixed_stat(fs_of(req), ino, &st);
	fuse_reply_attr(req, &st, TTL_FIXED);
}
