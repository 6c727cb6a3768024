/* Fault injection rules for tests (POST /_sim/faults): which endpoint, what
 * to do to the request, how many times and how often. */
#ifndef GPTIMGFS_SIM_FAULTS_H
#define GPTIMGFS_SIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_FAULTS_MAX 64

enum sim_endpoint {
	SIM_EP_CREATE,	/* POST /v1/images/generations */
	SIM_EP_TASK,	/* /v1/tasks/{id} */
	SIM_EP_CREDITS, /* /v1/credits */
	SIM_EP_FILE,	/* /files/... */
	SIM_EP_OTHER,	/* any other path of the API */
	SIM_EP_CONTROL, /* /_sim/...: never faulted */
	SIM_EP_ANY,	/* in a rule only: every endpoint but /_sim/ */
};

enum sim_fault_action {
	SIM_FAULT_NONE,
	SIM_FAULT_ERROR,       /* answer status + error body, do nothing */
	SIM_FAULT_DROP_BEFORE, /* close the connection before anything */
	SIM_FAULT_DROP_AFTER,  /* do the work, close without answering */
	SIM_FAULT_STALL,       /* do the work, wait delay_ms, answer */
	SIM_FAULT_TRUNCATE,    /* send `bytes` bytes of the body, then fail */
	SIM_FAULT_SLOW,	       /* send the body in chunks over delay_ms */
	SIM_FAULT_MALFORMED,   /* do the work, answer 200 + broken JSON */
	SIM_FAULT_REDIRECT,    /* answer status (3xx) + Location, do nothing */
};

struct sim_fault {
	enum sim_endpoint endpoint;
	enum sim_fault_action action;
	unsigned status;
	char code[64];
	char message[256];
	char retry_after[64]; /* "" when absent */
	char location[256];   /* redirect: the Location header */
	unsigned delay_ms;
	size_t bytes;
	unsigned long count; /* requests still to hit; 0: unlimited */
	double rate;	     /* probability a matching request is hit */
};

struct sim_faults {
	struct sim_fault rules[SIM_FAULTS_MAX];
	size_t n;
	uint64_t rng; /* xorshift state for `rate` */
};

void sim_faults_init(struct sim_faults *fs);
void sim_faults_clear(struct sim_faults *fs);
/* Parse one rule (a JSON object). 0, or -1 with a message in err. */
int sim_fault_parse(struct sim_fault *f, const char *json, size_t len,
		    char *err, size_t errlen);
/* -1 when SIM_FAULTS_MAX rules are active already. */
int sim_faults_add(struct sim_faults *fs, const struct sim_fault *f);
/* The first rule that matches a request to ep and hits (rate) is copied to
 * out and its count used up; out->action is SIM_FAULT_NONE when none. */
void sim_faults_take(struct sim_faults *fs, enum sim_endpoint ep,
		     struct sim_fault *out);

#endif
