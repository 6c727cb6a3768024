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
#include <time.h>

#include "scout.h"
#include "tasks.h"
#include "util/log.h"

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
	t->pace_class = net_pace_class(ct->opts.resolution);
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

static struct net_queue *due_queue(struct net *n, const struct ntask *t)
{
	if (t->step == STEP_DOWNLOAD)
		return &n->download_wait;
	return t->step == STEP_CREATE ? &n->create_wait : &n->read_wait;
}

void net_queue_due(struct net *n, struct ntask *t)
{
	net_queue_push(due_queue(n, t), t);
}

bool net_steps_due(const struct net *n)
{
	return n->read_wait.head || n->create_wait.head;
}

/* Reads and creations take turns while both wait: a batch of thousands
 * of creations does not hold back the poll that shows the first image
 * (the pace sets it at the task's expected end, and its answer frees a
 * slot at the API), and polls, however many, leave creations half the
 * rate. */
struct ntask *net_next_due(struct net *n)
{
	n->read_last =
		n->read_wait.head && (!n->create_wait.head || !n->read_last);
	return net_queue_pop(n->read_last ? &n->read_wait : &n->create_wait);
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

/* A creation waits for the daemon's own pace: its status says so, once
 * as the wait begins (never per token). */
static void note_wait(struct net *n, struct ntask *t, const char *note)
{
	core_task_note(n->core, t->seq, note);
}

/* Will creation t, given a slot, wait for a token? Behind others, or
 * when the bucket is empty now (the one ahead just took the last). */
static bool waits_for_rate(struct net *n)
{
	return n->create_wait.head ||
	       net_bucket_wait(&n->bucket, net_timer_now()) > 0;
}

void net_wait_create(struct net *n, struct ntask *t)
{
	if (n->inflight >= net_adapt_limit(&n->adapt)) {
		note_wait(n, t, NET_NOTE_WAIT_PLACE);
		net_queue_push(&n->slot_wait, t);
		return;
	}
	net_take_slot(n, t);
	if (waits_for_rate(n))
		note_wait(n, t, NET_NOTE_WAIT_RATE);
	net_queue_due(n, t);
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
		if (waits_for_rate(n))
			note_wait(n, next, NET_NOTE_WAIT_RATE);
		net_queue_due(n, next);
	}
}

static void release_slot(struct net *n, struct ntask *t)
{
	if (!t->holds_slot)
		return;
	t->holds_slot = false;
	n->inflight--;
}

unsigned net_tasks_at_api(const struct net *n)
{
	const struct ntask *t;
	unsigned count = 0;
	size_t i;

	for (i = 0; i < NET_BUCKETS; i++) {
		for (t = n->table[i]; t; t = t->hnext)
			count += t->holds_slot && t->step != STEP_CREATE;
	}
	return count;
}

void net_shed_slots(struct net *n)
{
	unsigned limit = net_adapt_limit(&n->adapt), due = 0, keep;
	struct net_queue kept = { 0 }, shed = { 0 };
	struct ntask *t;

	if (n->inflight <= limit)
		return;
	for (t = n->create_wait.head; t; t = t->qnext)
		due++;
	/* every creation due holds a slot: the surplus is the last ones */
	keep = due > n->inflight - limit ? due - (n->inflight - limit) : 0;
	while ((t = net_queue_pop(&n->create_wait)) != NULL) {
		if (keep > 0) {
			keep--;
			net_queue_push(&kept, t);
		} else {
			release_slot(n, t);
			note_wait(n, t, NET_NOTE_WAIT_PLACE);
			net_queue_push(&shed, t);
		}
	}
	n->create_wait = kept;
	if (!shed.head)
		return;
	shed.tail->qnext = n->slot_wait.head;
	if (!n->slot_wait.tail)
		n->slot_wait.tail = shed.tail;
	n->slot_wait.head = shed.head;
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
		net_queue_due(n, t);
		return;
	}
	if (net_timer_arm(&n->timers, &t->timer, net_timer_now() + delay_ms) <
	    0) {
		log_warn("%s #%" PRIu64 ": out of memory for a timer; going on "
			 "at once",
			 t->name, t->seq);
		net_queue_due(n, t);
	}
}

/* A uniform draw in [0, 1). */
static double draw(struct net *n)
{
	return net_retry_delay(0, 1.0, 1.0, 0, &n->rng);
}

void net_schedule_poll(struct net *n, struct ntask *t)
{
	int64_t now = net_timer_now();
	double delay, age;

	if (!t->paced) { /* just created */
		t->created_ms = now;
		t->paced = true;
	}
	age = (double)(now - t->created_ms) / 1000.0;
	if (net_scout_parks(n, t)) {
		net_scout_park(n, t);
		delay = net_pace_parked_delay(
			age, n->scouting[t->pace_class].n_parked,
			(double)n->poll_ms / 1000.0, draw(n));
	} else if (n->callback_url) { /* the fallback for a callback lost */
		delay = net_hints_delay(
			n, t,
			net_pace_fallback_delay(&n->pace, t->pace_class, age,
						(double)n->poll_ms / 1000.0,
						draw(n)));
	} else {
		delay = net_pace_delay(&n->pace, t->pace_class, age,
				       (double)n->poll_ms / 1000.0, draw(n));
	}
	net_schedule(n, t, STEP_POLL, (int64_t)ceil(delay * 1000.0));
}

void net_schedule_resumed(struct net *n, struct ntask *t)
{
	double delay = net_pace_resume_delay(n->resumed++, draw(n));

	/* it is at least as old as this run; its first answer says more */
	t->created_ms = net_timer_now();
	t->paced = true;
	t->resumed = true;
	net_schedule(n, t, STEP_POLL, (int64_t)ceil(delay * 1000.0));
}

void net_pace_answer(struct net *n, struct ntask *t, const struct api_task *at)
{
	double s, age;
	int64_t then;

	net_scout_unpark(n, t); /* parked again if still running */
	if (at->status == API_COMPLETED && !t->learned) {
		s = net_pace_sample(at->created_at, at->completed_at,
				    at->cost_time);
		if (s >= 0)
			net_pace_learn(&n->pace, t->pace_class, s);
		t->learned = true;
		if (!n->scouting[t->pace_class].finished)
			net_scout_finished(n, t->pace_class);
	}
	if (t->resumed && at->created_at > 0) {
		/* the API's clock against ours: a guess, used only to
		 * make the task older than this run, never younger */
		age = fmin((double)time(NULL) - at->created_at,
			   PACE_SAMPLE_MAX);
		then = net_timer_now() - (int64_t)(age * 1000.0);
		if (age > 0 && then < t->created_ms)
			t->created_ms = then;
		t->resumed = false;
	}
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

void net_fail_at_api(struct net *n, struct ntask *t, const char *code,
		     const char *message)
{
	log_warn("%s #%" PRIu64 ": failed at the API: %s: %s", t->name, t->seq,
		 code, message);
	core_task_failed_at_api(n->core, t->seq, code, message);
	net_drop(n, t);
}

void net_drop(struct net *n, struct ntask *t)
{
	struct ntask **p;

	net_timer_cancel(&n->timers, &t->timer);
	net_scout_forget(n, t);
	if (t->queued) {
		net_queue_remove(due_queue(n, t), t);
		net_queue_remove(&n->slot_wait, t);
	}
	release_slot(n, t);
	net_grant_slots(n);
	net_hints_forget(n, t);
	for (p = chain(n, t->seq); *p; p = &(*p)->hnext) {
		if (*p == t) {
			*p = t->hnext;
			break;
		}
	}
	free(t->name);
	free(t);
}

/* A task waiting for its next poll (the timer armed, nothing on the
 * wire), from bucket *from on; NULL when none. */
static struct ntask *waiting_poll(struct net *n, size_t *from)
{
	struct ntask *t;
	size_t i, b;

	for (i = 0; i < NET_BUCKETS; i++) {
		b = (*from + i) % NET_BUCKETS;
		for (t = n->table[b]; t; t = t->hnext) {
			if (t->step == STEP_POLL && !t->x &&
			    timer_armed(&t->timer)) {
				*from = b + 1; /* the next probe: another */
				return t;
			}
		}
	}
	return NULL;
}

void net_probe_poll(struct net *n)
{
	int64_t now = net_timer_now();
	struct ntask *t;

	if (n->stopping || now - n->probe_at < NET_PROBE_GAP_MS ||
	    (n->read_wait.head && n->read_wait.head->step == STEP_POLL))
		return;
	t = waiting_poll(n, &n->probe_from);
	if (!t)
		return;
	n->probe_at = now;
	net_timer_cancel(&n->timers, &t->timer);
	net_queue_due(n, t);
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
			net_queue_due(n, t);
		}
	}
}
