/* The simulator's limits and chance, kept apart from the server so that unit
 * tests can drive them with a clock of their own: a token bucket for the
 * requests-per-second limit, the Retry-After that goes with a wait, and a
 * small seeded generator for task durations and lost callbacks. */
#ifndef GPTIMGFS_SIM_LIMITS_H
#define GPTIMGFS_SIM_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

/* rate tokens a second, at most burst = max(1, floor(rate / 10)) held: on
 * average rate requests a second, never more than rate + burst in any one
 * second, and at most burst at once after a quiet spell. */
struct sim_bucket {
	double rate; /* 0: unlimited */
	double burst;
	double tokens;
	double last; /* when tokens was last brought up to date */
};

/* Set the rate (0: unlimited); the bucket starts full. */
void sim_bucket_set(struct sim_bucket *b, double rate, double now);
/* Take one token at now: true, or false with *wait the seconds until the
 * next one comes. */
bool sim_bucket_take(struct sim_bucket *b, double now, double *wait);

/* A Retry-After value: whole seconds, rounded up, at least 1. */
unsigned sim_retry_after(double wait);

/* splitmix64: the same seed gives the same draws. */
struct sim_rng {
	uint64_t state;
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed);
/* Uniform in [0, 1). */
double sim_rng_uniform(struct sim_rng *r);

#endif
