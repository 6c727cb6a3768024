/* Reads of out/ files (gptimgfs(1), OUTPUT). Built with libfuse 3.16 or
 * newer, on a kernel that offers FUSE passthrough (Linux 6.9+) to a daemon
 * allowed to use it (CAP_SYS_ADMIN), an image opened is handed to the
 * kernel, which then reads the stored file itself: no request reaches the
 * daemon. Otherwise the daemon serves the reads (out_area.c), and the
 * stored file is read ahead at open, so that the disk works ahead of the
 * kernel's FUSE reads.
 *
 * libfuse wants one backing id per inode: it is kept in the node, counted
 * by the handles open on it, and closed with the last. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"
#include "util/log.h"

#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 16)
#define HAVE_PASSTHROUGH 1
#else
#define HAVE_PASSTHROUGH 0
#endif

void fs_passthrough_init(struct fs *fs, struct fuse_conn_info *conn)
{
#if HAVE_PASSTHROUGH
	if (conn->capable & FUSE_CAP_PASSTHROUGH) {
		conn->want |= FUSE_CAP_PASSTHROUGH;
		/* the stored files may be on overlayfs (a container) */
		conn->max_backing_stack_depth = FUSE_BACKING_STACKED_OVER;
		atomic_store(&fs->passthrough, true);
	}
#else
	(void)fs;
	(void)conn;
#endif
}

#if HAVE_PASSTHROUGH
/* Once passthrough fails (no privilege, a file system it cannot stack
 * on), the daemon serves every read: one line in the log. */
static void give_up(struct fs *fs, fuse_ino_t ino)
{
	if (atomic_exchange(&fs->passthrough, false))
		log_info("out/: passthrough refused for inode %llu (%s): the "
			 "daemon serves the reads of images",
			 (unsigned long long)ino,
			 errno ? strerror(errno) : "no backing id");
}

/* The first image handed to the kernel says so, once: the capability
 * alone does not tell whether the kernel lets this daemon use it. */
static void announce(void)
{
	static atomic_bool said;

	if (!atomic_exchange(&said, true))
		log_info("out/: images are read by the kernel itself (FUSE "
			 "passthrough)");
}

/* Under nodes_lock: node ino's backing id, counted one more, or 0. */
static int take_backing(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n = fs_node_by_ino(fs, ino);

	if (!n || !n->backing_id)
		return 0;
	n->backing_opens++;
	return n->backing_id;
}

int fs_passthrough_open(fuse_req_t req, fuse_ino_t ino, int fd)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;
	int id, spare;

	/* an inode open with passthrough takes every open so (the kernel
	 * fails the others), even once it is turned off for new ones */
	pthread_mutex_lock(&fs->nodes_lock);
	id = take_backing(fs, ino);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (id || !atomic_load(&fs->passthrough))
		return id;
	errno = 0;
	id = fuse_passthrough_open(req, fd);
	if (id <= 0) {
		give_up(fs, ino);
		return 0;
	}
	announce();
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	if (n && !n->backing_id) {
		n->backing_id = id;
		n->backing_opens = 1;
		pthread_mutex_unlock(&fs->nodes_lock);
		return id;
	}
	/* another open of it was quicker, or the node is gone */
	spare = id;
	id = n ? take_backing(fs, ino) : 0;
	pthread_mutex_unlock(&fs->nodes_lock);
	fuse_passthrough_close(req, spare);
	return id;
}

void fs_passthrough_release(fuse_req_t req, fuse_ino_t ino, int backing_id)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;

	if (!backing_id)
		return;
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	DEBUGASSERT(n && n->backing_id == backing_id && n->backing_opens);
	if (n && n->backing_id == backing_id && --n->backing_opens == 0)
		n->backing_id = 0;
	else
		backing_id = 0;
	pthread_mutex_unlock(&fs->nodes_lock);
	if (backing_id)
		fuse_passthrough_close(req, backing_id);
}

void fs_passthrough_set(struct fuse_file_info *fi, int backing_id)
{
	fi->backing_id = backing_id;
}
#else
int fs_passthrough_open(fuse_req_t req, fuse_ino_t ino, int fd)
{
	(void)req;
	(void)ino;
	(void)fd;
	return 0;
}

void fs_passthrough_release(fuse_req_t req, fuse_ino_t ino, int backing_id)
{
	(void)req;
	(void)ino;
	(void)backing_id;
}

void fs_passthrough_set(struct fuse_file_info *fi, int backing_id)
{
	(void)fi;
	(void)backing_id;
}
#endif

void fs_read_ahead(int fd)
{
	/* the whole image: the reads that follow take it in order */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
}
