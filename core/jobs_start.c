/* The job core at start and at the end: opening the data directory, loading
 * the records a restart finds (setting aside those that cannot be read),
 * resolving what the last run left in flight, and closing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "table.h"
#include "util/log.h"

#define RECORD_READ_MAX (8 * 1024 * 1024)

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
		 "(write the prompt again to send it)",
		 file);
	log_warn("%s/records/%s: no seal; the queued task was not sent",
		 c->store.path, file);
	core_task_save(c, t);
}

static void load_record(struct core *c, const char *file)
{
	char err[128];
	struct task *t = NULL;
	struct buf b;
	int rc;

	buf_init(&b, RECORD_READ_MAX);
	rc = core_store_read_sealed(&c->store, c->store.records_fd, file,
				    RECORD_READ_MAX, &b);
	if (rc == 0 || rc == -ENOKEY)
		t = core_task_from_json(b.data, b.len, err, sizeof(err));
	buf_free(&b);
	if (!t) {
		set_aside(c, file,
			  rc == -EBADMSG ? "not written by this store (its "
					   "seal does not match)" :
			  rc < 0 && rc != -ENOKEY ? core_store_strerror(rc) :
						    err);
		return;
	}
	if (core_table_insert(c, t) < 0) {
		log_err("records/%s: duplicate task %" PRIu64 "; skipped", file,
			t->seq);
		core_task_destroy(t);
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
		core_charge_lost(c, t);
		t->state = TASK_FAILED;
		t->updated = time(NULL);
		snprintf(t->error, sizeof(t->error),
			 "interrupted: the daemon stopped while the creation "
			 "request was being sent; the task may have been "
			 "created and charged, so it was not sent again "
			 "(write the prompt again to retry)");
		core_task_save(c, t);
	}
}

static bool prompt_file_exists(struct core *c, const char *name)
{
	char file[CORE_FILE_MAX + 1];
	struct stat st;

	snprintf(file, sizeof(file), "%s.txt", name);
	return fstatat(c->store.jobs_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* What a restart must not keep:
 * - a queued task that is not its job's newest, or whose prompt file is
 *   gone: it was replaced or removed, and the kill came before its record
 *   was deleted; sending it would pay for a prompt nobody wants (one whose
 *   file changed is kept, failed: see check_queued);
 * - an ended task the table no longer needs (core_table_keeps);
 * - a removed job's last task after a week (it is remembered out of sight
 *   so that the same prompt written again costs nothing). */
static bool stale_at_start(struct core *c, const struct task *t,
			   time_t week_ago)
{
	if (t->state == TASK_QUEUED)
		return !core_table_is_current(c, t) || t->forgotten ||
		       !prompt_file_exists(c, t->name);
	return core_task_state_ended(t->state) &&
	       (!core_table_keeps(c, t) ||
		(t->forgotten && t->updated < week_ago));
}

static void drop_leftovers(struct core *c)
{
	time_t week_ago = time(NULL) - 7 * 24 * 3600;
	size_t i = 0;

	while (i < c->n_tasks) {
		struct task *t = c->tasks[i];

		if (stale_at_start(c, t, week_ago)) {
			core_task_drop(c, t);
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

		if (t->state != TASK_QUEUED ||
		    core_submit_input_unchanged(c, t))
			continue;
		t->state = TASK_FAILED;
		t->updated = time(NULL);
		snprintf(t->error, sizeof(t->error),
			 "interrupted: jobs/%s.txt or its sidecar changed "
			 "while the daemon was stopped; nothing was sent "
			 "(write the prompt again to send it)",
			 t->name);
		core_task_save(c, t);
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
	if (core_store_open(&c->store, data_dir, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	core_spares_init(&c->spares[0], c->store.records_fd);
	core_spares_init(&c->spares[1], c->store.out_fd);
	core_spares_init(&c->spares[2], c->store.dir_fd);
	/* no other thread runs yet; the lock is held for the functions that
	 * expect it (DEBUGASSERT(core_lock_held)) */
	core_lock(c);
	if (core_store_for_each(c->store.records_fd, load_entry, c) < 0 ||
	    core_outputs_load(c) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", data_dir,
			 strerror(errno));
		core_unlock(c);
		core_close(c);
		return NULL;
	}
	c->budget = LEDGER_NO_BUDGET;
	core_credits_load(c);
	resolve_interrupted(c);
	core_outputs_recover(c);
	drop_leftovers(c);
	core_submit_check_unsubmitted(c);
	check_queued(c);
	core_unlock_flush(c); /* the records the checks dropped */
	return c;
}

void core_set_hooks(struct core *c, const struct core_hooks *hooks)
{
	c->hooks = *hooks;
}

void core_note_pid(struct core *c)
{
	if (core_store_note_pid(&c->store) < 0)
		log_warn("%s/lock: cannot record the pid: %s", c->store.path,
			 strerror(errno));
}

void core_start(struct core *c)
{
	uint64_t *seqs;
	size_t i, n = 0;

	core_lock(c);
	seqs = calloc(c->n_tasks + 1, sizeof(*seqs));
	for (i = 0; seqs && i < c->n_tasks; i++) {
		if (!core_task_state_ended(c->tasks[i]->state))
			seqs[n++] = c->tasks[i]->seq;
	}
	core_unlock(c);
	for (i = 0; i < n; i++)
		core_notify_ready(c, seqs[i]);
	free(seqs);
}

void core_close(struct core *c)
{
	if (!c)
		return;
	core_record_flush(c);
	core_table_free(c);
	core_writing_free(c);
	core_outputs_free(c);
	core_store_close(&c->store);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->submit_lock);
	pthread_mutex_destroy(&c->save_lock);
	free(c);
}

int core_jobs_dirfd(const struct core *c)
{
	return c->store.jobs_fd;
}
