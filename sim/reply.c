/* Replies: doc/api.md's error table, error bodies, and their delivery through
 * MHD, including the truncated and slow deliveries of fault rules. */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "sim_int.h"
#include "util/json.h"

#define SLOW_CHUNKS 16
#define BLOCK_SIZE 65536

struct error_kind {
	const char *code;
	unsigned status;
	const char *type;
	const char *message;
};

/* doc/api.md's table, plus the codes of the simulator's own 404 and 405. */
static const struct error_kind error_kinds[] = {
	{ "invalid_request", 400, "invalid_request_error",
	  "The request is invalid." },
	{ "invalid_api_key", 401, "authentication_error", "Invalid API key." },
	{ "insufficient_credits", 402, "billing_error",
	  "Your credit balance is too low. Please top up." },
	{ "ip_not_allowed", 403, "permission_error",
	  "Your IP address is not allowed to use this key." },
	{ "task_not_found", 404, "invalid_request_error",
	  "No task with that id." },
	{ "model_not_found", 404, "invalid_request_error",
	  "The model does not exist or is disabled." },
	{ "not_found", 404, "invalid_request_error", "No such endpoint." },
	{ "method_not_allowed", 405, "invalid_request_error",
	  "Method not allowed on this endpoint." },
	{ "rate_limit_exceeded", 429, "rate_limit_error",
	  "Too many requests: slow down." },
	{ "spend_limit_exceeded", 429, "billing_error",
	  "The key's spend limit is reached." },
	{ "internal_error", 500, "api_error", "Internal server error." },
	{ "upstream_error", 503, "upstream_error",
	  "The upstream model failed." },
};

static const struct error_kind *error_kind(const char *code)
{
	for (size_t i = 0; i < sizeof(error_kinds) / sizeof(*error_kinds); i++)
		if (strcmp(error_kinds[i].code, code) == 0)
			return &error_kinds[i];
	return NULL;
}

const char *sim_error_type(const char *code)
{
	const struct error_kind *k = error_kind(code);

	return k ? k->type : "api_error";
}

unsigned sim_error_status(const char *code)
{
	const struct error_kind *k = error_kind(code);

	return k ? k->status : 0;
}

const char *sim_error_message(const char *code)
{
	const struct error_kind *k = error_kind(code);

	return k ? k->message : "Simulated error.";
}

const char *sim_error_code_for(unsigned status)
{
	for (size_t i = 0; i < sizeof(error_kinds) / sizeof(*error_kinds); i++)
		if (error_kinds[i].status == status)
			return error_kinds[i].code;
	return status >= 500 ? "internal_error" : "invalid_request";
}

void sim_reply_init(struct sim_reply *rep)
{
	rep->status = 500;
	rep->content_type = "application/json";
	rep->allow = NULL;
	rep->retry_after[0] = '\0';
	rep->location = NULL;
	buf_init(&rep->body, SIM_REPLY_MAX);
}

void sim_reply_free(struct sim_reply *rep)
{
	buf_free(&rep->body);
}

void sim_reply_error(struct sim_reply *rep, unsigned status, const char *code,
		     const char *message)
{
	struct buf *b = &rep->body;

	buf_reset(b);
	rep->status = status;
	rep->content_type = "application/json";
	/* every piece is small: this cannot reach the maximum */
	buf_addstr(b, "{\"error\":{\"code\":");
	json_add_cstr(b, code);
	buf_addstr(b, ",\"message\":");
	json_add_cstr(b, message);
	buf_addstr(b, ",\"type\":");
	json_add_cstr(b, sim_error_type(code));
	buf_addstr(b, "}}");
}

void sim_reply_redirect(struct sim_reply *rep, unsigned status,
			const char *location)
{
	buf_reset(&rep->body);
	rep->status = status;
	rep->content_type = "text/plain";
	rep->location = location;
	buf_addstr(&rep->body, "Moved.\n");
}

void sim_reply_json(struct sim_reply *rep, struct buf *b)
{
	buf_free(&rep->body);
	rep->body = *b;
	buf_init(b, b->max);
	rep->status = 200;
	rep->content_type = "application/json";
}

/* A body delivered piece by piece: up to `limit` bytes of data, a pause
 * before each piece, then the end (with an error if limit < len). */
struct paced_body {
	struct sim *sim;
	char *data;
	size_t len;
	size_t limit;
	size_t chunk;
	unsigned pause_ms;
};

static ssize_t paced_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct paced_body *pb = cls;
	size_t n;

	if (pos >= pb->limit)
		return pb->limit < pb->len ? MHD_CONTENT_READER_END_WITH_ERROR :
					     MHD_CONTENT_READER_END_OF_STREAM;
	n = pb->limit - pos;
	if (n > max)
		n = max;
	if (n > pb->chunk)
		n = pb->chunk;
	if (pb->pause_ms && sim_pause(pb->sim, pb->pause_ms) < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	memcpy(out, pb->data + pos, n);
	return (ssize_t)n;
}

static void paced_free(void *cls)
{
	struct paced_body *pb = cls;

	free(pb->data);
	free(pb);
}

static struct MHD_Response *paced_response(struct sim_reply *rep,
					   const struct sim_fault *f,
					   struct sim *s)
{
	struct paced_body *pb = calloc(1, sizeof(*pb));
	struct MHD_Response *resp;

	if (!pb)
		return NULL;
	pb->sim = s;
	pb->len = rep->body.len;
	pb->data = buf_detach(&rep->body);
	if (!pb->data) {
		free(pb);
		return NULL;
	}
	pb->limit = pb->len;
	pb->chunk = BLOCK_SIZE;
	if (f->action == SIM_FAULT_TRUNCATE && f->bytes < pb->len)
		pb->limit = f->bytes;
	if (f->action == SIM_FAULT_SLOW) {
		pb->chunk = (pb->len + SLOW_CHUNKS - 1) / SLOW_CHUNKS;
		if (pb->chunk == 0)
			pb->chunk = 1;
		pb->pause_ms = f->delay_ms / SLOW_CHUNKS;
	}
	resp = MHD_create_response_from_callback(pb->len, BLOCK_SIZE,
						 paced_read, pb, paced_free);
	if (!resp)
		paced_free(pb);
	return resp;
}

struct MHD_Response *sim_reply_response(struct sim_reply *rep,
					const struct sim_fault *f,
					struct sim *s)
{
	struct MHD_Response *resp;

	if (f->action == SIM_FAULT_TRUNCATE || f->action == SIM_FAULT_SLOW) {
		resp = paced_response(rep, f, s);
	} else if (rep->body.len == 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"",
						       MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len = rep->body.len;
		char *data = buf_detach(&rep->body);

		if (!data)
			return NULL;
		resp = MHD_create_response_from_buffer(len, data,
						       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(data);
	}
	if (!resp)
		return NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				rep->content_type);
	if (rep->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					rep->allow);
	if (rep->location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
					rep->location);
	if (rep->retry_after[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
					rep->retry_after);
	return resp;
}
