/* The network thread's task table: a task per sequence number the network
 * is working on, the queues where tasks wait for a slot (max_inflight and
 * the limit learned from the API, adapt.h) or
 * a token, and what happens to a task next: scheduled after a delay,
 * failed or dropped. Network thread only; the loop that runs the queues
 * is net.c's. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "util/log.h"

#define NET_POLL_JITTER 0.1 /* a poll comes up to 10% late */

static struct ntask **chain(struct net *n, uint64_t seq)
{
	return &n->table[seq % NET_BUCKETS];
}

struct ntask *net_task_find(struct net *n, uint64_t seq)
{
	struct ntask *t;

	for (t = *chain(n, seq); t; t = t->hnext)
		if (t->seq == seq)
			return t;
	return NULL;
}

struct ntask *net_task_add(struct net *n, const struct core_task *ct)
{
	struct ntask *t = calloc(1, sizeof(*t));

	if (!t || !(t->name = strdup(ct->name))) {
		free(t);
		log_err("%s #%" PRIu64 ": out of memory; the task waits for "
			"the next start",
			ct->name, ct->seq);
		return NULL;
	}
	t->seq = ct->seq;
	timer_init(&t->timer);
	t->hnext = *chain(n, t->seq);
	*chain(n, t->seq) = t;
	return t;
}

void net_queue_push(struct net_queue *q, struct ntask *t)
{
	t->qnext = NULL;
	t->queued = true;
	if (q->tail)
		q->tail->qnext = t;
	else
		q->head = t;
	q->tail = t;
}

struct ntask *net_queue_pop(struct net_queue *q)
{
	struct ntask *t = q->head;

	if (!t)
		return NULL;
	q->head = t->qnext;
	if (!q->head)
		q->tail = NULL;
	t->qnext = NULL;
	t->queued = false;
	return t;
}

void net_queue_remove(struct net_queue *q, struct ntask *t)
{
	struct ntask **p, *prev = NULL;

	for (p = &q->head; *p; prev = *p, p = &(*p)->qnext) {
		if (*p != t)
			continue;
		*p = t->qnext;
		if (q->tail == t)
			q->tail = prev;
		t->qnext = NULL;
		t->queued = false;
		return;
	}
}

void net_take_slot(struct net *n, struct ntask *t)
{
	t->holds_slot = true;
	n->inflight++;
}

void net_grant_slots(struct net *n)
{
	struct ntask *next;

	while (!n->stopping && n->inflight < net_adapt_limit(&n->adapt) &&
	       (next = net_queue_pop(&n->slot_wait)) != NULL) {
		net_take_slot(n, next);
		net_queue_push(&n->token_wait, next);
	}
}

static void release_slot(struct net *n, struct ntask *t)
{
	if (!t->holds_slot)
		return;
	t->holds_slot = false;
	n->inflight--;
}

void net_wait_slot(struct net *n, struct ntask *t)
{
	if (n->stopping) { /* resumed at the next start */
		net_drop(n, t);
		return;
	}
	t->step = STEP_CREATE;
	/* first in line again: it was before those that wait */
	t->qnext = n->slot_wait.head;
	t->queued = true;
	n->slot_wait.head = t;
	if (!n->slot_wait.tail)
		n->slot_wait.tail = t;
	release_slot(n, t);
	net_grant_slots(n);
}

void net_schedule(struct net *n, struct ntask *t, enum net_step step,
		  int64_t delay_ms)
{
	if (n->stopping) { /* resumed at the next start */
		net_drop(n, t);
		return;
	}
	t->step = step;
	if (delay_ms <= 0) {
		net_queue_push(&n->token_wait, t);
		return;
	}
	if (net_timer_arm(&n->timers, &t->timer, net_timer_now() + delay_ms) <
	    0) {
		log_warn("%s #%" PRIu64 ": out of memory for a timer; going on "
			 "at once",
			 t->name, t->seq);
		net_queue_push(&n->token_wait, t);
	}
}

void net_schedule_poll(struct net *n, struct ntask *t)
{
	double base = (double)n->poll_ms * NET_POLL_JITTER;
	double jitter = net_retry_delay(0, base, base, 0, &n->rng);

	net_schedule(n, t, STEP_POLL, n->poll_ms + (int64_t)jitter);
}

int64_t net_backoff(struct net *n, enum api_request_kind kind, unsigned attempt,
		    double retry_after)
{
	const struct retry_limits *l = net_retry_limits(kind);

	return (int64_t)ceil(1000.0 * net_retry_delay(attempt, l->base, l->cap,
						      retry_after, &n->rng));
}

void net_fail(struct net *n, struct ntask *t, const char *code,
	      const char *message)
{
	log_warn("%s #%" PRIu64 ": failed: %s: %s", t->name, t->seq, code,
		 message);
	core_task_failed(n->core, t->seq, code, message);
	net_drop(n, t);
}

void net_drop(struct net *n, struct ntask *t)
{
	struct ntask **p;

	net_timer_cancel(&n->timers, &t->timer);
	if (t->queued) {
		net_queue_remove(&n->token_wait, t);
		net_queue_remove(&n->slot_wait, t);
	}
	release_slot(n, t);
	net_grant_slots(n);
	for (p = chain(n, t->seq); *p; p = &(*p)->hnext) {
		if (*p == t) {
			*p = t->hnext;
			break;
		}
	}
	free(t->name);
	free(t);
}

void net_api_reached(struct net *n)
{
	struct ntask *t;
	size_t i;

	if (!n->unreached_waiting)
		return;
	n->unreached_waiting = false;
	for (i = 0; i < NET_BUCKETS; i++) {
		for (t = n->table[i]; t; t = t->hnext) {
			if (t->step != STEP_CREATE || !t->unreached_tries ||
			    !timer_armed(&t->timer))
				continue;
			net_timer_cancel(&n->timers, &t->timer);
			net_queue_push(&n->token_wait, t);
		}
	}
}
