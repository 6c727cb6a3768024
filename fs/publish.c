/* The publisher: makes inotify watchers of out/ see an image land
 * (gptimgfs(1), OUTPUT).
 *
 * The kernel raises inotify events only for system calls made through the
 * mount, and images appear in out/ behind its back. So, once a job has
 * completed, this thread renames, through the mount, a hidden name onto
 * each of its images' names: the kernel raises IN_MOVED_FROM for the
 * hidden name and IN_MOVED_TO for the image's. Only this thread's own
 * requests find the hidden name (by thread id, while it publishes that
 * image), and its lookup is never cached; the rename changes nothing in
 * the core: the image's name moves to the node of the hidden name. As
 * that node is a new inode, a read of wait/NAME answers `completed' only
 * once its images are announced (fs_publisher_announced), so `cat
 * wait/NAME && cp out/NAME.png` never meets the rename (cp would see the
 * file replaced while it copies).
 *
 * The rules that keep it safe: no lock is held across the system call
 * (the handlers it causes take them); out/ is opened for each batch, as a
 * long-lived descriptor would pin the mount against a lazy unmount; a mount
 * this process cannot reach (another mount namespace, something mounted
 * over it) turns the publisher off with one line in the log; the thread is
 * told to stop with the notifier and joined only after the session is gone
 * (fs_destroy), which answers a request it may still wait for. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "internal.h"
#include "util/array.h"
#include "util/log.h"

#define PUB_PREFIX ".gptimgfs-publish-"
#define PUB_QUEUE_MAX ((size_t)1 << 20) /* job names not yet looked at */
#define PUB_SEEN_MAX ((size_t)1 << 22)	/* slots: 32 MiB, 2M images */
#define FUSE_SUPER_MAGIC 0x65735546

/* The ids of the images announced: a job changes again after its end
 * (its record written, its prompt touched), and an image is announced
 * once. Open addressing; 0 marks a free slot (ids start at 1). Only the
 * publisher thread uses it. */
struct id_set {
	uint64_t *slot;
	size_t n, cap; /* cap: a power of two, or 0 */
};

struct fs_publisher {
	struct fs *fs;
	pthread_t thread;
	char *out_path; /* MOUNTPOINT/out */

	pthread_mutex_t lock; /* the queue; a leaf */
	pthread_cond_t cond;
	char **queue;
	size_t n, cap;
	bool stop;
	bool off;  /* out/ cannot be reached: nothing queued */
	bool done; /* the thread has returned */

	/* the publication under way, for the handlers of the requests its
	 * rename makes; a leaf */
	pthread_mutex_t cur_lock;
	pid_t tid;	       /* the thread's id: the only caller answered */
	dev_t dev;	       /* the mount's, found at the thread's start */
	char hidden[PATH_MAX]; /* "a/b/" PUB_PREFIX HEX */
	char name[PATH_MAX];
	uint64_t id;

	/* the ids of the images announced, or found at the start; under
	 * lock, as wait/ reads look (fs_publisher_announced) */
	struct id_set seen;
};

static bool set_has(const struct id_set *s, uint64_t id, size_t *at)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15u);

	for (i &= s->cap - 1; s->slot[i]; i = (i + 1) & (s->cap - 1)) {
		if (s->slot[i] == id)
			return true;
	}
	*at = i;
	return false;
}

/* Add id; false when it was there already (or there is no room: then
 * announcing twice is the lesser harm). */
static bool set_add(struct id_set *s, uint64_t id)
{
	size_t at = 0, i;

	if (!id)
		return true; /* not a valid id: announced, not remembered */
	if (s->cap && set_has(s, id, &at))
		return false;
	if (2 * (s->n + 1) > s->cap && s->cap < PUB_SEEN_MAX) {
		struct id_set grown = { calloc(s->cap ? 2 * s->cap : 64,
					       sizeof(uint64_t)),
					0, s->cap ? 2 * s->cap : 64 };

		if (!grown.slot)
			return true;
		for (i = 0; i < s->cap; i++) {
			if (s->slot[i] && !set_has(&grown, s->slot[i], &at)) {
				grown.slot[at] = s->slot[i];
				grown.n++;
			}
		}
		free(s->slot);
		*s = grown;
	}
	if (2 * (s->n + 1) > s->cap)
		return true; /* full: announced, not remembered */
	set_has(s, id, &at);
	s->slot[at] = id;
	s->n++;
	return true;
}

void fs_publish_job(struct fs *fs, const char *name)
{
	struct fs_publisher *p = fs->publisher;
	char **grown, *copy;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->off || p->stop) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	grown = array_reserve(p->queue, p->n, &p->cap, sizeof(*p->queue),
			      PUB_QUEUE_MAX);
	copy = grown ? strdup(name) : NULL;
	if (copy) {
		p->queue = grown;
		p->queue[p->n++] = copy;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
}

static bool seen(struct fs_publisher *p, uint64_t id)
{
	size_t at;
	bool has;

	pthread_mutex_lock(&p->lock);
	has = p->seen.cap && set_has(&p->seen, id, &at);
	pthread_mutex_unlock(&p->lock);
	return has;
}

bool fs_publisher_announced(struct fs *fs, const char *name)
{
	struct fs_publisher *p = fs->publisher;
	struct core_output o;
	size_t i, count;
	char **outs;
	bool all = true, off;

	if (!p)
		return true;
	pthread_mutex_lock(&p->lock);
	off = p->off || p->stop;
	pthread_mutex_unlock(&p->lock);
	if (off)
		return true;
	outs = core_job_outputs(fs->core, name, &count);
	for (i = 0; all && i < count; i++)
		all = core_output_find(fs->core, outs[i], &o) < 0 ||
		      seen(p, o.id);
	core_free_names(outs, count);
	return all;
}

/* The images already in out/ at the start were announced by an earlier
 * run, or never will be: no wait/ read is held for them. */
static void seed_seen(struct fs_publisher *p)
{
	struct core_output o;
	size_t i, count;
	char **names = core_output_names(p->fs->core, &count);

	for (i = 0; i < count; i++) {
		if (core_output_find(p->fs->core, names[i], &o) == 0)
			set_add(&p->seen, o.id);
	}
	core_free_names(names, count);
}

bool fs_publisher_claims(struct fs *fs, fuse_req_t req, const char *hidden,
			 char *name, uint64_t *id)
{
	struct fs_publisher *p = fs->publisher;
	bool mine;

	if (!p)
		return false;
	pthread_mutex_lock(&p->cur_lock);
	mine = p->hidden[0] && fuse_req_ctx(req)->pid == p->tid &&
	       strcmp(hidden, p->hidden) == 0;
	if (mine) {
		memcpy(name, p->name, sizeof(p->name));
		*id = p->id;
	}
	pthread_mutex_unlock(&p->cur_lock);
	return mine;
}

bool fs_publisher_hidden(const char *path)
{
	const size_t len = sizeof(PUB_PREFIX) - 1;
	const char *name = core_path_base(path);

	return strncmp(name, PUB_PREFIX, len) == 0 &&
	       strlen(name + len) == 16 &&
	       strspn(name + len, "0123456789abcdef") == 16;
}

/* Is fd this mount's out/? The first time, a FUSE file system with out/'s
 * inode number, whose device is then kept; later, that device and inode
 * (nothing mounted over ours since). */
static bool is_our_out(struct fs_publisher *p, int fd)
{
	struct statfs sfs;
	struct stat st;

	if (fstat(fd, &st) < 0 || st.st_ino != FS_INO_OUT)
		return false;
	if (p->dev)
		return st.st_dev == p->dev;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != FUSE_SUPER_MAGIC)
		return false;
	p->dev = st.st_dev;
	return true;
}

/* out/ through the mount, or -1 (and the publisher off) when what the path
 * leads to is not this mount's out/. O_PATH: a directory to rename in, not
 * one to read, so the daemon is not asked to open it. */
static int open_out(struct fs_publisher *p)
{
	int fd = open(p->out_path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && is_our_out(p, fd))
		return fd;
	if (p->dev) /* it was: the mount is going (a lazy unmount) */
		log_info("%s is no longer this mount's (%s): watchers of out/ "
			 "are told of no more images",
			 p->out_path, fd < 0 ? strerror(errno) : "covered");
	else
		log_warn(
			"%s cannot be reached from the daemon (%s): watchers of "
			"out/ (inotify) will not see new images",
			p->out_path,
			fd < 0 ? strerror(errno) : "not this mount");
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Announce image `name` (id) of out/ by renaming its hidden name, in the
 * same folder, onto it. */
static void publish_one(struct fs_publisher *p, int dir_fd, const char *name,
			uint64_t id)
{
	static bool logged;
	int rc;

	pthread_mutex_lock(&p->cur_lock);
	snprintf(p->hidden, sizeof(p->hidden), "%.*s" PUB_PREFIX "%016" PRIx64,
		 (int)(core_path_base(name) - name), name, id);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->id = id;
	pthread_mutex_unlock(&p->cur_lock);
	rc = renameat(dir_fd, p->hidden, dir_fd, name) < 0 ? errno : 0;
	pthread_mutex_lock(&p->cur_lock);
	p->hidden[0] = '\0';
	pthread_mutex_unlock(&p->cur_lock);
	/* announced, or that cannot be (gone meanwhile, or an error logged):
	 * either way done with, so that no wait/ read is held for it */
	pthread_mutex_lock(&p->lock);
	set_add(&p->seen, id);
	pthread_mutex_unlock(&p->lock);
	/* ENOENT, ESTALE: replaced or removed meanwhile; ENOTCONN, ENODEV:
	 * unmounting */
	if (rc && rc != ENOENT && rc != ESTALE && rc != ENOTCONN &&
	    rc != ENODEV && !logged) {
		logged = true;
		log_warn("cannot announce out/%s to watchers: %s (not logged "
			 "again)",
			 name, strerror(rc));
	}
}

/* A flag of p's, under its lock. */
static bool flag_of(struct fs_publisher *p, const bool *flag)
{
	bool value;

	pthread_mutex_lock(&p->lock);
	value = *flag;
	pthread_mutex_unlock(&p->lock);
	return value;
}

static bool stopping(struct fs_publisher *p)
{
	return flag_of(p, &p->stop);
}

/* Announce the images of job `name` not announced yet; out/ is opened
 * at the first (*dir_fd). false: out/ cannot be reached. */
static bool publish_job(struct fs_publisher *p, const char *name, int *dir_fd)
{
	struct core_output o;
	size_t i, count;
	char **outs = core_job_outputs(p->fs->core, name, &count);
	bool ok = true;

	for (i = 0; ok && i < count && !stopping(p); i++) {
		/* gone meanwhile, or told already */
		if (core_output_find(p->fs->core, outs[i], &o) < 0 ||
		    seen(p, o.id))
			continue;
		if (*dir_fd < 0 && (*dir_fd = open_out(p)) < 0)
			ok = false;
		else
			publish_one(p, *dir_fd, outs[i], o.id);
	}
	core_free_names(outs, count);
	return ok;
}

/* The images of the jobs named, those that have completed. false: out/
 * cannot be reached, stop publishing. */
static bool publish_jobs(struct fs_publisher *p, char **jobs, size_t n)
{
	int dir_fd = -1;
	bool ok = true;
	size_t i;

	for (i = 0; ok && i < n && !stopping(p); i++)
		ok = publish_job(p, jobs[i], &dir_fd);
	if (dir_fd >= 0)
		close(dir_fd);
	return ok;
}

static void *publisher_main(void *arg)
{
	struct fs_publisher *p = arg;
	bool reachable;
	int fd;

	pthread_mutex_lock(&p->cur_lock);
	p->tid = gettid();
	pthread_mutex_unlock(&p->cur_lock);
	/* the mount's device now, while it is surely ours */
	fd = open_out(p);
	reachable = fd >= 0;
	if (reachable)
		close(fd);
	pthread_mutex_lock(&p->lock);
	p->off = !reachable;
	pthread_mutex_unlock(&p->lock);
	for (;;) {
		char **jobs;
		size_t i, n;

		pthread_mutex_lock(&p->lock);
		while (!p->n && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		jobs = p->queue;
		n = p->n;
		p->queue = NULL;
		p->n = p->cap = 0;
		pthread_mutex_unlock(&p->lock);
		if (reachable && n)
			reachable = publish_jobs(p, jobs, n);
		pthread_mutex_lock(&p->lock);
		p->off = !reachable;
		pthread_mutex_unlock(&p->lock);
		/* their wait/ reads were held for this (fs_publisher_announced) */
		for (i = 0; i < n; i++)
			fs_recheck_job(p->fs, jobs[i]);
		core_free_names(jobs, n);
		if (stopping(p))
			break;
	}
	pthread_mutex_lock(&p->lock);
	p->done = true;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static bool finished(struct fs_publisher *p)
{
	return flag_of(p, &p->done);
}

/* Answer what reaches the device until the publisher has returned: its
 * rename may wait for requests that no loop reads any more. ENODEV: the
 * mount is gone, and with it every request. */
static void serve_until_finished(struct fs *fs, struct fs_publisher *p)
{
	struct pollfd pfd = { .fd = fuse_session_fd(fs->se), .events = POLLIN };

	while (!finished(p)) {
		struct fuse_buf buf = { .mem = NULL };
		int rc;

		if (poll(&pfd, 1, 50) <= 0 || !(pfd.revents & POLLIN))
			continue;
		rc = fuse_session_receive_buf(fs->se, &buf);
		if (rc > 0)
			fuse_session_process_buf(fs->se, &buf);
		free(buf.mem);
		if (rc == -ENODEV)
			break;
	}
}

void fs_loop_ended(struct fs *fs)
{
	struct fs_publisher *p = fs->publisher;

	atomic_store(&fs->loop_ended, true);
	if (!p)
		return;
	fs_stop_publisher(fs);
	serve_until_finished(fs, p);
}

static void publisher_free(struct fs_publisher *p)
{
	core_free_names(p->queue, p->n);
	free(p->seen.slot);
	free(p->out_path);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->cur_lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

int fs_start_publisher(struct fs *fs, const char *mountpoint)
{
	struct fs_publisher *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->fs = fs;
	seed_seen(p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->cur_lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (asprintf(&p->out_path, "%s/out", mountpoint) < 0) {
		p->out_path = NULL;
		publisher_free(p);
		return -ENOMEM;
	}
	rc = pthread_create(&p->thread, NULL, publisher_main, p);
	if (rc) {
		publisher_free(p);
		return -rc;
	}
	fs->publisher = p;
	return 0;
}

void fs_stop_publisher(struct fs *fs)
{
	struct fs_publisher *p = fs->publisher;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void fs_join_publisher(struct fs *fs)
{
	struct fs_publisher *p = fs->publisher;

	if (!p)
		return;
	fs_stop_publisher(fs);
	pthread_join(p->thread, NULL);
	fs->publisher = NULL;
	publisher_free(p);
}
