/* Read permissions of a job's files (gptimgfs(1), SECURITY, Other users):
 * status/NAME, wait/NAME and the images take the read bits of the prompt
 * file at submission, kept in the task record and in each image's
 * metadata; records and images of an older version read as 0444. */
#include "core_fixture.h"
#include "core/internal.h"

static void test_mode_mapping(void)
{
	CHECK(core_read_mode(0600) == 0400);
	CHECK(core_read_mode(0644) == 0444);
	CHECK(core_read_mode(0640) == 0440);
	CHECK(core_read_mode(0604) == 0404);
	CHECK(core_read_mode(0666) == 0444);
	CHECK(core_read_mode(0777) == 0444);
	CHECK(core_read_mode(04755) == 0444);
	/* the owner always reads what is shown */
	CHECK(core_read_mode(0200) == 0400);
	CHECK(core_read_mode(0) == 0400);
	CHECK(core_read_mode(0044) == 0444);
}

/* Submit jobs/NAME.txt holding prompt, with mode, and complete it. */
static uint64_t done_with_mode(struct fx *f, const char *name,
			       const char *prompt, mode_t mode)
{
	char file[256];

	snprintf(file, sizeof(file), "%s.txt", name);
	/* fx_done rewrites the file in place: the mode stays */
	if (fx_write_job(f, file, "") < 0 ||
	    fchmodat(core_jobs_dirfd(f->c), file, mode, 0) < 0)
		return 0;
	return fx_done(f, name, prompt, prompt);
}

static mode_t status_mode(struct fx *f, const char *name)
{
	struct core_status_info info;

	info.mode = 07777;
	if (core_status(f->c, name, &f->text, &info) < 0)
		return 07777;
	return info.mode;
}

static mode_t output_mode(struct fx *f, const char *name)
{
	struct core_output o;

	return core_output_find(f->c, name, &o) == 0 ? o.mode : 07777;
}

/* The name of the image of job that is not `current`, in out/. */
static const char *history_of(struct fx *f, const char *job)
{
	static char found[256];
	size_t n, i, len = strlen(job);
	char **names = core_output_names(f->c, &n);

	found[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strncmp(names[i], job, len) == 0 && names[i][len] == '~')
			snprintf(found, sizeof(found), "%s", names[i]);
	}
	core_free_names(names, n);
	return found;
}

static void test_modes_follow_the_prompt(void)
{
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(done_with_mode(&f, "priv", "a secret", 0600) != 0);
	CHECK(done_with_mode(&f, "pub", "a square", 0644) != 0);
	CHECK(status_mode(&f, "priv") == 0400);
	CHECK(output_mode(&f, "priv.png") == 0400);
	CHECK(status_mode(&f, "pub") == 0444);
	CHECK(output_mode(&f, "pub.png") == 0444);
	/* made public later: the older image keeps its own mode */
	CHECK(done_with_mode(&f, "priv", "no secret any more", 0644) != 0);
	CHECK(status_mode(&f, "priv") == 0444);
	CHECK(output_mode(&f, "priv.png") == 0444);
	CHECK(history_of(&f, "priv")[0] != '\0');
	CHECK(output_mode(&f, history_of(&f, "priv")) == 0400);
	/* kept across a restart */
	CHECK(fx_reopen(&f));
	CHECK(status_mode(&f, "priv") == 0444);
	CHECK(output_mode(&f, "priv.png") == 0444);
	CHECK(output_mode(&f, history_of(&f, "priv")) == 0400);
	CHECK(status_mode(&f, "pub") == 0444);
	/* and once the job is gone, its history image still has it */
	CHECK(unlinkat(core_jobs_dirfd(f.c), "priv.txt", 0) == 0);
	core_prompt_removed(f.c, "priv");
	CHECK(!fx_is_job(&f, "priv"));
	CHECK(output_mode(&f, history_of(&f, "priv")) == 0400);
	fx_close(&f);
}

/* While jobs/NAME.txt is being written, the file's mode as it is now. */
static void test_mode_while_written(void)
{
	int dirfd;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	dirfd = core_jobs_dirfd(f.c);
	CHECK(done_with_mode(&f, "w", "first", 0644) != 0);
	CHECK(fchmodat(dirfd, "w.txt", 0600, 0) == 0);
	CHECK(status_mode(&f, "w") == 0444); /* the task's, until written */
	CHECK(core_write_begin(f.c, "w") == 0);
	CHECK(status_mode(&f, "w") == 0400);
	CHECK(fchmodat(dirfd, "w.txt", 0640, 0) == 0);
	CHECK(status_mode(&f, "w") == 0440);
	/* a file that cannot be seen: private */
	CHECK(unlinkat(dirfd, "w.txt", 0) == 0);
	CHECK(status_mode(&f, "w") == 0400);
	core_write_end(f.c, "w");
	fx_close(&f);
}

/* A task record without "read_mode" (an older version's), with one, and
 * with one that is no mode. */
static void test_record_read_mode(void)
{
	struct task *t = core_task_new(7, "job"), *back;
	struct buf json;
	char err[128], *member;

	buf_init(&json, 1 << 20);
	CHECK(t != NULL);
	if (!t)
		return;
	t->read_mode = 0400;
	CHECK(core_task_to_json(t, &json) == 0);
	CHECK(strstr(buf_str(&json), "\"read_mode\":256") != NULL);
	back = core_task_from_json(json.data, json.len, err, sizeof(err));
	CHECK(back && back->read_mode == 0400);
	core_task_destroy(back);

	/* an older version's record: as readable as it always was */
	member = strstr(json.data, ",\"read_mode\":256");
	CHECK(member != NULL);
	if (member) {
		memcpy(member, ",\"zzzzzzzzz\":256", 16);
		back = core_task_from_json(json.data, json.len, err,
					   sizeof(err));
		CHECK(back && back->read_mode == CORE_READ_MODE_DEFAULT);
		core_task_destroy(back);
		memcpy(member, ",\"read_mode\":999", 16);
		back = core_task_from_json(json.data, json.len, err,
					   sizeof(err));
		CHECK(back == NULL);
		core_task_destroy(back);
	}
	buf_free(&json);
	core_task_destroy(t);
}

/* out/SEQ-I.EXT.json without "read_mode": 0444. */
static void test_old_image_metadata(void)
{
	char path[256], text[4096], *member;
	struct core_output o;
	uint64_t seq;
	struct fx f;
	FILE *fp;
	size_t n;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = done_with_mode(&f, "old", "from before", 0600);
	CHECK(seq != 0 && core_output_find(f.c, "old.png", &o) == 0);
	snprintf(path, sizeof(path), "%s/out/%s.json", f.data, o.backing);
	fp = fopen(path, "r+");
	CHECK(fp != NULL);
	if (!fp) {
		fx_close(&f);
		return;
	}
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	member = strstr(text, "\"read_mode\":256,");
	CHECK(member != NULL);
	if (member) {
		memcpy(member, "\"zzzzzzzzz\":256,", 16);
		rewind(fp);
		fputs(text, fp);
	}
	fclose(fp);
	/* the edit stands for an older version's file, sealed by this store */
	snprintf(path, sizeof(path), "%s.json", o.backing);
	CHECK(fx_reseal(&f, "out", path));
	CHECK(fx_reopen(&f));
	CHECK(output_mode(&f, "old.png") == CORE_READ_MODE_DEFAULT);
	fx_close(&f);
}

int main(void)
{
	test_mode_mapping();
	test_modes_follow_the_prompt();
	test_mode_while_written();
	test_record_read_mode();
	test_old_image_metadata();
	return check_result("test_core_privacy");
}
