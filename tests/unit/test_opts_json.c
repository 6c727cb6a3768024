/* core/opts.c, core/opts_sidecar.c: the .json sidecar, and the options
 * themselves: defaults, copies, price, the canonical JSON. */
#include <time.h>

#include "opts_fixture.h"

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

int main(void)
{
	test_json_good();
	test_json_bad();
	test_json_limits();
	test_json_round_trip();
	test_init_copy();
	test_price();
	test_to_json();
	return check_result("test_opts_json");
}
