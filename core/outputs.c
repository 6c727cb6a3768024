/* out/: the finished images. Each is DATA_DIR/out/SEQ-I.EXT with its
 * metadata beside it in SEQ-I.EXT.json (its name in out/, the prompt, task
 * id, options, source URL, completion time). Names in out/ live only in the
 * metadata, so renaming an image to its history name rewrites one small
 * file and never touches the image. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "table.h"
#include "util/array.h"
#include "util/json.h"
#include "util/log.h"

/* Far beyond any store, but a bound: a runaway count fails as ENOMEM. */
#define OUTPUTS_MAX ((size_t)1 << 24)

#define META_MAX (4 * 1024 * 1024)
#define META_TOKENS 40

static void output_free(struct output *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->job);
	free(o->prompt);
	free(o->task_id);
	free(o->options);
	free(o->embedded);
	free(o->url);
	free(o);
}

void core_outputs_free(struct core *c)
{
	size_t i;

	for (i = 0; i < c->n_outputs; i++)
		output_free(c->outputs[i]);
	free(c->outputs);
	c->outputs = NULL;
	c->n_outputs = c->cap_outputs = 0;
}

/* Binary search by name: the index of name, or where it would go. */
static size_t outputs_index(struct core *c, const char *name, bool *found)
{
	size_t lo = 0, hi = c->n_outputs;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->outputs[mid]->name, name);

		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct output *core_outputs_find(struct core *c, const char *name)
{
	bool found;
	size_t i;

	DEBUGASSERT(core_lock_held(c));
	i = outputs_index(c, name, &found);
	return found ? c->outputs[i] : NULL;
}

struct output *core_outputs_from(struct core *c, const char *prefix,
				 const char *rest)
{
	size_t plen = strlen(prefix), rlen = strlen(rest), i;
	char *key = malloc(plen + rlen + 1);
	bool found;

	DEBUGASSERT(core_lock_held(c));
	if (!key)
		return NULL;
	memcpy(key, prefix, plen);
	memcpy(key + plen, rest, rlen + 1);
	i = outputs_index(c, key, &found);
	free(key);
	return i < c->n_outputs ? c->outputs[i] : NULL;
}

static int outputs_insert(struct core *c, struct output *o)
{
	bool found;
	size_t i = outputs_index(c, o->name, &found);
	struct output **grown;

	DEBUGASSERT(core_lock_held(c));
	if (found)
		return -EEXIST;
	grown = array_reserve(c->outputs, c->n_outputs, &c->cap_outputs,
			      sizeof(*grown), OUTPUTS_MAX);
	if (!grown)
		return -ENOMEM;
	c->outputs = grown;
	memmove(c->outputs + i + 1, c->outputs + i,
		(c->n_outputs - i) * sizeof(*c->outputs));
	c->outputs[i] = o;
	c->n_outputs++;
	return 0;
}

static void outputs_remove(struct core *c, struct output *o)
{
	bool found;
	size_t i = outputs_index(c, o->name, &found);

	DEBUGASSERT(core_lock_held(c));
	if (!found || c->outputs[i] != o)
		return;
	memmove(c->outputs + i, c->outputs + i + 1,
		(c->n_outputs - i - 1) * sizeof(*c->outputs));
	c->n_outputs--;
}

static struct output *outputs_by_backing(struct core *c, const char *backing)
{
	size_t i;

	for (i = 0; i < c->n_outputs; i++) {
		if (strcmp(c->outputs[i]->backing, backing) == 0)
			return c->outputs[i];
	}
	return NULL;
}

/* Under the lock: queue the metadata of o for core_record_flush, which
 * writes and syncs it off the lock, before the record of the task that
 * published it. 0, or -ENOMEM. */
static int meta_save(struct core *c, const struct output *o)
{
	char file[80];
	struct buf b;
	int rc = 0;

	buf_init(&b, META_MAX);
	rc |= buf_addstr(&b, "{\"name\":");
	rc |= json_add_cstr(&b, o->name);
	rc |= buf_addstr(&b, ",\"job\":");
	rc |= json_add_cstr(&b, o->job);
	rc |= buf_printf(&b, ",\"live\":%s", o->live ? "true" : "false");
	rc |= buf_printf(&b, ",\"id\":%" PRIu64 ",\"prompt\":", o->id);
	rc |= json_add_cstr(&b, o->prompt);
	rc |= buf_addstr(&b, ",\"task_id\":");
	rc |= json_add_cstr(&b, o->task_id);
	rc |= buf_addstr(&b, ",\"options\":");
	rc |= json_add_cstr(&b, o->options);
	rc |= buf_addstr(&b, ",\"url\":");
	rc |= json_add_cstr(&b, o->url);
	if (o->embedded) {
		rc |= buf_addstr(&b, ",\"embedded\":");
		rc |= json_add_cstr(&b, o->embedded);
	}
	rc |= buf_printf(&b, ",\"read_mode\":%u", (unsigned)o->read_mode);
	rc |= buf_printf(&b, ",\"completed\":%lld,\"completed_ns\":%ld}\n",
			 (long long)o->mtime.tv_sec, o->mtime.tv_nsec);
	snprintf(file, sizeof(file), "%s.json", o->backing);
	rc = rc ? -ENOMEM :
		  core_meta_save_later(c, o->id / OPTS_MAX_URLS, file, &b);
	buf_free(&b);
	return rc;
}

static struct output *meta_parse(const char *text, size_t len)
{
	struct json_doc doc;
	struct output *o;
	uint64_t id = 0, sec = 0, nsec = 0;
	bool numbers_ok = false;

	if (json_parse(&doc, text, len, META_TOKENS) < 0)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (o) {
		bool live = false;

		o->name =
			json_member_string(&doc, 0, "name", CORE_NAME_MAX + 64);
		o->job = json_member_string(&doc, 0, "job", CORE_NAME_MAX);
		json_get_bool(&doc, json_get(&doc, 0, "live"), &live);
		o->live = live;
		o->prompt = json_member_string(&doc, 0, "prompt", META_MAX);
		o->task_id = json_member_string(&doc, 0, "task_id", 1024);
		o->options = json_member_string(&doc, 0, "options", META_MAX);
		o->url = json_member_string(&doc, 0, "url", META_MAX);
		/* newer than the rest: optional */
		o->embedded =
			json_member_string(&doc, 0, "embedded", EMBED_NOTE_MAX);
		numbers_ok =
			json_get_uint(&doc, json_get(&doc, 0, "id"), 1ULL << 52,
				      &id) == 0 &&
			json_get_uint(&doc, json_get(&doc, 0, "completed"),
				      1ULL << 40, &sec) == 0 &&
			json_get_uint(&doc, json_get(&doc, 0, "completed_ns"),
				      999999999, &nsec) == 0;
		o->id = id;
		o->mtime.tv_sec = (time_t)sec;
		o->mtime.tv_nsec = (long)nsec;
		o->read_mode = CORE_READ_MODE_DEFAULT;
		numbers_ok = numbers_ok &&
			     core_load_read_mode(&doc, &o->read_mode) == 0;
	}
	json_doc_free(&doc);
	if (o && (!numbers_ok || !o->name || !o->job || !o->prompt ||
		  !o->task_id || !o->options || !o->url ||
		  !core_name_ok(o->name) || !core_name_ok(o->job))) {
		output_free(o);
		o = NULL;
	}
	return o;
}

static char *history_name(struct core *c, const struct output *o);

/* o, out of the table, takes its history name, its metadata queued: the
 * name it had (the caller's to free), or NULL and o as it was. */
static char *take_history_name(struct core *c, struct output *o)
{
	char *old = o->name, *hist = history_name(c, o);
	bool live = o->live;

	if (!hist)
		return NULL;
	o->name = hist;
	o->live = false;
	if (meta_save(c, o) < 0) {
		o->name = old;
		o->live = live;
		free(hist);
		return NULL;
	}
	return old;
}

/* At start, o (not in the table) takes a history name; the status of its
 * job names its newer image, which keeps the name. */
static int retire_loaded(struct core *c, struct output *o)
{
	char *old = take_history_name(c, o);

	if (!old)
		return -ENOMEM;
	free(old);
	return outputs_insert(c, o);
}

/* Two images on disk claim one name when the metadata write that retired
 * the older failed: the newer keeps the name, the older is shown under a
 * history name (and so written). */
static int insert_loaded(struct core *c, struct output *o)
{
	struct output *holder;
	int rc = outputs_insert(c, o);

	if (rc != -EEXIST)
		return rc;
	holder = core_outputs_find(c, o->name);
	log_warn("out/%s: claimed by %s and %s; the older takes a history "
		 "name",
		 o->name, holder->backing, o->backing);
	if (holder->id > o->id)
		return retire_loaded(c, o);
	outputs_remove(c, holder);
	rc = outputs_insert(c, o); /* room was just made */
	DEBUGASSERT(rc == 0);
	if (retire_loaded(c, holder) < 0) {
		log_warn("out/%s: out of memory, ignored", holder->backing);
		output_free(holder);
	}
	return rc;
}

/* The metadata of an older version has no seal: it is taken, since the
 * image it names must be a regular file in out/, which only the daemon's
 * user can write (core_store_open). One whose seal does not match was not
 * written by this store and is ignored. */
static void load_one_meta(struct core *c, const char *file)
{
	size_t blen = strlen(file) - strlen(".json");
	struct output *o = NULL;
	struct stat st;
	struct buf b;
	int rc = -ENAMETOOLONG;

	buf_init(&b, META_MAX);
	if (blen < sizeof(o->backing))
		rc = core_store_read_sealed(&c->store, c->store.out_fd, file,
					    META_MAX, &b);
	if (rc == 0 || rc == -ENOKEY)
		o = meta_parse(b.data, b.len);
	buf_free(&b);
	if (!o) {
		log_warn("out/%s: %s, ignored", file,
			 rc == -EBADMSG ? "metadata not written by this store "
					  "(its seal does not match)" :
			 rc == -ELOOP	? core_store_strerror(rc) :
					  "unreadable metadata");
		return;
	}
	memcpy(o->backing, file, blen);
	o->backing[blen] = '\0';
	/* sequence numbers are never reused while their metadata exists,
	 * with its image or not (an rm cut short) */
	if (o->id / OPTS_MAX_URLS > c->last_seq)
		c->last_seq = o->id / OPTS_MAX_URLS;
	if (fstatat(c->store.out_fd, o->backing, &st, AT_SYMLINK_NOFOLLOW) <
		    0 ||
	    !S_ISREG(st.st_mode) || insert_loaded(c, o) < 0) {
		log_warn("out/%s: image missing, not a regular file (not "
			 "followed) or out of memory, ignored",
			 o->backing);
		output_free(o);
		return;
	}
	o->size = st.st_size;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void load_entry(void *ctx, const char *file)
{
	if (file[0] != '.' && has_suffix(file, ".json"))
		load_one_meta(ctx, file);
}

int core_outputs_load(struct core *c)
{
	return core_store_for_each(c->store.out_fd, load_entry, c);
}

/* Names in out/. A job's current task has NAME.EXT, NAME~2.EXT, ...
 * NAME~16.EXT; older images have NAME~STAMP.EXT and NAME~I~STAMP.EXT.
 * Job names never hold '~' (core_check_prompt_filename), so none of these
 * but NAME.EXT is, or can become, any job's first output. */

/* ".EXT" of an image, from its stored file (SEQ-I.EXT), or "". */
static const char *output_ext(const char *backing)
{
	const char *dot = strrchr(backing, '.');

	return dot ? dot : "";
}

/* NAME.EXT for output 0, NAME~2.EXT for output 1, ... */
static void output_name(const char *job, size_t i, const char *ext, char *out,
			size_t outsz)
{
	if (i == 0)
		snprintf(out, outsz, "%s%s", job, ext);
	else
		snprintf(out, outsz, "%s~%zu%s", job, i + 1, ext);
}

/* The history name of output o: NAME~YYYYMMDDTHHMMSSZ.EXT for a first
 * image, NAME~I~YYYYMMDDTHHMMSSZ.EXT for image I, stamped with its
 * completion time; -2, -3, ... follow the stamp if two completed in the
 * same second. Built from the job and the index, not from the current
 * name, which a store of an older version may have spelt otherwise. */
static char *history_name(struct core *c, const struct output *o)
{
	const char *ext = output_ext(o->backing);
	char base[1100], stamp[32], out[1200];
	struct tm tm;
	int k;

	output_name(o->job, o->id % OPTS_MAX_URLS, "", base, sizeof(base));
	gmtime_r(&o->mtime.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(out, sizeof(out), "%s~%s%s", base, stamp, ext);
		else
			snprintf(out, sizeof(out), "%s~%s-%d%s", base, stamp, k,
				 ext);
		if (!core_outputs_find(c, out))
			return strdup(out);
	}
	return NULL;
}

/* The status of job names its image `old`, which is now called `now`
 * (NULL: deleted): keep the outputs line true. */
static void follow_output(struct core *c, const char *job, const char *old,
			  const char *now)
{
	struct task *t = core_table_current(c, job);
	size_t i;

	for (i = 0; t && i < t->n_urls; i++) {
		if (t->published[i] && strcmp(t->published[i], old) == 0) {
			char *name = now ? strdup(now) : NULL;

			if (now && !name)
				return;
			free(t->published[i]);
			t->published[i] = name;
			core_task_save_queued(c, t, false);
		}
	}
}

/* Move output o to its history name (the table is sorted by name). */
static int output_retire(struct core *c, struct output *o)
{
	char *old;
	int rc = -ENOMEM;

	outputs_remove(c, o);
	old = take_history_name(c, o);
	if (old) {
		follow_output(c, o->job, old, o->name);
		free(old);
		rc = 0;
	}
	outputs_insert(c, o);
	return rc;
}

/* A new task of job NAME completed: every image an older task of the job
 * left under a current name (NAME.EXT, NAME~I.EXT, or an older version's
 * NAME-I.EXT) moves to its history name. */
static int retire_live(struct core *c, const struct task *t)
{
	size_t i = 0;
	int rc;

	while (i < c->n_outputs) {
		struct output *o = c->outputs[i];

		if (!o->live || strcmp(o->job, t->name) != 0 ||
		    o->id / OPTS_MAX_URLS == t->seq) {
			i++;
			continue;
		}
		rc = output_retire(c, o);
		if (rc < 0)
			return rc;
		i = 0; /* the table was reordered */
	}
	return 0;
}

static struct output *output_from_task(const struct task *t, size_t i)
{
	struct output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->job = strdup(t->name);
	snprintf(o->backing, sizeof(o->backing), "%s", t->stored[i]);
	o->id = t->seq * OPTS_MAX_URLS + i;
	o->read_mode = t->read_mode;
	o->prompt = strndup(t->prompt, t->prompt_len);
	o->task_id = strdup(t->task_id);
	o->options = strdup(t->opts_json ? t->opts_json : "{}");
	o->url = strdup(t->urls[i] ? t->urls[i] : "");
	o->embedded = t->embedded[i] ? strdup(t->embedded[i]) : NULL;
	/* published again at a start: when its task ended */
	if (core_task_state_ended(t->state))
		o->mtime.tv_sec = t->updated;
	else
		clock_gettime(CLOCK_REALTIME, &o->mtime);
	if (!o->job || !o->prompt || !o->task_id || !o->options || !o->url) {
		output_free(o);
		return NULL;
	}
	return o;
}

static int publish_one(struct core *c, struct task *t, size_t i, bool current)
{
	char name[1200];
	struct output *o, *old;
	struct stat st;
	int rc;

	o = outputs_by_backing(c, t->stored[i]);
	if (o) {
		/* published already, before a restart */
		free(t->published[i]);
		t->published[i] = strdup(o->name);
		return t->published[i] ? 0 : -ENOMEM;
	}
	o = output_from_task(t, i);
	if (!o)
		return -ENOMEM;
	output_name(t->name, i, output_ext(o->backing), name, sizeof(name));
	old = core_outputs_find(c, name);
	/* another job's image by that name: in a store of an older version,
	 * "a"'s second image took "a-2.png", which is job "a-2"'s */
	if (current && old) {
		rc = output_retire(c, old);
		if (rc < 0)
			goto fail;
	}
	o->live = current;
	o->name = current ? strdup(name) : history_name(c, o);
	rc = -ENOMEM;
	if (!o->name)
		goto fail;
	if (fstatat(c->store.out_fd, o->backing, &st, AT_SYMLINK_NOFOLLOW) <
	    0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -ELOOP;
		goto fail;
	}
	o->size = st.st_size;
	rc = meta_save(c, o);
	if (rc == 0)
		rc = outputs_insert(c, o);
	if (rc == 0) {
		free(t->published[i]);
		t->published[i] = strdup(o->name);
		return t->published[i] ? 0 : -ENOMEM;
	}
	outputs_remove(c, o);
fail:
	output_free(o);
	return rc;
}

/* Make a task's stored images visible in out/. The current task of a job
 * takes NAME.EXT (what was there moves to its history name); a task that
 * was superseded while in flight lands under history names. */
int core_outputs_publish(struct core *c, struct task *t, bool current)
{
	size_t i;
	int rc = current ? retire_live(c, t) : 0;

	for (i = 0; rc == 0 && i < t->n_urls; i++) {
		if (t->stored[i])
			rc = publish_one(c, t, i, current);
	}
	return rc;
}

/* Is image k of t stored without metadata? One syscall for the usual
 * answer, a scan of out/ only when its metadata file is missing. */
static bool unpublished(struct core *c, const struct task *t, size_t k)
{
	char meta[80];

	if (!t->stored[k])
		return false;
	snprintf(meta, sizeof(meta), "%s.json", t->stored[k]);
	return faccessat(c->store.out_fd, meta, F_OK, AT_SYMLINK_NOFOLLOW) <
		       0 &&
	       !outputs_by_backing(c, t->stored[k]) &&
	       faccessat(c->store.out_fd, t->stored[k], F_OK,
			 AT_SYMLINK_NOFOLLOW) == 0;
}

/* At start, under the lock, before the table drops what it no longer
 * needs: the images of the tasks of the table that have no metadata (its
 * write failed: core_record_flush kept the record) are published again,
 * as at their completion; none paid for is lost. */
void core_outputs_recover(struct core *c)
{
	size_t i, k;

	for (i = 0; i < c->n_tasks; i++) {
		struct task *t = c->tasks[i];

		if (t->state != TASK_COMPLETED && t->state != TASK_FAILED)
			continue;
		for (k = 0; k < t->n_urls && !unpublished(c, t, k); k++)
			;
		if (k == t->n_urls)
			continue;
		log_warn("jobs/%s.txt: task %" PRIu64 ": images without "
			 "metadata, shown again in out/",
			 t->name, t->seq);
		core_outputs_publish(c, t,
				     core_table_reference(c, t->name) == t);
	}
}

/* The image leaves out/ at once; off the lock, the image is deleted, then
 * its metadata: a crash between them leaves metadata without an image,
 * which the next start ignores, rather than an image without metadata,
 * which it would show again (core_outputs_recover). */
int core_output_unlink(struct core *c, const char *name)
{
	struct record_op *image_op, *meta_op;
	struct output *o;
	char meta[80];
	int rc;

	core_lock(c);
	o = core_outputs_find(c, name);
	if (!o) {
		core_unlock(c);
		return -ENOENT;
	}
	snprintf(meta, sizeof(meta), "%s.json", o->backing);
	image_op = core_delete_later(c, c->store.out_fd, o->backing);
	if (!image_op) {
		core_unlock(c);
		return -ENOMEM;
	}
	meta_op = core_delete_later(c, c->store.out_fd, meta);
	outputs_remove(c, o);
	follow_output(c, o->job, o->name, NULL);
	output_free(o);
	core_unlock(c);
	core_notify_outputs(c);
	rc = core_record_wait(c, image_op);
	if (core_record_wait(c, meta_op) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0)
		log_err("out/%s: cannot delete %s or its metadata: %s (the "
			"next start may show it again)",
			name, meta, strerror(-rc));
	return rc;
}
