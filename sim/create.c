/* Validation of a create request, in doc/api.md's order and words: the body,
 * then model, input and its fields, then callback_url. */
#include "create.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsoncheck.h"
#include "util/json.h"

#define BODY_MAX_TOKENS 4096
#define URL_MAX 8192
#define NAME_MAX_BYTES 64

struct aspect {
	const char *name;
	int w, h;
	bool for_4k;
};

static const struct aspect aspects[] = {
	{ "auto", 1, 1, false }, { "1:1", 1, 1, false },
	{ "5:4", 5, 4, false },	 { "4:3", 4, 3, false },
	{ "3:2", 3, 2, false },	 { "16:9", 16, 9, true },
	{ "21:9", 21, 9, true }, { "9:16", 9, 16, true },
	{ "4:5", 4, 5, false },	 { "3:4", 3, 4, false },
	{ "2:3", 2, 3, false },	 { "2:1", 2, 1, true },
	{ "1:2", 1, 2, true },	 { "9:21", 9, 21, true },
};

struct resolution {
	const char *name;
	uint32_t long_side;
	int64_t price;
	bool limits_aspect; /* needs an explicit for_4k aspect ratio */
};

static const struct resolution resolutions[] = {
	{ "1k", 1024, 4700, false },
	{ "2k", 2048, 9400, false },
	{ "4k", 4096, 14100, true },
};

static int fail(struct sim_create_error *err, unsigned status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct sim_create_error *err, unsigned status, const char *code,
		const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

#define INVALID(err, ...) fail(err, 400, "invalid_request", __VA_ARGS__)

/* Every member of the object at obj must be named in known[] and appear
 * once. */
static int check_members(const struct json_doc *doc, int obj,
			 const char *const *known, size_t nknown,
			 const char *where, struct sim_create_error *err)
{
	int k = obj + 1;

	for (int m = 0; m < doc->tok[obj].size; m++) {
		char *name = json_get_string(doc, k, NAME_MAX_BYTES);
		size_t i = nknown;
		int rc = 0;

		if (name)
			for (i = 0; i < nknown; i++)
				if (strcmp(known[i], name) == 0)
					break;
		if (i == nknown)
			rc = INVALID(err, "Unknown field '%s%s'.", where,
				     name ? name : "(a long name)");
		else if (json_get(doc, obj, name) != k + 1)
			rc = INVALID(err, "Duplicate field '%s%s'.", where,
				     name);
		free(name);
		if (rc < 0)
			return rc;
		k = json_skip(doc, k + 1);
	}
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static bool is_http_url(const char *s)
{
	size_t skip;

	if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (s[skip] == '\0' || s[skip] == '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int parse_prompt(struct sim_create *c, const struct json_doc *doc,
			int in, struct sim_create_error *err)
{
	int i = json_get(doc, in, "prompt");

	if (i < 0) {
		c->prompt = strdup("");
		return c->prompt ? 0 :
				   fail(err, 500, "internal_error",
					"Out of memory.");
	}
	if (!json_is_string(doc, i))
		return INVALID(err, "'input.prompt' must be a string.");
	c->prompt = json_get_string(doc, i, (size_t)SIM_PROMPT_MAX_CHARS * 4);
	if (!c->prompt || utf8_chars(c->prompt) > SIM_PROMPT_MAX_CHARS)
		return INVALID(err,
			       "'input.prompt' must be at most %d "
			       "characters (and no NUL).",
			       SIM_PROMPT_MAX_CHARS);
	return 0;
}

static int parse_urls(struct sim_create *c, const struct json_doc *doc, int in,
		      struct sim_create_error *err)
{
	int i = json_get(doc, in, "image_urls");
	int n, e;

	if (i < 0)
		return 0;
	n = json_array_len(doc, i);
	if (n < 0)
		return INVALID(err, "'input.image_urls' must be an array of "
				    "URL strings.");
	if (n > SIM_URLS_MAX)
		return INVALID(err,
			       "'input.image_urls' may hold at most %d "
			       "URLs.",
			       SIM_URLS_MAX);
	e = i + 1;
	for (int k = 0; k < n; k++, e = json_skip(doc, e)) {
		char *url = json_get_string(doc, e, URL_MAX);
		bool ok = url && is_http_url(url);

		free(url);
		if (!ok)
			return INVALID(err,
				       "'input.image_urls[%d]' must be an "
				       "http:// or https:// URL.",
				       k);
	}
	c->n_urls = n;
	return 0;
}

static int aspect_index(const char *name)
{
	for (size_t i = 0; i < sizeof(aspects) / sizeof(*aspects); i++)
		if (strcmp(aspects[i].name, name) == 0)
			return (int)i;
	return -2;
}

static int resolution_index(const char *name)
{
	for (size_t i = 0; i < sizeof(resolutions) / sizeof(*resolutions); i++)
		if (strcmp(resolutions[i].name, name) == 0)
			return (int)i;
	return -2;
}

/* The index that lookup gives for string member `key`: -1 when absent, -2
 * when it is not one of the names. */
static int pick(const struct json_doc *doc, int in, const char *key,
		int (*lookup)(const char *name))
{
	int i = json_get(doc, in, key);
	char *s;
	int found;

	if (i < 0)
		return -1;
	s = json_get_string(doc, i, NAME_MAX_BYTES);
	found = s ? lookup(s) : -2;
	free(s);
	return found;
}

static int parse_shape(struct sim_create *c, const struct json_doc *doc, int in,
		       struct sim_create_error *err)
{
	int a = pick(doc, in, "aspect_ratio", aspect_index);
	int r = pick(doc, in, "resolution", resolution_index);

	if (a == -2)
		return INVALID(err,
			       "'input.aspect_ratio' must be one of auto "
			       "1:1 5:4 4:3 3:2 16:9 21:9 9:16 4:5 3:4 2:3 2:1 "
			       "1:2 9:21.");
	if (r == -2)
		return INVALID(err, "'input.resolution' must be one of 1k 2k "
				    "4k.");
	if (r >= 0 && resolutions[r].limits_aspect &&
	    (a < 0 || !aspects[a].for_4k))
		return INVALID(err, "'input.resolution' 4k needs an explicit "
				    "'input.aspect_ratio' of 16:9 9:16 2:1 1:2 "
				    "21:9 9:21.");
	if (a < 0)
		a = 0;
	if (r < 0)
		r = 0;
	c->ratio_w = aspects[a].w;
	c->ratio_h = aspects[a].h;
	c->long_side = resolutions[r].long_side;
	c->price = resolutions[r].price;
	return 0;
}

static int parse_input(struct sim_create *c, const struct json_doc *doc,
		       struct sim_create_error *err)
{
	static const char *const known[] = {
		"prompt",     "image_urls",   "aspect_ratio",
		"resolution", "nsfw_checker",
	};
	int in = json_get(doc, 0, "input");
	int i;

	if (in < 0)
		return INVALID(err, "'input' is required.");
	if (!json_is_object(doc, in))
		return INVALID(err, "'input' must be an object.");
	if (check_members(doc, in, known, sizeof(known) / sizeof(*known),
			  "input.", err) < 0 ||
	    parse_prompt(c, doc, in, err) < 0 ||
	    parse_urls(c, doc, in, err) < 0)
		return -1;
	if (c->prompt[0] == '\0' && c->n_urls == 0)
		return INVALID(err, "At least one of 'input.prompt' and "
				    "'input.image_urls' is required.");
	if (parse_shape(c, doc, in, err) < 0)
		return -1;
	i = json_get(doc, in, "nsfw_checker");
	if (i >= 0 && json_get_bool(doc, i, &c->nsfw_checker) < 0)
		return INVALID(err, "'input.nsfw_checker' must be a boolean.");
	return 0;
}

static int parse_model(const struct json_doc *doc, struct sim_create_error *err)
{
	int i = json_get(doc, 0, "model");
	char *model;
	int rc = 0;

	if (i < 0)
		return INVALID(err, "'model' is required.");
	if (!json_is_string(doc, i))
		return INVALID(err, "'model' must be a string.");
	model = json_get_string(doc, i, NAME_MAX_BYTES);
	if (!model || strcmp(model, "gpt-image-2") != 0)
		rc = fail(err, 404, "model_not_found",
			  "The model '%s' does "
			  "not exist or is disabled.",
			  model ? model : "?");
	free(model);
	return rc;
}

static int parse_callback(struct sim_create *c, const struct json_doc *doc,
			  struct sim_create_error *err)
{
	int i = json_get(doc, 0, "callback_url");

	if (i < 0)
		return 0;
	c->callback_url = json_get_string(doc, i, URL_MAX);
	if (!c->callback_url || !is_http_url(c->callback_url))
		return INVALID(err, "'callback_url' must be an http:// or "
				    "https:// URL.");
	return 0;
}

int sim_create_parse(struct sim_create *c, const char *body, size_t len,
		     struct sim_create_error *err)
{
	static const char *const known[] = { "model", "input", "callback_url" };
	struct json_doc doc;
	int rc;

	memset(c, 0, sizeof(*c));
	c->nsfw_checker = true;
	if (!sim_utf8_valid(body, len))
		return INVALID(err, "The request body is not valid UTF-8.");
	if (json_parse(&doc, body, len, BODY_MAX_TOKENS) < 0)
		return INVALID(err,
			       errno == E2BIG ?
				       "The request body has too many values." :
				       "The request body is not valid JSON.");
	if (!json_is_object(&doc, 0))
		rc = INVALID(err, "The request body must be a JSON object.");
	else
		rc = check_members(&doc, 0, known,
				   sizeof(known) / sizeof(*known), "", err);
	if (rc == 0)
		rc = parse_model(&doc, err);
	if (rc == 0)
		rc = parse_input(c, &doc, err);
	if (rc == 0)
		rc = parse_callback(c, &doc, err);
	json_doc_free(&doc);
	if (rc < 0)
		sim_create_free(c);
	return rc;
}

void sim_create_free(struct sim_create *c)
{
	free(c->prompt);
	free(c->callback_url);
	c->prompt = NULL;
	c->callback_url = NULL;
}

static uint32_t scaled(double v)
{
	long px = lround(v);

	return px < 1 ? 1 : (uint32_t)px;
}

void sim_image_size(const struct sim_create *c, double scale, uint32_t *w,
		    uint32_t *h)
{
	double side = c->long_side * scale;

	if (c->ratio_w >= c->ratio_h) {
		*w = scaled(side);
		*h = scaled(side * c->ratio_h / c->ratio_w);
	} else {
		*h = scaled(side);
		*w = scaled(side * c->ratio_w / c->ratio_h);
	}
}

/* The value after `tag` in prompt up to the closing bracket, into out. */
static bool directive(const char *prompt, const char *tag, char *out,
		      size_t outlen)
{
	const char *p = strstr(prompt, tag);
	size_t n;

	if (!p)
		return false;
	p += strlen(tag);
	n = strcspn(p, "]");
	if (p[n] != ']' || n >= outlen)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* [sim:url=URL]: any scheme, but printable and with nothing that JSON
 * would need escaped, so that the task's answer can carry it as it is. */
static void output_url(const char *prompt, struct sim_directives *d)
{
	char url[SIM_URL_MAX];
	size_t i;

	if (!directive(prompt, "[sim:url=", url, sizeof(url)) || !url[0])
		return;
	for (i = 0; url[i]; i++)
		if (url[i] <= ' ' || url[i] > '~' || url[i] == '"' ||
		    url[i] == '\\')
			return;
	memcpy(d->output_url, url, sizeof(url));
}

void sim_directives_parse(const char *prompt, struct sim_directives *d)
{
	char value[64];

	memset(d, 0, sizeof(*d));
	d->outputs = 1;
	if (directive(prompt, "[sim:fail=", value, sizeof(value)) && value[0] &&
	    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
		    strlen(value))
		snprintf(d->fail_code, sizeof(d->fail_code), "%s", value);
	if (directive(prompt, "[sim:outputs=", value, sizeof(value)) &&
	    value[0] >= '1' && value[0] <= '4' && value[1] == '\0')
		d->outputs = value[0] - '0';
	if (strstr(prompt, "[sim:nonimage]"))
		d->nonimage = SIM_NONIMAGE_HTML;
	else if (strstr(prompt, "[sim:nonimage=zeros]"))
		d->nonimage = SIM_NONIMAGE_ZEROS;
	else if (strstr(prompt, "[sim:nonimage=gzip]"))
		d->nonimage = SIM_NONIMAGE_GZIP;
	d->noise = strstr(prompt, "[sim:noise]") != NULL;
	output_url(prompt, d);
}
