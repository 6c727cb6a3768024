/* core/opts.c, core/opts_sidecar.c: the .opts and .json sidecars, the
 * prompt rules, the checks of gptimgfs(1), SIDECARS, the canonical JSON. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/opts.h"
#include "util/buf.h"
#include "util/utf8.h"

#define INI "jobs/cat.opts"
#define JSN "jobs/cat.json"
#define TXT "jobs/cat.txt"
#define ALL_RATIOS \
	"auto 1:1 5:4 4:3 3:2 16:9 21:9 9:16 4:5 3:4 2:3 2:1 1:2 9:21"

static char err[512];

/* Parse text over the built-in defaults (auto, 1k, true). */
static int ini_n(struct job_opts *o, const char *text, size_t len)
{
	core_opts_init(o, "auto", "1k", true);
	err[0] = '\0';
	return core_opts_parse_ini(o, INI, text, len, err, sizeof(err));
}

static int ini(struct job_opts *o, const char *text)
{
	return ini_n(o, text, strlen(text));
}

static int json_n(struct job_opts *o, const char *text, size_t len)
{
	core_opts_init(o, "auto", "1k", true);
	err[0] = '\0';
	return core_opts_parse_json(o, JSN, text, len, err, sizeof(err));
}

static int json(struct job_opts *o, const char *text)
{
	return json_n(o, text, strlen(text));
}

/* The canonical JSON of o, in a static buffer. */
static const char *canon(const struct job_opts *o)
{
	static char s[4096];
	struct buf b;

	buf_init(&b, sizeof(s) - 1);
	s[0] = '\0';
	if (core_opts_to_json(o, &b) == 0)
		memcpy(s, buf_str(&b), b.len + 1);
	buf_free(&b);
	return s;
}

/* ---- .opts: accepted ---- */

static const struct {
	const char *text;
	const char *want; /* the canonical JSON after parsing */
	bool given;	  /* aspect_ratio_given */
} ini_good[] = {
	{ "",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "\n\n   \n\t\n",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "# comment = x\n; resolution = 4k\n   # indented\n\t; tabbed\n",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "aspect_ratio = 16:9\n",
	  "{\"aspect_ratio\":\"16:9\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  true },
	{ "aspect_ratio=1:1",
	  "{\"aspect_ratio\":\"1:1\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  true },
	{ "aspect_ratio = auto",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  true },
	{ "  aspect_ratio\t=\t\"21:9\"  \r\n",
	  "{\"aspect_ratio\":\"21:9\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  true },
	{ "resolution = 2k",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"2k\",\"nsfw_checker\":true}",
	  false },
	{ "resolution = 2K",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"2k\",\"nsfw_checker\":true}",
	  false },
	{ "resolution = \"4K\"\r\naspect_ratio = 9:16\r\n",
	  "{\"aspect_ratio\":\"9:16\",\"resolution\":\"4k\",\"nsfw_checker\":true}",
	  true },
	{ "nsfw_checker = off",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":false}",
	  false },
	{ "nsfw_checker = NO",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":false}",
	  false },
	{ "nsfw_checker = False",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":false}",
	  false },
	{ "nsfw_checker = 0",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":false}",
	  false },
	{ "nsfw_checker = yes",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "image_url = https://example.com/a.png",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"https://example.com/a.png\"]}",
	  false },
	/* ';' and '#' inside a value are not comments (pre-signed URLs) */
	{ "image_url = HTTP://Example.com/a;b=c?sig=x#frag;not-a-comment",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"HTTP://Example.com/a;b=c?sig=x#frag;not-a-comment\"]}",
	  false },
	{ "image_url = https://h/a;sig=1#x\nimage_url=\"http://user:pw@h:8080/b\"\n",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"https://h/a;sig=1#x\",\"http://user:pw@h:8080/b\"]}",
	  false },
	{ "image_urls = https://a/1, https://b/2  https://c/3,https://d/4\t,, http://[::1]:80/5",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"https://a/1\",\"https://b/2\",\"https://c/3\",\"https://d/4\",\"http://[::1]:80/5\"]}",
	  false },
	{ "image_url = https://a/1\nimage_urls = https://b/2\nimage_url = https://c/3?q",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"https://a/1\",\"https://b/2\",\"https://c/3?q\"]}",
	  false },
	{ "\xef\xbb\xbfresolution = 2k\n", /* a byte order mark */
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"2k\",\"nsfw_checker\":true}",
	  false },
	{ "image_url = https://x.example/caf\xc3\xa9",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"https://x.example/caf\xc3\xa9\"]}",
	  false },
};

static void test_ini_good(void)
{
	size_t i;

	for (i = 0; i < sizeof(ini_good) / sizeof(ini_good[0]); i++) {
		struct job_opts o;

		CHECK(ini(&o, ini_good[i].text) == 0);
		CHECK_STR(err, "");
		CHECK_STR(canon(&o), ini_good[i].want);
		CHECK(o.aspect_ratio_given == ini_good[i].given);
		core_opts_free(&o);
	}
}

static void test_ini_all_values(void)
{
	static const char *const ratios[] = {
		"auto", "1:1", "5:4", "4:3", "3:2", "16:9", "21:9",
		"9:16", "4:5", "3:4", "2:3", "2:1", "1:2",  "9:21",
	};
	static const struct {
		const char *word;
		bool value;
	} bools[] = {
		{ "true", true }, { "false", false }, { "yes", true },
		{ "no", false },  { "on", true },     { "off", false },
		{ "1", true },	  { "0", false },     { "TRUE", true },
		{ "Off", false }, { "YeS", true },
	};
	static const char *const resolutions[] = { "1k", "2k", "4k", "1K",
						   "4K" };
	char text[64];
	struct job_opts o;
	size_t i;

	for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		snprintf(text, sizeof(text), "aspect_ratio = %s\n", ratios[i]);
		CHECK(ini(&o, text) == 0);
		CHECK_STR(o.aspect_ratio, ratios[i]);
		CHECK(core_opts_valid_aspect_ratio(ratios[i]));
		core_opts_free(&o);
	}
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool b = !bools[i].value;

		snprintf(text, sizeof(text), "nsfw_checker=%s", bools[i].word);
		core_opts_init(&o, "auto", "1k", !bools[i].value);
		CHECK(core_opts_parse_ini(&o, INI, text, strlen(text), err,
					  sizeof(err)) == 0);
		CHECK(o.nsfw_checker == bools[i].value);
		CHECK(core_opts_parse_bool(bools[i].word, &b) == 0 &&
		      b == bools[i].value);
		core_opts_free(&o);
	}
	for (i = 0; i < sizeof(resolutions) / sizeof(resolutions[0]); i++) {
		char lower[3] = { resolutions[i][0], 'k', '\0' };

		snprintf(text, sizeof(text), "resolution = %s", resolutions[i]);
		CHECK(ini(&o, text) == 0);
		CHECK_STR(o.resolution, lower);
		CHECK(core_opts_valid_resolution(resolutions[i]));
		core_opts_free(&o);
	}
}

static void test_value_lists(void)
{
	static const char *const bad_ratios[] = {
		"",  "AUTO",  "16:10",	"16:9 ", " 16:9", "16",
		"9", "1:1:1", "auto\n", "3:2x",	 "4:3;",
	};
	static const char *const bad_bools[] = {
		"", "2", "y", "n", "truee", "enabled", "true ", "-1",
	};
	size_t i;
	bool b;

	for (i = 0; i < sizeof(bad_ratios) / sizeof(bad_ratios[0]); i++)
		CHECK(!core_opts_valid_aspect_ratio(bad_ratios[i]));
	CHECK(!core_opts_valid_aspect_ratio(NULL));
	CHECK(!core_opts_valid_resolution("8k") &&
	      !core_opts_valid_resolution("") &&
	      !core_opts_valid_resolution("1") &&
	      !core_opts_valid_resolution("k") &&
	      !core_opts_valid_resolution("1k ") &&
	      !core_opts_valid_resolution(NULL));
	for (i = 0; i < sizeof(bad_bools) / sizeof(bad_bools[0]); i++)
		CHECK(core_opts_parse_bool(bad_bools[i], &b) == -1);
	CHECK(core_opts_parse_bool(NULL, &b) == -1);
}

/* ---- .opts: refused, with the exact message ---- */

static const struct {
	const char *text;
	const char *want;
} ini_bad[] = {
	{ "colour = red", INI ": line 1: unknown key 'colour'" },
	{ "\n# note\n\ncolour = red\n", INI ": line 4: unknown key 'colour'" },
	{ "Aspect_Ratio = 1:1", INI ": line 1: unknown key 'Aspect_Ratio'" },
	{ "image url = https://a/", INI ": line 1: unknown key 'image url'" },
	{ "prompt = a cat", INI
	  ": line 1: key 'prompt': the prompt is the content of the .txt file, not a sidecar member" },
	{ "resolution = 2k\nresolution = 8k",
	  INI ": line 2: key 'resolution' given twice (first on line 1)" },
	{ "resolution = 8k",
	  INI ": line 1: key 'resolution': '8k' is not one of 1k 2k 4k" },
	{ "\nresolution = 8k",
	  INI ": line 2: key 'resolution': '8k' is not one of 1k 2k 4k" },
	{ "resolution = 2k # big",
	  INI ": line 1: key 'resolution': '2k # big' is not one of 1k 2k 4k" },
	{ "resolution = 2k ; big",
	  INI ": line 1: key 'resolution': '2k ; big' is not one of 1k 2k 4k" },
	{ "resolution = '2k'",
	  INI ": line 1: key 'resolution': ''2k'' is not one of 1k 2k 4k" },
	{ "resolution = \"2k",
	  INI ": line 1: key 'resolution': '\"2k' is not one of 1k 2k 4k" },
	{ "aspect_ratio = 16:10", INI
	  ": line 1: key 'aspect_ratio': '16:10' is not one of " ALL_RATIOS },
	{ "aspect_ratio = AUTO", INI
	  ": line 1: key 'aspect_ratio': 'AUTO' is not one of " ALL_RATIOS },
	{ "nsfw_checker = maybe", INI
	  ": line 1: key 'nsfw_checker': 'maybe' is not one of true yes on 1 false no off 0" },
	{ "aspect_ratio = 1:1\n\n\naspect_ratio = 1:1",
	  INI ": line 4: key 'aspect_ratio' given twice (first on line 1)" },
	{ "nsfw_checker = on\r\nnsfw_checker = on\r\n",
	  INI ": line 2: key 'nsfw_checker' given twice (first on line 1)" },
	{ "image_urls = https://a/\nimage_urls = https://b/",
	  INI ": line 2: key 'image_urls' given twice (first on line 1)" },
	{ "garbage", INI ": line 1: no '=' in 'garbage'" },
	{ "resolution = 1k\r\n\r\n# c\r\n\r\ngarbage\r\n",
	  INI ": line 5: no '=' in 'garbage'" },
	{ "resolution 2k", INI ": line 1: no '=' in 'resolution 2k'" },
	{ "[job]\nresolution = 2k",
	  INI ": line 1: sections are not supported: '[job]'" },
	{ "= 2k", INI ": line 1: no key before '='" },
	{ "resolution =", INI ": line 1: key 'resolution': empty value" },
	{ "resolution = \"\"", INI ": line 1: key 'resolution': empty value" },
	{ "image_url =  \t\r\n", INI ": line 1: key 'image_url': empty value" },
	{ "image_url = ftp://x/a.png", INI
	  ": line 1: key 'image_url': 'ftp://x/a.png' is not an http:// or https:// URL" },
	{ "image_url = example.com/a.png", INI
	  ": line 1: key 'image_url': 'example.com/a.png' is not an http:// or https:// URL" },
	{ "image_url = https:/x", INI
	  ": line 1: key 'image_url': 'https:/x' is not an http:// or https:// URL" },
	{ "image_url = https://",
	  INI ": line 1: key 'image_url': URL 'https://' has no host" },
	{ "image_url = http:///a",
	  INI ": line 1: key 'image_url': URL 'http:///a' has no host" },
	{ "image_url = http://:80/a",
	  INI ": line 1: key 'image_url': URL 'http://:80/a' has no host" },
	{ "image_url = http://user@/a",
	  INI ": line 1: key 'image_url': URL 'http://user@/a' has no host" },
	{ "image_url = http://?q",
	  INI ": line 1: key 'image_url': URL 'http://?q' has no host" },
	{ "image_url = http://[]/",
	  INI ": line 1: key 'image_url': URL 'http://[]/' has no host" },
	{ "image_url = \"https://a/b c\"", INI
	  ": line 1: key 'image_url': URL 'https://a/b c' contains white space or a control character" },
	{ "image_url = https://a/\x01x", INI
	  ": line 1: key 'image_url': URL 'https://a/?x' contains white space or a control character" },
	{ "image_url = https://a/\x7f", INI
	  ": line 1: key 'image_url': URL 'https://a/?' contains white space or a control character" },
	{ "image_urls = https://a/1, ftp://b/2", INI
	  ": line 1: key 'image_urls': 'ftp://b/2' is not an http:// or https:// URL" },
	{ "image_urls = , ,",
	  INI ": line 1: key 'image_urls': no URL in ', ,'" },
	{ "image_url = https://a/1 https://b/2", INI
	  ": line 1: key 'image_url': URL 'https://a/1 https://b/2' contains white space or a control character" },
	/* user text in messages is one line: control characters shown as '?' */
	{ "col\rour = x", INI ": line 1: unknown key 'col?our'" },
	{ "col\x1b[31mour = x", INI ": line 1: unknown key 'col?[31mour'" },
};

static void test_ini_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(ini_bad) / sizeof(ini_bad[0]); i++) {
		struct job_opts o;

		CHECK(ini(&o, ini_bad[i].text) == -1);
		CHECK_STR(err, ini_bad[i].want);
		CHECK(o.n_urls == 0); /* nothing kept from a bad file */
		core_opts_free(&o);
	}
}

/* A sidecar with an error leaves the options as they were. */
static void test_ini_atomic(void)
{
	static const char text[] =
		"aspect_ratio = 1:1\nimage_url = https://a/\n"
		"nsfw_checker = no\nresolution = 8k\n";
	struct job_opts o;

	core_opts_init(&o, "16:9", "2k", true);
	CHECK(core_opts_parse_ini(&o, INI, text, strlen(text), err,
				  sizeof(err)) == -1);
	CHECK_STR(o.aspect_ratio, "16:9");
	CHECK_STR(o.resolution, "2k");
	CHECK(o.nsfw_checker && !o.aspect_ratio_given && o.n_urls == 0);
	core_opts_free(&o);
}

static void test_ini_nul(void)
{
	static const char text[] =
		"resolution = 2k\nimage_url = https://a/\0x\n";
	struct job_opts o;

	CHECK(ini_n(&o, text, sizeof(text) - 1) == -1);
	CHECK_STR(err, INI ": line 2: contains a NUL byte");
	core_opts_free(&o);
	CHECK(ini_n(&o, "\0", 1) == -1);
	CHECK_STR(err, INI ": line 1: contains a NUL byte");
	core_opts_free(&o);
}

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

/* ---- .json ---- */

static const struct {
	const char *text;
	const char *want;
	bool given;
} json_good[] = {
	{ "{}",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ " \n{ }\n",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "{\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\",\"nsfw_checker\":false,"
	  "\"image_urls\":[\"https://a/1\",\"http://b/2\"]}",
	  "{\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\",\"nsfw_checker\":false,\"image_urls\":[\"https://a/1\",\"http://b/2\"]}",
	  true },
	{ "{\n  \"resolution\": \"2K\",\n  \"nsfw_checker\": \"off\"\n}\n",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"2k\",\"nsfw_checker\":false}",
	  false },
	{ "{\"nsfw_checker\":\"YES\"}",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "{\"image_urls\":[]}",
	  "{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}",
	  false },
	{ "{\"image_urls\":[\"https:\\/\\/a\\/x;y#z\"],\"\\u0061spect_ratio\":\"2:1\"}",
	  "{\"aspect_ratio\":\"2:1\",\"resolution\":\"1k\",\"nsfw_checker\":true,\"image_urls\":[\"https://a/x;y#z\"]}",
	  true },
};

static const struct {
	const char *text;
	const char *want;
} json_bad[] = {
	{ "{\"prompt\":\"a cat\"}", JSN
	  ": line 1: key 'prompt': the prompt is the content of the .txt file, not a sidecar member" },
	{ "{\n\"colour\": 1}", JSN ": line 2: unknown key 'colour'" },
	{ "{\"image_url\":\"https://a/\"}",
	  JSN ": line 1: unknown key 'image_url'" },
	{ "{\"Resolution\":\"2k\"}", JSN ": line 1: unknown key 'Resolution'" },
	{ "{\"resolution\":\"2k\",\n\n \"resolution\":\"2k\"}",
	  JSN ": line 3: key 'resolution' given twice (first on line 1)" },
	{ "{\"image_urls\":[],\"image_urls\":[]}",
	  JSN ": line 1: key 'image_urls' given twice (first on line 1)" },
	{ "{\"resolution\":\"8k\"}",
	  JSN ": line 1: key 'resolution': '8k' is not one of 1k 2k 4k" },
	{ "{\"resolution\":2}",
	  JSN ": line 1: key 'resolution': must be a string" },
	{ "{\"aspect_ratio\":null}",
	  JSN ": line 1: key 'aspect_ratio': must be a string" },
	{ "{\"aspect_ratio\":[\"16:9\"]}",
	  JSN ": line 1: key 'aspect_ratio': must be a string" },
	{ "{\"aspect_ratio\":\"7:3\"}",
	  JSN ": line 1: key 'aspect_ratio': '7:3' is not one of " ALL_RATIOS },
	{ "{\"aspect_ratio\":\"\\u0000\"}", JSN
	  ": line 1: key 'aspect_ratio': invalid escape or \\u0000 in the string" },
	{ "{\"aspect_ratio\":\"\\ud800\"}", JSN
	  ": line 1: key 'aspect_ratio': invalid escape or \\u0000 in the string" },
	{ "{\"nsfw_checker\":\"maybe\"}", JSN
	  ": line 1: key 'nsfw_checker': 'maybe' is not one of true yes on 1 false no off 0" },
	{ "{\"nsfw_checker\":1}",
	  JSN ": line 1: key 'nsfw_checker': must be true or false" },
	{ "{\"nsfw_checker\":null}",
	  JSN ": line 1: key 'nsfw_checker': must be true or false" },
	{ "{\"image_urls\":\"https://a/\"}",
	  JSN ": line 1: key 'image_urls': must be an array of strings" },
	{ "{\"image_urls\":{}}",
	  JSN ": line 1: key 'image_urls': must be an array of strings" },
	{ "{\"image_urls\":[\"https://a/\",1]}",
	  JSN ": line 1: key 'image_urls': element 2 is not a string" },
	{ "{\"image_urls\":[[\"https://a/\"]]}",
	  JSN ": line 1: key 'image_urls': element 1 is not a string" },
	{ "{\"image_urls\":[\"ftp://a/\"]}", JSN
	  ": line 1: key 'image_urls': 'ftp://a/' is not an http:// or https:// URL" },
	{ "{\"image_urls\":[\"https://a/\\n\"]}", JSN
	  ": line 1: key 'image_urls': URL 'https://a/?' contains white space or a control character" },
	{ "{\"image_urls\":[\"https://a/\\u0000\"]}", JSN
	  ": line 1: key 'image_urls': element 1 has an invalid escape or \\u0000" },
	{ "{\"image_urls\":[\"\"]}", JSN
	  ": line 1: key 'image_urls': '' is not an http:// or https:// URL" },
	{ "{\"\\u0000\":1}",
	  JSN ": line 1: a member name is too long or has an invalid escape" },
	{ "[]", JSN ": not a JSON object" },
	{ "\"resolution = 2k\"", JSN ": not a JSON object" },
	{ "resolution = 2k", JSN ": line 1: malformed JSON" },
	{ "{\"resolution\":\"2k\"", JSN ": line 1: malformed JSON" },
	{ "{\"resolution\":\"2k\",}", JSN ": line 1: malformed JSON" },
	{ "{\"a\":1}\n\n}", JSN ": line 3: malformed JSON" },
	{ "{}\n{}", JSN ": line 2: malformed JSON" },
	{ "{\n\"resolution\":\n'2k'}", JSN ": line 3: malformed JSON" },
	{ "", JSN ": empty, expected a JSON object" },
	{ " \n\t", JSN ": empty, expected a JSON object" },
};

static void test_json_good(void)
{
	size_t i;

	for (i = 0; i < sizeof(json_good) / sizeof(json_good[0]); i++) {
		struct job_opts o;

		CHECK(json(&o, json_good[i].text) == 0);
		CHECK_STR(err, "");
		CHECK_STR(canon(&o), json_good[i].want);
		CHECK(o.aspect_ratio_given == json_good[i].given);
		core_opts_free(&o);
	}
}

static void test_json_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(json_bad) / sizeof(json_bad[0]); i++) {
		struct job_opts o;

		CHECK(json(&o, json_bad[i].text) == -1);
		CHECK_STR(err, json_bad[i].want);
		CHECK(o.n_urls == 0 && !o.aspect_ratio_given);
		core_opts_free(&o);
	}
}

static void test_json_limits(void)
{
	struct job_opts o;
	struct buf b;
	clock_t t0;
	int i;

	buf_init(&b, SIDECAR_MAX_FILE + 1);
	/* 16 URLs fine, 17 refused with the count */
	buf_addstr(&b, "{\"image_urls\":[");
	for (i = 1; i <= 16; i++)
		buf_printf(&b, "%s\"https://img.example/%d\"", i > 1 ? "," : "",
			   i);
	CHECK(json(&o, buf_str(&b)) == -1); /* no closing yet */
	core_opts_free(&o);
	buf_addstr(&b, "]}");
	CHECK(json(&o, buf_str(&b)) == 0 && o.n_urls == 16);
	core_opts_free(&o);
	b.len -= 2;
	buf_addstr(&b, ",\"https://img.example/17\"]}");
	CHECK(json(&o, buf_str(&b)) == -1);
	CHECK_STR(
		err, JSN
		": line 1: key 'image_urls': 17 image URLs in all, the limit is 16");
	core_opts_free(&o);

	/* 10,000 members: refused at once */
	buf_reset(&b);
	buf_addstr(&b, "{");
	for (i = 0; i < 10000; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_addstr(&b, "}");
	t0 = clock();
	CHECK(json(&o, buf_str(&b)) == -1);
	CHECK(clock() - t0 < CLOCKS_PER_SEC / 2);
	CHECK_STR(err, JSN ": more than 256 JSON values, not a sidecar");
	core_opts_free(&o);

	/* 10,000 duplicate members: same */
	buf_reset(&b);
	buf_addstr(&b, "{");
	for (i = 0; i < 10000; i++)
		buf_printf(&b, "%s\"resolution\":\"2k\"", i ? "," : "");
	buf_addstr(&b, "}");
	CHECK(json(&o, buf_str(&b)) == -1);
	CHECK_STR(err, JSN ": more than 256 JSON values, not a sidecar");
	core_opts_free(&o);

	/* A NUL byte */
	CHECK(json_n(&o, "{}\0", 3) == -1);
	CHECK_STR(err, JSN ": line 1: malformed JSON");
	core_opts_free(&o);
	CHECK(json_n(&o, "{\"resolution\":\"2\0k\"}", 20) == -1);
	CHECK_STR(err, JSN ": line 1: malformed JSON");
	core_opts_free(&o);

	/* Too big */
	buf_reset(&b);
	buf_addstr(&b, "{}");
	while (b.len <= SIDECAR_MAX_FILE)
		buf_addstr(&b, " ");
	CHECK(json_n(&o, buf_str(&b), b.len) == -1);
	CHECK_STR(err, JSN ": 262145 bytes, the limit is 262144");
	core_opts_free(&o);
	CHECK(json_n(&o, buf_str(&b), b.len - 1) == 0);
	core_opts_free(&o);
	buf_free(&b);
}

/* The canonical form parses back to itself (the job record keeps it). */
static void test_json_round_trip(void)
{
	struct job_opts o, back;
	char first[4096];

	CHECK(ini(&o,
		  "aspect_ratio = 9:21\nresolution = 2K\nnsfw_checker = no\n"
		  "image_urls = https://a/x?q=\"1\"\\ https://b/y\n") == 0);
	snprintf(first, sizeof(first), "%s", canon(&o));
	CHECK_STR(first, "{\"aspect_ratio\":\"9:21\",\"resolution\":\"2k\","
			 "\"nsfw_checker\":false,\"image_urls\":"
			 "[\"https://a/x?q=\\\"1\\\"\\\\\",\"https://b/y\"]}");
	core_opts_init(&back, NULL, NULL, true);
	CHECK(core_opts_parse_json(&back, "record", first, strlen(first), err,
				   sizeof(err)) == 0);
	CHECK_STR(canon(&back), first);
	core_opts_free(&back);
	core_opts_free(&o);
}

/* ---- the prompt ---- */

static const struct {
	const char *text;
	size_t len;	  /* 0: strlen(text) */
	size_t plen;	  /* the prompt's length when accepted */
	const char *want; /* the error, or NULL */
} prompts[] = {
	{ "a cat", 0, 5, NULL },
	{ "a cat\n", 0, 5, NULL },
	{ "a cat\r\n", 0, 5, NULL },
	{ "a cat\n\n\r\n\n\r\n", 0, 5, NULL },
	{ "a\n\ncat\n", 0, 6, NULL },
	{ "a cat\r", 0, 6, NULL },    /* a lone CR is not a newline */
	{ "a cat\n \n", 0, 7, NULL }, /* nor is a space */
	{ "", 0, 0, NULL },
	{ "\n\r\n\n", 0, 0, NULL },
	/* blank is empty: white space and invisible characters only */
	{ "   \n\t \n", 0, 0, NULL },
	{ "\t\v\f\r", 0, 0, NULL },
	{ "\xc2\x85\xc2\xa0\xe1\x9a\x80\xe2\x80\x80\xe2\x80\x8a", 0, 0, NULL },
	{ "\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\x9f\xe3\x80\x80", 0, 0,
	  NULL },
	{ "\xef\xbb\xbf\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0\n", 0,
	  0, NULL },
	{ "\xef\xbb\xbf \xe3\x80\x80\t\xe2\x80\x8b\r\n", 0, 0, NULL },
	{ "\xef\xbb\xbf a \n", 0, 6, NULL }, /* one visible character */
	{ "\xe3\x80\x80.", 0, 4, NULL },
	{ "\xe1\xa0\x8e", 0, 3, NULL }, /* U+180E: not White_Space */
	{ "  \xc3\n", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 2" },
	{ " \0 ", 3, 0, TXT ": prompt has a NUL byte at byte offset 1" },
	{ "caf\xc3\xa9 \xf0\x9f\x90\x88 \xe4\xb8\xad", 0, 14, NULL },
	{ "\xef\xbf\xbf\xf4\x8f\xbf\xbf\xed\x9f\xbf", 0, 10, NULL },
	{ "ab\0c", 4, 0, TXT ": prompt has a NUL byte at byte offset 2" },
	{ "\0", 1, 0, TXT ": prompt has a NUL byte at byte offset 0" },
	{ "a cat\n\0\n", 8, 0, TXT ": prompt has a NUL byte at byte offset 6" },
	{ "ab\xc3", 0, 0, TXT ": prompt is not valid UTF-8 at byte offset 2" },
	{ "ab\xc3\n", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 2" },
	{ "\x80", 0, 0, TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "x\xc0\xaf", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 1" },
	{ "x\xc1\xbf", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 1" },
	{ "\xe0\x80\xaf", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xf0\x80\x80\xaf", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "ok \xed\xa0\x80", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 3" },
	{ "\xed\xbf\xbf", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xf4\x90\x80\x80", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xf5\x80\x80\x80", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xf8\x88\x80\x80\x80", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xff", 0, 0, TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xe4\xb8", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "\xe4\xb8x", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 0" },
	{ "latin1 caf\xe9", 0, 0,
	  TXT ": prompt is not valid UTF-8 at byte offset 10" },
};

static void test_prompt_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
		size_t len = prompts[i].len ? prompts[i].len :
					      strlen(prompts[i].text);
		size_t plen = 12345;
		int r;

		err[0] = '\0';
		r = core_prompt_check(TXT, prompts[i].text, len, &plen, err,
				      sizeof(err));
		if (prompts[i].want) {
			CHECK(r == -1);
			CHECK_STR(err, prompts[i].want);
		} else {
			CHECK(r == 0);
			CHECK(plen == prompts[i].plen);
			CHECK_STR(err, "");
		}
	}
}

/* n copies of the character c, then tail. */
static char *repeat(const char *c, size_t n, const char *tail, size_t *len)
{
	size_t cl = strlen(c), tl = strlen(tail), i;
	char *s = malloc(cl * n + tl + 1);

	for (i = 0; i < n; i++)
		memcpy(s + i * cl, c, cl);
	memcpy(s + n * cl, tail, tl + 1);
	*len = cl * n + tl;
	return s;
}

static void test_prompt_length(void)
{
	static const char *const chars[] = {
		"a",
		"\xc3\xa9",
		"\xe4\xb8\xad",
		"\xf0\x9f\x98\x80",
	};
	size_t i, len, plen;
	char *s;

	for (i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		size_t cl = strlen(chars[i]);

		s = repeat(chars[i], PROMPT_MAX_CHARS, "", &len);
		CHECK(core_prompt_check(TXT, s, len, &plen, err, sizeof(err)) ==
		      0);
		CHECK(plen == PROMPT_MAX_CHARS * cl);
		free(s);
		s = repeat(chars[i], PROMPT_MAX_CHARS, "\r\n\n\n", &len);
		CHECK(core_prompt_check(TXT, s, len, &plen, err, sizeof(err)) ==
		      0);
		CHECK(plen == PROMPT_MAX_CHARS * cl);
		free(s);
		s = repeat(chars[i], PROMPT_MAX_CHARS + 1, "\n", &len);
		CHECK(core_prompt_check(TXT, s, len, &plen, err, sizeof(err)) ==
		      -1);
		CHECK_STR(err, TXT
			  ": prompt has 20001 characters, the limit is 20000");
		free(s);
	}
	/* The whole 1 MiB is counted. */
	s = repeat("a", PROMPT_MAX_FILE, "", &len);
	CHECK(core_prompt_check(TXT, s, len, &plen, err, sizeof(err)) == -1);
	CHECK_STR(err,
		  TXT ": prompt has 1048576 characters, the limit is 20000");
	free(s);
}

/* ---- the validation table ---- */

/* 4k and ratio r, both the configuration's defaults, no sidecar */
#define NO_SIDECAR_4K(r)                                                       \
	TXT ": resolution 4k needs an aspect_ratio of 16:9 9:16 2:1 1:2 21:9 " \
	    "9:21, and there is no sidecar: the configuration's defaults are " \
	    "resolution 4k and aspect_ratio " r                                \
	    " (set aspect_ratio in a sidecar)"

#define EMPTY                                                           \
	TXT ": prompt is empty or only white space, and no image_url: " \
	    "nothing to generate"

static const struct {
	const char *ratio;
	const char *resolution;
	size_t prompt_len;
	size_t n_urls;
	const char *want; /* NULL: valid */
} rules[] = {
	{ "auto", "1k", 5, 0, NULL },
	{ "auto", "2k", 5, 0, NULL },
	{ "1:1", "2k", 5, 0, NULL },
	{ "auto", "1k", 0, 1, NULL }, /* edit without text */
	{ "auto", "1k", 0, 0, EMPTY },
	{ "16:9", "4k", 0, 0, EMPTY },
	{ "16:9", "4k", 5, 0, NULL },
	{ "9:16", "4k", 5, 0, NULL },
	{ "2:1", "4k", 5, 0, NULL },
	{ "1:2", "4k", 5, 0, NULL },
	{ "21:9", "4k", 5, 0, NULL },
	{ "9:21", "4k", 0, 2, NULL },
	{ "auto", "4k", 5, 0, NO_SIDECAR_4K("auto") },
	{ "1:1", "4k", 5, 0, NO_SIDECAR_4K("1:1") },
	{ "5:4", "4k", 5, 0, NO_SIDECAR_4K("5:4") },
	{ "4:3", "4k", 5, 0, NO_SIDECAR_4K("4:3") },
	{ "3:2", "4k", 5, 0, NO_SIDECAR_4K("3:2") },
	{ "4:5", "4k", 5, 0, NO_SIDECAR_4K("4:5") },
	{ "3:4", "4k", 5, 0, NO_SIDECAR_4K("3:4") },
	{ "2:3", "4k", 5, 0, NO_SIDECAR_4K("2:3") },
	{ "16:10", "1k", 5, 0,
	  TXT ": aspect_ratio '16:10' is not one of " ALL_RATIOS },
	{ "auto", "3k", 5, 0, TXT ": resolution '3k' is not one of 1k 2k 4k" },
};

static void test_validate(void)
{
	size_t i, u;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct job_opts o;
		int r;

		core_opts_init(&o, rules[i].ratio, rules[i].resolution, true);
		for (u = 0; u < rules[i].n_urls; u++)
			o.image_urls[o.n_urls++] = strdup("https://a/");
		err[0] = '\0';
		r = core_opts_validate(&o, rules[i].prompt_len, TXT, NULL, err,
				       sizeof(err));
		if (rules[i].want) {
			CHECK(r == -1);
			CHECK_STR(err, rules[i].want);
		} else {
			CHECK(r == 0);
			CHECK_STR(err, "");
		}
		core_opts_free(&o);
	}
}

/* The rules applied to what the sidecars give, over config defaults. */
static void test_validate_sidecars(void)
{
	struct job_opts o;

	/* 4k from the sidecar, 16:9 from the config: fine (always sent). */
	core_opts_init(&o, "16:9", "1k", true);
	CHECK(core_opts_parse_ini(&o, INI, "resolution = 4k", 15, err,
				  sizeof(err)) == 0);
	CHECK(!o.aspect_ratio_given);
	CHECK(core_opts_validate(&o, 5, TXT, INI, err, sizeof(err)) == 0);
	core_opts_free(&o);
	/* 4k from the sidecar, auto from the config: refused. */
	CHECK(ini(&o, "resolution = 4k") == 0);
	CHECK(core_opts_validate(&o, 5, TXT, INI, err, sizeof(err)) == -1);
	CHECK(strstr(err, INI ": line 1: key 'resolution': resolution 4k "
			      "needs an aspect_ratio") == err);
	core_opts_free(&o);
	CHECK(ini(&o, "resolution = 4k\naspect_ratio = 3:2") == 0);
	CHECK(core_opts_validate(&o, 5, TXT, INI, err, sizeof(err)) == -1);
	core_opts_free(&o);
	CHECK(json(&o, "{\"resolution\":\"4k\",\"aspect_ratio\":\"21:9\"}") ==
	      0);
	CHECK(core_opts_validate(&o, 5, TXT, JSN, err, sizeof(err)) == 0);
	core_opts_free(&o);
	/* Empty prompt with URLs from the sidecar. */
	CHECK(json(&o, "{\"image_urls\":[\"https://a/1\"]}") == 0);
	CHECK(core_opts_validate(&o, 0, TXT, JSN, err, sizeof(err)) == 0);
	core_opts_free(&o);
	CHECK(json(&o, "{\"image_urls\":[]}") == 0);
	CHECK(core_opts_validate(&o, 0, TXT, JSN, err, sizeof(err)) == -1);
	CHECK_STR(err, EMPTY);
	core_opts_free(&o);
}

#define LIST_4K "16:9 9:16 2:1 1:2 21:9 9:21"

/* A 4k error names the sidecar, the line and the key to edit (not the
 * prompt file), and says which value is the configuration's default. */
static void test_validate_4k_names_the_key(void)
{
	struct job_opts o;

	/* both keys in the sidecar: the aspect_ratio line */
	CHECK(ini(&o, "# wide\nresolution = 4k\n\naspect_ratio = 4:3") == 0);
	CHECK(core_opts_validate(&o, 5, TXT, INI, err, sizeof(err)) == -1);
	CHECK_STR(
		err, INI
		": line 4: key 'aspect_ratio': '4:3' does not go "
		"with resolution 4k (line 2): 4k needs an aspect_ratio of " LIST_4K);
	core_opts_free(&o);
	CHECK(json(&o, "{\n\"aspect_ratio\": \"auto\",\n"
		       "\"resolution\": \"4K\"\n}") == 0);
	CHECK(core_opts_validate(&o, 5, TXT, JSN, err, sizeof(err)) == -1);
	CHECK_STR(
		err, JSN
		": line 2: key 'aspect_ratio': 'auto' does not go "
		"with resolution 4k (line 3): 4k needs an aspect_ratio of " LIST_4K);
	core_opts_free(&o);
	/* 4k from the sidecar, the ratio a default: the resolution line */
	CHECK(ini(&o, "nsfw_checker = no\nresolution = 4k") == 0);
	CHECK(core_opts_validate(&o, 5, TXT, INI, err, sizeof(err)) == -1);
	CHECK_STR(err, INI ": line 2: key 'resolution': resolution 4k needs "
			   "an aspect_ratio of " LIST_4K
			   ", which the sidecar does not "
			   "set, and the configuration's default is auto");
	core_opts_free(&o);
	/* the ratio from the sidecar, 4k a default: the aspect_ratio line */
	core_opts_init(&o, "auto", "4k", true);
	CHECK(core_opts_parse_ini(&o, INI, "aspect_ratio = 1:1", 18, err,
				  sizeof(err)) == 0);
	CHECK(core_opts_validate(&o, 5, TXT, INI, err, sizeof(err)) == -1);
	CHECK_STR(
		err, INI
		": line 1: key 'aspect_ratio': '1:1' does not go "
		"with resolution 4k, which the sidecar does not set and is "
		"the configuration's default: 4k needs an aspect_ratio of " LIST_4K);
	core_opts_free(&o);
	/* both defaults, a sidecar that sets neither: the sidecar, no line */
	core_opts_init(&o, "auto", "4k", true);
	CHECK(core_opts_parse_json(&o, JSN, "{\"nsfw_checker\":false}", 22, err,
				   sizeof(err)) == 0);
	CHECK(core_opts_validate(&o, 5, TXT, JSN, err, sizeof(err)) == -1);
	CHECK_STR(err,
		  JSN ": resolution 4k needs an aspect_ratio of " LIST_4K
		      ", and the sidecar sets neither: the configuration's "
		      "defaults are resolution 4k and aspect_ratio auto (set "
		      "aspect_ratio in it)");
	core_opts_free(&o);
	/* a refused sidecar changes nothing, its lines included */
	core_opts_init(&o, "auto", "4k", true);
	CHECK(core_opts_parse_ini(&o, INI, "aspect_ratio = 1:1\ncolour = red",
				  31, err, sizeof(err)) == -1);
	CHECK(o.aspect_ratio_line == 0 && o.resolution_line == 0);
	core_opts_free(&o);
}

/* ---- defaults, copies, price, canonical JSON ---- */

static void test_init_copy(void)
{
	struct job_opts o, c;

	core_opts_init(&o, NULL, NULL, false);
	CHECK_STR(o.aspect_ratio, "auto");
	CHECK_STR(o.resolution, "1k");
	CHECK(!o.nsfw_checker && !o.aspect_ratio_given && o.n_urls == 0);
	core_opts_init(&o, "", "", true);
	CHECK_STR(o.aspect_ratio, "auto");
	CHECK_STR(o.resolution, "1k");
	core_opts_init(&o, "9:16", "2K", true);
	CHECK_STR(o.aspect_ratio, "9:16");
	CHECK_STR(o.resolution, "2k");
	core_opts_init(&o, "a-very-long-ratio", "1000k", true); /* do not fit */
	CHECK_STR(o.aspect_ratio, "auto");
	CHECK_STR(o.resolution, "1k");

	CHECK(ini(&o,
		  "image_urls = https://a/1 https://b/2\naspect_ratio = 1:1") ==
	      0);
	CHECK(core_opts_copy(&c, &o) == 0);
	CHECK(c.n_urls == 2 && c.image_urls[0] != o.image_urls[0]);
	CHECK_STR(c.image_urls[1], "https://b/2");
	CHECK_STR(canon(&c), canon(&o));
	CHECK(c.aspect_ratio_given);
	core_opts_free(&o);
	CHECK(o.n_urls == 0 && o.image_urls[0] == NULL);
	CHECK_STR(c.image_urls[0], "https://a/1"); /* still there */
	core_opts_free(&c);
	core_opts_free(&c); /* twice is harmless */
}

static void test_price(void)
{
	struct job_opts o;

	core_opts_init(&o, "auto", "1k", true);
	CHECK(core_opts_price(&o) == 4.7);
	core_opts_init(&o, "auto", "2k", true);
	CHECK(core_opts_price(&o) == 9.4);
	core_opts_init(&o, "16:9", "4K", true);
	CHECK(core_opts_price(&o) == 14.1);
}

static void test_to_json(void)
{
	struct job_opts o;
	struct buf b;

	core_opts_init(&o, "16:9", "4k", true);
	CHECK_STR(
		canon(&o),
		"{\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\",\"nsfw_checker\":true}");
	o.image_urls[o.n_urls++] = strdup("https://a/\"q\"\\");
	o.image_urls[o.n_urls++] = strdup("https://b/\xc3\xa9");
	o.nsfw_checker = false;
	CHECK_STR(
		canon(&o),
		"{\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\",\"nsfw_checker\":false,"
		"\"image_urls\":[\"https://a/\\\"q\\\"\\\\\",\"https://b/\xc3\xa9\"]}");
	/* Appends; and a full buffer is left as it was. */
	buf_init(&b, 100);
	CHECK(buf_addstr(&b, "x") == 0);
	CHECK(core_opts_to_json(&o, &b) == -1);
	CHECK_STR(buf_str(&b), "x");
	core_opts_free(&o);
	CHECK(core_opts_to_json(&o, &b) == 0);
	CHECK_STR(
		buf_str(&b),
		"x{\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\",\"nsfw_checker\":false}");
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
	test_ini_good();
	test_ini_all_values();
	test_value_lists();
	test_ini_bad();
	test_ini_atomic();
	test_ini_nul();
	test_ini_urls_limit();
	test_ini_long();
	test_ini_quote_cut();
	test_quote_bad_utf8();
	test_quote_bad_utf8_cut();
	test_ini_many_keys();
	test_json_good();
	test_json_bad();
	test_json_limits();
	test_json_round_trip();
	test_prompt_table();
	test_prompt_length();
	test_validate();
	test_validate_sidecars();
	test_validate_4k_names_the_key();
	test_init_copy();
	test_price();
	test_to_json();
	test_small_err();
	return check_result("test_opts");
}
