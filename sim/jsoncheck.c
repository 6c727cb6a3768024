/* UTF-8 checks for bodies, and a lossy string writer for echoing bytes that
 * may not be UTF-8. */
#include "jsoncheck.h"

#include <stdint.h>

#include "core/json.h"

/* A body of at most 1 MiB has fewer tokens than this. */
#define VALID_MAX_TOKENS (1 << 20)

size_t sim_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

bool sim_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n) {
		n = sim_utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
	}
	return true;
}

bool sim_json_valid(const char *s, size_t len)
{
	struct json_doc doc;

	if (!sim_utf8_valid(s, len) ||
	    json_parse(&doc, s, len, VALID_MAX_TOKENS) < 0)
		return false;
	json_doc_free(&doc);
	return true;
}

int sim_json_add_lossy(struct buf *b, const char *s, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *u = (const unsigned char *)s;
	struct buf clean;
	int rc = 0;

	buf_init(&clean, len <= SIZE_MAX / 3 ? len * 3 : SIZE_MAX);
	for (size_t i = 0, n; i < len && rc == 0; i += n) {
		n = sim_utf8_seq(u + i, len - i);
		if (n == 0) {
			rc = buf_add(&clean, replacement, 3);
			n = 1;
		} else {
			rc = buf_add(&clean, u + i, n);
		}
	}
	if (rc == 0)
		rc = json_add_string(b, buf_str(&clean), clean.len);
	buf_free(&clean);
	return rc;
}
