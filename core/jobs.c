/* The transitions of a task the network reports, from queued to its end:
 * each under the lock, recorded, then published to readers of status/. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "table.h"
#include "util/array.h"
#include "util/log.h"

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

/* Find task seq in state `from` (any state when from < 0), under the lock. */
static struct task *task_in(struct core *c, uint64_t seq, int from)
{
	struct task *t = core_table_find(c, seq);

	if (!t || (from >= 0 && t->state != (enum task_state)from))
		return NULL;
	return t;
}

/* Task seq in state `from` (any when from < 0) with the lock held, or NULL
 * and the lock not held. Every recorded transition finds its task here,
 * and leaves through unlock_task (no change), commit_change* or
 * finish_task (recorded and published), or a drop: until then, readers of
 * status/ see the task as it was (core_task_hold), since its change is not
 * on disk yet. (Progress and URLs are not recorded: show_unrecorded.) */
static struct task *lock_task(struct core *c, uint64_t seq, int from)
{
	struct task *t;

	core_lock(c);
	t = task_in(c, seq, from);
	if (t)
		core_task_hold(t);
	else
		core_unlock(c);
	return t;
}

/* Leave lock_task without a change to record. */
static void unlock_task(struct core *c, struct task *t)
{
	core_task_unhold(t);
	core_unlock(c);
}

/* Record task seq's change, queued as op under the lock now released:
 * write, sync and rename without the lock, then publish the change to
 * readers (under the lock again). The result of the write. */
static int record_publish(struct core *c, uint64_t seq, struct record_op *op)
{
	struct task *t;
	int rc = core_record_wait(c, op);

	core_lock(c);
	t = core_table_find(c, seq);
	if (t)
		core_task_unhold(t);
	core_unlock(c);
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
	return t->state >= TASK_PENDING && !core_task_state_ended(t->state);
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
 * atomically: see core_task_save_later), publish it, tell the others. */
static int commit_change_as(struct core *c, struct task *t, bool durable)
{
	char *name = strdup(t->name);
	uint64_t seq = t->seq;
	struct record_op *op;
	int rc;

	t->updated = time(NULL);
	op = core_task_save_later(c, t, durable);
	core_unlock(c);
	rc = record_publish(c, seq, op);
	notify_free(c, name);
	return rc;
}

/* The rest of commit_change_as once op is queued, the lock held. */
static int record_publish_unlocked(struct core *c, struct task *t,
				   struct record_op *op)
{
	char *name = strdup(t->name);
	uint64_t seq = t->seq;
	int rc;

	core_unlock(c);
	rc = record_publish(c, seq, op);
	notify_free(c, name);
	return rc;
}

static int commit_change(struct core *c, struct task *t)
{
	return commit_change_as(c, t, true);
}

/* Under the lock (not lock_task's: nothing to hold): a change of t that a
 * start learns again from the API, progress and image URLs, is shown at
 * once and not recorded. Its record keeps the last change worth a write
 * (created, an image stored, the end), which carries this one along; a
 * start finds the task created and polls it. Most tasks go from created
 * to ended with nothing written between. */
static int show_unrecorded(struct core *c, struct task *t)
{
	char *name = strdup(t->name);

	t->updated = time(NULL);
	core_unlock(c);
	notify_free(c, name);
	return 0;
}

/* The core a thread batches its changes for (core_batch_begin), or NULL. */
static _Thread_local struct core *batching;
/* In that batch: a completion published images (out/ changed). */
static _Thread_local bool outputs_changed;

/* Under the lock: t's change queued as op is published at core_batch_end.
 * false when there is no room to remember it (it is then published now). */
static bool defer_publish(struct core *c, struct task *t, struct record_op *op)
{
	struct core_deferred *grown;
	char *name;

	if (batching != c || !op)
		return false;
	grown = array_reserve(c->deferred, c->n_deferred, &c->cap_deferred,
			      sizeof(*grown), DEFERRED_MAX);
	name = grown ? strdup(t->name) : NULL;
	if (!name)
		return false;
	c->deferred = grown;
	c->deferred[c->n_deferred++] =
		(struct core_deferred){ t->seq, op, name };
	return true;
}

/* commit_change_as for a change that nothing in this process waits on but
 * the task's own next step (created, an image stored): in a batch it is
 * written with the others of the batch, and the caller learns only
 * whether the task is there (the write's failure is logged, and the
 * change shown all the same, as commit_change_as does). */
static int commit_change_batched(struct core *c, struct task *t, bool durable)
{
	struct record_op *op;

	if (batching != c)
		return commit_change_as(c, t, durable);
	t->updated = time(NULL);
	op = core_task_save_later(c, t, durable);
	if (defer_publish(c, t, op)) {
		core_unlock(c);
		return 0;
	}
	return record_publish_unlocked(c, t, op);
}

void core_batch_begin(struct core *c)
{
	DEBUGASSERT(!batching);
	batching = c;
	outputs_changed = false;
}

void core_batch_end(struct core *c)
{
	struct core_deferred *d;
	size_t i, n;

	DEBUGASSERT(batching == c);
	batching = NULL;
	core_lock(c);
	d = c->deferred;
	n = c->n_deferred;
	c->deferred = NULL;
	c->n_deferred = c->cap_deferred = 0;
	core_unlock(c);
	core_record_flush(c); /* the batch's records, written together */
	/* out/ first: a reader woken by a job's end opens its image next */
	if (outputs_changed)
		core_notify_outputs(c);
	for (i = 0; i < n; i++) {
		(void)record_publish(c, d[i].seq, d[i].op);
		notify_free(c, d[i].name);
	}
	free(d);
}

void core_task_drop(struct core *c, struct task *t)
{
	core_task_delete_later(c, t);
	core_table_remove(c, t);
	core_task_destroy(t);
}

/* Drop t if the table no longer needs it (core_table_keeps): its record goes,
 * its images stay in out/. True when t was freed. */
static bool drop_unless_kept(struct core *c, struct task *t)
{
	if (core_table_keeps(c, t))
		return false;
	core_task_drop(c, t);
	return true;
}

void core_prune_job(struct core *c, const char *name)
{
	struct task *t, *older;

	for (t = core_table_current(c, name); t; t = older) {
		older = core_table_older(t); /* before t may go */
		/* name may be the caller's task's own: that one stays */
		if (t->name != name)
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

int core_task_sending_begin(struct core *c, uint64_t seq, struct record_op **op)
{
	struct task *t;

	*op = NULL;
	t = lock_task(c, seq, TASK_QUEUED);
	if (!t)
		return -ENOENT;
	if (core_charge_reserve(c, t) < 0)
		return refuse_by_budget(c, t);
	t->state = TASK_SENDING;
	t->note[0] = '\0';
	t->updated = time(NULL);
	*op = core_task_save_later(c, t, true);
	core_unlock(c); /* t stays held until core_task_sending_end */
	return 0;
}

int core_task_sending(struct core *c, uint64_t seq)
{
	struct record_op *op;
	int rc = core_task_sending_begin(c, seq, &op);

	return rc < 0 ? rc : core_task_sending_end(c, seq, op);
}

int core_task_sending_end(struct core *c, uint64_t seq, struct record_op *op)
{
	struct task *t;
	int rc;

	/* durable before a byte leaves: nothing is sent before this returns
	 * (the first end of a group writes the records of all of them) */
	rc = core_record_wait(c, op);
	core_lock(c);
	t = core_table_find(c, seq);
	if (t)
		core_task_unhold(t);
	if (!t || t->state != TASK_SENDING) {
		/* no thread but ours moves a task out of sending, and one in
		 * flight is kept (core_table_keeps): never, but nothing is
		 * sent */
		core_unlock_flush(c);
		return -ENOENT;
	}
	if (rc < 0) {
		/* not recorded: it must not leave (a restart would not know
		 * it may exist) */
		core_charge_not_created(c, t);
		if (t->forgotten || !core_table_is_current(c, t)) {
			/* replaced or removed while its record was written
			 * (the lock was not held): as requeue, nobody wants it
			 * any more, and a queued task would be sent */
			core_task_drop(c, t);
			core_unlock_flush(c);
			return -ENOENT;
		}
		/* it stays queued and is tried again; recorded queued once
		 * more, in case another thread's save wrote it as sending */
		t->state = TASK_QUEUED;
		snprintf(t->note, sizeof(t->note),
			 "cannot record the job before sending it: %s",
			 strerror(-rc));
		(void)commit_change(c, t);
		return rc;
	}
	/* the job's older ended task is no longer its reference */
	core_prune_job(c, t->name);
	return unlock_notify(c, t, 0);
}

/* Sending -> queued with note; unreached: the API was not reached (its
 * first such time kept), else it answered (the wait for it is over). */
static int requeue(struct core *c, uint64_t seq, const char *note,
		   bool unreached, time_t *since)
{
	struct task *t = lock_task(c, seq, TASK_SENDING);

	if (!t)
		return -ENOENT;
	core_charge_not_created(c, t);
	if (t->forgotten || !core_table_is_current(c, t)) {
		/* replaced or removed while it was being sent, and not created:
		 * sending it again would pay for a prompt nobody wants */
		core_task_drop(c, t);
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
	core_charge_created(c, t);
	return commit_change_batched(c, t, true);
}

int core_task_progress(struct core *c, uint64_t seq, enum task_state st)
{
	struct task *t;

	core_lock(c);
	t = task_in(c, seq, -1);
	if (!t || !at_api(t) || (t->state == st && !t->note[0])) {
		/* most polls: no change, so no status text to keep for
		 * readers (core_task_hold renders it), nothing to record */
		core_unlock(c);
		return t && at_api(t) ? 0 : -ENOENT;
	}
	t->state = st;
	t->note[0] = '\0';
	return show_unrecorded(c, t);
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
	core_task_unhold(t);
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
	core_lock(c);
	t = task_in(c, seq, -1);
	if (!t || !at_api(t)) {
		core_unlock(c);
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
			free(t->embedded[i]);
			t->embedded[i] = NULL;
		}
	}
	t->n_urls = n;
	t->state = TASK_DOWNLOADING;
	t->note[0] = '\0';
	return show_unrecorded(c, t);
nomem:
	for (i = 0; i < n; i++)
		free(copy[i]);
	return -ENOMEM;
}

/* Under the lock: the texts to embed in t's images. */
static int embed_texts_of(const struct core *c, const struct task *t,
			  struct embed_texts *texts)
{
	struct embed_source src = {
		.prompt = t->prompt ? t->prompt : "",
		.prompt_len = t->prompt ? t->prompt_len : 0,
		.model = c->embed_model,
		.task_id = t->task_id,
		.aspect_ratio = t->opts.aspect_ratio,
		.resolution = t->opts.resolution,
		.nsfw_checker = t->opts.nsfw_checker,
		.n_image_urls = t->opts.n_urls,
	};

	return core_embed_texts(texts, &src);
}

int core_task_output(struct core *c, uint64_t seq, size_t i,
		     const char *tmp_name)
{
	struct tmp_keep keep = { .tmp_name = tmp_name, .seq = seq, .i = i };
	struct embed_texts texts;
	struct task *t;
	bool wanted;
	int rc;

	t = lock_task(c, seq, TASK_DOWNLOADING);
	wanted = t && i < t->n_urls;
	/* without memory for the texts, the image is stored as sent */
	if (wanted && c->embed_model && embed_texts_of(c, t, &texts) == 0)
		keep.texts = &texts;
	else if (wanted && c->embed_model)
		snprintf(keep.embedded, sizeof(keep.embedded),
			 "not embedded: out of memory");
	if (t)
		unlock_task(c, t);
	if (!wanted) {
		core_tmp_unlink(c, tmp_name);
		return -ENOENT;
	}
	/* in a batch, out/ is synced once for all its images, before any
	 * record is written, this one included */
	keep.later_dir = batching == c;
	rc = core_tmp_keep(c, &keep);
	if (keep.texts)
		core_embed_texts_free(&texts);
	if (rc < 0)
		return rc;
	if (keep.later_dir)
		atomic_store(&c->out_unsynced, true);
	t = lock_task(c, seq, TASK_DOWNLOADING);
	if (!t || i >= t->n_urls) {
		if (t)
			unlock_task(c, t);
		unlinkat(c->store.out_fd, keep.backing, 0);
		return -ENOENT;
	}
	free(t->stored[i]);
	t->stored[i] = strdup(keep.backing);
	free(t->embedded[i]);
	t->embedded[i] = strdup(keep.embedded);
	/* the image itself is durable (in a batch: at its end, before this
	 * record); after a power loss without this record it is fetched
	 * again into the same file */
	return commit_change_batched(c, t, false);
}

void core_set_embed_metadata(struct core *c, const char *model)
{
	core_lock(c);
	c->embed_model = model;
	core_unlock(c);
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
		op = core_task_save_later(c, t, !completed);
	/* in a batch, written with the others and shown at its end */
	if (!dropped && defer_publish(c, t, op)) {
		outputs_changed |= published;
		core_unlock(c);
		free(name);
		return 0;
	}
	if (dropped) {
		core_unlock_flush(c);
	} else {
		core_unlock(c);
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
	return core_table_reference(c, t->name) == t;
}

/* A creation that failed: the API said it did not create the task, or its
 * answer was lost (net/ reports "interrupted" or "bad_response" then). */
static void creation_failed(struct core *c, struct task *t, const char *code)
{
	if (strcmp(code, "interrupted") == 0 ||
	    strcmp(code, "bad_response") == 0)
		core_charge_lost(c, t);
	else
		core_charge_not_created(c, t);
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
	rc = all_stored(t) ?
		     core_outputs_publish(c, t, takes_live_names(c, t)) :
		     -EINVAL;
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

static int task_failed(struct core *c, uint64_t seq, const char *code,
		       const char *message, bool at_api)
{
	struct task *t = lock_task(c, seq, -1);
	bool published;

	if (!t)
		return -ENOENT;
	if (core_task_state_ended(t->state)) {
		unlock_task(c, t);
		return -ENOENT;
	}
	/* the API gives back what it held for a task that it failed; one
	 * that we gave up on, or that completed (even if its download then
	 * failed), was charged, and the images that did arrive are shown
	 * (paid for, never lost) */
	if (t->state == TASK_SENDING)
		creation_failed(c, t, code);
	else if (at_api && t->task_id[0] && t->state < TASK_DOWNLOADING)
		core_charge_refunded(c, t);
	if (t->state == TASK_DOWNLOADING &&
	    core_outputs_publish(c, t, takes_live_names(c, t)) < 0)
		log_err("%s: cannot publish the images that arrived", t->name);
	published = t->state == TASK_DOWNLOADING;
	t->state = TASK_FAILED;
	t->note[0] = '\0';
	snprintf(t->error, sizeof(t->error), "%s: %s", code, message);
	return finish_task(c, t, false, published);
}

int core_task_failed(struct core *c, uint64_t seq, const char *code,
		     const char *message)
{
	return task_failed(c, seq, code, message, false);
}

int core_task_failed_at_api(struct core *c, uint64_t seq, const char *code,
			    const char *message)
{
	return task_failed(c, seq, code, message, true);
}
