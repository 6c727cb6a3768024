/* net/retry: which failures are retried (gptimgfs(1), RETRIES), backoff with
 * jitter, Retry-After. */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "net/retry.h"

#define NO RETRY_NO
#define YES RETRY_YES
#define WAIT RETRY_UNREACHED

/* An HTTP answer arrived with this status and error code. */
static enum retry_verdict http(enum api_request_kind kind, long status,
			       const char *code)
{
	return net_retry_classify(kind, TRANSPORT_OK, true, status, code);
}

static void test_classify_create(void)
{
	const enum api_request_kind c = REQ_CREATE;

	/* nothing reached the API: safe to send, once it can be reached */
	CHECK(net_retry_classify(c, TRANSPORT_CONNECT_FAILED, false, 0, NULL) ==
	      WAIT);
	/* the answer was lost: the task may exist, never again */
	CHECK(net_retry_classify(c, TRANSPORT_LOST, true, 0, NULL) == NO);
	CHECK(net_retry_classify(c, TRANSPORT_LOST, false, 0, NULL) == NO);
	CHECK(net_retry_classify(c, TRANSPORT_CONNECT_FAILED, true, 0, NULL) ==
	      NO);
	CHECK(net_retry_classify(c, TRANSPORT_FATAL, false, 0, NULL) == NO);
	CHECK(net_retry_classify(c, TRANSPORT_FATAL, true, 0, NULL) == NO);
	/* the API said it did not create it */
	CHECK(http(c, 429, "rate_limit_exceeded") == YES);
	CHECK(http(c, 500, "internal_error") == YES);
	CHECK(http(c, 500, NULL) == YES);
	CHECK(http(c, 503, "upstream_error") == YES);
	CHECK(http(c, 503, NULL) == YES);
	/* everything else ends the job */
	CHECK(http(c, 429, "spend_limit_exceeded") == NO);
	CHECK(http(c, 429, NULL) == NO);
	CHECK(http(c, 429, "http_429") == NO);
	CHECK(http(c, 400, "invalid_request") == NO);
	CHECK(http(c, 401, "invalid_api_key") == NO);
	CHECK(http(c, 402, "insufficient_credits") == NO);
	CHECK(http(c, 403, "ip_not_allowed") == NO);
	CHECK(http(c, 404, "model_not_found") == NO);
	CHECK(http(c, 408, NULL) == NO);
	CHECK(http(c, 501, NULL) == NO);
	CHECK(http(c, 502, NULL) == NO);
	CHECK(http(c, 502, "http_502") == NO);
	CHECK(http(c, 504, NULL) == NO);
	CHECK(http(c, 200, NULL) == NO);
	/* a redirect is never followed: nothing was created */
	CHECK(http(c, 301, NULL) == NO);
	CHECK(http(c, 302, NULL) == NO);
	CHECK(http(c, 302, "redirected") == NO);
	CHECK(http(c, 303, NULL) == NO);
	CHECK(http(c, 307, NULL) == NO);
	CHECK(http(c, 308, NULL) == NO);
	CHECK(http(c, 300, NULL) == NO);
}

static void test_classify_reads(void)
{
	static const enum api_request_kind kinds[] = {
		REQ_POLL,
		REQ_DOWNLOAD,
		REQ_CREDITS,
	};
	size_t i;
	long s;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		enum api_request_kind k = kinds[i];

		CHECK(net_retry_classify(k, TRANSPORT_CONNECT_FAILED, false, 0,
					 NULL) == YES);
		CHECK(net_retry_classify(k, TRANSPORT_CONNECT_FAILED, true, 0,
					 NULL) == YES);
		CHECK(net_retry_classify(k, TRANSPORT_LOST, true, 0, NULL) ==
		      YES);
		CHECK(net_retry_classify(k, TRANSPORT_LOST, false, 0, NULL) ==
		      YES);
		CHECK(net_retry_classify(k, TRANSPORT_FATAL, true, 0, NULL) ==
		      NO);
		CHECK(http(k, 408, NULL) == YES);
		CHECK(http(k, 429, "rate_limit_exceeded") == YES);
		CHECK(http(k, 429, NULL) == YES);
		CHECK(http(k, 429, "spend_limit_exceeded") == NO);
		for (s = 500; s <= 599; s++)
			CHECK(http(k, s, NULL) == YES);
		CHECK(http(k, 502, "http_502") == YES);
		CHECK(http(k, 503, "upstream_error") == YES);
		CHECK(http(k, 400, "invalid_request") == NO);
		CHECK(http(k, 401, "invalid_api_key") == NO);
		CHECK(http(k, 402, "insufficient_credits") == NO);
		CHECK(http(k, 403, "ip_not_allowed") == NO);
		CHECK(http(k, 404, "task_not_found") == NO);
		CHECK(http(k, 404, NULL) == NO);
		CHECK(http(k, 410, NULL) == NO);
		CHECK(http(k, 200, NULL) == NO);
		CHECK(http(k, 600, NULL) == NO);
		CHECK(http(k, 0, NULL) == NO);
		/* a redirect: transient for the API's reads; a download
		 * follows redirects itself, and one it stops at is a
		 * refusal */
		for (s = 300; s <= 399; s++)
			CHECK(http(k, s, "redirected") ==
			      (k == REQ_DOWNLOAD ? NO : YES));
		CHECK(http(k, 302, NULL) == (k == REQ_DOWNLOAD ? NO : YES));
		CHECK(http(k, 299, NULL) == NO);
		CHECK(http(k, 400, NULL) == NO);
	}
}

/* A creation waiting for the API: a minute at most between tries, first
 * tries soon; after a day of tries it gives up. */
static void test_unreached_delay(void)
{
	uint64_t rng = 99;
	double d, hi = 0;
	int i, bad = 0;

	for (i = 0; i < 10000; i++) {
		d = net_retry_unreached_delay(1, 0, &rng);
		if (!(d >= 0 && d <= RETRY_UNREACHED_BASE))
			bad++;
		d = net_retry_unreached_delay(1000, RETRY_UNREACHED_FOR - 1,
					      &rng);
		if (!(d >= 0 && d <= RETRY_UNREACHED_CAP))
			bad++;
		hi = fmax(hi, d);
	}
	CHECK(bad == 0);
	CHECK(hi > RETRY_UNREACHED_CAP * 0.99);
	CHECK(RETRY_UNREACHED_CAP == 60.0);
	CHECK(RETRY_UNREACHED_FOR == 86400.0);
	CHECK(net_retry_unreached_delay(0, 0, &rng) <= RETRY_UNREACHED_BASE);
	CHECK(net_retry_unreached_delay(UINT32_MAX, 3600, &rng) <=
	      RETRY_UNREACHED_CAP);
	CHECK(net_retry_unreached_delay(5, RETRY_UNREACHED_FOR, &rng) < 0);
	CHECK(net_retry_unreached_delay(5, 1e12, &rng) < 0);
	CHECK(net_retry_unreached_delay(5, NAN, &rng) < 0);
}

static void test_transport_from_curl(void)
{
	CHECK(net_retry_transport_from_curl(CURLE_OK, true) == TRANSPORT_OK);
	CHECK(net_retry_transport_from_curl(CURLE_COULDNT_CONNECT, false) ==
	      TRANSPORT_CONNECT_FAILED);
	CHECK(net_retry_transport_from_curl(CURLE_COULDNT_RESOLVE_HOST,
					    false) == TRANSPORT_CONNECT_FAILED);
	CHECK(net_retry_transport_from_curl(CURLE_OPERATION_TIMEDOUT, false) ==
	      TRANSPORT_CONNECT_FAILED);
	CHECK(net_retry_transport_from_curl(CURLE_COULDNT_RESOLVE_PROXY,
					    false) == TRANSPORT_CONNECT_FAILED);
	/* no TLS handshake: no byte of the request can have left */
	CHECK(net_retry_transport_from_curl(CURLE_SSL_CONNECT_ERROR, false) ==
	      TRANSPORT_CONNECT_FAILED);
	CHECK(net_retry_transport_from_curl(CURLE_PEER_FAILED_VERIFICATION,
					    false) == TRANSPORT_CONNECT_FAILED);
	CHECK(net_retry_transport_from_curl(CURLE_SSL_CONNECT_ERROR, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_COULDNT_RESOLVE_HOST, true) ==
	      TRANSPORT_LOST);
	/* a timeout after sending: the answer is lost */
	CHECK(net_retry_transport_from_curl(CURLE_OPERATION_TIMEDOUT, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_COULDNT_CONNECT, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_GOT_NOTHING, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_GOT_NOTHING, false) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_RECV_ERROR, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_SEND_ERROR, false) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_PARTIAL_FILE, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_HTTP2_STREAM, true) ==
	      TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(9999, false) == TRANSPORT_LOST);
	CHECK(net_retry_transport_from_curl(CURLE_WRITE_ERROR, true) ==
	      TRANSPORT_FATAL);
	CHECK(net_retry_transport_from_curl(CURLE_UNSUPPORTED_PROTOCOL,
					    false) == TRANSPORT_FATAL);
	CHECK(net_retry_transport_from_curl(CURLE_URL_MALFORMAT, false) ==
	      TRANSPORT_FATAL);
	CHECK(net_retry_transport_from_curl(CURLE_OUT_OF_MEMORY, false) ==
	      TRANSPORT_FATAL);
}

static void test_limits(void)
{
	CHECK(net_retry_limits(REQ_CREATE)->attempts == RETRY_CREATE_ATTEMPTS);
	CHECK(net_retry_limits(REQ_CREATE)->attempts > 1);
	CHECK(net_retry_limits(REQ_POLL)->attempts == 0); /* never gives up */
	CHECK(net_retry_limits(REQ_POLL)->cap == 60.0);
	CHECK(net_retry_limits(REQ_DOWNLOAD)->attempts ==
	      RETRY_DOWNLOAD_ATTEMPTS);
	CHECK(net_retry_limits(REQ_CREDITS)->attempts ==
	      RETRY_CREDITS_ATTEMPTS);
	CHECK(net_retry_limits((enum api_request_kind)42)->attempts > 0);
}

/* Many draws for one attempt: all within [0, ceiling], spread over it. */
static void check_jitter(unsigned attempt, double base, double cap,
			 double ceiling)
{
	uint64_t rng = 12345 + attempt;
	double d, sum = 0, lo = INFINITY, hi = 0;
	int i, n = 100000, bad = 0;

	for (i = 0; i < n; i++) {
		d = net_retry_delay(attempt, base, cap, 0, &rng);
		if (!(d >= 0 && d <= ceiling))
			bad++;
		sum += d;
		lo = fmin(lo, d);
		hi = fmax(hi, d);
	}
	CHECK(bad == 0);
	CHECK(lo < ceiling * 0.01);
	CHECK(hi > ceiling * 0.99);
	CHECK(fabs(sum / n - ceiling / 2) < ceiling * 0.01);
}

static void test_delay(void)
{
	uint64_t a = 7, b = 7, rng = 1;
	double d;
	int i, same = 1, bad = 0;

	check_jitter(0, 1.0, 60.0, 1.0);
	check_jitter(3, 1.0, 60.0, 8.0);
	check_jitter(5, 1.0, 60.0, 32.0);
	check_jitter(6, 1.0, 60.0, 60.0); /* the cap */
	check_jitter(40, 1.0, 60.0, 60.0);
	check_jitter(1000, 1.0, 60.0, 60.0);
	check_jitter(UINT32_MAX, 4.0, 30.0, 30.0);
	check_jitter(2, 0.5, 1e9, 2.0);
	check_jitter(100, 0.5, 1e9, RETRY_DELAY_MAX); /* the clamp */

	/* the same seed gives the same delays */
	for (i = 0; i < 100; i++)
		if (net_retry_delay(i, 1, 60, 0, &a) !=
		    net_retry_delay(i, 1, 60, 0, &b))
			same = 0;
	CHECK(same);

	/* Retry-After is a floor, still clamped */
	for (i = 0; i < 10000; i++) {
		d = net_retry_delay(0, 1, 60, 42, &rng);
		if (d != 42)
			bad++;
		d = net_retry_delay(10, 1, 60, 50, &rng);
		if (d < 50 || d > 60)
			bad++;
		d = net_retry_delay(10, 1, 60, 1e12, &rng);
		if (d != RETRY_DELAY_MAX)
			bad++;
		d = net_retry_delay(10, 1, 60, INFINITY, &rng);
		if (d != RETRY_DELAY_MAX)
			bad++;
		d = net_retry_delay(3, 1, 60, NAN, &rng);
		if (!(d >= 0 && d <= 8))
			bad++;
		d = net_retry_delay(3, 1, 60, -5, &rng);
		if (!(d >= 0 && d <= 8))
			bad++;
		/* nonsense parameters give no wait rather than a crazy one */
		d = net_retry_delay(3, NAN, NAN, 0, &rng);
		if (d != 0)
			bad++;
		d = net_retry_delay(3, -1, 60, 0, &rng);
		if (d != 0)
			bad++;
		d = net_retry_delay(3, 1, INFINITY, 0, &rng);
		if (!(d >= 0 && d <= 8))
			bad++;
		d = net_retry_delay(500, INFINITY, INFINITY, 0, &rng);
		if (!(d >= 0 && d <= RETRY_DELAY_MAX))
			bad++;
	}
	CHECK(bad == 0);
}

static void check_retry_after(const char *value, time_t now, double want)
{
	double got = -1;

	CHECK(net_retry_parse_retry_after(value, now, &got) == 0);
	if (got != want)
		fprintf(stderr, "Retry-After \"%s\": got %g, want %g\n", value,
			got, want);
	CHECK(got == want);
}

static void check_retry_after_garbage(const char *value)
{
	double got = 12345;

	CHECK(net_retry_parse_retry_after(value, 0, &got) == -1);
	CHECK(got == 12345); /* untouched */
}

static void test_retry_after(void)
{
	/* Wed, 21 Oct 2015 07:27:00 GMT */
	const time_t now = 1445412420;

	check_retry_after("120", now, 120);
	check_retry_after("0", now, 0);
	check_retry_after(" 7\r\n", now, 7);
	check_retry_after("007", now, 7);
	check_retry_after("300", now, RETRY_DELAY_MAX);
	check_retry_after("86400", now, RETRY_DELAY_MAX);
	check_retry_after("99999999999999999999999999999999999999999999999999"
			  "99999999999999999999999999999999999999999999999999",
			  now, RETRY_DELAY_MAX);

	check_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now, 60);
	check_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now, 60);
	check_retry_after("Wed Oct 21 07:28:00 2015", now, 60);
	check_retry_after("Wed Oct  1 07:28:00 2015", now, 0); /* past */
	check_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now, 0);
	check_retry_after("Wed, 21 Oct 2015 07:26:59 GMT", now, 0);
	check_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now, 0);
	check_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now,
			  RETRY_DELAY_MAX);
	check_retry_after("  Wed, 21 Oct 2015 07:27:30 GMT  ", now, 30);

	check_retry_after_garbage(NULL);
	check_retry_after_garbage("");
	check_retry_after_garbage("   ");
	check_retry_after_garbage("soon");
	check_retry_after_garbage("-5");
	check_retry_after_garbage("+5");
	check_retry_after_garbage("1.5");
	check_retry_after_garbage("12abc");
	check_retry_after_garbage("12 34");
	check_retry_after_garbage("0x10");
	check_retry_after_garbage("Wed, 21 Oct 2015 07:28:00");
	check_retry_after_garbage("Wed, 21 Oct 2015 07:28:00 GMT junk");
	check_retry_after_garbage("Wed, 21 Foo 2015 07:28:00 GMT");
	check_retry_after_garbage("Wed, 21 Oct 2015 25:28:00 GMT");
	check_retry_after_garbage("Wed, 21 Oct 2015 07:28:00 GMT"
				  "                                      x");
}

int main(void)
{
	test_classify_create();
	test_classify_reads();
	test_transport_from_curl();
	test_limits();
	test_unreached_delay();
	test_delay();
	test_retry_after();
	return check_result("test_retry");
}
