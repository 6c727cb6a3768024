/* What the simulator answers: status, headers and body of one reply, the
 * error codes of doc/api.md with their types, and the MHD response that
 * delivers a reply whole, truncated or slowly (fault injection). */
#ifndef GPTIMGFS_SIM_REPLY_H
#define GPTIMGFS_SIM_REPLY_H

#include <microhttpd.h>

#include "faults.h"
#include "util/buf.h"

#define SIM_REPLY_MAX (256u << 20)

struct sim;

struct sim_reply {
	unsigned status;
	const char *content_type; /* a static string */
	const char *allow;	  /* Allow header for a 405, or NULL */
	char retry_after[64];	  /* Retry-After header when not "" */
	const char *location;	  /* Location header, or NULL */
	struct buf body;
};

void sim_reply_init(struct sim_reply *rep);
void sim_reply_free(struct sim_reply *rep);
/* Replace the reply with a doc/api.md error body:
 * {"error":{"code":CODE,"message":MESSAGE,"type":TYPE}}. */
void sim_reply_error(struct sim_reply *rep, unsigned status, const char *code,
		     const char *message);
/* Replace the reply with a redirect to location (kept by the caller until
 * the reply is delivered). */
void sim_reply_redirect(struct sim_reply *rep, unsigned status,
			const char *location);
/* Replace the reply with a 200 JSON body taken from b (b is emptied). */
void sim_reply_json(struct sim_reply *rep, struct buf *b);

/* The doc/api.md error table: the type of a code ("api_error" for codes the
 * table does not know), and its usual status and message (0 and a generic
 * message for unknown codes). */
const char *sim_error_type(const char *code);
unsigned sim_error_status(const char *code);
const char *sim_error_message(const char *code);
/* The code that goes with a status, for a fault rule that gives only one. */
const char *sim_error_code_for(unsigned status);

/* Build the MHD response for rep. The body is handed over (rep keeps an
 * empty one). A truncate fault announces the full length and ends with an
 * error after f->bytes; a slow fault sends small chunks spaced out over
 * f->delay_ms. NULL when out of memory. */
struct MHD_Response *sim_reply_response(struct sim_reply *rep,
					const struct sim_fault *f,
					struct sim *s);

#endif
