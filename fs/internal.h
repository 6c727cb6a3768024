/* What the files of fs/ share: attributes, entry replies, the directory
 * listing helper, and each area's operations. */
#ifndef GPTIMGFS_FS_INTERNAL_H
#define GPTIMGFS_FS_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs.h"
#include "node.h"
#include "util/buf.h"
#include "util/debugassert.h"

/* How long the kernel may trust what we said (seconds). */
#define TTL_FIXED 3600.0 /* the directories' times: told when they move */
#define TTL_JOBS 1.0	 /* changes come through us anyway */
#define TTL_VIEW 0.0	 /* status/, wait/, credits change all along */
#define TTL_OUT 3600.0	 /* an image never changes in place */
/* a folder of status/, wait/ or out/: its name, for path walks (the
 * notifier tells the kernel when one goes); its attributes are TTL_VIEW,
 * so a stat of one that went fails at once */
#define TTL_FOLDER 1.0
/* ... but a name in out/ moves to a newer image when a job's next task
 * completes: the kernel asks at every path lookup, so that `cat wait/x &&
 * cp out/x.png` never gets the older image from a cached entry */
#define TTL_OUT_NAME 0.0

static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Reply an entry for node n with attributes st (n already referenced):
 * for a lookup, or with fi for a create. -ENOENT when the kernel no longer
 * wanted it (the lookup is undone), else 0. */
int fs_reply_entry(fuse_req_t req, struct fs_node *n, const struct stat *st,
		   double entry_ttl, double attr_ttl,
		   const struct fuse_file_info *fi);
/* Fill the attributes every synthetic file shares. */
void fs_stat_synthetic(const struct fs *fs, struct stat *st, fuse_ino_t ino,
		       mode_t mode, off_t size, time_t mtime);

/* credits: under allow_other, only the mount's owner may read it, so that
 * other users cannot make the daemon ask the API for the balance. */
static inline mode_t fs_credits_mode(const struct fs *fs)
{
	return S_IFREG | (fs->allow_other ? 0400 : 0444);
}
/* May the caller of req read a file of these read permissions? For what
 * the kernel does not check itself under default_permissions (listxattr),
 * and for getxattr, which it checks, as a second line. */
bool fs_may_read(const struct fs *fs, fuse_req_t req, mode_t mode);

/* What an open file or directory's fi->fh points to: each handle struct
 * starts with this header, whose kind read, write, release and the like
 * dispatch on. The kinds start far from 0 so that zeroed or stray memory
 * fails the debug builds' check in fs_handle_get. */
enum fs_handle_kind {
	FS_HANDLE_DIR = 0x4a1d0001, /* struct dirlist */
	FS_HANDLE_JOBS,		    /* struct jobs_handle */
	FS_HANDLE_VIEW,		    /* struct view_handle */
	FS_HANDLE_OUT,		    /* struct out_handle */
};

struct fs_handle {
	enum fs_handle_kind kind;
};

static inline void fs_handle_set(struct fuse_file_info *fi, struct fs_handle *h)
{
	fi->fh = (uintptr_t)h;
}

static inline enum fs_handle_kind fs_handle_kind(
	const struct fuse_file_info *fi)
{
	return ((const struct fs_handle *)(uintptr_t)fi->fh)->kind;
}

/* The handle of fi, which must be of this kind. */
static inline struct fs_handle *fs_handle_get(const struct fuse_file_info *fi,
					      enum fs_handle_kind kind)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	DEBUGASSERT(h && h->kind == kind);
	(void)kind;
	return h;
}

/* The handle struct of type that holds header h (member hdr). */
#define FS_HANDLE_OF(h, type) \
	((type *)(void *)((char *)(h)-offsetof(type, hdr)))

/* A directory listing taken at opendir and served from memory. */
struct dirlist {
	struct fs_handle hdr; /* FS_HANDLE_DIR */
	size_t n, cap;
	char **names;
	mode_t *types;
};
int fs_dirlist_add(struct dirlist *dl, const char *name, mode_t type);
/* Sort the entries from index first on by name, keeping one of each name
 * (a file rather than a folder). */
void fs_dirlist_sort_unique(struct dirlist *dl, size_t first);
void fs_dirlist_free(struct dirlist *dl);
/* The root's entries (fs.c). */
int fs_root_list(struct dirlist *dl);
/* The directory operations: a listing taken at opendir, served from
 * memory. */
void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* jobs/ paths, never through a symbolic link (jobs_paths.c); -1 with
 * errno on failure, as the system calls */
int fs_jobs_openat(struct fs *fs, const char *path, int flags, mode_t mode);
int fs_jobs_statat(struct fs *fs, const char *path, struct stat *st);
/* The folder that holds path (jobs/'s own descriptor, or one to give to
 * fs_jobs_dir_close) and, in *base, path's last component. */
int fs_jobs_dir_of(struct fs *fs, const char *path, const char **base);
void fs_jobs_dir_close(struct fs *fs, int fd);
int fs_jobs_unlinkat(struct fs *fs, const char *path, int flags);
int fs_jobs_mkdirat(struct fs *fs, const char *path, mode_t mode);
int fs_jobs_renameat(struct fs *fs, const char *from, const char *to,
		     unsigned int flags);

/* jobs/ */
/* The mode bits a file or folder of jobs/ may have: no write for group or
 * others, whatever is asked (a 0777 folder, a 0664 file from umask 002),
 * since whoever writes there spends the mounting user's credits. */
#define FS_JOBS_MODE_BITS 07755
void fs_jobs_lookup(fuse_req_t req, const char *name);
int fs_jobs_getattr(struct fs *fs, struct fs_node *n, struct stat *st);
/* fstat of an open jobs/ file, named or not any more */
int fs_jobs_fgetattr(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi,
		     struct stat *st);
/* stat of a jobs/ file whose name is gone while it is still open */
int fs_jobs_getattr_unnamed(struct fs *fs, fuse_ino_t ino, struct stat *st);
void fs_jobs_setattr(fuse_req_t req, struct fs_node *n, struct stat *attr,
		     int to_set, struct fuse_file_info *fi);
void fs_jobs_create(fuse_req_t req, const char *name, mode_t mode,
		    struct fuse_file_info *fi);
void fs_jobs_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_jobs_read(fuse_req_t req, size_t size, off_t off,
		  struct fuse_file_info *fi);
void fs_jobs_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		   size_t size, off_t off, struct fuse_file_info *fi);
void fs_jobs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_jobs_fsync(fuse_req_t req, struct fuse_file_info *fi);
/* futimens of the times setattr's to_set asks for (the _NOW flags too). */
int fs_set_times(int fd, const struct stat *attr, int to_set);
void fs_jobs_unlink(fuse_req_t req, const char *name);
void fs_jobs_rename(fuse_req_t req, const char *name, const char *newname,
		    unsigned int flags);
/* The entries of folder path of jobs/ ("": the top); with folders_only,
 * its folders that are not hidden alone. 0 or -errno. */
int fs_jobs_list(struct fs *fs, const char *path, bool folders_only,
		 struct dirlist *dl);

/* status/, wait/, credits */
#define FS_VIEW_MAX (64 * 1024) /* the longest text of a view file */
struct view_handle {
	struct fs_handle hdr; /* FS_HANDLE_VIEW */
	enum fs_area area;    /* status/, wait/, progress; AREA_NONE: credits */
	/* two reads of one descriptor may overlap; acquire after fs's
	 * parked_lock, before the core's lock */
	pthread_mutex_t lock;
	bool rendered; /* text holds the snapshot */
	bool failed;   /* wait/: the job failed (EIO after the text) */
	char name[CORE_NAME_MAX + 1];
	struct buf text;
	/* poll(2) (poll.c), under fs's parked_lock: every view file is on
	 * fs->watched while open */
	struct view_handle *watch_next, *watch_prev;
	struct fuse_pollhandle *ph; /* to notify at the job's next change */
	bool changed; /* status/: the job changed after text was taken */
};
int fs_view_render(struct fs *fs, struct view_handle *h);
void fs_view_reply(fuse_req_t req, struct view_handle *h, size_t size,
		   off_t off);
void fs_view_lookup(fuse_req_t req, enum fs_area area, const char *name);
int fs_view_getattr(struct fs *fs, struct fs_node *n, struct stat *st);
int fs_credits_getattr(struct fs *fs, struct stat *st);
int fs_progress_getattr(struct fs *fs, struct stat *st);
/* status/ and progress: a change after the text was taken is signalled
 * (poll.c), and a read from offset 0 takes the text again. */
static inline bool fs_view_signals_change(const struct view_handle *h)
{
	return h->area == AREA_STATUS || h->area == AREA_PROGRESS;
}
void fs_view_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_view_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void fs_view_release(fuse_req_t req, struct fuse_file_info *fi);

/* out/ */
void fs_out_lookup(fuse_req_t req, const char *name);
int fs_out_getattr(struct fs *fs, struct fs_node *n, struct stat *st);
void fs_out_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi);
void fs_out_read(fuse_req_t req, size_t size, off_t off,
		 struct fuse_file_info *fi);
void fs_out_release(fuse_req_t req, struct fuse_file_info *fi);
void fs_out_unlink(fuse_req_t req, const char *name);
/* Only the publisher's rename of a hidden name onto an image's. */
void fs_out_rename(fuse_req_t req, const char *name, const char *newname,
		   unsigned int flags);
void fs_out_getxattr(fuse_req_t req, struct fs_node *n, const char *attr,
		     size_t size);
void fs_out_listxattr(fuse_req_t req, struct fs_node *n, size_t size);

/* folders (folders.c, jobs_folders.c) */
/* The area and path below its top of directory dir ("" for the top, and
 * for the root with AREA_NONE). -ENOTDIR, -ENOENT, -ENAMETOOLONG. */
int fs_dir_path(struct fs *fs, fuse_ino_t dir, enum fs_area *area, char *path,
		size_t pathsz);
/* The same for entry name of directory parent ("a/b/name"). */
int fs_path_of(struct fs *fs, fuse_ino_t parent, const char *name,
	       enum fs_area *area, char *path, size_t pathsz);
bool fs_jobs_is_folder(struct fs *fs, const char *path);
/* Is path a folder of area (jobs/ has it, or something lies below)? */
bool fs_folder_exists(struct fs *fs, enum fs_area area, const char *path);
/* A folder of status/, wait/ or out/. */
int fs_folder_getattr(struct fs *fs, struct fs_node *n, struct stat *st);
void fs_folder_lookup(fuse_req_t req, enum fs_area area, const char *path);
/* The entries of folder path of status/, wait/ or out/ ("": the top). */
int fs_folder_list(struct fs *fs, enum fs_area area, const char *path,
		   struct dirlist *dl);
void fs_jobs_mkdir(fuse_req_t req, const char *path, mode_t mode);
void fs_jobs_rmdir(fuse_req_t req, const char *path);
/* May path be made (folder: a folder, else a file)? -EEXIST when a prompt
 * file and a folder would name the same job (logged), else 0. */
int fs_jobs_name_clash(struct fs *fs, const char *path, bool folder);
/* May folder path of jobs/ be renamed to newpath? -EPERM when it holds
 * prompt files, here or there (a hidden folder holds none), logged; else
 * 0. */
int fs_jobs_folder_movable(struct fs *fs, const char *path,
			   const char *newpath);
/* Reply the entry of jobs/PATH (a file or a folder), whose attributes are
 * st; with fi, for a create. 0, or -errno when no reply could be given
 * (then the caller still owns fi's handle). */
int fs_jobs_reply_entry(fuse_req_t req, const char *path, struct stat *st,
			struct fuse_file_info *fi);

/* out/ reads handed to the kernel (passthrough.c) */
void fs_passthrough_init(struct fs *fs, struct fuse_conn_info *conn);
/* At the open of out/ node ino, whose stored file is fd: the backing id
 * that makes the kernel read it, 0 when the daemon serves the reads. */
int fs_passthrough_open(fuse_req_t req, fuse_ino_t ino, int fd);
void fs_passthrough_release(fuse_req_t req, fuse_ino_t ino, int backing_id);
/* fi->backing_id, where libfuse has it. */
void fs_passthrough_set(struct fuse_file_info *fi, int backing_id);
/* The daemon serves the reads: ask the disk to read ahead. */
void fs_read_ahead(int fd);

/* poll(2) (poll.c): the operation, and the view files' watch list */
void fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	     struct fuse_pollhandle *ph);
void fs_watch_add(struct fs *fs, struct view_handle *h);
void fs_watch_remove(struct fs *fs, struct view_handle *h);
void fs_watch_job_changed(struct fs *fs, const char *name);
void fs_watch_credits_changed(struct fs *fs);
/* Wake the pollers of wait/name: what held it back is gone. */
void fs_watch_wake_wait(struct fs *fs, const char *name);
void fs_watch_drop_all(struct fs *fs);
/* Whether h's job changed since its text was taken; clears it. */
bool fs_watch_take_change(struct fs *fs, struct view_handle *h);

/* the fixed directories' times (dirtimes.c) */
void fs_dir_times_touch(struct fs *fs, bool views, bool out);
void fs_dir_times_flush(struct fs *fs);
void fs_dir_times_stat(struct fs *fs, fuse_ino_t ino, struct stat *st);
void fs_dir_times_setattr(fuse_req_t req, fuse_ino_t ino,
			  const struct stat *attr, int to_set);
/* The attributes of a fixed directory (fs.c). */
void fs_fixed_stat(struct fs *fs, fuse_ino_t ino, struct stat *st);

/* The session loop has ended (a signal, an unmount): nothing serves the
 * mount any more, so an invalidation could wait for ever for a directory
 * lock that a request in flight holds. The notifier then tells the kernel
 * nothing. */
static inline bool fs_session_gone(struct fs *fs)
{
	return atomic_load(&fs->loop_ended);
}

/* the publisher (publish.c) */
/* The notifier: job name changed; once completed, announce its images. */
void fs_publish_job(struct fs *fs, const char *name);
/* Has every image of job name (completed) been announced, or is there
 * nothing to wait for (no publisher, out/ unreachable, stopping)? A read
 * of its wait/ file is held until then. */
bool fs_publisher_announced(struct fs *fs, const char *name);
/* Folder path of jobs/ was removed or renamed away: its namesakes in
 * status/, wait/ and out/ may have gone with it (notify.c). */
void fs_folder_gone(struct fs *fs, const char *path);
/* The publisher is done with job name: answer parked reads and wake
 * wait/ pollers that it held (notify.c). */
void fs_recheck_job(struct fs *fs, const char *name);
/* Is path's last component one of the publisher's hidden names (never
 * anyone's file)? */
bool fs_publisher_hidden(const char *path);
/* Is req the publisher's own lookup or rename of hidden name, now? Then
 * the image's name and id. */
bool fs_publisher_claims(struct fs *fs, fuse_req_t req, const char *hidden,
			 char *name, uint64_t *id);
void fs_stop_publisher(struct fs *fs);
void fs_join_publisher(struct fs *fs);

/* parked reads (notify.c) */
/* Park a read of h until it can be answered (the job ended, the balance
 * came). The notifier answers it later; an interrupt answers EINTR. */
void fs_park_request(struct fs *fs, fuse_req_t req, struct view_handle *h,
		     size_t size, off_t off);

#endif
