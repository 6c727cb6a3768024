/* The scout (gptimgfs(1), POLLING): until a task of a resolution has
 * finished, only one of its tasks is polled as the prior says; the others
 * are parked, polled seldom (net_pace_parked_delay), and paced from the
 * learned duration as soon as a task of theirs ends. Network thread
 * only. */
#ifndef GPTIMGFS_NET_SCOUT_H
#define GPTIMGFS_NET_SCOUT_H

#include "internal.h"

/* Should t, whose next poll is being scheduled, be parked? No when its
 * resolution is known, or when t is (or becomes) its scout. */
bool net_scout_parks(struct net *n, struct ntask *t);
/* t waits parked (it is put on its class's list once). */
void net_scout_park(struct net *n, struct ntask *t);
/* t is no longer parked (a poll of it was answered). */
void net_scout_unpark(struct net *n, struct ntask *t);
/* A task of class cls finished: its parked tasks waiting for their next
 * poll are paced from what is learned now, once. */
void net_scout_finished(struct net *n, unsigned cls);
/* t goes (net_drop): off the list; when it was the scout, a parked task
 * takes its place. */
void net_scout_forget(struct net *n, struct ntask *t);

#endif
