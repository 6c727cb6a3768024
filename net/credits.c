/* Balance reads: GET /v1/credits, one at a time. Someone is waiting on
 * `cat credits`, so a read has a short timeout, jumps the token queue and
 * retries a couple of times within NET_CREDITS_BUDGET_MS before it
 * answers with the error. */
#include <stdio.h>

#include "internal.h"
#include "util/log.h"

void net_credits_request(struct net *n)
{
	struct net_credits *cr = &n->credits;

	if (cr->queued || cr->x || timer_armed(&cr->timer))
		return; /* one is under way: its answer serves both */
	cr->attempts = 0;
	cr->deadline = net_timer_now() + NET_CREDITS_BUDGET_MS;
	cr->queued = true;
}

void net_credits_fail(struct net *n, const char *code, const char *message)
{
	n->credits.queued = false;
	log_info("balance: %s: %s", code, message);
	core_credits_update(n->core, 0, code, message);
}

void net_credits_start(struct net *n)
{
	struct xfer *x = NULL;
	struct buf url;

	buf_init(&url, API_URL_MAX);
	if (net_api_url_join(&url, n->api_url, API_PATH_CREDITS) == 0)
		x = net_xfer_api(&n->pool, buf_str(&url), n->headers, NULL, 0,
				 NET_CREDITS_TIMEOUT);
	buf_free(&url);
	if (!x || net_launch(n, x, NULL) < 0) {
		net_xfer_free(&n->pool, x);
		net_credits_fail(n, "internal_error", "out of memory");
		return;
	}
	n->credits.attempts++;
}

void net_credits_done(struct net *n, struct xfer *x,
		      const struct xfer_result *r)
{
	struct net_credits *cr = &n->credits;
	const struct retry_limits *l = net_retry_limits(REQ_CREDITS);
	double balance;
	char err[256], what[128];
	struct api_error e;
	int64_t delay;

	if (net_answer_ok(r)) {
		if (net_api_parse_credits(buf_str(&x->answer), x->answer.len,
					  &balance, NULL, NULL, err,
					  sizeof(err)) < 0)
			net_credits_fail(n, "bad_response", err);
		else
			core_credits_update(n->core, balance, NULL, NULL);
		return;
	}
	net_answer_error(x, r, &e);
	net_describe(r, &e, what, sizeof(what));
	log_info("GET " API_PATH_CREDITS " -> %s", what);
	delay = net_backoff(n, REQ_CREDITS, cr->attempts - 1, r->retry_after);
	if (net_retry_classify(REQ_CREDITS, r->transport, r->request_sent,
			       r->status, e.code) == RETRY_NO ||
	    (l->attempts && cr->attempts >= l->attempts) ||
	    net_timer_now() + delay + NET_CREDITS_TIMEOUT * 1000 >
		    cr->deadline ||
	    net_timer_arm(&n->timers, &cr->timer, net_timer_now() + delay) < 0)
		net_credits_fail(n, e.code, e.message);
}
