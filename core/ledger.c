/* The daily ledger: see ledger.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "util/json.h"

/* Far beyond any balance, and far from int64 overflow in the sums. */
#define LEDGER_MC_MAX (INT64_C(1) << 50)

int64_t core_ledger_mc(double credits)
{
	if (!(credits > 0))
		return 0;
	if (credits * 1000.0 >= (double)LEDGER_MC_MAX)
		return LEDGER_MC_MAX;
	return (int64_t)llround(credits * 1000.0);
}

void core_ledger_amount(int64_t mc, char out[LEDGER_AMOUNT_LEN])
{
	int n = snprintf(out, LEDGER_AMOUNT_LEN, "%lld.%03lld",
			 (long long)(mc / 1000), (long long)(mc % 1000));

	while (n > 0 && out[n - 1] == '0' && out[n - 2] != '.')
		out[--n] = '\0';
}

void core_ledger_day(time_t t, char day[LEDGER_DAY_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, LEDGER_DAY_LEN, "%Y-%m-%d", &tm);
}

void core_ledger_init(struct ledger *l, time_t now)
{
	memset(l, 0, sizeof(*l));
	core_ledger_day(now, l->day);
}

/* Move to the day of now; a new day starts with nothing spent or in doubt
 * (what is held stays held). */
static void ledger_roll(struct ledger *l, time_t now)
{
	char day[LEDGER_DAY_LEN];

	core_ledger_day(now, day);
	if (strcmp(day, l->day) == 0)
		return;
	memcpy(l->day, day, sizeof(day));
	l->spent = l->doubt = 0;
}

/* Does a creation sent at `sent` count on the ledger's day? */
static bool same_day(struct ledger *l, time_t sent, time_t now)
{
	char day[LEDGER_DAY_LEN];

	ledger_roll(l, now);
	core_ledger_day(sent, day);
	return strcmp(day, l->day) == 0;
}

static void add(int64_t *counter, int64_t mc)
{
	*counter += mc;
	if (*counter < 0)
		*counter = 0;
}

int64_t core_ledger_used(struct ledger *l, time_t now)
{
	ledger_roll(l, now);
	return l->spent + l->doubt + l->held;
}

bool core_ledger_reserve(struct ledger *l, int64_t budget, int64_t price,
			 time_t now)
{
	if (budget != LEDGER_NO_BUDGET &&
	    core_ledger_used(l, now) + price > budget)
		return false;
	add(&l->held, price);
	return true;
}

void core_ledger_created(struct ledger *l, int64_t price, time_t sent,
			 time_t now)
{
	add(&l->held, -price);
	if (same_day(l, sent, now))
		add(&l->spent, price);
}

void core_ledger_not_created(struct ledger *l, int64_t price)
{
	add(&l->held, -price);
}

void core_ledger_lost(struct ledger *l, int64_t price, time_t sent, time_t now)
{
	add(&l->held, -price);
	if (same_day(l, sent, now))
		add(&l->doubt, price);
}

void core_ledger_refunded(struct ledger *l, int64_t price, time_t sent,
			  time_t now)
{
	if (same_day(l, sent, now))
		add(&l->spent, -price);
}

int core_ledger_to_json(const struct ledger *l, struct buf *out)
{
	buf_reset(out);
	/* "credits" is what earlier versions called the spent amount */
	return buf_printf(
		       out,
		       "{\"day\":\"%s\",\"credits\":%.3f,\"possibly\":%.3f}\n",
		       l->day, (double)l->spent / 1000.0,
		       (double)l->doubt / 1000.0) < 0 ?
		       -1 :
		       0;
}

static int64_t member_mc(const struct json_doc *doc, const char *key)
{
	double d = 0;

	if (json_get_number(doc, json_get(doc, 0, key), &d) < 0 || !isfinite(d))
		return 0;
	return core_ledger_mc(d);
}

void core_ledger_from_json(struct ledger *l, const char *text, size_t len,
			   time_t now)
{
	struct json_doc doc;
	char *day;

	core_ledger_init(l, now);
	if (json_parse(&doc, text, len, 16) < 0)
		return;
	if (!json_is_object(&doc, 0)) {
		json_doc_free(&doc);
		return;
	}
	day = json_member_string(&doc, 0, "day", 16);
	if (day && strcmp(day, l->day) == 0) {
		l->spent = member_mc(&doc, "credits");
		l->doubt = member_mc(&doc, "possibly");
	}
	free(day);
	json_doc_free(&doc);
}
