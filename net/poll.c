/* Polling a task the API has: GET /v1/tasks/{id} until it completes or
 * fails. The image is paid for, so transient errors never end a poll: it
 * backs off (up to RETRY_POLL_CAP) and goes on, saying so in the status. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "util/log.h"

/* The longest reason again() shows; a longer one is cut. */
#define WHAT_MAX 300
/* "poll: WHAT; retrying in N s": N is at most 20 digits */
#define AGAIN_NOTE_MAX (WHAT_MAX + sizeof("poll: ; retrying in  s") + 20)

/* Poll again after a backoff, and show why in the status. */
static void again(struct net *n, struct ntask *t, const char *what,
		  double retry_after)
{
	int64_t delay =
		net_backoff(n, REQ_POLL, t->poll_failures++, retry_after);
	char note[AGAIN_NOTE_MAX];

	/* sized for the longest reason, cut to WHAT_MAX: never truncated */
	snprintf(note, sizeof(note), "poll: %.*s; retrying in %lld s", WHAT_MAX,
		 what, (long long)((delay + 999) / 1000));
	core_task_note(n->core, t->seq, note);
	net_schedule(n, t, STEP_POLL, delay);
}

void net_poll_start(struct net *n, struct ntask *t, const struct core_task *ct)
{
	struct xfer *x = NULL;
	struct buf url;

	if (ct->state < TASK_PENDING) { /* no task id: not ours to poll */
		net_drop(n, t);
		return;
	}
	memcpy(t->task_id, ct->task_id, sizeof(t->task_id));
	net_hints_index(n, t, ct->task_id);
	buf_init(&url, API_URL_MAX);
	if (net_api_task_url(&url, n->api_url, t->task_id) < 0) {
		buf_free(&url);
		net_fail(n, t, "bad_response", "the task id is not valid");
		return;
	}
	x = net_xfer_api(&n->pool, buf_str(&url), n->headers, NULL, 0,
			 NET_API_TIMEOUT);
	if (!x || net_launch(n, x, t) < 0) {
		net_xfer_free(&n->pool, x);
		buf_free(&url);
		again(n, t, "cannot start the request", 0);
		return;
	}
	log_debug("%s #%" PRIu64 ": GET %s", t->name, t->seq, buf_str(&url));
	buf_free(&url);
}

/* A 2xx answer to a poll. */
static void answered(struct net *n, struct ntask *t, const struct xfer *x)
{
	struct api_task at;
	char err[256], what[WHAT_MAX];
	int rc;

	rc = net_api_parse_task(buf_str(&x->answer), x->answer.len, t->task_id,
				&at, err, sizeof(err));
	if (rc < 0) {
		/* a garbled answer may come from a proxy in the way: the task
		 * is paid for, so keep asking, with backoff */
		log_warn("%s #%" PRIu64 ": bad poll answer: %s", t->name,
			 t->seq, err);
		snprintf(what, sizeof(what), "bad answer: %s", err);
		again(n, t, what, 0);
		return;
	}
	t->poll_failures = 0;
	net_pace_answer(n, t, &at);
	switch (at.status) {
	case API_PENDING:
	case API_PROCESSING:
		rc = core_task_progress(n->core, t->seq,
					at.status == API_PENDING ?
						TASK_PENDING :
						TASK_PROCESSING);
		if (rc == -ENOENT)
			net_drop(n, t);
		else
			net_schedule_poll(n, t);
		break;
	case API_COMPLETED:
		/* "completed" is logged once the images are stored */
		log_debug("%s #%" PRIu64 ": finished at the API, %zu output(s)",
			  t->name, t->seq, at.n_urls);
		rc = core_task_urls(n->core, t->seq, at.urls, at.n_urls);
		if (rc == -ENOENT) {
			net_drop(n, t);
		} else {
			t->download_failures = 0;
			net_schedule(n, t, STEP_DOWNLOAD, 0);
		}
		break;
	case API_FAILED:
		net_fail_at_api(n, t, at.error_code, at.error_message);
		break;
	}
	net_api_task_free(&at);
}

void net_poll_done(struct net *n, struct ntask *t, struct xfer *x,
		   const struct xfer_result *r)
{
	struct api_error e;
	char what[128];

	if (net_answer_ok(r)) {
		answered(n, t, x);
		return;
	}
	net_answer_error(x, r, &e);
	net_describe(r, &e, what, sizeof(what));
	/* the path only: the API's address is in the configuration */
	log_info("%s #%" PRIu64 ": GET " API_PATH_TASKS "%s -> %s", t->name,
		 t->seq, t->task_id, what);
	if (net_retry_classify(REQ_POLL, r->transport, r->request_sent,
			       r->status, e.code) == RETRY_YES)
		again(n, t, what, r->retry_after);
	else if (r->transport == TRANSPORT_OK)
		net_fail(n, t, e.code, e.message);
	else
		again(n, t, what, 0); /* e.g. an answer over its cap */
}
