/* The store's spare files (core/store_spare.c): a swap keeps the old file
 * as a spare, which is written again only once its directory is synced
 * (core_spares_settle); a new name takes the spare itself. */
#include <fcntl.h>
#include <sys/stat.h>

#include "core_fixture.h"

/* The inode of dir/name, 0 when there is none. */
static ino_t inode_of(int dir, const char *name)
{
	struct stat st;

	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_ino :
								   0;
}

static bool holds(int dir, const char *name, const char *text)
{
	char got[64] = { 0 };
	int fd = openat(dir, name, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, got, sizeof(got) - 1);

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && strcmp(got, text) == 0;
}

static void test_swap_settle(void)
{
	char dirpath[] = "/tmp/gptimgfs-spare-XXXXXX", name[32];
	struct store_spares p;
	unsigned s1, s2, s3;
	ino_t first, second;
	int dir;

	CHECK(mkdtemp(dirpath) != NULL);
	dir = open(dirpath, O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0);
	core_spares_init(&p, dir);

	/* a new name takes the spare itself, swap or not */
	CHECK(core_spares_write(&p, "one", 3, true, &s1) == 0);
	CHECK(core_spares_commit(&p, s1, "r.json", true) == 0);
	CHECK(holds(dir, "r.json", "one"));
	CHECK(p.n_free == 0 && p.n_unsettled == 0);
	first = inode_of(dir, "r.json");

	/* a swap: the old file is a spare, but not free before a sync */
	CHECK(core_spares_write(&p, "second!", 7, true, &s2) == 0);
	CHECK(core_spares_commit(&p, s2, "r.json", true) == 0);
	CHECK(holds(dir, "r.json", "second!"));
	CHECK(p.n_unsettled == 1 && p.n_free == 0);
	CHECK(inode_of(dir, ".spare-1.tmp") == first);
	CHECK(core_spares_write(&p, "3", 1, true, &s3) == 0);
	CHECK(s3 != s2); /* a new spare: the old file is left alone */
	CHECK(holds(dir, ".spare-1.tmp", "one"));
	core_spares_drop(&p, s3);

	/* synced: the old file is written again, shorter, whole */
	CHECK(fsync(dir) == 0);
	core_spares_settle(&p);
	CHECK(p.n_unsettled == 0 && p.n_free == 1);
	second = inode_of(dir, "r.json");
	CHECK(core_spares_write(&p, "3", 1, true, &s3) == 0);
	CHECK(s3 == s2);
	CHECK(core_spares_commit(&p, s3, "r.json", true) == 0);
	CHECK(holds(dir, "r.json", "3"));
	CHECK(inode_of(dir, "r.json") == first);
	CHECK(inode_of(dir, ".spare-1.tmp") == second);

	/* without swap, the old file goes */
	CHECK(fsync(dir) == 0);
	core_spares_settle(&p);
	CHECK(core_spares_write(&p, "four", 4, true, &s1) == 0);
	CHECK(core_spares_commit(&p, s1, "r.json", false) == 0);
	CHECK(holds(dir, "r.json", "four"));
	CHECK(inode_of(dir, ".spare-1.tmp") == 0);
	CHECK(p.n_free == 0 && p.n_unsettled == 0);

	/* a spare that is no longer a plain file is left for the sweep */
	CHECK(core_spares_write(&p, "five", 4, true, &s1) == 0);
	CHECK(core_spares_commit(&p, s1, "r.json", true) == 0);
	core_spares_settle(&p);
	snprintf(name, sizeof(name), ".spare-%u.tmp", s1);
	CHECK(unlinkat(dir, name, 0) == 0);
	CHECK(mkfifoat(dir, name, 0600) == 0);
	CHECK(core_spares_write(&p, "six", 3, true, &s2) == 0);
	CHECK(s2 != s1);
	CHECK(core_spares_commit(&p, s2, "r.json", true) == 0);
	CHECK(holds(dir, "r.json", "six"));
	CHECK(unlinkat(dir, name, 0) == 0);

	core_spares_settle(&p);
	while (p.n_free > 0)
		core_spares_drop(&p, p.free[--p.n_free]);
	CHECK(unlinkat(dir, "r.json", 0) == 0);
	close(dir);
	CHECK(rmdir(dirpath) == 0);
}

int main(void)
{
	test_swap_settle();
	return check_result("test_store_spare");
}
