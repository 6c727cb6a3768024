/* A min-heap of due times: see timer.h. */
#include "timer.h"

#include <stdlib.h>
#include <time.h>

#include "util/array.h"

/* Far more than the tasks the network thread can hold. */
#define TIMERS_MAX ((size_t)1 << 24)

int64_t net_timer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void net_timer_heap_init(struct timer_heap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

void net_timer_heap_free(struct timer_heap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		h->v[i]->slot = TIMER_IDLE;
	free(h->v);
	net_timer_heap_init(h);
}

static void put(struct timer_heap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->slot = i;
}

static void sift_up(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->v[parent]->due <= t->due)
			break;
		put(h, i, h->v[parent]);
		i = parent;
	}
	put(h, i, t);
}

static void sift_down(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->n)
			break;
		if (child + 1 < h->n && h->v[child + 1]->due < h->v[child]->due)
			child++;
		if (t->due <= h->v[child]->due)
			break;
		put(h, i, h->v[child]);
		i = child;
	}
	put(h, i, t);
}

int net_timer_arm(struct timer_heap *h, struct timer *t, int64_t due)
{
	struct timer **v;

	if (timer_armed(t)) {
		t->due = due;
		sift_up(h, t->slot);
		sift_down(h, t->slot);
		return 0;
	}
	v = array_reserve(h->v, h->n, &h->cap, sizeof(*v), TIMERS_MAX);
	if (!v)
		return -1;
	h->v = v;
	t->due = due;
	put(h, h->n++, t);
	sift_up(h, t->slot);
	return 0;
}

void net_timer_cancel(struct timer_heap *h, struct timer *t)
{
	size_t i = t->slot;
	struct timer *last;

	if (!timer_armed(t))
		return;
	t->slot = TIMER_IDLE;
	last = h->v[--h->n];
	if (last == t)
		return;
	put(h, i, last);
	sift_up(h, i);
	sift_down(h, last->slot);
}

struct timer *net_timer_first(const struct timer_heap *h)
{
	return h->n ? h->v[0] : NULL;
}

struct timer *net_timer_pop_due(struct timer_heap *h, int64_t now)
{
	struct timer *t = net_timer_first(h);

	if (!t || t->due > now)
		return NULL;
	net_timer_cancel(h, t);
	return t;
}
