/* The task table, its queues and the slots, as the network thread's loop
 * (net.c) uses them; what every file of net/ calls (net_schedule,
 * net_fail, net_drop...) is in internal.h. Network thread only. */
#ifndef GPTIMGFS_NET_TASKS_H
#define GPTIMGFS_NET_TASKS_H

#include "internal.h"

/* The task of sequence number seq, or NULL. */
struct ntask *net_task_find(struct net *n, uint64_t seq);
/* A new entry for ct in the table; NULL when out of memory (logged). */
struct ntask *net_task_add(struct net *n, const struct core_task *ct);

void net_queue_push(struct net_queue *q, struct ntask *t);
/* The first task of q, taken out; NULL when q is empty. */
struct ntask *net_queue_pop(struct net_queue *q);
/* Take t out of q; nothing when t is not in q. */
void net_queue_remove(struct net_queue *q, struct ntask *t);

/* t's step (t->step) is due: it waits in its queue for a token. */
void net_queue_due(struct net *n, struct ntask *t);
/* Is a step waiting for a token? */
bool net_steps_due(const struct net *n);
/* The step to get the next token, taken out of its queue: reads and
 * creations take turns while both wait; NULL when none waits. */
struct ntask *net_next_due(struct net *n);

/* t holds a slot (counts against max_inflight) until it is dropped. */
void net_take_slot(struct net *n, struct ntask *t);
/* Hand free slots to the creations waiting for one, first come first. */
void net_grant_slots(struct net *n);
/* The tasks the API has (created, not yet dropped): what its task limit
 * counts. */
unsigned net_tasks_at_api(const struct net *n);
/* The learned limit fell under the slots held: the creations due but not
 * sent give theirs back, the last first, and wait first in line for one
 * again, in their order. */
void net_shed_slots(struct net *n);
/* A creation's 429 was taken for the rate: poll one task we have at the
 * API now (at most one a second, none when a poll is due anyway), so that
 * its answer tells the next 429 apart: a 429 again is the rate, an answer
 * makes the next refused creation evidence of the task limit (adapt.c). */
void net_probe_poll(struct net *n);

#endif
