/* What this data directory spent on one UTC day, for the daily budget and
 * the credits file. Pure arithmetic on a given time, in millicredits (the
 * prices, 4.7 and so on, are exact there), so that a test can play it
 * across a midnight and a restart.
 *
 * A task's credits count on the day its creation was sent: from that
 * moment until the API answers they are held; then spent (created), given
 * back (not created, or refunded after failing), or in doubt (the answer
 * was lost: the API may have created and charged it). */
#ifndef GPTIMGFS_CORE_LEDGER_H
#define GPTIMGFS_CORE_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"

#define LEDGER_DAY_LEN 11 /* "YYYY-MM-DD" and its NUL */
#define LEDGER_NO_BUDGET (-1)

struct ledger {
	char day[LEDGER_DAY_LEN]; /* the day spent and doubt are for */
	int64_t spent;		  /* created that day, less what came back */
	int64_t doubt;		  /* sent that day, maybe created and charged */
	int64_t held;		  /* being sent now, whatever the day */
};

/* credits (>= 0) in millicredits, rounded to the nearest. */
int64_t core_ledger_mc(double credits);
#define LEDGER_AMOUNT_LEN 32
/* mc as credits, exactly, with one to three decimals: "14.1", "9.39",
 * "0.0". */
void core_ledger_amount(int64_t mc, char out[LEDGER_AMOUNT_LEN]);
/* The UTC day of t, "YYYY-MM-DD". */
void core_ledger_day(time_t t, char day[LEDGER_DAY_LEN]);
/* An empty ledger for the day of now. */
void core_ledger_init(struct ledger *l, time_t now);
/* What counts against the budget today: spent + in doubt + held. */
int64_t core_ledger_used(struct ledger *l, time_t now);
/* A creation of `price` is about to be sent: hold it and return true, or
 * return false (nothing held) when budget (LEDGER_NO_BUDGET: none) would be
 * exceeded. */
bool core_ledger_reserve(struct ledger *l, int64_t budget, int64_t price,
			 time_t now);
/* The API answered a creation that `sent` at that time: it created the task
 * (spent), it did not (nothing), or the answer was lost (in doubt). */
void core_ledger_created(struct ledger *l, int64_t price, time_t sent,
			 time_t now);
void core_ledger_not_created(struct ledger *l, int64_t price);
/* (A run that stopped while sending held what this run never held: the
 * held amount never goes below zero.) */
void core_ledger_lost(struct ledger *l, int64_t price, time_t sent, time_t now);
/* A created task failed and the API gave its credits back. */
void core_ledger_refunded(struct ledger *l, int64_t price, time_t sent,
			  time_t now);

/* The durable part (day, spent, doubt) as one line of JSON, and back: a
 * ledger of another day, or text that cannot be read, loads as an empty
 * ledger for the day of now. */
int core_ledger_to_json(const struct ledger *l, struct buf *out);
void core_ledger_from_json(struct ledger *l, const char *text, size_t len,
			   time_t now);

#endif
