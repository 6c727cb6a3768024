/* net/pace: the fallback poll while callbacks are on (gptimgfs(1),
 * CALLBACKS): long after the expected end, then every 30 to 60 s. */
#include <math.h>

#include "check.h"
#include "net/pace.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_unknown(void)
{
	struct pace p = { 0 };

	/* nothing learned: a steady, slow fallback whatever the age */
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 0, 2, 0), PACE_CB_UNKNOWN));
	CHECK(NEAR(net_pace_fallback_delay(&p, 1, 500, 2, 0), PACE_CB_UNKNOWN));
	/* the jitter only delays, by 10% at most */
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 0, 2, 0.5),
		   PACE_CB_UNKNOWN * 1.05));
	/* poll_interval stays the floor */
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 0, 100, 0), 100));
}

static void test_learned(void)
{
	struct pace p = { 0 };

	/* 15 s tasks, no spread: first at 15 + 0 + max(30, 15) = 45 s */
	net_pace_learn(&p, 0, 15);
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 0, 2, 0), 45));
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 40, 2, 0), 5));
	/* late: half the lateness, 30 s at least... */
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 45, 2, 0), 30));
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 95, 2, 0), 40));
	/* ...60 s at most */
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 1000, 2, 0), PACE_CB_CAP));
	/* 70 s tasks (the real API's): first at 70 + 70 = 140 s */
	net_pace_learn(&p, 2, 70);
	CHECK(NEAR(net_pace_fallback_delay(&p, 2, 0, 2, 0), 140));
	/* other classes learn on their own */
	CHECK(NEAR(net_pace_fallback_delay(&p, 1, 0, 2, 0), PACE_CB_UNKNOWN));
}

typedef double delay_fn(const struct pace *, unsigned, double, double, double);

/* The polls of a task of class 0 that is not finished after span s. */
static int polls(const struct pace *p, delay_fn *delay, double span)
{
	double age = 0;
	int n = 0;

	while ((age += delay(p, 0, age, 2, 0)) <= span)
		n++;
	return n;
}

static void test_spread(void)
{
	struct pace p = { 0 };

	/* a spread moves the first poll out by half of it */
	net_pace_learn(&p, 0, 10);
	net_pace_learn(&p, 0, 18); /* mean 11, dev 2 */
	CHECK(NEAR(p.cls[0].mean, 11) && NEAR(p.cls[0].dev, 2));
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, 0, 2, 0), 11 + 1 + 30));
	/* a task that never ends (its callback lost, the API slow): over
	 * ten minutes a fallback poll every 30 to 60 s, and far fewer polls
	 * than without callbacks */
	CHECK(polls(&p, net_pace_fallback_delay, 600) <= 600 / 30 + 1);
	CHECK(polls(&p, net_pace_fallback_delay, 600) >= 600 / 60);
	CHECK(polls(&p, net_pace_fallback_delay, 600) <
	      polls(&p, net_pace_delay, 600) / 2);
	/* a negative or NaN age is a new task */
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, -5, 2, 0), 42));
	CHECK(NEAR(net_pace_fallback_delay(&p, 0, NAN, 2, 0), 42));
}

int main(void)
{
	test_unknown();
	test_learned();
	test_spread();
	return check_result("test_pace_fallback");
}
