/* The job core's submissions (gptimgfs(1), JOBS and STATUS): status after a
 * submit, no accidental spending, removed prompt files, prompt file names,
 * an API that could not be reached. No FUSE, no network: the network's
 * side is played by hand. */
#include "core_fixture.h"

#define ISO_UTC "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"

static void test_submit_queued(void)
{
	struct core_status_info info;
	struct core_task t;
	struct fx f;
	const char *s;
	char rec[64];
	uint64_t seq;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "cat", "a cat\n");
	CHECK(seq != 0);
	CHECK(f.calls.n_ready == 1);
	CHECK(f.calls.ready_recorded[0]); /* durable before the network */
	CHECK(fx_changed(&f, "cat"));
	snprintf(rec, sizeof(rec), "records/%016" PRIu64 ".json", seq);
	CHECK(fx_exists(&f, rec));

	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	s = fx_status(&f, "cat");
	CHECK(fx_matches(fx_value(s, "submitted"), ISO_UTC));
	CHECK(fx_matches(fx_value(s, "updated"), ISO_UTC));
	CHECK_STR(fx_value(s, "resolution"), "1k");
	CHECK_STR(fx_value(s, "aspect_ratio"), "auto");
	CHECK_STR(fx_value(s, "credits"), "4.7");
	CHECK(fx_value(s, "task_id") == NULL);
	CHECK(fx_value(s, "error") == NULL);
	CHECK(core_status(f.c, "cat", &f.text, &info) == 0);
	CHECK(info.state == TASK_QUEUED);
	CHECK(info.updated > 0);
	CHECK(core_status(f.c, "dog", &f.text, NULL) == -ENOENT);
	CHECK(fx_is_job(&f, "cat"));

	/* what the network is handed: the prompt without its newline */
	CHECK(core_task_get(f.c, seq, &t) == 0);
	CHECK_STR(t.name, "cat");
	CHECK_STR(t.prompt, "a cat");
	CHECK(t.prompt_len == 5);
	CHECK(t.state == TASK_QUEUED);
	CHECK_STR(t.opts.resolution, "1k");
	CHECK(t.task_id[0] == '\0');
	core_task_free(&t);

	/* a transient problem is a note, gone once the task moves on */
	CHECK(core_task_sending(f.c, seq) == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK(core_task_requeue(f.c, seq, "rate limited; retrying in 3 s") ==
	      0);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "note"),
		  "rate limited; retrying in 3 s");
	CHECK(core_task_requeue(f.c, seq, "again") == -ENOENT);

	/* pending shows the task id */
	CHECK(fx_send(&f, seq, "task-cat-1") == 0);
	CHECK(fx_value(fx_status(&f, "cat"), "note") == NULL);
	CHECK_STR(fx_first_line(&f, "cat"), "pending");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "task-cat-1");
	CHECK(core_task_progress(f.c, seq, TASK_PROCESSING) == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "processing");
	core_task_note(f.c, seq, "poll: timeout; retrying in 5 s");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "note"),
		  "poll: timeout; retrying in 5 s");
	CHECK(core_task_progress(f.c, seq, TASK_PROCESSING) == 0);
	CHECK(fx_value(fx_status(&f, "cat"), "note") == NULL);

	/* a prompt file that is gone by the time it is read: nothing */
	fx_clear_calls(&f);
	CHECK(core_submit(f.c, "ghost") == 0);
	CHECK(f.calls.n_ready == 0 && f.calls.n_changed == 0);
	CHECK(core_status(f.c, "ghost", &f.text, NULL) == -ENOENT);
	fx_close(&f);
}

static void test_dedup(void)
{
	struct core_task t;
	struct fx f;
	uint64_t s1, s2, s3, s4;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_submit(&f, "cat", "a cat");
	CHECK(s1 != 0);
	/* the same prompt again (trailing newlines do not count): nothing */
	fx_clear_calls(&f);
	CHECK(fx_submit(&f, "cat", "a cat\n\n") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK(fx_send(&f, s1, "t-1") == 0);
	CHECK(fx_submit(&f, "cat", "a cat") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "t-1");

	/* another sidecar: a new task; the one in flight goes on */
	CHECK(fx_write_job(&f, "cat.opts", "resolution = 2k\n") == 0);
	s2 = fx_submit(&f, "cat", "a cat");
	CHECK(s2 != 0 && s2 != s1);
	CHECK(f.calls.n_ready == 1);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "resolution"), "2k");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "credits"), "9.4");
	CHECK(core_task_get(f.c, s1, &t) == 0);
	CHECK(t.state == TASK_PENDING);
	core_task_free(&t);

	/* a failed task and the same prompt: a retry */
	CHECK(core_task_sending(f.c, s2) == 0);
	CHECK(core_task_failed(f.c, s2, "upstream_error", "boom") == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "failed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "error"),
		  "upstream_error: boom");
	fx_clear_calls(&f);
	s3 = fx_submit(&f, "cat", "a cat");
	CHECK(s3 != 0 && s3 != s2);
	CHECK(f.calls.n_ready == 1);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");

	/* a queued task superseded before it was sent is dropped */
	s4 = fx_submit(&f, "cat", "a dog");
	CHECK(s4 != 0 && s4 != s3);
	CHECK(core_task_sending(f.c, s3) == -ENOENT);
	CHECK(!fx_task_exists(&f, s3));
	CHECK(core_task_sending(f.c, s4) == 0);
	fx_close(&f);
}

/* A task superseded after it was sent completes under a history name; the
 * status shows the new task throughout. */
static void test_superseded_in_flight(void)
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
	CHECK(fx_send(&f, s1, "t-old") == 0);
	CHECK(core_task_progress(f.c, s1, TASK_PROCESSING) == 0);
	s2 = fx_submit(&f, "cat", "a black cat");
	CHECK(s2 != 0 && s2 != s1);
	CHECK(fx_complete(&f, s1) == 0);
	CHECK(f.calls.outputs_changed >= 1);

	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK(fx_value(fx_status(&f, "cat"), "task_id") == NULL);
	names = core_output_names(f.c, &n);
	CHECK(n == 1);
	CHECK(n == 1 && fx_matches(names[0], "^cat~" FX_STAMP "\\.png$"));
	if (n == 1) {
		CHECK_STR(fx_xattr(&f, names[0], "user.gptimgfs.prompt"),
			  "a cat");
		CHECK_STR(fx_xattr(&f, names[0], "user.gptimgfs.task_id"),
			  "t-old");
	}
	core_free_names(names, n);
	CHECK(core_output_find(f.c, "cat.png", &(struct core_output){ 0 }) ==
	      -ENOENT);
	/* kept until the new task is sent: should the budget refuse that one,
	 * "a cat" written again would still cost nothing */
	CHECK(fx_task_exists(&f, s1));
	CHECK(fx_entries(&f, "records") == 2);

	/* the new task then takes cat.png; the old image stays */
	CHECK(fx_send(&f, s2, "t-new") == 0);
	CHECK(!fx_task_exists(&f, s1));
	CHECK(fx_entries(&f, "records") == 1);
	CHECK(fx_complete(&f, s2) == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "outputs"), "out/cat.png");
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"),
		  "a black cat");
	CHECK(fx_n_outputs(&f) == 2);

	/* one superseded in flight that fails leaves no trace */
	s1 = fx_submit(&f, "cat", "a grey cat");
	CHECK(fx_send(&f, s1, "t-grey") == 0);
	s2 = fx_submit(&f, "cat", "a tabby cat");
	CHECK(core_task_failed(f.c, s1, "upstream_error", "boom") == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK(fx_entries(&f, "records") == 1);
	CHECK(fx_task_exists(&f, s2));
	fx_close(&f);
}

/* A task superseded while its creation request was on the wire, which the
 * API then answers "not created": it was never charged and its prompt is
 * outdated, so it is dropped rather than sent again. */
static void test_superseded_while_sending(void)
{
	struct fx f;
	uint64_t s1, s2;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_submit(&f, "cat", "a cat");
	CHECK(core_task_sending(f.c, s1) == 0);
	s2 = fx_submit(&f, "cat", "a black cat");
	CHECK(s2 != 0 && s2 != s1);
	CHECK(core_task_requeue(f.c, s1, "503; retrying") == -ENOENT);
	CHECK(core_task_sending(f.c, s1) == -ENOENT);
	CHECK(!fx_task_exists(&f, s1));
	CHECK(fx_entries(&f, "records") == 1);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK(core_task_sending(f.c, s2) == 0);
	fx_close(&f);
}

/* ---- removing jobs/NAME.txt ---- */

static void test_removed_ended(void)
{
	struct fx f;
	uint64_t seq;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(seq != 0);
	fx_clear_calls(&f);
	CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.txt", 0) == 0);
	core_prompt_removed(f.c, "cat");
	CHECK(fx_changed(&f, "cat"));
	CHECK(core_status(f.c, "cat", &f.text, NULL) == -ENOENT);
	CHECK(!fx_is_job(&f, "cat"));
	CHECK(core_output_find(f.c, "cat.png", &(struct core_output){ 0 }) ==
	      0);

	/* an editor's rename-and-rewrite: the same prompt brings it back */
	fx_clear_calls(&f);
	CHECK(fx_submit(&f, "cat", "a cat\n") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK(fx_changed(&f, "cat"));
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "t-1");
	CHECK(fx_is_job(&f, "cat"));

	/* also across a restart */
	CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.txt", 0) == 0);
	core_prompt_removed(f.c, "cat");
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(core_status(f.c, "cat", &f.text, NULL) == -ENOENT);
	CHECK(!fx_is_job(&f, "cat"));
	CHECK(fx_submit(&f, "cat", "a cat") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "t-1");
	/* a different prompt after removal is a new task */
	CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.txt", 0) == 0);
	core_prompt_removed(f.c, "cat");
	CHECK(fx_submit(&f, "cat", "a cat, again") != 0);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	fx_close(&f);
}

static void test_removed_queued(void)
{
	struct fx f;
	uint64_t seq;
	char rec[64];

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "dog", "a dog");
	snprintf(rec, sizeof(rec), "records/%016" PRIu64 ".json", seq);
	CHECK(fx_exists(&f, rec));
	fx_clear_calls(&f);
	CHECK(unlinkat(core_jobs_dirfd(f.c), "dog.txt", 0) == 0);
	core_prompt_removed(f.c, "dog");
	CHECK(fx_changed(&f, "dog"));
	CHECK(core_status(f.c, "dog", &f.text, NULL) == -ENOENT);
	CHECK(!fx_is_job(&f, "dog"));
	CHECK(core_task_sending(f.c, seq) == -ENOENT);
	CHECK(!fx_exists(&f, rec));
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 0);
	fx_close(&f);
}

static void test_removed_in_flight(void)
{
	struct fx f;
	uint64_t seq;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "fox", "a fox");
	CHECK(fx_send(&f, seq, "t-fox") == 0);
	CHECK(core_task_progress(f.c, seq, TASK_PROCESSING) == 0);
	CHECK(unlinkat(core_jobs_dirfd(f.c), "fox.txt", 0) == 0);
	core_prompt_removed(f.c, "fox");
	CHECK_STR(fx_first_line(&f, "fox"), "processing");
	CHECK(fx_is_job(&f, "fox"));

	/* a restart in between changes nothing */
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 1 && f.calls.ready[0] == seq);
	CHECK_STR(fx_first_line(&f, "fox"), "processing");

	fx_clear_calls(&f);
	CHECK(fx_complete(&f, seq) == 0);
	CHECK(fx_changed(&f, "fox"));
	CHECK(core_status(f.c, "fox", &f.text, NULL) == -ENOENT);
	CHECK(!fx_is_job(&f, "fox"));
	CHECK_STR(fx_xattr(&f, "fox.png", "user.gptimgfs.prompt"), "a fox");
	fx_close(&f);
}

/* ---- names ---- */

static void test_prompt_names(void)
{
	char name[256], file[300];

	CHECK(core_prompt_name("a.txt", name, sizeof(name)));
	CHECK_STR(name, "a");
	CHECK(core_prompt_name("a cat.v2.txt", name, sizeof(name)));
	CHECK_STR(name, "a cat.v2");
	CHECK(!core_prompt_name(".a.txt", name, sizeof(name)));
	CHECK(!core_prompt_name("a.txt~", name, sizeof(name)));
	CHECK(!core_prompt_name(".txt", name, sizeof(name)));
	CHECK(!core_prompt_name("a.opts", name, sizeof(name)));
	CHECK(!core_prompt_name("abcdef.txt", name, 4));

	memset(file, 'n', 200);
	memcpy(file + 200, ".txt", 5);
	CHECK(core_check_prompt_filename(file) == 0);
	memset(file, 'n', 201);
	memcpy(file + 201, ".txt", 5);
	CHECK(core_check_prompt_filename(file) == -ENAMETOOLONG);
	CHECK(core_check_prompt_filename("a\nb.txt") == -EINVAL);
	CHECK(core_check_prompt_filename("a\x7f.txt") == -EINVAL);
	CHECK(core_check_prompt_filename("a cat.txt") == 0);
	/* '~' is out/'s: NAME~2.png, NAME~20261125T083000Z.png */
	CHECK(core_check_prompt_filename("a~b.txt") == -EINVAL);
	CHECK(core_check_prompt_filename("~.txt") == -EINVAL);
	CHECK(core_check_prompt_filename("a~.txt") == -EINVAL);
	/* not a prompt file: anything goes */
	CHECK(core_check_prompt_filename("a\nb.swp") == 0);
	CHECK(core_check_prompt_filename("a.txt~") == 0);
	CHECK(core_check_prompt_filename("~a.swp") == 0);
	CHECK(core_check_prompt_filename(".a~b.txt.swp") == 0);
}

/* ---- unchanged since the last task sent ---- */

/* A refused attempt (here an empty prompt) shows in the status until the
 * next write; the prompt that was sent before, written again, costs
 * nothing and brings that task back. */
static void test_refused_then_same(void)
{
	struct fx f;
	uint64_t s1;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(s1 != 0);
	fx_clear_calls(&f);
	CHECK(fx_submit(&f, "cat", "") == 0); /* refused: nothing ready */
	CHECK_STR(fx_first_line(&f, "cat"), "failed");
	CHECK(strstr(fx_status(&f, "cat"), "error: invalid_input:") != NULL);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "credits"),
		  "0 (nothing was charged)");
	/* the image of the task sent stays cat.png */
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"), "a cat");
	CHECK(fx_entries(&f, "records") == 2);

	/* twice refused: still one refusal on record */
	CHECK(fx_write_job(&f, "cat.opts", "resolution = 8k\n") == 0);
	CHECK(fx_submit(&f, "cat", "a cat") == 0);
	CHECK(strstr(fx_status(&f, "cat"), "8k") != NULL);
	CHECK(fx_entries(&f, "records") == 2);

	/* the sent prompt and options again: no task, the old one is back */
	CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.opts", 0) == 0);
	fx_clear_calls(&f);
	CHECK(fx_submit(&f, "cat", "a cat\n") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK(fx_changed(&f, "cat"));
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "t-1");
	CHECK(fx_entries(&f, "records") == 1);
	fx_close(&f);
}

/* A kill between a writer's close and the release that submits loses the
 * submission: after the restart, a prompt file whose text its job never
 * asked for shows a failed task saying so, and nothing is sent. */
static void test_unsubmitted_at_restart(void)
{
	struct fx f;
	uint64_t seq;
	int n_records;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(seq != 0);
	CHECK(fx_submit(&f, "bad", "") == 0); /* refused, empty */
	CHECK(fx_write_job(&f, "cat.txt", "a black cat\n") == 0);
	CHECK(fx_write_job(&f, "new.txt", "a new job\n") == 0);
	CHECK(fx_write_job(&f, "bad.txt", "\n") == 0); /* as refused */
	CHECK(fx_write_job(&f, "bad.opts", "resolution = 2k\n") == 0);
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "failed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "error"),
		  "interrupted: jobs/cat.txt changed after its last submission "
		  "(the daemon stopped before the close that ended the write "
		  "was handled, or the file changed while it was stopped); "
		  "nothing was sent, nothing was charged (write the prompt "
		  "again to send it)");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "credits"),
		  "0 (nothing was charged)");
	CHECK_STR(fx_first_line(&f, "new"), "failed");
	CHECK(strstr(fx_status(&f, "bad"), "invalid_input") != NULL);
	/* what the start recorded reads back whole: another start sets no
	 * record aside and records nothing new */
	n_records = fx_entries(&f, "records");
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(fx_entries(&f, "records") == n_records);
	CHECK_STR(fx_first_line(&f, "cat"), "failed");
	CHECK_STR(fx_first_line(&f, "new"), "failed");
	/* the image of the task sent stays; its text again costs nothing */
	CHECK_STR(fx_xattr(&f, "cat.png", "user.gptimgfs.prompt"), "a cat");
	CHECK(fx_submit(&f, "cat", "a cat") == 0);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "t-1");
	/* an unsubmitted text written again is sent; a restart now finds
	 * every file as submitted */
	CHECK(fx_submit(&f, "new", "a new job") != 0);
	CHECK(fx_reopen(&f));
	CHECK_STR(fx_first_line(&f, "new"), "queued");
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	fx_close(&f);
}

/* ino of records/SEQ.json: a write replaces the file (a new inode). */
static ino_t record_ino(struct fx *f, uint64_t seq)
{
	char path[200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/records/%016" PRIu64 ".json", f->data,
		 seq);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static time_t task_unreached(struct fx *f, uint64_t seq)
{
	struct core_task t;
	time_t since = -1;

	if (core_task_get(f->c, seq, &t) == 0) {
		since = t.unreached;
		core_task_free(&t);
	}
	return since;
}

/* A creation that could not reach the API: queued again, its first such
 * try recorded (a restart keeps it); notes while it waits write nothing;
 * an answer from the API ends the wait. */
static void test_unreached(void)
{
	time_t before = time(NULL), since = 0, again = 0;
	struct fx f;
	uint64_t seq;
	ino_t ino;
	int i;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "fox", "a fox in the fog");
	CHECK(task_unreached(&f, seq) == 0);
	CHECK(core_task_sending(f.c, seq) == 0);
	CHECK(core_task_unreached(f.c, seq, "cannot reach the API (try 1)",
				  &since) == 0);
	CHECK(since >= before && since <= time(NULL));
	CHECK_STR(fx_first_line(&f, "fox"), "queued");
	CHECK_STR(fx_value(fx_status(&f, "fox"), "note"),
		  "cannot reach the API (try 1)");
	ino = record_ino(&f, seq);
	CHECK(ino != 0);
	for (i = 2; i < 50; i++) {
		char note[64];

		snprintf(note, sizeof(note), "cannot reach the API (try %d)",
			 i);
		core_task_note(f.c, seq, note);
	}
	CHECK_STR(fx_value(fx_status(&f, "fox"), "note"),
		  "cannot reach the API (try 49)");
	CHECK(record_ino(&f, seq) == ino);
	/* the first try stays the start of the wait */
	CHECK(core_task_sending(f.c, seq) == 0);
	CHECK(core_task_unreached(f.c, seq, "try 50", &again) == 0);
	CHECK(again == since);
	CHECK(fx_reopen(&f));
	CHECK(task_unreached(&f, seq) == since);
	/* the API answered: the wait is over */
	CHECK(core_task_sending(f.c, seq) == 0);
	CHECK(core_task_requeue(f.c, seq, "retry 2 of 5 after 503") == 0);
	CHECK(task_unreached(&f, seq) == 0);
	CHECK(fx_reopen(&f));
	CHECK(task_unreached(&f, seq) == 0);
	fx_close(&f);
}

int main(void)
{
	test_submit_queued();
	test_unreached();
	test_dedup();
	test_superseded_in_flight();
	test_superseded_while_sending();
	test_removed_ended();
	test_removed_queued();
	test_removed_in_flight();
	test_prompt_names();
	test_refused_then_same();
	test_unsubmitted_at_restart();
	return check_result("test_core_submit");
}
