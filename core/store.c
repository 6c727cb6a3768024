#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

/* Is st owned by another user than the daemon's? Then why says so. */
static bool not_owned(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_uid == geteuid())
		return false;
	snprintf(why, whysz, "owned by uid %u, not by the daemon's user (uid %u)",
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

/* A folder above the data directory must be owned by root or the daemon's
 * user and writable by nobody else, unless its sticky bit keeps others
 * from renaming what is not theirs (/tmp): whoever can rename the data
 * directory can put another in its place. Like ssh's StrictModes. */
static bool parent_trouble(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		snprintf(why, whysz,
			 "owned by uid %u, neither root nor the daemon's "
			 "user (uid %u)",
			 (unsigned)st->st_uid, (unsigned)geteuid());
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
		 !(st->st_mode & S_ISVTX))
		snprintf(why, whysz,
			 "writable by group or others without the sticky bit "
			 "(mode %04o)",
			 (unsigned)(st->st_mode & 07777));
	else
		return false;
	return true;
}

/* A symbolic link on the way to the data directory: only root or the
 * daemon's user may own it (its folder is checked as a parent). */
static bool link_trouble(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_uid == 0 || st->st_uid == geteuid())
		return false;
	snprintf(why, whysz,
		 "a symbolic link owned by uid %u, neither root nor the "
		 "daemon's user (uid %u)",
		 (unsigned)st->st_uid, (unsigned)geteuid());
	return true;
}

#define PARENT_LINKS_MAX 40	/* as the kernel's ELOOP limit */

/* The walk of check_parents: the real folder reached so far and the path
 * still to follow. */
struct parent_walk {
	char real[PATH_MAX];	/* "" is "/" */
	char rest[2 * PATH_MAX];
	unsigned links;
};

/* Follow one symbolic link at w->real/name: its target replaces name at
 * the head of w->rest. 0, or -1 with why set. */
static int walk_link(struct parent_walk *w, const char *name,
		     const char *after, char *why, size_t whysz)
{
	char target[PATH_MAX], rest[2 * PATH_MAX];
	char link[PATH_MAX + NAME_MAX + 2];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%s", w->real, name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || ++w->links > PARENT_LINKS_MAX) {
		snprintf(why, whysz, "%s",
			 strerror(n < 0 ? errno : ELOOP));
		return -1;
	}
	target[n] = '\0';
	if (target[0] == '/')
		w->real[0] = '\0';
	if ((size_t)snprintf(rest, sizeof(rest), "%s/%s", target, after) >=
	    sizeof(rest)) {
		snprintf(why, whysz, "%s", strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(w->rest, rest, sizeof(rest));
	return 0;
}

/* One step of the walk: the next name of w->rest. 1 when the walk is over
 * (the data directory's own name is next, or a folder is still to be
 * made), 0 to go on, -1 with why set (the path in w->real). */
static int walk_step(struct parent_walk *w, char *why, size_t whysz)
{
	char name[NAME_MAX + 1], *slash, *after, next[PATH_MAX + NAME_MAX + 2];
	size_t len;
	struct stat st;

	after = w->rest + strspn(w->rest, "/");
	len = strcspn(after, "/");
	if (len > NAME_MAX) {
		snprintf(why, whysz, "%s", strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(name, after, len);
	name[len] = '\0';
	after += len;
	if (after[strspn(after, "/")] == '\0')
		return 1;	/* the data directory: open_dir_checked's */
	memmove(w->rest, after, strlen(after) + 1);
	if (strcmp(name, ".") == 0)
		return 0;
	if (strcmp(name, "..") == 0) {
		slash = strrchr(w->real, '/');
		if (slash)
			*slash = '\0';
		return 0;
	}
	snprintf(next, sizeof(next), "%s/%s", w->real, name);
	if (lstat(next, &st) < 0) {
		if (errno == ENOENT)
			return 1;	/* made by make_dirs, ours */
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode))
		return link_trouble(&st, why, whysz) ||
		       walk_link(w, name, w->rest, why, whysz) < 0 ? -1 : 0;
	if (strlen(next) >= sizeof(w->real)) {
		snprintf(why, whysz, "%s", strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(w->real, next, strlen(next) + 1);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "%s", strerror(ENOTDIR));
		return -1;
	}
	return parent_trouble(&st, why, whysz) ? -1 : 0;
}

/* Every folder above the data directory, and every symbolic link on the
 * way to it, followed one by one as the kernel would: whoever could change
 * one of them could put another data directory in place of this one. The
 * walk stops at the first folder still to be made. */
static int check_parents(const char *data_dir, char *err, size_t errlen)
{
	struct parent_walk *w = calloc(1, sizeof(*w));
	char cwd[PATH_MAX], why[160] = "";
	struct stat st;
	int rc = 0;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (data_dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else if ((size_t)snprintf(w->rest, sizeof(w->rest), "%s/%s",
				  data_dir[0] == '/' ? "" : cwd, data_dir) >=
		 sizeof(w->rest))
		snprintf(why, sizeof(why), "%s", strerror(ENAMETOOLONG));
	else if (stat("/", &st) < 0)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else if (!parent_trouble(&st, why, sizeof(why)))
		while ((rc = walk_step(w, why, sizeof(why))) == 0)
			;
	if (why[0]) {
		snprintf(err, errlen, "%s (above the data directory %s): %s",
			 w->real[0] ? w->real : "/", data_dir, why);
		rc = -1;
	} else {
		rc = 0;
	}
	free(w);
	return rc;
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

int store_open_file(int dir_fd, const char *name, int flags, mode_t mode)
{
	/* set once the kernel says it has no openat2 (before Linux 5.6) */
	static atomic_bool no_openat2;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	int fd;

	/* one component: openat's O_NOFOLLOW covers the last one only */
	if (strchr(name, '/') || strcmp(name, "..") == 0)
		return -EINVAL;
	if (!atomic_load(&no_openat2)) {
		fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd < 0 ? -errno : fd;
		atomic_store(&no_openat2, true);
	}
	fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

#define TEMP_LETTERS 12
#define TEMP_TRIES 100

int store_create_temp(int dir_fd, const char *prefix, char *name,
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
			name[plen + i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
		name[plen + TEMP_LETTERS] = '\0';
		fd = store_open_file(dir_fd, name, O_RDWR | O_CREAT | O_EXCL,
				     0600);
	}
	return fd;
}

const char *store_strerror(int rc)
{
	if (rc == -ELOOP)
		return "not a regular file (a symbolic link or a special "
		       "file; not followed)";
	return strerror(-rc);
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
			 S_ISDIR(st.st_mode) ? "left alone"
					     : "the entry was removed");
	if (!S_ISDIR(st.st_mode))
		unlinkat(dir_fd, name, 0);
}

struct sweep {
	const struct store *s;
	int dir_fd;
	const char *sub;	/* "records/", or "" for the data directory */
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

	s->lock_fd = store_open_file(s->dir_fd, "lock", O_RDWR | O_CREAT,
				     0600);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "%s/lock: %s", s->path,
			 store_strerror(s->lock_fd));
		return -1;
	}
	if (fstat(s->lock_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		snprintf(err, errlen,
			 "%s/lock: not a regular file of its own (a special "
			 "file or a hard link); remove it", s->path);
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

/* A new store's secret: 32 random bytes, 0600. */
static int make_key(struct store *s, char *err, size_t errlen)
{
	int rc;

	if (getrandom(s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key)) {
		snprintf(err, errlen, "%s/%s: cannot get random bytes: %s",
			 s->path, STORE_KEY_FILE, strerror(errno));
		return -1;
	}
	rc = store_write_atomic(s->dir_fd, STORE_KEY_FILE, s->key,
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
	int fd = store_open_file(s->dir_fd, STORE_KEY_FILE,
				 O_RDONLY | O_NONBLOCK, 0);
	char why[128] = "";
	struct stat st;

	if (fd == -ENOENT)
		return make_key(s, err, errlen);
	if (fd < 0)
		snprintf(why, sizeof(why), "%s", store_strerror(fd));
	else if (fstat(fd, &st) < 0)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else if (!key_trouble(&st, why, sizeof(why)) &&
		 pread(fd, s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key))
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

	store_for_each(dir_fd, fn, &w);
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
	/* checked before anything is made there, and again after */
	if (check_parents(data_dir, err, errlen) < 0)
		goto fail;
	if (make_dirs(s->path) < 0) {
		snprintf(err, errlen, "cannot create data directory %s: %s",
			 data_dir, strerror(errno));
		goto fail;
	}
	s->dir_fd = open_dir_checked(AT_FDCWD, data_dir, data_dir, err,
				     errlen);
	if (s->dir_fd < 0 || check_parents(data_dir, err, errlen) < 0 ||
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
	OPENSSL_cleanse(s->key, sizeof(s->key));
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
	/* a new file: whatever is in the way (a temporary a failed write
	 * could not remove, or a link) is an entry to remove, not follow */
	fd = store_open_file(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -EEXIST && unlinkat(dir_fd, tmp, 0) == 0)
		fd = store_open_file(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL,
				     0600);
	if (fd < 0)
		return fd;
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

	struct stat st;

	buf_reset(out);
	/* O_NONBLOCK: a FIFO in the way must not hang the open */
	fd = store_open_file(dir_fd, name, O_RDONLY | O_NONBLOCK, 0);
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

int store_unlink(int dir_fd, const char *name)
{
	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(dir_fd) < 0 ? -errno : 0;
}

/* ---- seals ---- */

#define SEAL_HEAD ",\"mac\":\""
#define SEAL_HEX 64
#define SEAL_TAIL "\"}\n"
#define SEAL_LEN (sizeof(SEAL_HEAD) - 1 + SEAL_HEX + sizeof(SEAL_TAIL) - 1)

/* HMAC-SHA256 under key of name, a NUL, and data; in hex. */
static int seal_of(const unsigned char *key, const char *name,
		   const char *data, size_t len, char hex[SEAL_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	unsigned char md[SEAL_HEX / 2];
	size_t mdlen = 0, i;
	int ok = ctx && EVP_MAC_init(ctx, key, STORE_KEY_LEN, params) &&
		 EVP_MAC_update(ctx, (const unsigned char *)name,
				strlen(name) + 1) &&
		 EVP_MAC_update(ctx, (const unsigned char *)data, len) &&
		 EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) &&
		 mdlen == sizeof(md);

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		return -ENOMEM;
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[SEAL_HEX] = '\0';
	return 0;
}

/* Whether data ends in a seal's shape; its body is what comes before. */
static bool has_seal(const char *data, size_t len)
{
	return len >= SEAL_LEN &&
	       memcmp(data + len - SEAL_LEN, SEAL_HEAD,
		      sizeof(SEAL_HEAD) - 1) == 0 &&
	       memcmp(data + len - sizeof(SEAL_TAIL) + 1, SEAL_TAIL,
		      sizeof(SEAL_TAIL) - 1) == 0;
}

int store_seal(const unsigned char *key, const char *name, struct buf *b)
{
	char hex[SEAL_HEX + 1];
	int rc;

	/* the body: all before the closing brace, or before the old seal
	 * when sealing again (a test's edit) */
	if (has_seal(b->data, b->len)) {
		b->len -= SEAL_LEN;
	} else {
		if (b->len > 0 && b->data[b->len - 1] == '\n')
			b->len--;
		if (b->len == 0 || b->data[b->len - 1] != '}')
			return -EINVAL;
		b->len--;
	}
	rc = seal_of(key, name, b->data, b->len, hex);
	if (rc == 0 && buf_printf(b, "%s%s%s", SEAL_HEAD, hex, SEAL_TAIL) < 0)
		rc = -ENOMEM;
	return rc;
}

int store_check_seal(const unsigned char *key, const char *name,
		     const char *data, size_t len)
{
	char hex[SEAL_HEX + 1];
	size_t body;

	if (!has_seal(data, len))
		return -ENOKEY;
	body = len - SEAL_LEN;
	if (seal_of(key, name, data, body, hex) < 0)
		return -ENOMEM;
	return CRYPTO_memcmp(hex, data + body + sizeof(SEAL_HEAD) - 1,
			     SEAL_HEX) == 0
		       ? 0
		       : -EBADMSG;
}

int store_write_sealed(const struct store *s, int dir_fd, const char *name,
		       struct buf *b, bool durable)
{
	int rc = store_seal(s->key, name, b);

	return rc < 0 ? rc
		      : store_write_atomic(dir_fd, name, b->data, b->len,
					   durable);
}

int store_read_sealed(const struct store *s, int dir_fd, const char *name,
		      size_t max, struct buf *out)
{
	int rc = store_read_file(dir_fd, name, max, out);

	return rc < 0 ? rc : store_check_seal(s->key, name, out->data, out->len);
}
