/* The job core's spending: the daily budget, what counts as possibly
 * spent, and the credits text. */
#include "core_fixture.h"

/* ---- the daily budget ---- */

static const char *credits_value(struct fx *f, const char *key)
{
	core_credits_update(f->c, 1000, NULL, NULL);
	if (core_credits(f->c, &f->text) < 0)
		return NULL;
	return fx_value(buf_str(&f->text), key);
}

/* Exactly the task that would exceed the budget fails, before anything is
 * sent; the prompt it replaced, written again, costs nothing. */
static void test_budget(void)
{
	struct fx f;
	uint64_t s1, s2, s3, s4;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	core_set_daily_budget(f.c, 14.1);
	CHECK_STR(credits_value(&f, "budget"), "14.1");
	CHECK_STR(credits_value(&f, "budget_left"), "14.1");
	s1 = fx_done(&f, "cat", "a cat", "t-1");
	CHECK(s1 != 0);
	s2 = fx_submit(&f, "dog", "a dog");
	CHECK(core_task_sending(f.c, s2) == 0); /* held: counts */
	CHECK_STR(credits_value(&f, "budget_left"), "4.7");
	CHECK_STR(credits_value(&f, "spent_today"), "4.7");

	/* 4.7 + 4.7 held + 9.4 > 14.1: refused */
	CHECK(fx_write_job(&f, "cat.opts", "resolution = 2k\n") == 0);
	s3 = fx_submit(&f, "cat", "a cat");
	CHECK(s3 != 0);
	fx_clear_calls(&f);
	CHECK(core_task_sending(f.c, s3) == -ENOENT);
	CHECK(fx_changed(&f, "cat"));
	CHECK_STR(fx_first_line(&f, "cat"), "failed");
	CHECK_STR(
		fx_value(fx_status(&f, "cat"), "error"),
		"budget_exceeded: the daily budget is 14.1 credits; 9.4 are "
		"spent or being sent today (0.0 of them possibly spent) and this "
		"task costs 9.4; nothing was sent (write the prompt again "
		"after midnight UTC, or raise daily_budget)");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "credits"),
		  "0 (nothing was charged)");
	CHECK_STR(credits_value(&f, "budget_left"), "4.7");

	/* 4.7 more fits exactly */
	CHECK(core_task_created(f.c, s2, "t-2") == 0);
	s4 = fx_submit(&f, "emu", "an emu");
	CHECK(core_task_sending(f.c, s4) == 0);
	CHECK_STR(credits_value(&f, "budget_left"), "0.0");
	CHECK(core_task_requeue(f.c, s4, "503") == 0); /* not created */
	CHECK_STR(credits_value(&f, "budget_left"), "4.7");

	/* the refused attempt never makes the sent prompt cost again */
	CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.opts", 0) == 0);
	fx_clear_calls(&f);
	CHECK(fx_submit(&f, "cat", "a cat") == 0);
	CHECK(f.calls.n_ready == 0);
	CHECK_STR(fx_first_line(&f, "cat"), "completed");
	CHECK_STR(fx_value(fx_status(&f, "cat"), "task_id"), "t-1");

	/* amounts are shown as they are, not rounded to what they are not */
	core_set_daily_budget(f.c, 9.39);
	CHECK_STR(credits_value(&f, "budget"), "9.39");
	CHECK_STR(credits_value(&f, "budget_left"), "0.0");

	/* raised: the refused prompt written again is sent */
	core_set_daily_budget(f.c, -1);
	CHECK(credits_value(&f, "budget") == NULL);
	CHECK(fx_write_job(&f, "cat.opts", "resolution = 2k\n") == 0);
	s3 = fx_submit(&f, "cat", "a cat");
	CHECK(s3 != 0 && core_task_sending(f.c, s3) == 0);
	fx_close(&f);
}

/* A creation whose answer was lost, in this run or in one that stopped
 * while sending, counts as possibly spent, also after a restart; one that
 * the API failed after creating it is refunded. */
static void test_charges(void)
{
	struct fx f;
	uint64_t s1, s2, s3;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s1 = fx_submit(&f, "cat", "a cat");
	CHECK(core_task_sending(f.c, s1) == 0);
	CHECK(core_task_failed(f.c, s1, "interrupted", "answer lost") == 0);
	CHECK_STR(fx_value(fx_status(&f, "cat"), "credits"),
		  "4.7 (possibly charged)");
	CHECK_STR(credits_value(&f, "possibly_spent_today"), "4.7");

	s2 = fx_submit(&f, "dog", "a dog");
	CHECK(fx_send(&f, s2, "t-2") == 0);
	CHECK(core_task_failed_at_api(f.c, s2, "upstream_error", "boom") == 0);
	CHECK_STR(fx_value(fx_status(&f, "dog"), "credits"),
		  "0 (4.7 refunded by the API)");
	CHECK_STR(credits_value(&f, "spent_today"), "0.0");

	/* one the daemon gave up on (the API's answer said nothing of a
	 * failure) stays charged: only the API gives credits back */
	s2 = fx_submit(&f, "fox", "a fox");
	CHECK(fx_send(&f, s2, "t-4") == 0);
	CHECK(core_task_failed(f.c, s2, "not_found", "no such task") == 0);
	CHECK_STR(fx_value(fx_status(&f, "fox"), "credits"), "4.7");
	CHECK_STR(credits_value(&f, "spent_today"), "4.7");

	s3 = fx_submit(&f, "emu", "an emu");
	CHECK(core_task_sending(f.c, s3) == 0);
	CHECK(core_task_failed(f.c, s3, "invalid_request", "no") == 0);
	CHECK_STR(fx_value(fx_status(&f, "emu"), "credits"),
		  "0 (nothing was charged)");

	/* killed while sending: after the restart it is in doubt too */
	CHECK(fx_submit(&f, "emu", "an emu\n") != 0);
	CHECK(core_task_sending(f.c, fx_last_ready(&f)) == 0);
	CHECK(fx_reopen(&f));
	CHECK(strstr(fx_status(&f, "emu"), "error: interrupted:") != NULL);
	CHECK_STR(fx_value(fx_status(&f, "emu"), "credits"),
		  "4.7 (possibly charged)");
	CHECK_STR(credits_value(&f, "possibly_spent_today"), "9.4");
	CHECK(fx_reopen(&f));
	CHECK_STR(credits_value(&f, "possibly_spent_today"), "9.4");
	/* 4.7 spent (fox) and 9.4 possibly spent */
	core_set_daily_budget(f.c, 15);
	CHECK_STR(credits_value(&f, "budget_left"), "0.9");
	fx_close(&f);
}

/* ---- credits ---- */

static void test_credits(void)
{
	struct fx f;
	uint64_t s1, s2;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	CHECK(core_credits(f.c, &f.text) == -EAGAIN);
	CHECK(core_credits(f.c, &f.text) == -EAGAIN);
	CHECK(f.calls.credits_wanted == 1);

	s1 = fx_submit(&f, "cat", "a cat");
	CHECK(fx_send(&f, s1, "t-1") == 0);
	core_credits_update(f.c, 9995.3, NULL, NULL);
	CHECK(f.calls.credits_changed == 1);
	CHECK(core_credits(f.c, &f.text) == 0);
	CHECK(f.calls.credits_wanted == 1);
	CHECK_STR(buf_str(&f.text), "9995.3\nspent_today: 4.7\n"
				    "possibly_spent_today: 0.0\n");

	/* a task the API failed gives its credits back */
	s2 = fx_submit(&f, "dog", "a dog");
	CHECK(fx_send(&f, s2, "t-2") == 0);
	CHECK(core_credits(f.c, &f.text) == 0);
	CHECK_STR(fx_value(buf_str(&f.text), "spent_today"), "9.4");
	CHECK(core_task_failed_at_api(f.c, s2, "upstream_error", "boom") == 0);
	CHECK(core_credits(f.c, &f.text) == 0);
	CHECK_STR(fx_value(buf_str(&f.text), "spent_today"), "4.7");

	/* one that completed at the API was charged, even if its download
	 * then failed */
	s2 = fx_submit(&f, "emu", "an emu");
	CHECK(fx_send(&f, s2, "t-3") == 0);
	CHECK(core_task_urls(f.c, s2, (char *[]){ "https://cdn.example/e" },
			     1) == 0);
	CHECK(core_task_failed(f.c, s2, "download_failed", "gone") == 0);
	CHECK(core_credits(f.c, &f.text) == 0);
	CHECK_STR(fx_value(buf_str(&f.text), "spent_today"), "9.4");

	core_credits_update(f.c, 0, "unauthorized", "the API key was refused");
	CHECK(core_credits(f.c, &f.text) == 0);
	CHECK_STR(buf_str(&f.text),
		  "error: unauthorized: the API key was refused\n"
		  "spent_today: 9.4\npossibly_spent_today: 0.0\n");

	/* today's spending survives a restart; the balance is asked again */
	CHECK(fx_reopen(&f));
	CHECK(core_credits(f.c, &f.text) == -EAGAIN);
	CHECK(f.calls.credits_wanted == 1);
	core_credits_update(f.c, 9990.6, NULL, NULL);
	CHECK(core_credits(f.c, &f.text) == 0);
	CHECK_STR(buf_str(&f.text), "9990.6\nspent_today: 9.4\n"
				    "possibly_spent_today: 0.0\n");
	fx_close(&f);
}

int main(void)
{
	test_budget();
	test_charges();
	test_credits();
	return check_result("test_core_budget");
}
