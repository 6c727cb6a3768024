/* The folders above the data directory and the symbolic links on the way
 * to it, checked before the store is opened: see core_store_check_parents in
 * store.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

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

#define PARENT_LINKS_MAX 40 /* as the kernel's ELOOP limit */

/* The walk of check_parents: the real folder reached so far and the path
 * still to follow. */
struct parent_walk {
	char real[PATH_MAX]; /* "" is "/" */
	char rest[2 * PATH_MAX];
	unsigned links;
};

/* Follow one symbolic link at w->real/name: its target replaces name at
 * the head of w->rest. 0, or -1 with why set. */
static int walk_link(struct parent_walk *w, const char *name, const char *after,
		     char *why, size_t whysz)
{
	char target[PATH_MAX], rest[2 * PATH_MAX];
	char link[PATH_MAX + NAME_MAX + 2];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%s", w->real, name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || ++w->links > PARENT_LINKS_MAX) {
		snprintf(why, whysz, "%s", strerror(n < 0 ? errno : ELOOP));
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
		return 1; /* the data directory: open_dir_checked's */
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
			return 1; /* made by make_dirs, ours */
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode))
		return link_trouble(&st, why, whysz) ||
				       walk_link(w, name, w->rest, why, whysz) <
					       0 ?
			       -1 :
			       0;
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
int core_store_check_parents(const char *data_dir, char *err, size_t errlen)
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
				  data_dir[0] == '/' ? "" : cwd,
				  data_dir) >= sizeof(w->rest))
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
