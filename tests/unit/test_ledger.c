/* The daily ledger behind daily_budget and the credits file: what counts on
 * which UTC day, across a midnight and across a restart (its JSON form). */
#include <stdint.h>

#include "check.h"
#include "core/ledger.h"

#define DAY1_2359 ((time_t)1796255970) /* 2026-12-02T23:59:30Z */
#define DAY2_0001 (DAY1_2359 + 90)     /* 2026-12-03T00:01:00Z */

static const int64_t p1k = 4700, p2k = 9400;

static void test_units(void)
{
	char day[LEDGER_DAY_LEN], amount[LEDGER_AMOUNT_LEN];

	CHECK(core_ledger_mc(4.7) == 4700);
	CHECK(core_ledger_mc(14.1) == 14100);
	CHECK(core_ledger_mc(0.0005) == 1);
	CHECK(core_ledger_mc(0) == 0);
	CHECK(core_ledger_mc(-3) == 0);
	CHECK(core_ledger_mc(1e300) > 0);
	core_ledger_amount(14100, amount);
	CHECK_STR(amount, "14.1");
	core_ledger_amount(9390, amount);
	CHECK_STR(amount, "9.39");
	core_ledger_amount(4750, amount);
	CHECK_STR(amount, "4.75");
	core_ledger_amount(1, amount);
	CHECK_STR(amount, "0.001");
	core_ledger_amount(0, amount);
	CHECK_STR(amount, "0.0");
	core_ledger_amount(10000, amount);
	CHECK_STR(amount, "10.0");
	core_ledger_day(DAY1_2359, day);
	CHECK_STR(day, "2026-12-02");
	core_ledger_day(DAY2_0001, day);
	CHECK_STR(day, "2026-12-03");
}

/* The budget admits exactly what fits: used + price <= budget. */
static void test_budget_edges(void)
{
	struct ledger l;
	int64_t budget = core_ledger_mc(14.1);

	core_ledger_init(&l, DAY1_2359);
	CHECK(core_ledger_reserve(&l, budget, p1k, DAY1_2359));
	CHECK(core_ledger_reserve(&l, budget, p2k, DAY1_2359));
	CHECK(l.held == 14100 && core_ledger_used(&l, DAY1_2359) == 14100);
	CHECK(!core_ledger_reserve(&l, budget, 1, DAY1_2359));
	CHECK(l.held == 14100);
	/* held, then spent: the same count against the budget */
	core_ledger_created(&l, p1k, DAY1_2359, DAY1_2359);
	core_ledger_created(&l, p2k, DAY1_2359, DAY1_2359);
	CHECK(l.held == 0 && l.spent == 14100);
	CHECK(!core_ledger_reserve(&l, budget, p1k, DAY1_2359));
	/* a creation the API refused gives its hold back */
	CHECK(core_ledger_reserve(&l, LEDGER_NO_BUDGET, p1k, DAY1_2359));
	core_ledger_not_created(&l, p1k);
	CHECK(core_ledger_used(&l, DAY1_2359) == 14100);
	/* a refund makes room again */
	core_ledger_refunded(&l, p2k, DAY1_2359, DAY1_2359);
	CHECK(l.spent == 4700);
	CHECK(core_ledger_reserve(&l, budget, p2k, DAY1_2359));
	/* no budget: anything goes */
	CHECK(core_ledger_reserve(&l, LEDGER_NO_BUDGET, INT64_C(1) << 40,
				  DAY1_2359));
}

/* A lost answer keeps the credits counted, as possibly spent. */
static void test_doubt(void)
{
	struct ledger l;

	core_ledger_init(&l, DAY1_2359);
	CHECK(core_ledger_reserve(&l, 10000, p1k, DAY1_2359));
	core_ledger_lost(&l, p1k, DAY1_2359, DAY1_2359);
	CHECK(l.held == 0 && l.doubt == 4700 && l.spent == 0);
	CHECK(core_ledger_used(&l, DAY1_2359) == 4700);
	CHECK(!core_ledger_reserve(&l, 10000, 5400, DAY1_2359));
	CHECK(core_ledger_reserve(&l, 10000, 5300, DAY1_2359));
	/* a run that stopped while sending held nothing in this one */
	core_ledger_init(&l, DAY1_2359);
	core_ledger_lost(&l, p2k, DAY1_2359, DAY1_2359);
	CHECK(l.held == 0 && l.doubt == 9400);
}

/* At midnight UTC the day's spending starts at zero; what is on the wire
 * stays held; a creation sent yesterday counts on yesterday, also when it
 * is answered or refunded today. */
static void test_midnight(void)
{
	struct ledger l;
	int64_t budget = 10000;

	core_ledger_init(&l, DAY1_2359);
	CHECK(core_ledger_reserve(&l, budget, p1k, DAY1_2359));
	core_ledger_created(&l, p1k, DAY1_2359, DAY1_2359);
	CHECK(core_ledger_reserve(&l, budget, p1k, DAY1_2359));
	CHECK(!core_ledger_reserve(&l, budget, p1k, DAY1_2359));

	CHECK(core_ledger_used(&l, DAY2_0001) == 4700); /* the one held */
	CHECK_STR(l.day, "2026-12-03");
	CHECK(l.spent == 0 && l.doubt == 0);
	CHECK(core_ledger_reserve(&l, budget, p1k, DAY2_0001));
	core_ledger_created(&l, p1k, DAY1_2359, DAY2_0001); /* yesterday's */
	CHECK(l.spent == 0 && l.held == 4700);
	core_ledger_created(&l, p1k, DAY2_0001, DAY2_0001);
	CHECK(l.spent == 4700 && l.held == 0);
	/* yesterday's task refunded today leaves today's count alone */
	core_ledger_refunded(&l, p1k, DAY1_2359, DAY2_0001);
	CHECK(l.spent == 4700);
	/* yesterday's lost answer is not today's doubt */
	core_ledger_lost(&l, p1k, DAY1_2359, DAY2_0001);
	CHECK(l.doubt == 0);
}

static void from_text(struct ledger *l, const char *text)
{
	core_ledger_from_json(l, text, strlen(text), DAY1_2359);
}

/* spent.json: a restart the same day finds spent and possibly spent; one
 * on another day, or an unreadable file, starts the day empty. */
static void test_restart(void)
{
	struct ledger l, back;
	struct buf b;

	buf_init(&b, 256);
	core_ledger_init(&l, DAY1_2359);
	l.spent = 14100;
	l.doubt = 4700;
	l.held = 9400; /* in memory only: a restart resolves it */
	CHECK(core_ledger_to_json(&l, &b) == 0);
	CHECK_STR(buf_str(&b), "{\"day\":\"2026-12-02\",\"credits\":14.100,"
			       "\"possibly\":4.700}\n");
	core_ledger_from_json(&back, b.data, b.len, DAY1_2359 + 10);
	CHECK_STR(back.day, "2026-12-02");
	CHECK(back.spent == 14100 && back.doubt == 4700 && back.held == 0);

	core_ledger_from_json(&back, b.data, b.len, DAY2_0001);
	CHECK_STR(back.day, "2026-12-03");
	CHECK(back.spent == 0 && back.doubt == 0);

	/* an earlier version's file: no "possibly" */
	from_text(&back, "{\"day\":\"2026-12-02\",\"credits\":9.4}");
	CHECK(back.spent == 9400 && back.doubt == 0);
	/* garbage, and numbers that are no amounts */
	from_text(&back, "[1,2");
	CHECK(back.spent == 0 && back.doubt == 0);
	from_text(&back, "[\"2026-12-02\"]");
	CHECK(back.spent == 0 && back.doubt == 0);
	from_text(&back, "{\"day\":\"2026-12-02\",\"credits\":-5,"
			 "\"possibly\":\"x\"}");
	CHECK(back.spent == 0 && back.doubt == 0);
	buf_free(&b);
}

int main(void)
{
	test_units();
	test_budget_edges();
	test_doubt();
	test_midnight();
	test_restart();
	return check_result("test_ledger");
}
