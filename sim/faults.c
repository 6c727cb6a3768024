/* Fault rules: parsing a rule from JSON, and picking the rule that hits a
 * request. The caller holds the simulator's lock. */
#include "faults.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "jsoncheck.h"
#include "reply.h"
#include "util/json.h"

#define RULE_MAX_TOKENS 64
#define MAX_DELAY_MS 600000
#define MAX_COUNT 1000000000
#define REDIRECT_STATUS 302
#define REDIRECT_LOCATION "http://127.0.0.1:9/moved"

static const char *const endpoint_names[] = {
	[SIM_EP_CREATE] = "create",   [SIM_EP_TASK] = "task",
	[SIM_EP_CREDITS] = "credits", [SIM_EP_FILE] = "file",
	[SIM_EP_ANY] = "any",
};

static const char *const action_names[] = {
	[SIM_FAULT_ERROR] = "error",
	[SIM_FAULT_DROP_BEFORE] = "drop_before",
	[SIM_FAULT_DROP_AFTER] = "drop_after",
	[SIM_FAULT_STALL] = "stall",
	[SIM_FAULT_TRUNCATE] = "truncate",
	[SIM_FAULT_SLOW] = "slow",
	[SIM_FAULT_MALFORMED] = "malformed",
	[SIM_FAULT_REDIRECT] = "redirect",
};

void sim_faults_init(struct sim_faults *fs)
{
	fs->n = 0;
	if (getrandom(&fs->rng, sizeof(fs->rng), 0) != sizeof(fs->rng))
		fs->rng = 0x9e3779b97f4a7c15ull;
	fs->rng |= 1;
}

void sim_faults_clear(struct sim_faults *fs)
{
	fs->n = 0;
}

/* Index of name in names[0..n), or -1. */
static int lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static bool is_code(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

static bool is_header_value(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Copy string member `key` into out[outlen]; 1 when absent, -1 when not a
 * string or too long. */
static int get_str(const struct json_doc *doc, const char *key, char *out,
		   size_t outlen)
{
	int i = json_get(doc, 0, key);
	char *s;

	if (i < 0)
		return 1;
	s = json_get_string(doc, i, outlen - 1);
	if (!s)
		return -1;
	snprintf(out, outlen, "%s", s);
	free(s);
	return 0;
}

/* Integer member `key` in [0, max] into out; 1 when absent, -1 if bad. */
static int get_uint(const struct json_doc *doc, const char *key, double max,
		    double *out)
{
	int i = json_get(doc, 0, key);

	if (i < 0)
		return 1;
	if (json_get_number(doc, i, out) < 0 || *out < 0 || *out > max ||
	    floor(*out) != *out)
		return -1;
	return 0;
}

static int check_members(const struct json_doc *doc, char *err, size_t errlen)
{
	static const char *const known[] = {
		"endpoint", "action",	   "status",   "code",
		"message",  "retry_after", "delay_ms", "bytes",
		"count",    "rate",	   "location",
	};
	int i = 1;

	for (int m = 0; m < doc->tok[0].size; m++) {
		char *key = json_get_string(doc, i, 64);

		if (!key ||
		    lookup(known, sizeof(known) / sizeof(*known), key) < 0) {
			snprintf(err, errlen, "unknown field '%s' in rule",
				 key ? key : "?");
			free(key);
			return -1;
		}
		free(key);
		i = json_skip(doc, i + 1);
	}
	return 0;
}

static int parse_names(struct sim_fault *f, const struct json_doc *doc,
		       char *err, size_t errlen)
{
	char name[32] = "any";
	int k;

	if (get_str(doc, "endpoint", name, sizeof(name)) < 0 ||
	    (k = lookup(endpoint_names,
			sizeof(endpoint_names) / sizeof(*endpoint_names),
			name)) < 0) {
		snprintf(err, errlen,
			 "'endpoint' must be one of create task "
			 "credits file any");
		return -1;
	}
	f->endpoint = k;
	if (get_str(doc, "action", name, sizeof(name)) != 0 ||
	    (k = lookup(action_names,
			sizeof(action_names) / sizeof(*action_names), name)) <
		    0) {
		snprintf(err, errlen,
			 "'action' must be one of error drop_before "
			 "drop_after stall truncate slow malformed redirect");
		return -1;
	}
	f->action = k;
	return 0;
}

/* status and code default to each other, then to 503 upstream_error; the
 * message to the code's usual one. */
static int parse_error(struct sim_fault *f, const struct json_doc *doc,
		       char *err, size_t errlen)
{
	double status = 0;
	int rc;

	if (get_uint(doc, "status", 599, &status) < 0 ||
	    (status != 0 && status < 100)) {
		snprintf(err, errlen, "'status' must be an HTTP status code");
		return -1;
	}
	rc = get_str(doc, "code", f->code, sizeof(f->code));
	if (rc < 0 || (rc == 0 && !is_code(f->code))) {
		snprintf(err, errlen, "'code' must be a word of [a-z0-9_]");
		return -1;
	}
	if (rc == 1)
		snprintf(f->code, sizeof(f->code), "%s",
			 status ? sim_error_code_for(status) :
				  "upstream_error");
	f->status = status ? (unsigned)status : sim_error_status(f->code);
	if (f->status == 0)
		f->status = 503;
	rc = get_str(doc, "message", f->message, sizeof(f->message));
	if (rc < 0) {
		snprintf(err, errlen,
			 "'message' must be a string (< 256 bytes)");
		return -1;
	}
	if (rc == 1)
		snprintf(f->message, sizeof(f->message), "%s",
			 sim_error_message(f->code));
	if (get_str(doc, "retry_after", f->retry_after,
		    sizeof(f->retry_after)) < 0 ||
	    !is_header_value(f->retry_after)) {
		snprintf(err, errlen, "'retry_after' must be a short string");
		return -1;
	}
	return 0;
}

/* A redirect: status 3xx (default 302) and a Location (default one where
 * nothing listens). */
static int parse_redirect(struct sim_fault *f, const struct json_doc *doc,
			  char *err, size_t errlen)
{
	double status = REDIRECT_STATUS;

	if (f->action != SIM_FAULT_REDIRECT)
		return 0;
	if (get_uint(doc, "status", 599, &status) < 0 || status < 300 ||
	    status > 399) {
		snprintf(err, errlen, "a redirect's 'status' must be 3xx");
		return -1;
	}
	f->status = (unsigned)status;
	snprintf(f->location, sizeof(f->location), REDIRECT_LOCATION);
	if (get_str(doc, "location", f->location, sizeof(f->location)) < 0 ||
	    !is_header_value(f->location) || !f->location[0]) {
		snprintf(err, errlen, "'location' must be a short URL");
		return -1;
	}
	return 0;
}

static int parse_numbers(struct sim_fault *f, const struct json_doc *doc,
			 char *err, size_t errlen)
{
	double delay = 0, bytes = 0, count = 0;
	int i;

	if (get_uint(doc, "delay_ms", MAX_DELAY_MS, &delay) < 0) {
		snprintf(err, errlen, "'delay_ms' must be an integer 0..%d",
			 MAX_DELAY_MS);
		return -1;
	}
	if (get_uint(doc, "bytes", SIM_REPLY_MAX, &bytes) < 0) {
		snprintf(err, errlen, "'bytes' must be an integer >= 0");
		return -1;
	}
	if (get_uint(doc, "count", MAX_COUNT, &count) < 0) {
		snprintf(err, errlen, "'count' must be an integer 0..%d",
			 MAX_COUNT);
		return -1;
	}
	i = json_get(doc, 0, "rate");
	if (i >= 0 && (json_get_number(doc, i, &f->rate) < 0 ||
		       !(f->rate >= 0 && f->rate <= 1))) {
		snprintf(err, errlen, "'rate' must be a number 0..1");
		return -1;
	}
	f->delay_ms = (unsigned)delay;
	f->bytes = (size_t)bytes;
	f->count = (unsigned long)count;
	return 0;
}

int sim_fault_parse(struct sim_fault *f, const char *json, size_t len,
		    char *err, size_t errlen)
{
	struct json_doc doc;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	f->rate = 1;
	if (!sim_utf8_valid(json, len) ||
	    json_parse(&doc, json, len, RULE_MAX_TOKENS) < 0) {
		snprintf(err, errlen, "a rule must be a small JSON object");
		return -1;
	}
	if (!json_is_object(&doc, 0))
		snprintf(err, errlen, "a rule must be a JSON object");
	else if (check_members(&doc, err, errlen) == 0 &&
		 parse_names(f, &doc, err, errlen) == 0 &&
		 parse_error(f, &doc, err, errlen) == 0 &&
		 parse_redirect(f, &doc, err, errlen) == 0 &&
		 parse_numbers(f, &doc, err, errlen) == 0)
		rc = 0;
	json_doc_free(&doc);
	return rc;
}

int sim_faults_add(struct sim_faults *fs, const struct sim_fault *f)
{
	if (fs->n >= SIM_FAULTS_MAX)
		return -1;
	fs->rules[fs->n++] = *f;
	return 0;
}

/* A uniform draw in [0, 1) (xorshift64*). */
static double draw(struct sim_faults *fs)
{
	fs->rng ^= fs->rng >> 12;
	fs->rng ^= fs->rng << 25;
	fs->rng ^= fs->rng >> 27;
	return (double)((fs->rng * 0x2545f4914f6cdd1dull) >> 11) /
	       9007199254740992.0;
}

void sim_faults_take(struct sim_faults *fs, enum sim_endpoint ep,
		     struct sim_fault *out)
{
	out->action = SIM_FAULT_NONE;
	if (ep == SIM_EP_CONTROL)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		struct sim_fault *f = &fs->rules[i];

		if (f->endpoint != SIM_EP_ANY && f->endpoint != ep)
			continue;
		if (f->rate < 1 && draw(fs) >= f->rate)
			continue;
		*out = *f;
		if (f->count && --f->count == 0) {
			memmove(f, f + 1, (fs->n - i - 1) * sizeof(*f));
			fs->n--;
		}
		return;
	}
}
