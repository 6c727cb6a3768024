/* util/json.c: escaping, strict parsing over jsmn, look-ups, decoding. */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "util/json.h"

#define MAX_TOKENS 64

static int parse_str(struct json_doc *doc, const char *text)
{
	return json_parse(doc, text, strlen(text), MAX_TOKENS);
}

/* ---- output ---- */

static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *out;
} escapes[] = {
	{ "", 0, "\"\"" },
	{ "a cat", 0, "\"a cat\"" },
	{ "say \"hi\"", 0, "\"say \\\"hi\\\"\"" },
	{ "C:\\dir\\", 0, "\"C:\\\\dir\\\\\"" },
	{ "a\nb\rc\td\be\ff", 0, "\"a\\nb\\rc\\td\\be\\ff\"" },
	{ "\x01\x1f\x7f", 0, "\"\\u0001\\u001f\x7f\"" },
	{ "nul\0byte", 8, "\"nul\\u0000byte\"" },
	{ "/ stays", 0, "\"/ stays\"" },
	{ "caf\xc3\xa9 \xe4\xb8\xad", 0, "\"caf\xc3\xa9 \xe4\xb8\xad\"" },
	{ "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\"" },
	{ "\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\"" }, /* U+2028 raw */
};

static void test_add_string(void)
{
	size_t i;

	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		struct buf b;
		size_t len =
			escapes[i].len ? escapes[i].len : strlen(escapes[i].in);

		buf_init(&b, 1000);
		CHECK(json_add_string(&b, escapes[i].in, len) == 0);
		CHECK_STR(buf_str(&b), escapes[i].out);
		buf_free(&b);
	}
}

static void test_add_string_max(void)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK(buf_addstr(&b, "x:") == 0);
	CHECK(json_add_cstr(&b, "123456") == 0); /* 2 + 8 = 10 */
	CHECK_STR(buf_str(&b), "x:\"123456\"");
	buf_reset(&b);
	CHECK(buf_addstr(&b, "x:") == 0);
	/* Too long in the middle of a run, of an escape, at the closing quote:
	 * each time the buffer is left as it was. */
	CHECK(json_add_cstr(&b, "1234567") == -1);
	CHECK_STR(buf_str(&b), "x:");
	CHECK(json_add_cstr(&b, "12345\n") == -1);
	CHECK_STR(buf_str(&b), "x:");
	CHECK(json_add_cstr(&b, "\x01\x01") == -1);
	CHECK_STR(buf_str(&b), "x:");
	CHECK(b.len == 2);
	buf_free(&b);
}

/* Every string survives json_add_string then json_parse + json_get_string. */
static void test_round_trip(void)
{
	static const char *const samples[] = {
		"",
		"plain",
		"quotes \" and \\ backslashes \\\" mixed",
		"line\nbreaks\r\nand\ttabs\b\f",
		"\x01\x02\x03\x1e\x1f control",
		"caf\xc3\xa9 na\xc3\xafve \xe4\xb8\xad\xe6\x96\x87 \xd0\x96",
		"emoji \xf0\x9f\x98\x80\xf0\x9f\x90\x88 and \xe2\x80\xa8\xe2\x80\xa9",
		"https://x.example/a?b=c;d#e",
	};
	char all[256];
	size_t i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]) + 1; i++) {
		const char *s = i < sizeof(samples) / sizeof(samples[0]) ?
					samples[i] :
					all;
		struct json_doc doc;
		struct buf b;
		char *back;

		if (s == all) { /* every byte but NUL */
			size_t c;

			for (c = 1; c < 256; c++)
				all[c - 1] = (char)c;
			all[255] = '\0';
		}
		buf_init(&b, 4096);
		CHECK(buf_addstr(&b, "{\"k\":[") == 0);
		CHECK(json_add_cstr(&b, s) == 0);
		CHECK(buf_addstr(&b, "]}") == 0);
		CHECK(json_parse(&doc, b.data, b.len, MAX_TOKENS) == 0);
		CHECK(doc.ntok == 4);
		back = json_get_string(&doc, 3, 4096);
		CHECK(back && strcmp(back, s) == 0);
		free(back);
		json_doc_free(&doc);
		buf_free(&b);
	}
}

/* ---- parsing ---- */

static const char *const well_formed[] = {
	"{}",
	"[]",
	"0",
	"-0",
	"9800",
	"4.7",
	"-1e3",
	"1E+2",
	"2.5e-3",
	"\"\"",
	"true",
	"false",
	"null",
	" \t\r\n{ \"a\" : [ 1 , { \"b\" : null } ] } \n",
	"[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]",
	"{\"a\":{\"b\":{\"c\":{}}},\"d\":[\"\",\"\\\"\",\"\\\\\",\"\\/\"]}",
	"\"\\u00e9\\uD83D\\uDE00\\b\\f\\n\\r\\t\"",
	"[true,false,null,-0.5e+10]",
};

static const struct {
	const char *text;
	size_t len; /* 0: strlen(text) */
} malformed[] = {
	{ "", 0 },
	{ " \n", 0 },
	{ "{", 0 },
	{ "}", 0 },
	{ "[1,2", 0 },
	{ "{\"a\":1", 0 },
	{ "\"abc", 0 },
	{ "[1 2]", 0 },
	{ "{\"a\" \"b\"}", 0 },
	{ "{\"a\":1,}", 0 },
	{ "[1,]", 0 },
	{ "[,]", 0 },
	{ "{,}", 0 },
	{ "{1:2}", 0 },
	{ "{\"a\"}", 0 },
	{ "{\"a\"::1}", 0 },
	{ "[\"a\":1]", 0 },
	{ "tru", 0 },
	{ "truex", 0 },
	{ "nul", 0 },
	{ "True", 0 },
	{ "01x", 0 },
	{ "01", 0 },
	{ "-01", 0 },
	{ "-", 0 },
	{ "1.", 0 },
	{ ".5", 0 },
	{ "1e", 0 },
	{ "1e+", 0 },
	{ "+1", 0 },
	{ "0x10", 0 },
	{ "NaN", 0 },
	{ "Infinity", 0 },
	{ "'a'", 0 },
	{ "abc", 0 },
	{ "[abc]", 0 },
	{ "\"\\x\"", 0 },
	{ "\"\\u12\"", 0 },
	{ "\"\\u12g4\"", 0 },
	{ "\"\\", 0 },
	{ "\"a\x01\"", 0 },
	{ "\"a\nb\"", 0 },
	{ "\"a\tb\"", 0 },
	/* trailing garbage and more than one value */
	{ "{} x", 0 },
	{ "{}{}", 0 },
	{ "1 2", 0 },
	{ "[1]]", 0 },
	{ "{\"a\":1}}", 0 },
	{ "\"a\" \"b\"", 0 },
	{ "{},", 0 },
	{ "null,", 0 },
	/* NUL bytes: jsmn would stop at them */
	{ "{}\0", 3 },
	{ "{}\0garbage", 10 },
	{ "\"a\0b\"", 5 },
	{ "[1,\0]", 5 },
	{ "\xef\xbb\xbf{}", 0 }, /* a BOM is not JSON */
};

static void test_well_formed(void)
{
	size_t i;

	for (i = 0; i < sizeof(well_formed) / sizeof(well_formed[0]); i++) {
		struct json_doc doc;
		int r = parse_str(&doc, well_formed[i]);

		CHECK(r == 0);
		if (r != 0)
			fprintf(stderr, "  refused: %s\n", well_formed[i]);
		else
			CHECK(json_skip(&doc, 0) == doc.ntok); /* one value */
		json_doc_free(&doc);
	}
}

static void test_malformed(void)
{
	size_t i;

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		struct json_doc doc;
		size_t len = malformed[i].len ? malformed[i].len :
						strlen(malformed[i].text);
		int r;

		errno = 0;
		r = json_parse(&doc, malformed[i].text, len, MAX_TOKENS);
		CHECK(r == -1 && errno == EINVAL);
		CHECK(doc.tok == NULL && doc.ntok == 0 && doc.err_off <= len);
		if (r != -1)
			fprintf(stderr, "  accepted #%zu: %s\n", i,
				malformed[i].text);
		json_doc_free(&doc); /* harmless after a failure */
	}
}

static void test_err_off(void)
{
	struct json_doc doc;
	const char *text = "{\"a\": 1,\n \"b\": x}";

	CHECK(parse_str(&doc, text) == -1);
	CHECK(doc.err_off == (size_t)(strchr(text, 'x') - text));
	CHECK(parse_str(&doc, "[1] garbage") == -1);
	CHECK(doc.err_off == 4);
	CHECK(parse_str(&doc, "[1,") == -1); /* refused at the end */
	CHECK(doc.err_off == 3);
	CHECK(parse_str(&doc, "{\"a\":") == -1);
	CHECK(doc.err_off == 5);
}

static void test_depth(void)
{
	char deep[2 * 200 + 1];
	struct json_doc doc;
	int n;

	for (n = 0; n < 200; n++) {
		deep[n] = '[';
		deep[200 + n] = ']';
	}
	deep[400] = '\0';
	/* 200 levels: refused (the limit is 64), not a stack overflow. */
	CHECK(json_parse(&doc, deep, 400, 1000) == -1);
	CHECK(json_parse(&doc, deep + 140, 120, 1000) == 0); /* 60 */
	CHECK(doc.ntok == 60);
	json_doc_free(&doc);
}

static void test_max_tokens(void)
{
	struct json_doc doc;
	struct buf b;
	clock_t t0;
	int i;

	/* {"a":[1,2]} is 5 tokens. */
	CHECK(json_parse(&doc, "{\"a\":[1,2]}", 11, 5) == 0);
	CHECK(doc.ntok == 5);
	json_doc_free(&doc);
	errno = 0;
	CHECK(json_parse(&doc, "{\"a\":[1,2]}", 11, 4) == -1);
	CHECK(errno == E2BIG && doc.tok == NULL);

	/* 200,000 values against a limit of 1000: refused, and quickly (jsmn
	 * would be quadratic in the token count). */
	buf_init(&b, 1 << 22);
	CHECK(buf_addstr(&b, "[") == 0);
	for (i = 0; i < 200000; i++)
		CHECK(buf_addstr(&b, i ? ",{}" : "{}") == 0);
	CHECK(buf_addstr(&b, "]") == 0);
	t0 = clock();
	errno = 0;
	CHECK(json_parse(&doc, b.data, b.len, 1000) == -1 && errno == E2BIG);
	CHECK(clock() - t0 < CLOCKS_PER_SEC);
	/* The same, broken at the very end: still refused. */
	b.data[b.len - 1] = ',';
	CHECK(json_parse(&doc, b.data, b.len, 1000000) == -1 &&
	      errno == EINVAL);
	buf_free(&b);
}

/* ---- look-ups ---- */

static void test_get_and_skip(void)
{
	static const char text[] =
		"{\"a\":{\"x\":1,\"c\":[1,2,{\"c\":\"deep\"}]},"
		"\"b\":[{\"c\":\"in array\"},[],{}],"
		"\"c\":\"found\",\"\\u0064\":\"escaped key\",\"c\":\"second\","
		"\"n\":null,\"t\":true,\"list\":[\"p\",\"q\",\"r\"]}";
	struct json_doc doc;
	char *s;
	int i, v, n;

	CHECK(parse_str(&doc, text) == 0);
	CHECK(json_is_object(&doc, 0));
	CHECK(json_skip(&doc, 0) == doc.ntok);
	/* Token 1 is key "a", 2 its object: skipping the object lands on "b". */
	CHECK(json_skip(&doc, 2) == json_get(&doc, 0, "b") - 1);
	s = json_member_string(&doc, 0, "c", 100);
	CHECK_STR(s, "found"); /* not a nested "c", the first top-level one */
	free(s);
	s = json_member_string(&doc, 0, "d", 100);
	CHECK_STR(s, "escaped key");
	free(s);
	v = json_get(&doc, 0, "a");
	CHECK(json_is_object(&doc, v));
	s = json_member_string(&doc, json_get(&doc, v, "c") + 3, "c", 100);
	CHECK_STR(s, "deep");
	free(s);
	CHECK(json_get(&doc, 0, "missing") == -1);
	CHECK(json_get(&doc, 0, "") == -1);
	CHECK(json_get(&doc, 0, "x") == -1); /* only in a nested object */
	CHECK(json_get(&doc, json_get(&doc, 0, "list"), "p") == -1);
	CHECK(json_get(&doc, -1, "a") == -1);
	CHECK(json_get(&doc, doc.ntok, "a") == -1);
	CHECK(json_member_string(&doc, 0, "missing", 100) == NULL);
	CHECK(json_member_string(&doc, 0, "n", 100) == NULL); /* null */
	CHECK(json_is_null(&doc, json_get(&doc, 0, "n")));
	CHECK(!json_is_null(&doc, json_get(&doc, 0, "t")));

	v = json_get(&doc, 0, "list");
	n = json_array_len(&doc, v);
	CHECK(n == 3);
	for (i = 0, v = v + 1; i < n; i++, v = json_skip(&doc, v)) {
		char want[2] = { (char)('p' + i), '\0' };

		s = json_get_string(&doc, v, 10);
		CHECK_STR(s, want);
		free(s);
	}
	v = json_get(&doc, 0, "b");
	CHECK(json_array_len(&doc, v) == 3);
	CHECK(json_array_len(&doc, json_get(&doc, 0, "c")) == -1);
	CHECK(json_array_len(&doc, 0) == -1);
	/* Out-of-range indexes are harmless. */
	CHECK(json_skip(&doc, -5) == doc.ntok);
	CHECK(json_skip(&doc, doc.ntok + 3) == doc.ntok);
	CHECK(!json_is_string(&doc, -1) && !json_is_array(&doc, 100000));
	CHECK(json_get_string(&doc, -1, 10) == NULL);
	json_doc_free(&doc);
}

/* ---- decoding strings ---- */

static const struct {
	const char *json;
	const char *want; /* NULL: refused */
} strings[] = {
	{ "\"\"", "" },
	{ "\"plain\"", "plain" },
	{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t" },
	{ "\"\\u0041\\u00e9\\u4e2d\"", "A\xc3\xa9\xe4\xb8\xad" },
	{ "\"\\u00E9\\u4E2D\"", "\xc3\xa9\xe4\xb8\xad" },
	{ "\"\\u0001\\u001f\"", "\x01\x1f" },
	{ "\"\\u2028\"", "\xe2\x80\xa8" },
	{ "\"\\uffff\"", "\xef\xbf\xbf" },
	{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },
	{ "\"\\uD83D\\uDE00x\"", "\xf0\x9f\x98\x80x" },
	{ "\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf" },
	{ "\"\\ud800\\udc00\"", "\xf0\x90\x80\x80" },
	{ "\"raw \xf0\x9f\x98\x80 bytes\"", "raw \xf0\x9f\x98\x80 bytes" },
	{ "\"\\u0000\"", NULL },
	{ "\"a\\u0000b\"", NULL },
	{ "\"\\ud83d\"", NULL }, /* lone high surrogate */
	{ "\"\\ud83dx\"", NULL },
	{ "\"\\ud83d\\n\"", NULL },
	{ "\"\\ud83d\\u0041\"", NULL }, /* high, then not a low */
	{ "\"\\ud83d\\ud83d\"", NULL },
	{ "\"\\ude00\"", NULL },	/* lone low surrogate */
	{ "\"\\ude00\\ud83d\"", NULL }, /* reversed pair */
};

static void test_get_string(void)
{
	size_t i;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		struct json_doc doc;
		char *s;

		CHECK(parse_str(&doc, strings[i].json) == 0);
		s = json_get_string(&doc, 0, 100);
		if (strings[i].want) {
			CHECK_STR(s, strings[i].want);
		} else {
			CHECK(s == NULL);
			if (s)
				fprintf(stderr, "  decoded #%zu: %s\n", i,
					strings[i].json);
		}
		free(s);
		json_doc_free(&doc);
	}
}

static void test_get_string_limits(void)
{
	struct json_doc doc;
	char *s;

	CHECK(parse_str(&doc, "[\"12345\",\"\\u00e9\\u00e9\",7]") == 0);
	s = json_get_string(&doc, 1, 5); /* exactly max bytes */
	CHECK_STR(s, "12345");
	free(s);
	CHECK(json_get_string(&doc, 1, 4) == NULL);
	s = json_get_string(&doc, 2, 4); /* 4 bytes decoded */
	CHECK_STR(s, "\xc3\xa9\xc3\xa9");
	free(s);
	CHECK(json_get_string(&doc, 2, 3) == NULL);
	CHECK(json_get_string(&doc, 3, 100) == NULL); /* a number */
	CHECK(json_get_string(&doc, 0, 100) == NULL); /* the array */
	json_doc_free(&doc);
}

/* A raw control character can only reach the decoder through a document
 * built by hand (the parser refuses it): still refused. */
static void test_get_string_raw_control(void)
{
	static const char text[] = "\"a\nb\"";
	jsmntok_t tok = { .type = JSMN_STRING, .start = 1, .end = 4 };
	struct json_doc doc = {
		.text = text, .len = 5, .tok = &tok, .ntok = 1
	};

	CHECK(json_get_string(&doc, 0, 100) == NULL);
}

/* ---- numbers, booleans, null ---- */

static const struct {
	const char *json;
	double want;
} numbers[] = {
	{ "9800", 9800 },
	{ "4.7", 4.7 },
	{ "-1e3", -1000 },
	{ "0", 0 },
	{ "-0", 0 },
	{ "14.1", 14.1 },
	{ "1E+2", 100 },
	{ "2.5e-3", 0.0025 },
	{ "123456789012", 123456789012.0 },
};

static void test_numbers(void)
{
	static const char *const not_numbers[] = {
		"true", "null", "\"12\"", "[1]", "{}", "1e999", "-1e999",
	};
	size_t i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		struct json_doc doc;
		double d = -12345;

		CHECK(parse_str(&doc, numbers[i].json) == 0);
		CHECK(json_get_number(&doc, 0, &d) == 0);
		CHECK(d == numbers[i].want);
		json_doc_free(&doc);
	}
	for (i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		struct json_doc doc;
		double d = 7;

		CHECK(parse_str(&doc, not_numbers[i]) == 0);
		CHECK(json_get_number(&doc, 0, &d) == -1);
		CHECK(d == 7);
		json_doc_free(&doc);
	}
}

/* The primitive checks do not trust the tokenizer: jsmn's non-strict
 * primitives, fed by hand, are refused. */
static void test_primitives_by_hand(void)
{
	static const char *const bad[] = {
		"tru",	 "01x",	 "01",	"1.", "-", "truex",
		"nulll", "True", "0x1", "1e", "",  "+1",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jsmntok_t tok = { .type = JSMN_PRIMITIVE,
				  .start = 0,
				  .end = (int)strlen(bad[i]) };
		struct json_doc doc = { .text = bad[i],
					.len = strlen(bad[i]),
					.tok = &tok,
					.ntok = 1 };
		double d;
		bool b;

		CHECK(json_get_number(&doc, 0, &d) == -1);
		CHECK(json_get_bool(&doc, 0, &b) == -1);
		CHECK(!json_is_null(&doc, 0));
	}
}

static void test_bool_null(void)
{
	struct json_doc doc;
	bool b = false;
	double d;

	CHECK(parse_str(&doc, "[true,false,null,\"true\",1,0]") == 0);
	CHECK(json_get_bool(&doc, 1, &b) == 0 && b == true);
	CHECK(json_get_bool(&doc, 2, &b) == 0 && b == false);
	CHECK(json_get_bool(&doc, 3, &b) == -1);
	CHECK(json_get_bool(&doc, 4, &b) == -1); /* a string */
	CHECK(json_get_bool(&doc, 5, &b) == -1); /* a number */
	CHECK(json_get_bool(&doc, 99, &b) == -1);
	CHECK(json_is_null(&doc, 3));
	CHECK(!json_is_null(&doc, 1) && !json_is_null(&doc, 4));
	CHECK(json_get_number(&doc, 5, &d) == 0 && d == 1);
	CHECK(json_get_number(&doc, 3, &d) == -1);
	json_doc_free(&doc);
}

/* JSON's decimal point is '.' even in a locale whose point is ','. */
static void test_locale(void)
{
	static const char *const locales[] = {
		"de_DE.UTF-8",
		"fr_FR.UTF-8",
		"C.UTF-8",
	};
	struct json_doc doc;
	double d = 0;
	size_t i;

	for (i = 0; i < sizeof(locales) / sizeof(locales[0]); i++)
		if (setlocale(LC_NUMERIC, locales[i]))
			break;
	CHECK(parse_str(&doc, "4.7") == 0);
	CHECK(json_get_number(&doc, 0, &d) == 0 && d == 4.7);
	json_doc_free(&doc);
	setlocale(LC_NUMERIC, "C");
}

int main(void)
{
	test_add_string();
	test_add_string_max();
	test_round_trip();
	test_well_formed();
	test_malformed();
	test_err_off();
	test_depth();
	test_max_tokens();
	test_get_and_skip();
	test_get_string();
	test_get_string_limits();
	test_get_string_raw_control();
	test_numbers();
	test_primitives_by_hand();
	test_bool_null();
	test_locale();
	return check_result("test_json");
}
