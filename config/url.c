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

/* The checks api_url and callback_url share: a length, printable
 * characters, a scheme, none of the characters in forbid (named by
 * forbid_what); the authority after the scheme, or NULL with why set. */
static const char *url_authority(const char *v, const char *forbid,
				 const char *forbid_what, bool *https,
				 char *why, size_t whylen)
{
	size_t len = strlen(v), i;

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
	if (strpbrk(v, forbid))
		return url_error(v, forbid_what, why, whylen);
	return v + (*https ? 8 : 7);
}

char *config_normalize_api_url(const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v), alen;
	char host[HOST_MAX + 1];
	const char *authority;
	bool https, bracketed;
	char *url;

	authority = url_authority(v, "?#",
				  "has a query or fragment; give the API's "
				  "base URL",
				  &https, why, whylen);
	if (!authority)
		return NULL;
	alen = strcspn(authority, "/");
	if (memchr(authority, '@', alen))
		return url_error(v,
				 "has user@ in it; the key goes in a "
				 "header, not the URL",
				 why, whylen);
	if (alen == 0)
		return url_error(v, "has no host", why, whylen);
	if (!split_authority(authority, alen, host, &bracketed))
		return url_error(v, "has a malformed host or port", why,
				 whylen);
	if (!https && !is_loopback(host, bracketed)) {
		snprintf(why, whylen,
			 "plain http:// is allowed only to "
			 "loopback; use https://");
		return NULL;
	}
	url = strdup(v);
	if (!url) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (len > 0 && url[len - 1] == '/')
		url[len - 1] = '\0';
	return url;
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
 * CALLBACKS), but the URL must be one the daemon can append its path to. */
char *config_accept_callback_url(const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v), alen;
	char host[HOST_MAX + 1];
	const char *authority;
	bool https, bracketed;
	char *url;

	/* the URL goes into the creation's JSON as it is: no '"' or '\\' */
	authority = url_authority(v, "?#\"\\",
				  "has a query (?), a fragment (#), a double "
				  "quote or a backslash in it",
				  &https, why, whylen);
	if (!authority)
		return NULL;
	alen = strcspn(authority, "/");
	if (memchr(authority, '@', alen))
		return url_error(v, "has user@ in it, which is not allowed",
				 why, whylen);
	if (alen == 0)
		return url_error(v, "has no host", why, whylen);
	if (!split_authority(authority, alen, host, &bracketed))
		return url_error(v, "has a malformed host or port", why,
				 whylen);
	url = strdup(v);
	if (!url) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	return url;
}
