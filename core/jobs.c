/* The job core's life cycle: opening the store, loading the records after
 * a restart, and the transitions the network reports. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sniff.h"
#include "table.h"
#include "util/log.h"

#define RECORD_READ_MAX (8 * 1024 * 1024)

void format_utc(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void core_notify_job(struct core *c, const char *name)
{
	if (c->hooks.job_changed)
		c->hooks.job_changed(c->hooks.ctx, name);
}

void core_notify_ready(struct core *c, uint64_t seq)
{
	if (c->hooks.task_ready)
		c->hooks.task_ready(c->hooks.ctx, seq);
}

void core_notify_outputs(struct core *c)
{
	if (c->hooks.outputs_changed)
		c->hooks.outputs_changed(c->hooks.ctx);
}

/* A record that cannot be read (a disk error, an edit by hand) is
 * reported and renamed .SEQ.json.corrupt, where it stays for inspection;
 * the other records load as usual. */
static void set_aside(struct core *c, const char *file, const char *why)
{
	char aside[300];

	uint64_t seq = strtoull(file, NULL, 10);

	snprintf(aside, sizeof(aside), ".%s.corrupt", file);
	log_err("%s/records/%s: %s; set aside as records/%s", c->store.path,
		file, why, aside);
	renameat(c->store.records_fd, file, c->store.records_fd, aside);
	/* its number is never used again: the task may have been sent */
	if (seq > c->last_seq)
		c->last_seq = seq;
	c->records_set_aside = true;
}

/* A record of an older version has no seal. Ended, it still shows; one
 * in flight at the API is followed as before (polls cost nothing); but a
 * queued one is never sent, since a record nobody can tell from one planted
 * in the store must not spend the user's credits. (A sending one is failed
 * by resolve_interrupted.) */
static void unverified(struct core *c, struct task *t, const char *file)
{
	if (t->state != TASK_QUEUED)
		return;
	t->state = TASK_FAILED;
	t->updated = time(NULL);
	snprintf(t->error, sizeof(t->error),
		 "interrupted: records/%s could not be verified (written by an "
		 "older version, or not by this daemon); nothing was sent "
		 "(write the prompt again to send it)", file);
	log_warn("%s/records/%s: no seal; the queued task was not sent",
		 c->store.path, file);
	task_save(c, t);
}

static void load_record(struct core *c, const char *file)
{
	char err[128];
	struct task *t = NULL;
	struct buf b;
	int rc;

	buf_init(&b, RECORD_READ_MAX);
	rc = store_read_sealed(&c->store, c->store.records_fd, file,
			       RECORD_READ_MAX, &b);
	if (rc == 0 || rc == -ENOKEY)
		t = task_from_json(b.data, b.len, err, sizeof(err));
	buf_free(&b);
	if (!t) {
		set_aside(c, file, rc == -EBADMSG
					   ? "not written by this store (its "
					     "seal does not match)"
				   : rc < 0 && rc != -ENOKEY ? store_strerror(rc)
							    : err);
		return;
	}
	if (table_insert(c, t) < 0) {
		log_err("records/%s: duplicate task %" PRIu64 "; skipped",
			file, t->seq);
		task_free(t);
	} else if (rc == -ENOKEY) {
		unverified(c, t, file);
	}
}

/* .SEQ.json.corrupt: a record set aside at an earlier start keeps its
 * number, which is never used again (and never renamed over). */
static void note_set_aside(struct core *c, const char *file)
{
	char *end;
	uint64_t seq = strtoull(file + 1, &end, 10);

	if (end != file + 1 && strcmp(end, ".json.corrupt") == 0 &&
	    seq > c->last_seq)
		c->last_seq = seq;
}

static void load_entry(void *ctx, const char *file)
{
	if (file[0] >= '0' && file[0] <= '9')
		load_record(ctx, file);
	else if (file[0] == '.' && file[1] >= '0' && file[1] <= '9')
		note_set_aside(ctx, file);
}

/* A restart finds tasks in the state the last run left them. One that was
 * being sent may exist at the API (and be charged) without us knowing its
 * id: it must not be sent again. */
static void resolve_interrupted(struct core *c)
{
	size_t i;

	for (i = 0; i < c->n_tasks; i++) {
		struct task *t = c->tasks[i];

		if (t->state != TASK_SENDING)
			continue;
		credits_lost(c, t);
		t->state = TASK_FAILED;
		t->updated = time(NULL);
		snprintf(t->error, sizeof(t->error),
			 "interrupted: the daemon stopped while the creation "
			 "request was being sent; the task may have been "
			 "created and charged, so it was not sent again "
			 "(write the prompt again to retry)");
		task_save(c, t);
	}
}

static bool prompt_file_exists(struct core *c, const char *name)
{
	char file[NAME_MAX + 1];
	struct stat st;

	snprintf(file, sizeof(file), "%s.txt", name);
	return fstatat(c->store.jobs_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* What a restart must not keep:
 * - a queued task that is not its job's newest, or whose prompt file is
 *   gone: it was replaced or removed, and the kill came before its record
 *   was deleted; sending it would pay for a prompt nobody wants (one whose
 *   file changed is kept, failed: see check_queued);
 * - an ended task the table no longer needs (table_keeps);
 * - a removed job's last task after a week (it is remembered out of sight
 *   so that the same prompt written again costs nothing). */
static bool stale_at_start(struct core *c, const struct task *t,
			   time_t week_ago)
{
	if (t->state == TASK_QUEUED)
		return !table_is_current(c, t) || t->forgotten ||
		       !prompt_file_exists(c, t->name);
	return task_state_ended(t->state) &&
	       (!table_keeps(c, t) || (t->forgotten && t->updated < week_ago));
}

static void drop_leftovers(struct core *c)
{
	time_t week_ago = time(NULL) - 7 * 24 * 3600;
	size_t i = 0;

	while (i < c->n_tasks) {
		struct task *t = c->tasks[i];

		if (stale_at_start(c, t, week_ago)) {
			task_drop(c, t);
			continue;
		}
		i++;
	}
}

/* A queued task whose prompt file or sidecar changed while the daemon was
 * down (killed between a write and its close) is not sent: what the user
 * wants is unsure, and a send costs money. */
static void check_queued(struct core *c)
{
	size_t i;

	for (i = 0; i < c->n_tasks; i++) {
		struct task *t = c->tasks[i];

		if (t->state != TASK_QUEUED || submit_input_unchanged(c, t))
			continue;
		t->state = TASK_FAILED;
		t->updated = time(NULL);
		snprintf(t->error, sizeof(t->error),
			 "interrupted: jobs/%s.txt or its sidecar changed "
			 "while the daemon was stopped; nothing was sent "
			 "(write the prompt again to send it)", t->name);
		task_save(c, t);
	}
}

struct core *core_open(const char *data_dir, const struct core_defaults *def,
		       char *err, size_t errlen)
{
	struct core *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->submit_lock, NULL);
	pthread_mutex_init(&c->save_lock, NULL);
	snprintf(c->def_aspect_ratio, sizeof(c->def_aspect_ratio), "%s",
		 def->aspect_ratio);
	snprintf(c->def_resolution, sizeof(c->def_resolution), "%s",
		 def->resolution);
	c->defaults.aspect_ratio = c->def_aspect_ratio;
	c->defaults.resolution = c->def_resolution;
	c->defaults.nsfw_checker = def->nsfw_checker;
	if (store_open(&c->store, data_dir, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	if (store_for_each(c->store.records_fd, load_entry, c) < 0 ||
	    outputs_load(c) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", data_dir,
			 strerror(errno));
		core_close(c);
		return NULL;
	}
	c->budget = LEDGER_NO_BUDGET;
	credits_load(c);
	resolve_interrupted(c);
	drop_leftovers(c);
	submit_check_unsubmitted(c);
	check_queued(c);
	record_flush(c);	/* the records the checks dropped */
	return c;
}

void core_set_hooks(struct core *c, const struct core_hooks *hooks)
{
	c->hooks = *hooks;
}

void core_note_pid(struct core *c)
{
	if (store_note_pid(&c->store) < 0)
		log_warn("%s/lock: cannot record the pid: %s", c->store.path,
			 strerror(errno));
}

void core_start(struct core *c)
{
	uint64_t *seqs;
	size_t i, n = 0;

	pthread_mutex_lock(&c->lock);
	seqs = calloc(c->n_tasks + 1, sizeof(*seqs));
	for (i = 0; seqs && i < c->n_tasks; i++) {
		if (!task_state_ended(c->tasks[i]->state))
			seqs[n++] = c->tasks[i]->seq;
	}
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < n; i++)
		core_notify_ready(c, seqs[i]);
	free(seqs);
}

void core_close(struct core *c)
{
	size_t i;

	if (!c)
		return;
	record_flush(c);
	for (i = 0; i < c->n_tasks; i++)
		task_free(c->tasks[i]);
	free(c->tasks);
	writing_free(c);
	outputs_free(c);
	store_close(&c->store);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->submit_lock);
	pthread_mutex_destroy(&c->save_lock);
	free(c);
}

int core_jobs_dirfd(const struct core *c)
{
	return c->store.jobs_fd;
}

/* ---- status/ ---- */

static const char *status_word(enum task_state st)
{
	/* "sending" is an implementation detail: the API has not accepted
	 * the task yet, which is what queued means to a user */
	return st == TASK_SENDING ? "queued" : task_state_word(st);
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
				  task_price(t));
	case CHARGE_DOUBT:
		return buf_printf(b, "credits: %.1f (possibly charged)\n",
				  task_price(t));
	case CHARGE_NONE:
		if (t->state == TASK_FAILED)
			return buf_addstr(b, "credits: 0 (nothing was "
					     "charged)\n");
		break;
	case CHARGE_HELD:
	case CHARGE_SPENT:
		break;
	}
	return buf_printf(b, "credits: %.1f\n", task_price(t));
}

static int render_status(const struct task *t, struct buf *b)
{
	char when[32];
	size_t i;
	int rc = 0;

	rc |= buf_printf(b, "%s\n", status_word(t->state));
	if (t->task_id[0])
		rc |= buf_printf(b, "task_id: %s\n", t->task_id);
	format_utc(t->submitted, when, sizeof(when));
	rc |= buf_printf(b, "submitted: %s\n", when);
	format_utc(t->updated, when, sizeof(when));
	rc |= buf_printf(b, "updated: %s\n", when);
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

void task_hold(struct task *t)
{
	struct task_shown *s;

	if (t->holds++ > 0)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return;	/* readers see the change early: no worse */
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

void task_unhold(struct task *t)
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
	pthread_mutex_lock(&c->lock);
	w = writing_find(c, name);
	t = table_visible(c, name);
	if (w) {
		rc = writing_render(w, out, info);
		/* no task says yet: the file being written does */
		if (info)
			info->mode = submit_read_mode(c, name);
	} else if (t) {
		rc = render_shown(t, out, info);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **core_job_names(struct core *c, size_t *count)
{
	char **names;
	size_t i, n = 0;

	pthread_mutex_lock(&c->lock);
	names = calloc(c->n_tasks + c->n_writing + 1, sizeof(*names));
	for (i = 0; names && i < c->n_tasks; i++) {
		if (table_visible(c, c->tasks[i]->name) == c->tasks[i])
			names[n++] = strdup(c->tasks[i]->name);
	}
	if (names)
		n += writing_names(c, names + n);
	pthread_mutex_unlock(&c->lock);
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

void core_free_names(char **names, size_t count)
{
	size_t i;

	for (i = 0; names && i < count; i++)
		free(names[i]);
	free(names);
}

/* ---- the network's side ---- */

int core_task_get(struct core *c, uint64_t seq, struct core_task *out)
{
	struct task *t;
	size_t i;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	t = table_find(c, seq);
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
		if (opts_copy(&out->opts, &t->opts) == 0 && out->name &&
		    out->prompt)
			rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0 && rc != -ENOENT)
		core_task_free(out);
	return rc;
}

void core_task_free(struct core_task *t)
{
	size_t i;

	free(t->name);
	free(t->prompt);
	opts_free(&t->opts);
	for (i = 0; i < OPTS_MAX_URLS; i++)
		free(t->urls[i]);
	memset(t, 0, sizeof(*t));
}

/* Find task seq in state `from` (any state when from < 0), under the lock. */
static struct task *task_in(struct core *c, uint64_t seq, int from)
{
	struct task *t = table_find(c, seq);

	if (!t || (from >= 0 && t->state != (enum task_state)from))
		return NULL;
	return t;
}

/* Task seq in state `from` (any when from < 0) with the lock held, or NULL
 * and the lock not held. Every transition finds its task here, and leaves
 * through unlock_task (no change), commit_change* or finish_task (recorded
 * and published), or a drop: until then, readers of status/ see the task
 * as it was (task_hold), since its change is not on disk yet. */
static struct task *lock_task(struct core *c, uint64_t seq, int from)
{
	struct task *t;

	pthread_mutex_lock(&c->lock);
	t = task_in(c, seq, from);
	if (t)
		task_hold(t);
	else
		pthread_mutex_unlock(&c->lock);
	return t;
}

/* Leave lock_task without a change to record. */
static void unlock_task(struct core *c, struct task *t)
{
	task_unhold(t);
	pthread_mutex_unlock(&c->lock);
}

/* Record task seq's change, queued as op under the lock now released:
 * write, sync and rename without the lock, then publish the change to
 * readers (under the lock again). The result of the write. */
static int record_publish(struct core *c, uint64_t seq, struct record_op *op)
{
	struct task *t;
	int rc = record_wait(c, op);

	pthread_mutex_lock(&c->lock);
	t = table_find(c, seq);
	if (t)
		task_unhold(t);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Tell the others of a change of job `name` (a copy, freed here). */
static void notify_free(struct core *c, char *name)
{
	if (name)
		core_notify_job(c, name);
	free(name);
}

/* The API has the task and it has not ended. */
static bool at_api(const struct task *t)
{
	return t->state >= TASK_PENDING && !task_state_ended(t->state);
}

/* Release the lock taken for a change of t that is not recorded, write
 * what is queued and tell the others; rc is passed through. */
static int unlock_notify(struct core *c, const struct task *t, int rc)
{
	char *name = strdup(t->name);

	core_unlock_flush(c);
	notify_free(c, name);
	return rc;
}

/* The change of t (from lock_task) is made: record it (durably, or only
 * atomically: see task_save_later), publish it, tell the others. */
static int commit_change_as(struct core *c, struct task *t, bool durable)
{
	char *name = strdup(t->name);
	uint64_t seq = t->seq;
	struct record_op *op;
	int rc;

	t->updated = time(NULL);
	op = task_save_later(c, t, durable);
	pthread_mutex_unlock(&c->lock);
	rc = record_publish(c, seq, op);
	notify_free(c, name);
	return rc;
}

static int commit_change(struct core *c, struct task *t)
{
	return commit_change_as(c, t, true);
}

void task_drop(struct core *c, struct task *t)
{
	task_delete_later(c, t);
	table_remove(c, t);
	task_free(t);
}

/* Drop t if the table no longer needs it (table_keeps): its record goes,
 * its images stay in out/. True when t was freed. */
static bool drop_unless_kept(struct core *c, struct task *t)
{
	if (table_keeps(c, t))
		return false;
	task_drop(c, t);
	return true;
}

void prune_job(struct core *c, const char *name)
{
	size_t i = c->n_tasks;

	while (i-- > 0) {
		struct task *t = c->tasks[i];

		/* name may be the caller's task's own: that one stays */
		if (t->name != name && strcmp(t->name, name) == 0)
			drop_unless_kept(c, t);
	}
}

/* The daily budget refused task t (now failed): record it; nothing is
 * sent. */
static int refuse_by_budget(struct core *c, struct task *t)
{
	log_warn("jobs/%s.txt: task %" PRIu64 ": %s", t->name, t->seq,
		 t->error);
	t->note[0] = '\0';
	commit_change(c, t);
	return -ENOENT;
}

int core_task_sending(struct core *c, uint64_t seq)
{
	struct record_op *op;
	struct task *t;
	int rc;

	t = lock_task(c, seq, TASK_QUEUED);
	if (!t)
		return -ENOENT;
	if (credits_reserve(c, t) < 0)
		return refuse_by_budget(c, t);
	t->state = TASK_SENDING;
	t->note[0] = '\0';
	t->updated = time(NULL);
	op = task_save_later(c, t, true);
	pthread_mutex_unlock(&c->lock);
	/* durable before a byte leaves: nothing is sent before this returns */
	rc = record_wait(c, op);
	pthread_mutex_lock(&c->lock);
	t = table_find(c, seq);
	if (t)
		task_unhold(t);
	if (!t || t->state != TASK_SENDING) {
		/* no thread but ours moves a task out of sending, and one in
		 * flight is kept (table_keeps): never, but nothing is sent */
		core_unlock_flush(c);
		return -ENOENT;
	}
	if (rc < 0) {
		/* not recorded: it must not leave (a restart would not know
		 * it may exist); it stays queued and is tried again */
		credits_not_created(c, t);
		t->state = TASK_QUEUED;
		snprintf(t->note, sizeof(t->note),
			 "cannot record the job before sending it: %s",
			 strerror(-rc));
	} else {
		/* the job's older ended task is no longer its reference */
		prune_job(c, t->name);
	}
	return unlock_notify(c, t, rc);
}

/* Sending -> queued with note; unreached: the API was not reached (its
 * first such time kept), else it answered (the wait for it is over). */
static int requeue(struct core *c, uint64_t seq, const char *note,
		   bool unreached, time_t *since)
{
	struct task *t = lock_task(c, seq, TASK_SENDING);

	if (!t)
		return -ENOENT;
	credits_not_created(c, t);
	if (t->forgotten || !table_is_current(c, t)) {
		/* replaced or removed while it was being sent, and not created:
		 * sending it again would pay for a prompt nobody wants */
		task_drop(c, t);
		core_unlock_flush(c);
		return -ENOENT;
	}
	t->state = TASK_QUEUED;
	snprintf(t->note, sizeof(t->note), "%s", note ? note : "");
	if (!unreached)
		t->unreached = 0;
	else if (!t->unreached)
		t->unreached = time(NULL);
	if (since)
		*since = t->unreached;
	return commit_change(c, t);
}

int core_task_requeue(struct core *c, uint64_t seq, const char *note)
{
	return requeue(c, seq, note, false, NULL);
}

int core_task_unreached(struct core *c, uint64_t seq, const char *note,
			time_t *since)
{
	return requeue(c, seq, note, true, since);
}

int core_task_created(struct core *c, uint64_t seq, const char *task_id)
{
	struct task *t;

	t = lock_task(c, seq, TASK_SENDING);
	if (!t)
		return -ENOENT;
	t->state = TASK_PENDING;
	t->unreached = 0;
	snprintf(t->task_id, sizeof(t->task_id), "%s", task_id);
	credits_created(c, t);
	return commit_change(c, t);
}

int core_task_progress(struct core *c, uint64_t seq, enum task_state st)
{
	struct task *t = lock_task(c, seq, -1);

	if (!t)
		return -ENOENT;
	if (!at_api(t)) {
		unlock_task(c, t);
		return -ENOENT;
	}
	if (t->state == st && !t->note[0]) {
		unlock_task(c, t);
		return 0;
	}
	t->state = st;
	t->note[0] = '\0';
	return commit_change_as(c, t, false);
}

void core_task_note(struct core *c, uint64_t seq, const char *note)
{
	struct task *t = lock_task(c, seq, -1);

	if (!t)
		return;
	if (strcmp(t->note, note) == 0) {
		unlock_task(c, t);
		return;
	}
	/* transient, not recorded: shown once no change is in flight */
	snprintf(t->note, sizeof(t->note), "%s", note);
	task_unhold(t);
	unlock_notify(c, t, 0);
}

int core_task_urls(struct core *c, uint64_t seq, char *const *urls, size_t n)
{
	struct task *t;
	char *copy[OPTS_MAX_URLS] = { 0 };
	size_t i;

	if (n == 0 || n > OPTS_MAX_URLS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		copy[i] = strdup(urls[i]);
		if (!copy[i])
			goto nomem;
	}
	t = lock_task(c, seq, -1);
	if (!t || !at_api(t)) {
		if (t)
			unlock_task(c, t);
		for (i = 0; i < n; i++)
			free(copy[i]);
		return -ENOENT;
	}
	/* fresh URLs for the same outputs: what is stored stays stored */
	for (i = 0; i < OPTS_MAX_URLS; i++) {
		free(t->urls[i]);
		t->urls[i] = copy[i];
		if (i >= n) {
			free(t->stored[i]);
			t->stored[i] = NULL;
		}
	}
	t->n_urls = n;
	t->state = TASK_DOWNLOADING;
	t->note[0] = '\0';
	return commit_change_as(c, t, false);
nomem:
	for (i = 0; i < n; i++)
		free(copy[i]);
	return -ENOMEM;
}

int core_tmpfile(struct core *c, char *name, size_t namesz)
{
	return store_create_temp(c->store.tmp_fd, "dl-", name, namesz);
}

void core_tmp_unlink(struct core *c, const char *name)
{
	/* one component (core_tmpfile's): unlinkat never goes elsewhere */
	if (!strchr(name, '/'))
		unlinkat(c->store.tmp_fd, name, 0);
}

/* The first bytes of tmp/name, for sniffing. */
static ssize_t read_head(struct core *c, const char *name,
			 unsigned char *head, size_t len, int *fd_out)
{
	int fd = store_open_file(c->store.tmp_fd, name, O_RDONLY, 0);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pread(fd, head, len, 0);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	*fd_out = fd;
	return n;
}

/* Move a whole download, tmp/name, into the store as SEQ-I.EXT,
 * durably. */
static int store_download(struct core *c, const char *name, int fd,
			  const char *backing)
{
	if (fsync(fd) < 0)
		return -errno;
	if (renameat(c->store.tmp_fd, name, c->store.out_fd, backing) < 0)
		return -errno;
	return fsync(c->store.out_fd) < 0 ? -errno : 0;
}

int core_task_output(struct core *c, uint64_t seq, size_t i,
		     const char *tmp_name)
{
	unsigned char head[SNIFF_HEAD];
	const char *ext = NULL;
	char backing[64];
	struct task *t;
	bool wanted;
	ssize_t n;
	int fd = -1, rc;

	t = lock_task(c, seq, TASK_DOWNLOADING);
	wanted = t && i < t->n_urls;
	if (t)
		unlock_task(c, t);
	if (!wanted) {
		core_tmp_unlink(c, tmp_name);
		return -ENOENT;
	}
	n = read_head(c, tmp_name, head, sizeof(head), &fd);
	if (n >= 0)
		ext = sniff_image(head, (size_t)n);
	rc = n < 0 ? (int)n : ext ? 0 : -EBADMSG;
	if (rc == 0) {
		snprintf(backing, sizeof(backing), "%016" PRIu64 "-%zu.%s", seq,
			 i + 1, ext);
		rc = store_download(c, tmp_name, fd, backing);
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0 && rc != -EBADMSG)
		log_err("%s/tmp/%s: cannot move the download into out/: %s",
			c->store.path, tmp_name, strerror(-rc));
	if (rc < 0) {
		core_tmp_unlink(c, tmp_name);
		/* -ENOENT says the task is gone; a file that vanished
		 * behind our back is a store error, and the image is
		 * fetched again */
		return rc == -ENOENT ? -EIO : rc;
	}
	t = lock_task(c, seq, TASK_DOWNLOADING);
	if (!t || i >= t->n_urls) {
		if (t)
			unlock_task(c, t);
		unlinkat(c->store.out_fd, backing, 0);
		return -ENOENT;
	}
	free(t->stored[i]);
	t->stored[i] = strdup(backing);
	/* the image itself is durable; after a power loss without this
	 * record it is fetched again into the same file */
	return commit_change_as(c, t, false);
}

/* After an end under the lock: record, or drop when the table no longer
 * needs it; unlock, notify. A completion need not be durable: the images'
 * metadata is, and a restart that finds the task downloading publishes
 * what is stored. */
static int finish_task(struct core *c, struct task *t, bool completed,
		       bool published)
{
	char *name = strdup(t->name);
	uint64_t seq = t->seq;
	struct record_op *op = NULL;
	bool dropped;
	int rc = 0;

	t->updated = time(NULL);
	dropped = drop_unless_kept(c, t);
	if (!dropped)
		op = task_save_later(c, t, !completed);
	if (dropped) {
		core_unlock_flush(c);
	} else {
		pthread_mutex_unlock(&c->lock);
		rc = record_publish(c, seq, op);
	}
	/* out/ first: a reader woken by the job's end opens its image next */
	if (published)
		core_notify_outputs(c);
	notify_free(c, name);
	return rc;
}

/* The job's reference task takes NAME.EXT in out/; an attempt refused
 * since does not push its images to history names. */
static bool takes_live_names(const struct core *c, const struct task *t)
{
	return table_reference(c, t->name) == t;
}

/* A creation that failed: the API said it did not create the task, or its
 * answer was lost (net/ reports "interrupted" or "bad_response" then). */
static void creation_failed(struct core *c, struct task *t, const char *code)
{
	if (strcmp(code, "interrupted") == 0 ||
	    strcmp(code, "bad_response") == 0)
		credits_lost(c, t);
	else
		credits_not_created(c, t);
}

static bool all_stored(const struct task *t)
{
	size_t i;

	for (i = 0; i < t->n_urls; i++) {
		if (!t->stored[i])
			return false;
	}
	return true;
}

int core_task_completed(struct core *c, uint64_t seq)
{
	struct task *t;
	int rc;

	t = lock_task(c, seq, TASK_DOWNLOADING);
	if (!t)
		return -ENOENT;
	/* the images are whole and in place before the record says so */
	rc = all_stored(t) ? outputs_publish(c, t, takes_live_names(c, t))
			   : -EINVAL;
	if (rc < 0) {
		snprintf(t->error, sizeof(t->error),
			 "store_failed: cannot publish the images: %s "
			 "(they are kept in the data directory)",
			 strerror(-rc));
		t->state = TASK_FAILED;
	} else {
		t->state = TASK_COMPLETED;
	}
	t->note[0] = '\0';
	return finish_task(c, t, true, true);
}

int core_task_failed(struct core *c, uint64_t seq, const char *code,
		     const char *message)
{
	struct task *t = lock_task(c, seq, -1);
	bool published;

	if (!t)
		return -ENOENT;
	if (task_state_ended(t->state)) {
		unlock_task(c, t);
		return -ENOENT;
	}
	/* the API gives back what it held for a task that it failed; one that
	 * completed was charged even if its download then failed, and the
	 * images that did arrive are shown (paid for, never lost) */
	if (t->state == TASK_SENDING)
		creation_failed(c, t, code);
	else if (t->task_id[0] && t->state < TASK_DOWNLOADING)
		credits_refunded(c, t);
	if (t->state == TASK_DOWNLOADING &&
	    outputs_publish(c, t, takes_live_names(c, t)) < 0)
		log_err("%s: cannot publish the images that arrived", t->name);
	published = t->state == TASK_DOWNLOADING;
	t->state = TASK_FAILED;
	t->note[0] = '\0';
	snprintf(t->error, sizeof(t->error), "%s: %s", code, message);
	return finish_task(c, t, false, published);
}
