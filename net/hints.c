/* Callbacks, from the receiver's thread to a poll (hints.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callback.h"
#include "hints.h"
#include "tasks.h"
#include "util/log.h"

static struct ntask **id_chain(struct net *n, const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return &n->hints.by_id[h % NET_HINTS_BUCKETS];
}

static struct ntask *find_by_id(struct net *n, const char *id)
{
	struct ntask *t;

	for (t = *id_chain(n, id); t; t = t->inext)
		if (strcmp(t->task_id, id) == 0)
			return t;
	return NULL;
}

void net_hints_index(struct net *n, struct ntask *t, const char *id)
{
	struct ntask **chain;

	if (!n->callback_url || t->indexed)
		return;
	if (id != t->task_id) /* snprintf onto its own source is undefined */
		snprintf(t->task_id, sizeof(t->task_id), "%s", id);
	chain = id_chain(n, t->task_id);
	t->inext = *chain;
	*chain = t;
	t->indexed = true;
}

void net_hints_forget(struct net *n, struct ntask *t)
{
	struct ntask **p;

	if (!t->indexed)
		return;
	for (p = id_chain(n, t->task_id); *p; p = &(*p)->inext) {
		if (*p == t) {
			*p = t->inext;
			break;
		}
	}
	t->indexed = false;
}

/* The receiver's thread: queue the id and wake the network thread. */
static void hint(void *ctx, const char *id)
{
	struct net *n = ctx;
	bool queued;

	pthread_mutex_lock(&n->lock);
	queued = n->hints.n_in < NET_HINTS_MAX;
	if (queued)
		snprintf(n->hints.in[n->hints.n_in++], sizeof(net_hint_id),
			 "%s", id);
	else
		n->hints.dropped++;
	pthread_mutex_unlock(&n->lock);
	if (queued)
		curl_multi_wakeup(n->multi);
}

/* A task waiting for its next poll is polled now, once a NET_HINT_GAP_MS
 * at most (a flood naming one task costs one poll a second); a task that
 * is being polled, downloaded or created is left as it is. */
static void hinted(struct net *n, const char *id, int64_t now)
{
	struct ntask *t = find_by_id(n, id);
	int64_t gap =
		n->poll_ms > NET_HINT_GAP_MS ? n->poll_ms : NET_HINT_GAP_MS;

	if (t && t->step == STEP_POLL && t->x) {
		/* the poll on the wire may have been answered before the
		 * task ended: the next one comes soon (net_hints_delay) */
		t->hint_missed = true;
		return;
	}
	if (!t || t->step != STEP_POLL || !timer_armed(&t->timer) ||
	    (t->hinted && now - t->hint_ms < gap))
		return;
	t->hinted = true;
	t->hint_ms = now;
	net_timer_cancel(&n->timers, &t->timer);
	net_queue_due(n, t);
	log_debug("%s #%" PRIu64 ": a callback came: polling now", t->name,
		  t->seq);
}

double net_hints_delay(struct net *n, struct ntask *t, double delay)
{
	double gap = (double)(n->poll_ms > NET_HINT_GAP_MS ? n->poll_ms :
							     NET_HINT_GAP_MS) /
		     1000.0;

	if (!t->hint_missed)
		return delay;
	t->hint_missed = false;
	return delay < gap ? delay : gap;
}

void net_hints_drain(struct net *n)
{
	net_hint_id *ids;
	unsigned long dropped;
	size_t i, count;
	int64_t now;

	if (!n->callback_url)
		return;
	pthread_mutex_lock(&n->lock);
	ids = n->hints.in;
	count = n->hints.n_in;
	n->hints.in = n->hints.out;
	n->hints.out = ids;
	n->hints.n_in = 0;
	dropped = n->hints.dropped;
	n->hints.dropped = 0;
	pthread_mutex_unlock(&n->lock);
	if (dropped)
		log_info("%lu callback(s) dropped: more came than could be "
			 "queued; the fallback polls find their tasks",
			 dropped);
	now = net_timer_now();
	for (i = 0; i < count && !n->stopping; i++)
		hinted(n, ids[i], now);
}

int net_hints_start(struct net *n, const struct net_config *cfg, char *err,
		    size_t errlen)
{
	int fd = cfg->callback_fd;

	if (!cfg->callback_url)
		return 0;
	n->hints.in = calloc(NET_HINTS_MAX, sizeof(net_hint_id));
	n->hints.out = calloc(NET_HINTS_MAX, sizeof(net_hint_id));
	if (!n->hints.in || !n->hints.out ||
	    asprintf(&n->callback_url, "%s" NET_CB_PATH "%s", cfg->callback_url,
		     cfg->callback_token) < 0) {
		n->callback_url = NULL;
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->hints.rx = net_receiver_start(fd, cfg->callback_token, hint, n, err,
					 errlen);
	return n->hints.rx ? 0 : -1;
}

void net_hints_free(struct net *n)
{
	net_receiver_stop(n->hints.rx); /* no hint comes after this */
	n->hints.rx = NULL;
	free(n->hints.in);
	free(n->hints.out);
	n->hints.in = n->hints.out = NULL;
	free(n->callback_url);
	n->callback_url = NULL;
}
