/* The credits file (SPEC section 5): the balance as the API last reported
 * it, asked for at most once every few seconds, and what this daemon's tasks
 * cost today (UTC), kept in DATA_DIR/spent.json across restarts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json.h"
#include "log.h"

#define CREDITS_FRESH_SECONDS 5.0

static void today(char *out, size_t outsz)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, outsz, "%Y-%m-%d", &tm);
}

void credits_load(struct core *c)
{
	struct json_doc doc;
	struct buf b;
	char *day = NULL;
	double spent = 0;

	today(c->spent_day, sizeof(c->spent_day));
	buf_init(&b, 4096);
	if (store_read_file(c->store.dir_fd, "spent.json", 4096, &b) == 0 &&
	    json_parse(&doc, b.data, b.len, 16) == 0) {
		day = json_member_string(&doc, 0, "day", 16);
		json_get_number(&doc, json_get(&doc, 0, "credits"), &spent);
		json_doc_free(&doc);
	}
	if (day && strcmp(day, c->spent_day) == 0)
		c->spent_today = spent;
	free(day);
	buf_free(&b);
}

/* Called under the lock when a task is created (+) or refunded (-). */
void credits_spent(struct core *c, double amount)
{
	char day[11], text[64];
	int n;

	today(day, sizeof(day));
	if (strcmp(day, c->spent_day) != 0) {
		memcpy(c->spent_day, day, sizeof(day));
		c->spent_today = 0;
	}
	c->spent_today += amount;
	if (c->spent_today < 0.05)
		c->spent_today = 0;
	n = snprintf(text, sizeof(text), "{\"day\":\"%s\",\"credits\":%.1f}\n",
		     c->spent_day, c->spent_today);
	/* a statistic: not worth an fsync on every task */
	if (store_write_atomic(c->store.dir_fd, "spent.json", text, (size_t)n,
			       false) < 0)
		log_warn("cannot record today's spending in spent.json");
}

static double seconds_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - then->tv_sec) +
	       (double)(now.tv_nsec - then->tv_nsec) / 1e9;
}

static int render_credits(struct core *c, struct buf *out)
{
	char day[11];
	int rc = 0;

	today(day, sizeof(day));
	if (c->credits_error[0])
		rc |= buf_printf(out, "error: %s\n", c->credits_error);
	else
		rc |= buf_printf(out, "%.15g\n", c->balance);
	rc |= buf_printf(out, "spent_today: %.1f\n",
			 strcmp(day, c->spent_day) == 0 ? c->spent_today : 0.0);
	return rc ? -ENOMEM : 0;
}

int core_credits(struct core *c, struct buf *out)
{
	bool ask = false;
	int rc = -EAGAIN;

	buf_reset(out);
	pthread_mutex_lock(&c->lock);
	if (c->credits_known &&
	    seconds_since(&c->credits_at) < CREDITS_FRESH_SECONDS)
		rc = render_credits(c, out);
	else if (!c->credits_fetching)
		ask = c->credits_fetching = true;
	pthread_mutex_unlock(&c->lock);
	if (ask && c->hooks.credits_wanted)
		c->hooks.credits_wanted(c->hooks.ctx);
	return rc;
}

void core_credits_update(struct core *c, double balance, const char *code,
			 const char *message)
{
	pthread_mutex_lock(&c->lock);
	c->credits_known = true;
	c->credits_fetching = false;
	clock_gettime(CLOCK_MONOTONIC, &c->credits_at);
	c->balance = balance;
	if (code)
		snprintf(c->credits_error, sizeof(c->credits_error), "%s: %s",
			 code, message ? message : "");
	else
		c->credits_error[0] = '\0';
	pthread_mutex_unlock(&c->lock);
	if (c->hooks.credits_changed)
		c->hooks.credits_changed(c->hooks.ctx);
}
