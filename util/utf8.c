/* The strict UTF-8 decoder: see utf8.h. */
#include "utf8.h"

size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len, i;

	if (c < 0x80) {
		len = 1, min = 0;
	} else if (c >= 0xc2 && c <= 0xdf) { /* C0, C1: always overlong */
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) { /* F5 and up: past U+10FFFF */
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte, or no lead byte at all */
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (cp)
		*cp = c;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, len;

	for (i = 0; i < n; i += len) {
		len = utf8_char(u + i, n - i, NULL);
		if (len == 0)
			return false;
	}
	return true;
}

/* Unicode White_Space, and the invisible U+200B-200D, U+2060 (zero-width
 * space, joiners, word joiner) and U+FEFF (byte order mark): a text of
 * these only shows nothing. */
static bool blank_char(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
	       cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200d) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	       cp == 0x2060 || cp == 0x3000 || cp == 0xfeff;
}

bool utf8_blank(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, len;
	uint32_t cp;

	for (i = 0; i < n; i += len) {
		len = utf8_char(u + i, n - i, &cp);
		if (len == 0 || !blank_char(cp))
			return false;
	}
	return true;
}

/* Unicode 15.1's category Cf. */
static bool format_char(uint32_t cp)
{
	static const struct {
		uint32_t lo, hi;
	} cf[] = {
		{ 0x00ad, 0x00ad },   { 0x0600, 0x0605 },
		{ 0x061c, 0x061c },   { 0x06dd, 0x06dd },
		{ 0x070f, 0x070f },   { 0x0890, 0x0891 },
		{ 0x08e2, 0x08e2 },   { 0x180e, 0x180e },
		{ 0x200b, 0x200f },   { 0x202a, 0x202e },
		{ 0x2060, 0x2064 },   { 0x2066, 0x206f },
		{ 0xfeff, 0xfeff },   { 0xfff9, 0xfffb },
		{ 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
		{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
		{ 0xe0020, 0xe007f },
	};
	size_t i;

	for (i = 0; i < sizeof(cf) / sizeof(cf[0]); i++)
		if (cp >= cf[i].lo && cp <= cf[i].hi)
			return true;
	return false;
}

bool utf8_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	       cp == 0x2029 || format_char(cp);
}
