#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/debugassert.h"

#define NODE_BUCKETS 16384

int fs_nodes_init(struct fs *fs)
{
	fs->n_buckets = NODE_BUCKETS;
	fs->by_ino = calloc(fs->n_buckets, sizeof(*fs->by_ino));
	fs->by_name = calloc(fs->n_buckets, sizeof(*fs->by_name));
	fs->next_ino = FS_INO_FIRST_DYNAMIC;
	if (!fs->by_ino || !fs->by_name) {
		free(fs->by_ino);
		free(fs->by_name);
		return -ENOMEM;
	}
	return pthread_mutex_init(&fs->nodes_lock, NULL) == 0 ? 0 : -ENOMEM;
}

void fs_nodes_destroy(struct fs *fs)
{
	size_t i;

	for (i = 0; fs->by_ino && i < fs->n_buckets; i++) {
		struct fs_node *n = fs->by_ino[i], *next;

		for (; n; n = next) {
			next = n->next_ino;
			if (n->fd >= 0)
				close(n->fd);
			free(n->name);
			free(n->marked);
			free(n);
		}
	}
	free(fs->by_ino);
	free(fs->by_name);
	fs->by_ino = fs->by_name = NULL;
	pthread_mutex_destroy(&fs->nodes_lock);
}

enum fs_area fs_area_of_dir(fuse_ino_t dir)
{
	switch (dir) {
	case FS_INO_JOBS:
		return AREA_JOBS;
	case FS_INO_STATUS:
		return AREA_STATUS;
	case FS_INO_WAIT:
		return AREA_WAIT;
	case FS_INO_OUT:
		return AREA_OUT;
	default:
		return AREA_NONE;
	}
}

fuse_ino_t fs_dir_of_area(enum fs_area area)
{
	static const fuse_ino_t dirs[] = {
		[AREA_NONE] = FS_INO_ROOT,     [AREA_JOBS] = FS_INO_JOBS,
		[AREA_STATUS] = FS_INO_STATUS, [AREA_WAIT] = FS_INO_WAIT,
		[AREA_OUT] = FS_INO_OUT,
	};

	return dirs[area];
}

/* FNV-1a over the area and the name. */
static size_t name_bucket(const struct fs *fs, enum fs_area area,
			  const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)area;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % fs->n_buckets);
}

static size_t ino_bucket(const struct fs *fs, fuse_ino_t ino)
{
	return (size_t)(ino % fs->n_buckets);
}

struct fs_node *fs_node_by_ino(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n = fs->by_ino[ino_bucket(fs, ino)];

	while (n && n->ino != ino)
		n = n->next_ino;
	return n;
}

struct fs_node *fs_node_by_name(struct fs *fs, enum fs_area area,
				const char *name)
{
	struct fs_node *n = fs->by_name[name_bucket(fs, area, name)];

	while (n && (n->area != area || strcmp(n->name, name) != 0))
		n = n->next_name;
	return n;
}

static void link_name(struct fs *fs, struct fs_node *n)
{
	size_t b = name_bucket(fs, n->area, n->name);

	n->next_name = fs->by_name[b];
	fs->by_name[b] = n;
}

static void unlink_name(struct fs *fs, struct fs_node *n)
{
	struct fs_node **pp = &fs->by_name[name_bucket(fs, n->area, n->name)];

	while (*pp && *pp != n)
		pp = &(*pp)->next_name;
	if (*pp)
		*pp = n->next_name;
	n->next_name = NULL;
}

struct fs_node *fs_node_ref(struct fs *fs, enum fs_area area, const char *name,
			    uint64_t key)
{
	struct fs_node *n = fs_node_by_name(fs, area, name);
	size_t b;

	if (n && n->key == key) {
		n->nlookup++;
		return n;
	}
	if (n) /* the name now means another file */
		fs_node_detach(fs, n);
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->ino = fs->next_ino++;
	n->fd = -1;
	n->area = area;
	n->key = key;
	n->nlookup = 1;
	b = ino_bucket(fs, n->ino);
	n->next_ino = fs->by_ino[b];
	fs->by_ino[b] = n;
	link_name(fs, n);
	return n;
}

struct fs_node *fs_node_ref_folder(struct fs *fs, enum fs_area area,
				   const char *path, uint64_t key)
{
	struct fs_node *n = fs_node_by_name(fs, area, path);

	/* a file of that name (a job that was "a", now folder "a/") */
	if (n && !n->folder)
		fs_node_detach(fs, n);
	n = fs_node_ref(fs, area, path, key);
	if (n)
		n->folder = true;
	return n;
}

fuse_ino_t fs_node_parent(struct fs *fs, enum fs_area area, const char *path)
{
	const char *base = core_path_base(path);
	struct fs_node *n;
	char *dir;

	if (base == path)
		return fs_dir_of_area(area);
	dir = strndup(path, (size_t)(base - 1 - path));
	n = dir ? fs_node_by_name(fs, area, dir) : NULL;
	free(dir);
	return n && n->folder ? n->ino : 0;
}

int fs_node_rename_below(struct fs *fs, const char *from, const char *to)
{
	size_t flen = strlen(from), i;
	struct fs_node *n;
	int rc = 0;

	for (i = 0; i < fs->n_buckets; i++) {
		for (n = fs->by_ino[i]; n; n = n->next_ino) {
			char *name;

			if (n->area != AREA_JOBS || !n->name ||
			    !core_path_below(n->name, from))
				continue;
			if (asprintf(&name, "%s%s", to, n->name + flen) < 0) {
				fs_node_detach(fs, n);
				rc = -ENOMEM;
				continue;
			}
			if (fs_node_rename(fs, n, name) < 0) {
				fs_node_detach(fs, n);
				rc = -ENOMEM;
			}
			free(name);
		}
	}
	return rc;
}

void fs_node_detach(struct fs *fs, struct fs_node *n)
{
	if (!n->name)
		return;
	unlink_name(fs, n);
	free(n->name);
	n->name = NULL;
}

int fs_node_rename(struct fs *fs, struct fs_node *n, const char *name)
{
	char *copy = strdup(name);

	if (!copy)
		return -ENOMEM;
	if (n->name)
		unlink_name(fs, n);
	free(n->name);
	n->name = copy;
	link_name(fs, n);
	return 0;
}

int fs_node_supersede(struct fs *fs, struct fs_node *n, struct fs_node *old)
{
	int rc = fs_node_rename(fs, n, old->name);

	if (rc == 0) /* a later detach of old finds it unlinked: a no-op */
		unlink_name(fs, old);
	return rc;
}

void fs_node_swap_names(struct fs *fs, struct fs_node *a, struct fs_node *b)
{
	char *name = a->name;

	unlink_name(fs, a);
	unlink_name(fs, b);
	a->name = b->name;
	b->name = name;
	link_name(fs, a);
	link_name(fs, b);
}

void fs_node_forget(struct fs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs_node **pp = &fs->by_ino[ino_bucket(fs, ino)], *n;

	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next_ino;
	n = *pp;
	if (!n)
		return;
	/* the kernel never forgets more lookups than it was given; should
	 * our count be short anyway, a release build drops the node */
	DEBUGASSERT(nlookup <= n->nlookup);
	n->nlookup = nlookup >= n->nlookup ? 0 : n->nlookup - nlookup;
	if (n->nlookup > 0)
		return;
	*pp = n->next_ino;
	fs_node_detach(fs, n);
	if (n->fd >= 0)
		close(n->fd);
	free(n->marked);
	free(n);
}

void fs_node_opened(struct fs *fs, fuse_ino_t ino, int fd)
{
	struct fs_node *n = fs_node_by_ino(fs, ino);

	if (!n)
		return;
	if (n->fd < 0)
		n->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	n->opens++;
}

void fs_node_released(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *n = fs_node_by_ino(fs, ino);

	DEBUGASSERT(!n || n->opens > 0);
	if (!n || n->opens == 0 || --n->opens > 0)
		return;
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
