/* Inside the simulator: the state every part shares, and one request as it
 * goes through the server. Everything in struct sim below `lock` is
 * guarded by it. */
#ifndef GPTIMGFS_SIM_INT_H
#define GPTIMGFS_SIM_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "faults.h"
#include "limits.h"
#include "record.h"
#include "reply.h"
#include "sim.h"
#include "tasks.h"
#include "util/buf.h"

#define SIM_BODY_MAX (1u << 20)

struct sim {
	struct sim_options opt; /* strings point to the copies below */
	char *bind_addr, *api_key, *file_host;
	char file_base[320]; /* "http://HOST:PORT/files/" */
	uint16_t port;
	struct MHD_Daemon *daemon;
	pthread_t worker;
	bool worker_started;
	atomic_bool stopping;

	pthread_mutex_t lock;
	pthread_cond_t wake; /* the worker: new task, or stop */
	pthread_cond_t stop; /* pauses: stop */
	double pending_s;    /* timings for new tasks */
	double processing_s;
	double image_scale;
	struct sim_bucket bucket; /* --max-rate */
	unsigned max_tasks;
	double duration_spread;
	double callback_drop;
	struct sim_rng duration_rng, callback_rng;
	struct sim_tasks tasks;
	struct sim_faults faults;
	struct sim_record record;
};

struct sim_req {
	struct sim *sim;
	enum sim_endpoint ep;
	char method[16];
	char *path;
	bool has_auth; /* an Authorization header came */
	bool auth_ok;  /* ... and it carried the key */
	struct buf body;
	bool body_too_large;
	struct sim_fault fault; /* action NONE: no fault */
	struct sim_reply reply;
};

/* Set the limits, spread and drop chance back to the options (the
 * generators too, from the seed); the caller holds the lock. */
void sim_limits_reset(struct sim *s);

/* Answer 429 rate_limit_exceeded with message and a Retry-After of wait
 * seconds (rounded up, at least 1). */
void sim_throttle(struct sim_req *r, double wait, const char *message);

/* Wait ms milliseconds, or less when the simulator stops: -1 then. */
int sim_pause(struct sim *s, unsigned ms);

/* The endpoints: each fills r->reply. api.c answers /v1/ and /files/,
 * control.c /_sim/. */
void sim_api_create(struct sim_req *r);
void sim_api_task(struct sim_req *r, const char *id);
void sim_api_credits(struct sim_req *r);
void sim_api_file(struct sim_req *r, const char *name);
void sim_control(struct sim_req *r, const char *what);

/* The worker thread (worker.c): settles tasks on time, posts callbacks. */
void *sim_worker_main(void *arg);

#endif
