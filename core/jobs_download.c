/* tmp/: the network thread's downloads in progress, and the move of a
 * whole one, once it is known to be an image, into out/. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
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

int core_tmp_keep(struct core *c, const char *tmp_name, uint64_t seq, size_t i,
		  char *backing, size_t backingsz, bool later_dir)
{
	unsigned char head[SNIFF_HEAD];
	const char *ext = NULL;
	ssize_t n;
	int fd = -1, rc;

	n = read_head(c, tmp_name, head, sizeof(head), &fd);
	if (n >= 0)
		ext = core_sniff_image(head, (size_t)n);
	rc = n < 0 ? (int)n : ext ? 0 : -EBADMSG;
	if (rc == 0) {
		snprintf(backing, backingsz, "%016" PRIu64 "-%zu.%s", seq,
			 i + 1, ext);
		rc = store_download(c, tmp_name, fd, backing, later_dir);
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0 && rc != -EBADMSG)
		log_err("%s/tmp/%s: cannot move the download into out/: %s",
			c->store.path, tmp_name, strerror(-rc));
	if (rc < 0) {
		core_tmp_unlink(c, tmp_name);
		/* -ENOENT says the task is gone; a file that vanished
		 * behind our back is a store error, and the image is
		 * fetched again */
		return rc == -ENOENT ? -EIO : rc;
	}
	return 0;
}
