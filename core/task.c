/* Task records: one JSON object per task in DATA_DIR/records/SEQ.json. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/json.h"
#include "util/log.h"

#define RECORD_MAX (4 * 1024 * 1024)
#define RECORD_TOKENS 256

static const char *const state_words[] = {
	[TASK_QUEUED] = "queued",	    [TASK_SENDING] = "sending",
	[TASK_PENDING] = "pending",	    [TASK_PROCESSING] = "processing",
	[TASK_DOWNLOADING] = "downloading", [TASK_COMPLETED] = "completed",
	[TASK_FAILED] = "failed",
};

const char *core_task_state_word(enum task_state st)
{
	return state_words[st];
}

static const char *const charge_words[] = {
	[CHARGE_NONE] = "none",	  [CHARGE_HELD] = "held",
	[CHARGE_SPENT] = "spent", [CHARGE_REFUNDED] = "refunded",
	[CHARGE_DOUBT] = "doubt",
};

/* A record of an earlier version has no "charge": tell it from the rest. */
static enum task_charge charge_of_old_record(const struct task *t)
{
	if (t->task_id[0])
		return CHARGE_SPENT;
	if (t->state == TASK_SENDING)
		return CHARGE_HELD;
	/* the words of every "answer lost" failure */
	if (strstr(t->error, "may have been created"))
		return CHARGE_DOUBT;
	return CHARGE_NONE;
}

static int load_charge(struct task *t, const struct json_doc *doc)
{
	char *w = json_member_string(doc, 0, "charge", 16);
	size_t i;

	if (!w) {
		t->charge = charge_of_old_record(t);
		return 0;
	}
	for (i = 0; i < sizeof(charge_words) / sizeof(charge_words[0]); i++) {
		if (strcmp(w, charge_words[i]) == 0) {
			t->charge = (enum task_charge)i;
			free(w);
			return 0;
		}
	}
	free(w);
	return -1;
}

static int state_from_word(const char *w, enum task_state *st)
{
	size_t i;

	for (i = 0; i < sizeof(state_words) / sizeof(state_words[0]); i++) {
		if (strcmp(w, state_words[i]) == 0) {
			*st = (enum task_state)i;
			return 0;
		}
	}
	return -1;
}

struct task *core_task_new(uint64_t seq, const char *name)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->seq = seq;
	t->read_mode = CORE_READ_MODE_DEFAULT;
	t->name = strdup(name);
	if (!t->name) {
		free(t);
		return NULL;
	}
	return t;
}

void core_task_destroy(struct task *t)
{
	size_t i;

	if (!t)
		return;
	free(t->name);
	free(t->prompt);
	free(t->opts_json);
	core_opts_free(&t->opts);
	if (t->shown) {
		buf_free(&t->shown->text);
		free(t->shown);
	}
	for (i = 0; i < OPTS_MAX_URLS; i++) {
		free(t->urls[i]);
		free(t->stored[i]);
		free(t->published[i]);
	}
	free(t);
}

double core_task_price(const struct task *t)
{
	return core_opts_price(&t->opts);
}

static void record_name(const struct task *t, char *out, size_t outsz)
{
	snprintf(out, outsz, "%016" PRIu64 ".json", t->seq);
}

int core_task_to_json(const struct task *t, struct buf *b)
{
	size_t i;
	int rc = 0;

	buf_reset(b);
	rc |= buf_printf(b, "{\"seq\":%" PRIu64 ",\"name\":", t->seq);
	rc |= json_add_cstr(b, t->name);
	rc |= buf_printf(b, ",\"state\":\"%s\",\"prompt\":",
			 core_task_state_word(t->state));
	rc |= json_add_string(b, t->prompt ? t->prompt : "", t->prompt_len);
	rc |= buf_printf(b, ",\"options\":%s,\"task_id\":",
			 t->opts_json ? t->opts_json : "{}");
	rc |= json_add_cstr(b, t->task_id);
	rc |= buf_printf(b, ",\"submitted\":%lld,\"updated\":%lld,\"error\":",
			 (long long)t->submitted, (long long)t->updated);
	rc |= json_add_cstr(b, t->error);
	rc |= buf_printf(b, ",\"sent\":%lld,\"charge\":\"%s\"",
			 (long long)t->sent, charge_words[t->charge]);
	rc |= buf_printf(b, ",\"unreached\":%lld", (long long)t->unreached);
	rc |= buf_printf(b, ",\"read_mode\":%u", (unsigned)t->read_mode);
	rc |= buf_printf(b, ",\"forgotten\":%s,\"urls\":[",
			 t->forgotten ? "true" : "false");
	for (i = 0; i < t->n_urls; i++) {
		rc |= buf_addstr(b, i ? "," : "");
		rc |= json_add_cstr(b, t->urls[i]);
	}
	rc |= buf_addstr(b, "],\"stored\":[");
	for (i = 0; i < t->n_urls; i++) {
		rc |= buf_addstr(b, i ? "," : "");
		rc |= json_add_cstr(b, t->stored[i] ? t->stored[i] : "");
	}
	rc |= buf_addstr(b, "],\"outputs\":[");
	for (i = 0; i < t->n_urls; i++) {
		rc |= buf_addstr(b, i ? "," : "");
		rc |= json_add_cstr(b, t->published[i] ? t->published[i] : "");
	}
	rc |= buf_addstr(b, "]}\n");
	return rc ? -ENOMEM : 0;
}

static int load_strings(const struct json_doc *doc, int arr, char **dst,
			size_t *n)
{
	int i, k, len = json_array_len(doc, arr);

	if (len < 0 || len > OPTS_MAX_URLS)
		return -1;
	for (k = 0, i = arr + 1; k < len; k++, i = json_skip(doc, i)) {
		dst[k] = json_get_string(doc, i, OPTS_MAX_URL_LEN);
		if (!dst[k])
			return -1;
	}
	if (n)
		*n = (size_t)len;
	return 0;
}

/* Times and sequence numbers in records: whole, not negative, and far
 * from where a cast to time_t or uint64_t could go wrong. */
#define RECORD_NUMBER_MAX (1ULL << 52)

static int load_number(const struct json_doc *doc, const char *key,
		       uint64_t *out)
{
	return json_get_uint(doc, json_get(doc, 0, key), RECORD_NUMBER_MAX,
			     out);
}

int core_load_read_mode(const struct json_doc *doc, mode_t *mode)
{
	uint64_t num;

	if (json_get(doc, 0, "read_mode") < 0)
		return 0; /* an older record: *mode keeps the default */
	if (json_get_uint(doc, json_get(doc, 0, "read_mode"), 0777, &num) < 0)
		return -1;
	*mode = core_read_mode((mode_t)num);
	return 0;
}

static int load_options(struct task *t, const struct json_doc *doc, int i)
{
	char err[256];
	struct buf canon;
	int rc;

	if (!json_is_object(doc, i))
		return -1;
	core_opts_init(&t->opts, "auto", "1k", true);
	if (doc->tok[i].size == 0)
		return 0; /* {}: not known (struct task, opts_json) */
	if (core_opts_parse_json(&t->opts, "record",
				 doc->text + doc->tok[i].start,
				 (size_t)(doc->tok[i].end - doc->tok[i].start),
				 err, sizeof(err)) < 0)
		return -1;
	buf_init(&canon, 1 << 20);
	rc = core_opts_to_json(&t->opts, &canon);
	t->opts_json = rc == 0 ? buf_detach(&canon) : NULL;
	buf_free(&canon);
	return t->opts_json ? 0 : -1;
}

/* "" in a record's list means none. */
static void drop_empty(char **s)
{
	if (*s && **s == '\0') {
		free(*s);
		*s = NULL;
	}
}

static int load_fields(struct task *t, const struct json_doc *doc)
{
	char *s;
	uint64_t num;
	size_t n_stored = 0, n_published = 0, i;
	bool b = false;

	s = json_member_string(doc, 0, "state", 32);
	if (!s || state_from_word(s, &t->state) < 0) {
		free(s);
		return -1;
	}
	free(s);
	t->prompt = json_member_string(doc, 0, "prompt", RECORD_MAX);
	if (!t->prompt)
		return -1;
	t->prompt_len = strlen(t->prompt);
	if (load_options(t, doc, json_get(doc, 0, "options")) < 0)
		return -1;
	s = json_member_string(doc, 0, "task_id", TASK_ID_MAX);
	if (!s)
		return -1;
	snprintf(t->task_id, sizeof(t->task_id), "%s", s);
	free(s);
	s = json_member_string(doc, 0, "error", ERROR_MAX - 1);
	if (!s)
		return -1;
	snprintf(t->error, sizeof(t->error), "%s", s);
	free(s);
	if (load_number(doc, "submitted", &num) < 0)
		return -1;
	t->submitted = (time_t)num;
	if (load_number(doc, "updated", &num) < 0)
		return -1;
	t->updated = (time_t)num;
	/* "sent", "unreached", "charge" and "read_mode" are newer than the
	 * rest: optional */
	if (json_get(doc, 0, "sent") >= 0) {
		if (load_number(doc, "sent", &num) < 0)
			return -1;
		t->sent = (time_t)num;
	}
	if (json_get(doc, 0, "unreached") >= 0) {
		if (load_number(doc, "unreached", &num) < 0)
			return -1;
		t->unreached = (time_t)num;
	}
	if (load_charge(t, doc) < 0)
		return -1;
	if (core_load_read_mode(doc, &t->read_mode) < 0)
		return -1;
	json_get_bool(doc, json_get(doc, 0, "forgotten"), &b);
	t->forgotten = b;
	if (load_strings(doc, json_get(doc, 0, "urls"), t->urls, &t->n_urls) <
	    0)
		return -1;
	if (load_strings(doc, json_get(doc, 0, "stored"), t->stored,
			 &n_stored) < 0 ||
	    n_stored != t->n_urls)
		return -1;
	if (load_strings(doc, json_get(doc, 0, "outputs"), t->published,
			 &n_published) < 0 ||
	    n_published != t->n_urls)
		return -1;
	for (i = 0; i < t->n_urls; i++) {
		drop_empty(&t->stored[i]);
		drop_empty(&t->published[i]);
	}
	return 0;
}

struct task *core_task_from_json(const char *text, size_t len, char *err,
				 size_t errlen)
{
	struct json_doc doc;
	struct task *t = NULL;
	char *name;
	uint64_t seq;

	if (json_parse(&doc, text, len, RECORD_TOKENS) < 0 ||
	    !json_is_object(&doc, 0)) {
		snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
	name = json_member_string(&doc, 0, "name", 1024);
	/* the name becomes a file name: one path component */
	if (!name || !name[0] || strchr(name, '/') ||
	    load_number(&doc, "seq", &seq) < 0 || seq < 1) {
		snprintf(err, errlen, "no name or seq");
		goto out;
	}
	t = core_task_new(seq, name);
	if (t && load_fields(t, &doc) < 0) {
		snprintf(err, errlen, "a field is missing or malformed");
		core_task_destroy(t);
		t = NULL;
	}
out:
	free(name);
	json_doc_free(&doc);
	return t;
}

int core_task_save(struct core *c, const struct task *t)
{
	char file[64];
	struct buf b;
	int rc;

	buf_init(&b, RECORD_MAX);
	rc = core_task_to_json(t, &b);
	record_name(t, file, sizeof(file));
	if (rc == 0)
		rc = core_store_write_sealed(&c->store, c->store.records_fd,
					     file, &b, true);
	buf_free(&b);
	if (rc < 0)
		log_err("cannot record task %" PRIu64 " of %s: %s", t->seq,
			t->name, strerror(-rc));
	return rc;
}

/* ---- records off the core lock ---- */

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
	record_name(t, op->file, sizeof(op->file));
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

	record_name(t, file, sizeof(file));
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

static void op_perform(struct core *c, struct record_op *op)
{
	switch (op->kind) {
	case RECORD_SEALED:
		op->rc =
			core_store_write_sealed(&c->store, op->dir_fd, op->file,
						&op->data, op->durable);
		if (op->rc < 0)
			log_err("cannot record task %" PRIu64 ": %s", op->seq,
				strerror(-op->rc));
		break;
	case RECORD_META:
		op->rc = core_store_write_sealed(&c->store, op->dir_fd,
						 op->file, &op->data, true);
		if (op->rc < 0) {
			log_err("cannot write out/%s: %s (its image stays in "
				"the data directory; the next start shows it "
				"in out/)",
				op->file, strerror(-op->rc));
			meta_failed(c, op->seq);
		}
		break;
	case RECORD_PLAIN:
		op->rc = core_store_write_atomic(op->dir_fd, op->file,
						 op->data.data, op->data.len,
						 false);
		if (op->rc < 0)
			log_warn("cannot record %s/%s: %s", c->store.path,
				 op->file, strerror(-op->rc));
		break;
	case RECORD_DELETE:
		if (op->dir_fd == c->store.records_fd &&
		    keeps_record(c, op->seq)) {
			log_warn("records/%s kept: an image of the task has no "
				 "metadata",
				 op->file);
			break;
		}
		op->rc = core_store_unlink(op->dir_fd, op->file);
		break;
	}
}

/* The save lock makes the writer one thread at a time, taking the queue
 * in order: what it holds while it writes is not the core lock, so status/
 * stays readable. When it returns, everything queued before the call is
 * on disk (or failed): a writer that took an op of ours finished it before
 * letting go of the save lock. */
void core_record_flush(struct core *c)
{
	struct record_op *op;

	pthread_mutex_lock(&c->save_lock);
	for (;;) {
		core_lock(c);
		op = c->ops_head;
		if (op) {
			c->ops_head = op->next;
			if (!c->ops_head)
				c->ops_tail = NULL;
		}
		core_unlock(c);
		if (!op)
			break;
		op_perform(c, op);
		if (!op->awaited)
			op_free(op);
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

void core_task_delete_record(struct core *c, const struct task *t)
{
	char file[64];

	record_name(t, file, sizeof(file));
	core_store_unlink(c->store.records_fd, file);
}
