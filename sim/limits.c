/* Token bucket, Retry-After rounding and the seeded generator. */
#include "limits.h"

#include <math.h>

void sim_bucket_set(struct sim_bucket *b, double rate, double now)
{
	b->rate = rate;
	b->burst = fmax(1, floor(rate / 10));
	b->tokens = b->burst;
	b->last = now;
}

bool sim_bucket_take(struct sim_bucket *b, double now, double *wait)
{
	if (b->rate <= 0)
		return true;
	/* a clock that goes back (tests) adds nothing */
	if (now > b->last) {
		b->tokens =
			fmin(b->burst, b->tokens + (now - b->last) * b->rate);
		b->last = now;
	}
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return true;
	}
	*wait = (1 - b->tokens) / b->rate;
	return false;
}

unsigned sim_retry_after(double wait)
{
	double s = ceil(wait);

	if (!(s >= 1))
		return 1;
	return s > 86400 ? 86400 : (unsigned)s;
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	r->state = seed;
}

double sim_rng_uniform(struct sim_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}
