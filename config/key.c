/* The API key's files: the key file's first line, and the rule that a file
 * holding a key is private to its owner. No message here quotes a key. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int config_secret_mode_check(const char *path, const char *what, unsigned mode,
			     char *err, size_t errlen)
{
	if (!(mode & 077))
		return 0;
	snprintf(err, errlen,
		 "gptimgfs: %s is %s by group or others "
		 "(chmod 600 %s)",
		 what, mode & 044 ? "readable" : "accessible", path);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The first line of data without surrounding white space, in place. A NUL
 * inside the line makes it unsendable: it is kept as a '\x01' so that the
 * check below refuses it instead of silently sending a shorter key. */
static char *first_line(char *data, size_t len)
{
	char *end = memchr(data, '\n', len), *p;

	if (!end)
		end = data + len;
	for (p = data; p < end; p++)
		if (*p == '\0')
			*p = '\x01';
	*end = '\0';
	while (end > data && is_blank(end[-1]))
		*--end = '\0';
	while (is_blank(*data))
		data++;
	return data;
}

static char *key_from_line(const char *path, const char *line, char *err,
			   size_t errlen)
{
	char *key = NULL;

	if (!*line)
		snprintf(err, errlen,
			 "gptimgfs: key_file %s: the first line "
			 "is empty; it must hold the API key",
			 path);
	else if (!config_key_is_sendable(line))
		snprintf(err, errlen,
			 "gptimgfs: key in %s contains characters "
			 "that cannot be sent in an HTTP header",
			 path);
	else if (!(key = strdup(line)))
		snprintf(err, errlen, "gptimgfs: out of memory");
	return key;
}

char *config_key_file_read(const char *path, char *err, size_t errlen)
{
	char what[PATH_MAX + 16], why[128];
	char *data, *key = NULL;
	unsigned mode;
	size_t len;

	if (config_small_file_read(path, CONFIG_KEY_MAX, &data, &len, &mode) <
	    0) {
		config_small_file_error(errno, CONFIG_KEY_MAX, why,
					sizeof(why));
		snprintf(err, errlen, "gptimgfs: key_file %s: %s", path, why);
		return NULL;
	}
	snprintf(what, sizeof(what), "key_file %s", path);
	if (config_secret_mode_check(path, what, mode, err, errlen) == 0)
		key = key_from_line(path, first_line(data, len), err, errlen);
	explicit_bzero(data, len);
	free(data);
	return key;
}
