/* net/timer.c and net/bucket.c: the timer heap and the token bucket that
 * pace the network thread. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "net/bucket.h"
#include "net/timer.h"

/* The heap gives timers back in due order, also after moves and
 * cancellations. */
static void test_timer_heap(void)
{
	struct timer_heap h;
	struct timer t[200], *p;
	int64_t last = -1;
	unsigned seed = 7;
	size_t i, popped = 0;

	net_timer_heap_init(&h);
	for (i = 0; i < 200; i++) {
		timer_init(&t[i]);
		CHECK(net_timer_arm(&h, &t[i], rand_r(&seed) % 1000) == 0);
	}
	for (i = 0; i < 200; i += 3)
		CHECK(net_timer_arm(&h, &t[i], rand_r(&seed) % 1000) == 0);
	for (i = 1; i < 200; i += 4)
		net_timer_cancel(&h, &t[i]);
	CHECK(!timer_armed(&t[1]) && timer_armed(&t[0]));
	CHECK(net_timer_pop_due(&h, -1) == NULL);
	while ((p = net_timer_pop_due(&h, 1000)) != NULL) {
		CHECK(p->due >= last);
		CHECK(!timer_armed(p));
		last = p->due;
		popped++;
	}
	CHECK(popped == 150);
	CHECK(net_timer_first(&h) == NULL);
	net_timer_heap_free(&h);
}

static void test_bucket(void)
{
	struct bucket b;
	int i, taken = 0;

	net_bucket_init(&b, 20, 20, 0);
	for (i = 0; i < 30; i++)
		taken += net_bucket_take(&b, 0);
	CHECK(taken == 20);
	CHECK(net_bucket_wait(&b, 0) == 50);
	CHECK(!net_bucket_take(&b, 49));
	CHECK(net_bucket_take(&b, 50));
	CHECK(net_bucket_take(&b, 10000)); /* refilled, never past burst */
	for (taken = 0, i = 0; i < 30; i++)
		taken += net_bucket_take(&b, 10000);
	CHECK(taken == 19);
}

int main(void)
{
	test_timer_heap();
	test_bucket();
	return check_result("test_net_timer");
}
