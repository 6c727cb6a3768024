/* The job core's submissions of invalid input (gptimgfs(1), JOBS and
 * STATUS): the task fails at once, says why and shows the options it
 * knows; the limits themselves are accepted. */
#include "core_fixture.h"

/* ---- invalid input ---- */

struct bad_input {
	const char *name;
	const char *prompt; /* NULL: a generated one, see below */
	size_t prompt_len;
	const char *sidecar; /* "NAME.opts" or "NAME.json" */
	const char *sidecar_text;
	const char *sidecar2;
	const char *sidecar2_text;
	const char *want; /* in the error line */
};

static const struct bad_input bad_inputs[] = {
	{ "badline", "a cat", 5, "badline.opts",
	  "resolution = 2k\ncolour = red\n", NULL, NULL,
	  "invalid_input: jobs/badline.opts: line 2: unknown key" },
	{ "badvalue", "a cat", 5, "badvalue.json", "{\"resolution\":\"8k\"}",
	  NULL, NULL, "invalid_input: jobs/badvalue.json" },
	{ "both", "a cat", 5, "both.opts", "resolution = 2k\n", "both.json",
	  "{}", "invalid_input: jobs/both.opts and jobs/both.json both exist" },
	{ "nul", "a\0cat", 5, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/nul.txt: prompt has a NUL byte at byte offset 1" },
	{ "utf8", "a \xff cat", 7, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/utf8.txt: prompt is not valid UTF-8" },
	{ "long", NULL, 20001, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/long.txt: prompt has 20001 characters" },
	{ "huge", NULL, 1024 * 1024 + 1, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/huge.txt: larger than 1 MiB" },
	{ "empty", "\n", 1, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/empty.txt: prompt is empty or only white space, "
	  "and no image_url" },
	{ "blank", "   \n\t \n", 7, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/blank.txt: prompt is empty or only white space, "
	  "and no image_url" },
	/* a prompt file an older version let be created */
	{ "a~b", "a cat", 5, NULL, NULL, NULL, NULL,
	  "invalid_input: jobs/a~b.txt: the name holds '~'" },
	{ "fourk", "a cat", 5, "fourk.opts", "resolution = 4k\n", NULL, NULL,
	  "invalid_input: jobs/fourk.opts: line 1: key 'resolution': "
	  "resolution 4k needs an aspect_ratio" },
};
#define N_BAD (sizeof(bad_inputs) / sizeof(bad_inputs[0]))

static void write_bad_input(struct fx *f, const struct bad_input *b)
{
	char file[64];
	char *big = NULL;
	const char *prompt = b->prompt;

	if (!prompt) {
		big = malloc(b->prompt_len);
		memset(big, 'x', b->prompt_len);
		prompt = big;
	}
	snprintf(file, sizeof(file), "%s.txt", b->name);
	CHECK(fx_write_at(core_jobs_dirfd(f->c), file, prompt, b->prompt_len) ==
	      0);
	if (b->sidecar)
		CHECK(fx_write_job(f, b->sidecar, b->sidecar_text) == 0);
	if (b->sidecar2)
		CHECK(fx_write_job(f, b->sidecar2, b->sidecar2_text) == 0);
	free(big);
}

static void test_invalid_input(void)
{
	char *before[N_BAD];
	struct fx f;
	size_t i;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	for (i = 0; i < N_BAD; i++) {
		const struct bad_input *b = &bad_inputs[i];
		const char *s;

		fx_clear_calls(&f);
		write_bad_input(&f, b);
		CHECK(core_submit(f.c, b->name) == 0);
		CHECK(f.calls.n_ready == 0);
		CHECK(fx_changed(&f, b->name));
		s = fx_status(&f, b->name);
		before[i] = strdup(s ? s : "");
		CHECK_STR(fx_first_line(&f, b->name), "failed");
		if (!strstr(before[i], b->want))
			fprintf(stderr, "%s: want \"%s\" in:\n%s", b->name,
				b->want, before[i]);
		CHECK(strstr(before[i], b->want) != NULL);
		CHECK(fx_value(before[i], "task_id") == NULL);
		CHECK(fx_is_job(&f, b->name));
	}

	/* a restart shows the same; no record was set aside as corrupt */
	CHECK(fx_reopen(&f));
	core_start(f.c);
	CHECK(f.calls.n_ready == 0);
	CHECK(fx_entries(&f, "records") == (int)N_BAD);
	for (i = 0; i < N_BAD; i++) {
		const char *s = fx_status(&f, bad_inputs[i].name);

		CHECK_STR(s ? s : "(no status)", before[i]);
		free(before[i]);
	}

	/* the same bad input again fails again (a failed task is retried) */
	CHECK(core_submit(f.c, "nul") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_first_line(&f, "nul"), "failed");
	/* fixed: sent */
	CHECK(fx_submit(&f, "nul", "a cat") != 0);
	CHECK_STR(fx_first_line(&f, "nul"), "queued");
	fx_close(&f);
}

/* The options a refused task's status shows: its sidecar's, also when
 * the prompt was refused; none when the sidecar was (they are not known),
 * also after a restart. */
static void test_refused_options(void)
{
	static const struct {
		const char *name, *prompt, *sidecar, *text;
		const char *resolution, *aspect_ratio; /* NULL: absent */
	} cases[] = {
		{ "utf8", "a \xff cat", "utf8.opts",
		  "resolution = 2k\naspect_ratio = 16:9\n", "2k", "16:9" },
		{ "a~b", "a cat", "a~b.json",
		  "{\"resolution\":\"2k\",\"aspect_ratio\":\"3:2\"}", "2k",
		  "3:2" },
		{ "empty", "\n", "empty.opts", "resolution = 2k\n", "2k",
		  "auto" },
		{ "badopt", "a cat", "badopt.opts",
		  "resolution = 2k\ncolour = red\n", NULL, NULL },
		{ "badboth", "a \xff cat", "badboth.json", "{\"resolution\":1}",
		  NULL, NULL },
	};
	struct fx f;
	size_t i;
	int pass;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(fx_write_job(&f, cases[i].sidecar, cases[i].text) == 0);
		CHECK(fx_submit(&f, cases[i].name, cases[i].prompt) == 0);
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const char *s;

			CHECK_STR(fx_first_line(&f, cases[i].name), "failed");
			s = fx_status(&f, cases[i].name);
			CHECK(s && strstr(s, "error: invalid_input: ") != NULL);
			/* both refused: both errors, the prompt's first */
			if (strcmp(cases[i].name, "badboth") == 0)
				CHECK(s && strstr(s, "not valid UTF-8 at byte "
						     "offset 2; and "
						     "jobs/badboth.json: "
						     "line 1: key "
						     "'resolution'") != NULL);
			if (cases[i].resolution) {
				CHECK_STR(fx_value(s, "resolution"),
					  cases[i].resolution);
				CHECK_STR(fx_value(s, "aspect_ratio"),
					  cases[i].aspect_ratio);
			} else {
				CHECK(fx_value(s, "resolution") == NULL);
				CHECK(fx_value(s, "aspect_ratio") == NULL);
			}
		}
		CHECK(fx_reopen(&f));
		core_start(f.c);
		CHECK(f.calls.n_ready == 0);
	}
	fx_close(&f);
}

/* The limits themselves are accepted. */
static void test_valid_edges(void)
{
	struct core_task t;
	struct fx f;
	uint64_t seq;
	char *p;
	size_t i;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	/* 20,000 characters of two bytes each, and a newline */
	p = malloc(40002);
	for (i = 0; i < 20000; i++)
		memcpy(p + 2 * i, "\xc3\xa9", 2);
	memcpy(p + 40000, "\n", 2);
	CHECK(fx_submit(&f, "edge", p) != 0);
	CHECK_STR(fx_first_line(&f, "edge"), "queued");
	free(p);
	/* an empty prompt with a reference image: an edit without text */
	CHECK(fx_write_job(&f, "edit.opts",
			   "image_url = https://img.example/a.png\n") == 0);
	CHECK(fx_submit(&f, "edit", "") != 0);
	CHECK_STR(fx_first_line(&f, "edit"), "queued");
	/* a blank one is an empty one: sent without text */
	CHECK(fx_write_job(&f, "blank.opts",
			   "image_url = https://img.example/a.png\n") == 0);
	seq = fx_submit(&f, "blank", " \xe3\x80\x80\t\n");
	CHECK(seq != 0);
	CHECK(core_task_get(f.c, seq, &t) == 0);
	CHECK(t.prompt_len == 0);
	core_task_free(&t);
	CHECK(fx_reopen(&f));
	CHECK_STR(fx_first_line(&f, "edit"), "queued");
	core_start(f.c);
	CHECK(f.calls.n_ready == 3);
	fx_close(&f);
}

int main(void)
{
	test_invalid_input();
	test_refused_options();
	test_valid_edges();
	return check_result("test_core_refused");
}
