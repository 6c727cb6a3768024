/* Inside config/: the table of settings, the per-source values and the
 * helpers the command line, environment and config file readers share. */
#ifndef GPTIMGFS_CONFIG_INTERNAL_H
#define GPTIMGFS_CONFIG_INTERNAL_H

#include <fuse_opt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_KEY_MAX 4096 /* bigger keys and key files are refused */

/* Every setting that the command line, the environment or the config file
 * can give. "config" itself is not here: it says where the file is. */
enum setting {
	SET_DATA_DIR,
	SET_API_URL,
	SET_KEY_FILE,
	SET_POLL_INTERVAL,
	SET_MAX_INFLIGHT,
	SET_MAX_RATE,
	SET_CALLBACK_LISTEN,
	SET_CALLBACK_URL,
	SET_DAILY_BUDGET,
	SET_MAX_TASK_BYTES,
	SET_SIMULATE,
	SET_ASPECT_RATIO,
	SET_RESOLUTION,
	SET_NSFW_CHECKER,
	SET_EMBED_METADATA,
	SET_LOG,
	SET_API_KEY,
	SET_COUNT
};

struct setting_def {
	const char *name; /* the option and the config file key */
	const char *env;  /* its environment variable, NULL when none */
	/* The value as it is kept (a malloc'd copy, "~/" expanded in paths,
	 * the URL normalized), or NULL with why set, e.g. "'abc' is not a
	 * number of seconds". */
	char *(*accept)(const char *value, const char *home, char *why,
			size_t whylen);
};

extern const struct setting_def config_settings[SET_COUNT];

/* The values one source gave, malloc'd (NULL: not given). */
struct layer {
	char *value[SET_COUNT];
};

void config_layer_free(struct layer *l);

/* Accept value for setting s into l (replacing an earlier one). 0, or -1
 * with why set (without any prefix). */
int config_layer_set(struct layer *l, enum setting s, const char *value,
		     const char *home, char *why, size_t whylen);

/* A malloc'd copy of path with a leading "~/" replaced by home; NULL with
 * why set when home is NULL then, or out of memory. */
char *config_expand_home(const char *path, const char *home, char *why,
			 size_t whylen);

/* The setting called name, or -1. */
int config_setting_by_name(const char *name);

/* Free a string that may hold a key, zeroing it first. */
void config_secret_free(char *s);

/* value for a message: in quotes, at most a few dozen characters, anything
 * unprintable shown as '?', so that an error stays one short line. */
void config_quote_value(const char *value, char *out, size_t outlen);

/* The typed values; the same checks accept() makes, so they cannot fail
 * on a value that is already in a layer. */
int config_parse_seconds(const char *v, double *out, char *why, size_t whylen);
int config_parse_count(const char *v, unsigned *out, char *why, size_t whylen);
int config_parse_rate(const char *v, double *out, char *why, size_t whylen);
/* A plain decimal number of credits, or "none" (-1). */
int config_parse_credits(const char *v, double *out, char *why, size_t whylen);
int config_parse_flag(const char *v, bool *out, char *why, size_t whylen);
/* A number of bytes: digits with an optional K, M or G (binary, either
 * case), from CONFIG_SIZE_MIN to CONFIG_SIZE_MAX. */
#define CONFIG_SIZE_MIN ((uint64_t)1 << 20)
#define CONFIG_SIZE_MAX ((uint64_t)64 << 30)
int config_parse_size(const char *v, uint64_t *out, char *why, size_t whylen);

/* api_url: http:// or https:// with a host, plain http:// only to loopback.
 * A malloc'd copy without one trailing '/', or NULL with why set. */
char *config_normalize_api_url(const char *v, char *why, size_t whylen);

/* callback_listen: HOST:PORT or [V6]:PORT, a port from 1 to 65535; and
 * callback_url: http(s):// with a host, no query, fragment or user@. A
 * malloc'd copy (the URL without a trailing '/'), or NULL with why set. */
char *config_accept_listen(const char *v, char *why, size_t whylen);
char *config_accept_callback_url(const char *v, char *why, size_t whylen);

/* Printable ASCII without spaces: what an HTTP header value can carry. */
bool config_key_is_sendable(const char *key);

/* Read the regular file at path, at most max bytes, into a malloc'd buffer
 * (NUL-terminated; the caller zeroes it if it may hold a key). 0, or -1
 * with errno set: from open() or read(), EINVAL when it is not a regular
 * file, EFBIG when it is bigger than max. */
int config_small_file_read(const char *path, size_t max, char **data,
			   size_t *len, unsigned *mode);
/* config_small_file_read's errno as a message: "not a regular file", ... */
void config_small_file_error(int err, size_t max, char *out, size_t outlen);

/* Read the config file at path into l. A missing file is an error only
 * when explicit; then *found is false and 0 is returned. 0, or -1 with err
 * set. */
int config_file_read(const char *path, bool explicit, const char *home,
		     struct layer *l, bool *found, char *err, size_t errlen);

/* The key from key_file: its first line without surrounding white space.
 * A malloc'd string, or NULL with err set (never quoting the key). */
char *config_key_file_read(const char *path, char *err, size_t errlen);

/* Files that hold a key must not be open to group or others. what names
 * the file in the message ("key_file FILE" or "FILE holds api_key but").
 * 0, or -1 with err set. */
int config_secret_mode_check(const char *path, const char *what, unsigned mode,
			     char *err, size_t errlen);

/* What the command line gave, besides the options left for libfuse. */
struct cmdline {
	struct layer layer;
	char *config; /* config=FILE, "~/" expanded */
	char *mountpoint;
	char *source; /* the word before the mountpoint, when two are given */
	bool help, version;
	bool foreground, debug;
	bool allow_other, default_permissions;
	const char *home; /* for "~/", NULL when unknown */
	bool failed;	  /* err holds the first error */
	char *err;
	size_t errlen;
};

/* Parse argv into cl and leave libfuse's options in fuse_args (with
 * default_permissions added when allow_other is given). -1 when parsing
 * could not go on; a bad value only sets cl->failed, so that --help is
 * still seen. */
int config_cmdline_parse(struct cmdline *cl, int argc, char **argv,
			 struct fuse_args *fuse_args);
void config_cmdline_free(struct cmdline *cl);
/* --help: ours, then libfuse's options, on stdout. */
void config_cmdline_help(void);

#endif
