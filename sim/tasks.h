/* The simulator's tasks and credits: a task's state follows the time since
 * its creation; the ledger holds a task's price at creation and gives it
 * back once if the task fails. The caller holds the simulator's lock. */
#ifndef GPTIMGFS_SIM_TASKS_H
#define GPTIMGFS_SIM_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "create.h"
#include "util/buf.h"

#define SIM_TASKS_MAX 100000
#define SIM_TASK_ID_LEN 36
#define SIM_OUTPUTS_MAX 4

enum sim_state {
	SIM_PENDING,
	SIM_PROCESSING,
	SIM_COMPLETED,
	SIM_FAILED,
};

struct sim_task {
	char id[SIM_TASK_ID_LEN + 1]; /* a UUID v4 */
	double created;		      /* monotonic seconds */
	time_t created_at;	      /* wall clock, for the JSON */
	double pending_s;	      /* timings fixed at creation */
	double processing_s;
	int64_t price;		      /* milli-credits held */
	int outputs;		      /* 1..SIM_OUTPUTS_MAX */
	char fail_code[64];	      /* "" unless the task is to fail */
	enum sim_nonimage nonimage;   /* what files serve instead */
	bool noise;		      /* images that do not compress */
	char output_url[SIM_URL_MAX]; /* "": its own files */
	bool image_to_image;
	uint32_t width, height;
	char *callback_url; /* NULL: none */
	bool ended;	    /* settled: refund given, callback due */
	bool callback_due;  /* the worker is still to post it */
};

/* Credits in thousandths, so that 4.7 stays exact. */
struct sim_ledger {
	int64_t balance;
	int64_t purchased;
	int64_t consumed;
};

struct sim_tasks {
	struct sim_task **v;
	size_t n, cap;
	size_t unfinished; /* tasks not yet settled */
	size_t peak;	   /* the most unfinished at once */
	struct sim_ledger ledger;
};

void sim_tasks_init(struct sim_tasks *t, int64_t balance);
/* Forget every task and start the ledger again with balance. */
void sim_tasks_reset(struct sim_tasks *t, int64_t balance);
void sim_tasks_free(struct sim_tasks *t);

/* Hold tmpl->price and add a copy of tmpl (callback_url is taken over; the
 * id is made here). NULL with *insufficient set when the balance is too
 * low, NULL alone when the table is full or memory is out. */
struct sim_task *sim_tasks_add(struct sim_tasks *t, struct sim_task *tmpl,
			       bool *insufficient);
struct sim_task *sim_tasks_find(struct sim_tasks *t, const char *id);

double sim_monotonic(void);
enum sim_state sim_task_state(const struct sim_task *task, double now);
/* Settle every task that has ended by now: refund failures, mark
 * callbacks due. */
void sim_tasks_settle(struct sim_tasks *t, double now);
/* The earliest end among unsettled tasks; false when there is none. */
bool sim_tasks_next_end(const struct sim_tasks *t, double *when);
/* A task with a callback due, or NULL. */
struct sim_task *sim_tasks_callback_due(struct sim_tasks *t);

/* The GET /v1/tasks/{id} answer; file_base is "http://host:port/files/". */
int sim_task_json(struct buf *b, const struct sim_task *task, double now,
		  const char *file_base);
/* Credits as a JSON number without float noise: 9995.3, 10000. */
void sim_credits_format(char *out, size_t outlen, int64_t milli);

#endif
