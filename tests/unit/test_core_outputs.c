/* out/ (gptimgfs(1), OUTPUT) as the job core keeps it: publishing on
 * completion, extended attributes, history names, several outputs, rm.
 * After a restart: test_core_outputs_restart.c. */
#include "outputs_fixture.h"

static bool out_file_exists(struct fx *f, const char *backing)
{
	return faccessat(core_out_dirfd(f->c), backing, F_OK, 0) == 0;
}

static void test_publish(void)
{
	struct core_output o;
	struct timespec now;
	struct fx f;
	uint64_t seq;
	char meta[80];
	const char *s;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "cat", "a cat\n");
	CHECK(fx_send(&f, seq, "t-1") == 0);
	CHECK(core_task_urls(f.c, seq,
			     (char *[]){ "https://cdn.example/1/0.png" },
			     1) == 0);
	/* a temporary file removed behind the daemon's back is a store
	 * error (fetched again), not "the task is gone" */
	{
		char name[64];
		int fd = core_tmpfile(f.c, name, sizeof(name));

		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		core_tmp_unlink(f.c, name);
		CHECK(core_task_output(f.c, seq, 0, name) == -EIO);
	}
	CHECK(fx_download(&f, seq, 0, fx_png, FX_PNG_LEN, NULL, 0) == 0);
	/* stored, not yet visible */
	CHECK(fx_n_outputs(&f) == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "downloading");
	fx_clear_calls(&f);
	CHECK(core_task_completed(f.c, seq) == 0);
	CHECK(f.calls.outputs_changed == 1);
	CHECK(fx_changed(&f, "cat"));

	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	s = fx_status(&f, "cat");
	CHECK_STR(fx_value(s, "outputs"), "out/cat.png");
	CHECK(core_output_find(f.c, "cat.png", &o) == 0);
	CHECK(o.size == (off_t)FX_PNG_LEN);
	clock_gettime(CLOCK_REALTIME, &now);
	CHECK(o.mtime.tv_sec <= now.tv_sec && o.mtime.tv_sec > now.tv_sec - 60);
	CHECK(out_file_exists(&f, o.backing));
	snprintf(meta, sizeof(meta), "%s.json", o.backing);
	CHECK(out_file_exists(&f, meta));
	CHECK(fx_entries(&f, "tmp") == 0);

	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"), "a cat");
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.task_id"), "t-1");
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.options"), FX_OPTS_1K);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.xdg.origin.url"),
		  "https://cdn.example/1/0.png");
	CHECK(core_output_xattr(f.c, "cat.png", "user.other", &f.text) ==
	      -ENODATA);
	CHECK(core_output_xattr(f.c, "dog.png", "user.gptimgfs.prompt",
				&f.text) == -ENOENT);
	CHECK(core_output_xattr_list(f.c, "cat.png", &f.text) == 0);
	CHECK(f.text.len == sizeof("user.gptimgfs.prompt\0"
				   "user.gptimgfs.task_id\0"
				   "user.gptimgfs.options\0"
				   "user.xdg.origin.url\0"
				   "user.gptimgfs.metadata") &&
	      memcmp(f.text.data,
		     "user.gptimgfs.prompt\0user.gptimgfs.task_id\0"
		     "user.gptimgfs.options\0user.xdg.origin.url\0"
		     "user.gptimgfs.metadata\0",
		     f.text.len) == 0);
	/* this core embeds nothing (core_set_embed_metadata not called) */
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.metadata"),
		  "not embedded: embed_metadata=no");
	CHECK(core_output_xattr_list(f.c, "dog.png", &f.text) == -ENOENT);
	/* a completed task takes no more transitions */
	CHECK(core_task_failed(f.c, seq, "x", "y") == -ENOENT);
	CHECK(core_task_completed(f.c, seq) == -ENOENT);
	fx_close(&f);
}

/* A second task of the same name: the first image moves to its history
 * name, untouched; each keeps its own attributes. */
static void test_history(void)
{
	struct core_output before, after, now;
	struct fx f;
	uint64_t s1, s2, s3;
	const char *hist;
	char hist1[256];

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(s1 != 0);
	CHECK(core_output_find(f.c, "cat.png", &before) == 0);

	CHECK(fx_write_job(&f, "cat.opts",
			   "aspect_ratio = 16:9\nresolution = 2k\n"
			   "nsfw_checker = off\n") == 0);
	s2 = fx_done_n(&f, "cat", "a black cat", "t-2", 2);
	CHECK(s2 != 0);

	hist = output_matching(&f, HIST("cat", "png"));
	CHECK(hist[0] != '\0');
	snprintf(hist1, sizeof(hist1), "%s", hist);
	CHECK(core_output_find(f.c, hist1, &after) == 0);
	CHECK_STR(after.backing, before.backing);
	CHECK(after.id == before.id && after.size == before.size);
	CHECK(after.mtime.tv_sec == before.mtime.tv_sec &&
	      after.mtime.tv_nsec == before.mtime.tv_nsec);
	CHECK(out_file_exists(&f, after.backing));
	CHECK_STR(fx_xattr(&f, hist1, "user.gptimgfs.prompt"), "a cat");
	CHECK_STR(fx_xattr(&f, hist1, "user.gptimgfs.task_id"), "t-1");
	CHECK_STR(fx_xattr(&f, hist1, "user.gptimgfs.options"), FX_OPTS_1K);

	CHECK(core_output_find(f.c, "cat.png", &now) == 0);
	CHECK(strcmp(now.backing, before.backing) != 0);
	CHECK(out_file_exists(&f, now.backing));
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"),
		  "a black cat");
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.task_id"), "t-2");
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.options"),
		  "{\"aspect_ratio\":\"16:9\",\"resolution\":\"2k\","
		  "\"nsfw_checker\":false}");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "outputs"),
		  "out/cat.png out/cat~2.png");
	CHECK(fx_n_outputs(&f) == 3);

	/* a third, with one output: every live image of the older task
	 * moves to history (cat~2.png too), names stay unique within a
	 * second, nothing is lost */
	s3 = fx_done(&f, "cat", "a white cat", "t-3");
	CHECK(s3 != 0);
	CHECK(fx_n_outputs(&f) == 4);
	CHECK(core_output_find(f.c, hist1, &after) == 0);
	CHECK_STR(after.backing, before.backing);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.task_id"), "t-3");
	CHECK(core_output_find(f.c, "cat~2.png", &after) == -ENOENT);
	hist = output_matching(&f, HIST("cat~2", "png"));
	CHECK(hist[0] != '\0');
	CHECK_STR(fx_xattr(&f, hist, "user.gptimgfs.task_id"), "t-2");
	CHECK(core_output_find(f.c, hist, &after) == 0);
	CHECK(after.size == (off_t)FX_PNG_LEN + 1);
	CHECK(core_output_find(f.c, hist1, &after) == 0);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "outputs"), "out/cat.png");
	fx_close(&f);
}

/* Job "col"'s second output is col~2.png: job "col-2"'s image keeps
 * out/col-2.png, whichever completes first, and across a restart. */
static void test_name_collision(void)
{
	struct core_output o;
	struct fx f;
	uint64_t s1, s2;
	const char *hist;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_done(&f, "col-2", "job col-2", "t-col2");
	CHECK(s1 != 0);
	s2 = fx_done_n(&f, "col", "job col", "t-col", 2);
	CHECK(s2 != 0);
	CHECK(fx_n_outputs(&f) == 3);
	CHECK_STR(fx_xattr(&f, "col-2.png", "user.gptimgfs.task_id"), "t-col2");
	CHECK_STR(fx_xattr(&f, "col.png", "user.gptimgfs.task_id"), "t-col");
	CHECK_STR(fx_xattr(&f, "col~2.png", "user.gptimgfs.task_id"), "t-col");
	CHECK_STR(fx_value(fx_status(&f, "col"), "outputs"),
		  "out/col.png out/col~2.png");
	CHECK_STR(fx_value(fx_status(&f, "col-2"), "outputs"), "out/col-2.png");

	/* after a restart, a new task of each: only their own images move */
	CHECK(fx_reopen(&f));
	s1 = fx_done(&f, "col-2", "job col-2, again", "t-col2b");
	CHECK(s1 != 0);
	CHECK_STR(fx_xattr(&f, "col-2.png", "user.gptimgfs.task_id"),
		  "t-col2b");
	hist = output_matching(&f, HIST("col-2", "png"));
	CHECK_STR(fx_xattr(&f, hist, "user.gptimgfs.task_id"), "t-col2");
	CHECK_STR(fx_xattr(&f, "col.png", "user.gptimgfs.task_id"), "t-col");
	CHECK_STR(fx_xattr(&f, "col~2.png", "user.gptimgfs.task_id"), "t-col");
	s2 = fx_done_n(&f, "col", "job col, again", "t-colb", 2);
	CHECK(s2 != 0);
	CHECK(fx_n_outputs(&f) == 6);
	CHECK_STR(fx_xattr(&f, "col~2.png", "user.gptimgfs.task_id"), "t-colb");
	hist = output_matching(&f, HIST("col", "png"));
	CHECK_STR(fx_xattr(&f, hist, "user.gptimgfs.task_id"), "t-col");
	hist = output_matching(&f, HIST("col~2", "png"));
	CHECK_STR(fx_xattr(&f, hist, "user.gptimgfs.task_id"), "t-col");
	CHECK_STR(fx_xattr(&f, "col-2.png", "user.gptimgfs.task_id"),
		  "t-col2b");
	CHECK(core_output_find(f.c, "col.png", &o) == 0);
	fx_close(&f);
}

/* 2023-11-14T22:13:20Z, the completion time of the images below. */
#define OLD_TIME 1700000000
#define OLD_STAMP "20231114T221320Z"

/* An image as an older version stored it: DATA_DIR/out/BACKING and its
 * metadata, named NAME in out/, output id % 16 of task id / 16 of JOB. */
static void old_output(struct fx *f, const char *backing, const char *name,
		       const char *job, bool live, unsigned id)
{
	char meta[512], file[96];
	int fd = core_out_dirfd(f->c);

	snprintf(meta, sizeof(meta),
		 "{\"name\":\"%s\",\"job\":\"%s\",\"live\":%s,\"id\":%u,"
		 "\"prompt\":\"old %s\",\"task_id\":\"t-old-%u\","
		 "\"options\":\"{}\",\"url\":\"\",\"completed\":%d,"
		 "\"completed_ns\":0}\n",
		 name, job, live ? "true" : "false", id, name, id, OLD_TIME);
	snprintf(file, sizeof(file), "%s.json", backing);
	CHECK(fx_write_at(fd, backing, fx_png, FX_PNG_LEN) == 0);
	CHECK(fx_write_at(fd, file, meta, strlen(meta)) == 0);
}

/* A store of an older version: "col"'s second image is live under
 * col-2.png, history names have dots. Job col-2's first image still takes
 * col-2.png; every old image moves to a '~' name built from its job and
 * index, stamped with its own completion time, unique within the second;
 * old history names stay. */
static void test_old_store_names(void)
{
	struct fx f;
	uint64_t seq;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	old_output(&f, "0000000000000001-0.png", "col.png", "col", true, 16);
	old_output(&f, "0000000000000001-1.png", "col-2.png", "col", true, 17);
	old_output(&f, "0000000000000000-0.png", "col." OLD_STAMP ".png", "col",
		   false, 0);
	/* sec.png would retire to sec~STAMP.png, sec~STAMP-2.png: taken */
	old_output(&f, "0000000000000002-0.png", "sec.png", "sec", true, 32);
	old_output(&f, "0000000000000003-0.png", "sec~" OLD_STAMP ".png", "sec",
		   false, 48);
	old_output(&f, "0000000000000004-0.png", "sec~" OLD_STAMP "-2.png",
		   "sec", false, 64);
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 6);
	CHECK_STR(fx_xattr(&f, "col-2.png", "user.gptimgfs.task_id"),
		  "t-old-17");

	seq = fx_submit(&f, "col-2", "job col-2");
	CHECK(seq > 4); /* never a backing name of the old images */
	CHECK(fx_send(&f, seq, "t-col2") == 0);
	CHECK(fx_complete(&f, seq) == 0);
	CHECK_STR(fx_xattr(&f, "col-2.png", "user.gptimgfs.task_id"), "t-col2");
	CHECK_STR(fx_xattr(&f, "col~2~" OLD_STAMP ".png",
			   "user.gptimgfs.task_id"),
		  "t-old-17");
	CHECK_STR(fx_xattr(&f, "col.png", "user.gptimgfs.task_id"), "t-old-16");

	seq = fx_done(&f, "col", "job col", "t-col");
	CHECK(seq != 0);
	CHECK_STR(fx_xattr(&f, "col.png", "user.gptimgfs.task_id"), "t-col");
	CHECK_STR(
		fx_xattr(&f, "col~" OLD_STAMP ".png", "user.gptimgfs.task_id"),
		"t-old-16");
	CHECK_STR(
		fx_xattr(&f, "col." OLD_STAMP ".png", "user.gptimgfs.task_id"),
		"t-old-0");

	seq = fx_done(&f, "sec", "job sec", "t-sec");
	CHECK(seq != 0);
	CHECK_STR(fx_xattr(&f, "sec~" OLD_STAMP "-3.png",
			   "user.gptimgfs.task_id"),
		  "t-old-32");
	CHECK_STR(
		fx_xattr(&f, "sec~" OLD_STAMP ".png", "user.gptimgfs.task_id"),
		"t-old-48");
	CHECK(fx_n_outputs(&f) == 9);

	/* the new names come back after a restart */
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 9);
	CHECK_STR(fx_xattr(&f, "col~2~" OLD_STAMP ".png",
			   "user.gptimgfs.task_id"),
		  "t-old-17");
	CHECK_STR(fx_xattr(&f, "col-2.png", "user.gptimgfs.task_id"), "t-col2");
	fx_close(&f);
}

/* Tasks of one job completing within one second: each older image gets
 * its own history name. */
static void test_same_second(void)
{
	char want[64], **names;
	struct fx f;
	uint64_t seq;
	size_t i, n, hist = 0;
	int k;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	for (k = 0; k < 4; k++) {
		snprintf(want, sizeof(want), "take %d", k);
		seq = fx_submit(&f, "fast", want);
		CHECK(fx_send(&f, seq, want) == 0);
		CHECK(fx_complete_n(&f, seq, 2) == 0);
	}
	names = core_output_names(f.c, &n);
	CHECK(n == 8);
	for (i = 0; i < n; i++)
		hist += fx_matches(names[i], HIST("fast", "png")) ||
			fx_matches(names[i], HIST("fast~2", "png"));
	core_free_names(names, n);
	CHECK(hist == 6);
	CHECK_STR(fx_value(fx_status(&f, "fast"), "outputs"),
		  "out/fast.png out/fast~2.png");
	CHECK_STR(fx_xattr(&f, "fast~2.png", "user.gptimgfs.task_id"),
		  "take 3");
	fx_close(&f);
}

static void test_three_outputs(void)
{
	struct core_output o;
	struct fx f;
	uint64_t seq;
	char url[96];
	size_t i;
	static const char *const names[] = { "fox.png", "fox~2.png",
					     "fox~3.png" };

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done_n(&f, "fox", "three foxes", "t-fox", 3);
	CHECK(seq != 0);
	CHECK_STR(fx_value(fx_status(&f, "fox"), "outputs"),
		  "out/fox.png out/fox~2.png out/fox~3.png");
	for (i = 0; i < 3; i++) {
		CHECK(core_output_find(f.c, names[i], &o) == 0);
		CHECK(o.size == (off_t)(FX_PNG_LEN + i));
		snprintf(url, sizeof(url),
			 "https://cdn.example/%" PRIu64 "/%zu.png", seq, i);
		CHECK_STR(fx_xattr(&f, names[i], "user.xdg.origin.url"), url);
		CHECK_STR(fx_xattr(&f, names[i], "user.gptimgfs.prompt"),
			  "three foxes");
	}
	/* completing needs every output */
	seq = fx_submit(&f, "owl", "two owls");
	CHECK(fx_send(&f, seq, "t-owl") == 0);
	CHECK(core_task_urls(f.c, seq,
			     (char *[]){ "https://cdn.example/o/1.png",
					 "https://cdn.example/o/2.png" },
			     2) == 0);
	CHECK(fx_download(&f, seq, 1, fx_png, FX_PNG_LEN, NULL, 0) == 0);
	core_task_completed(f.c, seq);
	CHECK(strcmp(fx_first_line(&f, "owl"), "completed") != 0);
	CHECK(core_output_find(f.c, "owl~2.png", &o) == -ENOENT);
	fx_close(&f);
}

static void test_unlink(void)
{
	struct core_output o;
	struct fx f;
	uint64_t seq;
	char meta[80];

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(seq != 0);
	CHECK(core_output_find(f.c, "cat.png", &o) == 0);
	snprintf(meta, sizeof(meta), "%s.json", o.backing);
	fx_clear_calls(&f);
	CHECK(core_output_unlink(f.c, "cat.png") == 0);
	CHECK(f.calls.outputs_changed == 1);
	CHECK(core_output_find(f.c, "cat.png", &o) == -ENOENT);
	CHECK(!out_file_exists(&f, o.backing));
	CHECK(!out_file_exists(&f, meta));
	CHECK(fx_entries(&f, "out") == 0);
	CHECK(core_output_unlink(f.c, "cat.png") == -ENOENT);
	CHECK(fx_reopen(&f));
	CHECK(fx_n_outputs(&f) == 0);
	fx_close(&f);
}

int main(void)
{
	test_publish();
	test_history();
	test_name_collision();
	test_old_store_names();
	test_same_second();
	test_three_outputs();
	test_unlink();
	return check_result("test_core_outputs");
}
