/* Writes in progress (core_write_begin / core_write_end): while a prompt
 * file is open in a handle that changed it, status/NAME says queued, the
 * job is listed and wait/ would block; after the end the job's own state
 * is back, and every change is announced so parked wait/ reads look
 * again. No FUSE: the calls fs/jobs_area.c makes are made by hand. */
#include "core_fixture.h"

#define NOTE                                                    \
	"jobs/%s.txt is being written; it is submitted at its " \
	"last close"

static const char *note_for(const char *name)
{
	static char note[300];

	snprintf(note, sizeof(note), NOTE, name);
	return note;
}

/* A job that has no task yet: status exists only while it is written. */
static void test_new_job(void)
{
	struct core_status_info info;
	struct fx f;
	const char *s;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(core_write_begin(f.c, "new") == 0);
	CHECK(fx_changed(&f, "new"));
	CHECK(core_status(f.c, "new", &f.text, &info) == 0);
	CHECK(info.state == TASK_QUEUED); /* wait/ treats it as not ended */
	CHECK(info.updated > 0);
	CHECK_STR(fx_first_line(&f, "new"), "queued");
	s = fx_status(&f, "new");
	CHECK_STR(fx_value(s, "note"), note_for("new"));
	CHECK(fx_matches(fx_value(s, "updated"),
			 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"));
	CHECK(fx_is_job(&f, "new"));
	/* nothing was read, nothing is to be sent */
	CHECK(f.calls.n_ready == 0);
	CHECK(fx_entries(&f, "records") == 0);

	/* counted: a second begin needs a second end */
	fx_clear_calls(&f);
	CHECK(core_write_begin(f.c, "new") == 0);
	CHECK(f.calls.n_changed == 0);
	core_write_end(f.c, "new");
	CHECK(f.calls.n_changed == 0);
	CHECK_STR(fx_first_line(&f, "new"), "queued");
	core_write_end(f.c, "new");
	CHECK(fx_changed(&f, "new"));
	CHECK(fx_status(&f, "new") == NULL);
	CHECK(!fx_is_job(&f, "new"));

	/* an end without a begin changes nothing */
	fx_clear_calls(&f);
	core_write_end(f.c, "new");
	CHECK(f.calls.n_changed == 0);
	fx_close(&f);
}

/* A job that exists: its own state is hidden while it is written, listed
 * once, and back unchanged when the submission finds nothing new. */
static void test_rewrite_unchanged(void)
{
	struct fx f;
	uint64_t seq;
	size_t n;
	char **names;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done(&f, "cat", "a cat\n", "task-cat-1");
	CHECK(seq != 0);
	CHECK_STR(fx_first_line(&f, "cat"), "completed");

	fx_clear_calls(&f);
	CHECK(core_write_begin(f.c, "cat") == 0);
	CHECK(fx_changed(&f, "cat"));
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	CHECK(fx_value(fx_status(&f, "cat"), "task_id") == NULL);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "note"), note_for("cat"));
	names = core_job_names(f.c, &n);
	CHECK(n == 1);
	core_free_names(names, n);

	/* the same text again: no task, and the mark still shows until its
	 * end, which brings the completed task back and says so */
	CHECK(fx_write_job(&f, "cat.txt", "a cat\n") == 0);
	CHECK(core_submit(f.c, "cat") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	fx_clear_calls(&f);
	core_write_end(f.c, "cat");
	CHECK(fx_changed(&f, "cat"));
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "task-cat-1");
	fx_close(&f);
}

/* A new text: the submission happens under the mark, so the status goes
 * from the mark's queued to the new task's queued, never back to the old
 * completed task. */
static void test_rewrite_changed(void)
{
	struct fx f;
	uint64_t seq, seq2;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_done(&f, "dog", "a dog\n", "task-dog-1");
	CHECK(seq != 0);

	CHECK(core_write_begin(f.c, "dog") == 0);
	seq2 = fx_submit(&f, "dog", "a wet dog\n");
	CHECK(seq2 != 0 && seq2 != seq);
	CHECK_STR(fx_value(fx_status(&f, "dog"), "note"), note_for("dog"));
	core_write_end(f.c, "dog");
	CHECK_STR(fx_first_line(&f, "dog"), "queued");
	CHECK(fx_value(fx_status(&f, "dog"), "note") == NULL);
	CHECK(fx_value(fx_status(&f, "dog"), "submitted") != NULL);

	/* two jobs written at once are told apart */
	CHECK(core_write_begin(f.c, "a") == 0);
	CHECK(core_write_begin(f.c, "b") == 0);
	core_write_end(f.c, "a");
	CHECK(fx_status(&f, "a") == NULL);
	CHECK_STR(fx_first_line(&f, "b"), "queued");
	CHECK(fx_is_job(&f, "b") && fx_is_job(&f, "dog"));
	core_write_end(f.c, "b");

	/* in memory only: a restart knows no writes in progress */
	CHECK(core_write_begin(f.c, "c") == 0);
	CHECK(fx_reopen(&f));
	CHECK(fx_status(&f, "c") == NULL);
	CHECK(!fx_is_job(&f, "c"));
	fx_close(&f);
}

int main(void)
{
	test_new_job();
	test_rewrite_unchanged();
	test_rewrite_changed();
	return check_result("test_core_writing");
}
