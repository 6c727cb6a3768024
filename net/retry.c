/* The one retry policy: see retry.h.
 *
 * Why these rules (gptimgfs(1), RETRIES). A creation spends credits, so it
 * is sent again only when we know the API did not create the task: it
 * answered so (429 rate_limit_exceeded, 500, 503: the request was refused
 * or failed before a task existed), or nothing ever left (connection
 * refused, DNS failure). When the request may have left and its answer was
 * lost (a timeout after sending, a reset, an empty reply), the task may
 * exist and be charged: it is never sent again; the job fails with
 * "interrupted" instead. A creation that never reached the API waits for
 * it (up to a day) without using up its attempts: an outage is not the
 * API's answer. A redirect is never followed (the key goes to api_url
 * only, and a creation is never sent twice): to a creation it is a
 * refusal, as nothing was created; to a read it is transient, as a proxy
 * or a captive portal in the way may go. Polls, downloads and balance reads are reads:
 * repeating them costs nothing, so every transport fault, 408, 429 (except
 * spend_limit_exceeded) and 5xx is retried. The 4xx answers that mean
 * "this request is wrong" (400 401 402 403 404) and a spend limit are not
 * retried anywhere: the same request would get the same answer, and the job
 * must fail and say why. */
#include "retry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <locale.h>
#include <math.h>
#include <string.h>

static const struct retry_limits limits[] = {
	[REQ_CREATE] = { RETRY_CREATE_ATTEMPTS, RETRY_CREATE_BASE,
			 RETRY_CREATE_CAP },
	[REQ_POLL] = { RETRY_POLL_ATTEMPTS, RETRY_POLL_BASE, RETRY_POLL_CAP },
	[REQ_DOWNLOAD] = { RETRY_DOWNLOAD_ATTEMPTS, RETRY_DOWNLOAD_BASE,
			   RETRY_DOWNLOAD_CAP },
	[REQ_CREDITS] = { RETRY_CREDITS_ATTEMPTS, RETRY_CREDITS_BASE,
			  RETRY_CREDITS_CAP },
};

const struct retry_limits *net_retry_limits(enum api_request_kind kind)
{
	if ((unsigned)kind >= sizeof(limits) / sizeof(limits[0]))
		return &limits[REQ_CREDITS]; /* the most modest */
	return &limits[kind];
}

enum transport_result net_retry_transport_from_curl(int curl_code,
						    bool request_sent)
{
	switch (curl_code) {
	case CURLE_OK:
		return TRANSPORT_OK;
	/* failures before the request: after them nothing left, unless
	 * curl says otherwise */
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_OPERATION_TIMEDOUT:
		return request_sent ? TRANSPORT_LOST : TRANSPORT_CONNECT_FAILED;
	/* our own refusals and mistakes: the same request fails the same
	 * way (the write callback refuses a body over its cap) */
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_WRITE_ERROR:
	case CURLE_READ_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_FAILED_INIT:
		return TRANSPORT_FATAL;
	/* send and receive errors, empty replies, partial bodies, and
	 * whatever else: the request may have left */
	default:
		return TRANSPORT_LOST;
	}
}

static enum retry_verdict classify_status(enum api_request_kind kind,
					  long status, const char *code)
{
	if (code && strcmp(code, "spend_limit_exceeded") == 0)
		return RETRY_NO;
	if (kind == REQ_CREATE) {
		if (status == 429 && code &&
		    strcmp(code, "rate_limit_exceeded") == 0)
			return RETRY_YES;
		return status == 500 || status == 503 ? RETRY_YES : RETRY_NO;
	}
	if (status >= 300 && status <= 399)
		return kind == REQ_DOWNLOAD ? RETRY_NO : RETRY_YES;
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return RETRY_YES;
	return RETRY_NO;
}

enum retry_verdict net_retry_classify(enum api_request_kind kind,
				      enum transport_result transport,
				      bool request_sent, long http_status,
				      const char *error_code)
{
	if (transport == TRANSPORT_OK)
		return classify_status(kind, http_status, error_code);
	if (transport == TRANSPORT_CONNECT_FAILED && !request_sent)
		return kind == REQ_CREATE ? RETRY_UNREACHED : RETRY_YES;
	if (transport == TRANSPORT_CONNECT_FAILED ||
	    transport == TRANSPORT_LOST)
		return kind == REQ_CREATE ? RETRY_NO : RETRY_YES;
	return RETRY_NO; /* TRANSPORT_FATAL */
}

/* splitmix64: tiny, good enough for jitter, and the state is the
 * caller's, so tests are deterministic. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double net_retry_delay(unsigned attempt, double base, double cap,
		       double retry_after, uint64_t *rng_state)
{
	double ceiling, unit, delay;

	if (!(base > 0)) /* also NaN */
		base = 0;
	if (!(cap > 0))
		cap = 0;
	if (cap > RETRY_DELAY_MAX)
		cap = RETRY_DELAY_MAX;
	ceiling = attempt >= 64 ? cap : fmin(cap, ldexp(base, (int)attempt));
	unit = (double)(next_random(rng_state) >> 11) * 0x1.0p-53;
	delay = unit * ceiling;
	if (retry_after > 0 && delay < retry_after) /* NaN: ignored */
		delay = fmin(retry_after, RETRY_DELAY_MAX);
	return delay;
}

double net_retry_unreached_delay(unsigned tries, double waited,
				 uint64_t *rng_state)
{
	if (!(waited < RETRY_UNREACHED_FOR)) /* also NaN */
		return -1;
	return net_retry_delay(tries ? tries - 1 : 0, RETRY_UNREACHED_BASE,
			       RETRY_UNREACHED_CAP, 0, rng_state);
}

/* The HTTP-date forms of RFC 9110 section 5.6.7, in the C locale: the
 * preferred one, RFC 850's and asctime's. */
static int parse_http_date(const char *s, time_t *t)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",
		"%A, %d-%b-%y %H:%M:%S GMT",
		"%a %b %d %H:%M:%S %Y",
	};
	locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	const char *end;
	struct tm tm;
	size_t i;
	int rc = -1;

	if (c_locale == (locale_t)0)
		return -1;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime_l(s, formats[i], &tm, c_locale);
		if (end && *end == '\0') {
			*t = timegm(&tm);
			rc = *t == (time_t)-1 ? -1 : 0;
			break;
		}
	}
	freelocale(c_locale);
	return rc;
}

int net_retry_parse_retry_after(const char *value, time_t now, double *seconds)
{
	char text[64];
	size_t start = 0, end, i;
	double v = 0;
	time_t t;

	if (!value)
		return -1;
	end = strlen(value);
	while (start < end && isspace((unsigned char)value[start]))
		start++;
	while (end > start && isspace((unsigned char)value[end - 1]))
		end--;
	if (start == end)
		return -1;
	for (i = start; i < end && isdigit((unsigned char)value[i]); i++)
		if (v <= RETRY_DELAY_MAX) /* more digits only grow it */
			v = v * 10 + (value[i] - '0');
	if (i == end) {
		*seconds = fmin(v, RETRY_DELAY_MAX);
		return 0;
	}
	if (end - start >= sizeof(text))
		return -1;
	memcpy(text, value + start, end - start);
	text[end - start] = '\0';
	if (parse_http_date(text, &t) < 0)
		return -1;
	v = difftime(t, now);
	*seconds = v < 0 ? 0 : fmin(v, RETRY_DELAY_MAX);
	return 0;
}
