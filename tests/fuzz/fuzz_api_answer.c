/* libFuzzer harness: the parsers of the API's answers (net/api.h). The
 * first byte picks the parser (and, for the error parser, the HTTP status;
 * for the task parser, whether an id is expected); the rest is the body,
 * in a buffer of exactly its size so that ASan sees any read past it.
 * The seeds in corpus/fuzz_api_answer/ start with a printable selector:
 * '`' creation; 'a' task, 'e' task with an expected id; 'b' balance, 'n'
 * balance with both totals; 'c' 'g' 'k' 'o' 's' 'w' '{' '?' error with
 * the status 400 401 402 403 404 429 500 503. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/api.h"

static const long statuses[] = { 400, 401, 402, 403, 404, 429, 500, 503 };

static void parse_create(const char *body, size_t len)
{
	char id[API_TASK_ID_MAX + 1], err[256];

	if (net_api_parse_create(body, len, id, sizeof(id), err, sizeof(err)) ==
		    0 &&
	    !net_api_task_id_valid(id))
		abort(); /* the parser promised a valid id */
}

static void parse_task(const char *body, size_t len, uint8_t sel)
{
	const char *expected =
		(sel & 4) ? "397ce9f2-c04e-4244-ac33-3af19a7cc297" : NULL;
	struct api_task t;
	char err[256];
	size_t i;

	if (net_api_parse_task(body, len, expected, &t, err, sizeof(err)) < 0)
		return;
	if ((t.status == API_COMPLETED) != (t.n_urls > 0) ||
	    t.n_urls > API_MAX_URLS)
		abort();
	for (i = 0; i < t.n_urls; i++)
		if (strlen(t.urls[i]) > API_URL_MAX)
			abort();
	net_api_task_free(&t);
}

static void parse_credits(const char *body, size_t len, uint8_t sel)
{
	double balance, purchased, consumed;
	char err[256];

	net_api_parse_credits(body, len, &balance,
			      (sel & 4) ? &purchased : NULL,
			      (sel & 8) ? &consumed : NULL, err, sizeof(err));
}

static void parse_error(const char *body, size_t len, uint8_t sel)
{
	struct api_error e;

	net_api_parse_error(statuses[(sel >> 2) % 8], body, len, &e);
	if (!e.code[0] || strlen(e.message) >= sizeof(e.message))
		abort(); /* e is always filled */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;
	char *body;
	size_t len;

	if (size < 1)
		return 0;
	sel = data[0];
	len = size - 1;
	/* malloc(0) may return NULL: keep one byte, pass only len of it */
	body = malloc(len ? len : 1);
	if (!body)
		return 0;
	memcpy(body, data + 1, len);
	switch (sel & 3) {
	case 0:
		parse_create(body, len);
		break;
	case 1:
		parse_task(body, len, sel);
		break;
	case 2:
		parse_credits(body, len, sel);
		break;
	case 3:
		parse_error(body, len, sel);
		break;
	}
	free(body);
	return 0;
}
