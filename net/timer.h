/* Due times on CLOCK_MONOTONIC in milliseconds, kept in a binary min-heap:
 * the network thread's polls, retries and deadlines. A timer is embedded in
 * its owner and knows its own place in the heap, so it can be moved or
 * cancelled in O(log n). */
#ifndef GPTIMGFS_NET_TIMER_H
#define GPTIMGFS_NET_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_IDLE ((size_t)-1)

struct timer {
	int64_t due; /* ms on CLOCK_MONOTONIC */
	size_t slot; /* index in the heap, TIMER_IDLE when not armed */
};

struct timer_heap {
	struct timer **v;
	size_t n, cap;
};

int64_t net_timer_now(void);

static inline void timer_init(struct timer *t)
{
	t->due = 0;
	t->slot = TIMER_IDLE;
}

static inline bool timer_armed(const struct timer *t)
{
	return t->slot != TIMER_IDLE;
}

void net_timer_heap_init(struct timer_heap *h);
/* Disarms whatever is still in the heap. */
void net_timer_heap_free(struct timer_heap *h);
/* Arm t for due (moving it if it is armed already). 0, or -1 when out of
 * memory (t is then left as it was). */
int net_timer_arm(struct timer_heap *h, struct timer *t, int64_t due);
void net_timer_cancel(struct timer_heap *h, struct timer *t);
/* The earliest timer, NULL when none is armed. */
struct timer *net_timer_first(const struct timer_heap *h);
/* Disarm and return the earliest timer if it is due at now, else NULL. */
struct timer *net_timer_pop_due(struct timer_heap *h, int64_t now);

#endif
