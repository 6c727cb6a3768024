/* poll(2) and select(2) on the view files, as libfuse's example/poll.c
 * shows: a poll that finds nothing ready keeps the kernel's poll handle,
 * and the notifier hands it back (fuse_lowlevel_notify_poll) when the job
 * changes; the kernel then polls again.
 *
 *   wait/NAME    POLLIN only once the job has ended
 *   status/NAME  always POLLIN; POLLPRI | POLLERR once the job changed
 *                after the text was taken (as sysfs attributes do): a
 *                read from offset 0 then takes the new text
 *   progress     the same, for a change of any job or of the credits
 *   credits      POLLIN once the balance is there (a read would not
 *                block)
 *
 * Every open view file is on fs->watched, under the parked lock, from its
 * open to its release. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "internal.h"

void fs_watch_add(struct fs *fs, struct view_handle *h)
{
	pthread_mutex_lock(&fs->parked_lock);
	h->watch_prev = NULL;
	h->watch_next = fs->watched;
	if (fs->watched)
		fs->watched->watch_prev = h;
	fs->watched = h;
	pthread_mutex_unlock(&fs->parked_lock);
}

void fs_watch_remove(struct fs *fs, struct view_handle *h)
{
	struct fuse_pollhandle *ph;

	pthread_mutex_lock(&fs->parked_lock);
	if (h->watch_prev)
		h->watch_prev->watch_next = h->watch_next;
	else
		fs->watched = h->watch_next;
	if (h->watch_next)
		h->watch_next->watch_prev = h->watch_prev;
	ph = h->ph;
	h->ph = NULL;
	pthread_mutex_unlock(&fs->parked_lock);
	if (ph)
		fuse_pollhandle_destroy(ph);
}

/* Under the parked lock: does status/ file h now read otherwise than the
 * text it took? A change whose event comes after a read that already took
 * it is none (no POLLPRI for what the reader has). */
static bool text_differs(struct fs *fs, struct view_handle *h)
{
	struct buf now;
	bool differs;

	if (h->area != AREA_STATUS)
		return true;
	buf_init(&now, FS_VIEW_MAX);
	pthread_mutex_lock(&h->lock);
	differs = !h->rendered ||
		  core_status(fs->core, h->name, &now, NULL) < 0 ||
		  now.len != h->text.len ||
		  memcmp(buf_str(&now), buf_str(&h->text), now.len) != 0;
	pthread_mutex_unlock(&h->lock);
	buf_free(&now);
	return differs;
}

/* Under the parked lock: mark h changed if it signals changes, and wake
 * its poller. fuse_lowlevel_notify_poll only writes to the device and
 * never waits for a request of ours (unlike an invalidation, which may
 * wait for a directory lock), so it is sent under the lock. */
static void changed_locked(struct fs *fs, struct view_handle *h)
{
	if (fs_view_signals_change(h)) {
		if (!text_differs(fs, h))
			return;
		h->changed = true;
	}
	if (h->ph) {
		/* -EBADF, -ENODEV: unmounting; the poller goes too */
		fuse_lowlevel_notify_poll(h->ph);
		fuse_pollhandle_destroy(h->ph);
		h->ph = NULL;
	}
}

#define AREA_BIT(a) (1u << (a))

/* Each open view file of an area in `every`, or of
 * an area in `named` whose job is name, changed. */
static void changed_where(struct fs *fs, unsigned every, unsigned named,
			  const char *name)
{
	struct view_handle *h;

	pthread_mutex_lock(&fs->parked_lock);
	for (h = fs->watched; h; h = h->watch_next) {
		if ((every & AREA_BIT(h->area)) ||
		    ((named & AREA_BIT(h->area)) && strcmp(h->name, name) == 0))
			changed_locked(fs, h);
	}
	pthread_mutex_unlock(&fs->parked_lock);
}

/* The notifier, for a change of job name: its status/ and wait/ files,
 * and progress. */
void fs_watch_job_changed(struct fs *fs, const char *name)
{
	changed_where(fs, AREA_BIT(AREA_PROGRESS),
		      AREA_BIT(AREA_STATUS) | AREA_BIT(AREA_WAIT), name);
}

void fs_watch_wake_wait(struct fs *fs, const char *name)
{
	changed_where(fs, 0, AREA_BIT(AREA_WAIT), name);
}

/* The notifier, for a new balance: credits and progress. */
void fs_watch_credits_changed(struct fs *fs)
{
	changed_where(fs, AREA_BIT(AREA_PROGRESS) | AREA_BIT(AREA_NONE), 0,
		      NULL);
}

/* At the stop: the kernel may never release these files. */
void fs_watch_drop_all(struct fs *fs)
{
	struct view_handle *h;

	pthread_mutex_lock(&fs->parked_lock);
	for (h = fs->watched; h; h = h->watch_next) {
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		h->ph = NULL;
	}
	pthread_mutex_unlock(&fs->parked_lock);
}

bool fs_watch_take_change(struct fs *fs, struct view_handle *h)
{
	bool changed;

	pthread_mutex_lock(&fs->parked_lock);
	changed = h->changed;
	h->changed = false;
	pthread_mutex_unlock(&fs->parked_lock);
	return changed;
}

/* Under the parked lock: what h is ready for. */
static unsigned revents_locked(struct fs *fs, struct view_handle *h)
{
	int rc;

	if (fs_view_signals_change(h))
		return POLLIN | POLLRDNORM |
		       (h->changed ? POLLPRI | POLLERR : 0);
	/* wait/: ended; credits: the balance is there */
	rc = fs_view_render(fs, h);
	if (rc == -EAGAIN)
		return 0;
	/* or gone, or failed (the read says why) */
	return POLLIN | POLLRDNORM | (rc < 0 ? POLLERR : 0);
}

static void view_poll(fuse_req_t req, struct view_handle *h,
		      struct fuse_pollhandle *ph)
{
	struct fs *fs = fs_of(req);
	struct fuse_pollhandle *old = NULL;
	unsigned revents;

	/* the handle first: a change after the check finds it */
	pthread_mutex_lock(&fs->parked_lock);
	if (ph) {
		old = h->ph;
		h->ph = ph;
	}
	revents = revents_locked(fs, h);
	pthread_mutex_unlock(&fs->parked_lock);
	if (old)
		fuse_pollhandle_destroy(old);
	fuse_reply_poll(req, revents);
}

/* The operation: jobs/ and out/ files are always ready. */
void fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	     struct fuse_pollhandle *ph)
{
	enum fs_handle_kind kind = fs_handle_kind(fi);

	(void)ino;
	if (kind == FS_HANDLE_VIEW) {
		view_poll(req,
			  FS_HANDLE_OF(fs_handle_get(fi, kind),
				       struct view_handle),
			  ph);
		return;
	}
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req,
			kind == FS_HANDLE_JOBS ?
				POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM :
				POLLIN | POLLRDNORM);
}
