/* Which schemes a download may use: https://, and plain http:// too when
 * api_url is plain http:// itself (the config accepts that only on
 * loopback: tests and the simulator). Nothing else, file:// and ftp://
 * least of all: an output URL comes from the API but may name anything.
 * Pure functions, no network. */
#ifndef GPTIMGFS_NET_SCHEME_H
#define GPTIMGFS_NET_SCHEME_H

#include <stdbool.h>
#include <stddef.h>

/* api_url is plain http://: downloads may be too. */
bool net_scheme_plain_http(const char *api_url);
/* 0 when a download of url is allowed by its scheme, given api_url; else
 * -1 with why saying what was refused, e.g. "refused: scheme file://, only
 * https:// is allowed". */
int net_scheme_check(const char *api_url, const char *url, char *why,
		     size_t whylen);

#endif
