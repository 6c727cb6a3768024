/* core/opts.c: the prompt rules and the checks of gptimgfs(1), SIDECARS,
 * over the configuration's defaults and what the sidecars give. */
#include "opts_fixture.h"

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

int main(void)
{
	test_prompt_table();
	test_prompt_length();
	test_validate();
	test_validate_sidecars();
	test_validate_4k_names_the_key();
	return check_result("test_opts_rules");
}
