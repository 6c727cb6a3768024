/* What the test_config*.c files share: a HOME under /tmp, config_load
 * with every message checked never to hold the key. */
#ifndef GPTIMGFS_CONFIG_FIXTURE_H
#define GPTIMGFS_CONFIG_FIXTURE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"

#define SECRET "sk-TopSecret-4242"

#define ARGV(...) ((char *[]){ "gptimgfs", __VA_ARGS__, NULL })
#define ENV(...) ((char *[]){ __VA_ARGS__, NULL })

static char tmp[64], home[96], cfgpath[160], cwd[512];
static char home_env[128], key_env[] = "GPTIMGFS_API_KEY=" SECRET;
static struct config cfg;
static char err[1024];

static inline void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

static inline char *path_in(const char *dir, const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

/* Every message is checked never to hold the key. */
static inline int load(char **argv, char **env)
{
	int argc = 0, r;

	while (argv[argc])
		argc++;
	config_free(&cfg);
	r = config_load(&cfg, argc, argv, env, err, sizeof(err));
	CHECK(!strstr(err, SECRET));
	CHECK(!strstr(err, "TopSecret"));
	if (r == CONFIG_OK)
		CHECK(err[0] == '\0');
	else if (r == CONFIG_ERROR)
		CHECK(strncmp(err, "gptimgfs: ", 10) == 0 &&
		      !strchr(err, '\n'));
	return r;
}

/* Expect an error whose message contains want. */
static inline void refused(char **argv, char **env, const char *want)
{
	CHECK(load(argv, env) == CONFIG_ERROR);
	if (!strstr(err, want)) {
		CHECK(!"message names the problem");
		fprintf(stderr, "  got \"%s\", want \"%s\" in it\n", err, want);
	}
}

/* A HOME with an empty .config/gptimgfs in a new directory under /tmp. */
static inline bool config_fixture_open(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(tmp) || !getcwd(cwd, sizeof(cwd)))
		return false;
	snprintf(home, sizeof(home), "%s/home", tmp);
	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
	snprintf(cfgpath, sizeof(cfgpath), "%s/.config/gptimgfs/config.ini",
		 home);
	CHECK(mkdir(home, 0700) == 0);
	CHECK(mkdir(path_in(home, ".config"), 0700) == 0);
	CHECK(mkdir(path_in(home, ".config/gptimgfs"), 0700) == 0);
	return true;
}

static inline void config_fixture_close(void)
{
	config_free(&cfg);
	unlink(path_in(tmp, "other.ini"));
	unlink(path_in(tmp, "nohome.ini"));
	rmdir(path_in(home, ".config/gptimgfs"));
	rmdir(path_in(home, ".config"));
	rmdir(home);
	rmdir(tmp);
}

#endif
