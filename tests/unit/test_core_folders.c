/* Jobs in folders (gptimgfs(1), JOBS, Folders): the names of prompt files
 * in folders and their limits, paths the store opens without following a
 * link, the walk at the start, and the folders status/ and out/ show. No
 * FUSE, no network. */
#include "core_fixture.h"

static void test_names_in_folders(void)
{
	char name[CORE_FILE_MAX + 1], file[4096];
	size_t i;

	CHECK(core_prompt_name("a/b/x.txt", name, sizeof(name)));
	CHECK_STR(name, "a/b/x");
	CHECK(!core_prompt_name(".git/x.txt", name, sizeof(name)));
	CHECK(!core_prompt_name("a/.hidden/x.txt", name, sizeof(name)));
	CHECK(!core_prompt_name("a/.x.txt", name, sizeof(name)));
	CHECK(!core_prompt_name("a/.txt", name, sizeof(name)));
	CHECK(core_path_depth("x.txt") == 0);
	CHECK(core_path_depth("a/b/x.txt") == 2);

	/* '~' marks other images in the last component only */
	CHECK(core_check_prompt_filename("old~/x.txt") == 0);
	CHECK(core_check_prompt_filename("a/x~2.txt") == -EINVAL);
	CHECK(core_check_prompt_filename("a\n/x.txt") == -EINVAL);

	/* 16 folders, not 17 */
	file[0] = '\0';
	for (i = 0; i < 16; i++)
		strcat(file, "f/");
	strcat(file, "x.txt");
	CHECK(core_check_prompt_filename(file) == 0);
	memmove(file + 2, file, strlen(file) + 1);
	memcpy(file, "f/", 2);
	CHECK(core_check_prompt_filename(file) == -ENAMETOOLONG);

	/* the whole path: 1000 bytes before .txt */
	memset(file, 'd', 4 * 200);
	for (i = 1; i <= 4; i++)
		file[i * 200 - 1] = '/';
	snprintf(file + 800, sizeof(file) - 800, "%0200d.txt", 0);
	CHECK(core_check_prompt_filename(file) == 0);
	snprintf(file + 800, sizeof(file) - 800, "e/%0199d.txt", 0);
	CHECK(core_check_prompt_filename(file) == -ENAMETOOLONG);

	/* what records and metadata may name */
	CHECK(core_name_ok("a/b/x"));
	CHECK(core_name_ok("x~2.png"));
	CHECK(!core_name_ok("../x"));
	CHECK(!core_name_ok("a/../../x"));
	CHECK(!core_name_ok("/etc/passwd"));
	CHECK(!core_name_ok("a//x"));
	CHECK(!core_name_ok("a/./x"));
	CHECK(!core_name_ok(".git/x"));
	CHECK(!core_name_ok(""));
	CHECK(!core_name_ok("a\n/x"));
}

static void test_store_paths(void)
{
	struct fx f;
	int jobs, fd;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	jobs = core_jobs_dirfd(f.c);
	CHECK(core_store_path_ok("a/b"));
	CHECK(!core_store_path_ok("a/../b"));
	CHECK(!core_store_path_ok("/a"));
	CHECK(!core_store_path_ok("a/"));
	CHECK(mkdirat(jobs, "a", 0755) == 0);
	CHECK(fx_write_job(&f, "a/x.txt", "a fox\n") == 0);
	fd = core_store_open_file(jobs, "a/x.txt", O_RDONLY, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(core_store_open_file(jobs, "a/../a/x.txt", O_RDONLY, 0) ==
	      -EINVAL);
	/* a link on the way is never followed */
	CHECK(symlinkat("a", jobs, "l") == 0);
	CHECK(core_store_open_file(jobs, "l/x.txt", O_RDONLY, 0) < 0);
	fx_close(&f);
}

static void note_path(void *ctx, const char *path)
{
	struct buf *seen = ctx;

	buf_printf(seen, "%s;", path);
}

static void test_walk(void)
{
	struct buf seen;
	struct fx f;
	int jobs;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	jobs = core_jobs_dirfd(f.c);
	buf_init(&seen, 4096);
	CHECK(mkdirat(jobs, "a", 0755) == 0);
	CHECK(mkdirat(jobs, "a/b", 0755) == 0);
	CHECK(mkdirat(jobs, ".git", 0755) == 0);
	CHECK(fx_write_job(&f, "a/b/x.txt", "x\n") == 0);
	CHECK(fx_write_job(&f, ".git/y.txt", "y\n") == 0);
	CHECK(fx_write_job(&f, "a/notes.md", "n\n") == 0);
	CHECK(core_store_walk(jobs, 16, note_path, &seen) == 0);
	CHECK(strstr(buf_str(&seen), "a/b/x.txt;") != NULL);
	CHECK(strstr(buf_str(&seen), "a/notes.md;") != NULL);
	CHECK(strstr(buf_str(&seen), ".git") == NULL);
	/* one folder deep: a/b is not walked */
	buf_reset(&seen);
	CHECK(core_store_walk(jobs, 1, note_path, &seen) == 0);
	CHECK(strstr(buf_str(&seen), "a/b/x.txt") == NULL);
	CHECK(strstr(buf_str(&seen), "a/notes.md;") != NULL);

	CHECK(core_jobs_folder_has_prompts(f.c, "a") == 1);
	CHECK(core_jobs_folder_has_prompts(f.c, "a/b") == 1);
	/* what it would hold under a name that is not hidden */
	CHECK(core_jobs_folder_has_prompts(f.c, ".git") == 1);
	CHECK(core_jobs_folder_has_prompts(f.c, "none") == -ENOENT);
	buf_free(&seen);
	fx_close(&f);
}

/* status/a/ and out/a/ exist while a job or an image lies below. */
static void test_folders_of_views(void)
{
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(mkdirat(core_jobs_dirfd(f.c), "a", 0755) == 0);
	CHECK(mkdirat(core_jobs_dirfd(f.c), "a/b", 0755) == 0);
	CHECK(!core_job_folder(f.c, "a"));
	CHECK(fx_done(&f, "a/b/x", "a fox\n", "t1") != 0);
	CHECK(core_job_exists(f.c, "a/b/x"));
	CHECK(!core_job_exists(f.c, "a/b"));
	CHECK(core_job_folder(f.c, "a"));
	CHECK(core_job_folder(f.c, "a/b"));
	CHECK(!core_job_folder(f.c, "a/b/x"));
	CHECK(!core_job_folder(f.c, "a/"));
	CHECK(core_output_folder(f.c, "a"));
	CHECK(core_output_folder(f.c, "a/b"));
	CHECK(!core_output_folder(f.c, "a/b/x"));
	CHECK(!core_output_folder(f.c, "b"));

	/* removed: the job goes, its image stays */
	core_prompt_removed(f.c, "a/b/x");
	CHECK(!core_job_folder(f.c, "a"));
	CHECK(core_output_folder(f.c, "a/b"));
	CHECK(core_output_unlink(f.c, "a/b/x.png") == 0);
	CHECK(!core_output_folder(f.c, "a"));

	/* a job in a folder survives a restart */
	CHECK(fx_done(&f, "a/b/y", "a yak\n", "t2") != 0);
	CHECK(fx_reopen(&f));
	CHECK(core_job_exists(f.c, "a/b/y"));
	CHECK_STR(fx_first_line(&f, "a/b/y"), "completed");
	CHECK(core_output_folder(f.c, "a/b"));
	fx_close(&f);
}

int main(void)
{
	test_names_in_folders();
	test_store_paths();
	test_walk();
	test_folders_of_views();
	return check_result("test_core_folders");
}
