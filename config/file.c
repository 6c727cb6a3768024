/* The config file: INI, keys at the top or in [gptimgfs], read with inih.
 * The file is read whole first (after fstat says it is a small regular
 * file) and fed to inih line by line, so that every message can name the
 * line, and so that the copy of an api_key it holds can be wiped. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SECTION "gptimgfs"
#define CONFIG_FILE_MAX (64 * 1024) /* bigger config files are refused */

struct file_reader {
	const char *path;
	const char *home;
	struct layer *layer;
	const char *pos, *end; /* what is left to read */
	int lineno;	       /* the line last handed to inih */
	int err_line;	       /* the first error's line, 0 while none */
	int seen[SET_COUNT];   /* the line each key was given on */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static void file_error(
	struct file_reader *r, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (r->err_line)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "gptimgfs: %s: line %d: %s", r->path,
		 r->lineno, why);
	r->err_line = r->lineno;
}

/* inih's fgets-style reader. A line that does not fit inih's buffer would
 * be split silently into two lines, and a NUL would cut it short: both
 * end the reading with an error instead. Leading white space is dropped:
 * inih would take an indented "key = value" for the continuation of the
 * value before it. */
static char *read_line(char *str, int size, void *stream)
{
	struct file_reader *r = stream;
	const char *line, *nl;
	size_t len, text;

	if (r->err_line || r->pos >= r->end)
		return NULL;
	r->lineno++;
	nl = memchr(r->pos, '\n', r->end - r->pos);
	len = (nl ? nl + 1 : r->end) - r->pos;
	line = r->pos;
	r->pos += len;
	if (memchr(line, '\0', len)) {
		file_error(r, "contains a NUL byte");
		return NULL;
	}
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	text = len - (nl != NULL);
	if (text > 0 && line[text - 1] == '\r')
		text--;
	/* inih needs room for "\r\n\0" after the text. */
	if (size < 3 || text > (size_t)size - 3) {
		file_error(r, "longer than %d characters", size - 3);
		return NULL;
	}
	memcpy(str, line, len);
	str[len] = '\0';
	return str;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct file_reader *r = user;
	char q[64], why[256];
	int s;

	if (*section && strcmp(section, SECTION) != 0) {
		config_quote_value(section, q, sizeof(q));
		file_error(r,
			   "unknown section %s (keys go at the top or in "
			   "[" SECTION "])",
			   q);
		return 0;
	}
	s = config_setting_by_name(name);
	if (s < 0) {
		config_quote_value(name, q, sizeof(q));
		file_error(r, "unknown key %s", q);
		return 0;
	}
	if (r->seen[s]) {
		file_error(r, "key '%s' given twice (first on line %d)", name,
			   r->seen[s]);
		return 0;
	}
	r->seen[s] = r->lineno;
	if (config_layer_set(r->layer, s, value, r->home, why, sizeof(why)) <
	    0) {
		file_error(r, "key '%s': %s", name, why);
		return 0;
	}
	return 1;
}

static int parse(struct file_reader *r, const char *data, size_t len)
{
	int bad_line;

	r->pos = data;
	r->end = data + len;
	bad_line = ini_parse_stream(read_line, r, on_key, r);
	/* inih goes on after a line it cannot parse and returns the first
	 * such line; it may come before the first line on_key refused. */
	if (bad_line > 0 && (!r->err_line || bad_line < r->err_line)) {
		snprintf(r->err, r->errlen,
			 "gptimgfs: %s: line %d: not "
			 "'key = value' or '[section]'",
			 r->path, bad_line);
		return -1;
	}
	if (bad_line < 0 && !r->err_line) {
		snprintf(r->err, r->errlen, "gptimgfs: out of memory");
		return -1;
	}
	return r->err_line ? -1 : 0;
}

int config_file_read(const char *path, bool explicit, const char *home,
		     struct layer *l, bool *found, char *err, size_t errlen)
{
	struct file_reader r = {
		.path = path,
		.home = home,
		.layer = l,
		.err = err,
		.errlen = errlen,
	};
	char what[PATH_MAX + 32], why[128];
	unsigned mode;
	size_t len;
	char *data;
	int ret;

	*found = false;
	if (config_small_file_read(path, CONFIG_FILE_MAX, &data, &len, &mode) <
	    0) {
		if (!explicit && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		config_small_file_error(errno, CONFIG_FILE_MAX, why,
					sizeof(why));
		snprintf(err, errlen, "gptimgfs: config file %s: %s", path,
			 why);
		return -1;
	}
	*found = true;
	ret = parse(&r, data, len);
	snprintf(what, sizeof(what), "%s holds api_key but", path);
	if (ret == 0 && l->value[SET_API_KEY])
		ret = config_secret_mode_check(path, what, mode, err, errlen);
	explicit_bzero(data, len);
	free(data);
	return ret;
}
