/* out/: the images, each served from its file in the store. An image never
 * changes in place (a newer one gets a new inode), so the kernel may keep
 * its pages and attributes; reads go from the stored file to the kernel
 * with fuse_reply_data (spliced where the kernel allows). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define XATTR_MAX (1024 * 1024)

/* Counted: the open, and each read while it replies. The kernel sends
 * RELEASE only after every READ was answered, but fuse_reply_data may still
 * be returning then, and the order the kernel keeps is invisible to
 * ThreadSanitizer; the last one out closes fd. */
struct out_handle {
	struct fs_handle hdr; /* FS_HANDLE_OUT */
	int fd;
	fuse_ino_t ino;
	int backing_id; /* the kernel reads fd itself (passthrough.c); 0: we do */
	atomic_uint refs;
};

static struct out_handle *out_handle_of(const struct fuse_file_info *fi)
{
	return FS_HANDLE_OF(fs_handle_get(fi, FS_HANDLE_OUT),
			    struct out_handle);
}

static void out_handle_put(struct out_handle *h)
{
	if (atomic_fetch_sub(&h->refs, 1) == 1) {
		close(h->fd);
		free(h);
	}
}

static void output_stat(const struct fs *fs, const struct core_output *o,
			fuse_ino_t ino, struct stat *st)
{
	fs_stat_synthetic(fs, st, ino, S_IFREG | o->mode, o->size,
			  o->mtime.tv_sec);
	st->st_mtim = st->st_ctim = st->st_atim = o->mtime;
}

int fs_out_getattr(struct fs *fs, struct fs_node *n, struct stat *st)
{
	struct core_output o;
	int rc = core_output_find(fs->core, n->name, &o);

	if (rc == 0 && o.id != n->key)
		rc = -ENOENT; /* the name now means a newer image */
	if (rc == 0)
		output_stat(fs, &o, n->ino, st);
	return rc;
}

/* The publisher's hidden name of an image (publish.c): its own node,
 * never cached, for the publisher's lookup alone. */
static void lookup_hidden(fuse_req_t req, const char *hidden)
{
	struct fs *fs = fs_of(req);
	char name[PATH_MAX];
	struct core_output o;
	struct fs_node *n;
	struct stat st;
	uint64_t id;

	if (!fs_publisher_claims(fs, req, hidden, name, &id) ||
	    core_output_find(fs->core, name, &o) < 0 || o.id != id) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_ref(fs, AREA_OUT, hidden, id);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	output_stat(fs, &o, n->ino, &st);
	fs_reply_entry(req, n, &st, 0, 0, NULL);
}

void fs_out_rename(fuse_req_t req, const char *name, const char *newname,
		   unsigned int flags)
{
	struct fs *fs = fs_of(req);
	char image[PATH_MAX];
	struct fs_node *from, *to;
	struct core_output o;
	uint64_t id;
	int rc = -ENOENT;

	if (flags || !fs_publisher_claims(fs, req, name, image, &id) ||
	    strcmp(newname, image) != 0) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (core_output_find(fs->core, image, &o) < 0 || o.id != id) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* the kernel now has the image's name on the hidden name's node;
	 * the node it had under that name still serves what was in flight
	 * on it (an open racing the rename), and is forgotten in time */
	pthread_mutex_lock(&fs->nodes_lock);
	from = fs_node_by_name(fs, AREA_OUT, name);
	to = fs_node_by_name(fs, AREA_OUT, image);
	if (from && from->key == id)
		rc = to && to != from ? fs_node_supersede(fs, from, to) :
					fs_node_rename(fs, from, image);
	pthread_mutex_unlock(&fs->nodes_lock);
	fuse_reply_err(req, -rc);
}

void fs_out_lookup(fuse_req_t req, const char *name)
{
	struct fs *fs = fs_of(req);
	struct core_output o;
	struct fs_node *n;
	struct stat st;
	int rc;

	if (fs_publisher_hidden(name)) {
		lookup_hidden(req, name);
		return;
	}
	rc = core_output_find(fs->core, name, &o);
	if (rc == -ENOENT) {
		fs_folder_lookup(req, AREA_OUT, name); /* or ENOENT */
		return;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_ref(fs, AREA_OUT, name, o.id);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	output_stat(fs, &o, n->ino, &st);
	fs_reply_entry(req, n, &st, TTL_OUT_NAME, TTL_OUT, NULL);
}

void fs_out_open(fuse_req_t req, struct fs_node *n, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct out_handle *h;
	struct core_output o;
	int rc = core_output_find(fs->core, n->name, &o);

	if (rc == 0 && o.id != n->key)
		rc = -ENOENT;
	if (rc == 0 &&
	    ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
		rc = -EACCES;
	h = rc == 0 ? calloc(1, sizeof(*h)) : NULL;
	if (rc == 0 && !h)
		rc = -ENOMEM;
	if (rc == 0) {
		h->hdr.kind = FS_HANDLE_OUT;
		h->ino = n->ino;
		atomic_init(&h->refs, 1);
		h->fd = openat(core_out_dirfd(fs->core), o.backing,
			       O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (h->fd < 0)
			rc = -errno;
	}
	if (rc < 0) {
		free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->backing_id = fs_passthrough_open(req, n->ino, h->fd);
	fs_handle_set(fi, &h->hdr);
	if (h->backing_id) {
		/* the kernel takes no other open flag with passthrough */
		fs_passthrough_set(fi, h->backing_id);
	} else {
		fs_read_ahead(h->fd);
		fi->keep_cache = 1;
	}
	if (fuse_reply_open(req, fi) == -ENOENT) {
		fs_passthrough_release(req, h->ino, h->backing_id);
		close(h->fd);
		free(h);
	}
}

void fs_out_read(fuse_req_t req, size_t size, off_t off,
		 struct fuse_file_info *fi)
{
	struct out_handle *h = out_handle_of(fi);
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

	atomic_fetch_add(&h->refs, 1);
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = h->fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	out_handle_put(h);
}

void fs_out_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct out_handle *h = out_handle_of(fi);

	fs_passthrough_release(req, h->ino, h->backing_id);
	out_handle_put(h);
	fuse_reply_err(req, 0);
}

void fs_out_unlink(fuse_req_t req, const char *name)
{
	struct fs *fs = fs_of(req);
	int rc = core_output_unlink(fs->core, name);
	struct fs_node *n;

	if (rc == 0) {
		pthread_mutex_lock(&fs->nodes_lock);
		n = fs_node_by_name(fs, AREA_OUT, name);
		if (n)
			fs_node_detach(fs, n);
		pthread_mutex_unlock(&fs->nodes_lock);
	}
	fuse_reply_err(req, -rc);
}

/* getxattr/listxattr: size 0 asks for the length only. */
static void reply_xattr(fuse_req_t req, const struct buf *value, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, value->len);
	else if (size < value->len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value->data, value->len);
}

/* The attributes hold the prompt: as private as the image. */
static int xattr_readable(fuse_req_t req, struct fs_node *n)
{
	struct fs *fs = fs_of(req);
	struct core_output o;
	int rc = core_output_find(fs->core, n->name, &o);

	if (rc == 0 && !fs_may_read(fs, req, o.mode))
		rc = -EACCES;
	return rc;
}

void fs_out_getxattr(fuse_req_t req, struct fs_node *n, const char *attr,
		     size_t size)
{
	struct buf value;
	int rc = xattr_readable(req, n);

	buf_init(&value, XATTR_MAX);
	if (rc == 0)
		rc = core_output_xattr(fs_of(req)->core, n->name, attr, &value);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_xattr(req, &value, size);
	buf_free(&value);
}

void fs_out_listxattr(fuse_req_t req, struct fs_node *n, size_t size)
{
	struct buf list;
	int rc = xattr_readable(req, n);

	buf_init(&list, XATTR_MAX);
	if (rc == 0)
		rc = core_output_xattr_list(fs_of(req)->core, n->name, &list);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_xattr(req, &list, size);
	buf_free(&list);
}
