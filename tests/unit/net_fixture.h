/* The network thread against the in-process simulator, for the
 * test_net*.c files: a data dir under /tmp, the core's hooks bumping a
 * generation under a condition variable, waits with a deadline, and the
 * simulator's control endpoints. */
#ifndef GPTIMGFS_NET_FIXTURE_H
#define GPTIMGFS_NET_FIXTURE_H

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
#include "net/net.h"
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

static inline void bump(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	e->generation++;
	pthread_cond_broadcast(&e->changed);
	pthread_mutex_unlock(&e->lock);
}

static inline void hook_job_changed(void *ctx, const char *name)
{
	(void)name;
	bump(ctx);
}

static inline void hook_credits_changed(void *ctx)
{
	bump(ctx);
}

static inline void hook_task_ready(void *ctx, uint64_t seq)
{
	struct env *e = ctx;

	net_task_ready(e->net, seq);
}

static inline void hook_credits_wanted(void *ctx)
{
	struct env *e = ctx;

	net_credits_wanted(e->net);
}

static inline int start_net(struct env *e, unsigned max_inflight)
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

static inline int setup(struct env *e, unsigned max_inflight)
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

static inline int remove_one(const char *path, const struct stat *st, int flag,
			     struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static inline void teardown(struct env *e)
{
	net_stop(e->net);
	core_close(e->core);
	sim_stop(e->sim);
	nftw(e->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	pthread_cond_destroy(&e->changed);
	pthread_mutex_destroy(&e->lock);
	buf_free(&e->st);
}

static inline void write_prompt(struct env *e, const char *name,
				const char *prompt)
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

static inline void submit(struct env *e, const char *name, const char *prompt)
{
	write_prompt(e, name, prompt);
	CHECK(core_submit(e->core, name) == 0);
}

static inline void deadline_in(struct timespec *ts, int seconds)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += seconds;
}

/* Wait until job name has ended; its status text goes to out. The
 * generation is read before the status, so no change is missed. */
static inline enum task_state wait_end(struct env *e, const char *name,
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

static inline size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
	return buf_add(ud, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* A request to the simulator's control endpoints. */
static inline int sim_call(struct env *e, const char *path, const char *post,
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

static inline void add_fault(struct env *e, const char *rule)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	CHECK(sim_call(e, "/_sim/faults", rule, &b) == 0);
	buf_free(&b);
}

/* One counter of /_sim/stats, -1 when it cannot be read. */
static inline long sim_stat(struct env *e, const char *key)
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

static inline bool has_output(struct env *e, const char *file)
{
	struct core_output o;

	return core_output_find(e->core, file, &o) == 0 && o.size > 0;
}

#endif
