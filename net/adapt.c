/* The pace learned from the API: see adapt.h.
 *
 * The rate follows CUBIC: a throttle sets W, the rate the API is taken to
 * allow, cuts the rate to ADAPT_BETA of W (once per ADAPT_CUT_GAP_MS, so
 * that the 429s of one burst count once) and starts a curve rate(t) = W +
 * C (t - K)^3, K = cbrt(W (1 - beta) / C): back to W quickly, a plateau
 * there, then faster and faster above it until the API throttles again.
 * W is what the API answered (without 429) a second over the last
 * ADAPT_WINDOW_MS, not the rate we sent at: sending at twice the limit,
 * half is answered, and a cut of the sending rate alone would leave it
 * above the limit; but W is never under ADAPT_BETA of the rate, so that a
 * window with little to send does not pass for the limit. It grows only
 * while requests wait for tokens: a rate nobody uses proves nothing, and
 * it would be far above what the API takes when a batch comes.
 *
 * The tasks at the API follow AIMD: a throttled creation that points at
 * the concurrency limit sets the limit to ADAPT_LIMIT_BETA of the tasks we
 * have there (never raising it), and each creation that succeeds while
 * others wait for a slot adds 1/limit: one more task per limit creations.
 * The limit starts at the user's ceiling: until the API says otherwise,
 * every task goes as fast as the rate allows.
 *
 * Which limit a 429 points at: the API answers both with the same 429
 * rate_limit_exceeded. A rate limit throttles every request; a task limit
 * only creations. So a 429 on a poll or a balance read is the rate; a 429
 * on a creation is the task limit only when we have tasks at the API and
 * a read was answered after creations began to be refused, with no read
 * throttled since (reads go through, creations do not). A read answered
 * before proves nothing: the limit that refuses may have been reached
 * since. So the first 429 of a run of refused creations is taken for the
 * rate (the safe guess: a rate comes back within seconds), and the
 * network thread polls a task at once to learn which it was (net.c).
 *
 * Before the first 429 taken for the rate, the rate grows by
 * ADAPT_SLOW_START a second while requests wait for tokens (slow start):
 * CUBIC's plateau at the start rate would take a minute to find a limit
 * of hundreds a second, slow start takes seconds.
 *
 * A Retry-After is honoured by the request that got it (it is not sent
 * again before), not by all: the API says it in whole seconds, and a
 * second of silence after every 429 of a requests-a-second limit would
 * cost more than the cut rate does. */
#include "adapt.h"

#include <math.h>

#define NEVER (INT64_MIN / 2) /* long before any now */

/* Where the curve stands after t seconds: at W when t == K. */
static double cubic(const struct adapt *a, int64_t now)
{
	double k = cbrt(a->w_max * (1 - ADAPT_BETA) / ADAPT_CUBIC_C);
	double t = (double)(now - a->epoch) / 1000.0 - k;

	return a->w_max + ADAPT_CUBIC_C * t * t * t;
}

/* Start the curve at its plateau, at the current rate: growth begins at
 * once, slowly. */
static void restart_curve(struct adapt *a, int64_t now)
{
	a->w_max = a->rate;
	a->epoch = now - (int64_t)(1000.0 * cbrt(a->rate * (1 - ADAPT_BETA) /
						 ADAPT_CUBIC_C));
}

void net_adapt_init(struct adapt *a, double rate_max, unsigned limit_max,
		    int64_t now)
{
	if (rate_max <= 0)
		rate_max = ADAPT_RATE_MAX;
	a->rate_max = fmax(rate_max, ADAPT_RATE_MIN);
	a->rate = fmin(ADAPT_RATE_START, a->rate_max);
	a->last_cut = NEVER;
	a->window = now;
	a->window_ok = 0;
	a->ok_rate = 0;
	a->busy_at = NEVER;
	a->slow_start = true;
	a->grown_at = now;
	a->refusing = false;
	a->read_after = 0;
	a->limit_max = limit_max ? limit_max : 1;
	a->limit = a->limit_max;
	restart_curve(a, now);
}

void net_adapt_busy(struct adapt *a, int64_t now)
{
	/* busy after a quiet spell (since the start, or between batches):
	 * the quiet time proves nothing, the curve starts from here */
	if (now - a->busy_at >= ADAPT_BUSY_MS) {
		restart_curve(a, now);
		a->grown_at = now;
	}
	a->busy_at = now;
}

/* Close the count of answers once a window is over. */
static void count_window(struct adapt *a, int64_t now)
{
	if (now - a->window < ADAPT_WINDOW_MS)
		return;
	a->ok_rate = a->window_ok * 1000.0 / (double)(now - a->window);
	a->window = now;
	a->window_ok = 0;
}

void net_adapt_answered(struct adapt *a, bool read, int64_t now)
{
	count_window(a, now);
	a->window_ok++;
	if (read && a->refusing)
		a->read_after = 1;
	else if (!read)
		a->refusing = false; /* a creation went through */
	if (now - a->busy_at >= ADAPT_BUSY_MS) {
		restart_curve(a, now); /* idle: grow from here when busy */
		a->grown_at = now;
		return;
	}
	if (a->slow_start)
		a->rate *= pow(ADAPT_SLOW_START,
			       (double)(now - a->grown_at) / 1000.0);
	else
		a->rate = fmax(a->rate, cubic(a, now));
	a->rate = fmin(a->rate_max, a->rate);
	a->grown_at = now;
}

void net_adapt_created(struct adapt *a, bool limited)
{
	if (limited)
		a->limit = fmin(a->limit_max, a->limit + 1 / a->limit);
}

/* Note the 429 in the evidence; is it the task limit? */
static bool points_at_tasks(struct adapt *a, bool creation, unsigned unfinished)
{
	if (!creation) {
		if (a->refusing)
			a->read_after = -1;
		return false;
	}
	if (!a->refusing) { /* the first of a run: no read since */
		a->refusing = true;
		a->read_after = 0;
		return false;
	}
	return unfinished > 0 && a->read_after > 0;
}

enum adapt_cause net_adapt_throttled(struct adapt *a, bool creation,
				     unsigned unfinished, int64_t now)
{
	if (points_at_tasks(a, creation, unfinished)) {
		a->limit = fmin(a->limit,
				fmax(1, ADAPT_LIMIT_BETA * (double)unfinished));
		return ADAPT_CONCURRENCY;
	}
	count_window(a, now);
	if (now - a->last_cut >= ADAPT_CUT_GAP_MS) {
		a->slow_start = false;
		a->w_max =
			fmin(a->rate, fmax(a->ok_rate, a->rate * ADAPT_BETA));
		a->rate = fmax(ADAPT_RATE_MIN, a->w_max * ADAPT_BETA);
		a->last_cut = a->epoch = now;
	}
	return ADAPT_RATE;
}

unsigned net_adapt_limit(const struct adapt *a)
{
	double l = floor(a->limit);

	return l < 1 ? 1 : (unsigned)l;
}
