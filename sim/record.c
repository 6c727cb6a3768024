/* Counters, the log of create requests and the prompt counts. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"
#include "util/array.h"
#include "util/json.h"

void sim_record_init(struct sim_record *rec)
{
	memset(rec, 0, sizeof(*rec));
}

void sim_record_free(struct sim_record *rec)
{
	for (size_t i = 0; i < rec->log_n; i++)
		free(rec->log[(rec->log_first + i) % SIM_LOG_MAX].body);
	for (size_t i = 0; i < rec->prompts_n; i++)
		free(rec->prompts[i].prompt);
	free(rec->prompts);
	sim_record_init(rec);
}

static void drop_oldest(struct sim_record *rec)
{
	struct sim_logged *old = &rec->log[rec->log_first];

	rec->log_bytes -= old->len;
	free(old->body);
	old->body = NULL;
	rec->log_first = (rec->log_first + 1) % SIM_LOG_MAX;
	rec->log_n--;
}

void sim_record_request(struct sim_record *rec, unsigned status,
			const char *body, size_t len)
{
	struct sim_logged *slot;
	char *copy;

	if (len > SIM_LOG_BYTES)
		len = SIM_LOG_BYTES;
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, body, len);
	copy[len] = '\0';
	while (rec->log_n == SIM_LOG_MAX ||
	       (rec->log_n && rec->log_bytes + len > SIM_LOG_BYTES))
		drop_oldest(rec);
	slot = &rec->log[(rec->log_first + rec->log_n) % SIM_LOG_MAX];
	slot->status = status;
	slot->body = copy;
	slot->len = len;
	slot->json = sim_json_valid(copy, len);
	rec->log_n++;
	rec->log_bytes += len;
}

void sim_record_prompt(struct sim_record *rec, const char *prompt)
{
	size_t len = strlen(prompt);
	struct sim_prompt_count *p;

	for (size_t i = 0; i < rec->prompts_n; i++) {
		if (strcmp(rec->prompts[i].prompt, prompt) == 0) {
			rec->prompts[i].count++;
			return;
		}
	}
	/* past the limits new prompts go uncounted: a test sends far fewer */
	if (rec->prompts_n >= SIM_PROMPTS_MAX ||
	    rec->prompts_bytes + len > SIM_PROMPTS_BYTES)
		return;
	p = array_reserve(rec->prompts, rec->prompts_n, &rec->prompts_cap,
			  sizeof(*p), SIM_PROMPTS_MAX);
	if (!p)
		return;
	rec->prompts = p;
	p = &rec->prompts[rec->prompts_n];
	p->prompt = strdup(prompt);
	if (!p->prompt)
		return;
	p->count = 1;
	rec->prompts_n++;
	rec->prompts_bytes += len;
}

int sim_record_requests_json(const struct sim_record *rec, struct buf *b)
{
	int rc = buf_addstr(b, "[");

	for (size_t i = 0; i < rec->log_n && rc == 0; i++) {
		const struct sim_logged *l =
			&rec->log[(rec->log_first + i) % SIM_LOG_MAX];

		rc = buf_printf(b, "%s{\"status\":%u,\"body\":", i ? "," : "",
				l->status);
		if (rc == 0 && l->json)
			rc = buf_add(b, l->body, l->len);
		else if (rc == 0)
			rc = sim_json_add_lossy(b, l->body, l->len);
		if (rc == 0)
			rc = buf_addstr(b, "}");
	}
	return rc ? -1 : buf_addstr(b, "]");
}

int sim_record_prompts_json(const struct sim_record *rec, struct buf *b)
{
	int rc = buf_addstr(b, "{");

	for (size_t i = 0; i < rec->prompts_n && rc == 0; i++) {
		rc = buf_addstr(b, i ? "," : "");
		if (rc == 0)
			rc = json_add_cstr(b, rec->prompts[i].prompt);
		if (rc == 0)
			rc = buf_printf(b, ":%lu", rec->prompts[i].count);
	}
	return rc ? -1 : buf_addstr(b, "}");
}
