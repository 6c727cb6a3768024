/* Task creation: one POST /v1/images/generations per attempt, and what its
 * answer means. A creation spends credits, so it is sent again only when
 * the API said it did not create the task or nothing left (retry.h); when
 * the answer is lost the task may exist and be charged, and it fails with
 * "interrupted" instead of being sent twice. Tries that never reached the
 * API are not attempts: the job waits for the API, queued. While it waits,
 * each try first connects without sending anything (net_xfer_probe), so that
 * a try that still cannot reach the API writes nothing to the store: only
 * a creation that leaves is recorded (sending, then its outcome). A
 * creation the API throttles (429 rate_limit_exceeded) was not created
 * either: it is no attempt, it never fails the job; it waits, queued, for
 * the pace the API allows (adapt.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "util/debugassert.h"
#include "util/log.h"

#define MAY_BE_CHARGED "the task may have been created and charged"

/* The request could not be built or started: nothing left. */
static void not_started(struct net *n, struct ntask *t, const char *why)
{
	log_err("%s #%" PRIu64 ": cannot start the creation request: %s; "
		"trying again",
		t->name, t->seq, why);
	net_schedule(n, t, STEP_CREATE, net_backoff(n, REQ_CREATE, 0, 0));
}

/* Connect to the API, nothing more: is it back? */
static void probe(struct net *n, struct ntask *t)
{
	struct xfer *x = net_xfer_probe(&n->pool, n->api_url, NET_API_TIMEOUT);
	const char *why = x ? "curl refused the transfer" : "out of memory";

	if (!x || net_launch(n, x, t) < 0) {
		net_xfer_free(&n->pool, x);
		not_started(n, t, why);
		return;
	}
	t->probing = true;
	log_debug("%s #%" PRIu64 ": connecting to the API (try %u to reach "
		  "it)",
		  t->name, t->seq, t->unreached_tries + 1);
}

void net_create_start(struct net *n, struct ntask *t,
		      const struct core_task *ct)
{
	struct buf body, url;
	struct xfer *x = NULL;
	struct record_op *op;
	int rc;

	if (ct->state != TASK_QUEUED) { /* not ours to send */
		net_drop(n, t);
		return;
	}
	/* recorded: the wait goes on across a restart */
	if (ct->unreached)
		t->unreached_since = ct->unreached;
	if (t->unreached_since && !t->probe_passed) {
		probe(n, t);
		return;
	}
	t->probe_passed = false;
	buf_init(&body, API_REQUEST_MAX);
	buf_init(&url, API_URL_MAX);
	if (net_api_build_create(&body, ct->prompt, ct->prompt_len,
				 &ct->opts) == 0 &&
	    (!n->callback_url ||
	     net_api_add_callback(&body, n->callback_url) == 0) &&
	    net_api_url_join(&url, n->api_url, API_PATH_CREATE) == 0)
		x = net_xfer_api(&n->pool, buf_str(&url), n->headers,
				 buf_str(&body), body.len, NET_API_TIMEOUT);
	buf_free(&body);
	buf_free(&url);
	if (!x) {
		not_started(n, t, "out of memory");
		return;
	}
	/* sending, its record queued: sent by net_create_send once durable */
	rc = core_task_sending_begin(n->core, t->seq, &op);
	if (rc < 0) {
		net_xfer_free(&n->pool, x);
		net_drop(n, t); /* -ENOENT: dropped, or the budget refused it */
		return;
	}
	DEBUGASSERT(n->n_staged < NET_MAX_ACTIVE);
	n->staged[n->n_staged++] = (struct net_staged){ t, x, op };
}

/* A staged creation: its record written (or not), send it. */
static void send_staged(struct net *n, struct ntask *t, struct xfer *x,
			struct record_op *op)
{
	/* durably "sending" before a byte leaves */
	int rc = core_task_sending_end(n->core, t->seq, op);

	if (rc < 0) {
		net_xfer_free(&n->pool, x);
		if (rc == -ENOENT)
			net_drop(n, t);
		else
			not_started(n, t, strerror(-rc));
		return;
	}
	if (net_launch(n, x, t) < 0) {
		net_xfer_free(&n->pool, x);
		core_task_requeue(n->core, t->seq, "");
		not_started(n, t, "curl refused the transfer");
		return;
	}
	if (t->unreached_tries)
		log_debug("%s #%" PRIu64 ": POST " API_PATH_CREATE
			  " (try %u to reach the API)",
			  t->name, t->seq, t->unreached_tries + 1);
	else
		log_info("%s #%" PRIu64 ": POST " API_PATH_CREATE
			 " (attempt %u)",
			 t->name, t->seq, t->create_attempts + 1);
}

void net_create_send(struct net *n)
{
	unsigned i, count = n->n_staged;

	/* the first end writes the records of all of them */
	n->n_staged = 0;
	for (i = 0; i < count; i++)
		send_staged(n, n->staged[i].t, n->staged[i].x, n->staged[i].op);
}

/* Nothing reached the API (no name, no route, refused, no TLS handshake):
 * wait for it with backoff, apart from the attempts, for as long as the
 * task is queued (the core drops it when its prompt file goes), a day at
 * most from the first such try (recorded by the core, so that a restart
 * does not start the day again). sending: a creation was on its way (the
 * core puts it back in the queue, durably); else a probe was, and the
 * note is status text only, not written to the store. */
static void unreached(struct net *n, struct ntask *t,
		      const struct xfer_result *r, bool sending)
{
	time_t now = time(NULL);
	char note[512], msg[API_MESSAGE_MAX + 64];
	int64_t delay;
	double wait;

	if (t->unreached_tries++ == 0)
		log_info("%s #%" PRIu64 ": the API cannot be reached (%s); "
			 "waiting for it",
			 t->name, t->seq, r->what);
	wait = net_retry_unreached_delay(
		t->unreached_tries,
		t->unreached_since ? difftime(now, t->unreached_since) : 0,
		&n->rng);
	if (wait < 0) {
		snprintf(msg, sizeof(msg),
			 "the API could not be reached for "
			 "%.0f hours (%s); nothing was sent",
			 RETRY_UNREACHED_FOR / 3600, r->what);
		net_fail(n, t, "network_error", msg);
		return;
	}
	delay = (int64_t)ceil(1000 * wait);
	snprintf(note, sizeof(note),
		 "cannot reach the API (try %u: %s); "
		 "nothing was sent; trying again in %lld s",
		 t->unreached_tries, r->what,
		 (long long)((delay + 999) / 1000));
	if (!sending)
		core_task_note(n->core, t->seq, note);
	else if (core_task_unreached(n->core, t->seq, note,
				     &t->unreached_since) == -ENOENT) {
		net_drop(n, t);
		return;
	}
	n->unreached_waiting = true;
	net_schedule(n, t, STEP_CREATE, delay);
}

/* A probe ended: still unreachable, or send the creation now (whatever
 * else went wrong, the creation meets it and says what it means). */
static void probe_done(struct net *n, struct ntask *t,
		       const struct xfer_result *r)
{
	t->probing = false;
	if (net_retry_classify(REQ_CREATE, r->transport, r->request_sent,
			       r->status, NULL) == RETRY_UNREACHED) {
		unreached(n, t, r, false);
		return;
	}
	t->probe_passed = true;
	net_schedule(n, t, STEP_CREATE, 0);
}

/* The API did not create the task (or nothing left): again later, up to
 * the attempt limit. */
static void retry(struct net *n, struct ntask *t, const struct xfer_result *r,
		  const struct api_error *e)
{
	const struct retry_limits *l = net_retry_limits(REQ_CREATE);
	char what[128], note[256], msg[API_MESSAGE_MAX + 64];

	if (l->attempts && t->create_attempts >= l->attempts) {
		snprintf(msg, sizeof(msg), "%s (gave up after %u attempts)",
			 e->message, t->create_attempts);
		net_fail(n, t, e->code, msg);
		return;
	}
	net_describe(r, e, what, sizeof(what));
	snprintf(note, sizeof(note), "retry %u of %u after %s",
		 t->create_attempts + 1, l->attempts, what);
	if (core_task_requeue(n->core, t->seq, note) == -ENOENT) {
		net_drop(n, t);
		return;
	}
	net_schedule(n, t, STEP_CREATE,
		     net_backoff(n, REQ_CREATE, t->create_attempts - 1,
				 r->retry_after));
}

/* The API throttled the creation: nothing was created, nothing failed.
 * Too many requests: it goes again at the cut rate, not before its
 * Retry-After, holding its slot. Too many tasks: it gives its slot back
 * and waits, first in line, until one of ours ends (the limit is now
 * under the tasks we have, so that is when the API has room). */
static void throttled(struct net *n, struct ntask *t,
		      const struct xfer_result *r)
{
	enum adapt_cause cause = net_throttled(n, true);

	t->unreached_tries = 0;
	t->unreached_since = 0;
	log_info("%s #%" PRIu64 ": POST " API_PATH_CREATE " -> 429 "
		 "rate_limit_exceeded; waiting its turn",
		 t->name, t->seq);
	if (core_task_requeue(n->core, t->seq,
			      "throttled by the API (429 "
			      "rate_limit_exceeded); waiting its turn") ==
	    -ENOENT) {
		net_drop(n, t);
		return;
	}
	if (cause == ADAPT_CONCURRENCY)
		net_wait_slot(n, t);
	else
		net_schedule(n, t, STEP_CREATE,
			     (int64_t)ceil(1000.0 * r->retry_after));
}

static void created(struct net *n, struct ntask *t, const struct xfer *x)
{
	char id[API_TASK_ID_MAX + 1], err[256], msg[512];

	if (net_api_parse_create(buf_str(&x->answer), x->answer.len, id,
				 sizeof(id), err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "%s; " MAY_BE_CHARGED, err);
		net_fail(n, t, "bad_response", msg);
		return;
	}
	log_info("%s #%" PRIu64 ": created task %s", t->name, t->seq, id);
	if (core_task_created(n->core, t->seq, id) == -ENOENT) {
		net_drop(n, t);
		return;
	}
	t->poll_failures = 0;
	net_hints_index(n, t, id);
	net_schedule_poll(n, t);
}

void net_create_done(struct net *n, struct ntask *t, struct xfer *x,
		     const struct xfer_result *r)
{
	char what[128], msg[API_MESSAGE_MAX + 64];
	enum retry_verdict verdict;
	struct api_error e;

	if (t->probing) {
		probe_done(n, t, r);
		return;
	}
	if (net_answer_ok(r)) {
		t->create_attempts++;
		created(n, t, x);
		return;
	}
	net_answer_error(x, r, &e);
	if (net_answer_throttled(r, &e)) {
		throttled(n, t, r);
		return;
	}
	verdict = net_retry_classify(REQ_CREATE, r->transport, r->request_sent,
				     r->status, e.code);
	if (verdict == RETRY_UNREACHED) {
		unreached(n, t, r, true);
		return;
	}
	t->create_attempts++;
	t->unreached_tries = 0;
	t->unreached_since = 0;
	net_describe(r, &e, what, sizeof(what));
	log_info("%s #%" PRIu64 ": POST " API_PATH_CREATE " -> %s", t->name,
		 t->seq, what);
	if (verdict == RETRY_YES) {
		retry(n, t, r, &e);
	} else if (net_answer_redirect(r)) {
		snprintf(msg, sizeof(msg), "%s; nothing was created",
			 e.message);
		net_fail(n, t, e.code, msg);
	} else if (r->transport == TRANSPORT_OK) {
		net_fail(n, t, e.code, e.message);
	} else if (r->transport == TRANSPORT_FATAL && r->request_sent) {
		snprintf(msg, sizeof(msg), "%s; " MAY_BE_CHARGED, r->what);
		net_fail(n, t, "bad_response", msg);
	} else if (r->request_sent || r->transport == TRANSPORT_LOST) {
		net_fail(
			n, t, "interrupted",
			"the creation request was sent but its answer was lost; " MAY_BE_CHARGED);
	} else {
		net_fail(n, t, "network_error", r->what);
	}
}
