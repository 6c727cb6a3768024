/* The task table, task states by elapsed time, and the credits ledger. */
#include "tasks.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/array.h"
#include "util/json.h"

void sim_tasks_init(struct sim_tasks *t, int64_t balance)
{
	t->v = NULL;
	t->n = 0;
	t->cap = 0;
	t->unfinished = 0;
	t->peak = 0;
	t->ledger.balance = balance;
	t->ledger.purchased = balance;
	t->ledger.consumed = 0;
}

static void task_free(struct sim_task *task)
{
	free(task->callback_url);
	free(task);
}

void sim_tasks_reset(struct sim_tasks *t, int64_t balance)
{
	for (size_t i = 0; i < t->n; i++)
		task_free(t->v[i]);
	t->n = 0;
	t->unfinished = 0;
	t->peak = 0;
	t->ledger.balance = balance;
	t->ledger.purchased = balance;
	t->ledger.consumed = 0;
}

void sim_tasks_free(struct sim_tasks *t)
{
	sim_tasks_reset(t, 0);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

/* A random (version 4) UUID. */
static int make_id(char out[SIM_TASK_ID_LEN + 1])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, SIM_TASK_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
		 r[10], r[11], r[12], r[13], r[14], r[15]);
	return 0;
}

static int grow(struct sim_tasks *t)
{
	struct sim_task **v =
		array_reserve(t->v, t->n, &t->cap, sizeof(*v), SIM_TASKS_MAX);

	if (!v)
		return -1;
	t->v = v;
	return 0;
}

struct sim_task *sim_tasks_add(struct sim_tasks *t, struct sim_task *tmpl,
			       bool *insufficient)
{
	struct sim_task *task;

	*insufficient = t->ledger.balance < tmpl->price;
	if (*insufficient || grow(t) < 0)
		return NULL;
	task = malloc(sizeof(*task));
	if (!task)
		return NULL;
	*task = *tmpl;
	if (make_id(task->id) < 0) {
		free(task);
		return NULL;
	}
	tmpl->callback_url = NULL;
	task->ended = false;
	task->callback_due = false;
	t->v[t->n++] = task;
	if (++t->unfinished > t->peak)
		t->peak = t->unfinished;
	t->ledger.balance -= task->price;
	t->ledger.consumed += task->price;
	return task;
}

struct sim_task *sim_tasks_find(struct sim_tasks *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i]->id, id) == 0)
			return t->v[i];
	return NULL;
}

double sim_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double task_end(const struct sim_task *task)
{
	return task->created + task->pending_s + task->processing_s;
}

enum sim_state sim_task_state(const struct sim_task *task, double now)
{
	if (now < task->created + task->pending_s)
		return SIM_PENDING;
	if (now < task_end(task))
		return SIM_PROCESSING;
	return task->fail_code[0] ? SIM_FAILED : SIM_COMPLETED;
}

void sim_tasks_settle(struct sim_tasks *t, double now)
{
	for (size_t i = 0; i < t->n; i++) {
		struct sim_task *task = t->v[i];

		if (task->ended || now < task_end(task))
			continue;
		task->ended = true;
		t->unfinished--;
		task->callback_due = task->callback_url != NULL;
		if (task->fail_code[0]) {
			t->ledger.balance += task->price;
			t->ledger.consumed -= task->price;
		}
	}
}

bool sim_tasks_next_end(const struct sim_tasks *t, double *when)
{
	bool found = false;

	for (size_t i = 0; i < t->n; i++) {
		double end = task_end(t->v[i]);

		if (t->v[i]->ended || (found && end >= *when))
			continue;
		*when = end;
		found = true;
	}
	return found;
}

struct sim_task *sim_tasks_callback_due(struct sim_tasks *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i]->callback_due)
			return t->v[i];
	return NULL;
}

static const char *const state_names[] = {
	[SIM_PENDING] = "pending",
	[SIM_PROCESSING] = "processing",
	[SIM_COMPLETED] = "completed",
	[SIM_FAILED] = "failed",
};

static int add_output(struct buf *b, const struct sim_task *task,
		      const char *file_base)
{
	long seconds = lround(task->pending_s + task->processing_s);
	int rc;

	rc = buf_printf(b, ",\"completed_at\":%lld,\"output\":{\"urls\":[",
			(long long)task->created_at + seconds);
	for (int n = 1; n <= task->outputs; n++) {
		if (n > 1)
			rc |= buf_addstr(b, ",");
		if (task->output_url[0])
			rc |= buf_printf(b, "\"%s\"", task->output_url);
		else
			rc |= buf_printf(b, "\"%s%s-%d.png\"", file_base,
					 task->id, n);
	}
	rc |= buf_printf(b,
			 "],\"metadata\":{\"model\":\"gpt-image-2-%s\","
			 "\"costTime\":%ld}}",
			 task->image_to_image ? "image-to-image" :
						"text-to-image",
			 seconds);
	return rc;
}

/* The answer of GET /v1/tasks/{id}. file_base is known to need no JSON
 * escaping (sim_start checks the host name). */
int sim_task_json(struct buf *b, const struct sim_task *task, double now,
		  const char *file_base)
{
	enum sim_state state = sim_task_state(task, now);
	int rc;

	buf_reset(b);
	rc = buf_printf(b,
			"{\"id\":\"%s\",\"status\":\"%s\",\"model\":"
			"\"gpt-image-2\",\"created_at\":%lld",
			task->id, state_names[state],
			(long long)task->created_at);
	if (state == SIM_COMPLETED)
		rc |= add_output(b, task, file_base);
	if (state == SIM_FAILED) {
		rc |= buf_addstr(b, ",\"error\":{\"code\":");
		rc |= json_add_cstr(b, task->fail_code);
		rc |= buf_addstr(b, ",\"message\":\"simulated failure\"}");
	}
	rc |= buf_addstr(b, "}");
	return rc ? -1 : 0;
}

void sim_credits_format(char *out, size_t outlen, int64_t milli)
{
	const char *sign = milli < 0 ? "-" : "";
	uint64_t v = milli < 0 ? -(uint64_t)milli : (uint64_t)milli;
	unsigned frac = v % 1000;
	int digits = 3;

	if (frac == 0) {
		snprintf(out, outlen, "%s%" PRIu64, sign, v / 1000);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(out, outlen, "%s%" PRIu64 ".%0*u", sign, v / 1000, digits,
		 frac);
}
