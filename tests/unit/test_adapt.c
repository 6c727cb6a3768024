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
 * by ADAPT_SLOW_START a second until the first cut (slow start; it was
 * CUBIC's plateau from the start, under twice the start rate after 2 s),
 * and never past max_rate. */
static void test_rate_grows(void)
{
	struct adapt a;
	int64_t now = 1000;

	net_adapt_init(&a, 0, 100, now);
	CHECK(a.rate == ADAPT_RATE_START && a.rate_max == ADAPT_RATE_MAX);
	CHECK(a.slow_start);
	/* idle answers: nothing waits, nothing learned */
	for (; now < 20000; now += 100)
		net_adapt_answered(&a, true, now);
	CHECK(a.rate == ADAPT_RATE_START);
	busy_answers(&a, &now, 2010);
	CHECK(fabs(a.rate - ADAPT_RATE_START * ADAPT_SLOW_START *
				    ADAPT_SLOW_START) < 1e-6);
	busy_answers(&a, &now, 8000);
	CHECK(a.rate > 100);

	net_adapt_init(&a, 30, 100, now);
	CHECK(a.rate == 20);
	busy_answers(&a, &now, 60000);
	CHECK(a.rate == 30);
	net_adapt_init(&a, 5, 100, now);
	CHECK(a.rate == 5); /* a ceiling under the start rate */
}

/* Slow start ends at the first cut: then CUBIC, slowly near W. */
static void test_slow_start_ends(void)
{
	struct adapt a;
	int64_t now = 1000;
	double cut;

	net_adapt_init(&a, 0, 100, now);
	busy_answers(&a, &now, 3000);
	net_adapt_throttled(&a, false, 10, now);
	CHECK(!a.slow_start);
	cut = a.rate;
	busy_answers(&a, &now, 1000);
	CHECK(a.rate < cut * ADAPT_SLOW_START);
	/* a creation's 429 taken for the rate ends it too */
	net_adapt_init(&a, 0, 100, now);
	CHECK(net_adapt_throttled(&a, true, 10, now) == ADAPT_RATE);
	CHECK(!a.slow_start);
}

/* A mount that stays quiet before its first batch starts it at
 * ADAPT_RATE_START: the quiet time is no growth (it was: 10 s idle gave
 * 20 + 0.4 * 10^3 = 420 requests a second at the first answer). */
static void test_quiet_start(void)
{
	struct adapt a;
	int64_t now = 1000;
	double before;

	net_adapt_init(&a, 0, 100, now);
	now += 10000;
	busy_answers(&a, &now, 100);
	CHECK(a.rate < ADAPT_RATE_START + 1);
	/* and quiet again between two batches: in slow start, the growth
	 * of the 0.1 s busy only (it was CUBIC's: under 1 a second) */
	busy_answers(&a, &now, 5000);
	now += 30000;
	before = a.rate;
	busy_answers(&a, &now, 100);
	CHECK(a.rate < before * pow(ADAPT_SLOW_START, 0.1) + 1e-6);
	/* ...and after a cut, on the curve */
	net_adapt_throttled(&a, false, 10, now);
	busy_answers(&a, &now, 5000);
	now += 30000;
	before = a.rate;
	busy_answers(&a, &now, 100);
	CHECK(a.rate < before + 1);
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

/* Which limit a 429 on a creation points at: the task limit only when a
 * read was answered after creations began to be refused (it was: within
 * 5 s, before or after). */
static void test_evidence(void)
{
	struct adapt a;
	int64_t now = 100000;
	double rate;

	/* no read answered yet (a batch's first creations): the rate */
	net_adapt_init(&a, 0, 1000, now);
	CHECK(net_adapt_throttled(&a, true, 7, now) == ADAPT_RATE);
	CHECK(a.limit == 1000);
	/* a read answered before the refusals proves nothing... */
	net_adapt_init(&a, 0, 1000, now);
	net_adapt_answered(&a, true, now);
	CHECK(net_adapt_throttled(&a, true, 10, now + 100) == ADAPT_RATE);
	CHECK(net_adapt_throttled(&a, true, 10, now + 150) == ADAPT_RATE);
	/* ...one answered since does: reads go through, creations not */
	rate = a.rate;
	net_adapt_answered(&a, true, now + 200);
	CHECK(net_adapt_throttled(&a, true, 10, now + 300) ==
	      ADAPT_CONCURRENCY);
	CHECK(a.limit == 9);
	CHECK(a.rate == rate); /* the rate is not to blame */
	/* ...but not with no task of ours there */
	CHECK(net_adapt_throttled(&a, true, 0, now + 400) == ADAPT_RATE);
	/* a read throttled since: the rate, until one is answered again */
	CHECK(net_adapt_throttled(&a, false, 10, now + 500) == ADAPT_RATE);
	CHECK(net_adapt_throttled(&a, true, 10, now + 600) == ADAPT_RATE);
	CHECK(net_adapt_throttled(&a, true, 10, now + 60000) == ADAPT_RATE);
	net_adapt_answered(&a, true, now + 60100);
	CHECK(net_adapt_throttled(&a, true, 10, now + 60200) ==
	      ADAPT_CONCURRENCY);
	/* a creation that goes through ends the run: the next refusal is
	 * the first again */
	net_adapt_answered(&a, false, now + 60300);
	CHECK(net_adapt_throttled(&a, true, 10, now + 60400) == ADAPT_RATE);
	/* a creation's answer is no read */
	net_adapt_init(&a, 0, 1000, now);
	net_adapt_throttled(&a, true, 10, now);
	net_adapt_answered(&a, false, now + 1);
	CHECK(net_adapt_throttled(&a, true, 10, now + 2) == ADAPT_RATE);
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
	CHECK(net_adapt_limit(&a) == 10000);   /* never past the ceiling */
	net_adapt_throttled(&a, true, 5, now); /* the first: the rate */
	CHECK(net_adapt_limit(&a) == 10000);
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
	test_slow_start_ends();
	test_quiet_start();
	test_rate_cut_and_back();
	test_rate_w_from_answers();
	test_evidence();
	test_limit();
	return check_result("test_adapt");
}
