/* The worker thread: ends tasks on time even when nobody polls them
 * (refunds), and posts their callbacks, one at a time, outside the lock. */
#include "sim_int.h"

#include <math.h>

#include "callback.h"

/* A monotonic deadline a microsecond late, so that waking up at it finds
 * the task ended. */
static struct timespec deadline(double when)
{
	struct timespec ts;
	double whole = floor(when);

	ts.tv_sec = (time_t)whole;
	ts.tv_nsec = (long)((when - whole) * 1e9) + 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static void post_callback(struct sim *s, struct sim_task *task, double now)
{
	struct sim_counters *c = &s->record.count;
	struct sim_callback cb;
	bool delivered;

	task->callback_due = false;
	/* --callback-drop: lost on the way, as the provider's may be */
	if (s->callback_drop > 0 &&
	    sim_rng_uniform(&s->callback_rng) < s->callback_drop) {
		c->callbacks_dropped++;
		return;
	}
	if (sim_callback_prepare(&cb, task, now, s->file_base) < 0) {
		c->callbacks_failed++;
		return;
	}
	pthread_mutex_unlock(&s->lock);
	delivered = sim_callback_post(&cb, &s->stopping, s->opt.verbose);
	sim_callback_free(&cb);
	pthread_mutex_lock(&s->lock);
	if (delivered)
		c->callbacks_delivered++;
	else
		c->callbacks_failed++;
}

void *sim_worker_main(void *arg)
{
	struct sim *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		double now = sim_monotonic(), next;
		struct sim_task *task;

		sim_tasks_settle(&s->tasks, now);
		task = sim_tasks_callback_due(&s->tasks);
		if (task) {
			post_callback(s, task, now);
		} else if (sim_tasks_next_end(&s->tasks, &next)) {
			struct timespec ts = deadline(next);

			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		} else {
			pthread_cond_wait(&s->wake, &s->lock);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}
