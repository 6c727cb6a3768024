/* Task callbacks (doc/api.md, "Callback"): when a task with a callback_url
 * ends, its JSON is POSTed there with X-Event, X-Task-Id and X-Timestamp.
 * The simulator makes one attempt; it does not retry as the provider does. */
#ifndef GPTIMGFS_SIM_CALLBACK_H
#define GPTIMGFS_SIM_CALLBACK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "tasks.h"
#include "util/buf.h"

struct sim_callback {
	char *url;
	struct buf body;
	const char *event; /* task.completed or task.failed */
	char task_id[SIM_TASK_ID_LEN + 1];
};

/* Copy what the post needs out of an ended task. 0, or -1 out of memory. */
int sim_callback_prepare(struct sim_callback *cb, const struct sim_task *task,
			 double now, const char *file_base);
/* One POST, given up on failure or when *stopping becomes true: true when
 * it was answered 2xx. */
bool sim_callback_post(const struct sim_callback *cb,
		       const atomic_bool *stopping, bool verbose);
void sim_callback_free(struct sim_callback *cb);

#endif
