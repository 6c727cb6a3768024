/* net/pace: the durations learned from finished tasks and the poll schedule
 * drawn from them (gptimgfs(1), POLLING). Deterministic: the draws are
 * passed in. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "net/pace.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_class(void)
{
	CHECK(net_pace_class("1k") == 0);
	CHECK(net_pace_class("2k") == 1);
	CHECK(net_pace_class("4k") == 2);
	CHECK(net_pace_class("") == 0);
	CHECK(net_pace_class("8k") == 0);
}

static void test_sample(void)
{
	/* costTime alone, the timestamps alone, the larger of both */
	CHECK(NEAR(net_pace_sample(0, 0, 70), 70));
	CHECK(NEAR(net_pace_sample(1000, 1015, NAN), 15));
	CHECK(NEAR(net_pace_sample(1775383908, 1775383910, 70), 70));
	CHECK(NEAR(net_pace_sample(1000, 1090, 70), 90));
	/* a task done within the API's second */
	CHECK(NEAR(net_pace_sample(0, 0, 0), 0));
	CHECK(NEAR(net_pace_sample(1000, 1000, NAN), 0));
	/* nothing to learn from */
	CHECK(net_pace_sample(0, 0, NAN) < 0);
	CHECK(net_pace_sample(1000, 0, NAN) < 0);
	CHECK(net_pace_sample(0, 1000, NAN) < 0);
	CHECK(net_pace_sample(1000, 990, NAN) < 0); /* backwards */
	CHECK(net_pace_sample(0, 0, -1) < 0);	    /* never from the parser */
	CHECK(net_pace_sample(0, 0, 86400) < 0);    /* not believed */
	CHECK(net_pace_sample(1000, 90000, NAN) < 0); /* nor this */
}

static void test_learn(void)
{
	struct pace p = { 0 };
	int i;

	/* the first sample is the mean, without spread; others untouched */
	net_pace_learn(&p, 2, 70);
	CHECK(NEAR(p.cls[2].mean, 70) && NEAR(p.cls[2].dev, 0));
	CHECK(p.cls[2].n == 1 && p.cls[0].n == 0 && p.cls[1].n == 0);
	/* TCP's gains: mean += (s - mean) / 8, dev += (|s - mean| - dev) / 4
	 * with the mean before this sample */
	net_pace_learn(&p, 2, 78);
	CHECK(NEAR(p.cls[2].mean, 71) && NEAR(p.cls[2].dev, 2));
	CHECK(p.cls[2].n == 2);
	/* converges on a steady duration, the spread fades */
	for (i = 0; i < 200; i++)
		net_pace_learn(&p, 2, 15);
	CHECK(fabs(p.cls[2].mean - 15) < 1e-6 && p.cls[2].dev < 1e-6);
	/* samples alternating 10 and 20: mean near 15, spread near 5 */
	for (i = 0; i < 400; i++)
		net_pace_learn(&p, 0, i % 2 ? 20 : 10);
	CHECK(fabs(p.cls[0].mean - 15) < 1 && fabs(p.cls[0].dev - 5) < 1);
	/* ignored: nonsense */
	net_pace_learn(&p, 1, -1);
	net_pace_learn(&p, 1, NAN);
	net_pace_learn(&p, 1, 1e6);
	CHECK(p.cls[1].n == 0);
	/* an unknown class is 1k's */
	net_pace_learn(&p, 7, 15);
	CHECK(p.cls[0].n == 401);
}

static void test_outlier_clipped(void)
{
	struct pace p = { 0 };
	int i;

	for (i = 0; i < 50; i++)
		net_pace_learn(&p, 0, 70);
	/* an hour counts as mean + mean + 30 s = 170 s */
	net_pace_learn(&p, 0, 3600);
	CHECK(NEAR(p.cls[0].mean, 70 + 100.0 / 8));
	CHECK(NEAR(p.cls[0].dev, 100.0 / 4));
	/* a tiny mean does not stop longer tasks from being learned */
	p = (struct pace){ 0 };
	net_pace_learn(&p, 0, 0);
	net_pace_learn(&p, 0, 20);
	CHECK(NEAR(p.cls[0].mean, 20.0 / 8));
}

/* The polls of a task that takes `done` seconds: their count, and how
 * late the one that sees it finished is. */
static int polls_until(const struct pace *p, double done, double floor,
		       double *late)
{
	double age = 0;
	int polls = 0;

	do {
		age += net_pace_delay(p, 0, age, floor, 0.5);
		polls++;
	} while (age < done && polls < 1000);
	*late = age - done;
	return polls;
}

static void test_delay_prior(void)
{
	struct pace p = { 0 };
	double late;

	/* nothing learned: first poll after poll_interval, as ever; the
	 * first polls of a short task come every poll_interval */
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0), 2));
	CHECK(NEAR(net_pace_delay(&p, 0, 2, 2, 0), 2));
	CHECK(NEAR(net_pace_delay(&p, 0, 4, 2, 0), 2));
	/* then half the age: the intervals grow by half each time */
	CHECK(NEAR(net_pace_delay(&p, 0, 6, 2, 0), 3));
	CHECK(NEAR(net_pace_delay(&p, 0, 9, 2, 0), 4.5));
	/* up to 30 s */
	CHECK(NEAR(net_pace_delay(&p, 0, 600, 2, 0), 30));
	/* ...unless poll_interval is longer */
	CHECK(NEAR(net_pace_delay(&p, 0, 600, 60, 0), 60));
	/* a 70 s task unknown: 9 polls where fixed 2 s polling needs 35,
	 * seen at most half its age late */
	CHECK(polls_until(&p, 70, 2, &late) == 9);
	CHECK(late < 70 * 0.5);
}

static void test_delay_learned(void)
{
	struct pace p = { 0 };
	double late;
	int i;

	for (i = 0; i < 20; i++)
		net_pace_learn(&p, 0, 15);
	/* first poll at the expected end, then every poll_interval until
	 * the lateness makes it longer */
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0), 15));
	CHECK(NEAR(net_pace_delay(&p, 0, 0.3, 2, 0), 14.7));
	CHECK(NEAR(net_pace_delay(&p, 0, 14, 2, 0), 2)); /* the floor */
	CHECK(NEAR(net_pace_delay(&p, 0, 15, 2, 0), 2));
	CHECK(NEAR(net_pace_delay(&p, 0, 19, 2, 0), 2));
	CHECK(NEAR(net_pace_delay(&p, 0, 21, 2, 0), 3));
	CHECK(NEAR(net_pace_delay(&p, 0, 1000, 2, 0), 30));
	CHECK(polls_until(&p, 15, 2, &late) == 1);
	CHECK(late < 1);
	/* a task twice as long: 6 polls, seen less than 3 s late */
	CHECK(polls_until(&p, 30, 2, &late) == 6);
	CHECK(late < 3);
	/* with a spread, first poll half a spread after the mean, then
	 * every half spread at least */
	p = (struct pace){ 0 };
	for (i = 0; i < 400; i++)
		net_pace_learn(&p, 0, i % 2 ? 80 : 60);
	CHECK(fabs(p.cls[0].mean - 70) < 1 && fabs(p.cls[0].dev - 10) < 1);
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0),
		   p.cls[0].mean + p.cls[0].dev / 2));
	CHECK(NEAR(net_pace_delay(&p, 0, 77, 2, 0), p.cls[0].dev / 2));
	CHECK(polls_until(&p, 60, 2, &late) == 1);
	CHECK(polls_until(&p, 80, 2, &late) == 2);
	CHECK(late < 5);
}

static void test_jitter(void)
{
	struct pace p = { 0 };
	int i;

	/* late only: up to 10% of the wait... */
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0.999999), 2 + 0.2 * 0.999999));
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0.5), 2.1));
	/* ...but at most poll_interval */
	for (i = 0; i < 20; i++)
		net_pace_learn(&p, 0, 70);
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0), 70));
	CHECK(NEAR(net_pace_delay(&p, 0, 0, 2, 0.5), 71));
	/* a negative or NaN age (clock trouble) is a new task */
	CHECK(NEAR(net_pace_delay(&p, 0, -5, 2, 0), 70));
	CHECK(NEAR(net_pace_delay(&p, 0, NAN, 2, 0), 70));
}

static void test_resume(void)
{
	/* a few resumed tasks go at once... */
	CHECK(NEAR(net_pace_resume_delay(0, 0.9), 0));
	CHECK(net_pace_resume_delay(5, 0.999) <= 0.1);
	/* ...thousands spread over up to 30 s */
	CHECK(NEAR(net_pace_resume_delay(1000, 0.5), 10));
	CHECK(NEAR(net_pace_resume_delay(10000, 0.5), 15));
	CHECK(net_pace_resume_delay(10000, 0.999999) < 30);
}

/* A parked task (waiting for its class's scout): first poll at 30 s of
 * age, then its age doubling up to 300 s; the parked of a class spread to
 * 20 polls a second at most; never under poll_interval. */
static void test_parked(void)
{
	struct pace p = { 0 };
	double at = 0, total = 0;
	int i;

	CHECK(!net_pace_known(&p, 0));
	net_pace_learn(&p, 2, 70);
	CHECK(net_pace_known(&p, 2) && !net_pace_known(&p, 1));
	CHECK(net_pace_known(&p, 9) == net_pace_known(&p, 0));
	CHECK(NEAR(net_pace_parked_delay(0, 1, 2, 0), 30));
	CHECK(NEAR(net_pace_parked_delay(10, 1, 2, 0), 20));
	CHECK(NEAR(net_pace_parked_delay(30, 1, 2, 0), 30));
	CHECK(NEAR(net_pace_parked_delay(60, 1, 2, 0), 60));
	CHECK(NEAR(net_pace_parked_delay(1000, 1, 2, 0), 300));
	CHECK(NEAR(net_pace_parked_delay(NAN, 1, 2, 0), 30));
	CHECK(NEAR(net_pace_parked_delay(0, 1, 45, 0), 45));
	/* jitter: up to 10% later */
	CHECK(NEAR(net_pace_parked_delay(0, 1, 2, 0.5), 31.5));
	/* 10,000 parked: the i-th first polled at i / 20 s at the earliest */
	CHECK(NEAR(net_pace_parked_delay(0, 10000, 2, 0), 500));
	/* ten thousand tasks of 150 s, unknown, created at 1000 a second:
	 * their parked polls until 150 s come at 40 a second at most on
	 * average (it would be thousands, polled as the prior says) */
	for (i = 1; i <= 10000; i++) {
		double created = i / 1000.0, age = 0;

		while ((at = created + age) < 150) {
			age += net_pace_parked_delay(age, i, 2, 0.5);
			if (created + age < 150)
				total++;
		}
	}
	CHECK(total / 150 < 40);
}

int main(void)
{
	test_class();
	test_sample();
	test_learn();
	test_outlier_clipped();
	test_delay_prior();
	test_delay_learned();
	test_jitter();
	test_resume();
	test_parked();
	return check_result("test_pace");
}
