/* The node table: which inode number means which file. Fixed inodes for
 * the areas' top directories, credits and progress; a node per (area,
 * name, key) for the rest, name being the path below the area's top
 * ("a/b/x" in status/, "a/b" for a folder),
 * where key tells apart two files that had the same name at different
 * times (the stored file's inode in jobs/, the image's id in out/), so a
 * replaced file always gets a new inode number. Inode numbers are never
 * reused. A node lives while the kernel holds a lookup on it. */
#ifndef GPTIMGFS_NODE_H
#define GPTIMGFS_NODE_H

#include "fs.h"

struct fs_node {
	fuse_ino_t ino;
	enum fs_area area;
	char *name; /* NULL once detached (unlinked, replaced) */
	uint64_t key;
	bool folder; /* a directory below the area's top */
	uint64_t nlookup;
	/* jobs/ files: while open, a descriptor of the stored file, so that
	 * fstat and fchmod work once the name is gone (unlink, rename over) */
	int fd;
	unsigned opens;
	/* jobs/ files: the open handles that changed the file (created,
	 * truncated or wrote it), the submissions their releases are making,
	 * and the job marked as being written while there are any (see
	 * jobs_area.c) */
	unsigned changers;
	unsigned submitting;
	char *marked;
	/* out/ files read by the kernel itself (passthrough.c): the backing
	 * id, and the handles open with it */
	int backing_id;
	unsigned backing_opens;
	struct fs_node *next_ino;
	struct fs_node *next_name;
};

int fs_nodes_init(struct fs *fs);
void fs_nodes_destroy(struct fs *fs);
/* The area of the files in directory inode dir, AREA_NONE for others. */
enum fs_area fs_area_of_dir(fuse_ino_t dir);
fuse_ino_t fs_dir_of_area(enum fs_area area);

/* All under fs->nodes_lock, held by the caller. */
struct fs_node *fs_node_by_ino(struct fs *fs, fuse_ino_t ino);
struct fs_node *fs_node_by_name(struct fs *fs, enum fs_area area,
				const char *name);
/* Find or make the node for (area, name, key) and count one lookup. */
struct fs_node *fs_node_ref(struct fs *fs, enum fs_area area, const char *name,
			    uint64_t key);
void fs_node_forget(struct fs *fs, fuse_ino_t ino, uint64_t nlookup);
/* A handle on node ino's stored file fd was opened / released. */
void fs_node_opened(struct fs *fs, fuse_ino_t ino, int fd);
void fs_node_released(struct fs *fs, fuse_ino_t ino);
/* The name no longer leads to this node. */
void fs_node_detach(struct fs *fs, struct fs_node *n);
/* The publisher's rename (out_area.c): n, of the same image, takes old's
 * name; old keeps it for what the kernel still has in flight on it (an
 * open whose path walk found it), but the name no longer finds old. */
int fs_node_supersede(struct fs *fs, struct fs_node *n, struct fs_node *old);
/* Find or make the node of folder path in area (key: the stored
 * directory's inode in jobs/, FS_FOLDER_KEY elsewhere) and count one
 * lookup. */
#define FS_FOLDER_KEY UINT64_MAX
struct fs_node *fs_node_ref_folder(struct fs *fs, enum fs_area area,
				   const char *path, uint64_t key);
/* The inode of the directory that holds path in area (its top, or a
 * folder's node), 0 when the kernel cannot know that folder (no node). */
fuse_ino_t fs_node_parent(struct fs *fs, enum fs_area area, const char *path);
/* A folder of jobs/ was renamed: the nodes below `from` move below `to`. */
int fs_node_rename_below(struct fs *fs, const char *from, const char *to);
/* A rename: the node now has another name. */
int fs_node_rename(struct fs *fs, struct fs_node *n, const char *name);
/* RENAME_EXCHANGE: a and b (both named) trade names. */
void fs_node_swap_names(struct fs *fs, struct fs_node *a, struct fs_node *b);

#endif
