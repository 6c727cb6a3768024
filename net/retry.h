/* The one retry policy (gptimgfs(1), RETRIES): which failures are retried, for
 * which request, how often and after how long. The network thread asks
 * here and nowhere else. No curl types in this header. */
#ifndef GPTIMGFS_RETRY_H
#define GPTIMGFS_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum api_request_kind {
	REQ_CREATE,   /* POST /v1/images/generations: spends credits */
	REQ_POLL,     /* GET /v1/tasks/{id} */
	REQ_DOWNLOAD, /* GET of an output URL */
	REQ_CREDITS,  /* GET /v1/credits */
};

/* How a transfer ended, below HTTP. */
enum transport_result {
	/* a whole HTTP answer arrived */
	TRANSPORT_OK,
	/* nothing was sent: DNS failure, connection refused, no route, TLS
	 * handshake failed */
	TRANSPORT_CONNECT_FAILED,
	/* the request (or part of it) may have been sent and its answer was
	 * lost: timeout, reset, empty reply, partial body */
	TRANSPORT_LOST,
	/* a failure retrying cannot fix: malformed URL, protocol not
	 * allowed, answer over its size cap, out of memory */
	TRANSPORT_FATAL,
};

enum retry_verdict {
	RETRY_NO,
	RETRY_YES,
	/* a creation that never reached the API (nothing was sent): tried
	 * again apart from its attempts, see net_retry_unreached_delay */
	RETRY_UNREACHED,
};

/* Attempts in all (the first one included) and backoff, per kind; 0
 * attempts means no limit. Creation gives up after about a minute of
 * refusals (the job goes back to queued or fails, saying why); a poll
 * never gives up on a transient error, backing off up to a minute (the
 * image is paid for). */
#define RETRY_CREATE_ATTEMPTS 5
#define RETRY_CREATE_BASE 4.0
#define RETRY_CREATE_CAP 30.0
#define RETRY_POLL_ATTEMPTS 0
#define RETRY_POLL_BASE 1.0
#define RETRY_POLL_CAP 60.0
#define RETRY_DOWNLOAD_ATTEMPTS 6
#define RETRY_DOWNLOAD_BASE 1.0
#define RETRY_DOWNLOAD_CAP 30.0
#define RETRY_CREDITS_ATTEMPTS 3
#define RETRY_CREDITS_BASE 0.5
#define RETRY_CREDITS_CAP 4.0
/* A creation that cannot reach the API waits for it, backing off up to
 * about a minute, for at most a day; these tries are not attempts. */
#define RETRY_UNREACHED_BASE 2.0
#define RETRY_UNREACHED_CAP 60.0
#define RETRY_UNREACHED_FOR (24 * 3600.0)
/* No wait is ever longer, whatever a Retry-After says. */
#define RETRY_DELAY_MAX 300.0

struct retry_limits {
	unsigned attempts; /* 0: no limit */
	double base, cap;  /* seconds, for net_retry_delay */
};

const struct retry_limits *net_retry_limits(enum api_request_kind kind);

/* How a curl result (a CURLcode) maps onto the transport results.
 * request_sent: curl reported request bytes sent (CURLINFO_REQUEST_SIZE >
 * 0); a failure after that is TRANSPORT_LOST, never "nothing sent". */
enum transport_result net_retry_transport_from_curl(int curl_code,
						    bool request_sent);

/* Retry this failure? transport as above; request_sent as above (a
 * creation whose bytes may have left is never retried; one that certainly
 * never reached the API is RETRY_UNREACHED); http_status and error_code
 * (the API's "error.code", or NULL) matter only when transport is
 * TRANSPORT_OK. A redirect (3xx, never followed) is transient for a poll
 * or a balance read and a refusal for a creation. Says nothing about
 * attempts: see net_retry_limits. */
enum retry_verdict net_retry_classify(enum api_request_kind kind,
				      enum transport_result transport,
				      bool request_sent, long http_status,
				      const char *error_code);

/* Seconds to wait before retry number attempt (0 for the first retry):
 * uniform in [0, min(cap, base * 2^attempt)] ("full jitter"), but at least
 * retry_after when that is > 0, and never more than RETRY_DELAY_MAX.
 * rng_state is the caller's (any seed; tests use a fixed one). */
double net_retry_delay(unsigned attempt, double base, double cap,
		       double retry_after, uint64_t *rng_state);

/* Seconds to wait before the next try of a creation that has not reached
 * the API in tries tries (1 after the first) over waited seconds: as
 * net_retry_delay with RETRY_UNREACHED_BASE and _CAP; -1 once waited reaches
 * RETRY_UNREACHED_FOR (give up). */
double net_retry_unreached_delay(unsigned tries, double waited,
				 uint64_t *rng_state);

/* A Retry-After header value, either delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"; also the obsolete RFC 850 and asctime
 * forms), as seconds from now: a date in the past gives 0, anything over
 * RETRY_DELAY_MAX gives RETRY_DELAY_MAX. Surrounding blanks are ignored.
 * 0, or -1 when the value is neither form. */
int net_retry_parse_retry_after(const char *value, time_t now, double *seconds);

#endif
