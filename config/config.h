/* Options, the config file and the API key (gptimgfs(1), OPTIONS and THE API
 * KEY; gptimgfs.conf(5)). Precedence: command line > environment > config
 * file > built-in default. */
#ifndef GPTIMGFS_CONFIG_H
#define GPTIMGFS_CONFIG_H

#include <fuse_opt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the API key came from, for messages that must name it. */
enum key_source {
	KEY_FROM_SIMULATOR,   /* simulate: the simulator's own key */
	KEY_FROM_ENV,	      /* GPTIMGFS_API_KEY */
	KEY_FROM_KEY_FILE,    /* the file key_file */
	KEY_FROM_CONFIG_FILE, /* api_key in config_file */
};

struct config {
	char *mountpoint;  /* absolute */
	char *config_file; /* the config file read, NULL when none */
	char *data_dir;	   /* absolute */
	char *api_url;	   /* without a trailing '/' */
	char *key_file;	   /* NULL when none was given */
	char *api_key;	   /* secret: never logged, never in the mount */
	enum key_source key_source;
	double poll_interval;  /* seconds between polls of one task */
	unsigned max_inflight; /* tasks at the API at once, at most */
	double max_rate;       /* API requests a second, at most */
	char *callback_listen; /* ADDRESS:PORT, NULL: no receiver */
	/* where callback_listen came from, for messages: its environment
	 * variable or the config file's path; NULL when from -o */
	char *callback_listen_from;
	char *callback_url;	 /* where the API reaches it, or NULL */
	double daily_budget;	 /* credits a UTC day, < 0: none */
	uint64_t max_task_bytes; /* all images of one task */
	bool simulate;
	bool allow_other; /* other users may use the mount */
	bool foreground;
	bool debug;
	/* defaults for the sidecar keys */
	char aspect_ratio[8];
	char resolution[4];
	bool nsfw_checker;
	bool embed_metadata; /* the prompt and the rest in every image */
	/* "syslog", "stderr" or a file's absolute path; NULL: syslog once
	 * in the background, stderr in the foreground */
	char *log;
	/* what is left for libfuse: argv[0], -o options it owns (plus
	 * default_permissions when allow_other is given), -d/-f/-s; run
	 * fuse_parse_cmdline on it before fuse_session_new */
	struct fuse_args fuse_args;
};

enum config_result {
	CONFIG_OK = 0,
	CONFIG_DONE = 1,   /* --help or --version was printed: exit 0 */
	CONFIG_ERROR = -1, /* err holds one line saying what is wrong */
};

/* env is the environment to read (environ in main, a fixed list in tests).
 * --help and --version print to stdout. On CONFIG_DONE and CONFIG_ERROR
 * cfg holds nothing (config_free on it is harmless). In simulate mode
 * api_key is NULL: main supplies the simulator's key and URL. */
enum config_result config_load(struct config *cfg, int argc, char **argv,
			       char *const *env, char *err, size_t errlen);
/* The key's source in a few words: "GPTIMGFS_API_KEY", "key_file PATH",
 * "api_key in PATH" or "the simulator's built-in key"; never the key. */
void config_key_source(const struct config *cfg, char *out, size_t outsz);
/* Frees everything (wiping the key first) and zeroes cfg; may be called
 * again. */
void config_free(struct config *cfg);

#endif
