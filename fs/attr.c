/* The attributes of the files fs/ makes up (everything but the stored
 * jobs/ files), and who may read them: the kernel's own rule, for the
 * areas that check it themselves. */
#include <string.h>

#include "internal.h"

void fs_stat_synthetic(const struct fs *fs, struct stat *st, fuse_ino_t ino,
		       mode_t mode, off_t size, time_t mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_blocks = (size + 511) / 512;
	st->st_mtim.tv_sec = mtime;
	st->st_ctim = st->st_atim = st->st_mtim;
}

static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t groups[64];
	int i, n;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	n = fuse_req_getgroups(req, 64, groups);
	for (i = 0; i < n && i < 64; i++) {
		if (groups[i] == gid)
			return true;
	}
	return false;
}

/* As the kernel decides (generic_permission): the owner's bits for the
 * owner, the group's for the group, the others' for the rest; root
 * reads everything. */
bool fs_may_read(const struct fs *fs, fuse_req_t req, mode_t mode)
{
	uid_t uid = fuse_req_ctx(req)->uid;

	if (uid == 0)
		return true;
	if (uid == fs->uid)
		return mode & S_IRUSR;
	if (caller_in_group(req, fs->gid))
		return mode & S_IRGRP;
	return mode & S_IROTH;
}
