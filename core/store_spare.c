/* Spare files: the temporary files that a batch of replacements is written
 * in, kept from one batch to the next (see store.h). A replacement swaps
 * its spare with the file it replaces, so the old file becomes a spare in
 * its turn and no inode is made or freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

/* set once a file system answers that it cannot swap two names */
static atomic_bool no_exchange;

static void spare_name(unsigned spare, char *name, size_t namesz)
{
	snprintf(name, namesz, ".spare-%u.tmp", spare);
}

void core_spares_init(struct store_spares *p, int dir_fd)
{
	p->dir_fd = dir_fd;
	p->next = 0;
	p->n_free = 0;
	p->n_unsettled = 0;
}

/* A new spare: whatever has its name (a file a failed removal left) is
 * removed first, never followed. */
static int spare_create(struct store_spares *p, unsigned spare)
{
	char name[32];
	int fd;

	spare_name(spare, name, sizeof(name));
	fd = core_store_open_file(p->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL,
				  0600);
	if (fd == -EEXIST && unlinkat(p->dir_fd, name, 0) == 0)
		fd = core_store_open_file(p->dir_fd, name,
					  O_WRONLY | O_CREAT | O_EXCL, 0600);
	return fd;
}

/* A free spare, opened to be overwritten, or -1: it is what a file of
 * this directory was, so anything but a regular file of one link is left
 * alone for the next start's sweep (O_NONBLOCK: a FIFO does not hang the
 * open). */
static int spare_reopen(struct store_spares *p, unsigned spare)
{
	char name[32];
	struct stat st;
	int fd;

	spare_name(spare, name, sizeof(name));
	fd = core_store_open_file(p->dir_fd, name, O_WRONLY | O_NONBLOCK, 0);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* data at the start of fd (just opened), and nothing after it. */
static int overwrite(int fd, const char *data, size_t len)
{
	int rc = core_store_write_all(fd, data, len);

	return rc == 0 && ftruncate(fd, (off_t)len) < 0 ? -errno : rc;
}

int core_spares_write(struct store_spares *p, const void *data, size_t len,
		      bool sync, unsigned *spare)
{
	int fd = -1, rc;

	if (p->n_free > 0) {
		*spare = p->free[--p->n_free];
		fd = spare_reopen(p, *spare);
	}
	if (fd < 0) {
		*spare = p->next++;
		fd = spare_create(p, *spare);
	}
	if (fd < 0)
		return fd;
	rc = overwrite(fd, data, len);
	if (rc == 0 && sync && fdatasync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		core_spares_drop(p, *spare);
	return rc;
}

/* spare into list (free or unsettled) of *n; beyond its room it goes. */
static void spare_put(struct store_spares *p, unsigned *list, unsigned *n,
		      unsigned spare)
{
	char name[32];

	if (*n < STORE_SPARES_MAX) {
		list[(*n)++] = spare;
		return;
	}
	spare_name(spare, name, sizeof(name));
	unlinkat(p->dir_fd, name, 0);
}

void core_spares_settle(struct store_spares *p)
{
	while (p->n_unsettled > 0)
		spare_put(p, p->free, &p->n_free,
			  p->unsettled[--p->n_unsettled]);
}

/* renameat2 says this file system, or this kernel, cannot swap. */
static bool cannot_swap(int err)
{
	return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP;
}

int core_spares_commit(struct store_spares *p, unsigned spare, const char *name,
		       bool swap)
{
	char tmp[32];
	int rc;

	spare_name(spare, tmp, sizeof(tmp));
	if (swap && !atomic_load(&no_exchange)) {
		if (renameat2(p->dir_fd, tmp, p->dir_fd, name,
			      RENAME_EXCHANGE) == 0) {
			/* now the old file, which the directory on disk
			 * may still call name: not written to before the
			 * directory is synced (core_spares_settle) */
			spare_put(p, p->unsettled, &p->n_unsettled, spare);
			return 0;
		}
		/* ENOENT: name is new */
		if (cannot_swap(errno))
			atomic_store(&no_exchange, true);
		else if (errno != ENOENT)
			goto fail;
	}
	if (renameat(p->dir_fd, tmp, p->dir_fd, name) == 0)
		return 0; /* the spare is name now */
fail:
	rc = -errno;
	unlinkat(p->dir_fd, tmp, 0);
	return rc;
}

void core_spares_drop(struct store_spares *p, unsigned spare)
{
	char name[32];

	spare_name(spare, name, sizeof(name));
	unlinkat(p->dir_fd, name, 0);
}
