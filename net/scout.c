/* The scout and the parked tasks (scout.h). A class's parked tasks are a
 * doubly linked list, so that a task leaves it in O(1) and the learn
 * event walks the class's parked tasks only, once. */
#include "scout.h"
#include "util/debugassert.h"

static struct net_scouting *of(struct net *n, const struct ntask *t)
{
	DEBUGASSERT(t->pace_class < PACE_CLASSES);
	return &n->scouting[t->pace_class];
}

static bool known(const struct net *n, unsigned cls)
{
	return n->scouting[cls].finished || net_pace_known(&n->pace, cls);
}

bool net_scout_parks(struct net *n, struct ntask *t)
{
	struct net_scouting *s = of(n, t);

	if (known(n, t->pace_class))
		return false;
	if (!s->scout)
		s->scout = t;
	return s->scout != t;
}

void net_scout_park(struct net *n, struct ntask *t)
{
	struct net_scouting *s = of(n, t);

	if (t->parked)
		return;
	t->parked = true;
	t->park_next = s->parked;
	t->park_prev = &s->parked;
	if (s->parked)
		s->parked->park_prev = &t->park_next;
	s->parked = t;
	s->n_parked++;
}

void net_scout_unpark(struct net *n, struct ntask *t)
{
	struct net_scouting *s = of(n, t);

	if (!t->parked)
		return;
	*t->park_prev = t->park_next;
	if (t->park_next)
		t->park_next->park_prev = t->park_prev;
	t->park_next = NULL;
	t->park_prev = NULL;
	t->parked = false;
	DEBUGASSERT(s->n_parked > 0);
	s->n_parked--;
}

/* t, taken off the list, is paced anew: now, if it waits for its timer
 * (one due or on the wire is paced by its answer). */
static void repace(struct net *n, struct ntask *t)
{
	net_scout_unpark(n, t);
	if (n->stopping || !timer_armed(&t->timer))
		return;
	net_timer_cancel(&n->timers, &t->timer);
	net_schedule_poll(n, t);
}

void net_scout_finished(struct net *n, unsigned cls)
{
	struct net_scouting *s = &n->scouting[cls < PACE_CLASSES ? cls : 0];

	s->finished = true;
	s->scout = NULL;
	while (s->parked)
		repace(n, s->parked);
}

void net_scout_forget(struct net *n, struct ntask *t)
{
	struct net_scouting *s = of(n, t);

	net_scout_unpark(n, t);
	if (s->scout != t)
		return;
	s->scout = NULL;
	/* the first parked goes on as the scout (it is the newest: an old
	 * one's next poll is far, a new one is polled soon) */
	if (s->parked && !n->stopping) {
		s->scout = s->parked;
		repace(n, s->parked);
	}
}
