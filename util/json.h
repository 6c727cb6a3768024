/* JSON in and out. Output: strings escaped for any UTF-8 input. Input: a
 * thin layer over jsmn that looks up object members and decodes strings and
 * numbers. Everything here treats its input as hostile. */
#ifndef GPTIMGFS_JSON_H
#define GPTIMGFS_JSON_H

#define JSMN_HEADER
#include <jsmn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append s[0..len) as a quoted JSON string: quotes, backslashes and control
 * characters escaped; bytes >= 0x80 copied as they are (the caller has
 * checked the UTF-8). 0 or -1 when the buffer's maximum is reached. */
int json_add_string(struct buf *b, const char *s, size_t len);
int json_add_cstr(struct buf *b, const char *s);

struct json_doc {
	const char *text;
	size_t len;
	jsmntok_t *tok;
	int ntok;
	size_t err_off; /* after a failed parse (EINVAL): where it went wrong */
};

/* Parse text[0..len) with at most max_tokens tokens. 0 on success, -1 when
 * the text is not one well-formed JSON value (errno EINVAL), needs more
 * tokens (E2BIG) or memory ran out (ENOMEM). The grammar is checked strictly
 * (RFC 8259), whatever jsmn would let through. The document refers to text:
 * keep it alive; json_doc_free() it after success (a failed parse holds no
 * memory). */
int json_parse(struct json_doc *doc, const char *text, size_t len,
	       int max_tokens);
void json_doc_free(struct json_doc *doc);

/* Index of the token after the whole value at index i (skips nested
 * objects and arrays). */
int json_skip(const struct json_doc *doc, int i);
/* Index of the value of member `key` in the object at index obj, or -1 when
 * obj is not an object or has no such member (the first one of duplicates;
 * keys are compared after decoding their escapes). */
int json_get(const struct json_doc *doc, int obj, const char *key);
bool json_is_string(const struct json_doc *doc, int i);
bool json_is_object(const struct json_doc *doc, int i);
bool json_is_array(const struct json_doc *doc, int i);
/* Array length, or -1 when the token is not an array. Elements are found by
 * starting at i + 1 and stepping with json_skip. */
int json_array_len(const struct json_doc *doc, int i);
/* Decode the string token at i (escapes, \uXXXX with surrogate pairs to
 * UTF-8) into a malloc'd NUL-terminated string, at most max bytes. NULL when
 * i is not a string, decodes to a NUL byte or invalid escapes, or is too
 * long. */
char *json_get_string(const struct json_doc *doc, int i, size_t max);
/* Convenience: json_get_string(doc, json_get(doc, obj, key), max). */
char *json_member_string(const struct json_doc *doc, int obj, const char *key,
			 size_t max);
/* A number token (integer or decimal) as a double. -1 when not a number. */
int json_get_number(const struct json_doc *doc, int i, double *out);
/* A whole number in [0, max] (max at most 2^53, where doubles stop being
 * exact). -1 when not a number, not whole, or out of range. */
int json_get_uint(const struct json_doc *doc, int i, uint64_t max,
		  uint64_t *out);
/* true/false token. -1 when not a boolean. */
int json_get_bool(const struct json_doc *doc, int i, bool *out);
/* A primitive null token. */
bool json_is_null(const struct json_doc *doc, int i);

#endif
