/* The pace learned from the API (gptimgfs(1), PACING): a request rate and
 * a number of tasks at the API at once, each lowered when a 429
 * rate_limit_exceeded points at it and raised again by success, never
 * above the user's ceilings (max_rate, max_inflight). Pure logic: times
 * are milliseconds passed in (net_timer_now() in the daemon), so that
 * tests drive it. */
#ifndef GPTIMGFS_NET_ADAPT_H
#define GPTIMGFS_NET_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

/* The rate: CUBIC, as AWS SDKs' adaptive retry mode. */
#define ADAPT_RATE_START 20.0 /* requests a second: the old fixed rate */
#define ADAPT_RATE_MIN 0.5    /* never below: the API must hear from us */
#define ADAPT_RATE_MAX 1000.0 /* max_rate's default */
#define ADAPT_BETA 0.7	      /* a throttle keeps 70% of the rate */
#define ADAPT_CUBIC_C 0.4     /* growth: rate = W + C (t - K)^3 */
#define ADAPT_CUT_GAP_MS 1000 /* one cut per second: the 429s of one burst */
#define ADAPT_WINDOW_MS 1000  /* answers counted over this, for W */
/* Requests waited for a token within this: the rate is what limits us,
 * so success may raise it (not while we ask for less than it allows). */
#define ADAPT_BUSY_MS 1000
/* Slow start: until the first 429 taken for the rate, the rate grows by
 * this much a second (while requests wait for tokens), as TCP's slow
 * start doubles its window each round trip. */
#define ADAPT_SLOW_START 1.5
/* The tasks at the API: AIMD, as Netflix's concurrency-limits. */
#define ADAPT_LIMIT_BETA 0.9 /* a throttle keeps 90% of the tasks there */

/* What a 429 was taken to mean. */
enum adapt_cause {
	ADAPT_RATE,	   /* too many requests a second */
	ADAPT_CONCURRENCY, /* too many unfinished tasks */
};

struct adapt {
	double rate;	    /* learned requests a second */
	double rate_max;    /* the user's ceiling (max_rate) */
	double w_max;	    /* the rate before the last cut (CUBIC's W) */
	int64_t epoch;	    /* when the growth curve started */
	int64_t last_cut;   /* of the rate */
	int64_t window;	    /* when the current count began */
	unsigned window_ok; /* answers (no 429) since */
	double ok_rate;	    /* answers a second over the last window */
	int64_t busy_at;    /* a request last waited for a token */
	bool slow_start;    /* no 429 was taken for the rate yet */
	int64_t grown_at;   /* slow start: the rate last grew */
	/* Creations are being refused (429) since the last one created;
	 * read_after is what the last poll or balance read answered
	 * since they began to be: 0 nothing yet, 1 answered, -1 429. */
	bool refusing;
	int read_after;
	double limit;	    /* learned tasks at the API at once */
	unsigned limit_max; /* the user's ceiling (max_inflight) */
};

/* rate_max 0: ADAPT_RATE_MAX; limit_max 0: 1. */
void net_adapt_init(struct adapt *a, double rate_max, unsigned limit_max,
		    int64_t now);
/* A request found no token: there is more to send than the rate allows. */
void net_adapt_busy(struct adapt *a, int64_t now);
/* The API answered a request without throttling it; read: a poll or a
 * balance read (not a creation). */
void net_adapt_answered(struct adapt *a, bool read, int64_t now);
/* A creation succeeded; limited: creations were waiting for a slot. */
void net_adapt_created(struct adapt *a, bool limited);
/* A 429 rate_limit_exceeded. creation: to a creation; unfinished: the
 * other tasks we have at the API. Says which limit it was taken for (see
 * adapt.c): a creation's is taken for the rate until a read is answered
 * while creations are refused, so the caller polls a task to find out.
 * Its Retry-After is the throttled request's to honour: see create.c. */
enum adapt_cause net_adapt_throttled(struct adapt *a, bool creation,
				     unsigned unfinished, int64_t now);
/* Tasks allowed at the API at once now: at least 1. */
unsigned net_adapt_limit(const struct adapt *a);

#endif
