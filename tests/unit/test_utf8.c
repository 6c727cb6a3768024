/* util/utf8.c: the strict decoder at every boundary, utf8_valid and
 * utf8_blank. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "util/utf8.h"

/* A sequence, its length as given, and what utf8_char says about it. */
static const struct {
	const char *s;
	size_t n;
	size_t want_len; /* 0: invalid */
	uint32_t want_cp;
} chars[] = {
	/* the boundaries of each length */
	{ "\x00", 1, 1, 0x0 },
	{ "A", 1, 1, 0x41 },
	{ "\x7f", 1, 1, 0x7f },
	{ "\xc2\x80", 2, 2, 0x80 },
	{ "\xc3\xa9", 2, 2, 0xe9 },
	{ "\xdf\xbf", 2, 2, 0x7ff },
	{ "\xe0\xa0\x80", 3, 3, 0x800 },
	{ "\xe2\x82\xac", 3, 3, 0x20ac },
	{ "\xed\x9f\xbf", 3, 3, 0xd7ff }, /* just below the surrogates */
	{ "\xee\x80\x80", 3, 3, 0xe000 }, /* just above them */
	{ "\xef\xbf\xbf", 3, 3, 0xffff },
	{ "\xf0\x90\x80\x80", 4, 4, 0x10000 },
	{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
	/* only the first character counts */
	{ "ab", 2, 1, 0x61 },
	{ "\xc3\xa9z", 3, 2, 0xe9 },
	/* overlong forms */
	{ "\xc0\x80", 2, 0, 0 },
	{ "\xc1\xbf", 2, 0, 0 },
	{ "\xe0\x80\x80", 3, 0, 0 },
	{ "\xe0\x9f\xbf", 3, 0, 0 },
	{ "\xf0\x80\x80\x80", 4, 0, 0 },
	{ "\xf0\x8f\xbf\xbf", 4, 0, 0 },
	/* surrogates */
	{ "\xed\xa0\x80", 3, 0, 0 },
	{ "\xed\xbf\xbf", 3, 0, 0 },
	/* past U+10FFFF */
	{ "\xf4\x90\x80\x80", 4, 0, 0 },
	{ "\xf5\x80\x80\x80", 4, 0, 0 },
	{ "\xf7\xbf\xbf\xbf", 4, 0, 0 },
	{ "\xf8\x88\x80\x80\x80", 5, 0, 0 },
	{ "\xfe", 1, 0, 0 },
	{ "\xff", 1, 0, 0 },
	/* lone continuation bytes */
	{ "\x80", 1, 0, 0 },
	{ "\xbf", 1, 0, 0 },
	{ "\x80"
	  "A",
	  2, 0, 0 },
	/* truncated by the end of the bytes given */
	{ "\xc3", 1, 0, 0 },
	{ "\xe2\x82", 2, 0, 0 },
	{ "\xe2", 1, 0, 0 },
	{ "\xf0\x90\x80", 3, 0, 0 },
	{ "\xf0\x90", 2, 0, 0 },
	{ "\xc3\xa9", 1, 0, 0 }, /* the bytes are there, n says no */
	{ "\xf0\x90\x80\x80", 3, 0, 0 },
	/* truncated by a non-continuation byte (a NUL included) */
	{ "\xc3"
	  "A",
	  2, 0, 0 },
	{ "\xc3\x00", 2, 0, 0 },
	{ "\xe2\x82"
	  "A",
	  3, 0, 0 },
	{ "\xe2\x00\xac", 3, 0, 0 },
	{ "\xf0\x90\x80"
	  "A",
	  4, 0, 0 },
	{ "\xf0\x90\xc3\xa9", 4, 0, 0 },
};

static void test_chars(void)
{
	uint32_t cp;
	size_t i, len;

	for (i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		cp = 0xdeadbeef;
		len = utf8_char((const unsigned char *)chars[i].s, chars[i].n,
				&cp);
		if (len != chars[i].want_len)
			fprintf(stderr, "case %zu: length %zu, want %zu\n", i,
				len, chars[i].want_len);
		CHECK(len == chars[i].want_len);
		if (chars[i].want_len)
			CHECK(cp == chars[i].want_cp);
		else
			CHECK(cp == 0xdeadbeef); /* untouched */
		/* cp is optional */
		CHECK(utf8_char((const unsigned char *)chars[i].s, chars[i].n,
				NULL) == chars[i].want_len);
		/* utf8_valid agrees on the character alone */
		if (chars[i].want_len)
			CHECK(utf8_valid(chars[i].s, chars[i].want_len));
		else
			CHECK(!utf8_valid(chars[i].s, chars[i].n));
	}
}

/* c in UTF-8, the textbook way: the length. */
static size_t encode(uint32_t c, unsigned char *s)
{
	if (c < 0x80) {
		s[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		s[0] = (unsigned char)(0xc0 | c >> 6);
		s[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		s[0] = (unsigned char)(0xe0 | c >> 12);
		s[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		s[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	s[0] = (unsigned char)(0xf0 | c >> 18);
	s[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	s[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	s[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

/* Every code point but the surrogates decodes back to itself, and only
 * when all its bytes are there; no byte 80..FF is a character alone. */
static void test_all_code_points(void)
{
	unsigned char s[4];
	uint32_t c, cp;
	size_t n, bad = 0;

	for (c = 0; c <= 0x10ffff; c++) {
		n = encode(c, s);
		if (c >= 0xd800 && c <= 0xdfff) {
			bad += utf8_char(s, n, NULL) != 0;
			continue;
		}
		cp = 0;
		if (utf8_char(s, n, &cp) != n || cp != c ||
		    (n > 1 && utf8_char(s, n - 1, NULL) != 0))
			bad++;
	}
	CHECK(bad == 0);
	for (c = 0x80; c <= 0xff; c++) {
		s[0] = (unsigned char)c;
		CHECK(utf8_char(s, 1, NULL) == 0);
	}
}

static void test_valid(void)
{
	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid("plain ASCII", 11));
	CHECK(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x88", 14));
	CHECK(utf8_valid("a\0b", 3));	     /* NUL is a character */
	CHECK(!utf8_valid("caf\xc3", 4));    /* cut short at the end */
	CHECK(utf8_valid("caf\xc3\xa9", 3)); /* only n bytes are looked at */
	CHECK(!utf8_valid("\xff\xfe", 2));
	CHECK(!utf8_valid("ok \x80 ok", 7));
	CHECK(!utf8_valid("ok \xed\xa0\x80", 6));
	CHECK(!utf8_valid("ok \xc0\x80", 5));
}

/* The blank characters: Unicode White_Space, then the invisible ones. */
static const uint32_t blanks[] = {
	0x09,	0x0a,	0x0b,	0x0c,	0x0d,	0x20,	0x85,	0xa0,
	0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
	0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
	0x3000, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff,
};
#define N_BLANKS (sizeof(blanks) / sizeof(blanks[0]))

/* Exactly the listed code points are blank alone; any mix of them is;
 * one other character, or one invalid byte, is not. */
static void test_blank(void)
{
	unsigned char s[4 * N_BLANKS + 1];
	size_t i, n = 0, found = 0, wrong = 0;
	uint32_t c;

	for (c = 0; c <= 0x10ffff; c++) {
		bool listed = false;

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		for (i = 0; i < N_BLANKS; i++)
			listed |= blanks[i] == c;
		n = encode(c, s);
		found += listed;
		wrong += utf8_blank((const char *)s, n) != listed;
	}
	CHECK(found == N_BLANKS);
	CHECK(wrong == 0);

	for (i = 0, n = 0; i < N_BLANKS; i++)
		n += encode(blanks[i], s + n);
	CHECK(utf8_blank((const char *)s, n));
	s[n] = 'x';
	CHECK(!utf8_blank((const char *)s, n + 1));
	CHECK(utf8_blank("", 0));
	CHECK(utf8_blank(" \t\r\n", 4));
	CHECK(!utf8_blank(" . ", 3));
	CHECK(!utf8_blank(" \0 ", 3));	    /* NUL is not white space */
	CHECK(!utf8_blank("  \xc2", 3));    /* cut short */
	CHECK(!utf8_blank(" \xc0\xa0", 3)); /* overlong U+0020 */
	CHECK(!utf8_blank("\xe2\x80", 2));
}

/* What a one-line message must not show as it is. */
static void test_unsafe(void)
{
	static const uint32_t unsafe[] = {
		0x00,	0x0a,	0x1b,	 0x1f,	  0x7f,
		0x80,	0x9b,	0x9f,	 0xad, /* soft hyphen */
		0x061c,			       /* Arabic letter mark */
		0x200b, 0x200c, 0x200d,	 0x200e,  0x200f,
		0x202a, 0x202b, 0x202c,	 0x202d,  0x202e, /* bidi embeddings */
		0x2028, 0x2029, /* line, paragraph separator */
		0x2060, 0x2061, 0x2064,	 0x2066,  0x2067,
		0x2068, 0x2069, /* bidi isolates */
		0xfeff, 0xfff9, 0xe0001, 0xe0041, 0xe007f,
	};
	static const uint32_t safe[] = {
		0x20,	0x41,	 0x7e,	  0xa0,	    0xac,   0xae,
		0x061b, 0x061d,	 0x200a,  0x2010,   0x2027, 0x202f,
		0x205f, 0x2065,	 0x2070,  0x732b,   0xfefe, 0xff00,
		0xfffd, 0x1f408, 0xe0080, 0x10ffff,
	};
	size_t i;

	for (i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		CHECK(utf8_unsafe(unsafe[i]));
	for (i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		CHECK(!utf8_unsafe(safe[i]));
}

int main(void)
{
	test_chars();
	test_all_code_points();
	test_valid();
	test_blank();
	test_unsafe();
	return check_result("test_utf8");
}
