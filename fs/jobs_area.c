/* jobs/: the user's files, stored as real files under DATA_DIR/jobs and
 * read and written through their descriptors. Every other file than a
 * prompt file (NAME.txt) — editor swap files, rsync temporaries, notes —
 * is only stored.
 *
 * A prompt file is submitted when the last open handle that changed it
 * (created, truncated or wrote it) is released, or when a file that no
 * such handle holds is renamed onto it. Never at a FLUSH: a FLUSH comes at
 * every close(2) of every descriptor of the open file, children's and
 * helpers' included (`{ echo a; cmd; echo b; } > jobs/g.txt`), and none
 * of them can tell that the text is whole. Instead, from the moment a
 * handle changes the file until the submission, the job is "being
 * written" in the core: status/NAME exists and says queued, wait/NAME
 * blocks. So status/NAME exists when the writer's close() returns, and
 * `cat wait/NAME && cp out/NAME.png` never gets the older image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/opts.h"
#include "internal.h"
#include "util/log.h"

struct jobs_handle {
	struct fs_handle hdr; /* FS_HANDLE_JOBS */
	int fd;
	bool changed; /* created, truncated or written: counted in
				   its node's changers (under nodes_lock) */
};

static struct jobs_handle *handle_of(struct fuse_file_info *fi)
{
	return FS_HANDLE_OF(fs_handle_get(fi, FS_HANDLE_JOBS),
			    struct jobs_handle);
}

static bool is_prompt(const char *name)
{
	char job[CORE_NAME_MAX + 1];

	return core_prompt_name(name, job, sizeof(job));
}

/* Submit job NAME for prompt file `file`. An error of the store is in the
 * job's status (store_failed) and in the log. */
static void submit(struct fs *fs, const char *file)
{
	char job[CORE_NAME_MAX + 1];
	int rc;

	if (!core_prompt_name(file, job, sizeof(job)))
		return;
	rc = core_submit(fs->core, job);
	if (rc < 0)
		log_err("jobs/%s: cannot submit: %s", file, strerror(-rc));
}

/* Under nodes_lock: keep n's mark in step with its handles and its name.
 * While a handle that changed the file is open, or its release is
 * submitting it, and the file is a prompt file, its job is marked as being
 * written; the mark is kept in the node, as the file may be renamed before
 * its release. A new mark begins before the old one ends, so a job that
 * keeps its mark never flips back. */
static void remark(struct fs *fs, struct fs_node *n)
{
	char job[CORE_NAME_MAX + 1], *old = n->marked;

	if ((n->changers == 0 && n->submitting == 0) || !n->name ||
	    !core_prompt_name(n->name, job, sizeof(job)))
		job[0] = '\0';
	if (old && strcmp(old, job) == 0)
		return;
	n->marked = job[0] ? strdup(job) : NULL;
	if (n->marked && core_write_begin(fs->core, job) < 0) {
		free(n->marked);
		n->marked = NULL;
	}
	if (n->marked == NULL && job[0])
		log_err("jobs/%s: out of memory: status/%s does not say "
			"that it is being written",
			n->name, job);
	if (old)
		core_write_end(fs->core, old);
	free(old);
}

/* Under nodes_lock: one more open handle changed n's file. */
static void count_changer(struct fs *fs, struct fs_node *n)
{
	n->changers++;
	remark(fs, n);
}

/* Handle h wrote or truncated node ino's file. */
static void note_change(struct fs *fs, fuse_ino_t ino, struct jobs_handle *h)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	if (!h->changed) {
		h->changed = true;
		n = fs_node_by_ino(fs, ino);
		if (n)
			count_changer(fs, n);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
}

int fs_jobs_getattr(struct fs *fs, struct fs_node *n, struct stat *st)
{
	if (fs_jobs_statat(fs, n->name, st) < 0)
		return -errno;
	st->st_mode &= S_IFMT | FS_JOBS_MODE_BITS;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_ino = n->ino;
	return 0;
}

/* Under nodes_lock: handle h (changed at its open when it created or
 * truncated the file) is open on node n. */
static void opened_locked(struct fs *fs, struct fs_node *n,
			  struct jobs_handle *h)
{
	fs_node_opened(fs, n->ino, h->fd);
	if (h->changed)
		count_changer(fs, n);
}

static void track_open(struct fs *fs, fuse_ino_t ino, struct jobs_handle *h)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	if (n)
		opened_locked(fs, n, h);
	pthread_mutex_unlock(&fs->nodes_lock);
}

/* Handle h that changed node ino's file goes: true when it was the last
 * one open that did (then name is the file's name now, "" when it has
 * none, and the caller submits it, then calls end_mark). */
static bool last_changer_gone(struct fs *fs, fuse_ino_t ino, char *name,
			      size_t namesz)
{
	struct fs_node *n;
	bool last = false;

	name[0] = '\0';
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	if (n && n->changers > 0) {
		last = --n->changers == 0;
		n->submitting += last;
		snprintf(name, namesz, "%s", n->name ? n->name : "");
	}
	pthread_mutex_unlock(&fs->nodes_lock);
	return last;
}

/* The submission was made: end the mark, unless another handle changed
 * the file meanwhile (its release submits again, then ends it; it may be
 * submitting already, having waited for this one). */
static void end_mark(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	if (n) {
		n->submitting--;
		remark(fs, n);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
}

/* Handle h on node ino goes away. At a release, the last handle that
 * changed the file submits it — once, whatever other descriptors,
 * processes and FLUSHes came before — and then ends the job's mark. A
 * handle whose open the kernel dropped (released false) submits nothing. */
static void track_release(struct fs *fs, fuse_ino_t ino, struct jobs_handle *h,
			  bool released)
{
	char name[PATH_MAX];

	if (h->changed && last_changer_gone(fs, ino, name, sizeof(name))) {
		if (released && name[0])
			submit(fs, name);
		end_mark(fs, ino);
	}
	pthread_mutex_lock(&fs->nodes_lock);
	fs_node_released(fs, ino);
	pthread_mutex_unlock(&fs->nodes_lock);
}

int fs_jobs_reply_entry(fuse_req_t req, const char *name, struct stat *st,
			struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;

	/* what an older version stored, or someone put in DATA_DIR/jobs,
	 * is shown without write for others all the same */
	st->st_mode &= S_IFMT | FS_JOBS_MODE_BITS;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	pthread_mutex_lock(&fs->nodes_lock);
	n = S_ISDIR(st->st_mode) ?
		    fs_node_ref_folder(fs, AREA_JOBS, name,
				       (uint64_t)st->st_ino) :
		    fs_node_ref(fs, AREA_JOBS, name, (uint64_t)st->st_ino);
	if (n && fi)
		opened_locked(fs, n, handle_of(fi));
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return -ENOMEM;
	}
	if (fs_reply_entry(req, n, st, TTL_JOBS, TTL_JOBS, fi) == 0)
		return 0;
	if (fi)
		track_release(fs, n->ino, handle_of(fi), false);
	return -ENOENT;
}

void fs_jobs_lookup(fuse_req_t req, const char *name)
{
	struct stat st;

	if (fs_jobs_statat(fs_of(req), name, &st) < 0)
		fuse_reply_err(req, errno);
	else
		fs_jobs_reply_entry(req, name, &st, NULL);
}

/* changed: the open created or truncated the file (counted at the node
 * once the handle is open on it) */
static struct jobs_handle *handle_new(int fd, bool changed)
{
	struct jobs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->hdr.kind = FS_HANDLE_JOBS;
	h->fd = fd;
	h->changed = changed;
	return h;
}

/* Flags for the stored file: the caller's access mode and the ones that
 * change how it is written. */
static int stored_flags(int flags)
{
	return (flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_CREAT | O_EXCL)) |
	       O_CLOEXEC | O_NOFOLLOW;
}

void fs_jobs_create(fuse_req_t req, const char *name, mode_t mode,
		    struct fuse_file_info *fi)
{
	struct jobs_handle *h;
	struct stat st;
	int rc = core_check_prompt_filename(name), fd;

	if (rc == 0)
		rc = fs_jobs_name_clash(fs_of(req), name, false);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fd = fs_jobs_openat(fs_of(req), name, stored_flags(fi->flags) | O_CREAT,
			    mode & FS_JOBS_MODE_BITS);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h = handle_new(fd, true);
	if (!h || fstat(fd, &st) < 0) {
		rc = h ? -errno : -ENOMEM;
		fuse_reply_err(req, -rc);
	} else {
		fs_handle_set(fi, &h->hdr);
		rc = fs_jobs_reply_entry(req, name, &st, fi);
	}
	if (rc < 0) { /* no release will come for this handle */
		close(fd);
		free(h);
	}
}

void fs_jobs_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct jobs_handle *h;
	int fd =
		fs_jobs_openat(fs_of(req), n->name, stored_flags(fi->flags), 0);

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
	fs_handle_set(fi, &h->hdr);
	track_open(fs_of(req), n->ino, h);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		track_release(fs_of(req), n->ino, h, false);
		close(fd);
		free(h);
	}
}

void fs_jobs_read(fuse_req_t req, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = handle_of(fi)->fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

/* A prompt file may not grow beyond 1 MiB (gptimgfs(1), THE MOUNT: EFBIG). */
static bool too_big(struct fs *fs, fuse_ino_t ino, off_t end)
{
	struct fs_node *n;
	bool prompt;

	if (end <= PROMPT_MAX_FILE)
		return false;
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	prompt = n && n->name && is_prompt(n->name);
	pthread_mutex_unlock(&fs->nodes_lock);
	return prompt;
}

void fs_jobs_write(fuse_req_t req, fuse_ino_t ino, const char *data,
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
	note_change(fs_of(req), ino, h);
	fuse_reply_write(req, (size_t)n);
}

void fs_jobs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct jobs_handle *h = handle_of(fi);

	track_release(fs_of(req), ino, h, true);
	close(h->fd);
	free(h);
	fuse_reply_err(req, 0);
}

void fs_jobs_fsync(fuse_req_t req, struct fuse_file_info *fi)
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
		note_change(fs_of(req), n->ino, h);
		return 0;
	}
	fd = fs_jobs_openat(fs_of(req), n->name, O_WRONLY, 0);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int fs_set_times(int fd, const struct stat *attr, int to_set)
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
	st->st_mode &= S_IFMT | FS_JOBS_MODE_BITS;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_ino = ino;
	return 0;
}

int fs_jobs_fgetattr(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi,
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
	n = fs_node_by_ino(fs, ino);
	if (n && n->fd >= 0)
		fd = fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (fd < 0 && (!n || n->fd < 0))
		errno = ENOENT;
	return fd;
}

int fs_jobs_getattr_unnamed(struct fs *fs, fuse_ino_t ino, struct stat *st)
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
		return -EPERM; /* the files are the mounting user's */
	if ((to_set & FUSE_SET_ATTR_MODE) &&
	    fchmod(fd, attr->st_mode & FS_JOBS_MODE_BITS) < 0)
		return -errno;
	if (to_set & FUSE_SET_ATTR_SIZE)
		rc = set_size(req, n, attr->st_size, fi);
	if (rc == 0 &&
	    (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		       FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)))
		rc = fs_set_times(fd, attr, to_set);
	return rc;
}

/* By the open file's descriptor when there is one (fchmod, ftruncate on a
 * file that was unlinked or renamed over since), else by name. */
void fs_jobs_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr,
		     int to_set, struct fuse_file_info *fi)
{
	int fd = fi	    ? handle_of(fi)->fd :
		 n->name[0] ? fs_jobs_openat(fs_of(req), n->name, O_RDONLY, 0) :
			      open_fd_of(fs_of(req), n->ino);
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
	char job[CORE_NAME_MAX + 1];

	if (core_prompt_name(file, job, sizeof(job)))
		core_prompt_removed(fs->core, job);
}

/* Under nodes_lock: the name no longer leads to n's file, which ends its
 * mark: what is written there now is submitted nowhere. */
static void detach(struct fs *fs, struct fs_node *n)
{
	fs_node_detach(fs, n);
	remark(fs, n);
}

/* Under nodes_lock: n's file is now called name. */
static void renamed(struct fs *fs, struct fs_node *n, const char *name)
{
	if (fs_node_rename(fs, n, name) < 0)
		detach(fs, n);
	else
		remark(fs, n);
}

static void detach_name(struct fs *fs, const char *name)
{
	struct fs_node *n;

	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_name(fs, AREA_JOBS, name);
	if (n)
		detach(fs, n);
	pthread_mutex_unlock(&fs->nodes_lock);
}

void fs_jobs_unlink(fuse_req_t req, const char *name)
{
	struct fs *fs = fs_of(req);

	if (fs_jobs_unlinkat(fs, name, 0) < 0) {
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
	from = fs_node_by_name(fs, AREA_JOBS, name);
	to = fs_node_by_name(fs, AREA_JOBS, newname);
	if ((flags & RENAME_EXCHANGE) && from && to) {
		fs_node_swap_names(fs, from, to);
		remark(fs, from);
		remark(fs, to);
	} else if (flags & RENAME_EXCHANGE) {
		/* the one the kernel knows takes the other name */
		if (from)
			renamed(fs, from, newname);
		if (to)
			renamed(fs, to, name);
	} else {
		if (to)
			detach(fs, to);
		if (from)
			renamed(fs, from, newname);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
}

/* A file was renamed onto `file`: submit it now, unless a handle that
 * changed it is still open (rsync and sed -i may rename before their
 * close reached us): then the job is marked, and that handle's release
 * submits. */
static void submit_renamed(struct fs *fs, const char *file)
{
	struct fs_node *n;
	bool being_written;

	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_name(fs, AREA_JOBS, file);
	being_written = n && n->changers > 0;
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!being_written)
		submit(fs, file);
}

void fs_jobs_rename(fuse_req_t req, const char *name, const char *newname,
		    unsigned int flags)
{
	struct fs *fs = fs_of(req);
	bool folder = fs_jobs_is_folder(fs, name);
	int rc = folder ? fs_jobs_folder_movable(fs, name, newname) :
			  core_check_prompt_filename(newname);

	if (rc == 0 && (flags & RENAME_EXCHANGE) &&
	    (folder || fs_jobs_is_folder(fs, newname)))
		rc = -EINVAL; /* not for folders */
	if (rc == 0 && !(flags & RENAME_EXCHANGE))
		rc = fs_jobs_name_clash(fs, newname, folder);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (fs_jobs_renameat(fs, name, newname, flags) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	rename_nodes(fs, name, newname, flags);
	if (folder) {
		pthread_mutex_lock(&fs->nodes_lock);
		fs_node_rename_below(fs, name, newname);
		pthread_mutex_unlock(&fs->nodes_lock);
		fs_folder_gone(fs, name);
		fuse_reply_err(req, 0);
		return;
	}
	if (flags & RENAME_EXCHANGE)
		submit_renamed(fs, name);
	else if (strcmp(name, newname) != 0)
		forget_prompt(fs, name);
	/* the rename is done whatever the submission says: a store failure
	 * is in the status (and the log), not in rename's result */
	submit_renamed(fs, newname);
	fuse_reply_err(req, 0);
}

int fs_jobs_list(struct fs *fs, const char *path, bool folders_only,
		 struct dirlist *dl)
{
	int fd = fs_jobs_openat(fs, path[0] ? path : ".",
				O_RDONLY | O_DIRECTORY, 0);
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
		bool dir = de->d_type == DT_DIR;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (folders_only && (!dir || de->d_name[0] == '.')))
			continue;
		rc = fs_dirlist_add(dl, de->d_name, dir ? S_IFDIR : S_IFREG);
	}
	closedir(d);
	return rc;
}
