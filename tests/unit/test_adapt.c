/* net/adapt.c: the rate and the task limit learned from the API's
 * answers, driven with made-up times. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "net/adapt.h"

/* Requests answered every 10 ms for ms milliseconds from *now, with
 * requests waiting for tokens all the while. */
static void busy_answers(struct adapt *a, int64_t *now, int64_t ms)
{
	int64_t end = *now + ms;

	for (; *now < end; *now += 10) {
		net_adapt_busy(a, *now);
		net_adapt_answered(a, true, *now);
	}
}

/* Starts at ADAPT_RATE_START, grows only while requests wait for tokens,
 * and never past max_rate. */
static void test_rate_grows(void)
{
	struct adapt a;
	int64_t now = 1000;

	net_adapt_init(&a, 0, 100, now);
	CHECK(a.rate == ADAPT_RATE_START && a.rate_max == ADAPT_RATE_MAX);
	/* idle answers: nothing waits, nothing learned */
	for (; now < 20000; now += 100)
		net_adapt_answered(&a, true, now);
	CHECK(a.rate == ADAPT_RATE_START);
	busy_answers(&a, &now, 2000);
	CHECK(a.rate > ADAPT_RATE_START && a.rate < 2 * ADAPT_RATE_START);
	busy_answers(&a, &now, 8000);
	CHECK(a.rate > 100);

	net_adapt_init(&a, 30, 100, now);
	CHECK(a.rate == 20);
	busy_answers(&a, &now, 60000);
	CHECK(a.rate == 30);
	net_adapt_init(&a, 5, 100, now);
	CHECK(a.rate == 5); /* a ceiling under the start rate */
}

/* A mount that stays quiet before its first batch starts it at
 * ADAPT_RATE_START: the quiet time is no growth (it was: 10 s idle gave
 * 20 + 0.4 * 10^3 = 420 requests a second at the first answer). */
static void test_quiet_start(void)
{
	struct adapt a;
	int64_t now = 1000;

	net_adapt_init(&a, 0, 100, now);
	now += 10000;
	busy_answers(&a, &now, 100);
	CHECK(a.rate < ADAPT_RATE_START + 1);
	/* and quiet again between two batches */
	busy_answers(&a, &now, 5000);
	now += 30000;
	{
		double before = a.rate;

		busy_answers(&a, &now, 100);
		CHECK(a.rate < before + 1);
	}
}

/* A 429 on a read cuts the rate to ADAPT_BETA, once per burst, and the
 * curve brings it back to where it was after K seconds, then above. */
static void test_rate_cut_and_back(void)
{
	struct adapt a;
	int64_t now = 1000;
	double k;

	net_adapt_init(&a, 0, 100, now);
	busy_answers(&a, &now, 5000);
	a.rate = 40; /* as if learned */
	CHECK(net_adapt_throttled(&a, false, 10, now) == ADAPT_RATE);
	CHECK(fabs(a.rate - 28) < 1e-9);
	/* the other 429s of the same burst */
	CHECK(net_adapt_throttled(&a, false, 10, now + 200) == ADAPT_RATE);
	CHECK(net_adapt_throttled(&a, true, 10, now + 900) == ADAPT_RATE);
	CHECK(fabs(a.rate - 28) < 1e-9);
	k = cbrt(40 * (1 - ADAPT_BETA) / ADAPT_CUBIC_C);
	now += 10;
	busy_answers(&a, &now, (int64_t)(k * 1000 / 2));
	CHECK(a.rate > 28 && a.rate < 40);
	busy_answers(&a, &now, (int64_t)(k * 1000 / 2));
	CHECK(fabs(a.rate - 40) < 0.5);
	busy_answers(&a, &now, 3000);
	CHECK(a.rate > 45);
	/* a second cut, a second later */
	now += 1000;
	net_adapt_throttled(&a, false, 10, now);
	CHECK(a.rate < 40);
	/* never below ADAPT_RATE_MIN */
	for (int i = 0; i < 100; i++)
		net_adapt_throttled(&a, false, 10, now += 1000);
	CHECK(a.rate == ADAPT_RATE_MIN);
}

/* Sending at twice what the API takes: W is what it answered, not what
 * was sent; a quiet window does not pass for the limit. */
static void test_rate_w_from_answers(void)
{
	struct adapt a;
	int64_t now = 1000;
	int i;

	net_adapt_init(&a, 0, 100, now);
	a.rate = 20;
	/* 10 answers a second for two windows, the rest 429s */
	for (i = 0; i < 20; i++, now += 100) {
		net_adapt_busy(&a, now);
		net_adapt_answered(&a, true, now);
	}
	a.rate = 20;
	net_adapt_throttled(&a, false, 3, now);
	CHECK(fabs(a.w_max - 14) < 1e-9); /* not under beta of the rate */
	now += ADAPT_CUT_GAP_MS;
	for (i = 0; i < 10; i++, now += 100)
		net_adapt_answered(&a, true, now);
	a.rate = 12;
	net_adapt_throttled(&a, false, 3, now);
	CHECK(fabs(a.ok_rate - 10) < 0.6);
	CHECK(fabs(a.w_max - a.ok_rate) < 1e-9);
	CHECK(fabs(a.rate - a.ok_rate * ADAPT_BETA) < 1e-9);
}

/* Which limit a 429 on a creation points at. */
static void test_evidence(void)
{
	struct adapt a;
	int64_t now = 100000;

	/* no read answered yet (a batch's first creations): the rate */
	net_adapt_init(&a, 0, 1000, now);
	CHECK(net_adapt_throttled(&a, true, 7, now) == ADAPT_RATE);
	CHECK(a.limit == 1000);
	/* reads go through, creations do not: the task limit */
	net_adapt_init(&a, 0, 1000, now);
	net_adapt_answered(&a, true, now);
	CHECK(net_adapt_throttled(&a, true, 10, now + 100) ==
	      ADAPT_CONCURRENCY);
	CHECK(a.limit == 9);
	CHECK(a.rate == ADAPT_RATE_START); /* the rate is not to blame */
	/* ...but not with no task of ours there */
	CHECK(net_adapt_throttled(&a, true, 0, now + 200) == ADAPT_RATE);
	/* a read throttled lately: the rate */
	net_adapt_init(&a, 0, 1000, now);
	net_adapt_answered(&a, true, now);
	CHECK(net_adapt_throttled(&a, false, 10, now + 100) == ADAPT_RATE);
	CHECK(net_adapt_throttled(&a, true, 10, now + 200) == ADAPT_RATE);
	CHECK(net_adapt_throttled(&a, true, 10,
				  now + 100 + ADAPT_EVIDENCE_MS - 1) ==
	      ADAPT_RATE);
	net_adapt_answered(&a, true, now + 100 + ADAPT_EVIDENCE_MS);
	CHECK(net_adapt_throttled(&a, true, 10,
				  now + 100 + ADAPT_EVIDENCE_MS) ==
	      ADAPT_CONCURRENCY);
	/* an old answer is no evidence */
	net_adapt_init(&a, 0, 1000, now);
	net_adapt_answered(&a, true, now);
	CHECK(net_adapt_throttled(&a, true, 10, now + ADAPT_EVIDENCE_MS) ==
	      ADAPT_RATE);
	/* a creation's answer is no read */
	net_adapt_init(&a, 0, 1000, now);
	net_adapt_answered(&a, false, now);
	CHECK(net_adapt_throttled(&a, true, 10, now + 1) == ADAPT_RATE);
}

/* The task limit: AIMD within [1, max_inflight]. */
static void test_limit(void)
{
	struct adapt a;
	int64_t now = 1000;
	int i;

	net_adapt_init(&a, 0, 10000, now);
	CHECK(net_adapt_limit(&a) == 10000);
	net_adapt_created(&a, true);
	CHECK(net_adapt_limit(&a) == 10000); /* never past the ceiling */
	net_adapt_answered(&a, true, now);
	net_adapt_throttled(&a, true, 5, now);
	CHECK(net_adapt_limit(&a) == 4); /* 4.5 */
	/* the other 429s of the burst at the same count: no collapse */
	net_adapt_throttled(&a, true, 5, now);
	net_adapt_throttled(&a, true, 6, now);
	CHECK(net_adapt_limit(&a) == 4);
	/* growth only while creations wait for a slot */
	net_adapt_created(&a, false);
	CHECK(fabs(a.limit - 4.5) < 1e-9);
	/* about one task more per limit creations */
	for (i = 0; i < 3; i++)
		net_adapt_created(&a, true);
	CHECK(net_adapt_limit(&a) == 5);
	for (i = 0; i < 6; i++)
		net_adapt_created(&a, true);
	CHECK(net_adapt_limit(&a) == 6);
	/* at least 1 */
	net_adapt_throttled(&a, true, 1, now);
	CHECK(net_adapt_limit(&a) == 1 && a.limit == 1);
	net_adapt_init(&a, 0, 0, now);
	CHECK(net_adapt_limit(&a) == 1);
}

int main(void)
{
	test_rate_grows();
	test_quiet_start();
	test_rate_cut_and_back();
	test_rate_w_from_answers();
	test_evidence();
	test_limit();
	return check_result("test_adapt");
}
