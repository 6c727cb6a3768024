/* The network thread against the in-process simulator: a job goes from
 * queued to an image in out/; a refused creation is retried; a creation
 * whose answer is lost, is not the documented answer or is a redirect is
 * not sent twice. Waits use a condition variable signalled by the core's
 * hooks, with a deadline. */
#include "net_fixture.h"

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

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_job_completes();
	test_many_jobs_one_slot();
	test_create_retried_after_503();
	test_lost_answer_not_resent();
	test_create_refused();
	test_create_honours_retry_after();
	test_create_bad_answer();
	test_redirects();
	curl_global_cleanup();
	return check_result("test_net");
}
