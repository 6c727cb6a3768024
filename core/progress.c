/* progress: the whole batch at a glance (gptimgfs(1), PROGRESS). One pass
 * over the task table under the core lock, counting each job by what its
 * status/ file shows; the throughput is that of the jobs whose task ended
 * in the last PROGRESS_WINDOW_S seconds (their `updated` is the end), so
 * nothing is kept between reads. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "table.h"

#define PROGRESS_WINDOW_S 300

enum progress_col {
	COL_QUEUED,
	COL_PENDING,
	COL_PROCESSING,
	COL_DOWNLOADING,
	COL_COMPLETED,
	COL_FAILED,
	COL_N
};

struct progress {
	size_t jobs;
	size_t count[COL_N];
	size_t ended_recently; /* in the window */
	time_t window_start;   /* the earliest submission of those */
};

static enum progress_col col_of(enum task_state st)
{
	switch (st) {
	case TASK_QUEUED:
	case TASK_SENDING:
		return COL_QUEUED;
	case TASK_PENDING:
		return COL_PENDING;
	case TASK_PROCESSING:
		return COL_PROCESSING;
	case TASK_DOWNLOADING:
		return COL_DOWNLOADING;
	case TASK_COMPLETED:
		return COL_COMPLETED;
	case TASK_FAILED:
		break;
	}
	return COL_FAILED;
}

/* Under the core lock: count the jobs. A job being written counts as
 * queued, as its status/ file says. */
static void count(struct core *c, time_t now, struct progress *p)
{
	size_t i;

	p->window_start = now;
	for (i = 0; i < c->n_tasks; i++) {
		const struct task *t = c->tasks[i];
		enum task_state st = t->shown ? t->shown->state : t->state;
		time_t updated = t->shown ? t->shown->updated : t->updated;

		if (core_table_visible(c, t->name) != t ||
		    core_writing_find(c, t->name))
			continue;
		p->jobs++;
		p->count[col_of(st)]++;
		if (core_task_state_ended(st) &&
		    updated > now - PROGRESS_WINDOW_S) {
			p->ended_recently++;
			if (t->submitted < p->window_start)
				p->window_start = t->submitted;
		}
	}
	p->jobs += c->n_writing;
	p->count[COL_QUEUED] += c->n_writing;
	if (p->window_start < now - PROGRESS_WINDOW_S)
		p->window_start = now - PROGRESS_WINDOW_S;
}

/* "about 4 min left", "under a minute left", or "" when unknown. */
static void format_eta(double seconds, char *out, size_t outsz)
{
	if (seconds < 0)
		snprintf(out, outsz, "time left unknown");
	else if (seconds < 60)
		snprintf(out, outsz, "under a minute left");
	else if (seconds < 5400)
		snprintf(out, outsz, "about %.0f min left", seconds / 60);
	else
		snprintf(out, outsz, "about %.1f h left", seconds / 3600);
}

static int render(struct core *c, const struct progress *p, time_t now,
		  struct buf *out)
{
	static const char *const keys[COL_N] = {
		"queued",      "pending",   "processing",
		"downloading", "completed", "failed",
	};
	size_t left = p->count[COL_QUEUED] + p->count[COL_PENDING] +
		      p->count[COL_PROCESSING] + p->count[COL_DOWNLOADING];
	double span = (double)(now - p->window_start);
	double per_min = p->ended_recently && span > 0 ?
				 60.0 * (double)p->ended_recently / span :
				 0;
	double eta = !left	 ? 0 :
		     per_min > 0 ? 60.0 * (double)left / per_min :
				   -1;
	char held[LEDGER_AMOUNT_LEN], spent[LEDGER_AMOUNT_LEN],
		doubt[LEDGER_AMOUNT_LEN], when[32], eta_text[32];
	int rc = 0;
	size_t i;

	format_eta(eta, eta_text, sizeof(eta_text));
	rc |= buf_printf(out, "%zu of %zu completed, %zu failed, %s\n",
			 p->count[COL_COMPLETED], p->jobs, p->count[COL_FAILED],
			 left ? eta_text : "nothing left");
	rc |= buf_printf(out, "jobs: %zu\n", p->jobs);
	for (i = 0; i < COL_N; i++)
		rc |= buf_printf(out, "%s: %zu\n", keys[i], p->count[i]);
	core_ledger_used(&c->ledger, now); /* rolls the day over */
	core_ledger_amount(c->ledger.held, held);
	core_ledger_amount(c->ledger.spent, spent);
	core_ledger_amount(c->ledger.doubt, doubt);
	rc |= buf_printf(out,
			 "credits_held: %s\ncredits_spent_today: %s\n"
			 "credits_possibly_spent_today: %s\n",
			 held, spent, doubt);
	rc |= buf_printf(out, "ended_last_%d_s: %zu\nper_minute: %.1f\n",
			 PROGRESS_WINDOW_S, p->ended_recently, per_min);
	if (eta >= 0)
		rc |= buf_printf(out, "eta_s: %.0f\n", eta);
	else
		rc |= buf_addstr(out, "eta_s: unknown\n");
	core_format_utc(now, when, sizeof(when));
	rc |= buf_printf(out, "updated: %s\n", when);
	return rc ? -ENOMEM : 0;
}

int core_progress(struct core *c, struct buf *out)
{
	struct progress p = { 0 };
	time_t now = time(NULL);
	int rc;

	buf_reset(out);
	core_lock(c);
	count(c, now, &p);
	rc = render(c, &p, now, out);
	core_unlock(c);
	return rc;
}
