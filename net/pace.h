/* When to poll a task the API has. The durations of finished tasks are
 * learned per resolution, as TCP learns a round-trip time (an
 * exponentially weighted mean and mean deviation); a task is polled first
 * near the end they predict, then at intervals that grow with its
 * lateness, never closer than poll_interval. Pure logic: times are
 * seconds, passed in, and so are the random draws. gptimgfs(1), POLLING. */
#ifndef GPTIMGFS_PACE_H
#define GPTIMGFS_PACE_H

#define PACE_CLASSES 3		/* 1k, 2k, 4k */
#define PACE_MEAN_GAIN 0.125	/* of a new sample, in the mean */
#define PACE_DEV_GAIN 0.25	/* of a new deviation, in the spread */
#define PACE_FIRST_DEV 0.5	/* first poll at mean + this x spread */
#define PACE_GROWTH 0.5		/* a late task: interval = lateness x this */
#define PACE_CAP 30.0		/* at most between two polls (but the floor) */
#define PACE_JITTER 0.1		/* a poll comes up to 10% late... */
#define PACE_SAMPLE_MAX 3600.0	/* a longer "duration" is not believed */
#define PACE_SLACK 30.0		/* a sample counts for at most */
				/* mean + max(mean, 4 x spread) + this */
#define PACE_RESUME_GAP 0.02	/* resumed tasks: 50 first polls a second */
#define PACE_RESUME_WINDOW 30.0 /* ...spread over at most this */
/* Until a task of a resolution has finished, one of its tasks (the scout)
 * is polled as the prior says; the others are parked: polled first at
 * this age, then every min(age, PACE_PARK_CAP), and all the parked tasks
 * of a resolution PACE_PARK_RATE times a second at most, until the
 * scout's end teaches the duration and they are paced from it. */
#define PACE_PARK_FIRST 30.0
#define PACE_PARK_CAP 300.0
#define PACE_PARK_RATE 20.0

/* One resolution's durations; all zero (the prior) until a task of it
 * finished: an unknown task is polled first after poll_interval. */
struct pace_est {
	double mean; /* seconds from creation to completion */
	double dev;  /* mean absolute deviation from it */
	unsigned n;  /* samples learned */
};

struct pace {
	struct pace_est cls[PACE_CLASSES];
};

/* The class of a resolution ("1k", "2k", "4k"; anything else is 1k's). */
unsigned net_pace_class(const char *resolution);

/* The duration a finished task's answer shows: the larger of costTime
 * (NaN: absent) and completed_at - created_at (0: absent), among those
 * given, as either may leave out a part of the task's time; -1 when
 * neither is, or it is beyond PACE_SAMPLE_MAX. */
double net_pace_sample(double created_at, double completed_at,
		       double cost_time);

/* Learn a duration (seconds, from pace_sample) of class cls. */
void net_pace_learn(struct pace *p, unsigned cls, double seconds);

/* Seconds until the next poll of a task of class cls, age seconds after
 * its creation, that is not finished; floor is poll_interval, draw
 * uniform in [0, 1) (the jitter). */
double net_pace_delay(const struct pace *p, unsigned cls, double age,
		      double floor, double draw);

/* Has a task of class cls finished with a duration learned? */
int net_pace_known(const struct pace *p, unsigned cls);

/* Seconds until the next poll of a parked task (see PACE_PARK_FIRST), age
 * seconds old, one of parked such tasks of its class; floor and draw as
 * for net_pace_delay. */
double net_pace_parked_delay(double age, unsigned parked, double floor,
			     double draw);

/* Seconds until the first poll of the i-th task (from 0) resumed at
 * start, whose age is not known: draw (uniform in [0, 1)) spreads them
 * over a window that grows with their number. */
double net_pace_resume_delay(unsigned i, double draw);

/* With callbacks (gptimgfs(1), CALLBACKS) a task's end is told, and the
 * polls are only a fallback for a callback lost: the first comes well
 * after the expected end (mean + spread/2 + the larger of the mean and
 * PACE_CB_MIN), then every half of the lateness, PACE_CB_MIN to PACE_CB_CAP
 * apart; a task of a class not yet learned, every PACE_CB_UNKNOWN. Same
 * arguments as net_pace_delay. */
#define PACE_CB_MIN 30.0
#define PACE_CB_CAP 60.0
#define PACE_CB_UNKNOWN 30.0
double net_pace_fallback_delay(const struct pace *p, unsigned cls, double age,
			       double floor, double draw);

#endif
