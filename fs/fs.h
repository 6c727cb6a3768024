/* The mount: FUSE low-level operations over the job core.
 *
 *   /          fixed inodes: jobs/ status/ wait/ out/ credits
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
	FS_INO_FIRST_DYNAMIC = 16,
};

enum fs_area {
	AREA_NONE,
	AREA_JOBS,
	AREA_STATUS,
	AREA_WAIT,
	AREA_OUT,
};

struct fs_node;
struct fs_event;
struct fs_parked;

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

	/* parked wait/ and credits reads; acquire before a view_handle's
	 * lock */
	pthread_mutex_t parked_lock;
	struct fs_parked *parked;

	pthread_mutex_t events_lock; /* the notifier's queue; a leaf */
	pthread_cond_t events_cond;
	struct fs_event *events_head, *events_tail;
	bool stopping;
	bool notifier_running;
	pthread_t notifier;
};

int fs_init(struct fs *fs, struct core *c);
void fs_destroy(struct fs *fs);
/* The operations table for fuse_session_new; userdata is the struct fs. */
extern const struct fuse_lowlevel_ops fs_ops;
/* Start the notifier once the session exists (fs->se set). */
int fs_start_notifier(struct fs *fs);
void fs_stop_notifier(struct fs *fs);
/* The core's hooks that concern the mount; ctx is the struct fs. */
void fs_hook_job_changed(void *ctx, const char *name);
void fs_hook_outputs_changed(void *ctx);
void fs_hook_credits_changed(void *ctx);

#endif
