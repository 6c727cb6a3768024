/* The store's file helpers: open, create, read, replace and remove a file
 * of one of its folders, never through a symbolic link. See store.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store.h"

/* Without openat2 (Linux before 5.6, valgrind): one component at a time,
 * as openat's O_NOFOLLOW covers the last one only; each folder on the way
 * opened O_PATH|O_DIRECTORY|O_NOFOLLOW, which a link fails (ENOTDIR). */
static int open_by_components(int dir_fd, const char *name, int flags,
			      mode_t mode)
{
	char part[NAME_MAX + 1];
	const char *p = name, *slash;
	int fd = dir_fd, next, err;

	while ((slash = strchr(p, '/')) != NULL) {
		size_t len = (size_t)(slash - p);

		next = -1;
		err = ENAMETOOLONG;
		if (len <= NAME_MAX) {
			memcpy(part, p, len);
			part[len] = '\0';
			next = openat(fd, part,
				      O_PATH | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
			err = errno;
		}
		if (fd != dir_fd)
			close(fd);
		if (next < 0)
			return -err;
		fd = next;
		p = slash + 1;
	}
	next = openat(fd, p, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	err = errno;
	if (fd != dir_fd)
		close(fd);
	return next < 0 ? -err : next;
}

int core_store_open_file(int dir_fd, const char *name, int flags, mode_t mode)
{
	/* set once the kernel says it has no openat2 (before Linux 5.6) */
	static atomic_bool no_openat2;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	int fd;

	if (!core_store_path_ok(name))
		return -EINVAL;
	if (!atomic_load(&no_openat2)) {
		fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd < 0 ? -errno : fd;
		atomic_store(&no_openat2, true);
	}
	return open_by_components(dir_fd, name, flags, mode);
}

bool core_store_path_ok(const char *path)
{
	const char *p = path, *slash;

	do {
		size_t len;

		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = slash + 1;
	} while (slash);
	return true;
}

#define TEMP_LETTERS 12
#define TEMP_TRIES 100

int core_store_create_temp(int dir_fd, const char *prefix, char *name,
			   size_t namesz)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t plen = strlen(prefix), i;
	unsigned char r[TEMP_LETTERS];
	int tries, fd = -EEXIST;

	if (plen + TEMP_LETTERS >= namesz)
		return -ENAMETOOLONG;
	for (tries = 0; tries < TEMP_TRIES && fd == -EEXIST; tries++) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return errno ? -errno : -EIO;
		memcpy(name, prefix, plen);
		for (i = 0; i < TEMP_LETTERS; i++)
			name[plen + i] =
				alphabet[r[i] % (sizeof(alphabet) - 1)];
		name[plen + TEMP_LETTERS] = '\0';
		fd = core_store_open_file(dir_fd, name,
					  O_RDWR | O_CREAT | O_EXCL, 0600);
	}
	return fd;
}

const char *core_store_strerror(int rc)
{
	if (rc == -ELOOP)
		return "not a regular file (a symbolic link or a special "
		       "file; not followed)";
	return strerror(-rc);
}

int core_store_for_each(int dir_fd, void (*fn)(void *ctx, const char *name),
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
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			fn(ctx, de->d_name);
	}
	closedir(d);
	return 0;
}

static int walk_folder(int fd, char *path, size_t len, unsigned depth_left,
		       void (*fn)(void *ctx, const char *path), void *ctx);

/* Entry `name` of folder d, whose path is path: a file goes to fn, a
 * folder is walked (hidden ones and those too deep are not). */
static int walk_entry(DIR *d, const char *name, char *path, unsigned depth_left,
		      void (*fn)(void *ctx, const char *path), void *ctx)
{
	int sub = openat(dirfd(d), name,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (sub < 0) {
		if (errno != ENOTDIR)
			return -errno;
		fn(ctx, path); /* DT_UNKNOWN: a file after all */
		return 0;
	}
	if (name[0] == '.' || depth_left == 0) {
		close(sub);
		return 0;
	}
	return walk_folder(sub, path, strlen(path), depth_left - 1, fn, ctx);
}

/* core_store_walk below folder fd (path: its path, "" at the top). */
static int walk_folder(int fd, char *path, size_t len, unsigned depth_left,
		       void (*fn)(void *ctx, const char *path), void *ctx)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0, err;

	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nlen = strlen(de->d_name);

		if (de->d_name[0] == '.' && de->d_type == DT_DIR)
			continue; /* ".", "..", hidden folders */
		if (len + nlen + 2 > PATH_MAX)
			continue;
		snprintf(path + len, PATH_MAX - len, "%s%s", len ? "/" : "",
			 de->d_name);
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			fn(ctx, path);
		} else {
			err = walk_entry(d, de->d_name, path, depth_left, fn,
					 ctx);
			if (err < 0 && rc == 0)
				rc = err;
		}
		path[len] = '\0';
	}
	closedir(d);
	return rc;
}

int core_store_walk(int dir_fd, unsigned max_depth,
		    void (*fn)(void *ctx, const char *path), void *ctx)
{
	char path[PATH_MAX] = "";
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : walk_folder(fd, path, 0, max_depth, fn, ctx);
}

int core_store_write_all(int fd, const void *buf, size_t len)
{
	const char *data = buf;

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

/* The temporary file of name: ".NAME.tmp", swept at start if left. */
static int temp_name(const char *name, char *tmp, size_t tmpsz)
{
	if (snprintf(tmp, tmpsz, ".%s.tmp", name) >= (int)tmpsz)
		return -ENAMETOOLONG;
	return 0;
}

static int write_temp(int dir_fd, const char *name, const void *data,
		      size_t len, bool sync)
{
	char tmp[300];
	int fd, rc = temp_name(name, tmp, sizeof(tmp));

	if (rc < 0)
		return rc;
	/* a new file: whatever is in the way (a temporary a failed write
	 * could not remove, or a link) is an entry to remove, not follow */
	fd = core_store_open_file(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL,
				  0600);
	if (fd == -EEXIST && unlinkat(dir_fd, tmp, 0) == 0)
		fd = core_store_open_file(dir_fd, tmp,
					  O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fd;
	rc = core_store_write_all(fd, data, len);
	if (rc == 0 && sync && fdatasync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		unlinkat(dir_fd, tmp, 0);
	return rc;
}

static int commit_temp(int dir_fd, const char *name)
{
	char tmp[300];
	int rc = temp_name(name, tmp, sizeof(tmp));

	if (rc < 0)
		return rc;
	if (renameat(dir_fd, tmp, dir_fd, name) == 0)
		return 0;
	rc = -errno;
	unlinkat(dir_fd, tmp, 0);
	return rc;
}

int core_store_sync_data(const struct store *s)
{
	return syncfs(s->dir_fd) < 0 ? -errno : 0;
}

int core_store_write_atomic(int dir_fd, const char *name, const void *data,
			    size_t len, bool durable)
{
	/* synced always: renaming a file whose data is not on disk over a
	 * good one can leave an empty file after a power loss (XFS, btrfs) */
	int rc = write_temp(dir_fd, name, data, len, true);

	if (rc == 0)
		rc = commit_temp(dir_fd, name);
	if (rc < 0)
		return rc;
	return durable && fsync(dir_fd) < 0 ? -errno : 0;
}

int core_store_read_file(int dir_fd, const char *name, size_t max,
			 struct buf *out)
{
	char chunk[65536];
	int fd, rc = 0;

	struct stat st;

	buf_reset(out);
	/* O_NONBLOCK: a FIFO in the way must not hang the open */
	fd = core_store_open_file(dir_fd, name, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
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

int core_store_remove(int dir_fd, const char *name)
{
	return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

int core_store_unlink(int dir_fd, const char *name)
{
	int rc = core_store_remove(dir_fd, name);

	return rc == 0 && fsync(dir_fd) < 0 ? -errno : rc;
}
