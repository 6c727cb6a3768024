/* Callbacks on the network thread's side (gptimgfs(1), CALLBACKS): the
 * receiver (callback.h) queues the task ids callbacks name; the network
 * thread polls each such task of ours at once if it waits for a poll.
 * A callback is only a hint: what the poll's answer says is believed. */
#ifndef GPTIMGFS_NET_HINTS_H
#define GPTIMGFS_NET_HINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jobs.h"

#define NET_HINTS_MAX 1024     /* ids queued; more are dropped (the slow */
			       /* fallback poll finds those tasks) */
#define NET_HINT_GAP_MS 1000   /* at most one hinted poll a task a second */
#define NET_HINTS_BUCKETS 1024 /* tasks by API id: hash chains */

struct net;
struct ntask;
struct net_config;
struct net_receiver;

typedef char net_hint_id[TASK_ID_MAX + 1];

struct net_hints {
	/* filled by the receiver's thread under net's lock (a leaf);
	 * swapped with out by the network thread */
	net_hint_id *in, *out;
	size_t n_in;
	unsigned long dropped;
	/* the network thread's: its tasks by the API's id */
	struct ntask *by_id[NET_HINTS_BUCKETS];
	struct net_receiver *rx;
};

/* With cfg->callback_url: n->callback_url (the URL with the path and token)
 * and the receiver on that socket (owned from now on). 0, or -1 with err
 * set. Call before the network thread starts. */
int net_hints_start(struct net *n, const struct net_config *cfg, char *err,
		    size_t errlen);
/* Stop the receiver and free what net_hints_start made. */
void net_hints_free(struct net *n);
/* t's API id is id: a callback naming it finds it. */
void net_hints_index(struct net *n, struct ntask *t, const char *id);
/* t goes: no callback finds it any more. */
void net_hints_forget(struct net *n, struct ntask *t);
/* The fallback delay (seconds) of t's next poll, or sooner when a
 * callback came while its last poll was on the wire. */
double net_hints_delay(struct net *n, struct ntask *t, double delay);
/* Poll now the tasks the queued callbacks named (network thread). */
void net_hints_drain(struct net *n);

#endif
