/* The core's own structures, shared by its files and by nobody else.
 *
 * Names in core/: every function that leaves its file is core_ followed by
 * the thing it works on (core_table_find, core_store_open, core_task_save,
 * core_record_flush, core_charge_reserve); a function used in its own file
 * only is static and unprefixed. A header core/X.h declares what X.c and
 * its parts X_*.c share (store.h: store.c, store_file.c, ...); this one the
 * structures and the functions of the files without a header, each under
 * the name of its file. Header guards are GPTIMGFS_CORE_X_H. */
#ifndef GPTIMGFS_CORE_INTERNAL_H
#define GPTIMGFS_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "embed.h"
#include "jobs.h"
#include "ledger.h"
#include "opts.h"
#include "store.h"
#include "util/buf.h"
#include "util/debugassert.h"

#define NOTE_MAX 512
#define ERROR_MAX 2048

/* What a task cost, as far as this daemon can know (records/SEQ.json
 * "charge"; the credits line of its status and the daily ledger). */
enum task_charge {
	CHARGE_NONE,	 /* never created at the API: nothing charged */
	CHARGE_HELD,	 /* its creation is on the wire */
	CHARGE_SPENT,	 /* the API created it: charged */
	CHARGE_REFUNDED, /* created, failed, credits given back */
	CHARGE_DOUBT,	 /* the creation's answer was lost: maybe */
};

/* One submission of a job, as recorded in records/SEQ.json. */
struct task {
	uint64_t seq;
	char *name;
	enum task_state state;
	char *prompt;
	size_t prompt_len;
	struct job_opts opts;
	char *opts_json; /* canonical options (dedup, xattr);
					 * NULL: not known, the task was
					 * refused for its sidecar (recorded
					 * as {}) */
	char task_id[TASK_ID_MAX + 1];
	time_t submitted;
	time_t updated;
	time_t sent;	  /* its creation was sent; 0: never */
	time_t unreached; /* its first creation that could not
					 * reach the API, since it last did;
					 * 0: none */
	mode_t read_mode; /* of status/ and images (core_read_mode) */
	enum task_charge charge;
	char error[ERROR_MAX]; /* "CODE: message" when failed */
	char note[NOTE_MAX];   /* transient, not recorded */
	size_t n_urls;
	char *urls[OPTS_MAX_URLS];
	char *stored[OPTS_MAX_URLS];	/* backing file of output i, or NULL */
	char *embedded[OPTS_MAX_URLS];	/* what core_tmp_keep embedded in
					 * it, NULL: not known */
	char *published[OPTS_MAX_URLS]; /* its name in out/ once completed */
	bool forgotten;			/* prompt file removed: drop at end */
	/* a change being recorded (lock_task .. record_publish): readers of
	 * status/ see `shown`, the task as it was before, until the write
	 * of its record ends (when the write failed, the change is shown
	 * all the same: the log says so); holds counts the changes in
	 * flight */
	unsigned holds;
	struct task_shown *shown;
	struct task *name_next; /* table.c: the next task of its name's
				 * bucket, newer tasks first */
};

/* status/NAME of a task as it was when its first change in flight began. */
struct task_shown {
	struct buf text;
	enum task_state state;
	time_t updated;
	mode_t read_mode;
};

/* One image in out/: the file DATA_DIR/out/backing and its metadata in
 * DATA_DIR/out/backing.json. */
struct output {
	char *name; /* its name in out/ */
	char *job;  /* the job whose task made it */
	bool live;  /* NAME.EXT / NAME~I.EXT, not history */
	char backing[64];
	uint64_t id;
	char *prompt;
	char *task_id;
	char *options;
	char *url;
	char *embedded; /* its task's embedded[i]; NULL: not known */
	off_t size;
	struct timespec mtime;
	mode_t read_mode; /* its task's (core_read_mode) */
};

/* A job whose prompt file is being written (writing.c). */
struct writing {
	char *name;
	unsigned count; /* core_write_begin - core_write_end */
	time_t since;	/* the first begin */
};

/* Lock order of the daemon. A lock on the left is acquired before the
 * ones on its right, never while holding one of them:
 *
 *   core->submit_lock  ->  core->save_lock  ->  core->lock
 *   fs->parked_lock  ->  view_handle->lock  ->  core->lock
 *   fs->nodes_lock  ->  core->lock
 *
 * core->lock is the last: nothing called under it takes another lock (the
 * hooks are called without it). No record is written under it, nor out/'s
 * image metadata: core_record_flush writes, syncs and renames what was
 * queued under save_lock alone, so a reader of status/ or out/ never
 * waits on that disk work (only core_open, before any thread runs, writes
 * under it). fs's events_lock and net's inbox lock are taken under no
 * other lock.
 */
struct record_op;

/* A change of a batch (core_batch_begin), written and published at its
 * end (jobs.c). */
struct core_deferred {
	uint64_t seq;
	struct record_op *op;
	char *name;
};
#define DEFERRED_MAX ((size_t)1 << 20)

#define META_FAILED_MAX 64
#define CORE_SPARE_DIRS 3

struct core {
	struct store store;
	struct core_defaults defaults;
	char def_aspect_ratio[8];
	char def_resolution[4];
	struct core_hooks hooks;
	/* the model named in embedded metadata; NULL: embed_metadata=no
	 * (core_set_embed_metadata, before the network thread starts) */
	const char *embed_model;

	/* serialises submissions; acquire before save_lock and lock */
	pthread_mutex_t submit_lock;
	/* core_record_flush: one writer, in queue order; acquire before lock */
	pthread_mutex_t save_lock;
	/* an image was moved into out/ without a sync of out/ since: the
	 * next batch syncs out/ with its metadata, before any record
	 * (records.c), one sync for the images and metadata of a batch
	 * instead of one each */
	atomic_bool out_unsynced;
	uint64_t meta_failed[META_FAILED_MAX]; /* under save_lock: tasks
						 * whose record is kept */
	size_t n_meta_failed;
	/* under save_lock: the spare files of records/, out/ and the data
	 * directory (core_open) */
	struct store_spares spares[CORE_SPARE_DIRS];
	pthread_mutex_t lock; /* everything below; the last taken:
					 * core_lock, core_unlock */
#ifndef NDEBUG
	pthread_t lock_owner; /* for DEBUGASSERT(core_lock_held) */
	bool lock_owned;
#endif
	struct core_deferred *deferred; /* core_batch_begin .. _end */
	size_t n_deferred, cap_deferred;
	struct record_op *ops_head; /* records to write, in change order */
	struct record_op *ops_tail;
	struct task **tasks; /* sorted by seq */
	size_t n_tasks, cap_tasks;
	/* table.c: the same tasks by name, a chained hash of n_buckets (a
	 * power of two), each chain in descending seq, so that a job's tasks
	 * are found without a walk of the whole table */
	struct task **by_name;
	size_t n_buckets;
	uint64_t last_seq;
	bool records_set_aside;	 /* at this start: some job's is lost */
	struct output **outputs; /* sorted by name */
	size_t n_outputs, cap_outputs;
	struct writing *writing; /* writes in progress, unsorted */
	size_t n_writing, cap_writing;

	/* credits */
	bool credits_known;
	bool credits_fetching;
	struct timespec credits_at; /* CLOCK_MONOTONIC of the answer */
	double balance;
	char credits_error[ERROR_MAX];
	struct ledger ledger; /* today's spending (spent.json) */
	int64_t budget;	      /* millicredits a day, or LEDGER_NO_BUDGET */
};

/* c->lock, taken and released only here, so that a debug build knows
 * its owner: a function that expects the lock says
 * DEBUGASSERT(core_lock_held(c)). */
#ifndef NDEBUG
/* Only its owner can see the lock as held: another thread's read races
 * with the owner's writes, and an assertion that races is a bug found. */
static inline bool core_lock_held(const struct core *c)
{
	return c->lock_owned && pthread_equal(c->lock_owner, pthread_self());
}
#endif

static inline void core_lock(struct core *c)
{
	pthread_mutex_lock(&c->lock);
#ifndef NDEBUG
	c->lock_owner = pthread_self();
	c->lock_owned = true;
#endif
}

static inline void core_unlock(struct core *c)
{
#ifndef NDEBUG
	DEBUGASSERT(core_lock_held(c));
	c->lock_owned = false;
#endif
	pthread_mutex_unlock(&c->lock);
}

/* opts.c: what opts_sidecar.c shares with it */
#define BOOLS_TRUE "true yes on 1"
#define BOOLS_FALSE "false no off 0"
/* User text quoted in a message is cut to this many bytes. */
#define QUOTE_MAX 60
struct quoted {
	char s[QUOTE_MAX + 4];
};
/* s[0..n) made safe for a one-line message, in q (see opts.c). */
const char *core_opts_quote(struct quoted *q, const char *s, size_t n);
/* err = "LABEL: line N: MESSAGE" ("line N: " left out when line is 0).
 * Returns -1 for the caller to return. */
int core_opts_fail(char *err, size_t errlen, const char *label, int line,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void core_opts_lower_ascii(char *s);

/* jobs_download.c: move tmp/tmp_name, a whole download of output i of task
 * seq, into out/ as SEQ-I.EXT (its name into backing), durably, once it is
 * known to be an image; with texts, embedded into it first (embed.h), and
 * what was done said in `embedded`. 0, -EBADMSG when it is no image, or
 * -errno; on failure tmp/tmp_name is gone. With later_dir, out/ is not
 * synced here: the caller has it synced with the batch's metadata, before
 * any record that names the image is written (c->out_unsynced). */
struct tmp_keep {
	const char *tmp_name;
	uint64_t seq;
	size_t i;
	bool later_dir;
	const struct embed_texts *texts; /* NULL: embed_metadata=no */
	char backing[64];
	char embedded[EMBED_NOTE_MAX]; /* "" in: said by core_tmp_keep */
};
int core_tmp_keep(struct core *c, struct tmp_keep *k);

/* jobs.c: the hooks, called without any lock held */
void core_notify_job(struct core *c, const char *name);
void core_notify_ready(struct core *c, uint64_t seq);
void core_notify_outputs(struct core *c);
/* Under the lock: t leaves the table for good, record and all. */
void core_task_drop(struct core *c, struct task *t);
/* Under the lock: drop the tasks of job `name` that the table no longer
 * needs (core_table_keeps), records and all; their images stay in out/. A task
 * whose own name string `name` is stays. */
void core_prune_job(struct core *c, const char *name);

/* The most bytes of a record (records/SEQ.json). */
#define RECORD_MAX (4 * 1024 * 1024)

/* task.c: records */
struct task *core_task_new(uint64_t seq, const char *name);
void core_task_destroy(struct task *t);
int core_task_to_json(const struct task *t, struct buf *out);
/* SEQ.json, the name of t's record in records/ */
void core_task_record_name(const struct task *t, char *out, size_t outsz);
struct task *core_task_from_json(const char *text, size_t len, char *err,
				 size_t errlen);
/* Record t, durably, at once: only at start (core_open) or for a task not
 * in the table yet; otherwise through the queue below. */
int core_task_save(struct core *c, const struct task *t);
void core_task_delete_record(struct core *c, const struct task *t);
/* records.c: records off the core lock. Once the threads run, a task in the table is
 * recorded only through these: under the lock, its bytes are prepared and
 * queued in the order of the changes; without it, core_record_flush writes,
 * syncs and renames what is queued, in that order (two saves of one task
 * never land out of order, nor a save after the delete of its record).
 * durable false: only atomically, for a change a restart finds again by
 * asking the API (an image stored, a completion).
 * core_task_save_later: the caller reads the result with core_record_wait
 * (NULL: out of memory, core_record_wait says so). */
struct record_op *core_task_save_later(struct core *c, struct task *t,
				       bool durable);
void core_task_save_queued(struct core *c, struct task *t, bool durable);
void core_task_delete_later(struct core *c, const struct task *t);
/* out/FILE, the metadata of an image of task seq (data taken over),
 * durably, in the same order: before the record of the task that
 * published it. 0, or -ENOMEM. */
int core_meta_save_later(struct core *c, uint64_t seq, const char *file,
			 struct buf *data);
/* Delete dir_fd/file in the same order; core_record_wait says how it went
 * (NULL: out of memory). */
struct record_op *core_delete_later(struct core *c, int dir_fd,
				    const char *file);
/* A file of the data directory replaced atomically, not durably, in the
 * same order (spent.json). */
void core_write_later(struct core *c, int dir_fd, const char *file,
		      const struct buf *data);
/* Without the core lock: write what is queued. */
void core_record_flush(struct core *c);
/* Release the core lock, then write what this thread queued under it, if
 * anything (a submission that dropped nothing does not wait on a disk). */
void core_unlock_flush(struct core *c);
int core_record_wait(struct core *c, struct record_op *op);
/* jobs_status.c, under the lock: readers see t as it is now until
 * core_task_unhold; holds nest. */
void core_task_hold(struct task *t);
void core_task_unhold(struct task *t);
/* task.c */
double core_task_price(const struct task *t);
/* "read_mode" of a record or of an image's metadata into *mode, which
 * keeps its value when there is none (an older version's). -1 when
 * malformed. */
struct json_doc;
int core_load_read_mode(const struct json_doc *doc, mode_t *mode);

/* submit.c */
bool core_submit_input_unchanged(struct core *c, const struct task *t);
/* At start: every prompt file whose text its job never asked for (a kill
 * between a writer's close and the release that submits) gets a failed
 * task that says so; nothing is sent. Queued tasks are check_queued's; a
 * file without any task is left alone when a record was set aside. */
void core_submit_check_unsubmitted(struct core *c);
/* core_read_mode of jobs/NAME.txt as it is now; 0400 when it cannot be
 * seen (a private default). */
mode_t core_submit_read_mode(struct core *c, const char *name);

/* writing.c: writes in progress, under the lock */
struct writing *core_writing_find(const struct core *c, const char *name);
/* status/NAME while w is in progress: queued, and why */
int core_writing_render(const struct writing *w, struct buf *out,
			struct core_status_info *info);
/* Add a copy of the name of every job in progress that has no visible
 * task to names (room for c->n_writing more); the number added (a copy
 * may be NULL: out of memory). */
size_t core_writing_names(const struct core *c, char **names);
/* Is a job below folder path ("a/b") being written? */
bool core_writing_below(const struct core *c, const char *path);
void core_writing_free(struct core *c);

/* outputs.c: out/ */
int core_outputs_load(struct core *c);
void core_outputs_free(struct core *c);
int core_outputs_publish(struct core *c, struct task *t, bool current);
void core_outputs_recover(struct core *c);
/* Under the lock: the image called name in out/, or NULL. */
struct output *core_outputs_find(struct core *c, const char *name);
/* The first output whose name sorts at or after prefix + rest, or NULL. */
struct output *core_outputs_from(struct core *c, const char *prefix,
				 const char *rest);

/* credits.c: the balance cache, today's spending and the budget. The
 * charge transitions of a task, called under the lock: */
void core_credits_load(struct core *c);
/* Before a creation is sent: hold its credits, or (the daily budget would
 * be exceeded) fail t with budget_exceeded and return -EDQUOT. */
int core_charge_reserve(struct core *c, struct task *t);
/* The creation's answer: created, not created, lost (maybe created). */
void core_charge_created(struct core *c, struct task *t);
void core_charge_not_created(struct core *c, struct task *t);
void core_charge_lost(struct core *c, struct task *t);
/* A created task failed before its images were ready: the API gives its
 * credits back. */
void core_charge_refunded(struct core *c, struct task *t);

/* jobs_status.c: time helpers */
void core_format_utc(time_t t, char *out, size_t outsz);

#endif
