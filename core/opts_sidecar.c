/* Reading a sidecar (jobs/NAME.opts, jobs/NAME.json) on top of the options
 * already given: the keys, the setter of each, and the two parsers. A
 * sidecar with an error changes nothing. See opts.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "util/json.h"

/* A JSON sidecar has 5 members and at most 16 URLs: far fewer tokens. */
#define SIDECAR_MAX_TOKENS 256
/* Longest member name worth decoding: longer ones are unknown anyway. */
#define KEY_MAX 64
/* What a sidecar that tries to set the prompt is told. */
#define NO_PROMPT_KEY \
	"key 'prompt': the prompt is the content of the .txt file, not a sidecar member"

enum key_id {
	KEY_ASPECT_RATIO,
	KEY_RESOLUTION,
	KEY_NSFW_CHECKER,
	KEY_IMAGE_URLS,
	KEY_IMAGE_URL, /* .opts only, and the only repeatable key */
	KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
	[KEY_ASPECT_RATIO] = "aspect_ratio", [KEY_RESOLUTION] = "resolution",
	[KEY_NSFW_CHECKER] = "nsfw_checker", [KEY_IMAGE_URLS] = "image_urls",
	[KEY_IMAGE_URL] = "image_url",
};

/* ---- the values, one setter a key ---- */

/* The setters below check one value and store it in o; on failure they
 * write the reason (without file, line and key) to why. */

static int set_aspect_ratio(struct job_opts *o, const char *v, char *why,
			    size_t whylen)
{
	const char *e = core_opts_aspect_ratio_error(v);
	struct quoted q;

	if (e) {
		snprintf(why, whylen, "'%s' %s",
			 core_opts_quote(&q, v, strlen(v)), e);
		return -1;
	}
	snprintf(o->aspect_ratio, sizeof(o->aspect_ratio), "%s", v);
	o->aspect_ratio_given = true;
	return 0;
}

static int set_resolution(struct job_opts *o, const char *v, char *why,
			  size_t whylen)
{
	const char *e = core_opts_resolution_error(v);
	struct quoted q;

	if (e) {
		snprintf(why, whylen, "'%s' %s",
			 core_opts_quote(&q, v, strlen(v)), e);
		return -1;
	}
	snprintf(o->resolution, sizeof(o->resolution), "%s", v);
	core_opts_lower_ascii(o->resolution);
	return 0;
}

static int set_nsfw_checker(struct job_opts *o, const char *v, char *why,
			    size_t whylen)
{
	struct quoted q;

	if (core_opts_parse_bool(v, &o->nsfw_checker) < 0) {
		snprintf(why, whylen,
			 "'%s' is not one of " BOOLS_TRUE " " BOOLS_FALSE,
			 core_opts_quote(&q, v, strlen(v)));
		return -1;
	}
	return 0;
}

/* Room for `more` URLs on top of those in o? */
static int check_url_count(const struct job_opts *o, size_t more, char *why,
			   size_t whylen)
{
	if (o->n_urls + more > OPTS_MAX_URLS) {
		snprintf(why, whylen, "%zu image URLs in all, the limit is %d",
			 o->n_urls + more, OPTS_MAX_URLS);
		return -1;
	}
	return 0;
}

/* Does the authority u[a..e) name a host? It may start with "user@" and end
 * with ":port"; the host may be an IPv6 literal "[...]". */
static bool has_host(const char *u, size_t a, size_t e)
{
	const char *at = memrchr(u + a, '@', e - a), *stop;

	if (at)
		a = (size_t)(at - u) + 1;
	if (a < e && u[a] == '[') {
		stop = memchr(u + a, ']', e - a);
		return stop && stop > u + a + 1;
	}
	stop = memchr(u + a, ':', e - a);
	return (stop ? (size_t)(stop - u) : e) > a;
}

/* An http:// or https:// URL with a host, no white space or control
 * characters, at most OPTS_MAX_URL_LEN bytes. */
static int check_url(const char *u, size_t n, char *why, size_t whylen)
{
	struct quoted q;
	size_t i, host, end;

	if (n > OPTS_MAX_URL_LEN) {
		snprintf(why, whylen, "a URL of %zu bytes, the limit is %d", n,
			 OPTS_MAX_URL_LEN);
		return -1;
	}
	if (n >= 7 && strncasecmp(u, "http://", 7) == 0) {
		host = 7;
	} else if (n >= 8 && strncasecmp(u, "https://", 8) == 0) {
		host = 8;
	} else {
		snprintf(why, whylen, "'%s' is not an http:// or https:// URL",
			 core_opts_quote(&q, u, n));
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= ' ' || c == 0x7f) {
			snprintf(
				why, whylen,
				"URL '%s' contains white space or a control character",
				core_opts_quote(&q, u, n));
			return -1;
		}
	}
	/* The authority runs to the first '/', '?' or '#'. */
	for (end = host;
	     end < n && u[end] != '/' && u[end] != '?' && u[end] != '#'; end++)
		;
	if (!has_host(u, host, end)) {
		snprintf(why, whylen, "URL '%s' has no host",
			 core_opts_quote(&q, u, n));
		return -1;
	}
	return 0;
}

static int add_url(struct job_opts *o, const char *u, size_t n, char *why,
		   size_t whylen)
{
	char *copy;

	if (check_url(u, n, why, whylen) < 0 ||
	    check_url_count(o, 1, why, whylen) < 0)
		return -1;
	copy = strndup(u, n);
	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	o->image_urls[o->n_urls++] = copy;
	return 0;
}

/* An image_urls list of .opts: URLs separated by commas and/or white
 * space. */
static int add_url_list(struct job_opts *o, const char *list, char *why,
			size_t whylen)
{
	static const char seps[] = ", \t";
	struct quoted q;
	const char *p;
	size_t count = 0, n;

	for (p = list + strspn(list, seps); *p; p += n, p += strspn(p, seps)) {
		n = strcspn(p, seps);
		count++;
	}
	if (count == 0) {
		snprintf(why, whylen, "no URL in '%s'",
			 core_opts_quote(&q, list, strlen(list)));
		return -1;
	}
	if (check_url_count(o, count, why, whylen) < 0)
		return -1;
	for (p = list + strspn(list, seps); *p; p += n, p += strspn(p, seps)) {
		n = strcspn(p, seps);
		if (add_url(o, p, n, why, whylen) < 0)
			return -1;
	}
	return 0;
}

static int check_sidecar_size(const char *label, size_t len, char *err,
			      size_t errlen)
{
	if (len > SIDECAR_MAX_FILE)
		return core_opts_fail(err, errlen, label, 0,
				      "%zu bytes, the limit is %d", len,
				      SIDECAR_MAX_FILE);
	return 0;
}

/* A parse works on a copy of o that replaces o only on success: a sidecar
 * with an error changes nothing. */
static int parse_begin(struct job_opts *work, const struct job_opts *o,
		       const char *label, char *err, size_t errlen)
{
	if (core_opts_copy(work, o) < 0)
		return core_opts_fail(err, errlen, label, 0, "out of memory");
	return 0;
}

static int parse_end(struct job_opts *o, struct job_opts *work, int result)
{
	if (result == 0) {
		core_opts_free(o);
		*o = *work;
	} else {
		core_opts_free(work);
	}
	return result;
}

/* ---- jobs/NAME.opts ----
 *
 * Not parsed with inih on purpose: Debian's libinih is built with a 200-byte
 * line limit and with ';' starting an inline comment, and either would cut a
 * pre-signed image URL (long, and free to contain ';' and '#'). Here lines
 * have no length limit but the file's, and a comment is a whole line whose
 * first non-blank character is '#' or ';'. */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* s without leading and trailing blanks (cut in place). */
static char *trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	s[n] = '\0';
	return s;
}

static int key_lookup(const char *key)
{
	int k;

	for (k = 0; k < KEY_COUNT; k++)
		if (strcmp(key, key_names[k]) == 0)
			return k;
	return -1;
}

static int set_key(struct job_opts *o, int k, const char *v, char *why,
		   size_t whylen)
{
	switch (k) {
	case KEY_ASPECT_RATIO:
		return set_aspect_ratio(o, v, why, whylen);
	case KEY_RESOLUTION:
		return set_resolution(o, v, why, whylen);
	case KEY_NSFW_CHECKER:
		return set_nsfw_checker(o, v, why, whylen);
	case KEY_IMAGE_URLS:
		return add_url_list(o, v, why, whylen);
	default:
		return add_url(o, v, strlen(v), why, whylen);
	}
}

/* Where the sidecar set key k: the line the cross-key errors name. */
static void note_line(struct job_opts *o, int k, int line)
{
	if (k == KEY_ASPECT_RATIO)
		o->aspect_ratio_line = line;
	else if (k == KEY_RESOLUTION)
		o->resolution_line = line;
}

struct ini_pos {
	const char *label;
	int line;
	int seen[KEY_COUNT]; /* line where each key was first given */
};

/* One line, NUL-terminated (the text has no other NUL). */
static int ini_line(struct job_opts *o, struct ini_pos *pos, char *s, char *err,
		    size_t errlen)
{
	struct quoted q;
	char why[256];
	char *eq, *key, *value;
	size_t n;
	int k;

	s = trim(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "sections are not supported: '%s'",
				      core_opts_quote(&q, s, strlen(s)));
	eq = strchr(s, '=');
	if (!eq)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "no '=' in '%s'",
				      core_opts_quote(&q, s, strlen(s)));
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	n = strlen(value);
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value[n - 1] = '\0';
		value++;
	}
	if (*key == '\0')
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "no key before '='");
	k = key_lookup(key);
	if (strcmp(key, "prompt") == 0)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      NO_PROMPT_KEY);
	if (k < 0)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "unknown key '%s'",
				      core_opts_quote(&q, key, strlen(key)));
	if (k != KEY_IMAGE_URL && pos->seen[k])
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "key '%s' given twice (first on line %d)",
				      key, pos->seen[k]);
	if (!pos->seen[k])
		pos->seen[k] = pos->line;
	if (*value == '\0')
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "key '%s': empty value", key);
	if (set_key(o, k, value, why, sizeof(why)) < 0)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "key '%s': %s", key, why);
	note_line(o, k, pos->line);
	return 0;
}

static int ini_lines(struct job_opts *o, const char *label, char *text,
		     size_t len, char *err, size_t errlen)
{
	struct ini_pos pos = { .label = label };
	char *p = text, *end = text + len, *eol;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark, as some editors write */
	while (p < end) {
		pos.line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (memchr(p, '\0', (size_t)(eol - p)))
			return core_opts_fail(err, errlen, label, pos.line,
					      "contains a NUL byte");
		*eol = '\0';
		if (ini_line(o, &pos, p, err, errlen) < 0)
			return -1;
		p = eol + 1;
	}
	return 0;
}

int core_opts_parse_ini(struct job_opts *o, const char *label, const char *text,
			size_t len, char *err, size_t errlen)
{
	struct job_opts work;
	char *copy;
	int r;

	if (check_sidecar_size(label, len, err, errlen) < 0 ||
	    parse_begin(&work, o, label, err, errlen) < 0)
		return -1;
	copy = malloc(len + 1); /* split into lines in place */
	if (!copy) {
		core_opts_free(&work);
		return core_opts_fail(err, errlen, label, 0, "out of memory");
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	r = ini_lines(&work, label, copy, len, err, errlen);
	free(copy);
	return parse_end(o, &work, r);
}

/* ---- jobs/NAME.json ---- */

/* Line numbers of offsets into a text, counted as they increase. */
struct line_counter {
	const char *text;
	size_t off;
	int line;
};

static int line_at(struct line_counter *lc, size_t off)
{
	for (; lc->off < off; lc->off++)
		if (lc->text[lc->off] == '\n')
			lc->line++;
	return lc->line;
}

static int json_url_array(struct job_opts *o, const struct json_doc *doc, int v,
			  char *why, size_t whylen)
{
	int n = json_array_len(doc, v), i, e;
	char *url;

	if (n < 0) {
		snprintf(why, whylen, "must be an array of strings");
		return -1;
	}
	if (check_url_count(o, (size_t)n, why, whylen) < 0)
		return -1;
	for (i = 0, e = v + 1; i < n; i++, e = json_skip(doc, e)) {
		if (!json_is_string(doc, e)) {
			snprintf(why, whylen, "element %d is not a string",
				 i + 1);
			return -1;
		}
		url = json_get_string(doc, e, SIDECAR_MAX_FILE);
		if (!url) {
			snprintf(why, whylen,
				 "element %d has an invalid escape or \\u0000",
				 i + 1);
			return -1;
		}
		if (add_url(o, url, strlen(url), why, whylen) < 0) {
			free(url);
			return -1;
		}
		free(url);
	}
	return 0;
}

/* The value of member k (a JSON value at token v). */
static int json_member(struct job_opts *o, const struct json_doc *doc, int k,
		       int v, char *why, size_t whylen)
{
	char *s;
	bool b;
	int r;

	if (k == KEY_IMAGE_URLS)
		return json_url_array(o, doc, v, why, whylen);
	if (k == KEY_NSFW_CHECKER && json_get_bool(doc, v, &b) == 0) {
		o->nsfw_checker = b;
		return 0;
	}
	if (!json_is_string(doc, v)) {
		snprintf(why, whylen,
			 k == KEY_NSFW_CHECKER ? "must be true or false" :
						 "must be a string");
		return -1;
	}
	s = json_get_string(doc, v, SIDECAR_MAX_FILE);
	if (!s) {
		snprintf(why, whylen,
			 "invalid escape or \\u0000 in the string");
		return -1;
	}
	r = set_key(o, k, s, why, whylen);
	free(s);
	return r;
}

struct json_pos {
	const char *label;
	int line;	     /* of the member at hand */
	int seen[KEY_COUNT]; /* line where each key was first given */
};

/* The member named name whose value is token v. */
static int json_named_member(struct job_opts *o, const struct json_doc *doc,
			     struct json_pos *pos, const char *name, int v,
			     char *err, size_t errlen)
{
	struct quoted q;
	char why[256];
	int k = key_lookup(name);

	if (strcmp(name, "prompt") == 0)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      NO_PROMPT_KEY);
	if (k < 0 || k == KEY_IMAGE_URL)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "unknown key '%s'",
				      core_opts_quote(&q, name, strlen(name)));
	if (pos->seen[k])
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "key '%s' given twice (first on line %d)",
				      name, pos->seen[k]);
	pos->seen[k] = pos->line;
	if (json_member(o, doc, k, v, why, sizeof(why)) < 0)
		return core_opts_fail(err, errlen, pos->label, pos->line,
				      "key '%s': %s", name, why);
	note_line(o, k, pos->line);
	return 0;
}

static int json_members(struct job_opts *o, const struct json_doc *doc,
			const char *label, char *err, size_t errlen)
{
	struct line_counter lc = { .text = doc->text, .line = 1 };
	struct json_pos pos = { .label = label };
	char *name;
	int m, i, r;

	for (m = 0, i = 1; m < doc->tok[0].size;
	     m++, i = json_skip(doc, i + 1)) {
		pos.line = line_at(&lc, (size_t)doc->tok[i].start);
		name = json_get_string(doc, i, KEY_MAX);
		if (!name)
			return core_opts_fail(
				err, errlen, label, pos.line,
				"a member name is too long or has an invalid escape");
		r = json_named_member(o, doc, &pos, name, i + 1, err, errlen);
		free(name);
		if (r < 0)
			return -1;
	}
	return 0;
}

static bool all_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

int core_opts_parse_json(struct job_opts *o, const char *label,
			 const char *text, size_t len, char *err, size_t errlen)
{
	struct line_counter lc = { .text = text, .line = 1 };
	struct job_opts work;
	struct json_doc doc;
	int r;

	if (check_sidecar_size(label, len, err, errlen) < 0)
		return -1;
	if (json_parse(&doc, text, len, SIDECAR_MAX_TOKENS) < 0) {
		if (errno == E2BIG)
			return core_opts_fail(err, errlen, label, 0,
					      "more than %d JSON values, not "
					      "a sidecar",
					      SIDECAR_MAX_TOKENS);
		if (errno == ENOMEM)
			return core_opts_fail(err, errlen, label, 0,
					      "out of memory");
		if (all_blank(text, len))
			return core_opts_fail(err, errlen, label, 0,
					      "empty, expected a JSON object");
		return core_opts_fail(err, errlen, label,
				      line_at(&lc, doc.err_off),
				      "malformed JSON");
	}
	if (!json_is_object(&doc, 0)) {
		json_doc_free(&doc);
		return core_opts_fail(err, errlen, label, 0,
				      "not a JSON object");
	}
	if (parse_begin(&work, o, label, err, errlen) < 0) {
		json_doc_free(&doc);
		return -1;
	}
	r = json_members(&work, &doc, label, err, errlen);
	json_doc_free(&doc);
	return parse_end(o, &work, r);
}
