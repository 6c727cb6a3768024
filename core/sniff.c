/* The extension of a downloaded output, from its first bytes (SPEC 4):
 * png, jpg, webp from their signatures; else the URL's extension; else bin.
 * Bytes that read as text (an HTML error page, a JSON body) are not an
 * image at all: -1. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static bool starts_with(const unsigned char *head, size_t len,
			const char *magic, size_t mlen)
{
	return len >= mlen && memcmp(head, magic, mlen) == 0;
}

static bool looks_like_text(const unsigned char *head, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (head[i] == 0 || (head[i] < 0x20 && !isspace(head[i])))
			return false;
	}
	return true;
}

/* The URL path's extension: 1 to 5 letters or digits after the last dot of
 * the last path segment, lower-cased into ext. */
static const char *url_extension(const char *url, char *ext, size_t extsz)
{
	const char *end = url + strcspn(url, "?#");
	const char *slash, *dot, *p;
	size_t n = 0;

	slash = memrchr(url, '/', (size_t)(end - url));
	dot = memrchr(url, '.', (size_t)(end - url));
	if (!dot || (slash && dot < slash) || end - dot - 1 < 1 ||
	    end - dot - 1 > 5 || (size_t)(end - dot) > extsz)
		return NULL;
	for (p = dot + 1; p < end; p++) {
		if (!isalnum((unsigned char)*p))
			return NULL;
		ext[n++] = (char)tolower((unsigned char)*p);
	}
	ext[n] = '\0';
	return ext;
}

int sniff_extension(const unsigned char *head, size_t len, const char *url,
		    char *ext, size_t extsz)
{
	const char *known = NULL;

	if (starts_with(head, len, "\x89PNG\r\n\x1a\n", 8))
		known = "png";
	else if (starts_with(head, len, "\xff\xd8\xff", 3))
		known = "jpg";
	else if (len >= 12 && starts_with(head, len, "RIFF", 4) &&
		 memcmp(head + 8, "WEBP", 4) == 0)
		known = "webp";
	else if (len == 0 || looks_like_text(head, len))
		return -1;
	else if (!url || !url_extension(url, ext, extsz))
		known = "bin";
	if (known)
		snprintf(ext, extsz, "%s", known);
	return 0;
}
