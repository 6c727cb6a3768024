/* jobs/: the user's files, stored as real files under DATA_DIR/jobs and
 * read and written through their descriptors. A prompt file (NAME.txt) is
 * submitted when a handle that changed it is flushed (so status/NAME exists
 * when close() returns), or when a file is renamed onto it. Every other
 * file — editor swap files, rsync temporaries, notes — is only stored. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/opts.h"
#include "ops.h"

struct jobs_handle {
	enum fs_area area;	/* first: see handle_area() */
	int fd;
	bool written;		/* data written since the last submission */
	bool truncated;		/* created or truncated, nothing written yet */
};

static struct jobs_handle *handle_of(struct fuse_file_info *fi)
{
	return (struct jobs_handle *)(uintptr_t)fi->fh;
}

static int jobs_fd(fuse_req_t req)
{
	return core_jobs_dirfd(fs_of(req)->core);
}

static bool is_prompt(const char *name)
{
	char job[NAME_MAX + 1];

	return core_prompt_name(name, job, sizeof(job));
}

/* Submit job NAME for prompt file `file`; an error of the store makes
 * close() fail, so the writer knows. */
static int submit(struct fs *fs, const char *file)
{
	char job[NAME_MAX + 1];
	int rc;

	if (!core_prompt_name(file, job, sizeof(job)))
		return 0;
	rc = core_submit(fs->core, job);
	if (rc < 0)
		log_err("jobs/%s: cannot submit: %s", file, strerror(-rc));
	return rc;
}

int jobs_getattr(struct fs *fs, struct fs_node *n, struct stat *st)
{
	if (fstatat(core_jobs_dirfd(fs->core), n->name, st,
		    AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_ino = n->ino;
	return 0;
}

static void track_open(struct fs *fs, fuse_ino_t ino, int fd)
{
	pthread_mutex_lock(&fs->nodes_lock);
	node_opened(fs, ino, fd);
	pthread_mutex_unlock(&fs->nodes_lock);
}

static void track_release(struct fs *fs, fuse_ino_t ino)
{
	pthread_mutex_lock(&fs->nodes_lock);
	node_released(fs, ino);
	pthread_mutex_unlock(&fs->nodes_lock);
}

/* Reply the entry of jobs/NAME, whose attributes are st; with fi, for a
 * create. 0, or -errno when the reply could not be given (then the caller
 * still owns fi's handle). */
static int reply_jobs_entry(fuse_req_t req, const char *name, struct stat *st,
			    struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;

	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	pthread_mutex_lock(&fs->nodes_lock);
	n = node_ref(fs, AREA_JOBS, name, (uint64_t)st->st_ino);
	if (n && fi)
		node_opened(fs, n->ino, handle_of(fi)->fd);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return -ENOMEM;
	}
	if (fs_reply_entry(req, n, st, TTL_JOBS, TTL_JOBS, fi) == 0)
		return 0;
	if (fi)
		track_release(fs, n->ino);
	return -ENOENT;
}

void jobs_lookup(fuse_req_t req, const char *name)
{
	struct stat st;

	if (fstatat(jobs_fd(req), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fuse_reply_err(req, errno);
	else
		reply_jobs_entry(req, name, &st, NULL);
}

static struct jobs_handle *handle_new(int fd, bool truncated)
{
	struct jobs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->area = AREA_JOBS;
	h->fd = fd;
	h->truncated = truncated;
	return h;
}

/* Flags for the stored file: the caller's access mode and the ones that
 * change how it is written. */
static int stored_flags(int flags)
{
	return (flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_CREAT | O_EXCL)) |
	       O_CLOEXEC | O_NOFOLLOW;
}

void jobs_create(fuse_req_t req, const char *name, mode_t mode,
		 struct fuse_file_info *fi)
{
	struct jobs_handle *h;
	struct stat st;
	int rc = core_check_prompt_filename(name), fd;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fd = openat(jobs_fd(req), name, stored_flags(fi->flags) | O_CREAT,
		    mode & 07777);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h = handle_new(fd, true);
	if (!h || fstat(fd, &st) < 0) {
		rc = h ? -errno : -ENOMEM;
		fuse_reply_err(req, -rc);
	} else {
		fi->fh = (uintptr_t)h;
		rc = reply_jobs_entry(req, name, &st, fi);
	}
	if (rc < 0) {	/* no release will come for this handle */
		close(fd);
		free(h);
	}
}

void jobs_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct jobs_handle *h;
	int fd = openat(jobs_fd(req), n->name, stored_flags(fi->flags));

	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h = handle_new(fd, (fi->flags & O_TRUNC) != 0);
	if (!h) {
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)h;
	track_open(fs_of(req), n->ino, fd);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		track_release(fs_of(req), n->ino);
		close(fd);
		free(h);
	}
}

void jobs_read(fuse_req_t req, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = handle_of(fi)->fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

/* A prompt file may not grow beyond 1 MiB (SPEC: EFBIG at write()). */
static bool too_big(struct fs *fs, fuse_ino_t ino, off_t end)
{
	struct fs_node *n;
	bool prompt;

	if (end <= PROMPT_MAX_FILE)
		return false;
	pthread_mutex_lock(&fs->nodes_lock);
	n = node_by_ino(fs, ino);
	prompt = n && n->name && is_prompt(n->name);
	pthread_mutex_unlock(&fs->nodes_lock);
	return prompt;
}

void jobs_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		size_t size, off_t off, struct fuse_file_info *fi)
{
	struct jobs_handle *h = handle_of(fi);
	ssize_t n;

	if (fi->flags & O_APPEND) {
		off = lseek(h->fd, 0, SEEK_END);
		if (off < 0) {
			fuse_reply_err(req, errno);
			return;
		}
	}
	if (too_big(fs_of(req), ino, off + (off_t)size)) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	n = pwrite(h->fd, data, size, off);
	if (n < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h->written = true;
	fuse_reply_write(req, (size_t)n);
}

/* The name the open file has now (it may have been renamed since open);
 * "" when it was removed. */
static void current_name(struct fs *fs, fuse_ino_t ino, char *out,
			 size_t outsz)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	n = node_by_ino(fs, ino);
	snprintf(out, outsz, "%s", n && n->name ? n->name : "");
	pthread_mutex_unlock(&fs->nodes_lock);
}

static int submit_handle(struct fs *fs, fuse_ino_t ino, struct jobs_handle *h)
{
	char name[NAME_MAX + 1];

	h->written = h->truncated = false;
	current_name(fs, ino, name, sizeof(name));
	return name[0] ? submit(fs, name) : 0;
}

/* Does process pid still hold another descriptor on jobs/FILE? 1 yes, 0
 * no, -1 cannot tell (another user's process, another mount namespace). A
 * shell's `echo x > jobs/a.txt` opens the file, dup2()s it onto stdout and
 * closes the first descriptor before echo writes: that close must not
 * submit the still empty file. /proc/PID/fd links are read with readlink,
 * which never calls back into this filesystem. */
static int writer_still_has_it(struct fs *fs, pid_t pid, const char *file)
{
	char dir[64], link[PATH_MAX + 1], want[PATH_MAX + 1];
	struct dirent *de;
	bool found = false;
	DIR *d;
	int n;

	n = snprintf(want, sizeof(want), "%s/jobs/%s", fs->mountpoint, file);
	if (n < 0 || (size_t)n >= sizeof(want))
		return -1;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while (!found && (de = readdir(d)) != NULL) {
		ssize_t len = readlinkat(dirfd(d), de->d_name, link,
					 sizeof(link) - 1);

		if (len < 0)
			continue;
		link[len] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found ? 1 : 0;
}

/* close() of a descriptor on a changed prompt file submits it, so
 * status/NAME exists when close() returns — unless the closing process
 * keeps another descriptor on the file (then its last close does). When
 * that cannot be told, a file that was written is submitted, and one that
 * was only created or truncated waits for the release: submitting the
 * empty file before the write that follows could pay for an image edit
 * without a prompt. Later flushes with nothing new written (dup, fork)
 * submit nothing. What no flush submitted, the release does. */
void jobs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct jobs_handle *h = handle_of(fi);
	struct fs *fs = fs_of(req);
	char name[NAME_MAX + 1];
	int rc = 0, held;

	if (h->written || h->truncated) {
		current_name(fs, ino, name, sizeof(name));
		held = writer_still_has_it(fs, fuse_req_ctx(req)->pid, name);
		if (held == 0 || (held < 0 && h->written))
			rc = submit_handle(fs, ino, h);
	}
	fuse_reply_err(req, -rc);
}

void jobs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct jobs_handle *h = handle_of(fi);

	if (h->written || h->truncated)
		submit_handle(fs_of(req), ino, h);
	track_release(fs_of(req), ino);
	close(h->fd);
	free(h);
	fuse_reply_err(req, 0);
}

void jobs_fsync(fuse_req_t req, struct fuse_file_info *fi)
{
	fuse_reply_err(req, fsync(handle_of(fi)->fd) < 0 ? errno : 0);
}

static int set_size(fuse_req_t req, struct fs_node *n, off_t size,
		    struct fuse_file_info *fi)
{
	int fd, rc = 0;

	if (size > PROMPT_MAX_FILE && is_prompt(n->name))
		return -EFBIG;
	if (fi) {
		struct jobs_handle *h = handle_of(fi);

		if (ftruncate(h->fd, size) < 0)
			return -errno;
		h->truncated = true;
		return 0;
	}
	fd = openat(jobs_fd(req), n->name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int set_times(int fd, struct stat *attr, int to_set)
{
	struct timespec tv[2];

	tv[0].tv_nsec = tv[1].tv_nsec = UTIME_OMIT;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	return futimens(fd, tv) < 0 ? -errno : 0;
}

/* The attributes of the stored file behind fd, as the mount shows them. */
static int stat_fd(struct fs *fs, int fd, fuse_ino_t ino, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return -errno;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_ino = ino;
	return 0;
}

int jobs_fgetattr(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi,
		  struct stat *st)
{
	return stat_fd(fs, handle_of(fi)->fd, ino, st);
}

/* A descriptor of the stored file of a node whose name is gone but that is
 * still open somewhere (the caller closes it); -1 with errno ENOENT when
 * nothing has it open. */
static int open_fd_of(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n;
	int fd = -1;

	pthread_mutex_lock(&fs->nodes_lock);
	n = node_by_ino(fs, ino);
	if (n && n->fd >= 0)
		fd = fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (fd < 0 && (!n || n->fd < 0))
		errno = ENOENT;
	return fd;
}

int jobs_getattr_unnamed(struct fs *fs, fuse_ino_t ino, struct stat *st)
{
	int fd = open_fd_of(fs, ino), rc;

	if (fd < 0)
		return -errno;
	rc = stat_fd(fs, fd, ino, st);
	close(fd);
	return rc;
}

static int apply_attrs(fuse_req_t req, struct fs_node *n, int fd,
		       struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	int rc = 0;

	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		return -EPERM;	/* the files are the mounting user's */
	if ((to_set & FUSE_SET_ATTR_MODE) &&
	    fchmod(fd, attr->st_mode & 07777) < 0)
		return -errno;
	if (to_set & FUSE_SET_ATTR_SIZE)
		rc = set_size(req, n, attr->st_size, fi);
	if (rc == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
				  FUSE_SET_ATTR_ATIME_NOW |
				  FUSE_SET_ATTR_MTIME_NOW)))
		rc = set_times(fd, attr, to_set);
	return rc;
}

/* By the open file's descriptor when there is one (fchmod, ftruncate on a
 * file that was unlinked or renamed over since), else by name. */
void jobs_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr,
		  int to_set, struct fuse_file_info *fi)
{
	int fd = fi ? handle_of(fi)->fd
		 : n->name[0] ? openat(jobs_fd(req), n->name,
				       O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
			      : open_fd_of(fs_of(req), n->ino);
	struct stat st;
	int rc = fd < 0 ? -errno : 0;

	if (rc == 0)
		rc = apply_attrs(req, n, fd, attr, to_set, fi);
	if (rc == 0)
		rc = stat_fd(fs_of(req), fd, n->ino, &st);
	if (!fi && fd >= 0)
		close(fd);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, TTL_JOBS);
}

static void forget_prompt(struct fs *fs, const char *file)
{
	char job[NAME_MAX + 1];

	if (core_prompt_name(file, job, sizeof(job)))
		core_prompt_removed(fs->core, job);
}

static void detach_name(struct fs *fs, const char *name)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	n = node_by_name(fs, AREA_JOBS, name);
	if (n)
		node_detach(fs, n);
	pthread_mutex_unlock(&fs->nodes_lock);
}

void jobs_unlink(fuse_req_t req, const char *name)
{
	struct fs *fs = fs_of(req);

	if (unlinkat(jobs_fd(req), name, 0) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	detach_name(fs, name);
	forget_prompt(fs, name);
	fuse_reply_err(req, 0);
}

/* Keep the node table in step with a rename that happened on disk. */
static void rename_nodes(struct fs *fs, const char *name, const char *newname,
			 unsigned int flags)
{
	struct fs_node *from, *to;

	pthread_mutex_lock(&fs->nodes_lock);
	from = node_by_name(fs, AREA_JOBS, name);
	to = node_by_name(fs, AREA_JOBS, newname);
	if ((flags & RENAME_EXCHANGE) && from && to) {
		node_swap_names(fs, from, to);
	} else if (flags & RENAME_EXCHANGE) {
		/* the one the kernel knows takes the other name */
		if (from && node_rename(fs, from, newname) < 0)
			node_detach(fs, from);
		if (to && node_rename(fs, to, name) < 0)
			node_detach(fs, to);
	} else {
		if (to)
			node_detach(fs, to);
		if (from && node_rename(fs, from, newname) < 0)
			node_detach(fs, from);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
}

void jobs_rename(fuse_req_t req, const char *name, const char *newname,
		 unsigned int flags)
{
	struct fs *fs = fs_of(req);
	int rc = core_check_prompt_filename(newname);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (renameat2(jobs_fd(req), name, jobs_fd(req), newname, flags) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	rename_nodes(fs, name, newname, flags);
	if (flags & RENAME_EXCHANGE)
		submit(fs, name);
	else if (strcmp(name, newname) != 0)
		forget_prompt(fs, name);
	/* the rename is done whatever the submission says: a store failure
	 * is in the status (and the log), not in rename's result */
	submit(fs, newname);
	fuse_reply_err(req, 0);
}

int jobs_list(struct fs *fs, struct dirlist *dl)
{
	int fd = openat(core_jobs_dirfd(fs->core), ".",
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = dirlist_add(dl, de->d_name, S_IFREG);
	}
	closedir(d);
	return rc;
}
