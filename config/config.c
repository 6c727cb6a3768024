/* config_load: each setting from the command line, else the environment,
 * else the config file, else its default; then the API key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#define DEFAULT_API_URL "https://api.aivideoapi.ai"
#define DEFAULT_POLL_INTERVAL 2.0
#define DEFAULT_MAX_INFLIGHT 10000
#define DEFAULT_MAX_RATE 1000.0
#define DEFAULT_MAX_TASK_BYTES ((uint64_t)256 << 20)
#define DEFAULT_ASPECT_RATIO "auto"
#define DEFAULT_RESOLUTION "1k"
#define DEFAULT_NSFW_CHECKER true

struct load {
	struct cmdline cl;
	struct layer env, file;
	char *const *vars; /* the environment */
	const char *home;  /* absolute, or NULL */
	char *config_path; /* the config file looked for, or NULL */
	char *err;
	size_t errlen;
};

/* An unset and an empty variable are the same: not given. */
static const char *env_get(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (; env && *env; env++)
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return (*env)[len + 1] ? *env + len + 1 : NULL;
	return NULL;
}

/* HOME and the XDG directories: as the XDG base directory spec says, a
 * relative value is ignored. */
static const char *env_dir(char *const *env, const char *name)
{
	const char *dir = env_get(env, name);

	return dir && dir[0] == '/' ? dir : NULL;
}

/* $XDG_x_HOME/leaf, or $HOME/fallback/leaf; NULL when neither is set or
 * out of memory (errno says which: 0 or ENOMEM). */
static char *xdg_path(const struct load *ld, const char *var,
		      const char *fallback, const char *leaf)
{
	const char *base = env_dir(ld->vars, var);
	char *path;
	int n;

	errno = 0;
	if (base)
		n = asprintf(&path, "%s/%s", base, leaf);
	else if (ld->home)
		n = asprintf(&path, "%s/%s/%s", ld->home, fallback, leaf);
	else
		return NULL;
	if (n < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return path;
}

static int read_env(struct load *ld)
{
	const char *value;
	char why[256];
	int s;

	for (s = 0; s < SET_COUNT; s++) {
		if (!config_settings[s].env)
			continue;
		value = env_get(ld->vars, config_settings[s].env);
		if (value && config_layer_set(&ld->env, s, value, ld->home, why,
					      sizeof(why)) < 0) {
			snprintf(ld->err, ld->errlen, "gptimgfs: %s: %s",
				 config_settings[s].env, why);
			return -1;
		}
	}
	return 0;
}

/* config= or GPTIMGFS_CONFIG name a file that must exist; the default one
 * may be missing. */
static int read_config_file(struct load *ld, struct config *cfg)
{
	const char *named = env_get(ld->vars, "GPTIMGFS_CONFIG");
	bool explicit = ld->cl.config || named, found;
	char why[256];

	if (ld->cl.config)
		ld->config_path = strdup(ld->cl.config);
	else if (named)
		ld->config_path =
			config_expand_home(named, ld->home, why, sizeof(why));
	else
		ld->config_path = xdg_path(ld, "XDG_CONFIG_HOME", ".config",
					   "gptimgfs/config.ini");
	if (!ld->config_path) {
		if (!explicit && !errno)
			return 0; /* no HOME: no default config file */
		if (!ld->cl.config && named)
			snprintf(ld->err, ld->errlen,
				 "gptimgfs: GPTIMGFS_CONFIG: %s", why);
		else
			snprintf(ld->err, ld->errlen,
				 "gptimgfs: out of memory");
		return -1;
	}
	if (config_file_read(ld->config_path, explicit, ld->home, &ld->file,
			     &found, ld->err, ld->errlen) < 0)
		return -1;
	if (found && !(cfg->config_file = strdup(ld->config_path))) {
		snprintf(ld->err, ld->errlen, "gptimgfs: out of memory");
		return -1;
	}
	return 0;
}

static const char *pick(const struct load *ld, enum setting s)
{
	if (ld->cl.layer.value[s])
		return ld->cl.layer.value[s];
	if (ld->env.value[s])
		return ld->env.value[s];
	return ld->file.value[s];
}

/* The daemon chdirs to "/": a relative path is resolved now. */
static char *absolute(struct load *ld, const char *what, const char *path)
{
	char *cwd, *abs, q[64];
	size_t len;
	int n;

	if (path[0] == '/') {
		abs = strdup(path);
	} else {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			config_quote_value(path, q, sizeof(q));
			snprintf(ld->err, ld->errlen,
				 "gptimgfs: %s: cannot "
				 "resolve %s against the current directory: "
				 "%s",
				 what, q, strerror(errno));
			return NULL;
		}
		n = asprintf(&abs, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
		free(cwd);
		if (n < 0)
			abs = NULL;
	}
	if (!abs) {
		snprintf(ld->err, ld->errlen, "gptimgfs: out of memory");
		return NULL;
	}
	for (len = strlen(abs); len > 1 && abs[len - 1] == '/'; len--)
		abs[len - 1] = '\0';
	return abs;
}

static int resolve_data_dir(struct load *ld, struct config *cfg)
{
	const char *given = pick(ld, SET_DATA_DIR);
	char *dflt;

	if (given) {
		cfg->data_dir = absolute(ld, "data_dir", given);
		return cfg->data_dir ? 0 : -1;
	}
	/* Simulated task ids must never mix with real ones. */
	dflt = xdg_path(ld, "XDG_DATA_HOME", ".local/share",
			cfg->simulate ? "gptimgfs-simulate" : "gptimgfs");
	if (!dflt) {
		snprintf(
			ld->err, ld->errlen,
			errno ? "gptimgfs: out of memory" :
				"gptimgfs: neither HOME nor XDG_DATA_HOME is set: "
				"give data_dir=DIR");
		return -1;
	}
	cfg->data_dir = dflt;
	return 0;
}

static int copy_string(struct load *ld, char **dst, const char *value)
{
	if (!value)
		return 0;
	*dst = strdup(value);
	if (*dst)
		return 0;
	snprintf(ld->err, ld->errlen, "gptimgfs: out of memory");
	return -1;
}

/* Where the value pick() takes for s came from, when not the command
 * line: its environment variable or the config file; NULL for -o (or
 * when nothing gave it). */
static const char *source_of(const struct load *ld, enum setting s)
{
	if (ld->cl.layer.value[s])
		return NULL;
	if (ld->env.value[s])
		return config_settings[s].env;
	return ld->file.value[s] ? ld->config_path : NULL;
}

/* The receiver and the URL the API reaches it at: both or neither, as
 * one without the other would listen for nothing or ask for callbacks
 * nobody receives. The message names where the one given came from: a
 * stray variable or config line is otherwise hard to find. */
static int resolve_callbacks(struct load *ld, struct config *cfg)
{
	const char *addr = pick(ld, SET_CALLBACK_LISTEN);
	const char *url = pick(ld, SET_CALLBACK_URL);
	enum setting given = addr ? SET_CALLBACK_LISTEN : SET_CALLBACK_URL;
	const char *from = source_of(ld, given);

	if (!addr != !url) {
		snprintf(ld->err, ld->errlen,
			 "gptimgfs: %s%s%s is given without %s: callbacks "
			 "need both (or neither)",
			 from ? from : "-o", from ? ": " : " ",
			 config_settings[given].name,
			 addr ? "callback_url" : "callback_listen");
		return -1;
	}
	from = source_of(ld, SET_CALLBACK_LISTEN);
	if (copy_string(ld, &cfg->callback_listen, addr) < 0 ||
	    copy_string(ld, &cfg->callback_listen_from, from) < 0 ||
	    copy_string(ld, &cfg->callback_url, url) < 0)
		return -1;
	return 0;
}

/* The values were checked when they were read: parsing cannot fail. */
static int resolve(struct load *ld, struct config *cfg)
{
	const char *v;
	char why[256];

	if ((v = pick(ld, SET_SIMULATE)))
		config_parse_flag(v, &cfg->simulate, why, sizeof(why));
	cfg->poll_interval = DEFAULT_POLL_INTERVAL;
	if ((v = pick(ld, SET_POLL_INTERVAL)))
		config_parse_seconds(v, &cfg->poll_interval, why, sizeof(why));
	cfg->max_inflight = DEFAULT_MAX_INFLIGHT;
	if ((v = pick(ld, SET_MAX_INFLIGHT)))
		config_parse_count(v, &cfg->max_inflight, why, sizeof(why));
	cfg->max_rate = DEFAULT_MAX_RATE;
	if ((v = pick(ld, SET_MAX_RATE)))
		config_parse_rate(v, &cfg->max_rate, why, sizeof(why));
	cfg->daily_budget = -1;
	if ((v = pick(ld, SET_DAILY_BUDGET)))
		config_parse_credits(v, &cfg->daily_budget, why, sizeof(why));
	cfg->max_task_bytes = DEFAULT_MAX_TASK_BYTES;
	if ((v = pick(ld, SET_MAX_TASK_BYTES)))
		config_parse_size(v, &cfg->max_task_bytes, why, sizeof(why));
	cfg->nsfw_checker = DEFAULT_NSFW_CHECKER;
	if ((v = pick(ld, SET_NSFW_CHECKER)))
		config_parse_flag(v, &cfg->nsfw_checker, why, sizeof(why));
	cfg->embed_metadata = true;
	if ((v = pick(ld, SET_EMBED_METADATA)))
		config_parse_flag(v, &cfg->embed_metadata, why, sizeof(why));
	v = pick(ld, SET_ASPECT_RATIO);
	snprintf(cfg->aspect_ratio, sizeof(cfg->aspect_ratio), "%s",
		 v ? v : DEFAULT_ASPECT_RATIO);
	v = pick(ld, SET_RESOLUTION);
	snprintf(cfg->resolution, sizeof(cfg->resolution), "%s",
		 v ? v : DEFAULT_RESOLUTION);
	cfg->foreground = ld->cl.foreground || ld->cl.debug;
	cfg->debug = ld->cl.debug;
	cfg->allow_other = ld->cl.allow_other;
	v = pick(ld, SET_API_URL);
	if (resolve_callbacks(ld, cfg) < 0 ||
	    copy_string(ld, &cfg->api_url, v ? v : DEFAULT_API_URL) < 0 ||
	    copy_string(ld, &cfg->key_file, pick(ld, SET_KEY_FILE)) < 0 ||
	    copy_string(ld, &cfg->log, pick(ld, SET_LOG)) < 0)
		return -1;
	cfg->mountpoint = absolute(ld, "mountpoint", ld->cl.mountpoint);
	if (!cfg->mountpoint)
		return -1;
	return resolve_data_dir(ld, cfg);
}

/* GPTIMGFS_API_KEY, else key_file, else the config file's api_key. The
 * simulator has a key of its own. */
static int load_key(struct load *ld, struct config *cfg)
{
	char **from = NULL;

	if (cfg->simulate)
		return 0;
	if (ld->env.value[SET_API_KEY]) {
		from = &ld->env.value[SET_API_KEY];
		cfg->key_source = KEY_FROM_ENV;
	} else if (cfg->key_file) {
		cfg->api_key = config_key_file_read(cfg->key_file, ld->err,
						    ld->errlen);
		cfg->key_source = KEY_FROM_KEY_FILE;
	} else if (ld->file.value[SET_API_KEY]) {
		from = &ld->file.value[SET_API_KEY];
		cfg->key_source = KEY_FROM_CONFIG_FILE;
	} else {
		snprintf(ld->err, ld->errlen,
			 "gptimgfs: no API key: set "
			 "GPTIMGFS_API_KEY, key_file=FILE, or api_key in %s "
			 "(mode 600)",
			 ld->config_path ? ld->config_path : "the config file");
	}
	if (from) {
		cfg->api_key = *from;
		*from = NULL;
	}
	return cfg->api_key ? 0 : -1;
}

enum config_result config_load(struct config *cfg, int argc, char **argv,
			       char *const *env, char *err, size_t errlen)
{
	struct load ld = { .vars = env, .err = err, .errlen = errlen };
	enum config_result result = CONFIG_ERROR;

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	ld.home = env_dir(env, "HOME");
	ld.cl.home = ld.home;
	ld.cl.err = err;
	ld.cl.errlen = errlen;
	if (config_cmdline_parse(&ld.cl, argc, argv, &cfg->fuse_args) < 0)
		goto out;
	if (ld.cl.help) {
		config_cmdline_help();
		result = CONFIG_DONE;
	} else if (ld.cl.version) {
		printf("gptimgfs %s\n", GPTIMGFS_VERSION);
		result = CONFIG_DONE;
	} else if (ld.cl.failed) {
		/* err says what */
	} else if (!ld.cl.mountpoint) {
		snprintf(err, errlen,
			 "gptimgfs: no mountpoint given "
			 "(usage: gptimgfs [-o OPTION,...] MOUNTPOINT)");
	} else if (read_env(&ld) == 0 && read_config_file(&ld, cfg) == 0 &&
		   resolve(&ld, cfg) == 0 && load_key(&ld, cfg) == 0) {
		result = CONFIG_OK;
	}
out:
	config_cmdline_free(&ld.cl);
	config_layer_free(&ld.env);
	config_layer_free(&ld.file);
	free(ld.config_path);
	if (result != CONFIG_OK)
		config_free(cfg);
	return result;
}

void config_key_source(const struct config *cfg, char *out, size_t outsz)
{
	switch (cfg->key_source) {
	case KEY_FROM_ENV:
		snprintf(out, outsz, "GPTIMGFS_API_KEY");
		break;
	case KEY_FROM_KEY_FILE:
		snprintf(out, outsz, "key_file %s", cfg->key_file);
		break;
	case KEY_FROM_CONFIG_FILE:
		snprintf(out, outsz, "api_key in %s", cfg->config_file);
		break;
	case KEY_FROM_SIMULATOR:
		snprintf(out, outsz, "the simulator's built-in key");
		break;
	}
}

void config_free(struct config *cfg)
{
	free(cfg->mountpoint);
	free(cfg->config_file);
	free(cfg->data_dir);
	free(cfg->api_url);
	free(cfg->key_file);
	free(cfg->callback_listen);
	free(cfg->callback_listen_from);
	free(cfg->callback_url);
	free(cfg->log);
	config_secret_free(cfg->api_key);
	fuse_opt_free_args(&cfg->fuse_args);
	memset(cfg, 0, sizeof(*cfg));
}
