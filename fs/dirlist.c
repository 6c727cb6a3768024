/* Directory listings: taken whole at opendir (the root, a folder of jobs/
 * or of the views) and served from memory. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/array.h"

/* Entries of one directory; a bound far beyond any jobs/ or out/. */
#define DIRLIST_MAX ((size_t)1 << 24)

/* Room for one more entry in both arrays, which share dl->cap. */
static int dirlist_grow(struct dirlist *dl)
{
	size_t cap = dl->cap;
	char **names = array_reserve(dl->names, dl->n, &cap, sizeof(*names),
				     DIRLIST_MAX);
	mode_t *types;

	if (!names)
		return -ENOMEM;
	dl->names = names;
	cap = dl->cap;
	types = array_reserve(dl->types, dl->n, &cap, sizeof(*types),
			      DIRLIST_MAX);
	if (!types)
		return -ENOMEM;
	dl->types = types;
	dl->cap = cap;
	return 0;
}

int fs_dirlist_add(struct dirlist *dl, const char *name, mode_t type)
{
	if (dirlist_grow(dl) < 0)
		return -ENOMEM;
	dl->names[dl->n] = strdup(name);
	if (!dl->names[dl->n])
		return -ENOMEM;
	dl->types[dl->n] = type;
	dl->n++;
	return 0;
}

/* By name; of one name, a file before a folder. */
static int cmp_entries(const void *a, const void *b, void *arg)
{
	const struct dirlist *dl = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(dl->names[i], dl->names[j]);

	if (c)
		return c;
	return (dl->types[i] == S_IFDIR) - (dl->types[j] == S_IFDIR);
}

void fs_dirlist_sort_unique(struct dirlist *dl, size_t first)
{
	size_t n = dl->n - first, *order, i, kept = first;
	char **names;
	mode_t *types;

	order = malloc((n ? n : 1) * sizeof(*order));
	names = malloc((n ? n : 1) * sizeof(*names));
	types = malloc((n ? n : 1) * sizeof(*types));
	if (!order || !names || !types) { /* unsorted, maybe twice: no worse */
		free(order);
		free(names);
		free(types);
		return;
	}
	for (i = 0; i < n; i++)
		order[i] = first + i;
	qsort_r(order, n, sizeof(*order), cmp_entries, dl);
	for (i = 0; i < n; i++) {
		names[i] = dl->names[order[i]];
		types[i] = dl->types[order[i]];
	}
	for (i = 0; i < n; i++) {
		/* a job "a" and a folder "a/": the job, as lookups answer */
		if (kept > first &&
		    strcmp(dl->names[kept - 1], names[i]) == 0) {
			free(names[i]);
			continue;
		}
		dl->names[kept] = names[i];
		dl->types[kept++] = types[i];
	}
	dl->n = kept;
	free(order);
	free(names);
	free(types);
}

void fs_dirlist_free(struct dirlist *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		free(dl->names[i]);
	free(dl->names);
	free(dl->types);
	memset(dl, 0, sizeof(*dl));
}

/* The entries of directory path of area (AREA_NONE: the root). */
static int list_dir(struct fs *fs, enum fs_area area, const char *path,
		    struct dirlist *dl)
{
	switch (area) {
	case AREA_NONE:
		return fs_root_list(dl);
	case AREA_JOBS:
		return fs_jobs_list(fs, path, false, dl);
	case AREA_STATUS:
	case AREA_WAIT:
	case AREA_OUT:
		return fs_folder_list(fs, area, path, dl);
	default:
		return -ENOTDIR;
	}
}

void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct dirlist *dl = calloc(1, sizeof(*dl));
	char path[PATH_MAX];
	enum fs_area area;
	int rc = fs_dir_path(fs, ino, &area, path, sizeof(path));

	if (rc == 0 && !dl)
		rc = -ENOMEM;
	if (rc == 0) {
		dl->hdr.kind = FS_HANDLE_DIR;
		rc = fs_dirlist_add(dl, ".", S_IFDIR);
	}
	if (rc == 0)
		rc = fs_dirlist_add(dl, "..", S_IFDIR);
	if (rc == 0)
		rc = list_dir(fs, area, path, dl);
	if (rc < 0) {
		if (dl)
			fs_dirlist_free(dl);
		free(dl);
		fuse_reply_err(req, -rc);
		return;
	}
	fs_handle_set(fi, &dl->hdr);
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		fs_dirlist_free(dl);
		free(dl);
	}
}

void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct dirlist *dl =
		FS_HANDLE_OF(fs_handle_get(fi, FS_HANDLE_DIR), struct dirlist);
	char *out = malloc(size ? size : 1);
	size_t used = 0, i;
	struct stat st;

	(void)ino;
	if (!out) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&st, 0, sizeof(st));
	for (i = (size_t)off; i < dl->n; i++) {
		size_t need;

		/* an inode number the kernel will replace at lookup; never 0,
		 * which some tools read as a deleted entry */
		st.st_ino = FS_INO_FIRST_DYNAMIC - 1;
		st.st_mode = dl->types[i];
		need = fuse_add_direntry(req, out + used, size - used,
					 dl->names[i], &st, (off_t)(i + 1));
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, out, used);
	free(out);
}

void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirlist *dl =
		FS_HANDLE_OF(fs_handle_get(fi, FS_HANDLE_DIR), struct dirlist);

	(void)ino;
	fs_dirlist_free(dl);
	free(dl);
	fuse_reply_err(req, 0);
}
