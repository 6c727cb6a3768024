/* The network thread: the inbox other threads fill, the timers and the
 * token bucket that decide when each step runs (the bucket at the rate
 * learned from the API's answers, adapt.h), the curl multi loop, and
 * the start and the stop. The task table, its queues and the slots are in
 * tasks.c; what each step sends and what its answer means is in create.c,
 * poll.c, download.c and credits.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tasks.h"
#include "util/array.h"
#include "util/debugassert.h"
#include "util/log.h"

#define NET_WAIT_MAX_MS 10000
/* The sleep of a turn whose curl_multi_poll failed: short, for a wakeup
 * (a new task, the stop) cannot end it. */
#define NET_POLL_FAILED_MS 100
#define NET_INBOX_MAX ((size_t)1 << 24) /* tasks ready, not yet seen */

/* ---- the inbox ---- */

/* Task seq needs the network. A task already in the table is on its way:
 * nothing to do. */
static void task_ready(struct net *n, uint64_t seq)
{
	struct core_task ct;
	struct ntask *t;
	int rc;

	if (net_task_find(n, seq))
		return;
	rc = core_task_get(n->core, seq, &ct);
	if (rc < 0) {
		if (rc != -ENOENT)
			log_err("task #%" PRIu64 ": %s", seq, strerror(-rc));
		return;
	}
	if (ct.state == TASK_QUEUED || ct.state == TASK_PENDING ||
	    ct.state == TASK_PROCESSING || ct.state == TASK_DOWNLOADING)
		t = net_task_add(n, &ct);
	else
		t = NULL; /* ended, or sending (only ever by us) */
	if (t && ct.state == TASK_QUEUED) {
		t->step = STEP_CREATE;
		net_wait_create(n, t);
	} else if (t) {
		/* the API has it: it holds a slot whatever the limit says;
		 * downloads after a restart poll first, as the URLs may
		 * have expired */
		net_take_slot(n, t);
		if (ct.state == TASK_DOWNLOADING) {
			t->step = STEP_POLL;
			net_queue_due(n, t);
		} else {
			net_schedule_resumed(n, t);
		}
	}
	core_task_free(&ct);
}

static void begin_stop(struct net *n);

static void drain_inbox(struct net *n)
{
	uint64_t *seqs;
	size_t i, count;
	bool credits, stop;

	pthread_mutex_lock(&n->lock);
	seqs = n->inbox;
	count = n->n_inbox;
	n->inbox = NULL;
	n->n_inbox = n->cap_inbox = 0;
	credits = n->credits_wanted;
	n->credits_wanted = false;
	stop = n->stop;
	pthread_mutex_unlock(&n->lock);

	if (stop && !n->stopping)
		begin_stop(n);
	net_hints_drain(n);
	for (i = 0; i < count && !n->stopping; i++)
		task_ready(n, seqs[i]);
	free(seqs);
	if (credits && n->stopping)
		net_credits_fail(n, "network_error", "the daemon is stopping");
	else if (credits)
		net_credits_request(n);
}

/* mc, what call returned, is logged if it is a failure; true when not.
 * With failing (the calls of every turn), only the first failure of a
 * run is logged, so that a multi handle that keeps failing does not fill
 * the log. */
static bool multi_ok(const char *call, CURLMcode mc, bool *failing)
{
	bool first = !failing || !*failing;

	if (failing)
		*failing = mc != CURLM_OK;
	if (mc == CURLM_OK)
		return true;
	if (first)
		log_err("%s: %s", call, curl_multi_strerror(mc));
	return false;
}

/* Wake the network thread from another thread. Should that fail, the
 * thread still sees the inbox at its next turn, NET_WAIT_MAX_MS at most. */
static void wake(struct net *n)
{
	multi_ok("curl_multi_wakeup", curl_multi_wakeup(n->multi), NULL);
}

void net_task_ready(struct net *n, uint64_t seq)
{
	uint64_t *v;
	bool added;

	pthread_mutex_lock(&n->lock);
	v = array_reserve(n->inbox, n->n_inbox, &n->cap_inbox, sizeof(*v),
			  NET_INBOX_MAX);
	added = v != NULL;
	if (added) {
		n->inbox = v;
		n->inbox[n->n_inbox++] = seq;
	}
	pthread_mutex_unlock(&n->lock);
	if (!added)
		log_err("task #%" PRIu64 ": out of memory; it waits for the "
			"next start",
			seq);
	wake(n);
}

void net_credits_wanted(struct net *n)
{
	pthread_mutex_lock(&n->lock);
	n->credits_wanted = true;
	pthread_mutex_unlock(&n->lock);
	wake(n);
}

/* ---- timers and tokens ---- */

static struct ntask *task_of_timer(struct timer *tm)
{
	return (struct ntask *)((char *)tm - offsetof(struct ntask, timer));
}

static void run_timers(struct net *n)
{
	int64_t now = net_timer_now();
	struct timer *tm;

	while ((tm = net_timer_pop_due(&n->timers, now)) != NULL) {
		if (tm == &n->credits.timer)
			n->credits.queued = true;
		else
			net_queue_due(n, task_of_timer(tm));
	}
}

/* Start t's step from the core's current view of the task. */
static void start_step(struct net *n, struct ntask *t)
{
	struct core_task ct;
	/* a poll needs the state and the task id, nothing to copy */
	int rc = t->step == STEP_POLL ? core_task_peek(n->core, t->seq, &ct) :
					core_task_get(n->core, t->seq, &ct);

	if (rc == -ENOENT || (rc == 0 && core_task_state_ended(ct.state))) {
		if (rc == 0)
			core_task_free(&ct);
		net_drop(n, t);
		return;
	}
	if (rc < 0) {
		log_err("%s #%" PRIu64 ": %s; trying again", t->name, t->seq,
			strerror(-rc));
		net_schedule(n, t, t->step, net_backoff(n, REQ_POLL, 0, 0));
		return;
	}
	if (t->step == STEP_CREATE)
		net_create_start(n, t, &ct);
	else if (t->step == STEP_POLL)
		net_poll_start(n, t, &ct);
	else
		net_download_start(n, t, &ct);
	core_task_free(&ct);
}

/* Downloads go to the file host, not to the API: they take no token. */
static void dispatch_downloads(struct net *n)
{
	/* those queued now: one that fails at once and is due again waits
	 * for the next round */
	struct ntask *t, *last = n->download_wait.tail;
	bool end = !last;

	while (!end && n->active < NET_MAX_ACTIVE &&
	       (t = net_queue_pop(&n->download_wait)) != NULL) {
		end = t == last;
		start_step(n, t);
	}
}

/* Hand out tokens: the balance read first (someone is waiting on it),
 * then the steps as net_next_due orders them. */
static void dispatch(struct net *n)
{
	int64_t now = net_timer_now();
	struct ntask *t;

	dispatch_downloads(n);
	/* the creations staged count as transfers: they are sent below */
	while (n->active + n->n_staged < NET_MAX_ACTIVE &&
	       (n->credits.queued || net_steps_due(n))) {
		if (!net_bucket_take(&n->bucket, now)) {
			net_adapt_busy(&n->adapt, now);
			break;
		}
		if (n->credits.queued) {
			n->credits.queued = false;
			net_credits_start(n);
		} else {
			t = net_next_due(n);
			start_step(n, t);
		}
	}
	/* their records written together, then sent */
	net_create_send(n);
}

/* How long the thread may sleep. */
static int wait_ms(struct net *n)
{
	int64_t now = net_timer_now(), wait = NET_WAIT_MAX_MS;
	struct timer *first = net_timer_first(&n->timers);
	long curl_ms = -1;

	if (first)
		wait = first->due > now ? first->due - now : 0;
	if ((n->credits.queued || net_steps_due(n)) &&
	    n->active < NET_MAX_ACTIVE) {
		int64_t token = net_bucket_wait(&n->bucket, now);

		if (token < wait)
			wait = token;
	}
	if (n->download_wait.head && n->active < NET_MAX_ACTIVE)
		wait = 0; /* a download due again at once (dispatch_downloads) */
	if (n->stopping && n->stop_deadline - now < wait)
		wait = n->stop_deadline > now ? n->stop_deadline - now : 0;
	/* not knowing when curl wants to run, run it again soon */
	if (!multi_ok("curl_multi_timeout",
		      curl_multi_timeout(n->multi, &curl_ms),
		      &n->timeout_failing))
		curl_ms = NET_POLL_FAILED_MS;
	if (curl_ms >= 0 && curl_ms < wait)
		wait = curl_ms;
	return (int)wait;
}

/* ---- transfers ---- */

int net_launch(struct net *n, struct xfer *x, struct ntask *t)
{
	x->owner = t;
	if (!multi_ok("curl_multi_add_handle",
		      curl_multi_add_handle(n->multi, x->easy), NULL))
		return -1;
	if (t)
		t->x = x;
	else
		n->credits.x = x;
	n->active++;
	return 0;
}

/* Take x off the multi handle; the caller frees it. */
static void unhook(struct net *n, struct xfer *x)
{
	struct ntask *t = x->owner;

	/* fails only for a handle not on the multi: counted out anyway */
	multi_ok("curl_multi_remove_handle",
		 curl_multi_remove_handle(n->multi, x->easy), NULL);
	DEBUGASSERT(n->active > 0);
	n->active--;
	if (t)
		t->x = NULL;
	else
		n->credits.x = NULL;
}

/* The bucket follows the learned rate. */
static void follow_rate(struct net *n)
{
	double rate = n->adapt.rate;

	net_bucket_set(&n->bucket, rate, fmax(1.0, rate * NET_BURST_S),
		       net_timer_now());
}

enum adapt_cause net_throttled(struct net *n, bool creation)
{
	struct adapt *a = &n->adapt;
	double rate = a->rate;
	unsigned limit = net_adapt_limit(a);
	enum adapt_cause cause = net_adapt_throttled(
		a, creation, net_tasks_at_api(n), net_timer_now());

	if (cause == ADAPT_RATE && creation)
		net_probe_poll(n); /* was it? the next 429 will tell */
	if (cause == ADAPT_RATE && a->rate != rate)
		log_info("throttled by the API: %.1f requests a second "
			 "(was %.1f)",
			 a->rate, rate);
	else if (cause == ADAPT_CONCURRENCY && net_adapt_limit(a) != limit) {
		log_info("throttled by the API: %u tasks at once (was %u)",
			 net_adapt_limit(a), limit);
		net_shed_slots(n);
	}
	follow_rate(n);
	return cause;
}

/* What an answer of the API says about its limits (see adapt.c); a
 * throttled creation tells it itself (create.c), as what it does next
 * depends on the verdict. */
static void learn(struct net *n, struct ntask *t, const struct xfer *x,
		  const struct xfer_result *r)
{
	bool creation = t && t->step == STEP_CREATE;
	int64_t now = net_timer_now();
	struct api_error e;

	if (r->transport != TRANSPORT_OK || (t && t->probing))
		return; /* no answer, or only a connection */
	if (r->status == 429) {
		net_answer_error(x, r, &e);
		if (!creation && net_answer_throttled(r, &e))
			net_throttled(n, false);
		return;
	}
	net_adapt_answered(&n->adapt, !creation, now);
	if (creation && net_answer_ok(r))
		net_adapt_created(&n->adapt, n->slot_wait.head != NULL);
	follow_rate(n);
	net_grant_slots(n); /* the limit may have grown */
}

static void finish(struct net *n, struct xfer *x, CURLcode code)
{
	struct ntask *t = x->owner;
	struct xfer_result r;

	net_xfer_result(x, code, &r);
	unhook(n, x);
	/* downloads answer from the file host, not from the API */
	if (r.transport == TRANSPORT_OK && (!t || t->step != STEP_DOWNLOAD)) {
		net_api_reached(n);
		learn(n, t, x, &r);
	}
	if (!t)
		net_credits_done(n, x, &r);
	else if (t->step == STEP_CREATE)
		net_create_done(n, t, x, &r);
	else if (t->step == STEP_POLL)
		net_poll_done(n, t, x, &r);
	else
		net_download_done(n, t, x, &r);
	net_xfer_free(&n->pool, x);
}

static void finish_transfers(struct net *n)
{
	CURLMsg *m;
	int left;

	/* the records of this turn's answers are written together; every
	 * request that follows from them is sent after (dispatch) */
	core_batch_begin(n->core);
	while ((m = curl_multi_info_read(n->multi, &left)) != NULL) {
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
		finish(n, x, m->data.result);
	}
	core_batch_end(n->core);
}

/* Abort a running transfer without an outcome. */
static void abort_transfer(struct net *n, struct xfer *x)
{
	struct ntask *t = x->owner;

	unhook(n, x);
	if (t && t->step == STEP_CREATE && !t->probing)
		log_warn("%s #%" PRIu64 ": stopped while its creation request "
			 "was on the wire; it will show as interrupted",
			 t->name, t->seq);
	if (t && t->step == STEP_DOWNLOAD)
		net_download_abort(n, t, x);
	net_xfer_free(&n->pool, x);
}

/* ---- the stop ---- */

/* No new request from now on; creation requests on the wire get until
 * stop_deadline to be answered, everything else ends now. */
static void begin_stop(struct net *n)
{
	bool credits = n->credits.queued || timer_armed(&n->credits.timer) ||
		       n->credits.x;
	struct ntask *t, *next;
	size_t i;

	n->stopping = true;
	n->stop_deadline = net_timer_now() + NET_STOP_GRACE_MS;
	net_timer_heap_free(&n->timers); /* disarms every timer */
	while (net_queue_pop(&n->slot_wait))
		;
	while (net_queue_pop(&n->read_wait))
		;
	while (net_queue_pop(&n->download_wait))
		;
	while (net_queue_pop(&n->create_wait))
		;
	n->credits.queued = false;
	for (i = 0; i < NET_BUCKETS; i++) {
		for (t = n->table[i]; t; t = next) {
			next = t->hnext;
			/* a probe sends nothing: it ends now */
			if (t->x && t->step == STEP_CREATE && !t->probing)
				continue;
			if (t->x)
				abort_transfer(n, t->x);
			net_drop(n, t);
		}
	}
	if (n->credits.x)
		abort_transfer(n, n->credits.x);
	if (credits)
		net_credits_fail(n, "network_error", "the daemon is stopping");
}

static void end_all(struct net *n)
{
	size_t i;

	for (i = 0; i < NET_BUCKETS; i++) {
		while (n->table[i]) {
			struct ntask *t = n->table[i];

			if (t->x)
				abort_transfer(n, t->x);
			net_drop(n, t);
		}
	}
}

/* Wait for a transfer, a timer or a wakeup. Should curl_multi_poll fail,
 * it returns at once: sleep a little instead of spinning. */
static void net_sleep(struct net *n)
{
	int ms = wait_ms(n);

	/* nor spin while perform fails and curl would run again at once */
	if (n->perform_failing && ms < NET_POLL_FAILED_MS)
		ms = NET_POLL_FAILED_MS;
	if (!multi_ok("curl_multi_poll",
		      curl_multi_poll(n->multi, NULL, 0, ms, NULL),
		      &n->poll_failing))
		poll(NULL, 0,
		     ms < NET_POLL_FAILED_MS ? ms : NET_POLL_FAILED_MS);
}

static void *net_thread(void *arg)
{
	struct net *n = arg;
	int running;

	net_download_init(n);
	for (;;) {
		drain_inbox(n);
		if (!n->stopping) {
			run_timers(n);
			dispatch(n);
		}
		/* a failed perform leaves the transfers on the multi handle:
		 * the next turn performs them again */
		multi_ok("curl_multi_perform",
			 curl_multi_perform(n->multi, &running),
			 &n->perform_failing);
		finish_transfers(n);
		if (n->stopping &&
		    (n->active == 0 || net_timer_now() >= n->stop_deadline))
			break;
		net_sleep(n);
	}
	end_all(n);
	return NULL;
}

/* ---- start and stop ---- */

static void net_free(struct net *n)
{
	net_hints_free(n);
	net_free_headers(n->headers);
	if (n->multi)
		multi_ok("curl_multi_cleanup", curl_multi_cleanup(n->multi),
			 NULL);
	net_xfer_pool_free(&n->pool);
	net_timer_heap_free(&n->timers);
	pthread_mutex_destroy(&n->lock);
	free(n->inbox);
	free(n->api_url);
	free(n);
	curl_global_cleanup();
}

/* The receiver's socket is closed when the start fails before the
 * receiver owns it. */
static struct net *refused(const struct net_config *cfg)
{
	if (cfg->callback_url)
		close(cfg->callback_fd);
	return NULL;
}

struct net *net_start(struct core *c, const struct net_config *cfg, char *err,
		      size_t errlen)
{
	struct net *n;
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return refused(cfg);
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		curl_global_cleanup();
		snprintf(err, errlen, "out of memory");
		return refused(cfg);
	}
	pthread_mutex_init(&n->lock, NULL);
	net_timer_heap_init(&n->timers);
	net_xfer_pool_init(&n->pool);
	timer_init(&n->credits.timer);
	n->core = c;
	n->probe_at = INT64_MIN / 2; /* never */
	n->poll_ms = (int64_t)llround(cfg->poll_interval * 1000.0);
	if (n->poll_ms < 10)
		n->poll_ms = 10;
	n->max_task_bytes =
		cfg->max_task_bytes ? cfg->max_task_bytes : NET_MAX_TASK_BYTES;
	n->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		 (uint64_t)(uintptr_t)n;
	net_adapt_init(&n->adapt, cfg->max_rate, cfg->max_inflight,
		       net_timer_now());
	net_bucket_init(&n->bucket, n->adapt.rate,
			fmax(1.0, n->adapt.rate * NET_BURST_S),
			net_timer_now());
	n->headers = net_api_headers(cfg->api_key, err, errlen);
	if (!n->headers) {
		net_free(n);
		return refused(cfg);
	}
	n->api_url = strdup(cfg->api_url);
	n->multi = curl_multi_init();
	if (!n->api_url || !n->multi) {
		snprintf(err, errlen, "out of memory");
		net_free(n);
		return refused(cfg);
	}
	if (net_hints_start(n, cfg, err, errlen) < 0) {
		net_free(n);
		return NULL;
	}
	rc = pthread_create(&n->thread, NULL, net_thread, n);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the network thread: %s",
			 strerror(rc));
		net_free(n);
		return NULL;
	}
	return n;
}

void net_stop(struct net *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_mutex_unlock(&n->lock);
	wake(n);
	pthread_join(n->thread, NULL);
	net_free(n);
}
