#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_subdir(int dir_fd, const char *name)
{
	if (mkdirat(dir_fd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* mkdir -p, each missing directory 0700 (the XDG base directories are). */
static int make_dirs(char *path)
{
	char *slash;

	for (slash = strchr(path + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*slash = '/';
			return -1;
		}
		*slash = '/';
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int store_for_each(int dir_fd, void (*fn)(void *ctx, const char *name),
		   void *ctx)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int rc;

	if (!d) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fn(ctx, de->d_name);
	}
	closedir(d);
	return 0;
}

/* Temporary files of a crashed run are never whole: drop them. */
static void drop_leftover(void *ctx, const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.' && len > 5 && strcmp(name + len - 4, ".tmp") == 0)
		unlinkat(*(int *)ctx, name, 0);
}

/* In tmp/, every file is a download that was cut off. */
static void drop_download(void *ctx, const char *name)
{
	unlinkat(*(int *)ctx, name, 0);
}

static int take_lock(struct store *s, char *err, size_t errlen)
{
	struct buf other;

	s->lock_fd = openat(s->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC,
			    0600);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "%s/lock: %s", s->path, strerror(errno));
		return -1;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		buf_init(&other, 32);
		store_read_file(s->dir_fd, "lock", 31, &other);
		snprintf(err, errlen,
			 "%s is in use by another gptimgfs (pid %.20s); "
			 "one daemon per data directory",
			 s->path, other.len ? buf_str(&other) : "unknown");
		buf_free(&other);
		return -1;
	}
	if (store_note_pid(s) < 0) {
		snprintf(err, errlen, "%s/lock: %s", s->path, strerror(errno));
		return -1;
	}
	return 0;
}

int store_note_pid(struct store *s)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld", (long)getpid());

	if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, pid, n, 0) < 0)
		return -1;
	return 0;
}

int store_open(struct store *s, const char *data_dir, char *err,
	       size_t errlen)
{
	static const char *const subdirs[] = { "jobs", "records", "out",
					       "tmp" };
	int *fds[] = { &s->jobs_fd, &s->records_fd, &s->out_fd, &s->tmp_fd };
	size_t i;

	memset(s, 0, sizeof(*s));
	s->dir_fd = s->jobs_fd = s->records_fd = s->out_fd = s->tmp_fd = -1;
	s->lock_fd = -1;
	s->path = strdup(data_dir);
	if (!s->path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (make_dirs(s->path) < 0) {
		snprintf(err, errlen, "cannot create data directory %s: %s",
			 data_dir, strerror(errno));
		goto fail;
	}
	s->dir_fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		snprintf(err, errlen, "cannot open data directory %s: %s",
			 data_dir, strerror(errno));
		goto fail;
	}
	if (take_lock(s, err, errlen) < 0)
		goto fail;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		*fds[i] = open_subdir(s->dir_fd, subdirs[i]);
		if (*fds[i] < 0) {
			snprintf(err, errlen, "%s/%s: %s", data_dir,
				 subdirs[i], strerror(errno));
			goto fail;
		}
	}
	store_for_each(s->tmp_fd, drop_download, &s->tmp_fd);
	store_for_each(s->records_fd, drop_leftover, &s->records_fd);
	store_for_each(s->out_fd, drop_leftover, &s->out_fd);
	store_for_each(s->dir_fd, drop_leftover, &s->dir_fd);
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	int *fds[] = { &s->jobs_fd, &s->records_fd, &s->out_fd, &s->tmp_fd,
		       &s->lock_fd, &s->dir_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(s->path);
	s->path = NULL;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int store_write_atomic(int dir_fd, const char *name, const void *data,
		       size_t len, bool durable)
{
	char tmp[300];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	/* always: renaming a file whose data is not on disk over a good one
	 * can leave an empty file after a power loss (XFS, btrfs) */
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		rc = -errno;
	if (rc != 0) {
		unlinkat(dir_fd, tmp, 0);
		return rc;
	}
	return durable && fsync(dir_fd) < 0 ? -errno : 0;
}

int store_read_file(int dir_fd, const char *name, size_t max,
		    struct buf *out)
{
	char chunk[65536];
	int fd, rc = 0;

	buf_reset(out);
	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		if (out->len + (size_t)n > max) {
			rc = -EFBIG;
			break;
		}
		if (buf_add(out, chunk, (size_t)n) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	close(fd);
	return rc;
}

int store_unlink(int dir_fd, const char *name)
{
	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(dir_fd) < 0 ? -errno : 0;
}
