/* The notifier thread and parked reads.
 *
 * The core's hooks run in whatever thread made a change, FUSE handlers
 * included, where telling the kernel to drop a cache could deadlock. So a
 * hook only queues an event; this thread then invalidates what the kernel
 * may hold (fuse_lowlevel_notify_inval_inode / _entry), wakes pollers
 * (poll.c) and answers parked reads that can now be answered.
 *
 * Under a kernel request timeout (reqtimeout.c) it also wakes every
 * quarter of the timeout and answers EINTR to the parked reads older than
 * half of it: readers (cat, Python, shells) read again and are parked
 * again, and the kernel never sees a request outlive its limit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "util/array.h"
#include "util/log.h"

/* Names in out/ that one change can make stale: a bound far beyond any. */
#define STALE_MAX ((size_t)1 << 24)

/* EV_RECHECK_*: a read was parked; answer it if what it waits for came
 * meanwhile. Nothing changed: no time, no poller, no announcement. */
enum event_kind {
	EV_JOB,
	EV_FOLDER, /* a folder of jobs/ was removed or renamed away */
	EV_OUTPUTS,
	EV_CREDITS,
	EV_RECHECK_JOB,
	EV_RECHECK_CREDITS,
	EV_STOP
};

struct fs_event {
	enum event_kind kind;
	struct fs_event *next;
	char name[]; /* EV_JOB: the job; EV_FOLDER: the folder's path */
};

struct fs_parked {
	fuse_req_t req;
	struct view_handle *h;
	size_t size;
	off_t off;
	int rc;		/* the last render's */
	int64_t due_ms; /* answered EINTR then (park_limit_ms) */
	struct fs_parked *next;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_event(struct fs *fs, enum event_kind kind, const char *name)
{
	size_t len = name ? strlen(name) : 0;
	struct fs_event *ev = malloc(sizeof(*ev) + len + 1);

	if (!ev) {
		log_err("out of memory: a change was not passed to the kernel");
		return;
	}
	ev->kind = kind;
	ev->next = NULL;
	memcpy(ev->name, name ? name : "", len + 1);
	pthread_mutex_lock(&fs->events_lock);
	if (fs->events_tail)
		fs->events_tail->next = ev;
	else
		fs->events_head = ev;
	fs->events_tail = ev;
	pthread_cond_signal(&fs->events_cond);
	pthread_mutex_unlock(&fs->events_lock);
}

void fs_hook_job_changed(void *ctx, const char *name)
{
	push_event(ctx, EV_JOB, name);
}

void fs_folder_gone(struct fs *fs, const char *path)
{
	push_event(fs, EV_FOLDER, path);
}

void fs_recheck_job(struct fs *fs, const char *name)
{
	push_event(fs, EV_RECHECK_JOB, name);
}

void fs_hook_outputs_changed(void *ctx)
{
	push_event(ctx, EV_OUTPUTS, NULL);
}

void fs_hook_credits_changed(void *ctx)
{
	push_event(ctx, EV_CREDITS, NULL);
}

/* ---- parked reads ---- */

/* Take req off the parked list; true when it was there (then the caller
 * owns the reply). */
static bool unpark(struct fs *fs, fuse_req_t req)
{
	struct fs_parked **pp, *p = NULL;

	pthread_mutex_lock(&fs->parked_lock);
	for (pp = &fs->parked; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req) {
			p = *pp;
			*pp = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&fs->parked_lock);
	free(p);
	return p != NULL;
}

static void on_interrupt(fuse_req_t req, void *data)
{
	if (unpark(data, req))
		fuse_reply_err(req, EINTR);
}

void fs_park_request(struct fs *fs, fuse_req_t req, struct view_handle *h,
		     size_t size, off_t off)
{
	struct fs_parked *p = calloc(1, sizeof(*p));
	enum event_kind kind =
		h->area == AREA_NONE ? EV_RECHECK_CREDITS : EV_RECHECK_JOB;
	char name[sizeof(h->name)];
	bool interrupted;

	/* once answered, the reader may close the file and free h */
	memcpy(name, h->name, sizeof(name));
	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->req = req;
	p->h = h;
	p->size = size;
	p->off = off;
	p->due_ms = fs->park_limit_ms ? now_ms() + fs->park_limit_ms : 0;
	/* An interrupt that comes before p is parked finds nothing to answer
	 * (the callback may even run at once, here), but it has marked req;
	 * one that comes later finds p. Once p is parked, req belongs to
	 * whoever unparks it: it is not touched after the unlock. */
	fuse_req_interrupt_func(req, on_interrupt, fs);
	pthread_mutex_lock(&fs->parked_lock);
	interrupted = fuse_req_interrupted(req);
	if (!interrupted) {
		p->next = fs->parked;
		fs->parked = p;
	}
	pthread_mutex_unlock(&fs->parked_lock);
	if (interrupted) {
		free(p);
		fuse_reply_err(req, EINTR);
		return;
	}
	/* the job may have ended between the render and the parking */
	push_event(fs, kind, name);
}

/* Answer every parked read that matches and can be answered now. */
static void answer_parked(struct fs *fs, bool credits, const char *name)
{
	struct fs_parked *ready = NULL, **pp, *p;

	pthread_mutex_lock(&fs->parked_lock);
	pp = &fs->parked;
	while ((p = *pp) != NULL) {
		bool match = credits ? p->h->area == AREA_NONE :
				       p->h->area != AREA_NONE &&
					       strcmp(p->h->name, name) == 0;

		if (match && (p->rc = fs_view_render(fs, p->h)) != -EAGAIN) {
			*pp = p->next;
			p->next = ready;
			ready = p;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&fs->parked_lock);
	while ((p = ready) != NULL) {
		ready = p->next;
		if (p->rc == 0)
			fs_view_reply(p->req, p->h, p->size, p->off);
		else /* e.g. ENOENT: the job is gone */
			fuse_reply_err(p->req, -p->rc);
		free(p);
	}
}

/* Answer EINTR to the parked reads that are due: the kernel would
 * otherwise abort the mount. */
static void expire_parked(struct fs *fs)
{
	struct fs_parked *due = NULL, **pp, *p;
	int64_t now = now_ms();

	pthread_mutex_lock(&fs->parked_lock);
	pp = &fs->parked;
	while ((p = *pp) != NULL) {
		if (p->due_ms && p->due_ms <= now) {
			*pp = p->next;
			p->next = due;
			due = p;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&fs->parked_lock);
	while ((p = due) != NULL) {
		due = p->next;
		fuse_reply_err(p->req, EINTR);
		free(p);
	}
}

/* Shutting down: nobody will answer, so let every reader go. */
static void release_all_parked(struct fs *fs)
{
	struct fs_parked *p;

	pthread_mutex_lock(&fs->parked_lock);
	p = fs->parked;
	fs->parked = NULL;
	pthread_mutex_unlock(&fs->parked_lock);
	while (p) {
		struct fs_parked *next = p->next;

		fuse_reply_err(p->req, EINTR);
		free(p);
		p = next;
	}
}

/* ---- what the kernel must forget ---- */

enum notify_call { NOTIFY_INODE, NOTIFY_ENTRY, NOTIFY_CALLS };

/* The result rc of a notification. -ENOENT: the kernel held nothing for
 * it; -EBADF, -ENODEV: the mount is going away (as in libfuse's
 * example/notify_inval_inode.c). Anything else is logged, once per call
 * (only this thread notifies), lest a broken channel flood the log. */
static void notify_result(enum notify_call call, int rc)
{
	static const char *const names[NOTIFY_CALLS] = {
		[NOTIFY_INODE] = "fuse_lowlevel_notify_inval_inode",
		[NOTIFY_ENTRY] = "fuse_lowlevel_notify_inval_entry",
	};
	static bool logged[NOTIFY_CALLS];

	if (rc == 0 || rc == -ENOENT || rc == -EBADF || rc == -ENODEV ||
	    logged[call])
		return;
	logged[call] = true;
	log_warn("%s: %s (the kernel may show stale data; not logged again)",
		 names[call], strerror(-rc));
}

static void inval_job(struct fs *fs, const char *name)
{
	static const enum fs_area areas[] = { AREA_STATUS, AREA_WAIT };
	fuse_ino_t inos[2] = { 0, 0 }, dirs[2] = { 0, 0 };
	const char *base = core_path_base(name);
	size_t i;

	if (fs_session_gone(fs))
		return;
	pthread_mutex_lock(&fs->nodes_lock);
	for (i = 0; i < 2; i++) {
		struct fs_node *n = fs_node_by_name(fs, areas[i], name);

		inos[i] = n && !n->folder ? n->ino : 0;
		dirs[i] = fs_node_parent(fs, areas[i], name);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
	for (i = 0; i < 2; i++) {
		/* no node, nothing in the kernel: it never got the name (no
		 * readdirplus), and a name that is not there is answered
		 * ENOENT, never cached; so no call that can only fail */
		if (!inos[i])
			continue;
		notify_result(NOTIFY_INODE, fuse_lowlevel_notify_inval_inode(
						    fs->se, inos[i], 0, 0));
		if (dirs[i])
			notify_result(
				NOTIFY_ENTRY,
				fuse_lowlevel_notify_inval_entry(
					fs->se, dirs[i], base, strlen(base)));
	}
}

/* Folder path of area, if the kernel may hold its entry (a node) and it no
 * longer exists: the kernel forgets the entry. The node stays, as the
 * folder may come back under its name (a process may be in it). */
static void inval_folder_if_gone(struct fs *fs, enum fs_area area,
				 const char *path)
{
	const char *base = core_path_base(path);
	fuse_ino_t dir = 0;
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_name(fs, area, path);
	if (n && n->folder)
		dir = fs_node_parent(fs, area, path);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!dir || fs_session_gone(fs) || fs_folder_exists(fs, area, path))
		return;
	notify_result(NOTIFY_ENTRY, fuse_lowlevel_notify_inval_entry(
					    fs->se, dir, base, strlen(base)));
}

/* Each folder that holds path (and path itself, when it is a folder's),
 * in the areas of `areas` (bits of enum fs_area), that went with a
 * change. */
static void inval_gone_folders(struct fs *fs, const char *path, bool itself,
			       unsigned areas)
{
	char *walk = strdup(path), *slash;
	enum fs_area a;

	if (!walk)
		return;
	if (!itself)
		slash = strrchr(walk, '/');
	else
		slash = walk + strlen(walk);
	while (slash) {
		*slash = '\0';
		for (a = AREA_JOBS; a <= AREA_OUT; a++) {
			if (areas & (1u << a))
				inval_folder_if_gone(fs, a, walk);
		}
		slash = strrchr(walk, '/');
	}
	free(walk);
}

/* A name in out/ that now means another image, or nothing: its folder's
 * inode, and its path. */
struct stale_name {
	fuse_ino_t dir;
	char *path;
	bool folder; /* a folder's: stale if it no longer exists */
};

/* Names in out/ that now mean another image, or nothing, and folders
 * that went with their last image. */
static void inval_outputs(struct fs *fs)
{
	struct core_output o;
	struct stale_name *stale = NULL;
	size_t n_stale = 0, cap = 0, b;

	pthread_mutex_lock(&fs->nodes_lock);
	for (b = 0; b < fs->n_buckets; b++) {
		struct fs_node *n;

		for (n = fs->by_ino[b]; n; n = n->next_ino) {
			struct stale_name *grown;

			/* the publisher's hidden node is no stale name */
			if (n->area != AREA_OUT || !n->name ||
			    fs_publisher_hidden(n->name) ||
			    (!n->folder &&
			     core_output_find(fs->core, n->name, &o) == 0 &&
			     o.id == n->key))
				continue;
			grown = array_reserve(stale, n_stale, &cap,
					      sizeof(*stale), STALE_MAX);
			if (!grown)
				break;
			stale = grown;
			stale[n_stale].dir =
				fs_node_parent(fs, AREA_OUT, n->name);
			stale[n_stale].path = strdup(n->name);
			stale[n_stale].folder = n->folder;
			if (stale[n_stale].path)
				n_stale++;
			if (!n->folder)
				fs_node_detach(fs, n);
		}
	}
	pthread_mutex_unlock(&fs->nodes_lock);
	for (b = 0; b < n_stale; b++) {
		const char *base = core_path_base(stale[b].path);

		if (stale[b].folder)
			inval_folder_if_gone(fs, AREA_OUT, stale[b].path);
		else if (!fs_session_gone(fs) && stale[b].dir)
			notify_result(NOTIFY_ENTRY,
				      fuse_lowlevel_notify_inval_entry(
					      fs->se, stale[b].dir, base,
					      strlen(base)));
		free(stale[b].path);
	}
	free(stale);
}

static void handle_event(struct fs *fs, const struct fs_event *ev)
{
	switch (ev->kind) {
	case EV_JOB:
		fs_dir_times_touch(fs, true, false);
		inval_job(fs, ev->name);
		inval_gone_folders(fs, ev->name, false,
				   (1u << AREA_STATUS) | (1u << AREA_WAIT));
		fs_watch_job_changed(fs, ev->name);
		answer_parked(fs, false, ev->name);
		fs_publish_job(fs, ev->name);
		break;
	case EV_FOLDER:
		inval_gone_folders(fs, ev->name, true,
				   (1u << AREA_STATUS) | (1u << AREA_WAIT) |
					   (1u << AREA_OUT));
		break;
	case EV_OUTPUTS:
		fs_dir_times_touch(fs, false, true);
		inval_outputs(fs);
		break;
	case EV_CREDITS:
		fs_watch_credits_changed(fs);
		answer_parked(fs, true, NULL);
		break;
	case EV_RECHECK_JOB:
		fs_watch_wake_wait(fs, ev->name);
		answer_parked(fs, false, ev->name);
		break;
	case EV_RECHECK_CREDITS:
		answer_parked(fs, true, NULL);
		break;
	case EV_STOP:
		break;
	}
}

/* The next event, waited for; false after a tick without one. Under a
 * request timeout, every wake also expires the parked reads. */
static bool next_event(struct fs *fs, struct fs_event **evp)
{
	struct fs_event *ev;
	int64_t tick = fs->park_limit_ms / 2;

	pthread_mutex_lock(&fs->events_lock);
	if (!fs->events_head && tick) {
		int64_t due = now_ms() + tick;
		struct timespec ts = { .tv_sec = due / 1000,
				       .tv_nsec = due % 1000 * 1000000 };

		pthread_cond_timedwait(&fs->events_cond, &fs->events_lock, &ts);
	}
	while (!fs->events_head && !tick)
		pthread_cond_wait(&fs->events_cond, &fs->events_lock);
	ev = fs->events_head;
	if (ev) {
		fs->events_head = ev->next;
		if (!fs->events_head)
			fs->events_tail = NULL;
	}
	pthread_mutex_unlock(&fs->events_lock);
	if (tick)
		expire_parked(fs);
	*evp = ev;
	return ev != NULL;
}

static void *notifier_main(void *arg)
{
	struct fs *fs = arg;
	bool stop = false;

	while (!stop) {
		struct fs_event *ev;

		if (!next_event(fs, &ev))
			continue; /* a tick: parked reads were expired */
		stop = ev->kind == EV_STOP;
		handle_event(fs, ev);
		free(ev);
		if (!stop)
			fs_dir_times_flush(fs);
	}
	return NULL;
}

int fs_start_notifier(struct fs *fs)
{
	int rc = pthread_create(&fs->notifier, NULL, notifier_main, fs);

	if (rc == 0)
		fs->notifier_running = true;
	return -rc;
}

void fs_stop_notifier(struct fs *fs)
{
	struct fs_event *ev;

	if (fs->notifier_running) {
		push_event(fs, EV_STOP, NULL);
		pthread_join(fs->notifier, NULL);
		fs->notifier_running = false;
	}
	fs_stop_publisher(fs);
	release_all_parked(fs);
	fs_watch_drop_all(fs);
	while ((ev = fs->events_head) != NULL) {
		fs->events_head = ev->next;
		free(ev);
	}
	fs->events_tail = NULL;
}
