/* A job's options: the sidecar parsers (jobs/NAME.opts, jobs/NAME.json), the
 * prompt rules and the checks of gptimgfs(1), JOBS and SIDECARS. Everything is
 * checked here, before any request is sent. Errors are one line that names
 * the file (as the caller labels it), the line and the key. */
#ifndef GPTIMGFS_CORE_OPTS_H
#define GPTIMGFS_CORE_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define OPTS_MAX_URLS 16
#define OPTS_MAX_URL_LEN 8192
#define PROMPT_MAX_CHARS 20000
#define PROMPT_MAX_FILE (1024 * 1024) /* bigger prompt files: EFBIG */
#define SIDECAR_MAX_FILE (256 * 1024) /* bigger sidecars are refused */

/* The value lists, space-separated: the one place they are spelled out, used
 * both to check a value and to tell the user what is allowed. */
#define ASPECT_RATIOS \
	"auto 1:1 5:4 4:3 3:2 16:9 21:9 9:16 4:5 3:4 2:3 2:1 1:2 9:21"
#define ASPECT_RATIOS_4K "16:9 9:16 2:1 1:2 21:9 9:21"
#define RESOLUTIONS "1k 2k 4k"

struct job_opts {
	char aspect_ratio[8]; /* "auto", "16:9", ... */
	char resolution[4];   /* "1k", "2k", "4k" */
	bool nsfw_checker;
	bool aspect_ratio_given; /* set explicitly by the sidecar */
	/* The sidecar's line that set each (1 for the first), 0 when it did
	 * not (the value is the configuration's default): the cross-key
	 * errors of core_opts_validate() point at it. */
	int aspect_ratio_line;
	int resolution_line;
	size_t n_urls;
	char *image_urls[OPTS_MAX_URLS]; /* malloc'd */
};

/* Fill o with the defaults (from the config: aspect ratio, resolution,
 * nsfw checker). */
void core_opts_init(struct job_opts *o, const char *aspect_ratio,
		    const char *resolution, bool nsfw_checker);
void core_opts_free(struct job_opts *o);
/* A deep copy. dst is overwritten, not freed first. -1 (ENOMEM) leaves dst
 * untouched. */
int core_opts_copy(struct job_opts *dst, const struct job_opts *src);

/* Parse a sidecar's text on top of the defaults already in o. label is the
 * file name used in messages ("jobs/cat.opts"). 0, or -1 with err set, e.g.
 * "jobs/cat.opts: line 3: key 'resolution': '8k' is not one of 1k 2k 4k";
 * on error o is left as it was. */
int core_opts_parse_ini(struct job_opts *o, const char *label, const char *text,
			size_t len, char *err, size_t errlen);
int core_opts_parse_json(struct job_opts *o, const char *label,
			 const char *text, size_t len, char *err,
			 size_t errlen);

/* The prompt from a prompt file's bytes: trailing newlines ("\n", "\r\n")
 * removed; valid UTF-8, no NUL, at most PROMPT_MAX_CHARS code points.
 * *plen is set to the prompt's length, 0 when it is blank (utf8_blank():
 * only white space or invisible characters): a blank prompt is an empty
 * one. 0, or -1 with err naming label. */
int core_prompt_check(const char *label, const char *text, size_t len,
		      size_t *plen, char *err, size_t errlen);

/* The cross-key rules: 4k needs an explicit aspect ratio from the 4k list;
 * prompt and image URLs not both empty (core_prompt_check() makes a blank
 * prompt empty). label names the prompt file ("jobs/cat.txt"), sidecar the
 * sidecar that was read ("jobs/cat.opts"), NULL when there is none: an
 * error names the file, the line and the key the user must edit, and says
 * which values are the configuration's defaults. */
int core_opts_validate(const struct job_opts *o, size_t prompt_len,
		       const char *label, const char *sidecar, char *err,
		       size_t errlen);

/* The credits a task with these options costs: 4.7, 9.4 or 14.1. */
double core_opts_price(const struct job_opts *o);

/* The options as the API's "input" members other than the prompt, in a
 * fixed order, as JSON: {"aspect_ratio":"16:9","resolution":"4k",
 * "nsfw_checker":true,"image_urls":[...]} ("image_urls" only when there are
 * some). This is also the canonical form compared to skip identical
 * rewrites and shown in the user.gptimgfs.options attribute. */
int core_opts_to_json(const struct job_opts *o, struct buf *out);

/* The one check of each of these options, for the sidecars here and the
 * defaults in config/: NULL when v is valid, else why not, as the end of a
 * message that shows v first in the caller's own quoting ("is not one of
 * 1k 2k 4k"). Resolutions are taken in either case. */
const char *core_opts_aspect_ratio_error(const char *v);
const char *core_opts_resolution_error(const char *v);

static inline bool core_opts_valid_aspect_ratio(const char *v)
{
	return !core_opts_aspect_ratio_error(v);
}

static inline bool core_opts_valid_resolution(const char *v)
{
	return !core_opts_resolution_error(v);
}

/* "true false yes no on off 1 0", case-insensitive. -1 when neither. */
int core_opts_parse_bool(const char *v, bool *out);

#endif
