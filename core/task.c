/* Task records: one JSON object per task in DATA_DIR/records/SEQ.json. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/json.h"
#include "util/log.h"

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
		free(t->embedded[i]);
		free(t->published[i]);
	}
	free(t);
}

double core_task_price(const struct task *t)
{
	return core_opts_price(&t->opts);
}

void core_task_record_name(const struct task *t, char *out, size_t outsz)
{
	snprintf(out, outsz, "%016" PRIu64 ".json", t->seq);
}

/* ,"key":[...] of n strings, "" for a NULL one. */
static int add_strings(struct buf *b, const char *key, char *const *s, size_t n)
{
	size_t i;
	int rc = buf_printf(b, ",\"%s\":[", key);

	for (i = 0; i < n; i++) {
		rc |= buf_addstr(b, i ? "," : "");
		rc |= json_add_cstr(b, s[i] ? s[i] : "");
	}
	return rc | buf_addstr(b, "]");
}

int core_task_to_json(const struct task *t, struct buf *b)
{
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
	rc |= buf_printf(b, ",\"forgotten\":%s",
			 t->forgotten ? "true" : "false");
	rc |= add_strings(b, "urls", t->urls, t->n_urls);
	rc |= add_strings(b, "stored", t->stored, t->n_urls);
	rc |= add_strings(b, "embedded", t->embedded, t->n_urls);
	rc |= add_strings(b, "outputs", t->published, t->n_urls);
	rc |= buf_addstr(b, "}\n");
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
	size_t n_stored = 0, n_published = 0, n_embedded = 0, i;
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
	/* "embedded" is newer than the rest: optional */
	if (json_get(doc, 0, "embedded") >= 0 &&
	    (load_strings(doc, json_get(doc, 0, "embedded"), t->embedded,
			  &n_embedded) < 0 ||
	     n_embedded != t->n_urls))
		return -1;
	for (i = 0; i < t->n_urls; i++) {
		drop_empty(&t->stored[i]);
		drop_empty(&t->embedded[i]);
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
	name = json_member_string(&doc, 0, "name", CORE_NAME_MAX);
	/* the name becomes a path under jobs/ and out/ */
	if (!name || !core_name_ok(name) ||
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
	core_task_record_name(t, file, sizeof(file));
	if (rc == 0)
		rc = core_store_write_sealed(&c->store, c->store.records_fd,
					     file, &b, true);
	buf_free(&b);
	if (rc < 0)
		log_err("cannot record task %" PRIu64 " of %s: %s", t->seq,
			t->name, strerror(-rc));
	return rc;
}

void core_task_delete_record(struct core *c, const struct task *t)
{
	char file[64];

	core_task_record_name(t, file, sizeof(file));
	core_store_unlink(c->store.records_fd, file);
}
