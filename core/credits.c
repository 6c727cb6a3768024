/* The credits file (gptimgfs(1), FILES): the balance as the API last
 * reported it, asked for at most once every few seconds; what this data
 * directory's tasks cost today (UTC), kept in DATA_DIR/spent.json across
 * restarts (ledger.h); and the daily budget that creations must fit in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/json.h"
#include "util/log.h"

#define CREDITS_FRESH_SECONDS 5.0

/* spent.json is a statistic and a budget: replaced atomically, not
 * worth an fsync on every task (a power loss forgets the last few). Under
 * the lock: written with the records, after it (core_write_later). */
static void ledger_save(struct core *c)
{
	struct buf b;

	buf_init(&b, 256);
	if (core_ledger_to_json(&c->ledger, &b) < 0)
		log_warn("cannot record today's spending in %s/spent.json",
			 c->store.path);
	else
		core_write_later(c, c->store.dir_fd, "spent.json", &b);
	buf_free(&b);
}

void core_credits_load(struct core *c)
{
	struct buf b;

	buf_init(&b, 4096);
	if (core_store_read_file(c->store.dir_fd, "spent.json", 4096, &b) == 0)
		core_ledger_from_json(&c->ledger, b.data, b.len, time(NULL));
	else
		core_ledger_init(&c->ledger, time(NULL));
	buf_free(&b);
}

void core_set_daily_budget(struct core *c, double credits)
{
	core_lock(c);
	c->budget = credits < 0 ? LEDGER_NO_BUDGET : core_ledger_mc(credits);
	core_unlock(c);
}

int core_charge_reserve(struct core *c, struct task *t)
{
	char budget[LEDGER_AMOUNT_LEN], used[LEDGER_AMOUNT_LEN],
		doubt[LEDGER_AMOUNT_LEN], price[LEDGER_AMOUNT_LEN];
	int64_t mc = core_ledger_mc(core_task_price(t));
	time_t now = time(NULL);

	if (!core_ledger_reserve(&c->ledger, c->budget, mc, now)) {
		core_ledger_amount(c->budget, budget);
		core_ledger_amount(core_ledger_used(&c->ledger, now), used);
		core_ledger_amount(c->ledger.doubt, doubt);
		core_ledger_amount(mc, price);
		t->state = TASK_FAILED;
		snprintf(
			t->error, sizeof(t->error),
			"budget_exceeded: the daily budget is %s credits; "
			"%s are spent or being sent today (%s of them possibly "
			"spent) and this task costs %s; nothing was sent "
			"(write the prompt again after midnight UTC, or raise "
			"daily_budget)",
			budget, used, doubt, price);
		return -EDQUOT;
	}
	t->sent = now;
	t->charge = CHARGE_HELD;
	return 0;
}

void core_charge_created(struct core *c, struct task *t)
{
	core_ledger_created(&c->ledger, core_ledger_mc(core_task_price(t)),
			    t->sent, time(NULL));
	t->charge = CHARGE_SPENT;
	ledger_save(c);
}

void core_charge_not_created(struct core *c, struct task *t)
{
	core_ledger_not_created(&c->ledger, core_ledger_mc(core_task_price(t)));
	t->charge = CHARGE_NONE;
}

void core_charge_lost(struct core *c, struct task *t)
{
	core_ledger_lost(&c->ledger, core_ledger_mc(core_task_price(t)),
			 t->sent, time(NULL));
	t->charge = CHARGE_DOUBT;
	ledger_save(c);
}

void core_charge_refunded(struct core *c, struct task *t)
{
	core_ledger_refunded(&c->ledger, core_ledger_mc(core_task_price(t)),
			     t->sent, time(NULL));
	t->charge = CHARGE_REFUNDED;
	ledger_save(c);
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
	char spent[LEDGER_AMOUNT_LEN], doubt[LEDGER_AMOUNT_LEN],
		budget[LEDGER_AMOUNT_LEN], left[LEDGER_AMOUNT_LEN];
	int64_t used = core_ledger_used(&c->ledger, time(NULL));
	int rc = 0;

	if (c->credits_error[0])
		rc |= buf_printf(out, "error: %s\n", c->credits_error);
	else
		rc |= buf_printf(out, "%.15g\n", c->balance);
	core_ledger_amount(c->ledger.spent, spent);
	core_ledger_amount(c->ledger.doubt, doubt);
	rc |= buf_printf(out, "spent_today: %s\npossibly_spent_today: %s\n",
			 spent, doubt);
	if (c->budget != LEDGER_NO_BUDGET) {
		core_ledger_amount(c->budget, budget);
		core_ledger_amount(used < c->budget ? c->budget - used : 0,
				   left);
		rc |= buf_printf(out, "budget: %s\nbudget_left: %s\n", budget,
				 left);
	}
	return rc ? -ENOMEM : 0;
}

size_t core_credits_size(struct core *c)
{
	struct buf text;
	size_t size = 0;

	buf_init(&text, 64 * 1024);
	core_lock(c);
	if (c->credits_known && render_credits(c, &text) == 0)
		size = text.len;
	core_unlock(c);
	buf_free(&text);
	return size;
}

int core_credits(struct core *c, struct buf *out)
{
	bool ask = false;
	int rc = -EAGAIN;

	buf_reset(out);
	core_lock(c);
	if (c->credits_known &&
	    seconds_since(&c->credits_at) < CREDITS_FRESH_SECONDS)
		rc = render_credits(c, out);
	else if (!c->credits_fetching)
		ask = c->credits_fetching = true;
	core_unlock(c);
	if (ask && c->hooks.credits_wanted)
		c->hooks.credits_wanted(c->hooks.ctx);
	return rc;
}

void core_credits_update(struct core *c, double balance, const char *code,
			 const char *message)
{
	core_lock(c);
	c->credits_known = true;
	c->credits_fetching = false;
	clock_gettime(CLOCK_MONOTONIC, &c->credits_at);
	c->balance = balance;
	if (code)
		snprintf(c->credits_error, sizeof(c->credits_error), "%s: %s",
			 code, message ? message : "");
	else
		c->credits_error[0] = '\0';
	core_unlock(c);
	if (c->hooks.credits_changed)
		c->hooks.credits_changed(c->hooks.ctx);
}
