/* The poll schedule (pace.h): what is learned from finished tasks and what
 * it says about the next poll of an unfinished one. */
#include <math.h>
#include <string.h>

#include "pace.h"

unsigned net_pace_class(const char *resolution)
{
	if (strcmp(resolution, "2k") == 0)
		return 1;
	if (strcmp(resolution, "4k") == 0)
		return 2;
	return 0;
}

double net_pace_sample(double created_at, double completed_at, double cost_time)
{
	double s = -1;

	if (cost_time >= 0) /* NaN: absent */
		s = cost_time;
	if (created_at > 0 && completed_at >= created_at)
		s = fmax(s, completed_at - created_at);
	return s <= PACE_SAMPLE_MAX ? s : -1;
}

void net_pace_learn(struct pace *p, unsigned cls, double seconds)
{
	struct pace_est *e = &p->cls[cls < PACE_CLASSES ? cls : 0];

	if (!(seconds >= 0 && seconds <= PACE_SAMPLE_MAX))
		return;
	if (e->n == 0) {
		/* the first sample is the mean; its spread is yet unknown */
		e->mean = seconds;
		e->dev = 0;
		e->n = 1;
		return;
	}
	/* one wild answer must not push the first polls of every later task
	 * far out: a sample counts for at most about twice the mean */
	seconds =
		fmin(seconds, e->mean + fmax(e->mean, 4 * e->dev) + PACE_SLACK);
	e->dev += PACE_DEV_GAIN * (fabs(seconds - e->mean) - e->dev);
	e->mean += PACE_MEAN_GAIN * (seconds - e->mean);
	if (e->n < 1000000)
		e->n++;
}

double net_pace_delay(const struct pace *p, unsigned cls, double age,
		      double floor, double draw)
{
	const struct pace_est *e = &p->cls[cls < PACE_CLASSES ? cls : 0];
	double first = e->mean + PACE_FIRST_DEV * e->dev;
	double delay;

	if (!(age >= 0))
		age = 0;
	if (age < first) /* not yet due: wait for the expected end */
		delay = first - age;
	else /* late: the later, the less likely the next poll pays */
		delay = fmin(PACE_CAP,
			     PACE_GROWTH * fmax(e->dev, age - e->mean));
	delay = fmax(delay, floor);
	/* late only, so that a poll never comes before it is due; at most
	 * poll_interval, so that a long wait is not stretched by seconds */
	return delay + draw * fmin(PACE_JITTER * delay, floor);
}

int net_pace_known(const struct pace *p, unsigned cls)
{
	return p->cls[cls < PACE_CLASSES ? cls : 0].n > 0;
}

/* A parked task is a fallback in case the scout is much slower than the
 * others: its polls grow with its age (doubling it each time, up to
 * PACE_PARK_CAP), and are spread by the number parked, so that ten
 * thousand tasks of unknown duration cost PACE_PARK_RATE polls a second,
 * not thousands. */
double net_pace_parked_delay(double age, unsigned parked, double floor,
			     double draw)
{
	double delay;

	if (!(age >= 0))
		age = 0;
	delay = fmax(PACE_PARK_FIRST - age, fmin(age, PACE_PARK_CAP));
	delay = fmax(delay, (double)parked / PACE_PARK_RATE);
	delay = fmax(delay, floor);
	return delay + draw * PACE_JITTER * delay;
}

double net_pace_resume_delay(unsigned i, double draw)
{
	return draw * fmin(PACE_RESUME_WINDOW, PACE_RESUME_GAP * i);
}

double net_pace_fallback_delay(const struct pace *p, unsigned cls, double age,
			       double floor, double draw)
{
	const struct pace_est *e = &p->cls[cls < PACE_CLASSES ? cls : 0];
	double first = e->mean + e->dev / 2 + fmax(PACE_CB_MIN, e->mean);
	double delay;

	if (!(age >= 0))
		age = 0;
	if (e->n == 0) /* no mean to wait for: a slow, steady fallback */
		delay = PACE_CB_UNKNOWN;
	else if (age < first)
		delay = first - age;
	else
		delay = fmin(PACE_CB_CAP,
			     fmax(PACE_CB_MIN, PACE_GROWTH * (age - e->mean)));
	delay = fmax(delay, floor);
	return delay + draw * PACE_JITTER * delay;
}
