/* Which schemes a download may use: see scheme.h. */
#include "scheme.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SCHEME_SHOWN 16 /* characters of a scheme in a message */

bool net_scheme_plain_http(const char *api_url)
{
	return strncasecmp(api_url, "http://", 7) == 0;
}

/* url's scheme (RFC 3986: a letter, then letters, digits, + - .) for a
 * message: the URL is the API's, so nothing else of it is shown. */
static void scheme_name(const char *url, char *out, size_t outlen)
{
	size_t len = strspn(url, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

	if (len == 0 || len > SCHEME_SHOWN || url[len] != ':' ||
	    strchr("0123456789+-.", url[0]))
		snprintf(out, outlen, "no scheme");
	else
		snprintf(out, outlen, "scheme %.*s%s", (int)len + 1, url,
			 strncmp(url + len + 1, "//", 2) == 0 ? "//" : "");
}

int net_scheme_check(const char *api_url, const char *url, char *why,
		     size_t whylen)
{
	bool plain = net_scheme_plain_http(api_url);
	char name[SCHEME_SHOWN + 16];

	if (strncasecmp(url, "https://", 8) == 0 ||
	    (plain && strncasecmp(url, "http://", 7) == 0))
		return 0;
	scheme_name(url, name, sizeof(name));
	snprintf(why, whylen, "refused: %s, only %s allowed", name,
		 plain ? "http:// and https:// are" : "https:// is");
	return -1;
}
