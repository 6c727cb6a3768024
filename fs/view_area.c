/* status/NAME, wait/NAME and credits: text rendered by the core. Each open
 * file keeps the text of its first read, so a reader sees one consistent
 * version; the files are direct_io, so every open reads afresh. A read of
 * status/NAME from offset 0 after the job changed takes the text again
 * (poll.c).
 *
 * A read of wait/NAME before the job has ended, or of credits while the
 * balance is being fetched, is parked (see notify.c): it holds no thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/log.h"

int fs_view_getattr(struct fs *fs, struct fs_node *n, struct stat *st)
{
	struct core_status_info info;
	struct buf text;
	int rc;

	buf_init(&text, FS_VIEW_MAX);
	rc = core_status(fs->core, n->name, &text, &info);
	if (rc == 0)
		fs_stat_synthetic(fs, st, n->ino, S_IFREG | info.mode,
				  (off_t)text.len, info.updated);
	buf_free(&text);
	return rc;
}

/* Its real size, unlike credits: rendering it asks nothing of the API. */
int fs_progress_getattr(struct fs *fs, struct stat *st)
{
	struct buf text;
	int rc;

	buf_init(&text, FS_VIEW_MAX);
	rc = core_progress(fs->core, &text);
	if (rc == 0)
		fs_stat_synthetic(fs, st, FS_INO_PROGRESS, fs_credits_mode(fs),
				  (off_t)text.len, time(NULL));
	buf_free(&text);
	return rc;
}

int fs_credits_getattr(struct fs *fs, struct stat *st)
{
	/* the text as last known: a read may ask the API for a newer one,
	 * and direct_io reads do not depend on the size */
	fs_stat_synthetic(fs, st, FS_INO_CREDITS, fs_credits_mode(fs),
			  (off_t)core_credits_size(fs->core), time(NULL));
	return 0;
}

void fs_view_lookup(fuse_req_t req, enum fs_area area, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;
	struct stat st;
	int rc;

	if (!core_job_exists(fs->core, name)) {
		fs_folder_lookup(req, area, name); /* or ENOENT */
		return;
	}
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_ref(fs, area, name, 0);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = fs_view_getattr(fs, n, &st);
	if (rc < 0) {
		pthread_mutex_lock(&fs->nodes_lock);
		fs_node_forget(fs, n->ino, 1);
		pthread_mutex_unlock(&fs->nodes_lock);
		fuse_reply_err(req, -rc);
		return;
	}
	fs_reply_entry(req, n, &st, TTL_VIEW, TTL_VIEW, NULL);
}

static enum fs_area area_of_ino(struct fs *fs, fuse_ino_t ino, char *name,
				size_t namesz)
{
	enum fs_area area = AREA_NONE;
	struct fs_node *n;

	if (ino == FS_INO_CREDITS)
		return AREA_NONE;
	if (ino == FS_INO_PROGRESS)
		return AREA_PROGRESS;
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	if (n && n->name) {
		area = n->area;
		snprintf(name, namesz, "%s", n->name);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
	return area;
}

static struct view_handle *view_handle_of(const struct fuse_file_info *fi)
{
	return FS_HANDLE_OF(fs_handle_get(fi, FS_HANDLE_VIEW),
			    struct view_handle);
}

static void view_handle_free(struct fs *fs, struct view_handle *h)
{
	fs_watch_remove(fs, h);
	pthread_mutex_destroy(&h->lock);
	buf_free(&h->text);
	free(h);
}

void fs_view_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view_handle *h;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->hdr.kind = FS_HANDLE_VIEW;
	h->area = area_of_ino(fs_of(req), ino, h->name, sizeof(h->name));
	if (ino != FS_INO_CREDITS && h->area == AREA_NONE) {
		free(h);
		fuse_reply_err(req, ENOENT);
		return;
	}
	buf_init(&h->text, FS_VIEW_MAX);
	pthread_mutex_init(&h->lock, NULL);
	fs_watch_add(fs_of(req), h);
	fs_handle_set(fi, &h->hdr);
	fi->direct_io = 1;
	fi->nonseekable = 0;
	if (fuse_reply_open(req, fi) == -ENOENT)
		view_handle_free(fs_of(req), h);
}

/* Answer a read from the snapshot: a failed job's wait/ file gives EIO
 * after its text, so `cat wait/NAME` prints why and exits non-zero. */
void fs_view_reply(fuse_req_t req, struct view_handle *h, size_t size,
		   off_t off)
{
	char *copy = NULL;
	int err = 0;

	pthread_mutex_lock(&h->lock);
	if ((size_t)off >= h->text.len) {
		err = h->failed ? EIO : 0;
		size = 0;
	} else {
		if (size > h->text.len - (size_t)off)
			size = h->text.len - (size_t)off;
		copy = malloc(size);
		if (copy)
			memcpy(copy, buf_str(&h->text) + off, size);
		else
			err = ENOMEM;
	}
	pthread_mutex_unlock(&h->lock);
	/* From a copy: once the kernel has the reply, the reader may close
	 * the file and the release (on another thread) frees h while
	 * fuse_reply_buf is still returning through code that looks at the
	 * buffer again (the sanitizers' writev interceptors do). */
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, copy, size);
	free(copy);
}

static int render_locked(struct fs *fs, struct view_handle *h)
{
	struct core_status_info info;
	int rc;

	if (h->rendered)
		return 0;
	if (h->area == AREA_NONE) {
		rc = core_credits(fs->core, &h->text);
	} else if (h->area == AREA_PROGRESS) {
		rc = core_progress(fs->core, &h->text);
	} else {
		rc = core_status(fs->core, h->name, &h->text, &info);
		if (rc == 0 && h->area == AREA_WAIT) {
			if (!core_task_state_ended(info.state))
				return -EAGAIN;
			/* its images are announced first (publish.c), so a cp
			 * right after the wait never meets that rename */
			if (info.state == TASK_COMPLETED &&
			    !fs_publisher_announced(fs, h->name))
				return -EAGAIN;
			h->failed = info.state == TASK_FAILED;
		}
	}
	if (rc == 0)
		h->rendered = true;
	return rc;
}

/* Take the snapshot if the file can be answered now. 0: rendered; -EAGAIN:
 * park the read; another -errno: fail it. */
int fs_view_render(struct fs *fs, struct view_handle *h)
{
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = render_locked(fs, h);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* status/: the job changed since the text was taken, and the reader
 * reads from the start (poll.c): the next render takes it again. */
static void forget_text(struct view_handle *h)
{
	pthread_mutex_lock(&h->lock);
	h->rendered = false;
	buf_reset(&h->text);
	pthread_mutex_unlock(&h->lock);
}

void fs_view_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	struct view_handle *h = view_handle_of(fi);
	struct fs *fs = fs_of(req);
	int rc;

	(void)ino;
	if (off == 0 && fs_view_signals_change(h) &&
	    fs_watch_take_change(fs, h))
		forget_text(h);
	rc = fs_view_render(fs, h);
	if (rc == -EAGAIN && (fi->flags & O_NONBLOCK)) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	if (rc == -EAGAIN) {
		fs_park_request(fs, req, h, size, off);
		return;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_view_reply(req, h, size, off);
}

void fs_view_release(fuse_req_t req, struct fuse_file_info *fi)
{
	view_handle_free(fs_of(req), view_handle_of(fi));
	fuse_reply_err(req, 0);
}
