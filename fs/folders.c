/* Folders (gptimgfs(1), FOLDERS): where a name leads, and the folders of
 * status/, wait/ and out/.
 *
 * A file's node is named by its path below its area's top ("a/b/x.txt" in
 * jobs/, "a/b/x" in status/), a folder's too ("a/b"), so a lookup joins
 * its parent folder's path and the name. The folders of jobs/ are stored
 * directories (jobs_folders.c); those of status/, wait/ and out/ exist
 * while jobs/ has the same folder or something of theirs lies below (a
 * job, an image). They have their area's times: any change moves them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int fs_dir_path(struct fs *fs, fuse_ino_t dir, enum fs_area *area, char *path,
		size_t pathsz)
{
	struct fs_node *n;
	int rc = 0;

	*area = fs_area_of_dir(dir);
	path[0] = '\0';
	if (dir < FS_INO_FIRST_DYNAMIC)
		return dir == FS_INO_ROOT || *area != AREA_NONE ? 0 : -ENOTDIR;
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_ino(fs, dir);
	if (!n || !n->name)
		rc = -ENOENT; /* removed, or gone from the views */
	else if (!n->folder)
		rc = -ENOTDIR;
	else if (strlen(n->name) >= pathsz)
		rc = -ENAMETOOLONG;
	if (rc == 0) {
		*area = n->area;
		memcpy(path, n->name, strlen(n->name) + 1);
	}
	pthread_mutex_unlock(&fs->nodes_lock);
	return rc;
}

int fs_path_of(struct fs *fs, fuse_ino_t parent, const char *name,
	       enum fs_area *area, char *path, size_t pathsz)
{
	size_t len;
	int rc = fs_dir_path(fs, parent, area, path, pathsz);

	if (rc < 0)
		return rc;
	len = strlen(path);
	if (len + 1 + strlen(name) + 1 > pathsz)
		return -ENAMETOOLONG;
	snprintf(path + len, pathsz - len, "%s%s", len ? "/" : "", name);
	return 0;
}

bool fs_jobs_is_folder(struct fs *fs, const char *path)
{
	struct stat st;

	return fs_jobs_statat(fs, path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool fs_folder_exists(struct fs *fs, enum fs_area area, const char *path)
{
	if (!path[0] || core_path_hidden(path))
		return false;
	if (fs_jobs_is_folder(fs, path))
		return true;
	if (area == AREA_OUT)
		return core_output_folder(fs->core, path);
	return (area == AREA_STATUS || area == AREA_WAIT) &&
	       core_job_folder(fs->core, path);
}

static mode_t folder_mode(enum fs_area area)
{
	/* out/'s are writable for rm under default_permissions, as out/ */
	return S_IFDIR | (area == AREA_OUT ? 0755 : 0555);
}

int fs_folder_getattr(struct fs *fs, struct fs_node *n, struct stat *st)
{
	if (!fs_folder_exists(fs, n->area, n->name))
		return -ENOENT;
	fs_stat_synthetic(fs, st, n->ino, folder_mode(n->area), 0,
			  fs->mount_time.tv_sec);
	fs_dir_times_stat(fs, fs_dir_of_area(n->area), st);
	st->st_ino = n->ino;
	return 0;
}

void fs_folder_lookup(fuse_req_t req, enum fs_area area, const char *path)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;
	struct stat st;

	if (!fs_folder_exists(fs, area, path)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_ref_folder(fs, area, path, FS_FOLDER_KEY);
	pthread_mutex_unlock(&fs->nodes_lock);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fs_stat_synthetic(fs, &st, n->ino, folder_mode(area), 0,
			  fs->mount_time.tv_sec);
	fs_dir_times_stat(fs, fs_dir_of_area(area), &st);
	fs_reply_entry(req, n, &st, TTL_FOLDER, TTL_VIEW, NULL);
}

/* The entries of folder path ("" at the top) among sorted names: the
 * first component below it of each, a folder when more follows. */
static int add_below(struct dirlist *dl, char **names, size_t n,
		     const char *path)
{
	size_t plen = strlen(path), i;
	int rc = names ? 0 : -ENOMEM;

	for (i = 0; rc == 0 && i < n; i++) {
		const char *rest = names[i] + plen, *slash;
		char *entry;

		if (plen &&
		    (strncmp(names[i], path, plen) != 0 || *rest != '/'))
			continue;
		rest += plen ? 1 : 0;
		slash = strchr(rest, '/');
		entry = slash ? strndup(rest, (size_t)(slash - rest)) :
				strdup(rest);
		rc = entry ? fs_dirlist_add(dl, entry,
					    slash ? S_IFDIR : S_IFREG) :
			     -ENOMEM;
		free(entry);
	}
	core_free_names(names, n);
	return rc;
}

int fs_folder_list(struct fs *fs, enum fs_area area, const char *path,
		   struct dirlist *dl)
{
	size_t n, first = dl->n;
	char **names = area == AREA_OUT ? core_output_names(fs->core, &n) :
					  core_job_names(fs->core, &n);
	int rc = add_below(dl, names, n, path);

	/* and the folders of jobs/ there; none when jobs/ has no such folder
	 * (the views' own, of jobs or images below) */
	if (rc == 0 && fs_jobs_list(fs, path, true, dl) == -ENOMEM)
		rc = -ENOMEM;
	if (rc == 0)
		fs_dirlist_sort_unique(dl, first);
	return rc;
}
