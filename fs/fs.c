/* The operations table and what is common to every area: the fixed
 * directories, lookups and attributes, listings, and refusing every change
 * outside jobs/. The attributes of synthetic files and the read check are
 * attr.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "util/log.h"

static const struct {
	const char *name;
	fuse_ino_t ino;
} fixed_entries[] = {
	{ "jobs", FS_INO_JOBS },       { "status", FS_INO_STATUS },
	{ "wait", FS_INO_WAIT },       { "out", FS_INO_OUT },
	{ "credits", FS_INO_CREDITS }, { "progress", FS_INO_PROGRESS },
};

#define N_FIXED (sizeof(fixed_entries) / sizeof(fixed_entries[0]))

int fs_init(struct fs *fs, struct core *c)
{
	pthread_condattr_t attr;

	memset(fs, 0, sizeof(*fs));
	fs->core = c;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->mount_time);
	fs->views_mtime = fs->out_mtime = fs->mount_time;
	pthread_mutex_init(&fs->parked_lock, NULL);
	pthread_mutex_init(&fs->events_lock, NULL);
	/* the notifier's timed waits (notify.c) must not jump with the
	 * wall clock */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->events_cond, &attr);
	pthread_condattr_destroy(&attr);
	return fs_nodes_init(fs);
}

void fs_destroy(struct fs *fs)
{
	/* after the session: a request its last rename waits for is gone */
	fs_join_publisher(fs);
	fs_nodes_destroy(fs);
	pthread_mutex_destroy(&fs->parked_lock);
	pthread_mutex_destroy(&fs->events_lock);
	pthread_cond_destroy(&fs->events_cond);
}

void fs_fixed_stat(struct fs *fs, fuse_ino_t ino, struct stat *st)
{
	/* out/ is writable for rm under default_permissions (allow_other);
	 * nothing else can be changed there */
	mode_t mode = ino == FS_INO_JOBS || ino == FS_INO_OUT ? S_IFDIR | 0755 :
		      fs_ino_fixed_file(ino) ? fs_credits_mode(fs) :
					       S_IFDIR | 0555;

	fs_stat_synthetic(fs, st, ino, mode, 0, fs->mount_time.tv_sec);
	fs_dir_times_stat(fs, ino, st);
}

int fs_reply_entry(fuse_req_t req, struct fs_node *n, const struct stat *st,
		   double entry_ttl, double attr_ttl,
		   const struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req); /* req is gone once replied */
	struct fuse_entry_param e;
	int rc;

	memset(&e, 0, sizeof(e));
	e.ino = n->ino;
	e.attr = *st;
	e.attr.st_ino = n->ino;
	e.attr_timeout = attr_ttl;
	e.entry_timeout = entry_ttl;
	rc = fi ? fuse_reply_create(req, &e, fi) : fuse_reply_entry(req, &e);
	if (rc != -ENOENT)
		return 0;
	/* the kernel dropped the request: undo the lookup count */
	pthread_mutex_lock(&fs->nodes_lock);
	fs_node_forget(fs, e.ino, 1);
	pthread_mutex_unlock(&fs->nodes_lock);
	return -ENOENT;
}

static void root_lookup(fuse_req_t req, const char *name)
{
	struct fuse_entry_param e;
	size_t i;

	for (i = 0; i < N_FIXED; i++) {
		if (strcmp(name, fixed_entries[i].name) != 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.ino = fixed_entries[i].ino;
		fs_fixed_stat(fs_of(req), e.ino, &e.attr);
		e.attr_timeout = e.entry_timeout =
			fs_ino_fixed_file(e.ino) ? TTL_VIEW : TTL_FIXED;
		fuse_reply_entry(req, &e);
		return;
	}
	fuse_reply_err(req, ENOENT);
}

/* Where (parent, name) leads, into path; replied an error and false when
 * it leads nowhere. */
static bool resolve(fuse_req_t req, fuse_ino_t parent, const char *name,
		    enum fs_area *area, char *path)
{
	int rc = fs_path_of(fs_of(req), parent, name, area, path, PATH_MAX);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	return rc == 0;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PATH_MAX];
	enum fs_area area;

	if (parent == FS_INO_ROOT) {
		root_lookup(req, name);
		return;
	}
	if (!resolve(req, parent, name, &area, path))
		return;
	switch (area) {
	case AREA_JOBS:
		fs_jobs_lookup(req, path);
		break;
	case AREA_STATUS:
	case AREA_WAIT:
		fs_view_lookup(req, area, path);
		break;
	case AREA_OUT:
		fs_out_lookup(req, path);
		break;
	default:
		fuse_reply_err(req, ENOTDIR);
	}
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fs_of(req);

	pthread_mutex_lock(&fs->nodes_lock);
	fs_node_forget(fs, ino, nlookup);
	pthread_mutex_unlock(&fs->nodes_lock);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);
	size_t i;

	pthread_mutex_lock(&fs->nodes_lock);
	for (i = 0; i < count; i++)
		fs_node_forget(fs, forgets[i].ino, forgets[i].nlookup);
	pthread_mutex_unlock(&fs->nodes_lock);
	fuse_reply_none(req);
}

/* A snapshot of the node (its area and name), taken under the lock. */
struct node_ref {
	enum fs_area area;
	char name[PATH_MAX];
	struct fs_node copy;
};

static int node_get(struct fs *fs, fuse_ino_t ino, struct node_ref *r)
{
	struct fs_node *n;
	int rc = -ESTALE;

	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, ino);
	r->area = n ? n->area : AREA_NONE;
	if (n && n->name) {
		snprintf(r->name, sizeof(r->name), "%s", n->name);
		r->copy = *n;
		r->copy.name = r->name;
		rc = 0;
	} else if (n) {
		rc = -ENOENT; /* detached: r->area still says where */
	}
	pthread_mutex_unlock(&fs->nodes_lock);
	return rc;
}

static int attr_of(struct fs *fs, fuse_ino_t ino, struct stat *st, double *ttl)
{
	struct node_ref r;
	int rc;

	if (ino < FS_INO_FIRST_DYNAMIC) {
		*ttl = fs_ino_fixed_file(ino) ? TTL_VIEW : TTL_FIXED;
		if (ino == FS_INO_CREDITS)
			return fs_credits_getattr(fs, st);
		if (ino == FS_INO_PROGRESS)
			return fs_progress_getattr(fs, st);
		fs_fixed_stat(fs, ino, st);
		return 0;
	}
	rc = node_get(fs, ino, &r);
	if (rc == -ENOENT && r.area == AREA_JOBS) {
		*ttl = TTL_JOBS;
		return fs_jobs_getattr_unnamed(fs, ino, st);
	}
	if (rc < 0)
		return rc;
	if (r.copy.folder && r.area != AREA_JOBS) {
		*ttl = TTL_VIEW;
		return fs_folder_getattr(fs, &r.copy, st);
	}
	switch (r.area) {
	case AREA_JOBS:
		*ttl = TTL_JOBS;
		return fs_jobs_getattr(fs, &r.copy, st);
	case AREA_STATUS:
	case AREA_WAIT:
		*ttl = TTL_VIEW;
		return fs_view_getattr(fs, &r.copy, st);
	case AREA_OUT:
		*ttl = TTL_OUT;
		return fs_out_getattr(fs, &r.copy, st);
	default:
		return -ESTALE;
	}
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	double ttl = TTL_JOBS;
	int rc;

	if (fi && ino >= FS_INO_FIRST_DYNAMIC &&
	    fs_handle_kind(fi) == FS_HANDLE_JOBS)
		rc = fs_jobs_fgetattr(fs_of(req), ino, fi, &st);
	else
		rc = attr_of(fs_of(req), ino, &st, &ttl);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	st.st_ino = ino;
	fuse_reply_attr(req, &st, ttl);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct node_ref r;
	int rc;

	if (ino < FS_INO_FIRST_DYNAMIC) {
		fs_dir_times_setattr(req, ino, attr, to_set);
		return;
	}
	rc = node_get(fs_of(req), ino, &r);
	if (rc == -ENOENT && r.area == AREA_JOBS) {
		/* open, but unlinked or renamed over since: by descriptor */
		r.name[0] = '\0';
		r.copy.ino = ino;
		r.copy.name = r.name;
		rc = 0;
	}
	if (rc == 0 && r.area != AREA_JOBS)
		rc = -EACCES;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_jobs_setattr(req, &r.copy, attr, to_set, fi);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node_ref r;
	int rc;

	if (fs_ino_fixed_file(ino)) {
		fs_view_open(req, ino, fi);
		return;
	}
	rc = ino < FS_INO_FIRST_DYNAMIC ? -EISDIR :
					  node_get(fs_of(req), ino, &r);
	if (rc == 0 && r.copy.folder)
		rc = -EISDIR;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	switch (r.area) {
	case AREA_JOBS:
		fs_jobs_open(req, &r.copy, fi);
		break;
	case AREA_STATUS:
	case AREA_WAIT:
		fs_view_open(req, ino, fi);
		break;
	case AREA_OUT:
		fs_out_open(req, &r.copy, fi);
		break;
	default:
		fuse_reply_err(req, ESTALE);
	}
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	switch (fs_handle_kind(fi)) {
	case FS_HANDLE_JOBS:
		fs_jobs_read(req, size, off, fi);
		break;
	case FS_HANDLE_OUT:
		fs_out_read(req, size, off, fi);
		break;
	default:
		fs_view_read(req, ino, size, off, fi);
	}
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	if (fs_handle_kind(fi) != FS_HANDLE_JOBS) {
		fuse_reply_err(req, EACCES);
		return;
	}
	fs_jobs_write(req, ino, data, size, off, fi);
}

/* A FLUSH comes at every close(2), from any process that holds the open
 * file: it submits nothing (jobs/ files are submitted at their RELEASE,
 * see jobs_area.c), and there is no cache to write back. */
static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	switch (fs_handle_kind(fi)) {
	case FS_HANDLE_JOBS:
		fs_jobs_release(req, ino, fi);
		break;
	case FS_HANDLE_OUT:
		fs_out_release(req, fi);
		break;
	default:
		fs_view_release(req, fi);
	}
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	if (fs_handle_kind(fi) == FS_HANDLE_JOBS)
		fs_jobs_fsync(req, fi);
	else
		fuse_reply_err(req, 0);
}

/* Resolve (parent, name) for a change, which only jobs/ takes (and
 * unlink, out/): false, replied, elsewhere. */
static bool resolve_change(fuse_req_t req, fuse_ino_t parent, const char *name,
			   enum fs_area *area, char *path, bool out_too)
{
	if (!resolve(req, parent, name, area, path))
		return false;
	if (*area == AREA_JOBS || (out_too && *area == AREA_OUT))
		return true;
	fuse_reply_err(req, EACCES);
	return false;
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	char path[PATH_MAX];
	enum fs_area area;

	if (resolve_change(req, parent, name, &area, path, false))
		fs_jobs_create(req, path, mode, fi);
}

/* No links or special files in jobs/. */
static void refuse_node(fuse_req_t req, fuse_ino_t parent)
{
	char path[PATH_MAX];
	enum fs_area area;

	fs_dir_path(fs_of(req), parent, &area, path, sizeof(path));
	fuse_reply_err(req, area == AREA_JOBS ? EPERM : EACCES);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)name;
	(void)mode;
	(void)rdev;
	refuse_node(req, parent);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	char path[PATH_MAX];
	enum fs_area area;

	if (resolve_change(req, parent, name, &area, path, false))
		fs_jobs_mkdir(req, path, mode);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link;
	(void)name;
	refuse_node(req, parent);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
		    const char *name)
{
	(void)ino;
	(void)name;
	refuse_node(req, parent);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PATH_MAX];
	enum fs_area area;

	if (!resolve_change(req, parent, name, &area, path, true))
		return;
	if (area == AREA_JOBS)
		fs_jobs_unlink(req, path);
	else
		fs_out_unlink(req, path);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PATH_MAX];
	enum fs_area area;

	if (resolve_change(req, parent, name, &area, path, false))
		fs_jobs_rmdir(req, path);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	char path[PATH_MAX], newpath[PATH_MAX];
	enum fs_area area, newarea;

	if (!resolve(req, parent, name, &area, path) ||
	    !resolve(req, newparent, newname, &newarea, newpath))
		return;
	if (area == AREA_OUT && newarea == AREA_OUT)
		fs_out_rename(req, path, newpath, flags);
	/* EACCES, not EXDEV, across areas: mv(1) would fall back to copy
	 * and unlink, moving an image out of out/ */
	else if (area != AREA_JOBS || newarea != AREA_JOBS)
		fuse_reply_err(req, EACCES);
	else
		fs_jobs_rename(req, path, newpath, flags);
}

int fs_root_list(struct dirlist *dl)
{
	size_t i;

	for (i = 0; i < N_FIXED; i++) {
		mode_t type = fs_ino_fixed_file(fixed_entries[i].ino) ?
				      S_IFREG :
				      S_IFDIR;

		if (fs_dirlist_add(dl, fixed_entries[i].name, type) < 0)
			return -ENOMEM;
	}
	return 0;
}

static struct fs_node *out_node(struct fs *fs, fuse_ino_t ino,
				struct node_ref *r, int *err)
{
	*err = ino < FS_INO_FIRST_DYNAMIC ? -ENODATA : node_get(fs, ino, r);
	if (*err == 0 && (r->area != AREA_OUT || r->copy.folder))
		*err = -ENODATA; /* an image's attributes only */
	return *err == 0 ? &r->copy : NULL;
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct node_ref r;
	struct fs_node *n;
	int rc;

	n = out_node(fs_of(req), ino, &r, &rc);
	if (!n) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_out_getxattr(req, n, name, size);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct node_ref r;
	struct fs_node *n;
	int rc;

	n = out_node(fs_of(req), ino, &r, &rc);
	if (!n) {
		if (size == 0)
			fuse_reply_xattr(req, 0);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	fs_out_listxattr(req, n, size);
}

static bool in_jobs(struct fs *fs, fuse_ino_t ino)
{
	struct node_ref r;

	return ino >= FS_INO_FIRST_DYNAMIC && node_get(fs, ino, &r) == 0 &&
	       r.area == AREA_JOBS;
}

/* Attributes are not stored for jobs/ files; elsewhere they are
 * read-only, like everything outside jobs/. */
static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	fuse_reply_err(req, in_jobs(fs_of(req), ino) ? ENOTSUP : EACCES);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)name;
	fuse_reply_err(req, in_jobs(fs_of(req), ino) ? ENOTSUP : EACCES);
}

/* Without default_permissions the kernel asks us: refuse writing outside
 * jobs/ to everyone, root included. */
static void fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	bool writable = ino == FS_INO_JOBS || in_jobs(fs_of(req), ino);

	fuse_reply_err(req, (mask & W_OK) && !writable ? EACCES : 0);
}

/* fsync of jobs/ or a folder of it (an editor saving carefully: write,
 * fsync, rename, fsync the directory) syncs the stored directory. */
static void fs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	int top = core_jobs_dirfd(fs_of(req)->core), fd, rc = 0;
	char path[PATH_MAX];
	enum fs_area area;

	(void)datasync;
	(void)fi;
	if (fs_dir_path(fs_of(req), ino, &area, path, sizeof(path)) < 0 ||
	    area != AREA_JOBS) {
		fuse_reply_err(req, 0);
		return;
	}
	fd = path[0] ? fs_jobs_openat(fs_of(req), path, O_RDONLY | O_DIRECTORY,
				      0) :
		       top;
	if (fd < 0 || fsync(fd) < 0)
		rc = errno;
	if (fd >= 0 && fd != top)
		close(fd);
	fuse_reply_err(req, rc);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	if (fstatvfs(core_jobs_dirfd(fs_of(req)->core), &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_statfs(req, &sv);
}

static void fs_init_op(void *userdata, struct fuse_conn_info *conn)
{
	fs_passthrough_init(userdata, conn);
	/* check what the kernel offers before asking for it */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
	/* jobs/ files change only through us, but a FUSE writeback cache
	 * would delay the writes that a submission reads back */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init_op,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.symlink = fs_symlink,
	.link = fs_link,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.rename = fs_rename,
	.create = fs_create,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.poll = fs_poll,
	.fsync = fs_fsync,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.fsyncdir = fs_fsyncdir,
	.statfs = fs_statfs,
	.access = fs_access,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
};
