/* UTF-8 checks for bodies, and a lossy string writer for echoing bytes that
 * may not be UTF-8. */
#include "jsoncheck.h"

#include <stdint.h>

#include "util/json.h"
#include "util/utf8.h"

/* A body of at most 1 MiB has fewer tokens than this. */
#define VALID_MAX_TOKENS (1 << 20)

bool sim_utf8_valid(const char *s, size_t len)
{
	return utf8_valid(s, len);
}

bool sim_json_valid(const char *s, size_t len)
{
	struct json_doc doc;

	if (!utf8_valid(s, len) ||
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
		n = utf8_char(u + i, len - i, NULL);
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
