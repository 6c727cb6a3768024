/* The network thread against the in-process simulator, stopped and
 * unreachable: a stop leaves nothing in "sending" and the next start
 * resumes; tries that never reached the API are retried and not counted
 * as attempts. */
#include "net_fixture.h"

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

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_stop_and_resume();
	test_stop_waits_for_creation();
	test_unreachable_api();
	test_outage_not_counted();
	curl_global_cleanup();
	return check_result("test_net_stop");
}
