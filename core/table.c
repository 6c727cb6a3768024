/* The task table: every task with a record, sorted by seq. A job's current
 * task is its newest one, and what status/NAME shows. Its reference task is
 * the newest one not refused before the API created it: what a new
 * submission is compared with, and what takes NAME.EXT in out/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "util/array.h"

/* Far beyond any store, but a bound: a runaway count fails as ENOMEM. */
#define TABLE_TASKS_MAX ((size_t)1 << 24)

static size_t table_index(const struct core *c, uint64_t seq, bool *found)
{
	size_t lo = 0, hi = c->n_tasks;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->tasks[mid]->seq == seq) {
			*found = true;
			return mid;
		}
		if (c->tasks[mid]->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct task *core_table_find(const struct core *c, uint64_t seq)
{
	bool found;
	size_t i = table_index(c, seq, &found);

	return found ? c->tasks[i] : NULL;
}

int core_table_insert(struct core *c, struct task *t)
{
	bool found;
	size_t i = table_index(c, t->seq, &found);
	struct task **grown;

	DEBUGASSERT(core_lock_held(c));
	if (found)
		return -EEXIST;
	grown = array_reserve(c->tasks, c->n_tasks, &c->cap_tasks,
			      sizeof(*grown), TABLE_TASKS_MAX);
	if (!grown)
		return -ENOMEM;
	c->tasks = grown;
	memmove(c->tasks + i + 1, c->tasks + i,
		(c->n_tasks - i) * sizeof(*c->tasks));
	c->tasks[i] = t;
	c->n_tasks++;
	if (t->seq > c->last_seq)
		c->last_seq = t->seq;
	return 0;
}

void core_table_remove(struct core *c, struct task *t)
{
	bool found;
	size_t i = table_index(c, t->seq, &found);

	DEBUGASSERT(core_lock_held(c));
	if (!found)
		return;
	memmove(c->tasks + i, c->tasks + i + 1,
		(c->n_tasks - i - 1) * sizeof(*c->tasks));
	c->n_tasks--;
}

/* Newest first: the first task found with the name is the current one. */
struct task *core_table_current(const struct core *c, const char *name)
{
	size_t i;

	for (i = c->n_tasks; i-- > 0;) {
		if (strcmp(c->tasks[i]->name, name) == 0)
			return c->tasks[i];
	}
	return NULL;
}

bool core_table_is_current(const struct core *c, const struct task *t)
{
	return core_table_current(c, t->name) == t;
}

bool core_task_is_refused(const struct task *t)
{
	return t->state == TASK_FAILED && t->charge == CHARGE_NONE;
}

struct task *core_table_reference(const struct core *c, const char *name)
{
	size_t i;

	for (i = c->n_tasks; i-- > 0;) {
		if (strcmp(c->tasks[i]->name, name) == 0 &&
		    !core_task_is_refused(c->tasks[i]))
			return c->tasks[i];
	}
	return NULL;
}

bool core_table_keeps(const struct core *c, const struct task *t)
{
	bool found;
	size_t i = table_index(c, t->seq, &found);

	if (t->state != TASK_QUEUED && !core_task_state_ended(t->state))
		return true; /* in flight: its credits are spent */
	for (i += found; i < c->n_tasks; i++) {
		const struct task *newer = c->tasks[i];

		if (strcmp(newer->name, t->name) != 0)
			continue;
		if (t->state != TASK_COMPLETED || newer->charge != CHARGE_NONE)
			return false;
	}
	return true;
}

/* What status/NAME shows: the current task, unless the job was removed and
 * its task has ended. */
struct task *core_table_visible(const struct core *c, const char *name)
{
	struct task *t = core_table_current(c, name);

	if (t && t->forgotten && core_task_state_ended(t->state))
		return NULL;
	return t;
}
