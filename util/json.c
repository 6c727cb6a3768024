/* JSON in and out: see json.h. */

/* First and without JSMN_HEADER: jsmn's implementation is compiled here, and
 * only here (json.h defines JSMN_HEADER for everyone else; jsmn.h has an
 * include guard, so json.h's own include below is a no-op). JSMN_STATIC:
 * json_parse() is jsmn's one caller, so jsmn_init and jsmn_parse stay
 * inside this file and util exports only json_ names. */
#define JSMN_STATIC
#include <jsmn.h>

#include "json.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused: the checker below recurses, and no
 * document this program reads comes near it. */
#define JSON_MAX_DEPTH 64
/* A number token longer than this is refused (it is copied to the stack to be
 * NUL-terminated for strtod). */
#define JSON_MAX_NUMBER 127

/* ---- output ---- */

int json_add_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t old_len = b->len, i = 0;

	if (buf_add(b, "\"", 1) < 0)
		return -1;
	while (i < len) {
		size_t run = i;
		unsigned char c;
		char esc[6];
		size_t n = 2;

		while (i < len && (unsigned char)s[i] >= 0x20 && s[i] != '"' &&
		       s[i] != '\\')
			i++;
		if (buf_add(b, s + run, i - run) < 0)
			goto fail;
		if (i == len)
			break;
		c = (unsigned char)s[i++];
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if (buf_add(b, esc, n) < 0)
			goto fail;
	}
	if (buf_add(b, "\"", 1) == 0)
		return 0;
fail:
	/* Leave the buffer as it was, like a failed buf_add does. */
	b->len = old_len;
	b->data[old_len] = '\0';
	return -1;
}

int json_add_cstr(struct buf *b, const char *s)
{
	return json_add_string(b, s, strlen(s));
}

/* ---- input: a strict syntax check before jsmn ----
 *
 * jsmn in its default (non-strict) mode is lax: it accepts `[1 2]`,
 * `{"a" "b"}`, trailing commas, several top-level values and any unquoted
 * word as a primitive. So the text is first checked against the JSON grammar
 * here (which also counts the tokens jsmn will need), and only well-formed
 * text is handed to jsmn. Counting first also keeps jsmn's closing-bracket
 * search, which is quadratic in the number of tokens, bounded by max_tokens
 * however big the text is. */

struct scan {
	const char *s;
	size_t len;
	size_t pos;
	long ntok; /* tokens jsmn will need */
};

static bool is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The next byte, or -1 at the end. */
static int scan_peek(const struct scan *sc)
{
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static void scan_ws(struct scan *sc)
{
	while (is_ws(scan_peek(sc)))
		sc->pos++;
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at p (n bytes available) as a number, or -1. */
static long hex4(const char *p, size_t n)
{
	long v = 0;
	int i, d;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		d = hex_value((unsigned char)p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Length of the JSON number at the start of s[0..n), 0 when there is none:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static size_t number_len(const char *s, size_t n)
{
	size_t i = 0, digits;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && is_digit(s[i]))
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		digits = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == digits)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		digits = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == digits)
			return 0;
	}
	return i;
}

static int scan_string(struct scan *sc)
{
	sc->pos++; /* the opening quote */
	while (sc->pos < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->pos];

		if (c == '"') {
			sc->pos++;
			sc->ntok++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		sc->pos++;
		if (c != '\\')
			continue;
		c = (unsigned char)scan_peek(sc);
		if (c == 'u') {
			sc->pos++;
			if (hex4(sc->s + sc->pos, sc->len - sc->pos) < 0)
				return -1;
			sc->pos += 4;
		} else if (c && strchr("\"\\/bfnrt", c)) {
			sc->pos++;
		} else {
			return -1;
		}
	}
	return -1;
}

/* true, false, null or a number, followed by a delimiter or the end. */
static int scan_primitive(struct scan *sc)
{
	const char *p = sc->s + sc->pos;
	size_t n = sc->len - sc->pos, k;
	int next;

	if (n >= 4 && memcmp(p, "true", 4) == 0)
		k = 4;
	else if (n >= 5 && memcmp(p, "false", 5) == 0)
		k = 5;
	else if (n >= 4 && memcmp(p, "null", 4) == 0)
		k = 4;
	else
		k = number_len(p, n);
	if (k == 0)
		return -1;
	sc->pos += k;
	next = scan_peek(sc);
	if (next != -1 && !is_ws(next) && next != ',' && next != ']' &&
	    next != '}')
		return -1;
	sc->ntok++;
	return 0;
}

static int scan_value(struct scan *sc, int depth);

/* The members of an object or the elements of an array, after the opening
 * bracket up to and including the closing one. */
static int scan_container(struct scan *sc, int depth)
{
	bool object = sc->s[sc->pos] == '{';
	int close = object ? '}' : ']';

	if (depth >= JSON_MAX_DEPTH)
		return -1;
	sc->pos++;
	sc->ntok++;
	scan_ws(sc);
	if (scan_peek(sc) == close) {
		sc->pos++;
		return 0;
	}
	for (;;) {
		if (object) {
			scan_ws(sc);
			if (scan_peek(sc) != '"' || scan_string(sc) < 0)
				return -1;
			scan_ws(sc);
			if (scan_peek(sc) != ':')
				return -1;
			sc->pos++;
		}
		if (scan_value(sc, depth + 1) < 0)
			return -1;
		scan_ws(sc);
		if (scan_peek(sc) == close) {
			sc->pos++;
			return 0;
		}
		if (scan_peek(sc) != ',')
			return -1;
		sc->pos++;
	}
}

static int scan_value(struct scan *sc, int depth)
{
	scan_ws(sc);
	switch (scan_peek(sc)) {
	case '{':
	case '[':
		return scan_container(sc, depth);
	case '"':
		return scan_string(sc);
	case -1:
		return -1;
	default:
		return scan_primitive(sc);
	}
}

int json_parse(struct json_doc *doc, const char *text, size_t len,
	       int max_tokens)
{
	struct scan sc = { .s = text, .len = len };
	jsmn_parser parser;
	bool bad;
	int r;

	doc->text = text;
	doc->len = len;
	doc->tok = NULL;
	doc->ntok = 0;
	doc->err_off = 0;
	if (len > INT_MAX) { /* jsmn keeps offsets in ints */
		errno = E2BIG;
		return -1;
	}
	bad = scan_value(&sc, 0) < 0;
	if (!bad) {
		scan_ws(&sc);
		bad = sc.pos != len; /* trailing garbage */
	}
	if (bad) {
		doc->err_off = sc.pos;
		errno = EINVAL;
		return -1;
	}
	if (sc.ntok > max_tokens) {
		errno = E2BIG;
		return -1;
	}
	doc->tok = calloc((size_t)sc.ntok, sizeof(*doc->tok));
	if (!doc->tok) {
		errno = ENOMEM;
		return -1;
	}
	jsmn_init(&parser);
	r = jsmn_parse(&parser, text, len, doc->tok, (unsigned)sc.ntok);
	if (r != sc.ntok) { /* cannot happen after the check above */
		json_doc_free(doc);
		errno = EINVAL;
		return -1;
	}
	doc->ntok = r;
	return 0;
}

void json_doc_free(struct json_doc *doc)
{
	free(doc->tok);
	doc->tok = NULL;
	doc->ntok = 0;
}

/* ---- input: looking things up ---- */

static bool json_is_type(const struct json_doc *doc, int i, jsmntype_t type)
{
	return i >= 0 && i < doc->ntok && doc->tok[i].type == type;
}

bool json_is_string(const struct json_doc *doc, int i)
{
	return json_is_type(doc, i, JSMN_STRING);
}

bool json_is_object(const struct json_doc *doc, int i)
{
	return json_is_type(doc, i, JSMN_OBJECT);
}

bool json_is_array(const struct json_doc *doc, int i)
{
	return json_is_type(doc, i, JSMN_ARRAY);
}

int json_skip(const struct json_doc *doc, int i)
{
	int todo = 1; /* values still to step over */

	if (i < 0 || i >= doc->ntok)
		return doc->ntok;
	/* An object's size counts its keys, a key's size is 1 (its value), an
	 * array's size counts its elements. */
	while (todo > 0 && i < doc->ntok) {
		todo += doc->tok[i].size - 1;
		i++;
	}
	return i;
}

int json_array_len(const struct json_doc *doc, int i)
{
	return json_is_array(doc, i) ? doc->tok[i].size : -1;
}

/* Append the UTF-8 encoding of code point cp. */
static int add_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(b, u, n);
}

/* The \uXXXX escape at *p (just after the "\u"), with the low half of a
 * surrogate pair when it is the high one. Advances *p. -1 for \u0000 and
 * for lone or reversed surrogates. */
static long decode_u(const char **p, const char *end)
{
	long hi = hex4(*p, (size_t)(end - *p)), lo;

	if (hi <= 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return -1;
	*p += 4;
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	if (end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u')
		return -1;
	lo = hex4(*p + 2, (size_t)(end - *p - 2));
	if (lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*p += 6;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

/* Decode the string token i into b (whose maximum bounds the result). */
static int decode_string(const struct json_doc *doc, int i, struct buf *b)
{
	const char *p = doc->text + doc->tok[i].start;
	const char *end = doc->text + doc->tok[i].end;
	long cp;
	char c;

	while (p < end) {
		const char *run = p;

		while (p < end && *p != '\\' && (unsigned char)*p >= 0x20)
			p++;
		if (buf_add(b, run, (size_t)(p - run)) < 0)
			return -1;
		if (p == end)
			return 0;
		if (*p != '\\' || end - p < 2)
			return -1; /* a raw control character */
		c = p[1];
		p += 2;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			cp = c;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			cp = decode_u(&p, end);
			if (cp < 0)
				return -1;
			break;
		default:
			return -1;
		}
		if (add_utf8(b, (uint32_t)cp) < 0)
			return -1;
	}
	return 0;
}

char *json_get_string(const struct json_doc *doc, int i, size_t max)
{
	struct buf b;

	if (!json_is_string(doc, i))
		return NULL;
	buf_init(&b, max);
	if (decode_string(doc, i, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Does the string token k decode to key? */
static bool string_equals(const struct json_doc *doc, int k, const char *key)
{
	const char *raw = doc->text + doc->tok[k].start;
	size_t n = (size_t)(doc->tok[k].end - doc->tok[k].start);
	size_t key_len = strlen(key);
	struct buf b;
	bool equal;

	if (!memchr(raw, '\\', n))
		return n == key_len && memcmp(raw, key, n) == 0;
	buf_init(&b, n); /* decoding never makes a string longer */
	equal = decode_string(doc, k, &b) == 0 && b.len == key_len &&
		memcmp(buf_str(&b), key, key_len) == 0;
	buf_free(&b);
	return equal;
}

/* With duplicate members, the first one counts. */
int json_get(const struct json_doc *doc, int obj, const char *key)
{
	int k, n;

	if (!json_is_object(doc, obj))
		return -1;
	k = obj + 1;
	for (n = 0; n < doc->tok[obj].size && k + 1 < doc->ntok; n++) {
		if (json_is_string(doc, k) && string_equals(doc, k, key))
			return k + 1;
		k = json_skip(doc, k + 1);
	}
	return -1;
}

char *json_member_string(const struct json_doc *doc, int obj, const char *key,
			 size_t max)
{
	return json_get_string(doc, json_get(doc, obj, key), max);
}

/* The text of primitive token i, or NULL. */
static const char *primitive_text(const struct json_doc *doc, int i,
				  size_t *len)
{
	if (!json_is_type(doc, i, JSMN_PRIMITIVE))
		return NULL;
	*len = (size_t)(doc->tok[i].end - doc->tok[i].start);
	return doc->text + doc->tok[i].start;
}

int json_get_number(const struct json_doc *doc, int i, double *out)
{
	char digits[JSON_MAX_NUMBER + 1];
	size_t len;
	const char *p = primitive_text(doc, i, &len);
	locale_t c_locale;
	double v;

	if (!p || len == 0 || len > JSON_MAX_NUMBER ||
	    number_len(p, len) != len)
		return -1;
	memcpy(digits, p, len);
	digits[len] = '\0';
	/* JSON's decimal point is '.', whatever the process's locale says. */
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!c_locale)
		return -1;
	v = strtod_l(digits, NULL, c_locale);
	freelocale(c_locale);
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int json_get_uint(const struct json_doc *doc, int i, uint64_t max,
		  uint64_t *out)
{
	double v;

	if (json_get_number(doc, i, &v) < 0 || v < 0 || v > (double)max ||
	    v != floor(v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static bool primitive_is(const struct json_doc *doc, int i, const char *word)
{
	size_t len;
	const char *p = primitive_text(doc, i, &len);

	return p && len == strlen(word) && memcmp(p, word, len) == 0;
}

int json_get_bool(const struct json_doc *doc, int i, bool *out)
{
	if (primitive_is(doc, i, "true"))
		*out = true;
	else if (primitive_is(doc, i, "false"))
		*out = false;
	else
		return -1;
	return 0;
}

bool json_is_null(const struct json_doc *doc, int i)
{
	return primitive_is(doc, i, "null");
}
