/* The network's copies of a task (struct core_task): a whole one for a
 * step that sends it, the state and ids alone for a poll. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"

int core_task_get(struct core *c, uint64_t seq, struct core_task *out)
{
	struct task *t;
	size_t i;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	core_lock(c);
	t = core_table_find(c, seq);
	if (t) {
		rc = -ENOMEM;
		out->seq = seq;
		out->state = t->state;
		out->name = strdup(t->name);
		out->prompt = strndup(t->prompt, t->prompt_len);
		out->prompt_len = t->prompt_len;
		memcpy(out->task_id, t->task_id, sizeof(out->task_id));
		out->unreached = t->unreached;
		out->n_urls = t->n_urls;
		for (i = 0; i < t->n_urls; i++) {
			out->urls[i] = strdup(t->urls[i]);
			out->stored[i] = t->stored[i] != NULL;
		}
		if (core_opts_copy(&out->opts, &t->opts) == 0 && out->name &&
		    out->prompt)
			rc = 0;
	}
	core_unlock(c);
	if (rc < 0 && rc != -ENOENT)
		core_task_free(out);
	return rc;
}

int core_task_peek(struct core *c, uint64_t seq, struct core_task *out)
{
	struct task *t;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	core_lock(c);
	t = core_table_find(c, seq);
	if (t) {
		out->seq = seq;
		out->state = t->state;
		memcpy(out->task_id, t->task_id, sizeof(out->task_id));
		out->unreached = t->unreached;
		rc = 0;
	}
	core_unlock(c);
	return rc;
}

void core_task_free(struct core_task *t)
{
	size_t i;

	free(t->name);
	free(t->prompt);
	core_opts_free(&t->opts);
	for (i = 0; i < OPTS_MAX_URLS; i++)
		free(t->urls[i]);
	memset(t, 0, sizeof(*t));
}
