/* The network thread's own structures, shared by the files of net/ and
 * nobody else. All but the inbox belong to the network thread. */
#ifndef GPTIMGFS_NET_INTERNAL_H
#define GPTIMGFS_NET_INTERNAL_H

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "adapt.h"
#include "api.h"
#include "core/jobs.h"
#include "bucket.h"
#include "hints.h"
#include "net.h"
#include "pace.h"
#include "retry.h"
#include "timer.h"
#include "transfer.h"

#define NET_BUCKETS 1024  /* task table hash chains */
#define NET_MAX_ACTIVE 32 /* transfers at once */
/* The token bucket holds a tenth of a second of the learned rate: a
 * burst meets the API's own bucket no emptier than that. */
#define NET_BURST_S 0.1
#define NET_API_TIMEOUT 60L	    /* seconds, whole API request */
#define NET_CREDITS_TIMEOUT 3L	    /* a balance read: someone waits */
#define NET_CREDITS_BUDGET_MS 10000 /* all attempts of one read */
#define NET_STOP_GRACE_MS 5000	    /* creations on the wire at stop */
#define NET_PROBE_GAP_MS 1000	    /* net_probe_poll: at most one a second */

/* What a task needs next. */
enum net_step {
	STEP_CREATE,
	STEP_POLL,
	STEP_DOWNLOAD,
};

/* A task the network thread works on, from the first task_ready until it
 * ends (or the thread stops). Its truth stays in the core: every step
 * starts from a fresh core_task_get. */
struct ntask {
	uint64_t seq;
	char *name;	     /* for log lines */
	struct ntask *hnext; /* hash chain */
	struct ntask *qnext; /* slot or token queue */
	bool queued;	     /* in one of those queues */
	bool holds_slot;     /* counts against max_inflight */
	enum net_step step;
	struct timer timer;	       /* when the step is due */
	struct xfer *x;		       /* the step's transfer, if running */
	char task_id[TASK_ID_MAX + 1]; /* the API's id, once polled */
	unsigned create_attempts;      /* creations that reached the API */
	unsigned unreached_tries;      /* creations that did not, in a row */
	time_t unreached_since;	       /* the first of those (recorded) */
	bool probing;		       /* the transfer is net_xfer_probe's */
	bool probe_passed;	       /* the API was reached: send now */
	unsigned poll_failures;	       /* transient poll failures in a row */
	unsigned download_failures;    /* of the current output */
	unsigned store_failures;       /* the data dir refused, in a row */
	bool repolled;		       /* fresh URLs were asked for once */
	uint64_t task_bytes;	       /* of its outputs stored so far */
	size_t output;		       /* the output being downloaded */
	size_t outputs;		       /* of the task (its URLs) */
	char tmp_name[32];	       /* its temporary file (core_tmpfile) */
	unsigned pace_class;	       /* its resolution's (pace.h) */
	int64_t created_ms; /* on net_timer_now's clock, once polled */
	bool paced;	    /* created_ms is set */
	bool resumed;	    /* ...only as a bound: resumed at start */
	bool learned;	    /* its duration went into the pace */
	bool parked;	    /* waits for its class's scout (scout.h) */
	struct ntask *park_next, **park_prev; /* its class's parked list */

	/* hints.c: the chain of tasks by task_id, while indexed; a callback
	 * led to a poll at hint_ms when hinted; one came while a poll was on
	 * the wire when hint_missed */
	struct ntask *inext;
	bool indexed, hinted, hint_missed;
	int64_t hint_ms;
};

/* A class's scout and parked tasks (scout.h). */
struct net_scouting {
	struct ntask *scout;  /* polled while the class is unknown */
	struct ntask *parked; /* the others, newest first */
	unsigned n_parked;
	bool finished; /* a task of the class was seen finished */
};

struct net_queue {
	struct ntask *head, *tail;
};

/* The balance read: at most one at a time. */
struct net_credits {
	bool queued; /* waiting for a token */
	struct xfer *x;
	struct timer timer; /* a retry is due */
	unsigned attempts;
	int64_t deadline; /* give up after this */
};

struct net {
	struct core *core;
	char *api_url;
	int64_t poll_ms;
	uint64_t max_task_bytes;    /* all outputs of one task */
	bool plain_http;	    /* api_url is http://, on loopback */
	unsigned api_classes;	    /* ADDR_BIT()s of api_url's addresses */
	struct curl_slist *headers; /* holds the key */
	CURLM *multi;
	pthread_t thread;

	pthread_mutex_t lock; /* the inbox; a leaf */
	uint64_t *inbox;
	size_t n_inbox, cap_inbox;
	bool credits_wanted;
	bool stop;

	struct ntask *table[NET_BUCKETS];
	unsigned inflight; /* tasks holding a slot */
	unsigned active;   /* transfers on the multi handle */
	/* creations of this dispatch whose sending record is queued: sent
	 * together once their records are written (net_create_send) */
	struct net_staged {
		struct ntask *t;
		struct xfer *x;
		struct record_op *op;
	} staged[NET_MAX_ACTIVE];
	unsigned n_staged;
	struct net_queue slot_wait; /* creations waiting for a slot */
	/* steps waiting for a token: polls and creations; net_queue_due
	 * puts each in its own */
	struct net_queue read_wait;
	struct net_queue create_wait;
	/* downloads waiting for a transfer (they take no token): a queue of
	 * their own, so that thousands of polls waiting for tokens are not
	 * walked to find them */
	struct net_queue download_wait;
	bool read_last; /* the last token went to a read (net_next_due) */
	struct timer_heap timers;
	struct bucket bucket; /* its rate follows adapt's */
	struct adapt adapt;   /* rate and slots learned from the API */
	struct xfer_pool pool;
	uint64_t rng;
	struct pace pace; /* tasks' durations, for the polls */
	struct net_scouting scouting[PACE_CLASSES];
	unsigned resumed;  /* tasks resumed at start, for their spread */
	int64_t probe_at;  /* the last net_probe_poll */
	size_t probe_from; /* ...and the bucket its search goes on from */
	struct net_credits credits;
	char *callback_url;	/* with its path and token; NULL: none */
	struct net_hints hints; /* callbacks received (hints.h) */
	bool unreached_waiting; /* a creation waits for the API */
	bool stopping;
	int64_t stop_deadline;
	/* a run of failures of the multi calls of every turn (see
	 * multi_ok in net.c): logged once per run */
	bool perform_failing, poll_failing, timeout_failing;
};

/* tasks.c: scheduling; net.c: net_launch; answer.c: net_answer_error,
 * net_describe; headers.c: the API headers */
/* Run t's step `step` after delay_ms (0: as soon as a token allows). */
void net_schedule(struct net *n, struct ntask *t, enum net_step step,
		  int64_t delay_ms);
/* The next poll of t, which is not finished: when the pace says (the
 * first call is taken as t's creation). */
void net_schedule_poll(struct net *n, struct ntask *t);
/* A 429 rate_limit_exceeded: lower the limit it points at (adapt.h) and
 * say so in the log; which one it was. */
enum adapt_cause net_throttled(struct net *n, bool creation);
/* A throttled creation gives its slot back and waits, first in line, for
 * one again (the core has it queued). */
void net_wait_slot(struct net *n, struct ntask *t);
/* A creation not yet sent: a slot and its turn for a token, or a wait for
 * a slot; either wait shows in its status with one of these notes. */
void net_wait_create(struct net *n, struct ntask *t);
#define NET_NOTE_WAIT_PLACE                                             \
	"waiting its turn: this mount has as many tasks at the API as " \
	"it may now (max_inflight, or the limit learned from the API)"
#define NET_NOTE_WAIT_RATE                                            \
	"waiting its turn: creations go at the request rate the API " \
	"accepts"
/* The first poll of t, resumed at start in state pending or processing:
 * soon, spread with the others resumed. */
void net_schedule_resumed(struct net *n, struct ntask *t);
/* A poll answer of t came: learn its duration when it is finished, and
 * its age from the API's created_at when it was resumed. */
void net_pace_answer(struct net *n, struct ntask *t, const struct api_task *at);
/* Forget t: the core has it ended, or it is gone. */
void net_drop(struct net *n, struct ntask *t);
/* End t without an image (core_task_failed) and forget it. */
void net_fail(struct net *n, struct ntask *t, const char *code,
	      const char *message);
/* The same, when the API's answer says the task failed: the API gives its
 * price back (core_task_failed_at_api). */
void net_fail_at_api(struct net *n, struct ntask *t, const char *code,
		     const char *message);
/* An answer came from the API: the creations waiting for it to be
 * reachable again go now instead of at the end of their backoff. */
void net_api_reached(struct net *n);
/* Put x on the wire for t (NULL: the balance read). -1 when curl refuses
 * (x is still the caller's). */
int net_launch(struct net *n, struct xfer *x, struct ntask *t);
/* A backoff in milliseconds for retry number attempt (0 for the first). */
int64_t net_backoff(struct net *n, enum api_request_kind kind, unsigned attempt,
		    double retry_after);
/* What went wrong with a request, as the API's error or, below HTTP, as
 * network_error and curl's words; a redirect (never followed) is
 * "redirected", saying where to. */
void net_answer_error(const struct xfer *x, const struct xfer_result *r,
		      struct api_error *e);
/* The same in a few words for a note or a log line: "503 upstream_error",
 * "Connection refused". */
void net_describe(const struct xfer_result *r, const struct api_error *e,
		  char *out, size_t outsz);
/* An answer that arrived and says success. */
static inline bool net_answer_ok(const struct xfer_result *r)
{
	return r->transport == TRANSPORT_OK && r->status >= 200 &&
	       r->status < 300;
}
/* An answer that says the API throttled the request: nothing was done. */
static inline bool net_answer_throttled(const struct xfer_result *r,
					const struct api_error *e)
{
	return r->transport == TRANSPORT_OK && r->status == 429 &&
	       strcmp(e->code, "rate_limit_exceeded") == 0;
}
/* An answer that points elsewhere (3xx): API requests never follow it. */
static inline bool net_answer_redirect(const struct xfer_result *r)
{
	return r->transport == TRANSPORT_OK && r->status >= 300 &&
	       r->status < 400;
}

/* The API's headers, the key among them. A key with a control character
 * would forge headers: refused (NULL, err set). */
struct curl_slist *net_api_headers(const char *key, char *err, size_t errlen);
/* Zero the key before the list goes back to the heap. */
void net_free_headers(struct curl_slist *list);

/* create.c */
void net_create_start(struct net *n, struct ntask *t,
		      const struct core_task *ct);
/* Send the creations net_create_start staged, once their records are
 * durable (written together: one sync for the lot). */
void net_create_send(struct net *n);
void net_create_done(struct net *n, struct ntask *t, struct xfer *x,
		     const struct xfer_result *r);

/* poll.c */
void net_poll_start(struct net *n, struct ntask *t, const struct core_task *ct);
void net_poll_done(struct net *n, struct ntask *t, struct xfer *x,
		   const struct xfer_result *r);

/* download.c */
/* Where api_url is, for the downloads' rules (it may resolve a name). */
void net_download_init(struct net *n);
void net_download_start(struct net *n, struct ntask *t,
			const struct core_task *ct);
void net_download_done(struct net *n, struct ntask *t, struct xfer *x,
		       const struct xfer_result *r);
/* A download ends without an outcome: close and remove its file. */
void net_download_abort(struct net *n, struct ntask *t, struct xfer *x);

/* credits.c */
void net_credits_request(struct net *n);
void net_credits_start(struct net *n);
void net_credits_done(struct net *n, struct xfer *x,
		      const struct xfer_result *r);
/* Answer the wanted balance with an error; no read is pending after. */
void net_credits_fail(struct net *n, const char *code, const char *message);

#endif
