/* The test-control endpoints under /_sim/ (no key: loopback only):
 *   GET    /_sim/stats     counters, balance and number of tasks: creates
 *                          (accepted), create_requests, creates_429, polls,
 *                          answers_429 (every 429), callbacks_delivered,
 *                          callbacks_failed, callbacks_dropped, unfinished
 *                          (tasks now) and peak_unfinished
 *   GET    /_sim/requests  every create request: [{"status":N,"body":…}]
 *   GET    /_sim/prompts   {"<prompt>": tasks created with it}
 *   POST   /_sim/faults    add a fault rule (faults.h)
 *   DELETE /_sim/faults    remove every rule
 *   POST   /_sim/reset     forget tasks, counters, logs and rules; restore
 *                          the starting balance and timings
 *   POST   /_sim/config    {"pending_seconds","processing_seconds",
 *                          "balance","image_scale","max_rate","max_tasks",
 *                          "duration_spread","callback_drop"}, each
 *                          optional; a rate restarts the bucket full */
#include "sim_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsoncheck.h"
#include "util/json.h"

#define ANSWER_MAX (512u << 20)
#define CONFIG_MAX_TOKENS 32

static void answer_ok(struct sim_req *r)
{
	struct buf b;

	buf_init(&b, 64);
	buf_addstr(&b, "{\"ok\":true}");
	sim_reply_json(&r->reply, &b);
	buf_free(&b);
}

static void answer_buf(struct sim_req *r, struct buf *b, int rc)
{
	if (rc == 0)
		sim_reply_json(&r->reply, b);
	else
		sim_reply_error(&r->reply, 500, "internal_error",
				"The answer is too large.");
	buf_free(b);
}

static void stats(struct sim_req *r)
{
	struct sim *s = r->sim;
	const struct sim_counters *c = &s->record.count;
	char balance[32];
	struct buf b;
	int rc;

	buf_init(&b, ANSWER_MAX);
	pthread_mutex_lock(&s->lock);
	sim_tasks_settle(&s->tasks, sim_monotonic());
	sim_credits_format(balance, sizeof(balance), s->tasks.ledger.balance);
	rc = buf_printf(&b,
			"{\"creates\":%lu,\"create_requests\":%lu,"
			"\"polls\":%lu,\"downloads\":%lu,\"credits_reads\":%lu,"
			"\"auth_on_files\":%lu,\"balance\":%s,\"tasks\":%zu,"
			"\"creates_429\":%lu,\"answers_429\":%lu,"
			"\"callbacks_delivered\":%lu,\"callbacks_failed\":%lu,"
			"\"callbacks_dropped\":%lu,\"unfinished\":%zu,"
			"\"peak_unfinished\":%zu}",
			c->creates, c->create_requests, c->polls, c->downloads,
			c->credits_reads, c->auth_on_files, balance, s->tasks.n,
			c->creates_429, c->answers_429, c->callbacks_delivered,
			c->callbacks_failed, c->callbacks_dropped,
			s->tasks.unfinished, s->tasks.peak);
	pthread_mutex_unlock(&s->lock);
	answer_buf(r, &b, rc);
}

static void requests(struct sim_req *r)
{
	struct sim *s = r->sim;
	struct buf b;
	int rc;

	buf_init(&b, ANSWER_MAX);
	pthread_mutex_lock(&s->lock);
	rc = sim_record_requests_json(&s->record, &b);
	pthread_mutex_unlock(&s->lock);
	answer_buf(r, &b, rc);
}

static void prompts(struct sim_req *r)
{
	struct sim *s = r->sim;
	struct buf b;
	int rc;

	buf_init(&b, ANSWER_MAX);
	pthread_mutex_lock(&s->lock);
	rc = sim_record_prompts_json(&s->record, &b);
	pthread_mutex_unlock(&s->lock);
	answer_buf(r, &b, rc);
}

static void faults_add(struct sim_req *r)
{
	struct sim *s = r->sim;
	struct sim_fault f;
	char err[160];
	int rc;

	if (sim_fault_parse(&f, buf_str(&r->body), r->body.len, err,
			    sizeof(err)) < 0) {
		sim_reply_error(&r->reply, 400, "invalid_request", err);
		return;
	}
	pthread_mutex_lock(&s->lock);
	rc = sim_faults_add(&s->faults, &f);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		sim_reply_error(&r->reply, 400, "invalid_request",
				"Too many fault rules.");
	else
		answer_ok(r);
}

static void faults_clear(struct sim_req *r)
{
	pthread_mutex_lock(&r->sim->lock);
	sim_faults_clear(&r->sim->faults);
	pthread_mutex_unlock(&r->sim->lock);
	answer_ok(r);
}

static void reset(struct sim_req *r)
{
	struct sim *s = r->sim;

	pthread_mutex_lock(&s->lock);
	sim_tasks_reset(&s->tasks, llround(s->opt.balance * 1000));
	sim_record_free(&s->record);
	sim_faults_clear(&s->faults);
	s->pending_s = s->opt.pending_seconds;
	s->processing_s = s->opt.processing_seconds;
	s->image_scale = s->opt.image_scale;
	sim_limits_reset(s);
	pthread_mutex_unlock(&s->lock);
	answer_ok(r);
}

struct config_key {
	const char *name;
	double min, max;
	bool min_excluded;
	bool whole; /* an integer */
};

static const struct config_key config_keys[] = {
	{ "pending_seconds", 0, 1e6, false, false },
	{ "processing_seconds", 0, 1e6, false, false },
	{ "balance", 0, 1e12, false, false },
	{ "image_scale", 0, 1, true, false },
	{ "max_rate", 0, 1e6, false, false },
	{ "max_tasks", 0, SIM_TASKS_MAX, false, true },
	{ "duration_spread", 0, 1, false, false },
	{ "callback_drop", 0, 1, false, false },
};

#define CONFIG_KEYS (sizeof(config_keys) / sizeof(*config_keys))

/* Each key's value into v[], NAN when absent. */
static int parse_config(const char *json, size_t len, double *v, char *err,
			size_t errlen)
{
	struct json_doc doc;
	int found = 0;
	int rc = 0;

	if (!sim_utf8_valid(json, len) ||
	    json_parse(&doc, json, len, CONFIG_MAX_TOKENS) < 0) {
		snprintf(err, errlen,
			 "The config must be a small JSON object.");
		return -1;
	}
	if (!json_is_object(&doc, 0)) {
		snprintf(err, errlen, "The config must be a JSON object.");
		json_doc_free(&doc);
		return -1;
	}
	for (size_t k = 0; k < CONFIG_KEYS && rc == 0; k++) {
		const struct config_key *ck = &config_keys[k];
		int i = json_get(&doc, 0, ck->name);

		v[k] = NAN;
		if (i < 0)
			continue;
		found++;
		if (json_get_number(&doc, i, &v[k]) < 0 || !(v[k] >= ck->min) ||
		    !(v[k] <= ck->max) ||
		    (ck->min_excluded && v[k] == ck->min) ||
		    (ck->whole && v[k] != floor(v[k]))) {
			snprintf(err, errlen, "'%s' is out of range.",
				 ck->name);
			rc = -1;
		}
	}
	if (rc == 0 && found != doc.tok[0].size) {
		snprintf(err, errlen,
			 "The config has an unknown or repeated "
			 "key.");
		rc = -1;
	}
	json_doc_free(&doc);
	return rc;
}

static void config(struct sim_req *r)
{
	struct sim *s = r->sim;
	struct sim_ledger *l = &s->tasks.ledger;
	double v[CONFIG_KEYS];
	char err[160];

	if (parse_config(buf_str(&r->body), r->body.len, v, err, sizeof(err)) <
	    0) {
		sim_reply_error(&r->reply, 400, "invalid_request", err);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (!isnan(v[0]))
		s->pending_s = v[0];
	if (!isnan(v[1]))
		s->processing_s = v[1];
	if (!isnan(v[2])) {
		sim_tasks_settle(&s->tasks, sim_monotonic());
		l->balance = llround(v[2] * 1000);
		l->purchased = l->balance + l->consumed;
	}
	if (!isnan(v[3]))
		s->image_scale = v[3];
	if (!isnan(v[4]))
		sim_bucket_set(&s->bucket, v[4], sim_monotonic());
	if (!isnan(v[5]))
		s->max_tasks = (unsigned)v[5];
	if (!isnan(v[6]))
		s->duration_spread = v[6];
	if (!isnan(v[7]))
		s->callback_drop = v[7];
	pthread_mutex_unlock(&s->lock);
	answer_ok(r);
}

struct control_route {
	const char *what;
	const char *method;
	const char *allow; /* every method of the path, for a 405 */
	void (*handle)(struct sim_req *r);
};

static const struct control_route routes[] = {
	{ "stats", "GET", "GET", stats },
	{ "requests", "GET", "GET", requests },
	{ "prompts", "GET", "GET", prompts },
	{ "faults", "POST", "POST, DELETE", faults_add },
	{ "faults", "DELETE", "POST, DELETE", faults_clear },
	{ "reset", "POST", "POST", reset },
	{ "config", "POST", "POST", config },
};

void sim_control(struct sim_req *r, const char *what)
{
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	const char *allow = NULL;

	for (size_t i = 0; i < sizeof(routes) / sizeof(*routes); i++) {
		if (strcmp(routes[i].what, what) != 0)
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			routes[i].handle(r);
			return;
		}
		allow = routes[i].allow;
	}
	if (allow) {
		sim_reply_error(&r->reply, 405, "method_not_allowed",
				"Method not allowed on this endpoint.");
		r->reply.allow = allow;
	} else {
		sim_reply_error(&r->reply, 404, "not_found",
				"No such endpoint.");
	}
}
