/* A job's options: the check of each value, struct job_opts, the prompt
 * rules, the cross-key checks of gptimgfs(1), JOBS and SIDECARS, the
 * canonical JSON. The sidecars are read in opts_sidecar.c. See opts.h. */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "util/json.h"
#include "util/utf8.h"

/* ---- small helpers ---- */

/* Is v (n bytes) one of the words of list? */
static bool in_list(const char *list, const char *v, size_t n, bool nocase)
{
	const char *w = list;
	size_t wl;

	while (*w) {
		wl = strcspn(w, " ");
		if (n > 0 && wl == n &&
		    (nocase ? strncasecmp(w, v, n) : memcmp(w, v, n)) == 0)
			return true;
		w += wl;
		if (*w == ' ')
			w++;
	}
	return false;
}

/* s[0..n) made safe for a one-line message: at most QUOTE_MAX bytes (cut at
 * a UTF-8 character boundary, "..." marks the cut), valid UTF-8 characters
 * kept, control and invisible format characters (utf8_unsafe) and each
 * byte of an invalid sequence shown as '?' (so the message stays valid
 * UTF-8 and says what it seems to say, whatever the user wrote). */
const char *core_opts_quote(struct quoted *q, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp = 0;
	bool bad;

	while (i < n) {
		/* invalid bytes and unsafe characters: one '?' a byte */
		len = utf8_char(u + i, n - i, &cp);
		bad = len == 0 || utf8_unsafe(cp);
		if (bad)
			len = 1; /* one '?' for one byte */
		if (i + len > QUOTE_MAX)
			break;
		if (bad)
			q->s[i] = '?';
		else
			memcpy(q->s + i, s + i, len);
		i += len;
	}
	if (i < n) {
		memcpy(q->s + i, "...", 3);
		i += 3;
	}
	q->s[i] = '\0';
	return q->s;
}

/* err = "LABEL: line N: MESSAGE" ("line N: " left out when line is 0).
 * Returns -1 for the caller to return. */
int core_opts_fail(char *err, size_t errlen, const char *label, int line,
		   const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return -1;
	if (line > 0)
		n = snprintf(err, errlen, "%s: line %d: ", label, line);
	else
		n = snprintf(err, errlen, "%s: ", label);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void core_opts_lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* ---- the values ---- */

const char *core_opts_aspect_ratio_error(const char *v)
{
	if (v && in_list(ASPECT_RATIOS, v, strlen(v), false))
		return NULL;
	return "is not one of " ASPECT_RATIOS;
}

/* Resolutions are accepted in either case ("2K" is how people write it) and
 * stored in lower case, the API's spelling. */
const char *core_opts_resolution_error(const char *v)
{
	if (v && in_list(RESOLUTIONS, v, strlen(v), true))
		return NULL;
	return "is not one of " RESOLUTIONS;
}

int core_opts_parse_bool(const char *v, bool *out)
{
	size_t n = v ? strlen(v) : 0;

	if (in_list(BOOLS_TRUE, v, n, true))
		*out = true;
	else if (in_list(BOOLS_FALSE, v, n, true))
		*out = false;
	else
		return -1;
	return 0;
}
/* ---- struct job_opts ---- */

/* A missing (NULL or empty) or oversized default falls back to the built-in
 * one; anything else is kept as given and checked by core_opts_validate(). */
static void set_default(char *field, size_t size, const char *v,
			const char *builtin)
{
	if (!v || !*v || strlen(v) >= size)
		v = builtin;
	snprintf(field, size, "%s", v);
}

void core_opts_init(struct job_opts *o, const char *aspect_ratio,
		    const char *resolution, bool nsfw_checker)
{
	memset(o, 0, sizeof(*o));
	set_default(o->aspect_ratio, sizeof(o->aspect_ratio), aspect_ratio,
		    "auto");
	set_default(o->resolution, sizeof(o->resolution), resolution, "1k");
	core_opts_lower_ascii(o->resolution);
	o->nsfw_checker = nsfw_checker;
}

void core_opts_free(struct job_opts *o)
{
	size_t i;

	for (i = 0; i < o->n_urls; i++) {
		free(o->image_urls[i]);
		o->image_urls[i] = NULL;
	}
	o->n_urls = 0;
}

int core_opts_copy(struct job_opts *dst, const struct job_opts *src)
{
	struct job_opts copy = *src;
	size_t i;

	for (i = 0; i < src->n_urls; i++) {
		copy.image_urls[i] = strdup(src->image_urls[i]);
		if (!copy.image_urls[i]) {
			copy.n_urls = i;
			core_opts_free(&copy);
			errno = ENOMEM;
			return -1;
		}
	}
	*dst = copy;
	return 0;
}
/* ---- the prompt ---- */

int core_prompt_check(const char *label, const char *text, size_t len,
		      size_t *plen, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, chars = 0, n;

	while (len > 0 && s[len - 1] == '\n') {
		len--;
		if (len > 0 && s[len - 1] == '\r')
			len--;
	}
	while (i < len) {
		if (s[i] == '\0')
			return core_opts_fail(err, errlen, label, 0,
					      "prompt has a NUL byte at byte "
					      "offset %zu",
					      i);
		n = utf8_char(s + i, len - i, NULL);
		if (n == 0)
			return core_opts_fail(err, errlen, label, 0,
					      "prompt is not valid UTF-8 at "
					      "byte offset %zu",
					      i);
		i += n;
		chars++;
	}
	if (chars > PROMPT_MAX_CHARS)
		return core_opts_fail(err, errlen, label, 0,
				      "prompt has %zu characters, the limit "
				      "is %d",
				      chars, PROMPT_MAX_CHARS);
	/* blank is empty: refused alone, omitted next to an image URL */
	*plen = utf8_blank(text, len) ? 0 : len;
	return 0;
}

/* ---- the rules ---- */

/* resolution 4k with a ratio outside ASPECT_RATIOS_4K. The error points
 * at the line the user must edit: the sidecar's aspect_ratio when it sets
 * one, because that is the value refused (4k itself is valid and allows six
 * ratios); else the sidecar's resolution, the line that brought the rule in
 * over a default ratio; else neither is the sidecar's and the file is the
 * sidecar, or the prompt file when there is none. */
static int fail_4k_ratio(const struct job_opts *o, const char *label,
			 const char *sidecar, char *err, size_t errlen)
{
	const char *ar = o->aspect_ratio;

	if (sidecar && o->aspect_ratio_line > 0 && o->resolution_line > 0)
		return core_opts_fail(err, errlen, sidecar,
				      o->aspect_ratio_line,
				      "key 'aspect_ratio': '%s' does not go "
				      "with resolution 4k (line %d): 4k needs "
				      "an aspect_ratio of " ASPECT_RATIOS_4K,
				      ar, o->resolution_line);
	if (sidecar && o->aspect_ratio_line > 0)
		return core_opts_fail(
			err, errlen, sidecar, o->aspect_ratio_line,
			"key 'aspect_ratio': '%s' does not go "
			"with resolution 4k, which the sidecar "
			"does not set and is the configuration's "
			"default: 4k needs an aspect_ratio of " ASPECT_RATIOS_4K,
			ar);
	if (sidecar && o->resolution_line > 0)
		return core_opts_fail(err, errlen, sidecar, o->resolution_line,
				      "key 'resolution': resolution 4k needs "
				      "an aspect_ratio of " ASPECT_RATIOS_4K
				      ", which the sidecar does not set, and "
				      "the configuration's default is %s",
				      ar);
	return core_opts_fail(
		err, errlen, sidecar ? sidecar : label, 0,
		"resolution 4k needs an aspect_ratio of " ASPECT_RATIOS_4K
		", and %s: the "
		"configuration's defaults are resolution 4k "
		"and aspect_ratio %s (set aspect_ratio in %s)",
		sidecar ? "the sidecar sets neither" : "there is no sidecar",
		ar, sidecar ? "it" : "a sidecar");
}

int core_opts_validate(const struct job_opts *o, size_t prompt_len,
		       const char *label, const char *sidecar, char *err,
		       size_t errlen)
{
	const char *e;
	struct quoted q;

	if ((e = core_opts_aspect_ratio_error(o->aspect_ratio)) != NULL)
		return core_opts_fail(err, errlen, label, 0,
				      "aspect_ratio '%s' %s",
				      core_opts_quote(&q, o->aspect_ratio,
						      strlen(o->aspect_ratio)),
				      e);
	if ((e = core_opts_resolution_error(o->resolution)) != NULL)
		return core_opts_fail(err, errlen, label, 0,
				      "resolution '%s' %s",
				      core_opts_quote(&q, o->resolution,
						      strlen(o->resolution)),
				      e);
	if (o->n_urls > OPTS_MAX_URLS)
		return core_opts_fail(err, errlen, label, 0,
				      "%zu image URLs in all, the limit is %d",
				      o->n_urls, OPTS_MAX_URLS);
	/* The request always carries aspect_ratio, so a config default counts
	 * as explicit; only auto (and the non-4k ratios) are refused. */
	if (strcasecmp(o->resolution, "4k") == 0 &&
	    !in_list(ASPECT_RATIOS_4K, o->aspect_ratio, strlen(o->aspect_ratio),
		     false))
		return fail_4k_ratio(o, label, sidecar, err, errlen);
	/* named for the prompt file: an empty prompt is what is refused
	 * (an image_url in the sidecar is the other way out) */
	if (prompt_len == 0 && o->n_urls == 0)
		return core_opts_fail(err, errlen, label, 0,
				      "prompt is empty or only white space, "
				      "and no image_url: nothing to generate");
	return 0;
}

double core_opts_price(const struct job_opts *o)
{
	if (strcasecmp(o->resolution, "4k") == 0)
		return 14.1;
	if (strcasecmp(o->resolution, "2k") == 0)
		return 9.4;
	if (strcasecmp(o->resolution, "1k") == 0)
		return 4.7;
	return 0;
}

static int add_json_urls(struct buf *b, const struct job_opts *o)
{
	size_t i;

	if (o->n_urls == 0)
		return 0;
	if (buf_addstr(b, ",\"image_urls\":[") < 0)
		return -1;
	for (i = 0; i < o->n_urls; i++)
		if ((i > 0 && buf_addstr(b, ",") < 0) ||
		    json_add_cstr(b, o->image_urls[i]) < 0)
			return -1;
	return buf_addstr(b, "]");
}

int core_opts_to_json(const struct job_opts *o, struct buf *out)
{
	struct buf j; /* built aside, so that out changes only on success */

	int r = -1;

	buf_init(&j, out->max);
	if (buf_addstr(&j, "{\"aspect_ratio\":") == 0 &&
	    json_add_cstr(&j, o->aspect_ratio) == 0 &&
	    buf_addstr(&j, ",\"resolution\":") == 0 &&
	    json_add_cstr(&j, o->resolution) == 0 &&
	    buf_addstr(&j, o->nsfw_checker ? ",\"nsfw_checker\":true" :
					     ",\"nsfw_checker\":false") == 0 &&
	    add_json_urls(&j, o) == 0 && buf_addstr(&j, "}") == 0)
		r = buf_add(out, j.data, j.len);
	buf_free(&j);
	return r;
}
