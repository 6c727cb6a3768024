/* The command line, through libfuse's fuse_opt: our own options are picked
 * out, everything else (and -f, -d, allow_other, ...) is left for libfuse.
 *
 * `gptimgfs [SOURCE] MOUNTPOINT`, as mount.fuse3 runs it for mount(8) and
 * fstab: SOURCE is the data directory ("none" and "gptimgfs": the
 * default), and the options fstab lines carry for mount(8) and systemd
 * alone are dropped. */
#include <fuse_lowlevel.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum {
	OPT_HELP,
	OPT_VERSION,
	OPT_FOREGROUND,
	OPT_DEBUG,
	OPT_ALLOW_OTHER,
	OPT_DEFAULT_PERMISSIONS,
	OPT_SIMULATE,
	OPT_CONFIG,
	OPT_KEY,      /* refused: ps shows the command line */
	OPT_NO_VALUE, /* one of ours without "=VALUE" */
	OPT_FSTAB,    /* mount(8)'s and systemd's: nothing to the daemon */
	OPT_SETTING,  /* + enum setting */
};

#define SETTING(name, s)                           \
	FUSE_OPT_KEY(name "=", OPT_SETTING + (s)), \
		FUSE_OPT_KEY(name, OPT_NO_VALUE)

static const struct fuse_opt cmdline_opts[] = {
	FUSE_OPT_KEY("-h", OPT_HELP), FUSE_OPT_KEY("--help", OPT_HELP),
	FUSE_OPT_KEY("-V", OPT_VERSION), FUSE_OPT_KEY("--version", OPT_VERSION),
	FUSE_OPT_KEY("-f", OPT_FOREGROUND), FUSE_OPT_KEY("-d", OPT_DEBUG),
	FUSE_OPT_KEY("debug", OPT_DEBUG),
	/* allow_root also lets someone else in: both imply
	 * default_permissions. */
	FUSE_OPT_KEY("allow_other", OPT_ALLOW_OTHER),
	FUSE_OPT_KEY("allow_root", OPT_ALLOW_OTHER),
	FUSE_OPT_KEY("default_permissions", OPT_DEFAULT_PERMISSIONS),
	FUSE_OPT_KEY("--simulate", OPT_SIMULATE),
	FUSE_OPT_KEY("simulate", OPT_SIMULATE),
	/* simulate=false overrides "simulate = true" in the config file */
	FUSE_OPT_KEY("simulate=", OPT_SETTING + SET_SIMULATE),
	FUSE_OPT_KEY("config=", OPT_CONFIG),
	FUSE_OPT_KEY("config", OPT_NO_VALUE), FUSE_OPT_KEY("api_key=", OPT_KEY),
	FUSE_OPT_KEY("api_key", OPT_KEY), FUSE_OPT_KEY("key=", OPT_KEY),
	SETTING("data_dir", SET_DATA_DIR), SETTING("api_url", SET_API_URL),
	SETTING("key_file", SET_KEY_FILE),
	SETTING("poll_interval", SET_POLL_INTERVAL),
	SETTING("max_inflight", SET_MAX_INFLIGHT),
	SETTING("max_rate", SET_MAX_RATE),
	SETTING("callback_listen", SET_CALLBACK_LISTEN),
	SETTING("callback_url", SET_CALLBACK_URL),
	SETTING("daily_budget", SET_DAILY_BUDGET),
	SETTING("max_task_bytes", SET_MAX_TASK_BYTES),
	SETTING("aspect_ratio", SET_ASPECT_RATIO),
	SETTING("resolution", SET_RESOLUTION),
	SETTING("nsfw_checker", SET_NSFW_CHECKER),
	SETTING("embed_metadata", SET_EMBED_METADATA), SETTING("log", SET_LOG),
	FUSE_OPT_KEY("auto", OPT_FSTAB), FUSE_OPT_KEY("noauto", OPT_FSTAB),
	FUSE_OPT_KEY("nofail", OPT_FSTAB), FUSE_OPT_KEY("_netdev", OPT_FSTAB),
	FUSE_OPT_KEY("user", OPT_FSTAB), FUSE_OPT_KEY("nouser", OPT_FSTAB),
	FUSE_OPT_KEY("users", OPT_FSTAB), FUSE_OPT_KEY("owner", OPT_FSTAB),
	FUSE_OPT_KEY("defaults", OPT_FSTAB),
	FUSE_OPT_KEY("comment=", OPT_FSTAB), FUSE_OPT_END
};

/* Only the first error is kept; parsing goes on so that --help still wins
 * over a bad option before it. */
__attribute__((format(printf, 2, 3))) static void cmdline_error(
	struct cmdline *cl, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cl->failed)
		return;
	cl->failed = true;
	n = snprintf(cl->err, cl->errlen, "gptimgfs: ");
	if (n < 0 || (size_t)n >= cl->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(cl->err + n, cl->errlen - n, fmt, ap);
	va_end(ap);
}

static int set_setting(struct cmdline *cl, enum setting s, const char *arg)
{
	const char *value = strchr(arg, '=') + 1;
	char why[256];

	if (config_layer_set(&cl->layer, s, value, cl->home, why, sizeof(why)) <
	    0)
		cmdline_error(cl, "%s: %s", config_settings[s].name, why);
	return 0;
}

/* A word that is no option: the mountpoint, or, when a second one comes,
 * the source (the data directory) before it. */
static int set_mountpoint(struct cmdline *cl, const char *arg)
{
	char first[64], second[64];

	if (cl->source) {
		config_quote_value(cl->mountpoint, first, sizeof(first));
		config_quote_value(arg, second, sizeof(second));
		cmdline_error(cl,
			      "more than one mountpoint: %s and %s (usage: "
			      "gptimgfs [SOURCE] MOUNTPOINT)",
			      first, second);
		return 0;
	}
	if (cl->mountpoint) {
		cl->source = cl->mountpoint;
		cl->mountpoint = NULL;
	}
	cl->mountpoint = strdup(arg);
	return cl->mountpoint ? 0 : -1;
}

/* SOURCE, unless a placeholder, is the data directory: once, as with
 * -o data_dir. */
static void apply_source(struct cmdline *cl)
{
	char why[256];

	if (!cl->source || strcmp(cl->source, "none") == 0 ||
	    strcmp(cl->source, "gptimgfs") == 0)
		return;
	if (cl->layer.value[SET_DATA_DIR]) {
		cmdline_error(cl, "the data directory is given twice: as the "
				  "source before the mountpoint and as -o "
				  "data_dir");
		return;
	}
	if (config_layer_set(&cl->layer, SET_DATA_DIR, cl->source, cl->home,
			     why, sizeof(why)) < 0)
		cmdline_error(cl, "source (data directory): %s", why);
}

static int set_config(struct cmdline *cl, const char *arg)
{
	const char *value = arg + strlen("config=");
	char why[256];
	char *path;

	if (!*value) {
		cmdline_error(cl, "config: the value is empty");
		return 0;
	}
	path = config_expand_home(value, cl->home, why, sizeof(why));
	if (!path) {
		cmdline_error(cl, "config: %s", why);
		return 0;
	}
	free(cl->config);
	cl->config = path;
	return 0;
}

/* fuse_opt's processing function: 1 keeps arg for libfuse, 0 drops it. */
static int on_arg(void *data, const char *arg, int key,
		  struct fuse_args *outargs)
{
	struct cmdline *cl = data;
	char why[256];

	(void)outargs;
	switch (key) {
	case OPT_HELP:
		cl->help = true;
		return 0;
	case OPT_VERSION:
		cl->version = true;
		return 0;
	case OPT_FOREGROUND:
		cl->foreground = true;
		return 1;
	case OPT_DEBUG:
		cl->debug = true;
		return 1;
	case OPT_ALLOW_OTHER:
		cl->allow_other = true;
		return 1;
	case OPT_DEFAULT_PERMISSIONS:
		cl->default_permissions = true;
		return 1;
	case OPT_SIMULATE:
		if (config_layer_set(&cl->layer, SET_SIMULATE, "true", NULL,
				     why, sizeof(why)) < 0)
			return -1;
		return 0;
	case OPT_CONFIG:
		return set_config(cl, arg);
	case OPT_KEY:
		/* Never quote arg: it may be the key itself. */
		cmdline_error(cl, "the API key is not taken from the command "
				  "line, where ps shows it to everyone: set "
				  "GPTIMGFS_API_KEY, key_file=FILE, or api_key "
				  "in the config file (mode 600)");
		return 0;
	case OPT_NO_VALUE:
		cmdline_error(cl, "%s needs a value: -o %s=...", arg, arg);
		return 0;
	case OPT_FSTAB:
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		return set_mountpoint(cl, arg);
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.automount, x-gvfs-show, ...: fstab's own */
		return strncmp(arg, "x-", 2) == 0 ? 0 : 1;
	default:
		return set_setting(cl, key - OPT_SETTING, arg);
	}
}

/* fuse_opt_parse only says "fuse: missing argument after `-o'". */
static bool trailing_o(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-o") == 0 && i == argc - 1)
			return true;
	return false;
}

int config_cmdline_parse(struct cmdline *cl, int argc, char **argv,
			 struct fuse_args *fuse_args)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);

	if (trailing_o(argc, argv)) {
		cmdline_error(cl, "-o needs an argument");
		return -1;
	}
	if (fuse_opt_parse(&args, cl, cmdline_opts, on_arg) < 0) {
		fuse_opt_free_args(&args);
		if (!cl->failed)
			cmdline_error(cl, "cannot parse the command line (out "
					  "of memory?)");
		return -1;
	}
	apply_source(cl);
	if (cl->allow_other && !cl->default_permissions &&
	    fuse_opt_add_arg(&args, "-odefault_permissions") < 0) {
		fuse_opt_free_args(&args);
		cmdline_error(cl, "out of memory");
		return -1;
	}
	*fuse_args = args;
	return 0;
}

void config_cmdline_free(struct cmdline *cl)
{
	config_layer_free(&cl->layer);
	free(cl->config);
	free(cl->mountpoint);
	free(cl->source);
}

void config_cmdline_help(void)
{
	printf("usage: gptimgfs [options] [DATA_DIR] MOUNTPOINT\n"
	       "       gptimgfs --simulate [-f] MOUNTPOINT\n"
	       "       mount -t fuse.gptimgfs DATA_DIR MOUNTPOINT -o "
	       "options\n"
	       "\n"
	       "gptimgfs options (also keys of the config file):\n"
	       "    -o config=FILE         config file "
	       "(~/.config/gptimgfs/config.ini)\n"
	       "    -o data_dir=DIR        jobs and images "
	       "(~/.local/share/gptimgfs)\n"
	       "    -o api_url=URL         the API "
	       "(https://api.aivideoapi.ai)\n"
	       "    -o key_file=FILE       the API key on its first line "
	       "(mode 600)\n"
	       "    -o poll_interval=SECS  seconds between polls of a task "
	       "(2)\n"
	       "    -o max_inflight=N      tasks at the API at once, at most "
	       "(10000)\n"
	       "    -o max_rate=R          API requests a second, at most "
	       "(1000)\n"
	       "                           (the daemon learns the API's own "
	       "limits below these)\n"
	       "    -o callback_listen=ADDRESS:PORT  the callback receiver "
	       "(none)\n"
	       "    -o callback_url=URL    where the API reaches it (none; "
	       "both or neither)\n"
	       "    -o daily_budget=CREDITS  credits a UTC day may cost "
	       "(none)\n"
	       "    -o max_task_bytes=SIZE all images of one task at most, "
	       "K M G (256M)\n"
	       "    -o aspect_ratio=RATIO  jobs' default aspect ratio (auto)\n"
	       "    -o resolution=RES      jobs' default resolution: 1k 2k 4k "
	       "(1k)\n"
	       "    -o nsfw_checker=BOOL   jobs' default nsfw_checker (true)\n"
	       "    -o embed_metadata=BOOL the prompt, options and task id "
	       "in each image (yes)\n"
	       "    -o log=WHERE           syslog, stderr or FILE (syslog in "
	       "the background)\n"
	       "    --simulate             the built-in simulated API: no key, "
	       "no network\n"
	       "The API key comes from GPTIMGFS_API_KEY, key_file or api_key "
	       "in the config\n"
	       "file, never from the command line.\n"
	       "\n"
	       "FUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}
