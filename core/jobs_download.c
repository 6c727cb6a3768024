/* tmp/: the network thread's downloads in progress, and the move of a
 * whole one, once it is known to be an image, into out/. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sniff.h"
#include "util/log.h"

int core_tmpfile(struct core *c, char *name, size_t namesz)
{
	return core_store_create_temp(c->store.tmp_fd, "dl-", name, namesz);
}

void core_tmp_unlink(struct core *c, const char *name)
{
	/* one component (core_tmpfile's): unlinkat never goes elsewhere */
	if (!strchr(name, '/'))
		unlinkat(c->store.tmp_fd, name, 0);
}

/* The first bytes of tmp/name, for sniffing. */
static ssize_t read_head(struct core *c, const char *name, unsigned char *head,
			 size_t len, int *fd_out)
{
	int fd = core_store_open_file(c->store.tmp_fd, name, O_RDONLY, 0);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pread(fd, head, len, 0);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	*fd_out = fd;
	return n;
}

/* Move a whole download, tmp/name, into the store as SEQ-I.EXT,
 * durably; with later_dir, out/ is synced by the caller before anything
 * names the image (the next record flush). */
static int store_download(struct core *c, const char *name, int fd,
			  const char *backing, bool later_dir)
{
	if (fsync(fd) < 0)
		return -errno;
	if (renameat(c->store.tmp_fd, name, c->store.out_fd, backing) < 0)
		return -errno;
	if (later_dir)
		return 0;
	return fsync(c->store.out_fd) < 0 ? -errno : 0;
}

/* tmp/name (open as *fd, size bytes) rewritten with the metadata into a
 * new tmp/ file, which then takes its place in name and *fd; why says what
 * was done. On any failure the download stays as it is: the image is
 * paid for, and stored as the API sent it. */
static void embed_download(struct core *c, char *name, size_t namesz, int *fd,
			   const char *ext, struct tmp_keep *k)
{
	struct embed_plan plan;
	char new_name[64];
	struct stat st;
	int new_fd = -1, rc;

	core_embed_plan_init(&plan);
	rc = fstat(*fd, &st) < 0 ? -errno : 0;
	if (rc == 0 && core_embed_plan(ext, *fd, st.st_size, k->texts, &plan) ==
			       EMBED_MALFORMED) {
		log_warn("%s/tmp/%s (image %zu of task %" PRIu64 "): %s; "
			 "stored as sent, without metadata",
			 c->store.path, name, k->i + 1, k->seq, plan.why);
		snprintf(k->embedded, sizeof(k->embedded), "not embedded: %s",
			 plan.why);
		goto out;
	}
	snprintf(k->embedded, sizeof(k->embedded), "%s", plan.why);
	if (rc == 0 && plan.n == 0)
		goto out; /* nothing to add, or nothing allowed */
	if (rc == 0)
		rc = new_fd = core_tmpfile(c, new_name, sizeof(new_name));
	if (rc >= 0)
		rc = core_embed_write(*fd, st.st_size, new_fd, &plan);
	if (rc < 0) {
		log_err("%s/tmp/%s: cannot write the image with its "
			"metadata: %s; stored as sent",
			c->store.path, name, strerror(-rc));
		snprintf(k->embedded, sizeof(k->embedded), "not embedded: %s",
			 strerror(-rc));
		if (new_fd >= 0) {
			close(new_fd);
			core_tmp_unlink(c, new_name);
		}
	} else {
		core_tmp_unlink(c, name);
		close(*fd);
		*fd = new_fd;
		snprintf(name, namesz, "%s", new_name);
	}
out:
	core_embed_plan_free(&plan);
}

int core_tmp_keep(struct core *c, struct tmp_keep *k)
{
	unsigned char head[SNIFF_HEAD];
	const char *ext = NULL;
	char name[64];
	ssize_t n;
	int fd = -1, rc;

	snprintf(name, sizeof(name), "%s", k->tmp_name);
	n = read_head(c, name, head, sizeof(head), &fd);
	if (n >= 0)
		ext = core_sniff_image(head, (size_t)n);
	rc = n < 0 ? (int)n : ext ? 0 : -EBADMSG;
	if (!k->embedded[0])
		snprintf(k->embedded, sizeof(k->embedded),
			 "not embedded: embed_metadata=no");
	if (rc == 0 && k->texts)
		embed_download(c, name, sizeof(name), &fd, ext, k);
	if (rc == 0) {
		snprintf(k->backing, sizeof(k->backing),
			 "%016" PRIu64 "-%zu.%s", k->seq, k->i + 1, ext);
		rc = store_download(c, name, fd, k->backing, k->later_dir);
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0 && rc != -EBADMSG)
		log_err("%s/tmp/%s: cannot move the download into out/: %s",
			c->store.path, name, strerror(-rc));
	if (rc < 0) {
		core_tmp_unlink(c, name);
		/* -ENOENT says the task is gone; a file that vanished
		 * behind our back is a store error, and the image is
		 * fetched again */
		return rc == -ENOENT ? -EIO : rc;
	}
	return 0;
}
