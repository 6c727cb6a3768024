/* A token bucket: at most `burst` requests at once, then `rate` a second
 * on average. Times are net_timer_now() milliseconds. */
#ifndef GPTIMGFS_NET_BUCKET_H
#define GPTIMGFS_NET_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
	double tokens;
	double rate;  /* tokens a second */
	double burst; /* the most tokens it holds */
	int64_t at;   /* when tokens was last brought up to date */
};

void net_bucket_init(struct bucket *b, double rate, double burst, int64_t now);
/* Change rate and burst (the tokens already earned stay, up to burst). */
void net_bucket_set(struct bucket *b, double rate, double burst, int64_t now);
/* Take one token if there is one. */
bool net_bucket_take(struct bucket *b, int64_t now);
/* Milliseconds until a token is there (0: now). */
int64_t net_bucket_wait(struct bucket *b, int64_t now);

#endif
