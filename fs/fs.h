/* The mount: FUSE low-level operations over the job core.
 *
 *   /          fixed inodes: jobs/ status/ wait/ out/ credits progress
 *   jobs/      the user's files, stored under DATA_DIR/jobs (read-write)
 *   status/    one synthetic file per job (read-only)
 *   wait/      the same, but a read is parked until the job ends
 *   out/       the images, served from the files in the store
 *
 * Request handlers never wait for the network. Changes that the core
 * reports (hooks) are queued for the notifier thread, which tells the kernel
 * (inval_inode / inval_entry) and answers parked reads. */
#ifndef GPTIMGFS_FS_H
#define GPTIMGFS_FS_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/jobs.h"

enum fs_fixed_ino {
	FS_INO_ROOT = FUSE_ROOT_ID,
	FS_INO_JOBS,
	FS_INO_STATUS,
	FS_INO_WAIT,
	FS_INO_OUT,
	FS_INO_CREDITS,
	FS_INO_PROGRESS,
	FS_INO_FIRST_DYNAMIC = 16,
};

/* The fixed regular files at the root, rendered at each open. */
static inline bool fs_ino_fixed_file(fuse_ino_t ino)
{
	return ino == FS_INO_CREDITS || ino == FS_INO_PROGRESS;
}

enum fs_area {
	AREA_NONE,
	AREA_JOBS,
	AREA_STATUS,
	AREA_WAIT,
	AREA_OUT,
	AREA_PROGRESS, /* the progress file */
};

struct fs_node;
struct fs_event;
struct fs_parked;
struct fs_publisher;
struct view_handle;

struct fs {
	struct core *core;
	struct fuse_session *se;
	uid_t uid;
	gid_t gid;
	bool allow_other; /* other users may use the mount */
	struct timespec mount_time;

	/* the node table; acquire before the core's lock (lock order: see
	 * core/internal.h) */
	pthread_mutex_t nodes_lock;
	struct fs_node **by_ino;
	struct fs_node **by_name;
	size_t n_buckets;
	uint64_t next_ino;

	/* parked wait/ and credits reads, and the view files that poll(2)
	 * or a change concerns (poll.c); acquire before a view_handle's
	 * lock */
	pthread_mutex_t parked_lock;
	struct fs_parked *parked;
	struct view_handle *watched;
	/* a parked read older than this is answered EINTR (reqtimeout.c);
	 * 0: never */
	int64_t park_limit_ms;

	pthread_mutex_t events_lock; /* the notifier's queue; a leaf */
	pthread_cond_t events_cond;
	struct fs_event *events_head, *events_tail;
	/* the times of status/ and wait/, and of out/, and whether the
	 * kernel still holds older ones (dirtimes.c); under events_lock */
	struct timespec views_mtime, out_mtime;
	bool views_stale, out_stale;
	bool stopping;
	bool notifier_running;
	pthread_t notifier;
	struct fs_publisher *publisher; /* publish.c; NULL: none */
	atomic_bool loop_ended;		/* fs_loop_ended */
	atomic_bool
		passthrough; /* out/ reads are the kernel's (passthrough.c) */
};

int fs_init(struct fs *fs, struct core *c);
/* The kernel's FUSE request timeout for a mount made now, in seconds (0:
 * none), and the parking rule that keeps requests within it. */
unsigned fs_request_timeout_s(void);
void fs_set_request_timeout(struct fs *fs, unsigned seconds);
void fs_destroy(struct fs *fs);
/* The operations table for fuse_session_new; userdata is the struct fs. */
extern const struct fuse_lowlevel_ops fs_ops;
/* The session loop has returned: stop the publisher, serving the
 * requests its last rename makes (it must end before the session does),
 * and let the notifier tell the kernel nothing more. */
void fs_loop_ended(struct fs *fs);
/* Start the notifier once the session exists (fs->se set). */
int fs_start_notifier(struct fs *fs);
/* Stop it (and tell the publisher to stop). */
void fs_stop_notifier(struct fs *fs);
/* The thread that announces new images to inotify watchers through the
 * mount at mountpoint (an absolute path); fs_destroy joins it. */
int fs_start_publisher(struct fs *fs, const char *mountpoint);
/* The core's hooks that concern the mount; ctx is the struct fs. */
void fs_hook_job_changed(void *ctx, const char *name);
void fs_hook_outputs_changed(void *ctx);
void fs_hook_credits_changed(void *ctx);

#endif
