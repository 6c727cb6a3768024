/* Options, the config file and the API key (SPEC section 6). Precedence:
 * command line > environment > config file > built-in default. */
#ifndef GPTIMGFS_CONFIG_H
#define GPTIMGFS_CONFIG_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>

struct config {
	char *mountpoint;
	char *config_file;	/* the config file read, NULL when none */
	char *data_dir;
	char *api_url;
	char *key_file;
	char *api_key;		/* secret: never logged, never in the mount */
	double poll_interval;	/* seconds between polls of one task */
	unsigned max_inflight;	/* tasks at the API at once */
	bool simulate;
	bool foreground;
	bool debug;
	/* defaults for the sidecar keys */
	char aspect_ratio[8];
	char resolution[4];
	bool nsfw_checker;
	/* what is left for libfuse: argv[0], -o options it owns, -d/-f */
	struct fuse_args fuse_args;
};

enum config_result {
	CONFIG_OK = 0,
	CONFIG_DONE = 1,	/* --help or --version was printed: exit 0 */
	CONFIG_ERROR = -1,	/* err holds one line saying what is wrong */
};

/* env is the environment to read (environ in main, a fixed list in tests). */
enum config_result config_load(struct config *cfg, int argc, char **argv,
			       char *const *env, char *err, size_t errlen);
void config_free(struct config *cfg);

#endif
