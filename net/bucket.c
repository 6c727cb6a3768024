/* A token bucket: see bucket.h. */
#include "bucket.h"

#include <math.h>

void net_bucket_init(struct bucket *b, double rate, double burst, int64_t now)
{
	b->tokens = burst;
	b->rate = rate;
	b->burst = burst;
	b->at = now;
}

static void refill(struct bucket *b, int64_t now)
{
	if (now > b->at) {
		b->tokens += (double)(now - b->at) * b->rate / 1000.0;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->at = now;
}

void net_bucket_set(struct bucket *b, double rate, double burst, int64_t now)
{
	refill(b, now);
	b->rate = rate;
	b->burst = burst;
	if (b->tokens > burst)
		b->tokens = burst;
}

bool net_bucket_take(struct bucket *b, int64_t now)
{
	refill(b, now);
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

int64_t net_bucket_wait(struct bucket *b, int64_t now)
{
	refill(b, now);
	if (b->tokens >= 1.0)
		return 0;
	return (int64_t)ceil((1.0 - b->tokens) * 1000.0 / b->rate);
}
