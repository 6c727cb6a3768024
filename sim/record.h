/* What the simulator has seen, for tests: request counters, the create
 * requests received (GET /_sim/requests) and how often each prompt was
 * created (GET /_sim/prompts). The caller holds the simulator's lock. */
#ifndef GPTIMGFS_SIM_RECORD_H
#define GPTIMGFS_SIM_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define SIM_LOG_MAX 1000	  /* create requests kept */
#define SIM_LOG_BYTES (64u << 20) /* their bodies, in all */
#define SIM_PROMPTS_MAX 10000	  /* distinct prompts counted */
#define SIM_PROMPTS_BYTES (64u << 20)

struct sim_counters {
	unsigned long creates;	       /* tasks created */
	unsigned long create_requests; /* POSTs to the create endpoint */
	unsigned long polls;
	unsigned long downloads;
	unsigned long credits_reads;
	unsigned long auth_on_files; /* file requests with Authorization */
	unsigned long creates_429;   /* create requests answered 429 */
	unsigned long answers_429;   /* every 429, faults included */
	unsigned long callbacks_delivered; /* answered 2xx */
	unsigned long callbacks_failed;	   /* no answer, or not 2xx */
	unsigned long callbacks_dropped;   /* not sent: --callback-drop */
};

struct sim_logged {
	unsigned status;
	char *body;
	size_t len;
	bool json; /* body is valid JSON */
};

struct sim_prompt_count {
	char *prompt;
	unsigned long count;
};

struct sim_record {
	struct sim_counters count;
	struct sim_logged log[SIM_LOG_MAX]; /* a ring */
	size_t log_first, log_n, log_bytes;
	struct sim_prompt_count *prompts;
	size_t prompts_n, prompts_cap, prompts_bytes;
};

void sim_record_init(struct sim_record *rec);
void sim_record_free(struct sim_record *rec); /* also: reset */
/* Keep a create request (the oldest go first past the limits). */
void sim_record_request(struct sim_record *rec, unsigned status,
			const char *body, size_t len);
void sim_record_prompt(struct sim_record *rec, const char *prompt);
/* [{"status":N,"body":<the JSON body, or the body as a string>}, ...] */
int sim_record_requests_json(const struct sim_record *rec, struct buf *b);
/* {"<prompt>":N, ...} */
int sim_record_prompts_json(const struct sim_record *rec, struct buf *b);

#endif
