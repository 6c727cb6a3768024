/* core/opts_sidecar.c: the .opts sidecar of gptimgfs(1), SIDECARS, what it
 * accepts and what it refuses, with the exact message. */
#include "opts_fixture.h"

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

int main(void)
{
	test_ini_good();
	test_ini_all_values();
	test_value_lists();
	test_ini_bad();
	test_ini_atomic();
	test_ini_nul();
	return check_result("test_opts");
}
