/* The job core's durable store (core/store*.c, core/task.c, core/jobs*.c):
 * what a restart or a crash (kill -9: the records as they were written, and
 * nothing more) leaves, corrupt and leftover files, the lock, and sequence
 * numbers that are never reused. */
#include "core_fixture.h"

/* Replace the first `from` in records/SEQ.json by `to`: an older or crashed
 * run's record, written by hand (and sealed again with the store's key). */
static bool edit_record(struct fx *f, uint64_t seq, const char *from,
			const char *to)
{
	char path[256], file[64], text[65536], *hit;
	size_t flen = strlen(from), tlen = strlen(to), n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/records/%016" PRIu64 ".json", f->data,
		 seq);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	hit = strstr(text, from);
	if (!hit || n - flen + tlen >= sizeof(text))
		return false;
	memmove(hit + tlen, hit + flen, strlen(hit + flen) + 1);
	memcpy(hit, to, tlen);
	fp = fopen(path, "w");
	if (!fp)
		return false;
	fputs(text, fp);
	if (fclose(fp) != 0)
		return false;
	snprintf(file, sizeof(file), "%016" PRIu64 ".json", seq);
	return fx_reseal(f, "records", file);
}

static bool ready_has(const struct fx *f, uint64_t seq)
{
	size_t i;

	for (i = 0; i < f->calls.n_ready; i++) {
		if (f->calls.ready[i] == seq)
			return true;
	}
	return false;
}

/* Every state a task can be in when the daemon stops. */
static void test_restart_states(void)
{
	uint64_t q, s, p, r, d, c, x;
	char *c_before, *x_before;
	const char *st;
	struct core_task t;
	struct fx f;
	static const char png2[] = "\x89PNG\r\n\x1a\n-second-output";

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	q = fx_submit(&f, "q", "queued one");
	s = fx_submit(&f, "s", "sending one");
	CHECK(core_task_sending(f.c, s) == 0);
	CHECK_STR(fx_first_line(&f, "s"), "queued"); /* to a user */
	p = fx_submit(&f, "p", "pending one");
	CHECK(fx_send(&f, p, "t-p") == 0);
	r = fx_submit(&f, "r", "processing one");
	CHECK(fx_send(&f, r, "t-r") == 0);
	CHECK(core_task_progress(f.c, r, TASK_PROCESSING) == 0);
	d = fx_submit(&f, "d", "downloading one");
	CHECK(fx_send(&f, d, "t-d") == 0);
	CHECK(core_task_urls(f.c, d,
			     (char *[]){ "https://cdn.example/d/1.png",
					 "https://cdn.example/d/2.png" },
			     2) == 0);
	CHECK(fx_download(&f, d, 0, fx_png, FX_PNG_LEN, NULL, 0) == 0);
	c = fx_done(&f, "c", "completed one", "t-c");
	CHECK(c != 0);
	x = fx_submit(&f, "x", "failed one");
	CHECK(fx_send(&f, x, "t-x") == 0);
	CHECK(core_task_failed(f.c, x, "upstream_error", "boom") == 0);
	st = fx_status(&f, "c");
	c_before = strdup(st ? st : "");
	st = fx_status(&f, "x");
	x_before = strdup(st ? st : "");

	/* kill -9 here: nothing more is written */
	CHECK(fx_reopen(&f));
	CHECK(f.calls.n_ready == 0); /* not before core_start */
	core_start(f.c);
	CHECK(f.calls.n_ready == 4);
	CHECK(ready_has(&f, q) && ready_has(&f, p) && ready_has(&f, r) &&
	      ready_has(&f, d));

	/* the one being sent may have been charged: never sent again */
	CHECK_STR(fx_first_line(&f, "s"), "failed");
	st = fx_status(&f, "s");
	CHECK(st &&
	      fx_matches(fx_value(st, "error"), "^interrupted: .*charged"));
	CHECK(core_task_sending(f.c, s) == -ENOENT);

	CHECK_STR(fx_first_line(&f, "q"), "queued");
	CHECK(core_task_sending(f.c, q) == 0);
	CHECK_STR(fx_first_line(&f, "p"), "pending");
	CHECK_STR(fx_value(fx_status(&f, "p"), "task_id"), "t-p");
	CHECK(core_task_get(f.c, p, &t) == 0);
	CHECK_STR(t.task_id, "t-p");
	CHECK_STR(t.prompt, "pending one");
	core_task_free(&t);
	/* progress is not recorded: the start polls it again */
	CHECK_STR(fx_first_line(&f, "r"), "pending");
	CHECK_STR(fx_value(fx_status(&f, "r"), "task_id"), "t-r");
	CHECK_STR(fx_first_line(&f, "d"), "downloading");
	CHECK_STR(fx_status(&f, "c"), c_before);
	CHECK_STR(fx_status(&f, "x"), x_before);
	free(c_before);
	free(x_before);

	/* the download goes on where it stopped: output 1 was stored */
	CHECK(core_task_get(f.c, d, &t) == 0);
	CHECK(t.state == TASK_DOWNLOADING);
	CHECK(t.n_urls == 2);
	CHECK(t.stored[0] && !t.stored[1]);
	CHECK_STR(t.urls[1], "https://cdn.example/d/2.png");
	core_task_free(&t);
	CHECK(core_output_find(f.c, "d.png", &(struct core_output){ 0 }) ==
	      -ENOENT);
	CHECK(fx_download(&f, d, 1, png2, sizeof(png2) - 1, NULL, 0) == 0);
	CHECK(core_task_completed(f.c, d) == 0);
	CHECK_STR(fx_value(fx_status(&f, "d"), "outputs"),
		  "out/d.png out/d~2.png");
	CHECK_STR(fx_xattr(&f, "d~2.png", "user.xdg.origin.url"),
		  "https://cdn.example/d/2.png");

	/* the interrupted task's failure was recorded */
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(!ready_has(&f, s));
	CHECK_STR(fx_first_line(&f, "s"), "failed");
	fx_close(&f);
}

/* Names and prompts with characters JSON must escape come back whole. */
static void test_restart_escapes(void)
{
	static const char name[] = "a \"quoted\" \\ name \xc3\xa9";
	static const char prompt[] =
		"\"quotes\", back\\slash, tab\t, cr\r in the middle, "
		"\xf0\x9f\x98\x80 and \xe2\x80\xa8";
	struct core_task t;
	struct fx f;
	uint64_t seq;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, name, prompt);
	CHECK(seq != 0);
	CHECK(fx_send(&f, seq, "t-\"1\"") == 0);
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 1);
	CHECK(fx_is_job(&f, name));
	CHECK(core_task_get(f.c, seq, &t) == 0);
	CHECK_STR(t.name, name);
	CHECK_STR(t.prompt, prompt);
	CHECK(t.prompt_len == strlen(prompt));
	CHECK_STR(t.task_id, "t-\"1\"");
	core_task_free(&t);
	/* no new task for the same text */
	CHECK(fx_submit(&f, name, prompt) == 0);
	CHECK(fx_complete(&f, seq) == 0);
	CHECK(fx_reopen(&f));
	CHECK_STR(fx_xattr(&f, "a \"quoted\" \\ name \xc3\xa9.png",
			   "user.gptimgfs.prompt"),
		  prompt);
	fx_close(&f);
}

/* A crash after the images were published but before the record said
 * completed: completing again keeps the names, nothing moves to history. */
static void test_crash_while_publishing(void)
{
	struct core_output o1, o2;
	struct fx f;
	uint64_t s1, s2;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(s1 != 0);
	s2 = fx_done(&f, "cat", "a black cat", "t-2");
	CHECK(s2 != 0);
	CHECK(fx_n_outputs(&f) == 2);
	CHECK(core_output_find(f.c, "cat.png", &o1) == 0);
	CHECK(edit_record(&f, s2, "\"state\":\"completed\"",
			  "\"state\":\"downloading\""));

	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(ready_has(&f, s2));
	CHECK_STR(fx_first_line(&f, "cat"), "downloading");
	CHECK(core_task_completed(f.c, s2) == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "outputs"), "out/cat.png");
	CHECK(fx_n_outputs(&f) == 2);
	CHECK(core_output_find(f.c, "cat.png", &o2) == 0);
	CHECK_STR(o2.backing, o1.backing);
	CHECK(o2.id == o1.id);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"),
		  "a black cat");
	fx_close(&f);
}

/* A task superseded while in flight is still in flight after a restart. */
static void test_restart_superseded(void)
{
	struct fx f;
	uint64_t s1, s2;
	char **names;
	size_t n;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_submit(&f, "cat", "a cat");
	CHECK(fx_send(&f, s1, "t-1") == 0);
	s2 = fx_submit(&f, "cat", "a dog");
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 2 && ready_has(&f, s1) && ready_has(&f, s2));
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK(fx_complete(&f, s1) == 0);
	names = core_output_names(f.c, &n);
	CHECK(n == 1 && fx_matches(names[0], "^cat~" FX_STAMP "\\.png$"));
	core_free_names(names, n);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	/* the completed task stays until the new one is sent
	 * (core_table_keeps), also across a restart */
	CHECK(fx_entries(&f, "records") == 2);
	CHECK(fx_reopen(&f));
	CHECK(fx_entries(&f, "records") == 2);
	CHECK(core_task_sending(f.c, s2) == 0);
	CHECK(fx_entries(&f, "records") == 1);
	fx_close(&f);
}

static void test_corrupt_and_leftovers(void)
{
	struct fx f;
	uint64_t seq;
	char path[256];

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "cat", "a cat");
	CHECK(fx_send(&f, seq, "t-1") == 0);
	core_close(f.c);
	f.c = NULL;

	snprintf(path, sizeof(path), "%s/records", f.data);
	{
		int dfd = open(path, O_RDONLY | O_DIRECTORY);

		CHECK(fx_write_at(dfd, "0000000000000099.json",
				  "{\"seq\":99,ga", 12) == 0);
		CHECK(fx_write_at(dfd, "0000000000000098.json",
				  "{\"seq\":98,\"name\":\"x\"}", 21) == 0);
		CHECK(fx_write_at(dfd, ".x.tmp", "half", 4) == 0);
		close(dfd);
	}
	snprintf(path, sizeof(path), "%s/tmp/dl-abcdef", f.data);
	CHECK(fx_write_at(AT_FDCWD, path, "partial", 7) == 0);
	/* out/ metadata that is garbage, names no image, or names a path */
	snprintf(path, sizeof(path), "%s/out", f.data);
	{
		static const char *const metas[][2] = {
			{ "junk.png.json", "{\"name\":" },
			{ "gone.png.json",
			  "{\"name\":\"gone.png\",\"job\":\"gone\",\"id\":16,"
			  "\"prompt\":\"p\",\"task_id\":\"t\",\"options\":\"{}\","
			  "\"url\":\"u\"}" },
			{ "evil.png", "\x89PNG\r\n\x1a\n" },
			{ "evil.png.json",
			  "{\"name\":\"../evil.png\",\"job\":\"e\",\"id\":32,"
			  "\"prompt\":\"p\",\"task_id\":\"t\",\"options\":\"{}\","
			  "\"url\":\"u\"}" },
		};
		int ofd = open(path, O_RDONLY | O_DIRECTORY);
		size_t i;

		for (i = 0; i < sizeof(metas) / sizeof(metas[0]); i++)
			CHECK(fx_write_at(ofd, metas[i][0], metas[i][1],
					  strlen(metas[i][1])) == 0);
		close(ofd);
	}

	CHECK(fx_core_open(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 1 && f.calls.ready[0] == seq);
	CHECK_STR(fx_first_line(&f, "cat"), "pending");
	CHECK(!fx_exists(&f, "records/0000000000000099.json"));
	CHECK(fx_exists(&f, "records/.0000000000000099.json.corrupt"));
	CHECK(fx_exists(&f, "records/.0000000000000098.json.corrupt"));
	CHECK(!fx_exists(&f, "records/.x.tmp"));
	CHECK(fx_entries(&f, "tmp") == 0);
	CHECK(!fx_is_job(&f, "x"));
	CHECK(fx_n_outputs(&f) == 0);

	/* set aside stays set aside, and does not stop the next start */
	CHECK(fx_reopen(&f));
	CHECK(fx_exists(&f, "records/.0000000000000099.json.corrupt"));
	CHECK_STR(fx_first_line(&f, "cat"), "pending");
	/* the numbers set aside are never used again, after a restart too
	 * (the task may have been sent), so nothing is renamed over them */
	CHECK(fx_submit(&f, "dog", "a dog") == 100);
	CHECK_STR(fx_first_line(&f, "dog"), "queued");
	fx_close(&f);
}

static void test_lock_and_mode(void)
{
	static const struct core_defaults def = { "auto", "1k", true };
	const char *subdirs[] = { "", "/jobs", "/records", "/out", "/tmp" };
	char err[512] = "", path[256];
	struct core *second;
	struct stat st;
	struct fx f;
	size_t i;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", f.data, subdirs[i]);
		CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
		if ((st.st_mode & 07777) != 0700)
			fprintf(stderr, "%s: mode %o\n", path,
				st.st_mode & 07777);
		CHECK((st.st_mode & 07777) == 0700);
	}
	second = core_open(f.data, &def, err, sizeof(err));
	CHECK(second == NULL);
	CHECK(strstr(err, "in use") != NULL);
	CHECK(strstr(err, f.data) != NULL);
	core_close(second);

	/* once the first is closed, the directory is free */
	core_close(f.c);
	second = core_open(f.data, &def, err, sizeof(err));
	CHECK(second != NULL);
	f.c = second;

	/* missing parents are made too, 0700 */
	snprintf(path, sizeof(path), "%s/deep/er/data", f.dir);
	second = core_open(path, &def, err, sizeof(err));
	CHECK(second != NULL);
	core_close(second);
	snprintf(path, sizeof(path), "%s/deep", f.dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0700);
	snprintf(path, sizeof(path), "%s/deep/er/data/records", f.dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0700);

	/* a data dir that cannot be made: a message that names it */
	snprintf(path, sizeof(path), "%s/jobs/cat.txt", f.data);
	CHECK(fx_write_at(AT_FDCWD, path, "x", 1) == 0);
	snprintf(path, sizeof(path), "%s/jobs/cat.txt/data", f.data);
	err[0] = '\0';
	CHECK(core_open(path, &def, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL);
	fx_close(&f);
}

/* Output backing files are named by seq: a seq used again would overwrite
 * an image that was paid for. */
static void test_seq_not_reused(void)
{
	struct core_output o1, o2, o3;
	struct fx f;
	uint64_t s1, s2, s3;
	char path[256], bytes[256];
	ssize_t n;
	int fd;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(s1 != 0);
	CHECK(core_output_find(f.c, "cat.png", &o1) == 0);
	CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.txt", 0) == 0);
	core_prompt_removed(f.c, "cat");
	/* its record goes away (expired, or removed by hand) */
	snprintf(path, sizeof(path), "records/%016" PRIu64 ".json", s1);
	CHECK(fx_exists(&f, path));
	snprintf(path, sizeof(path), "%s/records/%016" PRIu64 ".json", f.data,
		 s1);
	CHECK(unlink(path) == 0);

	CHECK(fx_reopen(&f));
	s2 = fx_submit(&f, "dog", "a dog");
	CHECK(s2 > s1);
	CHECK(fx_send(&f, s2, "t-2") == 0);
	CHECK(fx_complete(&f, s2) == 0);
	CHECK(core_output_find(f.c, "dog.png", &o2) == 0);
	CHECK(strcmp(o1.backing, o2.backing) != 0);
	CHECK(o1.id != o2.id);

	/* a removed job's record kept for a week, then dropped at start */
	CHECK(unlinkat(core_jobs_dirfd(f.c), "dog.txt", 0) == 0);
	core_prompt_removed(f.c, "dog");
	CHECK(edit_record(&f, s2, "\"updated\":", "\"updated\":1,\"old\":"));
	CHECK(fx_reopen(&f));
	snprintf(path, sizeof(path), "records/%016" PRIu64 ".json", s2);
	CHECK(!fx_exists(&f, path));
	s3 = fx_submit(&f, "emu", "an emu");
	CHECK(s3 > s2);
	CHECK(fx_send(&f, s3, "t-3") == 0);
	CHECK(fx_complete(&f, s3) == 0);
	CHECK(core_output_find(f.c, "emu.png", &o3) == 0);

	/* the first images are intact, bytes and metadata */
	CHECK(core_output_find(f.c, "cat.png", &o2) == 0);
	CHECK_STR(o2.backing, o1.backing);
	CHECK(o2.size == (off_t)FX_PNG_LEN);
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"), "a cat");
	CHECK_STR(fx_xattr(&f, "dog.png", "user.gptimgfs.prompt"), "a dog");
	fd = openat(core_out_dirfd(f.c), o1.backing, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, bytes, sizeof(bytes));
	CHECK(n == (ssize_t)FX_PNG_LEN &&
	      memcmp(bytes, fx_png, FX_PNG_LEN) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(fx_n_outputs(&f) == 3);
	fx_close(&f);
}

/* Read records/SEQ.json whole (for putting it back after a "crash"). */
static bool read_record(struct fx *f, uint64_t seq, char *out, size_t outsz)
{
	char path[256];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/records/%016" PRIu64 ".json", f->data,
		 seq);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	n = fread(out, 1, outsz - 1, fp);
	fclose(fp);
	out[n] = '\0';
	return n > 0;
}

static bool write_record(struct fx *f, uint64_t seq, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/records/%016" PRIu64 ".json", f->data,
		 seq);
	fp = fopen(path, "w");
	if (!fp)
		return false;
	fputs(text, fp);
	return fclose(fp) == 0;
}

/* Queued tasks a kill left behind that must not be sent at the restart:
 * one replaced by a newer submission whose record was not yet deleted, one
 * whose prompt file was removed, one whose prompt file changed. */
static void test_restart_drops_stale_queued(void)
{
	char old_record[65536];
	uint64_t s1, s2, s3, s4;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_submit(&f, "cat", "a cat");
	CHECK(read_record(&f, s1, old_record, sizeof(old_record)));
	s2 = fx_submit(&f, "cat", "a dog");
	CHECK(s2 > s1 && !fx_task_exists(&f, s1));
	CHECK(write_record(&f, s1, old_record)); /* the kill came first */
	s3 = fx_submit(&f, "emu", "an emu");
	CHECK(unlinkat(core_jobs_dirfd(f.c), "emu.txt", 0) == 0);
	s4 = fx_submit(&f, "fox", "a fox");
	CHECK(fx_write_job(&f, "fox.txt", "a red fox\n") == 0);

	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(ready_has(&f, s2));
	CHECK(!ready_has(&f, s1) && !ready_has(&f, s3) && !ready_has(&f, s4));
	CHECK(f.calls.n_ready == 1);
	CHECK(!fx_task_exists(&f, s1) && !fx_task_exists(&f, s3));
	CHECK(!fx_is_job(&f, "emu"));
	CHECK_STR(fx_first_line(&f, "fox"), "failed");
	CHECK(fx_matches(fx_value(fx_status(&f, "fox"), "error"),
			 "^interrupted: jobs/fox\\.txt .*changed.*nothing was "
			 "sent"));
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	fx_close(&f);
}

int main(void)
{
	test_restart_states();
	test_restart_escapes();
	test_crash_while_publishing();
	test_restart_superseded();
	test_corrupt_and_leftovers();
	test_lock_and_mode();
	test_seq_not_reused();
	test_restart_drops_stale_queued();
	return check_result("test_core_store");
}
