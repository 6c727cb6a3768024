/* The key check at start (see net.h): the balance read of credits.c, sent
 * once with curl's easy interface, as the network thread does not run yet.
 * Only a 401 or a 403 is a verdict on the key; anything else leaves it
 * unchecked, and the jobs find out as they always did. */
#include <math.h>
#include <stdio.h>

#include "internal.h"

/* What the answer says about the key; what says why when it is not a
 * plain yes. */
static enum net_key_verdict judge(const struct xfer *x,
				  const struct xfer_result *r, double *balance,
				  char *what, size_t whatlen)
{
	struct api_error e;
	char err[256];

	if (net_answer_ok(r)) {
		if (net_api_parse_credits(buf_str(&x->answer), x->answer.len,
					  balance, NULL, NULL, err,
					  sizeof(err)) == 0)
			return NET_KEY_ACCEPTED;
		snprintf(what, whatlen, "the API answered %ld but %s",
			 r->status, err);
		return NET_KEY_UNCHECKED;
	}
	if (r->transport == TRANSPORT_CONNECT_FAILED) {
		snprintf(what, whatlen, "the API could not be reached (%s)",
			 r->what);
		return NET_KEY_UNCHECKED;
	}
	if (r->transport != TRANSPORT_OK) {
		snprintf(what, whatlen, "the API gave no answer (%s)", r->what);
		return NET_KEY_UNCHECKED;
	}
	net_answer_error(x, r, &e);
	if (r->status == 401 || r->status == 403) {
		snprintf(what, whatlen, "%ld %s: %s", r->status, e.code,
			 e.message);
		return NET_KEY_REFUSED;
	}
	snprintf(what, whatlen, "the API answered %ld %s: %s", r->status,
		 e.code, e.message);
	return NET_KEY_UNCHECKED;
}

/* One GET of url with headers; the verdict on its answer. */
static enum net_key_verdict ask(const char *url,
				const struct curl_slist *headers,
				double *balance, char *what, size_t whatlen)
{
	enum net_key_verdict v = NET_KEY_ERROR;
	struct xfer_pool pool;
	struct xfer_result r;
	struct xfer *x;

	net_xfer_pool_init(&pool);
	x = net_xfer_api(&pool, url, headers, NULL, 0, NET_KEYCHECK_TIMEOUT);
	if (!x) {
		snprintf(what, whatlen, "out of memory");
	} else {
		curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT,
				 NET_KEYCHECK_CONNECT);
		net_xfer_result(x, curl_easy_perform(x->easy), &r);
		v = judge(x, &r, balance, what, whatlen);
	}
	net_xfer_free(&pool, x);
	net_xfer_pool_free(&pool);
	return v;
}

enum net_key_verdict net_check_key(const struct net_config *cfg,
				   double *balance, char *what, size_t whatlen)
{
	enum net_key_verdict v = NET_KEY_ERROR;
	struct curl_slist *headers;
	struct buf url;

	*balance = NAN;
	what[0] = '\0';
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(what, whatlen, "cannot initialise libcurl");
		return v;
	}
	buf_init(&url, API_URL_MAX);
	headers = net_api_headers(cfg->api_key, what, whatlen);
	if (headers &&
	    net_api_url_join(&url, cfg->api_url, API_PATH_CREDITS) < 0)
		snprintf(what, whatlen, "api_url is too long");
	else if (headers)
		v = ask(buf_str(&url), headers, balance, what, whatlen);
	net_free_headers(headers);
	buf_free(&url);
	curl_global_cleanup();
	return v;
}
