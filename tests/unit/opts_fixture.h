/* What the test_opts*.c files share: the sidecar names, the ratios, and
 * parsing over the built-in defaults with the message in err. */
#ifndef GPTIMGFS_OPTS_FIXTURE_H
#define GPTIMGFS_OPTS_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/opts.h"
#include "util/buf.h"

#define INI "jobs/cat.opts"
#define JSN "jobs/cat.json"
#define TXT "jobs/cat.txt"
#define ALL_RATIOS \
	"auto 1:1 5:4 4:3 3:2 16:9 21:9 9:16 4:5 3:4 2:3 2:1 1:2 9:21"

static char err[512];

/* Parse text over the built-in defaults (auto, 1k, true). */
static inline int ini_n(struct job_opts *o, const char *text, size_t len)
{
	core_opts_init(o, "auto", "1k", true);
	err[0] = '\0';
	return core_opts_parse_ini(o, INI, text, len, err, sizeof(err));
}

static inline int ini(struct job_opts *o, const char *text)
{
	return ini_n(o, text, strlen(text));
}

static inline int json_n(struct job_opts *o, const char *text, size_t len)
{
	core_opts_init(o, "auto", "1k", true);
	err[0] = '\0';
	return core_opts_parse_json(o, JSN, text, len, err, sizeof(err));
}

static inline int json(struct job_opts *o, const char *text)
{
	return json_n(o, text, strlen(text));
}

/* The canonical JSON of o, in a static buffer. */
static inline const char *canon(const struct job_opts *o)
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

#endif
