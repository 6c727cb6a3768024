/* The network thread's reads against the in-process simulator: polls
 * and downloads ride out faults, an expired URL is refreshed once, and
 * the balance behind `cat credits`. */
#include "net_fixture.h"

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

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_poll_and_download_faults();
	test_download_fails_after_refresh();
	test_credits();
	test_credits_errors();
	curl_global_cleanup();
	return check_result("test_net_reads");
}
