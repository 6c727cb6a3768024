/* Records off the core lock (see internal.h): queued under it in the order
 * of the changes, written without it by one thread at a time, in batches.
 *
 * A batch is what was queued while the previous one was written, up to
 * and with its first removal. It costs one data sync and one sync of each
 * directory it touched, instead of one of each per file: every temporary
 * file is written, then all are synced (one syncfs, or fdatasync when
 * there is one), then renamed in queue order (image metadata ahead of the
 * records), then the directories synced. Order and durability stay those
 * of one write at a time where anything depends on them: two writes of one
 * file land in order (or only the later one), a removal after everything
 * before it; a directory is synced before a change in another directory,
 * or a removal, follows a durable change in it; and the flush returns only
 * once all of it is synced. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "util/log.h"

enum record_kind { RECORD_SEALED, RECORD_META, RECORD_PLAIN, RECORD_DELETE };

/* One write of the queue: prepared under the core lock, performed by
 * core_record_flush without it. */
struct record_op {
	struct record_op *next;
	enum record_kind kind;
	int dir_fd;
	char file[80]; /* the longest: out/'s SEQ-I.EXT.json */
	struct buf data;
	bool durable;
	bool awaited; /* its queuer reads rc (core_record_wait)
				 * and frees it */
	uint64_t seq; /* the task's: the log, META_FAILED */
	int rc;
	/* in a batch: a later write of the same file that carries this
	 * one's change (this one is then not written) */
	struct record_op *super;
	unsigned spare; /* the spare file it is written in (store.h) */
	bool staged;	/* its spare is written */
	bool committed; /* renamed into place, or removed */
};

static struct record_op *op_new(enum record_kind kind, int dir_fd)
{
	struct record_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->kind = kind;
	op->dir_fd = dir_fd;
	buf_init(&op->data, RECORD_MAX);
	return op;
}

static void op_free(struct record_op *op)
{
	buf_free(&op->data);
	free(op);
}

/* Under the lock: op goes last in the queue. */
static void op_queue(struct core *c, struct record_op *op)
{
	DEBUGASSERT(core_lock_held(c));
	if (c->ops_tail)
		c->ops_tail->next = op;
	else
		c->ops_head = op;
	c->ops_tail = op;
}

static struct record_op *op_save(struct core *c, const struct task *t,
				 bool durable)
{
	struct record_op *op = op_new(RECORD_SEALED, c->store.records_fd);

	if (op && core_task_to_json(t, &op->data) < 0) {
		op_free(op);
		op = NULL;
	}
	if (!op) {
		log_err("cannot record task %" PRIu64 " of %s: %s", t->seq,
			t->name, strerror(ENOMEM));
		return NULL;
	}
	core_task_record_name(t, op->file, sizeof(op->file));
	op->durable = durable;
	op->seq = t->seq;
	op_queue(c, op);
	return op;
}

struct record_op *core_task_save_later(struct core *c, struct task *t,
				       bool durable)
{
	struct record_op *op = op_save(c, t, durable);

	if (op)
		op->awaited = true;
	return op;
}

void core_task_save_queued(struct core *c, struct task *t, bool durable)
{
	op_save(c, t, durable);
}

/* Under the lock: queue the delete of dir_fd/file (task seq's). */
static struct record_op *op_delete(struct core *c, int dir_fd, const char *file,
				   uint64_t seq, bool awaited)
{
	struct record_op *op = op_new(RECORD_DELETE, dir_fd);

	if (!op)
		return NULL;
	snprintf(op->file, sizeof(op->file), "%s", file);
	op->seq = seq;
	op->awaited = awaited;
	op_queue(c, op);
	return op;
}

void core_task_delete_later(struct core *c, const struct task *t)
{
	char file[64];

	core_task_record_name(t, file, sizeof(file));
	if (!op_delete(c, c->store.records_fd, file, t->seq, false))
		/* the record stays; the next start drops it */
		log_err("cannot delete the record of task %" PRIu64 ": %s",
			t->seq, strerror(ENOMEM));
}

int core_meta_save_later(struct core *c, uint64_t seq, const char *file,
			 struct buf *data)
{
	struct record_op *op = op_new(RECORD_META, c->store.out_fd);

	if (!op)
		return -ENOMEM;
	snprintf(op->file, sizeof(op->file), "%s", file);
	buf_free(&op->data);
	op->data = *data; /* taken over */
	buf_init(data, data->max);
	op->durable = true;
	op->seq = seq;
	op_queue(c, op);
	return 0;
}

/* Under save_lock: the metadata of an image of task seq could not be
 * written. Its record is kept from now on, so that the next start finds
 * the task and shows the image (core_outputs_recover); the last
 * META_FAILED_MAX such tasks are remembered. */
static void meta_failed(struct core *c, uint64_t seq)
{
	c->meta_failed[c->n_meta_failed++ % META_FAILED_MAX] = seq;
}

static bool keeps_record(const struct core *c, uint64_t seq)
{
	size_t i, n = c->n_meta_failed < META_FAILED_MAX ? c->n_meta_failed :
							   META_FAILED_MAX;

	for (i = 0; i < n; i++) {
		if (c->meta_failed[i] == seq)
			return true;
	}
	return false;
}

struct record_op *core_delete_later(struct core *c, int dir_fd,
				    const char *file)
{
	return op_delete(c, dir_fd, file, 0, true);
}

void core_write_later(struct core *c, int dir_fd, const char *file,
		      const struct buf *data)
{
	struct record_op *op = op_new(RECORD_PLAIN, dir_fd);

	if (op && buf_add(&op->data, data->data, data->len) == 0) {
		snprintf(op->file, sizeof(op->file), "%s", file);
		op_queue(c, op);
		return;
	}
	if (op)
		op_free(op);
	log_warn("cannot record %s/%s: %s", c->store.path, file,
		 strerror(ENOMEM));
}

/* ---- the batched flush ---- */

/* The most ops one flush takes from the queue at once: its arrays are on
 * the stack. A longer queue is flushed in several batches. */
#define BATCH_MAX 1024
#define BATCH_SLOTS (2 * BATCH_MAX) /* open addressing, half full at most */
/* The directories a batch may touch: records/, out/, the data directory */
#define BATCH_DIRS 8

static bool is_write(const struct record_op *op)
{
	return op->kind != RECORD_DELETE;
}

static size_t file_hash(const struct record_op *op)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (unsigned)op->dir_fd;
	const char *p;

	for (p = op->file; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return (size_t)h;
}

/* A record (or spent.json) written twice in one batch is written once,
 * with the later bytes, durably if either was: the later bytes hold the
 * earlier change. Image metadata is never superseded (written once, and
 * what a record that follows it names). A removal ends its batch
 * (take_batch), so no write jumps over it: the new record of a job is on
 * disk before the old ones are removed, and no file has two temporary
 * files in one batch. */
static void supersede(struct record_op **ops, size_t n)
{
	int16_t slot[BATCH_SLOTS];
	size_t i, h;

	memset(slot, -1, sizeof(slot));
	for (i = n; i-- > 0;) {
		struct record_op *op = ops[i];

		if (op->kind != RECORD_SEALED && op->kind != RECORD_PLAIN)
			continue;
		for (h = file_hash(op) % BATCH_SLOTS; slot[h] >= 0;
		     h = (h + 1) % BATCH_SLOTS) {
			struct record_op *later = ops[slot[h]];

			if (later->dir_fd == op->dir_fd &&
			    strcmp(later->file, op->file) == 0) {
				op->super = later;
				later->durable |= op->durable;
				break;
			}
		}
		if (!op->super)
			slot[h] = (int16_t)i;
	}
}

/* The bytes of op to write: records and metadata get their seal. */
static int op_bytes(struct core *c, struct record_op *op)
{
	if (op->kind == RECORD_PLAIN)
		return 0;
	return core_store_seal(c->store.key, op->file, &op->data);
}

/* Under save_lock: the spares of the store's folder dir_fd. */
static struct store_spares *spares_of(struct core *c, int dir_fd)
{
	size_t i;

	for (i = 0; i < CORE_SPARE_DIRS - 1; i++) {
		if (c->spares[i].dir_fd == dir_fd)
			break;
	}
	DEBUGASSERT(c->spares[i].dir_fd == dir_fd);
	return &c->spares[i];
}

/* Write the temporary file of every op that writes. When there is only
 * one, it is synced on its own, else all at once afterwards (measured on
 * ext4: one syncfs costs less than two fdatasync). */
static void stage(struct core *c, struct record_op **ops, size_t n)
{
	size_t i, writes = 0;
	int rc;

	for (i = 0; i < n; i++)
		writes += is_write(ops[i]) && !ops[i]->super;
	for (i = 0; i < n; i++) {
		struct record_op *op = ops[i];

		if (!is_write(op) || op->super)
			continue;
		op->rc = op_bytes(c, op);
		if (op->rc == 0)
			op->rc = core_spares_write(spares_of(c, op->dir_fd),
						   op->data.data, op->data.len,
						   writes == 1, &op->spare);
		op->staged = op->rc == 0;
	}
	if (writes < 2)
		return;
	/* the data of every temporary on disk before any rename: a power
	 * loss after a rename never finds an empty file */
	rc = core_store_sync_data(&c->store);
	for (i = 0; rc < 0 && i < n; i++) {
		if (ops[i]->staged) {
			core_spares_drop(spares_of(c, ops[i]->dir_fd),
					 ops[i]->spare);
			ops[i]->staged = false;
			ops[i]->rc = rc;
		}
	}
}

/* Directories with durable changes made since they were last synced. */
struct dirty {
	int fd[BATCH_DIRS];
	size_t n;
};

static void dirty_add(struct dirty *d, int fd)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (d->fd[i] == fd)
			return;
	}
	DEBUGASSERT(d->n < BATCH_DIRS);
	if (d->n < BATCH_DIRS)
		d->fd[d->n++] = fd;
	else
		fsync(fd); /* more folders than a store has: sync at once */
}

static void log_failure(struct core *c, const struct record_op *op)
{
	switch (op->kind) {
	case RECORD_SEALED:
		log_err("cannot record task %" PRIu64 ": %s", op->seq,
			strerror(-op->rc));
		break;
	case RECORD_META:
		log_err("cannot write out/%s: %s (its image stays in the data "
			"directory; the next start shows it in out/)",
			op->file, strerror(-op->rc));
		meta_failed(c, op->seq);
		break;
	case RECORD_PLAIN:
		log_warn("cannot record %s/%s: %s", c->store.path, op->file,
			 strerror(-op->rc));
		break;
	case RECORD_DELETE:
		break;
	}
}

/* fsync the dirty directories (all of them, or all but `except`); a
 * failure is the result of every durable change of the batch made
 * there. */
static void dirty_sync(struct core *c, struct dirty *d, int except,
		       struct record_op **ops, size_t n)
{
	size_t i, j, kept = 0;

	for (i = 0; i < d->n; i++) {
		int fd = d->fd[i], rc;

		if (fd == except) {
			d->fd[kept++] = fd;
			continue;
		}
		rc = fsync(fd) < 0 ? -errno : 0;
		if (rc == 0)
			core_spares_settle(spares_of(c, fd));
		else /* what follows is written all the same */
			log_err("%s/%s: cannot sync: %s", c->store.path,
				fd == c->store.records_fd ? "records" :
				fd == c->store.out_fd	  ? "out" :
							    ".",
				strerror(-rc));
		for (j = 0; rc < 0 && j < n; j++) {
			if (ops[j]->dir_fd == fd && ops[j]->committed &&
			    ops[j]->rc == 0 &&
			    (ops[j]->durable || !is_write(ops[j]))) {
				ops[j]->rc = rc;
				/* metadata renamed, but perhaps not for
				 * good: kept as when its rename fails, with
				 * the task's record (records' callers see
				 * rc) */
				if (ops[j]->kind == RECORD_META)
					log_failure(c, ops[j]);
			}
		}
	}
	d->n = kept;
}

/* Op i of the batch. What came before it in another directory is made
 * durable first where a power loss must not undo it while keeping this
 * (image metadata before the record that completes its task), and before
 * a removal everything is. */
static void commit(struct core *c, struct record_op **ops, size_t n, size_t i,
		   struct dirty *d)
{
	struct record_op *op = ops[i];

	if (op->kind == RECORD_DELETE) {
		if (op->dir_fd == c->store.records_fd &&
		    keeps_record(c, op->seq)) {
			log_warn("records/%s kept: an image of the task has no "
				 "metadata",
				 op->file);
			return;
		}
		dirty_sync(c, d, -1, ops, n);
		op->rc = core_store_remove(op->dir_fd, op->file);
		op->committed = op->rc == 0;
		if (op->committed)
			dirty_add(d, op->dir_fd);
		return;
	}
	if (op->staged) {
		dirty_sync(c, d, op->dir_fd, ops, n);
		/* swapped when durable: its folder is synced in this batch,
		 * which settles the old file as a spare. Metadata takes a
		 * new name, never swapped: a folder in its way stays there,
		 * and the write fails */
		op->rc = core_spares_commit(
			spares_of(c, op->dir_fd), op->spare, op->file,
			op->durable && op->kind != RECORD_META);
		op->committed = op->rc == 0;
		if (op->committed && op->durable)
			dirty_add(d, op->dir_fd);
	}
	if (op->rc < 0)
		log_failure(c, op);
}

/* Under save_lock: ops[0..n), taken from the queue in its order, a
 * removal only last. Image metadata is renamed first, so that the records
 * after it cost one sync of out/, not one each: metadata stays in its own
 * order, and a record only lands later than it would have, after metadata
 * it does not depend on. */
static void batch_perform(struct core *c, struct record_op **ops, size_t n)
{
	struct dirty d = { .n = 0 };
	size_t i;

	/* images moved into out/ (core_task_output) are there for good
	 * before a record that names them: out/ is synced with the batch's
	 * metadata, before any record (the flag is set before such a record
	 * is queued, so the batch that takes it sees the flag) */
	if (atomic_exchange(&c->out_unsynced, false))
		dirty_add(&d, c->store.out_fd);
	supersede(ops, n);
	stage(c, ops, n);
	for (i = 0; i < n; i++) {
		if (ops[i]->kind == RECORD_META)
			commit(c, ops, n, i, &d);
	}
	for (i = 0; i < n; i++) {
		if (ops[i]->kind != RECORD_META && !ops[i]->super)
			commit(c, ops, n, i, &d);
	}
	dirty_sync(c, &d, -1, ops, n);
	/* a superseded op went to disk as its last successor did */
	for (i = n; i-- > 0;) {
		if (ops[i]->super)
			ops[i]->rc = ops[i]->super->rc;
	}
}

/* Under the lock: up to BATCH_MAX ops off the head of the queue, up to
 * and with the first removal. */
static size_t take_batch(struct core *c, struct record_op **ops)
{
	size_t n = 0;

	core_lock(c);
	while (c->ops_head && n < BATCH_MAX &&
	       (n == 0 || ops[n - 1]->kind != RECORD_DELETE)) {
		ops[n++] = c->ops_head;
		c->ops_head = c->ops_head->next;
	}
	if (!c->ops_head)
		c->ops_tail = NULL;
	core_unlock(c);
	return n;
}

/* The save lock makes the writer one thread at a time, taking the queue
 * in order: what it holds while it writes is not the core lock, so status/
 * stays readable. What queues up while it writes is the next batch, which
 * shares its syncs (a group commit). When it returns, everything queued
 * before the call is on disk (or failed): a writer that took an op of ours
 * finished it before letting go of the save lock. */
void core_record_flush(struct core *c)
{
	struct record_op *ops[BATCH_MAX];
	size_t n, i;

	pthread_mutex_lock(&c->save_lock);
	while ((n = take_batch(c, ops)) > 0) {
		batch_perform(c, ops, n);
		for (i = 0; i < n; i++) {
			if (!ops[i]->awaited)
				op_free(ops[i]);
		}
	}
	pthread_mutex_unlock(&c->save_lock);
}

void core_unlock_flush(struct core *c)
{
	/* what this thread queued under the lock is still queued: nobody
	 * takes an op without the lock */
	bool queued = c->ops_head != NULL;

	core_unlock(c);
	if (queued)
		core_record_flush(c);
}

int core_record_wait(struct core *c, struct record_op *op)
{
	int rc;

	core_record_flush(c);
	if (!op)
		return -ENOMEM;
	rc = op->rc;
	op_free(op);
	return rc;
}
