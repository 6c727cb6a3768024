/* status/: what a reader of status/NAME sees of a job (the task as it was
 * before a change still being recorded), and the list of the jobs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"

void core_format_utc(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *status_word(enum task_state st)
{
	/* "sending" is an implementation detail: the API has not accepted
	 * the task yet, which is what queued means to a user */
	return st == TASK_SENDING ? "queued" : core_task_state_word(st);
}

static bool any_published(const struct task *t)
{
	size_t i;

	for (i = 0; i < t->n_urls; i++) {
		if (t->published[i])
			return true;
	}
	return false;
}

/* "credits: PRICE", or 0 with the reason when the task cost nothing. */
static int render_charge(const struct task *t, struct buf *b)
{
	switch (t->charge) {
	case CHARGE_REFUNDED:
		return buf_printf(b, "credits: 0 (%.1f refunded by the API)\n",
				  core_task_price(t));
	case CHARGE_DOUBT:
		return buf_printf(b, "credits: %.1f (possibly charged)\n",
				  core_task_price(t));
	case CHARGE_NONE:
		if (t->state == TASK_FAILED)
			return buf_addstr(b, "credits: 0 (nothing was "
					     "charged)\n");
		break;
	case CHARGE_HELD:
	case CHARGE_SPENT:
		break;
	}
	return buf_printf(b, "credits: %.1f\n", core_task_price(t));
}

static int render_status(const struct task *t, struct buf *b)
{
	char when[32];
	size_t i;
	int rc = 0;

	rc |= buf_printf(b, "%s\n", status_word(t->state));
	if (t->task_id[0])
		rc |= buf_printf(b, "task_id: %s\n", t->task_id);
	core_format_utc(t->submitted, when, sizeof(when));
	rc |= buf_printf(b, "submitted: %s\n", when);
	core_format_utc(t->updated, when, sizeof(when));
	rc |= buf_printf(b, "updated: %s\n", when);
	/* not known when the sidecar was refused: the error says why, and
	 * the defaults are not what it asked for */
	if (t->opts_json)
		rc |= buf_printf(b, "resolution: %s\naspect_ratio: %s\n",
				 t->opts.resolution, t->opts.aspect_ratio);
	rc |= render_charge(t, b);
	if (any_published(t)) {
		rc |= buf_addstr(b, "outputs:");
		for (i = 0; i < t->n_urls; i++) {
			if (t->published[i])
				rc |= buf_printf(b, " out/%s", t->published[i]);
		}
		rc |= buf_addstr(b, "\n");
	}
	if (t->state == TASK_FAILED)
		rc |= buf_printf(b, "error: %s\n", t->error);
	else if (t->note[0])
		rc |= buf_printf(b, "note: %s\n", t->note);
	return rc ? -ENOMEM : 0;
}

void core_task_hold(struct task *t)
{
	struct task_shown *s;

	if (t->holds++ > 0)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return; /* readers see the change early: no worse */
	buf_init(&s->text, 1 << 20);
	if (render_status(t, &s->text) < 0) {
		buf_free(&s->text);
		free(s);
		return;
	}
	s->state = t->state;
	s->updated = t->updated;
	s->read_mode = t->read_mode;
	t->shown = s;
}

void core_task_unhold(struct task *t)
{
	if (--t->holds > 0 || !t->shown)
		return;
	buf_free(&t->shown->text);
	free(t->shown);
	t->shown = NULL;
}

/* status/NAME of t: as it was before a change still being recorded. */
static int render_shown(const struct task *t, struct buf *out,
			struct core_status_info *info)
{
	const struct task_shown *s = t->shown;

	if (info) {
		info->state = s ? s->state : t->state;
		info->updated = s ? s->updated : t->updated;
		info->mode = s ? s->read_mode : t->read_mode;
	}
	if (!s)
		return render_status(t, out);
	return buf_add(out, s->text.data, s->text.len) < 0 ? -ENOMEM : 0;
}

int core_status(struct core *c, const char *name, struct buf *out,
		struct core_status_info *info)
{
	struct writing *w;
	struct task *t;
	int rc = -ENOENT;

	buf_reset(out);
	core_lock(c);
	w = core_writing_find(c, name);
	t = core_table_visible(c, name);
	if (w) {
		rc = core_writing_render(w, out, info);
		/* no task says yet: the file being written does */
		if (info)
			info->mode = core_submit_read_mode(c, name);
	} else if (t) {
		rc = render_shown(t, out, info);
	}
	core_unlock(c);
	return rc;
}

bool core_job_exists(struct core *c, const char *name)
{
	bool exists;

	core_lock(c);
	exists = core_writing_find(c, name) || core_table_visible(c, name);
	core_unlock(c);
	return exists;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **core_job_names(struct core *c, size_t *count)
{
	char **names;
	size_t i, n = 0;

	core_lock(c);
	names = calloc(c->n_tasks + c->n_writing + 1, sizeof(*names));
	for (i = 0; names && i < c->n_tasks; i++) {
		if (core_table_visible(c, c->tasks[i]->name) == c->tasks[i])
			names[n++] = strdup(c->tasks[i]->name);
	}
	if (names)
		n += core_writing_names(c, names + n);
	core_unlock(c);
	for (i = 0; i < n; i++) {
		if (!names[i]) {
			core_free_names(names, n);
			n = 0;
			names = NULL;
			break;
		}
	}
	if (names)
		qsort(names, n, sizeof(*names), cmp_names);
	*count = n;
	return names;
}

char **core_job_outputs(struct core *c, const char *name, size_t *count)
{
	char **names = NULL;
	struct task *t;
	size_t i, n = 0;
	bool short_of_memory = false;

	core_lock(c);
	t = core_table_visible(c, name);
	if (t && t->state == TASK_COMPLETED && !core_writing_find(c, name)) {
		names = calloc(t->n_urls + 1, sizeof(*names));
		short_of_memory = !names;
		for (i = 0; names && i < t->n_urls; i++) {
			if (!t->published[i])
				continue;
			names[n] = strdup(t->published[i]);
			short_of_memory |= !names[n++];
		}
	}
	core_unlock(c);
	if (short_of_memory) {
		core_free_names(names, n);
		names = NULL;
		n = 0;
	}
	*count = n;
	return names;
}

void core_free_names(char **names, size_t count)
{
	size_t i;

	for (i = 0; names && i < count; i++)
		free(names[i]);
	free(names);
}
