/* What downloaded bytes are: see sniff.h. The extension of an image comes
 * from its signature only, never from its URL: a URL chooses nothing about
 * what lands in out/. */
#include "sniff.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool starts_with(const unsigned char *head, size_t len,
			const char *magic, size_t mlen)
{
	return len >= mlen && memcmp(head, magic, mlen) == 0;
}

const char *core_sniff_image(const void *bytes, size_t len)
{
	const unsigned char *head = bytes;

	if (starts_with(head, len, "\x89PNG\r\n\x1a\n", 8))
		return "png";
	if (starts_with(head, len, "\xff\xd8\xff", 3))
		return "jpg";
	if (starts_with(head, len, "RIFF", 4) &&
	    starts_with(head + 8, len >= 8 ? len - 8 : 0, "WEBP", 4))
		return "webp";
	return NULL;
}

static bool all_bytes(const unsigned char *head, size_t len, int (*is)(int))
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is(head[i]))
			return false;
	return true;
}

static int is_zero(int c)
{
	return c == 0;
}

static int is_text(int c)
{
	return c >= 0x80 || isprint(c) || isspace(c);
}

const char *core_sniff_describe(const void *bytes, size_t len)
{
	const unsigned char *head = bytes;
	size_t skip = 0;

	if (len == 0)
		return "an empty body";
	if (starts_with(head, len, "\x1f\x8b", 2))
		return "gzip data";
	if (starts_with(head, len, "PK\x03\x04", 4))
		return "a zip archive";
	if (starts_with(head, len,
			"\x7f"
			"ELF",
			4) ||
	    starts_with(head, len, "MZ", 2))
		return "a program";
	if (starts_with(head, len, "GIF8", 4))
		return "a GIF image, which is not accepted";
	if (all_bytes(head, len, is_zero))
		return "only NUL bytes";
	if (!all_bytes(head, len, is_text))
		return "binary data";
	while (skip < len && isspace(head[skip]))
		skip++;
	if (skip < len && head[skip] == '<')
		return "HTML or XML";
	if (skip < len && (head[skip] == '{' || head[skip] == '['))
		return "JSON";
	return "text";
}
