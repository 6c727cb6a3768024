/* The settings table: each setting's name, environment variable and the
 * check its values must pass, whichever source gives them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "core/opts.h"

#define QUOTE_MAX 48  /* characters of a bad value shown in a message */
#define NUMBER_MAX 16 /* digits and point of a number we accept */
#define POLL_INTERVAL_MAX 3600.0
#define MAX_INFLIGHT_MAX 1000000
#define MAX_RATE_MAX 100000.0
#define MAX_RATE_MIN \
	0.5 /* net/adapt.h ADAPT_RATE_MIN: the pacer never goes below */
/* what a refused value is told; keep with the two limits above */
#define COUNT_RANGE "(1 to 1000000)"
#define RATE_RANGE "(0.5 to 100000)"
#define CREDITS_MAX 1e9 /* daily_budget */

/* what core_opts_parse_bool accepts, for messages */
#define FLAGS "true false yes no on off 1 0"

void config_quote_value(const char *value, char *out, size_t outlen)
{
	size_t n = 0, i;

	if (outlen < QUOTE_MAX + 6) {
		snprintf(out, outlen, "'...'");
		return;
	}
	out[n++] = '\'';
	for (i = 0; value[i] && i < QUOTE_MAX; i++) {
		unsigned char c = value[i];

		out[n++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	if (value[i]) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n++] = '\'';
	out[n] = '\0';
}

static void bad_value(const char *v, const char *what, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 8];

	config_quote_value(v, q, sizeof(q));
	snprintf(why, whylen, "%s %s", q, what);
}

/* Plain decimals only: strtod would also take "inf", "nan", "1e3", "0x10". */
static bool plain_decimal(const char *v)
{
	size_t digits = strspn(v, "0123456789");
	size_t frac =
		v[digits] == '.' ? strspn(v + digits + 1, "0123456789") : 0;
	size_t len = digits + (v[digits] == '.') + frac;

	return len > 0 && len <= NUMBER_MAX && !v[len] && digits + frac > 0;
}

int config_parse_seconds(const char *v, double *out, char *why, size_t whylen)
{
	double d;

	if (!plain_decimal(v)) {
		bad_value(v, "is not a number of seconds", why, whylen);
		return -1;
	}
	d = strtod(v, NULL);
	if (d <= 0 || d > POLL_INTERVAL_MAX) {
		bad_value(v,
			  "is out of range (more than 0, at most 3600 "
			  "seconds)",
			  why, whylen);
		return -1;
	}
	*out = d;
	return 0;
}

int config_parse_credits(const char *v, double *out, char *why, size_t whylen)
{
	if (strcmp(v, "none") == 0) {
		*out = -1;
		return 0;
	}
	if (!plain_decimal(v)) {
		bad_value(v, "is not a number of credits (or none)", why,
			  whylen);
		return -1;
	}
	*out = strtod(v, NULL);
	if (*out > CREDITS_MAX) {
		bad_value(v, "is out of range (at most 1000000000)", why,
			  whylen);
		return -1;
	}
	return 0;
}

int config_parse_count(const char *v, unsigned *out, char *why, size_t whylen)
{
	size_t digits = strspn(v, "0123456789");
	unsigned long n;

	if (digits == 0 || digits > NUMBER_MAX || v[digits]) {
		bad_value(v, "is not a whole number " COUNT_RANGE, why, whylen);
		return -1;
	}
	n = strtoul(v, NULL, 10);
	if (n < 1 || n > MAX_INFLIGHT_MAX) {
		bad_value(v, "is out of range " COUNT_RANGE, why, whylen);
		return -1;
	}
	*out = n;
	return 0;
}

int config_parse_rate(const char *v, double *out, char *why, size_t whylen)
{
	double d;

	if (!plain_decimal(v)) {
		bad_value(v, "is not a number of requests a second " RATE_RANGE,
			  why, whylen);
		return -1;
	}
	d = strtod(v, NULL);
	if (d < MAX_RATE_MIN || d > MAX_RATE_MAX) {
		bad_value(v, "is out of range " RATE_RANGE, why, whylen);
		return -1;
	}
	*out = d;
	return 0;
}

/* The multiplier of a size's suffix, 0 when it is none we know. */
static uint64_t size_unit(const char *suffix)
{
	if (!*suffix)
		return 1;
	if (suffix[1])
		return 0;
	switch (*suffix) {
	case 'k':
	case 'K':
		return (uint64_t)1 << 10;
	case 'm':
	case 'M':
		return (uint64_t)1 << 20;
	case 'g':
	case 'G':
		return (uint64_t)1 << 30;
	}
	return 0;
}

int config_parse_size(const char *v, uint64_t *out, char *why, size_t whylen)
{
	size_t digits = strspn(v, "0123456789");
	uint64_t unit = size_unit(v + digits), n;

	if (digits == 0 || digits > NUMBER_MAX || !unit) {
		bad_value(v,
			  "is not a size (bytes, or a number with K, M or "
			  "G)",
			  why, whylen);
		return -1;
	}
	n = strtoull(v, NULL, 10);
	/* checked before multiplying: 16 digits times G would wrap */
	if (n > CONFIG_SIZE_MAX / unit || n * unit < CONFIG_SIZE_MIN) {
		bad_value(v, "is out of range (1M to 64G)", why, whylen);
		return -1;
	}
	*out = n * unit;
	return 0;
}

int config_parse_flag(const char *v, bool *out, char *why, size_t whylen)
{
	if (core_opts_parse_bool(v, out) == 0)
		return 0;
	bad_value(v, "is not one of " FLAGS, why, whylen);
	return -1;
}

static char *copy(const char *v, char *why, size_t whylen)
{
	char *c = strdup(v);

	if (!c)
		snprintf(why, whylen, "out of memory");
	return c;
}

char *config_expand_home(const char *path, const char *home, char *why,
			 size_t whylen)
{
	char *expanded;

	if (strncmp(path, "~/", 2) != 0)
		return copy(path, why, whylen);
	if (!home) {
		bad_value(path, "starts with ~/ but HOME is not set", why,
			  whylen);
		return NULL;
	}
	if (asprintf(&expanded, "%s%s", home, path + 1) < 0) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	return expanded;
}

static char *accept_seconds(const char *v, const char *home, char *why,
			    size_t whylen)
{
	double d;

	(void)home;
	return config_parse_seconds(v, &d, why, whylen) ? NULL :
							  copy(v, why, whylen);
}

static char *accept_credits(const char *v, const char *home, char *why,
			    size_t whylen)
{
	double d;

	(void)home;
	return config_parse_credits(v, &d, why, whylen) ? NULL :
							  copy(v, why, whylen);
}

static char *accept_count(const char *v, const char *home, char *why,
			  size_t whylen)
{
	unsigned n;

	(void)home;
	return config_parse_count(v, &n, why, whylen) ? NULL :
							copy(v, why, whylen);
}

static char *accept_rate(const char *v, const char *home, char *why,
			 size_t whylen)
{
	double d;

	(void)home;
	return config_parse_rate(v, &d, why, whylen) ? NULL :
						       copy(v, why, whylen);
}

static char *accept_listen(const char *v, const char *home, char *why,
			   size_t whylen)
{
	(void)home;
	return config_accept_listen(v, why, whylen);
}

static char *accept_callback_url(const char *v, const char *home, char *why,
				 size_t whylen)
{
	(void)home;
	return config_accept_callback_url(v, why, whylen);
}

static char *accept_size(const char *v, const char *home, char *why,
			 size_t whylen)
{
	uint64_t n;

	(void)home;
	return config_parse_size(v, &n, why, whylen) ? NULL :
						       copy(v, why, whylen);
}

static char *accept_flag(const char *v, const char *home, char *why,
			 size_t whylen)
{
	bool b;

	(void)home;
	return config_parse_flag(v, &b, why, whylen) ? NULL :
						       copy(v, why, whylen);
}

static char *accept_aspect_ratio(const char *v, const char *home, char *why,
				 size_t whylen)
{
	const char *e = core_opts_aspect_ratio_error(v);

	(void)home;
	if (!e)
		return copy(v, why, whylen);
	bad_value(v, e, why, whylen);
	return NULL;
}

static char *accept_resolution(const char *v, const char *home, char *why,
			       size_t whylen)
{
	const char *e = core_opts_resolution_error(v);

	(void)home;
	if (!e)
		return copy(v, why, whylen);
	bad_value(v, e, why, whylen);
	return NULL;
}

static char *accept_api_url(const char *v, const char *home, char *why,
			    size_t whylen)
{
	(void)home;
	return config_normalize_api_url(v, why, whylen);
}

/* The key itself is never quoted: the message only says what is wrong. */
static char *accept_key(const char *v, const char *home, char *why,
			size_t whylen)
{
	(void)home;
	if (strlen(v) > CONFIG_KEY_MAX) {
		snprintf(why, whylen, "the key is longer than %d bytes",
			 CONFIG_KEY_MAX);
		return NULL;
	}
	if (!config_key_is_sendable(v)) {
		snprintf(why, whylen,
			 "the key contains characters that "
			 "cannot be sent in an HTTP header");
		return NULL;
	}
	return copy(v, why, whylen);
}

/* syslog, stderr, or a file: an absolute path (or "~/..."), since the
 * daemon's directory is / once detached */
static char *accept_log(const char *v, const char *home, char *why,
			size_t whylen)
{
	if (strcmp(v, "syslog") == 0 || strcmp(v, "stderr") == 0)
		return strdup(v);
	if (v[0] != '/' && strncmp(v, "~/", 2) != 0) {
		bad_value(v,
			  "is not syslog, stderr or an absolute path of a "
			  "file",
			  why, whylen);
		return NULL;
	}
	return config_expand_home(v, home, why, whylen);
}

const struct setting_def config_settings[SET_COUNT] = {
	[SET_DATA_DIR] = { "data_dir", "GPTIMGFS_DATA_DIR",
			   config_expand_home },
	[SET_API_URL] = { "api_url", "GPTIMGFS_API_URL", accept_api_url },
	[SET_KEY_FILE] = { "key_file", "GPTIMGFS_KEY_FILE",
			   config_expand_home },
	[SET_POLL_INTERVAL] = { "poll_interval", "GPTIMGFS_POLL_INTERVAL",
				accept_seconds },
	[SET_MAX_INFLIGHT] = { "max_inflight", "GPTIMGFS_MAX_INFLIGHT",
			       accept_count },
	[SET_MAX_RATE] = { "max_rate", "GPTIMGFS_MAX_RATE", accept_rate },
	[SET_CALLBACK_LISTEN] = { "callback_listen", "GPTIMGFS_CALLBACK_LISTEN",
				  accept_listen },
	[SET_CALLBACK_URL] = { "callback_url", "GPTIMGFS_CALLBACK_URL",
			       accept_callback_url },
	[SET_DAILY_BUDGET] = { "daily_budget", "GPTIMGFS_DAILY_BUDGET",
			       accept_credits },
	[SET_MAX_TASK_BYTES] = { "max_task_bytes", "GPTIMGFS_MAX_TASK_BYTES",
				 accept_size },
	[SET_SIMULATE] = { "simulate", NULL, accept_flag },
	[SET_ASPECT_RATIO] = { "aspect_ratio", NULL, accept_aspect_ratio },
	[SET_RESOLUTION] = { "resolution", NULL, accept_resolution },
	[SET_NSFW_CHECKER] = { "nsfw_checker", NULL, accept_flag },
	[SET_EMBED_METADATA] = { "embed_metadata", NULL, accept_flag },
	[SET_LOG] = { "log", "GPTIMGFS_LOG", accept_log },
	[SET_API_KEY] = { "api_key", "GPTIMGFS_API_KEY", accept_key },
};

int config_setting_by_name(const char *name)
{
	int s;

	for (s = 0; s < SET_COUNT; s++)
		if (strcmp(config_settings[s].name, name) == 0)
			return s;
	return -1;
}

bool config_key_is_sendable(const char *key)
{
	const unsigned char *c;

	for (c = (const unsigned char *)key; *c; c++)
		if (*c < 0x21 || *c > 0x7e)
			return false;
	return true;
}

void config_secret_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

int config_layer_set(struct layer *l, enum setting s, const char *value,
		     const char *home, char *why, size_t whylen)
{
	char *v;

	if (!*value) {
		snprintf(why, whylen, "the value is empty");
		return -1;
	}
	v = config_settings[s].accept(value, home, why, whylen);
	if (!v)
		return -1;
	config_secret_free(l->value[s]);
	l->value[s] = v;
	return 0;
}

void config_layer_free(struct layer *l)
{
	int s;

	for (s = 0; s < SET_COUNT; s++) {
		config_secret_free(l->value[s]);
		l->value[s] = NULL;
	}
}
