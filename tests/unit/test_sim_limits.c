/* sim/limits.c: the token bucket of --max-rate, the Retry-After of its
 * answers and the seeded random numbers, on a clock of the test's own. */
#include <stdint.h>

#include "check.h"
#include "sim/limits.h"

/* Takes in a row at time now until one is refused: how many. */
static int take_all(struct sim_bucket *b, double now, double *wait)
{
	int n = 0;

	while (n < 1000000 && sim_bucket_take(b, now, wait))
		n++;
	return n;
}

/* The token bucket on a clock of the test's own. */
static void test_bucket(void)
{
	static int per_ms[10000]; /* taken in each millisecond */
	struct sim_bucket b;
	double wait = -1, t;
	int most = 0, taken = 0;

	sim_bucket_set(&b, 0, 100);
	CHECK(take_all(&b, 100, &wait) == 1000000); /* no limit */

	sim_bucket_set(&b, 40, 100); /* burst 4 */
	CHECK(take_all(&b, 100, &wait) == 4);
	CHECK(wait > 0.0249 && wait < 0.0251);
	CHECK(take_all(&b, 100.0125, &wait) == 0); /* half a token */
	CHECK(wait > 0.0124 && wait < 0.0126);
	CHECK(take_all(&b, 100.025, &wait) == 1);
	CHECK(take_all(&b, 200, &wait) == 4); /* a quiet spell: burst only */
	CHECK(take_all(&b, 199, &wait) == 0); /* time going back adds none */

	/* a client as greedy as can be, every millisecond for 10 s: R a
	 * second on average, never more than R + burst in one second */
	sim_bucket_set(&b, 40, 0);
	for (int ms = 0; ms < 10000; ms++) {
		t = ms / 1000.0;
		per_ms[ms] = take_all(&b, t, &wait);
		taken += per_ms[ms];
		if (ms >= 999) {
			int window = 0;

			for (int k = ms - 999; k <= ms; k++)
				window += per_ms[k];
			most = window > most ? window : most;
		}
	}
	CHECK(taken >= 40 * 10 && taken <= 40 * 10 + 4);
	CHECK(most <= 40 + 4);

	sim_bucket_set(&b, 0.5, 0); /* burst 1, a token every 2 s */
	CHECK(take_all(&b, 0, &wait) == 1);
	CHECK(take_all(&b, 0.5, &wait) == 0);
	CHECK(sim_retry_after(wait) == 2);
}

static void test_retry_after_and_rng(void)
{
	struct sim_rng a, b;
	double lo = 1, hi = 0, sum = 0;
	bool same = true;

	CHECK(sim_retry_after(0) == 1);
	CHECK(sim_retry_after(0.001) == 1);
	CHECK(sim_retry_after(1) == 1);
	CHECK(sim_retry_after(1.01) == 2);
	CHECK(sim_retry_after(-3) == 1);
	CHECK(sim_retry_after(1e12) == 86400);

	sim_rng_seed(&a, 42);
	sim_rng_seed(&b, 42);
	for (int i = 0; i < 10000; i++) {
		double u = sim_rng_uniform(&a);

		same = same && u == sim_rng_uniform(&b);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += u;
	}
	CHECK(same);
	CHECK(lo >= 0 && lo < 0.01 && hi < 1 && hi > 0.99);
	CHECK(sum / 10000 > 0.48 && sum / 10000 < 0.52);
	sim_rng_seed(&b, 43);
	CHECK(sim_rng_uniform(&a) != sim_rng_uniform(&b));
}

int main(void)
{
	test_bucket();
	test_retry_after_and_rng();
	return check_result("test_sim_limits");
}
