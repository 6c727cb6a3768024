/* out/ across a restart: everything comes back as it was, and what a
 * kill or a failed write left half done is mended. */
#include "outputs_fixture.h"

#define N_ATTRS 4
static const char *const attrs[N_ATTRS] = {
	"user.gptimgfs.prompt",
	"user.gptimgfs.task_id",
	"user.gptimgfs.options",
	"user.xdg.origin.url",
};

/* One output as the core shows it. */
struct shot {
	char *name;
	struct core_output o;
	char *xattr[N_ATTRS];
};

static size_t snapshot(struct fx *f, struct shot *shots, size_t max)
{
	char **names;
	size_t i, k, n;

	names = core_output_names(f->c, &n);
	for (i = 0; i < n && i < max; i++) {
		shots[i].name = strdup(names[i]);
		CHECK(core_output_find(f->c, names[i], &shots[i].o) == 0);
		for (k = 0; k < N_ATTRS; k++) {
			const char *v = fx_xattr(f, names[i], attrs[k]);

			shots[i].xattr[k] = strdup(v ? v : "(none)");
		}
	}
	core_free_names(names, n);
	return i;
}

static void shots_free(struct shot *shots, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		free(shots[i].name);
		for (k = 0; k < N_ATTRS; k++)
			free(shots[i].xattr[k]);
	}
}

/* Everything in out/ comes back after a restart, as it was. */
static void test_restart(void)
{
	struct shot before[8], after[8];
	struct fx f;
	uint64_t seq;
	size_t i, k, n_before, n_after;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(seq != 0);
	seq = fx_done_n(&f, "dog", "three dogs", "t-2", 3);
	CHECK(seq != 0);
	seq = fx_done(&f, "cat", "\"a cat\", in quotes\\\n", "t-3");
	CHECK(seq != 0);

	n_before = snapshot(&f, before, 8);
	CHECK(n_before == 5);
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 0);
	n_after = snapshot(&f, after, 8);
	CHECK(n_after == n_before);
	for (i = 0; i < n_before && i < n_after; i++) {
		CHECK_STR(after[i].name, before[i].name);
		CHECK_STR(after[i].o.backing, before[i].o.backing);
		CHECK(after[i].o.id == before[i].o.id);
		CHECK(after[i].o.size == before[i].o.size);
		CHECK(after[i].o.mtime.tv_sec == before[i].o.mtime.tv_sec &&
		      after[i].o.mtime.tv_nsec == before[i].o.mtime.tv_nsec);
		for (k = 0; k < N_ATTRS; k++)
			CHECK_STR(after[i].xattr[k], before[i].xattr[k]);
	}
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"),
		  "\"a cat\", in quotes\\");
	CHECK_STR(fx_value(fx_status(&f, "dog"), "outputs"),
		  "out/dog.png out/dog~2.png out/dog~3.png");
	shots_free(before, n_before);
	shots_free(after, n_after);
	fx_close(&f);
}

/* An image of a task in the table whose metadata is missing (its write
 * failed) is shown again at the next start, under its own name. */
static void test_recover_missing_meta(void)
{
	struct core_output second;
	char meta[80];
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(fx_done(&f, "cat", "a cat", "t-1") != 0);
	CHECK(fx_done(&f, "cat", "a black cat", "t-2") != 0);
	CHECK(core_output_find(f.c, "cat.png", &second) == 0);
	snprintf(meta, sizeof(meta), "%s.json", second.backing);
	CHECK(unlinkat(core_out_dirfd(f.c), meta, 0) == 0);

	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 2);
	CHECK(core_output_find(f.c, "cat.png", &second) == 0);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"),
		  "a black cat");
	CHECK(output_matching(&f, HIST("cat", "png"))[0] != '\0');
	CHECK_STR(fx_value(fx_status(&f, "cat"), "outputs"), "out/cat.png");
	/* written again: the next start finds them as they are now */
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 2);
	fx_close(&f);
}

/* The write that moved an older image to its history name failed: two
 * metadata files claim cat.png. The newer image keeps it, in either order
 * of the directory, and the older is shown under a history name. */
static void test_recover_lost_retire(void)
{
	struct core_output first, second;
	char meta[80], old_meta[4096];
	ssize_t len;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(fx_done(&f, "cat", "a cat", "t-1") != 0);
	CHECK(core_output_find(f.c, "cat.png", &first) == 0);
	snprintf(meta, sizeof(meta), "%s.json", first.backing);
	len = fx_read_at(core_out_dirfd(f.c), meta, old_meta, sizeof(old_meta));
	CHECK(len > 0);
	CHECK(fx_done(&f, "cat", "a black cat", "t-2") != 0);
	CHECK(core_output_find(f.c, "cat.png", &second) == 0);
	CHECK(fx_write_at(core_out_dirfd(f.c), meta, old_meta,
			  len > 0 ? (size_t)len : 0) == 0);

	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 2);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.task_id"), "t-2");
	CHECK_STR(fx_xattr(&f, output_matching(&f, HIST("cat", "png")),
			   "user.gptimgfs.task_id"),
		  "t-1");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "outputs"), "out/cat.png");
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 2);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.task_id"), "t-2");
	fx_close(&f);
}

/* rm cut short by a kill between its two deletes, each synced: the
 * image is gone, its metadata is not. The image does not come back, and
 * its sequence number is not reused. */
static void test_rm_cut_short(void)
{
	struct core_output o;
	char meta[80], text[4096];
	ssize_t len;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(fx_done(&f, "cat", "a cat", "t-1") != 0);
	CHECK(core_output_find(f.c, "cat.png", &o) == 0);
	snprintf(meta, sizeof(meta), "%s.json", o.backing);
	len = fx_read_at(core_out_dirfd(f.c), meta, text, sizeof(text));
	CHECK(len > 0);
	CHECK(core_output_unlink(f.c, "cat.png") == 0);
	CHECK(fx_write_at(core_out_dirfd(f.c), meta, text,
			  len > 0 ? (size_t)len : 0) == 0);
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 0);
	CHECK(fx_submit(&f, "dog", "a dog") > o.id / OPTS_MAX_URLS);
	fx_close(&f);
}

/* The metadata of a completed image cannot be written (a directory is in
 * the way), and a new task of the job then supersedes the task: its record
 * is kept, so the next start (the way cleared) still shows the image. */
static void test_meta_write_fails(void)
{
	const char *meta = "0000000000000001-1.png.json";
	uint64_t seq;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(mkdirat(core_out_dirfd(f.c), meta, 0700) == 0);
	seq = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(seq == 1);
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK(fx_n_outputs(&f) == 1);
	seq = fx_submit(&f, "cat", "a black cat");
	CHECK(fx_send(&f, seq, "t-2") == 0); /* task 1 is not kept */
	CHECK(!fx_task_exists(&f, 1));
	CHECK(fx_exists(&f, "records/0000000000000001.json"));
	CHECK(unlinkat(core_out_dirfd(f.c), meta, AT_REMOVEDIR) == 0);

	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 1);
	CHECK_STR(fx_xattr(&f, output_matching(&f, HIST("cat", "png")),
			   "user.gptimgfs.task_id"),
		  "t-1");
	/* shown for good: the record can go now */
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 1);
	fx_close(&f);
}

int main(void)
{
	test_restart();
	test_recover_missing_meta();
	test_recover_lost_retire();
	test_rm_cut_short();
	test_meta_write_fails();
	return check_result("test_core_outputs_restart");
}
