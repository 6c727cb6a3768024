/* The network thread against the in-process simulator: a job goes from
 * queued to an image in out/; a refused creation is retried; a creation
 * whose answer is lost fails "interrupted" and is not sent twice; polls and
 * downloads ride out faults; a stop leaves nothing in "sending" and the next
 * start resumes. Waits use a condition variable signalled by the core's
 * hooks, with a deadline. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/jobs.h"
#include "net/bucket.h"
#include "net/net.h"
#include "net/timer.h"
#include "sim/sim.h"

#define KEY "sk-test-net-0123456789"
#define WAIT_SECONDS 30

struct env {
	char dir[64];
	char data[128];
	char api_url[64];
	struct sim *sim;
	struct core *core;
	struct net *net;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned generation; /* bumped by every hook call */
	struct buf st;	     /* a status text, for the test to read */
};

static void bump(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	e->generation++;
	pthread_cond_broadcast(&e->changed);
	pthread_mutex_unlock(&e->lock);
}

static void hook_job_changed(void *ctx, const char *name)
{
	(void)name;
	bump(ctx);
}

static void hook_credits_changed(void *ctx)
{
	bump(ctx);
}

static void hook_task_ready(void *ctx, uint64_t seq)
{
	struct env *e = ctx;

	net_task_ready(e->net, seq);
}

static void hook_credits_wanted(void *ctx)
{
	struct env *e = ctx;

	net_credits_wanted(e->net);
}

static int start_net(struct env *e, unsigned max_inflight)
{
	struct net_config cfg = {
		.api_url = e->api_url,
		.api_key = KEY,
		.poll_interval = 0.05,
		.max_inflight = max_inflight,
	};
	char err[256];

	e->net = net_start(e->core, &cfg, err, sizeof(err));
	if (!e->net) {
		fprintf(stderr, "net_start: %s\n", err);
		return -1;
	}
	core_start(e->core);
	return 0;
}

static int setup(struct env *e, unsigned max_inflight)
{
	struct core_defaults def = { "auto", "1k", true };
	struct core_hooks hooks = {
		.ctx = e,
		.job_changed = hook_job_changed,
		.task_ready = hook_task_ready,
		.credits_wanted = hook_credits_wanted,
		.credits_changed = hook_credits_changed,
	};
	struct sim_options so;
	char err[256];

	memset(e, 0, sizeof(*e));
	buf_init(&e->st, 1 << 16);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->changed, NULL);
	snprintf(e->dir, sizeof(e->dir), "/tmp/test_net.XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	snprintf(e->data, sizeof(e->data), "%s/data", e->dir);
	sim_options_default(&so);
	so.api_key = KEY;
	so.pending_seconds = 0.1;
	so.processing_seconds = 0.1;
	so.image_scale = 0.05;
	e->sim = sim_start(&so, err, sizeof(err));
	if (!e->sim) {
		fprintf(stderr, "sim_start: %s\n", err);
		return -1;
	}
	snprintf(e->api_url, sizeof(e->api_url), "http://127.0.0.1:%u",
		 sim_port(e->sim));
	e->core = core_open(e->data, &def, err, sizeof(err));
	if (!e->core) {
		fprintf(stderr, "core_open: %s\n", err);
		return -1;
	}
	core_set_hooks(e->core, &hooks);
	return start_net(e, max_inflight);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void teardown(struct env *e)
{
	net_stop(e->net);
	core_close(e->core);
	sim_stop(e->sim);
	nftw(e->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	pthread_cond_destroy(&e->changed);
	pthread_mutex_destroy(&e->lock);
	buf_free(&e->st);
}

static void write_prompt(struct env *e, const char *name, const char *prompt)
{
	char file[128];
	int fd;

	snprintf(file, sizeof(file), "%s.txt", name);
	fd = openat(core_jobs_dirfd(e->core), file,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, prompt, strlen(prompt)) == (ssize_t)strlen(prompt));
	close(fd);
}

static void submit(struct env *e, const char *name, const char *prompt)
{
	write_prompt(e, name, prompt);
	CHECK(core_submit(e->core, name) == 0);
}

static void deadline_in(struct timespec *ts, int seconds)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += seconds;
}

/* Wait until job name has ended; its status text goes to out. The
 * generation is read before the status, so no change is missed. */
static enum task_state wait_end(struct env *e, const char *name,
				struct buf *out)
{
	struct core_status_info info = { .state = TASK_QUEUED };
	struct timespec deadline;
	unsigned gen;

	deadline_in(&deadline, WAIT_SECONDS);
	pthread_mutex_lock(&e->lock);
	for (;;) {
		gen = e->generation;
		pthread_mutex_unlock(&e->lock);
		if (core_status(e->core, name, out, &info) == 0 &&
		    core_task_state_ended(info.state))
			return info.state;
		pthread_mutex_lock(&e->lock);
		while (gen == e->generation) {
			if (pthread_cond_timedwait(&e->changed, &e->lock,
						   &deadline) == ETIMEDOUT) {
				pthread_mutex_unlock(&e->lock);
				fprintf(stderr, "%s: no end in %d s:\n%s", name,
					WAIT_SECONDS, buf_str(out));
				return info.state;
			}
		}
	}
}

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
	return buf_add(ud, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* A request to the simulator's control endpoints. */
static int sim_call(struct env *e, const char *path, const char *post,
		    struct buf *answer)
{
	char url[128];
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", e->api_url, path);
	buf_reset(answer);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return rc == CURLE_OK && status == 200 ? 0 : -1;
}

static void add_fault(struct env *e, const char *rule)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	CHECK(sim_call(e, "/_sim/faults", rule, &b) == 0);
	buf_free(&b);
}

/* One counter of /_sim/stats, -1 when it cannot be read. */
static long sim_stat(struct env *e, const char *key)
{
	char pattern[64];
	const char *p;
	struct buf b;
	long v = -1;

	buf_init(&b, 1 << 16);
	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	if (sim_call(e, "/_sim/stats", NULL, &b) == 0 &&
	    (p = strstr(buf_str(&b), pattern)) != NULL)
		v = strtol(p + strlen(pattern), NULL, 10);
	buf_free(&b);
	return v;
}

static bool has_output(struct env *e, const char *file)
{
	struct core_output o;

	return core_output_find(e->core, file, &o) == 0 && o.size > 0;
}

static void test_job_completes(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	submit(&e, "cat", "a cat on a mat");
	CHECK(wait_end(&e, "cat", &e.st) == TASK_COMPLETED);
	CHECK(strncmp(buf_str(&e.st), "completed\n", 10) == 0);
	CHECK(strstr(buf_str(&e.st), "task_id: ") != NULL);
	CHECK(has_output(&e, "cat.png"));
	CHECK(sim_stat(&e, "creates") == 1);
	CHECK(sim_stat(&e, "auth_on_files") == 0);
	teardown(&e);
}

/* Many jobs through one slot: each is created once, all complete. */
static void test_many_jobs_one_slot(void)
{
	static const char *const names[] = { "a", "b", "c", "d", "e" };
	struct env e;
	char file[16];
	size_t i;

	if (setup(&e, 1) < 0) {
		CHECK(!"setup");
		return;
	}
	for (i = 0; i < 5; i++)
		submit(&e, names[i], names[i]);
	for (i = 0; i < 5; i++) {
		CHECK(wait_end(&e, names[i], &e.st) == TASK_COMPLETED);
		snprintf(file, sizeof(file), "%s.png", names[i]);
		CHECK(has_output(&e, file));
	}
	CHECK(sim_stat(&e, "creates") == 5);
	CHECK(sim_stat(&e, "create_requests") == 5);
	teardown(&e);
}

static void test_create_retried_after_503(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"error\","
		      "\"status\":503,\"code\":\"upstream_error\","
		      "\"count\":1}");
	submit(&e, "dog", "a dog");
	CHECK(wait_end(&e, "dog", &e.st) == TASK_COMPLETED);
	CHECK(has_output(&e, "dog.png"));
	CHECK(sim_stat(&e, "create_requests") == 2);
	CHECK(sim_stat(&e, "creates") == 1);
	teardown(&e);
}

/* The answer to a creation is lost (the connection closes after the task
 * was made): it fails "interrupted" and is not sent again, also when the
 * request went over a reused keep-alive connection (where curl would
 * quietly resend a request that got no answer at all). */
static void test_lost_answer_not_resent(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	submit(&e, "ant", "an ant"); /* leaves a connection to reuse */
	CHECK(wait_end(&e, "ant", &e.st) == TASK_COMPLETED);
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"drop_after\","
		      "\"count\":1}");
	submit(&e, "owl", "an owl");
	CHECK(wait_end(&e, "owl", &e.st) == TASK_FAILED);
	CHECK(strstr(buf_str(&e.st), "error: interrupted: ") != NULL);
	CHECK(strstr(buf_str(&e.st), "may have been created and charged") !=
	      NULL);
	CHECK(sim_stat(&e, "creates") == 2);
	CHECK(sim_stat(&e, "create_requests") == 2);
	teardown(&e);
}

static void test_create_refused(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"error\","
		      "\"status\":402,\"code\":\"insufficient_credits\","
		      "\"count\":1}");
	submit(&e, "elk", "an elk");
	CHECK(wait_end(&e, "elk", &e.st) == TASK_FAILED);
	CHECK(strstr(buf_str(&e.st), "error: insufficient_credits: ") != NULL);
	CHECK(sim_stat(&e, "create_requests") == 1);
	teardown(&e);
}

/* Polls ride out 5xx, dropped connections and a malformed answer; an
 * expired URL (404) makes one poll for fresh URLs, a truncated body is
 * fetched again, and the download then succeeds. */
static void test_poll_and_download_faults(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"task\",\"action\":\"error\","
		      "\"status\":500,\"count\":2}");
	add_fault(&e, "{\"endpoint\":\"task\",\"action\":\"drop_before\","
		      "\"count\":2}");
	add_fault(&e, "{\"endpoint\":\"task\",\"action\":\"malformed\","
		      "\"count\":1}");
	add_fault(&e, "{\"endpoint\":\"file\",\"action\":\"error\","
		      "\"status\":404,\"count\":1}");
	add_fault(&e, "{\"endpoint\":\"file\",\"action\":\"truncate\","
		      "\"bytes\":100,\"count\":1}");
	submit(&e, "fox", "a fox");
	CHECK(wait_end(&e, "fox", &e.st) == TASK_COMPLETED);
	CHECK(has_output(&e, "fox.png"));
	CHECK(sim_stat(&e, "creates") == 1);
	CHECK(sim_stat(&e, "downloads") == 3);
	CHECK(sim_stat(&e, "auth_on_files") == 0);
	teardown(&e);
}

/* 429 rate_limit_exceeded with Retry-After: the creation waits that long,
 * then goes through. */
static void test_create_honours_retry_after(void)
{
	struct timespec t0, t1;
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"error\","
		      "\"status\":429,\"code\":\"rate_limit_exceeded\","
		      "\"retry_after\":\"2\",\"count\":1}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	submit(&e, "bee", "a bee");
	CHECK(wait_end(&e, "bee", &e.st) == TASK_COMPLETED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec >= 2);
	CHECK(sim_stat(&e, "create_requests") == 2);
	CHECK(sim_stat(&e, "creates") == 1);
	teardown(&e);
}

/* A URL that stays dead: one refresh, then download_failed. */
static void test_download_fails_after_refresh(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"file\",\"action\":\"error\","
		      "\"status\":410,\"count\":2}");
	submit(&e, "gnu", "a gnu");
	CHECK(wait_end(&e, "gnu", &e.st) == TASK_FAILED);
	CHECK(strstr(buf_str(&e.st), "error: download_failed: ") != NULL);
	CHECK(strstr(buf_str(&e.st), "answered 410") != NULL);
	CHECK(!has_output(&e, "gnu.png"));
	teardown(&e);
}

/* A stop right after submitting leaves no task "sending"; the next start
 * resumes it to completion with a single creation. */
static void test_stop_and_resume(void)
{
	struct core_status_info info = { .state = TASK_SENDING };
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	submit(&e, "hen", "a hen");
	net_stop(e.net);
	CHECK(core_status(e.core, "hen", &e.st, &info) == 0);
	CHECK(info.state == TASK_QUEUED || info.state == TASK_PENDING ||
	      info.state == TASK_PROCESSING);
	CHECK(start_net(&e, 4) == 0);
	CHECK(wait_end(&e, "hen", &e.st) == TASK_COMPLETED);
	CHECK(has_output(&e, "hen.png"));
	CHECK(sim_stat(&e, "creates") == 1);
	teardown(&e);
}

/* A creation on the wire when the stop comes gets its answer: the task
 * is left pending with its id, not "sending" (which would fail it as
 * interrupted at the next start). */
static void test_stop_waits_for_creation(void)
{
	struct core_status_info info = { .state = TASK_SENDING };
	struct env e;
	unsigned gen;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"stall\","
		      "\"delay_ms\":1500,\"count\":1}");
	submit(&e, "yak", "a yak");
	/* wait until it is on the wire */
	pthread_mutex_lock(&e.lock);
	for (;;) {
		gen = e.generation;
		pthread_mutex_unlock(&e.lock);
		if (core_status(e.core, "yak", &e.st, &info) == 0 &&
		    info.state != TASK_QUEUED)
			break;
		pthread_mutex_lock(&e.lock);
		while (gen == e.generation)
			pthread_cond_wait(&e.changed, &e.lock);
	}
	CHECK(info.state == TASK_SENDING);
	net_stop(e.net);
	CHECK(core_status(e.core, "yak", &e.st, &info) == 0);
	CHECK(info.state == TASK_PENDING);
	CHECK(strstr(buf_str(&e.st), "task_id: ") != NULL);
	CHECK(start_net(&e, 4) == 0);
	CHECK(wait_end(&e, "yak", &e.st) == TASK_COMPLETED);
	CHECK(sim_stat(&e, "creates") == 1);
	teardown(&e);
}

/* What `cat credits` shows: the first read asks the network and returns
 * -EAGAIN; credits_changed says when to read again. */
static int read_credits(struct env *e, struct buf *text)
{
	struct timespec deadline;
	unsigned gen;
	int rc;

	deadline_in(&deadline, WAIT_SECONDS);
	pthread_mutex_lock(&e->lock);
	for (;;) {
		gen = e->generation;
		pthread_mutex_unlock(&e->lock);
		rc = core_credits(e->core, text);
		if (rc != -EAGAIN)
			return rc;
		pthread_mutex_lock(&e->lock);
		while (gen == e->generation) {
			if (pthread_cond_timedwait(&e->changed, &e->lock,
						   &deadline) == ETIMEDOUT) {
				pthread_mutex_unlock(&e->lock);
				return -ETIMEDOUT;
			}
		}
	}
}

static void test_credits(void)
{
	struct env e;
	struct buf text;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	buf_init(&text, 1 << 16);
	CHECK(read_credits(&e, &text) == 0);
	CHECK(strncmp(buf_str(&text), "10000\n", 6) == 0);
	CHECK(sim_stat(&e, "credits_reads") == 1);
	buf_free(&text);
	teardown(&e);
}

/* A refused balance read is shown at once; a 503 is retried. */
static void test_credits_errors(void)
{
	struct env e;
	struct buf text;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	buf_init(&text, 1 << 16);
	add_fault(&e, "{\"endpoint\":\"credits\",\"action\":\"error\","
		      "\"status\":401,\"code\":\"invalid_api_key\","
		      "\"count\":1}");
	CHECK(read_credits(&e, &text) == 0);
	CHECK(strncmp(buf_str(&text), "error: invalid_api_key: ", 24) == 0);
	CHECK(sim_stat(&e, "credits_reads") == 1);
	buf_free(&text);
	teardown(&e);

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	buf_init(&text, 1 << 16);
	add_fault(&e, "{\"endpoint\":\"credits\",\"action\":\"error\","
		      "\"status\":503,\"count\":1}");
	CHECK(read_credits(&e, &text) == 0);
	CHECK(strncmp(buf_str(&text), "10000\n", 6) == 0);
	buf_free(&text);
	teardown(&e);
}

/* A 200 whose body is not the documented answer: the task may exist, so
 * it is not sent again. */
static void test_create_bad_answer(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"malformed\","
		      "\"count\":1}");
	submit(&e, "cod", "a cod");
	CHECK(wait_end(&e, "cod", &e.st) == TASK_FAILED);
	CHECK(strstr(buf_str(&e.st), "error: bad_response: ") != NULL);
	CHECK(strstr(buf_str(&e.st), "may have been created and charged") !=
	      NULL);
	CHECK(sim_stat(&e, "create_requests") == 1);
	teardown(&e);
}

/* Wait until the status of job name holds text; its status text goes to
 * e->st, its state is the result. */
static enum task_state wait_status(struct env *e, const char *name,
				   const char *text)
{
	struct core_status_info info = { .state = TASK_SENDING };
	struct timespec deadline;
	unsigned gen;

	deadline_in(&deadline, WAIT_SECONDS);
	pthread_mutex_lock(&e->lock);
	for (;;) {
		gen = e->generation;
		pthread_mutex_unlock(&e->lock);
		if (core_status(e->core, name, &e->st, &info) == 0 &&
		    strstr(buf_str(&e->st), text) != NULL)
			return info.state;
		pthread_mutex_lock(&e->lock);
		while (gen == e->generation &&
		       pthread_cond_timedwait(&e->changed, &e->lock,
					      &deadline) != ETIMEDOUT)
			;
		if (gen == e->generation) {
			pthread_mutex_unlock(&e->lock);
			fprintf(stderr, "%s: no '%s' in %d s:\n%s", name, text,
				WAIT_SECONDS, buf_str(&e->st));
			return info.state;
		}
	}
}

/* Nobody listens at api_url: nothing was sent, so the creation goes back
 * to queued with a note and is tried again; a stop does not wait for the
 * retry. */
static void test_unreachable_api(void)
{
	struct core_status_info info;
	struct timespec t0, t1;
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	net_stop(e.net);
	snprintf(e.api_url, sizeof(e.api_url), "http://127.0.0.1:1");
	CHECK(start_net(&e, 4) == 0);
	submit(&e, "emu", "an emu");
	CHECK(wait_status(&e, "emu", "cannot reach the API (try 2: ") ==
	      TASK_QUEUED);
	CHECK(strstr(buf_str(&e.st), "nothing was sent; trying again in ") !=
	      NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	net_stop(e.net);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	CHECK(core_status(e.core, "emu", &e.st, &info) == 0);
	CHECK(info.state == TASK_QUEUED);
	/* teardown stops a net: give it one on the simulator */
	snprintf(e.api_url, sizeof(e.api_url), "http://127.0.0.1:%u",
		 sim_port(e.sim));
	CHECK(start_net(&e, 4) == 0);
	CHECK(wait_end(&e, "emu", &e.st) == TASK_COMPLETED);
	teardown(&e);
}

/* Tries that never reached the API are not attempts: two refusals (503),
 * then the API goes away for three tries, then it is back on the same
 * port: the job completes, created once, although it was tried more often
 * than the five attempts a creation has. */
static void test_outage_not_counted(void)
{
	struct sim_options so;
	char err[256];
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	/* more refusals than the two awaited, should a try come before
	 * the stop: the first simulator never creates the task */
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"error\","
		      "\"status\":503,\"code\":\"upstream_error\","
		      "\"count\":4}");
	submit(&e, "gnu", "a gnu");
	CHECK(wait_status(&e, "gnu", "retry 3 of 5 after 503") == TASK_QUEUED);
	sim_stop(e.sim);
	CHECK(wait_status(&e, "gnu", "cannot reach the API (try 3: ") ==
	      TASK_QUEUED);
	sim_options_default(&so);
	so.api_key = KEY;
	so.port = (uint16_t)atoi(strrchr(e.api_url, ':') + 1);
	so.pending_seconds = 0.1;
	so.processing_seconds = 0.1;
	so.image_scale = 0.05;
	e.sim = sim_start(&so, err, sizeof(err));
	if (!e.sim) {
		fprintf(stderr, "sim_start: %s\n", err);
		CHECK(!"sim_start on the same port");
		net_stop(e.net);
		e.net = NULL;
		return;
	}
	CHECK(wait_end(&e, "gnu", &e.st) == TASK_COMPLETED);
	CHECK(sim_stat(&e, "create_requests") == 1);
	CHECK(sim_stat(&e, "creates") == 1);
	teardown(&e);
}

/* A creation answered with a redirect: nothing was created, the job fails
 * at once and says so; a poll answered with redirects goes on. */
static void test_redirects(void)
{
	struct env e;

	if (setup(&e, 4) < 0) {
		CHECK(!"setup");
		return;
	}
	add_fault(&e, "{\"endpoint\":\"create\",\"action\":\"redirect\","
		      "\"location\":\"https://login.example/portal\","
		      "\"count\":1}");
	submit(&e, "bat", "a bat");
	CHECK(wait_end(&e, "bat", &e.st) == TASK_FAILED);
	CHECK(strstr(buf_str(&e.st),
		     "error: redirected: the API answered "
		     "302, a redirect to login.example (not followed); "
		     "nothing was created") != NULL);
	CHECK(strstr(buf_str(&e.st), "nothing was charged") != NULL);
	CHECK(sim_stat(&e, "create_requests") == 1);
	CHECK(sim_stat(&e, "creates") == 0);
	add_fault(&e, "{\"endpoint\":\"task\",\"action\":\"redirect\","
		      "\"count\":3}");
	submit(&e, "rat", "a rat");
	CHECK(wait_end(&e, "rat", &e.st) == TASK_COMPLETED);
	CHECK(sim_stat(&e, "creates") == 1);
	CHECK(sim_stat(&e, "polls") >= 4);
	teardown(&e);
}

/* The heap gives timers back in due order, also after moves and
 * cancellations. */
static void test_timer_heap(void)
{
	struct timer_heap h;
	struct timer t[200], *p;
	int64_t last = -1;
	unsigned seed = 7;
	size_t i, popped = 0;

	net_timer_heap_init(&h);
	for (i = 0; i < 200; i++) {
		timer_init(&t[i]);
		CHECK(net_timer_arm(&h, &t[i], rand_r(&seed) % 1000) == 0);
	}
	for (i = 0; i < 200; i += 3)
		CHECK(net_timer_arm(&h, &t[i], rand_r(&seed) % 1000) == 0);
	for (i = 1; i < 200; i += 4)
		net_timer_cancel(&h, &t[i]);
	CHECK(!timer_armed(&t[1]) && timer_armed(&t[0]));
	CHECK(net_timer_pop_due(&h, -1) == NULL);
	while ((p = net_timer_pop_due(&h, 1000)) != NULL) {
		CHECK(p->due >= last);
		CHECK(!timer_armed(p));
		last = p->due;
		popped++;
	}
	CHECK(popped == 150);
	CHECK(net_timer_first(&h) == NULL);
	net_timer_heap_free(&h);
}

static void test_bucket(void)
{
	struct bucket b;
	int i, taken = 0;

	net_bucket_init(&b, 20, 20, 0);
	for (i = 0; i < 30; i++)
		taken += net_bucket_take(&b, 0);
	CHECK(taken == 20);
	CHECK(net_bucket_wait(&b, 0) == 50);
	CHECK(!net_bucket_take(&b, 49));
	CHECK(net_bucket_take(&b, 50));
	CHECK(net_bucket_take(&b, 10000)); /* refilled, never past burst */
	for (taken = 0, i = 0; i < 30; i++)
		taken += net_bucket_take(&b, 10000);
	CHECK(taken == 19);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_timer_heap();
	test_bucket();
	test_job_completes();
	test_many_jobs_one_slot();
	test_create_retried_after_503();
	test_lost_answer_not_resent();
	test_create_refused();
	test_poll_and_download_faults();
	test_create_honours_retry_after();
	test_download_fails_after_refresh();
	test_stop_and_resume();
	test_stop_waits_for_creation();
	test_credits();
	test_credits_errors();
	test_create_bad_answer();
	test_unreachable_api();
	test_outage_not_counted();
	test_redirects();
	curl_global_cleanup();
	return check_result("test_net");
}
