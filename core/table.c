/* The task table: every task with a record, sorted by seq. A job's current
 * task is its newest one, and what status/NAME shows. Its reference task is
 * the newest one not refused before the API created it: what a new
 * submission is compared with, and what takes NAME.EXT in out/. */
#include <errno.h>
#include <stdint.h>
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

/* FNV-1a: names are short and chosen by users, not by an attacker who
 * gains anything from a long chain but a slower lookup of their own jobs */
static size_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return (size_t)h;
}

static struct task **bucket_of(const struct core *c, const char *name)
{
	return &c->by_name[name_hash(name) & (c->n_buckets - 1)];
}

/* t into its chain, before the first older task. */
static void chain_insert(struct core *c, struct task *t)
{
	struct task **at = bucket_of(c, t->name);

	while (*at && (*at)->seq > t->seq)
		at = &(*at)->name_next;
	t->name_next = *at;
	*at = t;
}

/* Room for n tasks at one a bucket at most: the chains stay short. 0 or
 * -ENOMEM (the index is then as it was). */
static int index_reserve(struct core *c, size_t n)
{
	size_t want = c->n_buckets ? c->n_buckets : 64, i;
	struct task **old = c->by_name, *t, *next;
	size_t n_old = c->n_buckets;

	while (want < n && want < TABLE_TASKS_MAX)
		want *= 2;
	if (want == c->n_buckets)
		return 0;
	c->by_name = calloc(want, sizeof(*c->by_name));
	if (!c->by_name) {
		c->by_name = old;
		return -ENOMEM;
	}
	c->n_buckets = want;
	for (i = 0; i < n_old; i++) {
		for (t = old[i]; t; t = next) {
			next = t->name_next;
			chain_insert(c, t);
		}
	}
	free(old);
	return 0;
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
	if (index_reserve(c, c->n_tasks + 1) < 0)
		return -ENOMEM;
	memmove(c->tasks + i + 1, c->tasks + i,
		(c->n_tasks - i) * sizeof(*c->tasks));
	c->tasks[i] = t;
	c->n_tasks++;
	chain_insert(c, t);
	if (t->seq > c->last_seq)
		c->last_seq = t->seq;
	return 0;
}

void core_table_remove(struct core *c, struct task *t)
{
	bool found;
	size_t i = table_index(c, t->seq, &found);
	struct task **at;

	DEBUGASSERT(core_lock_held(c));
	if (!found)
		return;
	memmove(c->tasks + i, c->tasks + i + 1,
		(c->n_tasks - i - 1) * sizeof(*c->tasks));
	c->n_tasks--;
	at = bucket_of(c, t->name);
	while (*at && *at != t)
		at = &(*at)->name_next;
	DEBUGASSERT(*at == t);
	if (*at)
		*at = t->name_next;
	t->name_next = NULL;
}

void core_table_free(struct core *c)
{
	size_t i;

	for (i = 0; i < c->n_tasks; i++)
		core_task_destroy(c->tasks[i]);
	free(c->tasks);
	free(c->by_name);
	c->tasks = c->by_name = NULL;
	c->n_tasks = c->cap_tasks = c->n_buckets = 0;
}

/* Newest first: the first task found with the name is the current one. */
struct task *core_table_current(const struct core *c, const char *name)
{
	struct task *t;

	if (!c->n_buckets)
		return NULL;
	for (t = *bucket_of(c, name); t; t = t->name_next) {
		if (strcmp(t->name, name) == 0)
			return t;
	}
	return NULL;
}

struct task *core_table_older(const struct task *t)
{
	struct task *o;

	for (o = t->name_next; o; o = o->name_next) {
		if (strcmp(o->name, t->name) == 0)
			return o;
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
	struct task *t;

	if (!c->n_buckets)
		return NULL;
	for (t = *bucket_of(c, name); t; t = t->name_next) {
		if (strcmp(t->name, name) == 0 && !core_task_is_refused(t))
			return t;
	}
	return NULL;
}

bool core_table_keeps(const struct core *c, const struct task *t)
{
	const struct task *newer;

	if (t->state != TASK_QUEUED && !core_task_state_ended(t->state))
		return true; /* in flight: its credits are spent */
	if (!c->n_buckets)
		return true;
	/* the chain holds the newer tasks first */
	for (newer = *bucket_of(c, t->name); newer && newer->seq > t->seq;
	     newer = newer->name_next) {
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
