/* api_url: where the key is sent, so it must be https:// (plain http://
 * only to this machine) and name a host the key may go to. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define URL_MAX 2048
#define HOST_MAX 253 /* the longest DNS name */

static bool is_loopback(const char *host, bool bracketed)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (bracketed)
		return inet_pton(AF_INET6, host, &v6) == 1 &&
		       IN6_IS_ADDR_LOOPBACK(&v6);
	if (strcasecmp(host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, host, &v4) == 1 &&
	       (ntohl(v4.s_addr) >> 24) == 127;
}

static bool valid_port(const char *p, size_t len)
{
	unsigned long port;

	if (len == 0 || len > 5 || strspn(p, "0123456789") < len)
		return false;
	port = strtoul(p, NULL, 10);
	return port >= 1 && port <= 65535;
}

/* Split authority (host[:port] or [v6][:port]) and check both parts;
 * host receives the name or address without brackets. */
static bool split_authority(const char *a, size_t len, char *host,
			    bool *bracketed)
{
	const char *end = a + len, *colon, *close;
	struct in6_addr v6;
	size_t hlen;

	*bracketed = a[0] == '[';
	if (*bracketed) {
		close = memchr(a, ']', len);
		if (!close)
			return false;
		hlen = close - a - 1;
		if (hlen == 0 || hlen > HOST_MAX)
			return false;
		memcpy(host, a + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &v6) != 1)
			return false;
		colon = close + 1;
		if (colon == end)
			return true;
		return *colon == ':' && valid_port(colon + 1, end - colon - 1);
	}
	colon = memchr(a, ':', len);
	hlen = colon ? (size_t)(colon - a) : len;
	if (hlen == 0 || hlen > HOST_MAX)
		return false;
	memcpy(host, a, hlen);
	host[hlen] = '\0';
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-_") < hlen)
		return false;
	return !colon || valid_port(colon + 1, end - colon - 1);
}

static char *url_error(const char *v, const char *what, char *why,
		       size_t whylen)
{
	char q[64];

	config_quote_value(v, q, sizeof(q));
	snprintf(why, whylen, "%s %s", q, what);
	return NULL;
}

/* What api_url and callback_url refuse besides the common rules: the
 * characters in forbid (named by forbid_what), and user@ (user_what). */
struct url_rules {
	const char *forbid, *forbid_what, *user_what;
};

/* The checks api_url and callback_url share: a length, printable
 * characters, a scheme, the rules' characters, a host[:port] without
 * user@. host receives the host (without brackets); false with why set. */
static bool url_check(const char *v, const struct url_rules *r, char *host,
		      bool *https, bool *bracketed, char *why, size_t whylen)
{
	size_t len = strlen(v), alen, i;
	const char *authority;

	if (len > URL_MAX)
		return url_error(v, "is longer than 2048 characters", why,
				 whylen);
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)v[i]))
			return url_error(v,
					 "contains spaces or control "
					 "characters",
					 why, whylen);
	*https = strncasecmp(v, "https://", 8) == 0;
	if (!*https && strncasecmp(v, "http://", 7) != 0)
		return url_error(v, "is not an http:// or https:// URL", why,
				 whylen);
	if (strpbrk(v, r->forbid))
		return url_error(v, r->forbid_what, why, whylen);
	authority = v + (*https ? 8 : 7);
	alen = strcspn(authority, "/");
	if (memchr(authority, '@', alen))
		return url_error(v, r->user_what, why, whylen);
	if (alen == 0)
		return url_error(v, "has no host", why, whylen);
	if (!split_authority(authority, alen, host, bracketed))
		return url_error(v, "has a malformed host or port", why,
				 whylen);
	return true;
}

/* A copy of v without its trailing slashes (one, or all), or NULL. */
static char *url_copy(const char *v, bool all_slashes, char *why, size_t whylen)
{
	size_t len = strlen(v);
	char *url = strdup(v);

	if (!url) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	while (len > 0 && url[len - 1] == '/') {
		url[--len] = '\0';
		if (!all_slashes)
			break;
	}
	return url;
}

char *config_normalize_api_url(const char *v, char *why, size_t whylen)
{
	static const struct url_rules rules = {
		"?#", "has a query or fragment; give the API's base URL",
		"has user@ in it; the key goes in a header, not the URL"
	};
	char host[HOST_MAX + 1];
	bool https, bracketed;

	if (!url_check(v, &rules, host, &https, &bracketed, why, whylen))
		return NULL;
	if (!https && !is_loopback(host, bracketed)) {
		snprintf(why, whylen,
			 "plain http:// is allowed only to "
			 "loopback; use https://");
		return NULL;
	}
	return url_copy(v, false, why, whylen);
}

char *config_accept_listen(const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v);
	char host[HOST_MAX + 1];
	const char *close = v[0] == '[' ? strchr(v, ']') : NULL;
	bool bracketed;
	char *copy;

	if (v[0] == '[' ? !close || close[1] != ':' : !strchr(v, ':'))
		return url_error(v, "is not ADDRESS:PORT", why, whylen);
	if (!split_authority(v, len, host, &bracketed))
		return url_error(v,
				 "has a malformed address or port (ADDRESS:"
				 "PORT, [IPV6]:PORT, port 1 to 65535)",
				 why, whylen);
	copy = strdup(v);
	if (!copy)
		snprintf(why, whylen, "out of memory");
	return copy;
}

/* Where the API reaches the receiver: plain http:// is allowed anywhere
 * (the receiver trusts nothing in a callback, see gptimgfs(1),
 * CALLBACKS), but the URL must be one the daemon can append its path to;
 * it goes into the creation's JSON as it is: no '"' or '\\'. */
char *config_accept_callback_url(const char *v, char *why, size_t whylen)
{
	static const struct url_rules rules = {
		"?#\"\\",
		"has a query (?), a fragment (#), a double quote or a "
		"backslash in it",
		"has user@ in it, which is not allowed"
	};
	char host[HOST_MAX + 1];
	bool https, bracketed;

	if (!url_check(v, &rules, host, &https, &bracketed, why, whylen))
		return NULL;
	return url_copy(v, true, why, whylen);
}
