/* Writes in progress. While a prompt file is open in a handle that changed
 * it, its job is shown as queued with a note, and wait/NAME blocks: what
 * the file will say is not known before its last such handle goes away
 * (fs/jobs_area.c submits then, and ends the write after the submission).
 * Nothing is read or validated before that. Counted per job (two open
 * files may be the same job: one renamed over, one new), in memory only:
 * a restart has no open files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"
#include "util/array.h"

/* jobs/ files being written at once: bounded by open files long before */
#define WRITING_MAX ((size_t)1 << 20)

struct writing *core_writing_find(const struct core *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_writing; i++) {
		if (strcmp(c->writing[i].name, name) == 0)
			return &c->writing[i];
	}
	return NULL;
}

bool core_writing_below(const struct core *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->n_writing; i++) {
		if (core_path_below(c->writing[i].name, path))
			return true;
	}
	return false;
}

/* A new entry for job name, under the lock; NULL when out of memory. */
static struct writing *writing_add(struct core *c, const char *name)
{
	struct writing *w;

	w = array_reserve(c->writing, c->n_writing, &c->cap_writing, sizeof(*w),
			  WRITING_MAX);
	if (!w)
		return NULL;
	c->writing = w;
	w = &c->writing[c->n_writing];
	w->name = strdup(name);
	if (!w->name)
		return NULL;
	w->count = 0;
	w->since = time(NULL);
	c->n_writing++;
	return w;
}

int core_write_begin(struct core *c, const char *name)
{
	struct writing *w;
	bool first;

	core_lock(c);
	w = core_writing_find(c, name);
	if (!w)
		w = writing_add(c, name);
	first = w && w->count++ == 0;
	core_unlock(c);
	if (!w)
		return -ENOMEM;
	if (first)
		core_notify_job(c, name);
	return 0;
}

void core_write_end(struct core *c, const char *name)
{
	struct writing *w;
	bool ended = false;

	core_lock(c);
	w = core_writing_find(c, name);
	if (w && --w->count == 0) {
		free(w->name);
		*w = c->writing[--c->n_writing];
		ended = true;
	}
	core_unlock(c);
	/* the job's own state again (or none): parked wait/ reads look */
	if (ended)
		core_notify_job(c, name);
}

int core_writing_render(const struct writing *w, struct buf *out,
			struct core_status_info *info)
{
	char when[32];

	core_format_utc(w->since, when, sizeof(when));
	if (info) {
		info->state = TASK_QUEUED;
		info->updated = w->since;
	}
	return buf_printf(
		       out,
		       "queued\nupdated: %s\nnote: jobs/%s.txt is being written; it is "
		       "submitted at its last close\n",
		       when, w->name) < 0 ?
		       -ENOMEM :
		       0;
}

size_t core_writing_names(const struct core *c, char **names)
{
	size_t i, n = 0;

	for (i = 0; i < c->n_writing; i++) {
		if (!core_table_visible(c, c->writing[i].name))
			names[n++] = strdup(c->writing[i].name);
	}
	return n;
}

void core_writing_free(struct core *c)
{
	size_t i;

	for (i = 0; i < c->n_writing; i++)
		free(c->writing[i].name);
	free(c->writing);
}
