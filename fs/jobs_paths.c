/* Paths below jobs/ ("a/b/x.txt"), never through a symbolic link (the
 * daemon may run as root: gptimgfs(1), SECURITY). The folders on the way
 * are resolved by core_jobs_open (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS); the last component by the *at() call with its own
 * no-follow flag. A name at the top needs no resolving. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int fs_jobs_openat(struct fs *fs, const char *path, int flags, mode_t mode)
{
	int fd;

	if (!strchr(path, '/'))
		return openat(core_jobs_dirfd(fs->core), path,
			      flags | O_NOFOLLOW | O_CLOEXEC, mode);
	fd = core_jobs_open(fs->core, path, flags, mode);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

int fs_jobs_dir_of(struct fs *fs, const char *path, const char **base)
{
	char dir[PATH_MAX];

	*base = core_path_base(path);
	if (*base == path)
		return core_jobs_dirfd(fs->core);
	if ((size_t)(*base - path) > sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, (size_t)(*base - path - 1));
	dir[*base - path - 1] = '\0';
	return fs_jobs_openat(fs, dir, O_PATH | O_DIRECTORY, 0);
}

void fs_jobs_dir_close(struct fs *fs, int fd)
{
	if (fd >= 0 && fd != core_jobs_dirfd(fs->core))
		close(fd);
}

int fs_jobs_statat(struct fs *fs, const char *path, struct stat *st)
{
	const char *base;
	int dir = fs_jobs_dir_of(fs, path, &base), rc;

	if (dir < 0)
		return -1;
	rc = fstatat(dir, base, st, AT_SYMLINK_NOFOLLOW);
	if (rc < 0) {
		int err = errno;

		fs_jobs_dir_close(fs, dir);
		errno = err;
		return -1;
	}
	fs_jobs_dir_close(fs, dir);
	return 0;
}

/* call, which names `dir` and `base`, on path's folder and last
 * component; its result, -1 with errno kept across the close. */
#define ON_LAST(fs, path, call)                                 \
	({                                                      \
		const char *base;                               \
		int dir = fs_jobs_dir_of(fs, path, &base), rc_; \
		rc_ = dir < 0 ? -1 : (call);                    \
		if (dir >= 0) {                                 \
			int err_ = errno;                       \
			fs_jobs_dir_close(fs, dir);             \
			errno = err_;                           \
		}                                               \
		rc_;                                            \
	})

int fs_jobs_unlinkat(struct fs *fs, const char *path, int flags)
{
	return ON_LAST(fs, path, unlinkat(dir, base, flags));
}

int fs_jobs_mkdirat(struct fs *fs, const char *path, mode_t mode)
{
	return ON_LAST(fs, path, mkdirat(dir, base, mode));
}

int fs_jobs_renameat(struct fs *fs, const char *from, const char *to,
		     unsigned int flags)
{
	const char *to_base;
	int to_dir = fs_jobs_dir_of(fs, to, &to_base), rc, err;

	if (to_dir < 0)
		return -1;
	rc = ON_LAST(fs, from, renameat2(dir, base, to_dir, to_base, flags));
	err = errno;
	fs_jobs_dir_close(fs, to_dir);
	errno = err;
	return rc;
}
