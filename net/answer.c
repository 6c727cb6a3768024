/* What an answer that is not a success says: the api_error the core
 * records, and the few words a note or a log line gives. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Where a redirect points, for a message: its host when that is plain
 * (letters, digits, . - : [ ]), else "elsewhere". */
static void redirect_target(const struct xfer *x, char *host, size_t size)
{
	char *url = NULL;
	size_t i;

	curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &url);
	if (!url) {
		snprintf(host, size, "elsewhere");
		return;
	}
	net_xfer_url_host(url, host, size);
	for (i = 0; host[i]; i++) {
		if (!isalnum((unsigned char)host[i]) &&
		    !strchr(".-:[]", host[i])) {
			snprintf(host, size, "elsewhere");
			return;
		}
	}
}

void net_answer_error(const struct xfer *x, const struct xfer_result *r,
		      struct api_error *e)
{
	char host[256];

	if (net_answer_redirect(r)) {
		redirect_target(x, host, sizeof(host));
		memset(e, 0, sizeof(*e));
		e->http_status = r->status;
		snprintf(e->code, sizeof(e->code), "redirected");
		snprintf(e->message, sizeof(e->message),
			 "the API answered %ld, a redirect to %s (not "
			 "followed)",
			 r->status, host);
		return;
	}
	if (r->transport == TRANSPORT_OK) {
		net_api_parse_error(r->status, buf_str(&x->answer),
				    x->answer.len, e);
		return;
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->code, sizeof(e->code), "network_error");
	snprintf(e->message, sizeof(e->message), "%s", r->what);
}

void net_describe(const struct xfer_result *r, const struct api_error *e,
		  char *out, size_t outsz)
{
	if (r->transport == TRANSPORT_OK)
		snprintf(out, outsz, "%ld %s", r->status, e->code);
	else
		snprintf(out, outsz, "%s", r->what);
}
