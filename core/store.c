/* Opening and closing the store: the checks of the data directory and its
 * folders, the layout, the lock, the key, and the sweep of what a crashed
 * run left behind. See store.h. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

/* Is st owned by another user than the daemon's? Then why says so. */
static bool not_owned(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_uid == geteuid())
		return false;
	snprintf(why, whysz,
		 "owned by uid %u, not by the daemon's user (uid %u)",
		 (unsigned)st->st_uid, (unsigned)geteuid());
	return true;
}

/* What is wrong with a folder of the store (the data directory, jobs/,
 * records/, out/, tmp/), or false: only the daemon's user may change
 * what is in it. */
static bool dir_trouble(const struct stat *st, char *why, size_t whysz)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, whysz, "not a directory");
		return true;
	}
	if (not_owned(st, why, whysz))
		return true;
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysz,
			 "writable by group or others (mode %04o); "
			 "chmod go-w it",
			 (unsigned)(st->st_mode & 07777));
		return true;
	}
	return false;
}

/* Open the folder at_fd/name (shown as path) and check it: never through a
 * symbolic link. The descriptor, or -1 with err set. */
static int open_dir_checked(int at_fd, const char *name, const char *path,
			    char *err, size_t errlen)
{
	int fd = openat(at_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char why[128];
	struct stat st;

	if (fd < 0) {
		int e = errno;

		if (fstatat(at_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			snprintf(why, sizeof(why),
				 "a symbolic link; the data directory and its "
				 "folders must be real directories");
		else
			snprintf(why, sizeof(why), "%s", strerror(e));
	} else if (fstat(fd, &st) < 0) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
	} else if (!dir_trouble(&st, why, sizeof(why))) {
		return fd;
	}
	snprintf(err, errlen, "%s: %s", path, why);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int open_subdir(struct store *s, const char *name, char *err,
		       size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", s->path, name);
	if (mkdirat(s->dir_fd, name, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return open_dir_checked(s->dir_fd, name, path, err, errlen);
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
/* Remove a leftover of a crashed run, dir_fd/name (shown as
 * DATA_DIR/sub/name). unlinkat removes the entry and never what a symbolic
 * link points to; a directory (which no run of the daemon makes) is left
 * alone, never descended into. */
static void drop_entry(const struct store *s, int dir_fd, const char *sub,
		       const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISREG(st.st_mode))
		log_warn("%s/%s%s: not a regular file (not followed); %s",
			 s->path, sub, name,
			 S_ISDIR(st.st_mode) ? "left alone" :
					       "the entry was removed");
	if (!S_ISDIR(st.st_mode))
		unlinkat(dir_fd, name, 0);
}

struct sweep {
	const struct store *s;
	int dir_fd;
	const char *sub; /* "records/", or "" for the data directory */
};

/* Temporary files of a crashed run are never whole: drop them. */
static void drop_leftover(void *ctx, const char *name)
{
	const struct sweep *w = ctx;
	size_t len = strlen(name);

	if (name[0] == '.' && len > 5 && strcmp(name + len - 4, ".tmp") == 0)
		drop_entry(w->s, w->dir_fd, w->sub, name);
}

/* In tmp/, every file is a download that was cut off. */
static void drop_download(void *ctx, const char *name)
{
	const struct sweep *w = ctx;

	drop_entry(w->s, w->dir_fd, w->sub, name);
}

/* The lock file is truncated and written: it must be the store's own
 * regular file, not a link to another file. */
static int take_lock(struct store *s, char *err, size_t errlen)
{
	struct buf other;
	struct stat st;

	s->lock_fd =
		core_store_open_file(s->dir_fd, "lock", O_RDWR | O_CREAT, 0600);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "%s/lock: %s", s->path,
			 core_store_strerror(s->lock_fd));
		return -1;
	}
	if (fstat(s->lock_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		snprintf(err, errlen,
			 "%s/lock: not a regular file of its own (a special "
			 "file or a hard link); remove it",
			 s->path);
		return -1;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		buf_init(&other, 32);
		core_store_read_file(s->dir_fd, "lock", 31, &other);
		snprintf(err, errlen,
			 "%s is in use by another gptimgfs (pid %.20s); "
			 "one daemon per data directory",
			 s->path, other.len ? buf_str(&other) : "unknown");
		buf_free(&other);
		return -1;
	}
	if (core_store_note_pid(s) < 0) {
		snprintf(err, errlen, "%s/lock: %s", s->path, strerror(errno));
		return -1;
	}
	return 0;
}

int core_store_note_pid(struct store *s)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld", (long)getpid());

	if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, pid, n, 0) < 0)
		return -1;
	return 0;
}

/* A new store's secret: 32 random bytes, 0600. */
static int make_key(struct store *s, char *err, size_t errlen)
{
	int rc;

	if (getrandom(s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key)) {
		snprintf(err, errlen, "%s/%s: cannot get random bytes: %s",
			 s->path, STORE_KEY_FILE, strerror(errno));
		return -1;
	}
	rc = core_store_write_atomic(s->dir_fd, STORE_KEY_FILE, s->key,
				     sizeof(s->key), true);
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", s->path, STORE_KEY_FILE,
			 strerror(-rc));
		return -1;
	}
	return 0;
}

/* What is wrong with the key file, or false. */
static bool key_trouble(const struct stat *st, char *why, size_t whysz)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whysz, "not a regular file");
		return true;
	}
	if (not_owned(st, why, whysz))
		return true;
	if (st->st_mode & 077) {
		snprintf(why, whysz,
			 "readable or writable by group or others (mode %04o); "
			 "it must be 0600",
			 (unsigned)(st->st_mode & 07777));
		return true;
	}
	if (st->st_size != STORE_KEY_LEN) {
		snprintf(why, whysz, "not a key of %d bytes", STORE_KEY_LEN);
		return true;
	}
	return false;
}

static int load_key(struct store *s, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO planted as the key must not hang the start */
	int fd = core_store_open_file(s->dir_fd, STORE_KEY_FILE,
				      O_RDONLY | O_NONBLOCK, 0);
	char why[128] = "";
	struct stat st;

	if (fd == -ENOENT)
		return make_key(s, err, errlen);
	if (fd < 0)
		snprintf(why, sizeof(why), "%s", core_store_strerror(fd));
	else if (fstat(fd, &st) < 0)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else if (!key_trouble(&st, why, sizeof(why)) &&
		 pread(fd, s->key, sizeof(s->key), 0) !=
			 (ssize_t)sizeof(s->key))
		snprintf(why, sizeof(why), "cannot read it");
	if (fd >= 0)
		close(fd);
	if (!why[0])
		return 0;
	snprintf(err, errlen, "%s/%s: %s", s->path, STORE_KEY_FILE, why);
	return -1;
}

static void sweep(const struct store *s, int dir_fd, const char *sub,
		  void (*fn)(void *ctx, const char *name))
{
	struct sweep w = { s, dir_fd, sub };

	core_store_for_each(dir_fd, fn, &w);
}

int core_store_open(struct store *s, const char *data_dir, char *err,
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
	/* checked before anything is made there, and again after */
	if (core_store_check_parents(data_dir, err, errlen) < 0)
		goto fail;
	if (make_dirs(s->path) < 0) {
		snprintf(err, errlen, "cannot create data directory %s: %s",
			 data_dir, strerror(errno));
		goto fail;
	}
	s->dir_fd = open_dir_checked(AT_FDCWD, data_dir, data_dir, err, errlen);
	if (s->dir_fd < 0 ||
	    core_store_check_parents(data_dir, err, errlen) < 0 ||
	    take_lock(s, err, errlen) < 0)
		goto fail;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		*fds[i] = open_subdir(s, subdirs[i], err, errlen);
		if (*fds[i] < 0)
			goto fail;
	}
	if (load_key(s, err, errlen) < 0)
		goto fail;
	sweep(s, s->tmp_fd, "tmp/", drop_download);
	sweep(s, s->records_fd, "records/", drop_leftover);
	sweep(s, s->out_fd, "out/", drop_leftover);
	sweep(s, s->dir_fd, "", drop_leftover);
	return 0;
fail:
	core_store_close(s);
	return -1;
}

void core_store_close(struct store *s)
{
	int *fds[] = { &s->jobs_fd, &s->records_fd, &s->out_fd,
		       &s->tmp_fd,  &s->lock_fd,    &s->dir_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(s->path);
	s->path = NULL;
	OPENSSL_cleanse(s->key, sizeof(s->key));
}
