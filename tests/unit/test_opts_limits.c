/* core/opts_sidecar.c: the sidecars' limits (URLs, long lines, many keys)
 * and how user text is quoted in a message: cut at a character boundary,
 * bytes that are not UTF-8 shown as '?', err cut when small. */
#include <time.h>

#include "opts_fixture.h"
#include "util/utf8.h"

static void test_ini_urls_limit(void)
{
	struct buf b;
	struct job_opts o;
	int i;

	buf_init(&b, 1 << 16);
	for (i = 1; i <= 16; i++)
		buf_printf(&b, "image_url = https://img.example/%d.png\n", i);
	CHECK(ini(&o, buf_str(&b)) == 0);
	CHECK(o.n_urls == 16);
	CHECK_STR(o.image_urls[15], "https://img.example/16.png");
	core_opts_free(&o);
	buf_printf(&b, "image_url = https://img.example/17.png\n");
	CHECK(ini(&o, buf_str(&b)) == -1);
	CHECK_STR(
		err, INI
		": line 17: key 'image_url': 17 image URLs in all, the limit is 16");
	CHECK(o.n_urls == 0);
	core_opts_free(&o);

	/* 17 in one list */
	buf_reset(&b);
	buf_addstr(&b, "image_urls =");
	for (i = 1; i <= 17; i++)
		buf_printf(&b, " https://img.example/%d.png,", i);
	CHECK(ini(&o, buf_str(&b)) == -1);
	CHECK_STR(
		err, INI
		": line 1: key 'image_urls': 17 image URLs in all, the limit is 16");
	core_opts_free(&o);

	/* 10 lines and a list of 7 */
	buf_reset(&b);
	for (i = 1; i <= 10; i++)
		buf_printf(&b, "image_url = https://img.example/%d.png\n", i);
	buf_addstr(&b, "image_urls = https://a/1 https://a/2 https://a/3 "
		       "https://a/4 https://a/5 https://a/6 https://a/7\n");
	CHECK(ini(&o, buf_str(&b)) == -1);
	CHECK_STR(
		err, INI
		": line 11: key 'image_urls': 17 image URLs in all, the limit is 16");
	core_opts_free(&o);
	buf_free(&b);
}

static void test_ini_long(void)
{
	static const char key[] = "image_url = ", url[] = "https://a.example/";
	static const char cut[] = INI ": line 1: key 'aspect_ratio': 'xxxx";
	size_t big = 200 * 1024, n, end;
	char *text = malloc(SIDECAR_MAX_FILE + 2);
	struct job_opts o;

	/* A URL of exactly OPTS_MAX_URL_LEN bytes is fine, one more is not. */
	n = (size_t)snprintf(text, 64, "%s%s", key, url);
	end = strlen(key) + OPTS_MAX_URL_LEN;
	memset(text + n, 'u', end - n + 1);
	text[end] = '\0';
	CHECK(ini(&o, text) == 0);
	CHECK(o.n_urls == 1 && strlen(o.image_urls[0]) == OPTS_MAX_URL_LEN);
	core_opts_free(&o);
	text[end + 1] = '\0';
	text[end] = 'u';
	CHECK(ini(&o, text) == -1);
	CHECK_STR(
		err, INI
		": line 1: key 'image_url': a URL of 8193 bytes, the limit is 8192");
	core_opts_free(&o);

	/* A 200 KB value: refused with a short one-line message. */
	n = (size_t)snprintf(text, 64, "aspect_ratio = ");
	memset(text + n, 'x', big);
	memcpy(text + n + big, "\nresolution = 2k\n", 18);
	CHECK(ini(&o, text) == -1);
	CHECK(strncmp(err, cut, strlen(cut)) == 0);
	CHECK(strstr(err, "x...' is not one of auto") != NULL);
	CHECK(strlen(err) < 250 && !strchr(err, '\n'));
	core_opts_free(&o);

	/* A 200 KB comment line is just a comment. */
	text[0] = '#';
	CHECK(ini(&o, text) == 0);
	CHECK_STR(o.resolution, "2k");
	core_opts_free(&o);

	/* Bigger than SIDECAR_MAX_FILE: refused before parsing. */
	memset(text, '#', SIDECAR_MAX_FILE + 1);
	CHECK(ini_n(&o, text, SIDECAR_MAX_FILE + 1) == -1);
	CHECK_STR(err, INI ": 262145 bytes, the limit is 262144");
	core_opts_free(&o);
	CHECK(ini_n(&o, text, SIDECAR_MAX_FILE) == 0); /* all comment */
	core_opts_free(&o);
	free(text);
}

/* A long key in a message is cut at a character boundary. */
static void test_ini_quote_cut(void)
{
	struct buf b;
	struct job_opts o;
	const char *q;
	int i;

	buf_init(&b, 4096);
	buf_addstr(&b, "k");
	for (i = 0; i < 100; i++)
		buf_addstr(&b, "\xc3\xa9"); /* é: byte 60 is inside one */
	buf_addstr(&b, " = 1");
	CHECK(ini(&o, buf_str(&b)) == -1);
	q = strstr(err, "'k");
	CHECK(q && strlen(q) == 1 + 59 + 3 + 1); /* k + 29 é + ... + ' */
	CHECK(q && strcmp(q + 60, "...'") == 0);
	core_opts_free(&o);
	buf_free(&b);
}

/* User text that is not UTF-8 is quoted with '?' for each bad byte, so the
 * message (which ends up in a status file) is always valid UTF-8. */
static const struct {
	bool is_json;
	const char *text;
	const char *want;
} bad_utf8[] = {
	{ false, "\xff\xfe = 1k", INI ": line 1: unknown key '\?\?'" },
	{ true, "{\"\xff\xfe\":1}", JSN ": line 1: unknown key '\?\?'" },
	/* valid characters kept, a cut-short one is one '?' per byte */
	{ false, "caf\xc3\xa9\xe2\x82 = 1",
	  INI ": line 1: unknown key 'caf\xc3\xa9\?\?'" },
	{ true, "{\"caf\xc3\xa9\xe2\x82\":1}",
	  JSN ": line 1: unknown key 'caf\xc3\xa9\?\?'" },
	/* overlong, surrogate, past U+10FFFF, lone continuation byte */
	{ false, "resolution = \xc0\x80",
	  INI ": line 1: key 'resolution': '\?\?' is not one of 1k 2k 4k" },
	{ true, "{\"resolution\":\"\xed\xa0\x80\"}",
	  JSN ": line 1: key 'resolution': '\?\?\?' is not one of 1k 2k 4k" },
	{ false, "aspect_ratio = \xf4\x90\x80\x80",
	  INI
	  ": line 1: key 'aspect_ratio': '\?\?\?\?' is not one of " ALL_RATIOS },
	{ true,
	  "{\"aspect_ratio\":\"16\x80"
	  "9\"}",
	  JSN
	  ": line 1: key 'aspect_ratio': '16?9' is not one of " ALL_RATIOS },
	{ false, "\xfe\n", INI ": line 1: no '=' in '\?'" },
};

static void test_quote_bad_utf8(void)
{
	struct job_opts o;
	size_t i;

	for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		if (bad_utf8[i].is_json)
			CHECK(json(&o, bad_utf8[i].text) == -1);
		else
			CHECK(ini(&o, bad_utf8[i].text) == -1);
		CHECK_STR(err, bad_utf8[i].want);
		CHECK(utf8_valid(err, strlen(err)));
		CHECK(strchr(err, '?') != NULL);
		core_opts_free(&o);
	}
}

/* The cut at QUOTE_MAX bytes still falls on a character boundary when bad
 * bytes and characters are mixed: 58 bad bytes, then a 3-byte character
 * that would end past byte 60. */
static void test_quote_bad_utf8_cut(void)
{
	struct buf b;
	struct job_opts o;
	const char *q;
	int i;

	buf_init(&b, 4096);
	for (i = 0; i < 58; i++)
		buf_addstr(&b, "\xff");
	buf_addstr(&b, "\xe2\x82\xac\xff = 1");
	CHECK(ini(&o, buf_str(&b)) == -1);
	CHECK(utf8_valid(err, strlen(err)));
	q = strstr(err, "'?");
	CHECK(q && strlen(q) == 1 + 58 + 3 + 1);
	CHECK(q && strspn(q + 1, "?") == 58 && strcmp(q + 59, "...'") == 0);
	core_opts_free(&o);
	buf_free(&b);
}

/* 10,000 keys: handled (or refused) at once, without a crash. */
static void test_ini_many_keys(void)
{
	static const char *const lines[] = {
		"aspect_ratio = 1:1\n",
		"image_url = https://a/x\n",
		"colour = red\n",
		"# just a comment\n",
		"\r\n",
	};
	static const char *const want[] = {
		INI
		": line 2: key 'aspect_ratio' given twice (first on line 1)",
		INI
		": line 17: key 'image_url': 17 image URLs in all, the limit is 16",
		INI ": line 1: unknown key 'colour'",
		"",
		"",
	};
	struct job_opts o;
	struct buf b;
	clock_t t0;
	size_t i;
	int n;

	buf_init(&b, SIDECAR_MAX_FILE);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		buf_reset(&b);
		for (n = 0; n < 10000; n++)
			CHECK(buf_addstr(&b, lines[i]) == 0);
		t0 = clock();
		CHECK(ini(&o, buf_str(&b)) == (want[i][0] ? -1 : 0));
		CHECK(clock() - t0 < CLOCKS_PER_SEC / 2);
		CHECK_STR(err, want[i]);
		core_opts_free(&o);
	}
	buf_free(&b);
}

/* err may be small or absent: cut, never overflowed. */
static void test_small_err(void)
{
	struct job_opts o;
	char small[8];

	core_opts_init(&o, "auto", "1k", true);
	memset(small, 'Z', sizeof(small));
	CHECK(core_opts_parse_ini(&o, INI, "colour = red", 12, small, 8) == -1);
	CHECK_STR(small, "jobs/ca");
	CHECK(core_opts_parse_ini(&o, INI, "colour = red", 12, NULL, 0) == -1);
	CHECK(core_opts_validate(&o, 0, TXT, NULL, NULL, 0) == -1);
	core_opts_free(&o);
}

int main(void)
{
	test_ini_urls_limit();
	test_ini_long();
	test_ini_quote_cut();
	test_quote_bad_utf8();
	test_quote_bad_utf8_cut();
	test_ini_many_keys();
	test_small_err();
	return check_result("test_opts_limits");
}
