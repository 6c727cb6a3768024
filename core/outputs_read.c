/* out/ as its readers see it: an image's attributes, the names, and the
 * extended attributes that carry its prompt, task id, options and source
 * URL (gptimgfs(1), OUTPUT). The table is outputs.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/buf.h"

int core_out_dirfd(const struct core *c)
{
	return c->store.out_fd;
}

int core_output_find(struct core *c, const char *name, struct core_output *r)
{
	struct output *o;
	int rc = -ENOENT;

	core_lock(c);
	o = core_outputs_find(c, name);
	if (o) {
		memcpy(r->backing, o->backing, sizeof(r->backing));
		r->id = o->id;
		r->size = o->size;
		r->mtime = o->mtime;
		r->mode = o->read_mode;
		rc = 0;
	}
	core_unlock(c);
	return rc;
}

char **core_output_names(struct core *c, size_t *count)
{
	char **names;
	size_t i;

	core_lock(c);
	names = calloc(c->n_outputs + 1, sizeof(*names));
	for (i = 0; names && i < c->n_outputs; i++)
		names[i] = strdup(c->outputs[i]->name);
	*count = names ? c->n_outputs : 0;
	core_unlock(c);
	for (i = 0; names && i < *count; i++) {
		if (!names[i]) {
			core_free_names(names, *count);
			*count = 0;
			return NULL;
		}
	}
	return names;
}

bool core_output_folder(struct core *c, const char *path)
{
	struct output *o;
	bool below;

	core_lock(c);
	/* the names below path sort together, right after "path/" */
	o = core_outputs_from(c, path, "/");
	below = o && core_path_below(o->name, path);
	core_unlock(c);
	return below;
}

static const char *const xattr_names[] = {
	"user.gptimgfs.prompt",	  "user.gptimgfs.task_id",
	"user.gptimgfs.options",  "user.xdg.origin.url",
	"user.gptimgfs.metadata", /* what was embedded: only when known */
};

static const char *xattr_value(const struct output *o, const char *attr)
{
	const char *values[] = { o->prompt, o->task_id, o->options, o->url,
				 o->embedded };
	size_t i;

	for (i = 0; i < sizeof(xattr_names) / sizeof(xattr_names[0]); i++) {
		if (strcmp(attr, xattr_names[i]) == 0)
			return values[i];
	}
	return NULL;
}

int core_output_xattr(struct core *c, const char *name, const char *attr,
		      struct buf *out)
{
	struct output *o;
	const char *v;
	int rc = -ENOENT;

	buf_reset(out);
	core_lock(c);
	o = core_outputs_find(c, name);
	if (o) {
		v = xattr_value(o, attr);
		rc = !v ? -ENODATA : buf_addstr(out, v) < 0 ? -E2BIG : 0;
	}
	core_unlock(c);
	return rc;
}

int core_output_xattr_list(struct core *c, const char *name, struct buf *out)
{
	const struct output *o;
	size_t i;
	int rc = 0;

	buf_reset(out);
	core_lock(c);
	o = core_outputs_find(c, name);
	if (!o)
		rc = -ENOENT;
	for (i = 0; rc == 0 && i < sizeof(xattr_names) / sizeof(xattr_names[0]);
	     i++) {
		if (!xattr_value(o, xattr_names[i]))
			continue;
		if (buf_add(out, xattr_names[i], strlen(xattr_names[i]) + 1) <
		    0)
			rc = -E2BIG;
	}
	core_unlock(c);
	return rc;
}
