/* config_load: defaults, precedence, the config file, the key and its
 * files, api_url, the command line left for libfuse. */
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

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

static char *path_in(const char *dir, const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

/* Every message is checked never to hold the key. */
static int load(char **argv, char **env)
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
static void refused(char **argv, char **env, const char *want)
{
	CHECK(load(argv, env) == CONFIG_ERROR);
	if (!strstr(err, want)) {
		CHECK(!"message names the problem");
		fprintf(stderr, "  got \"%s\", want \"%s\" in it\n", err, want);
	}
}

/* config_key_source names where the key came from, never the key. */
static void check_source(const char *want)
{
	char got[600];

	config_key_source(&cfg, got, sizeof(got));
	CHECK_STR(got, want);
}

static int count_in_fuse_args(const char *needle)
{
	int i, n = 0;
	const char *p;

	for (i = 0; i < cfg.fuse_args.argc; i++)
		for (p = cfg.fuse_args.argv[i]; (p = strstr(p, needle)); p++)
			n++;
	return n;
}

static void test_defaults(void)
{
	char want[1024];

	CHECK(load(ARGV("mnt"), ENV(home_env, key_env)) == CONFIG_OK);
	snprintf(want, sizeof(want), "%s/.local/share/gptimgfs", home);
	CHECK_STR(cfg.data_dir, want);
	snprintf(want, sizeof(want), "%s/mnt", cwd);
	CHECK_STR(cfg.mountpoint, want);
	CHECK_STR(cfg.api_url, "https://api.aivideoapi.ai");
	CHECK(cfg.poll_interval == 2.0);
	CHECK(cfg.max_inflight == 8);
	CHECK(cfg.daily_budget < 0);
	CHECK(cfg.max_task_bytes == 256u << 20);
	CHECK_STR(cfg.aspect_ratio, "auto");
	CHECK_STR(cfg.resolution, "1k");
	CHECK(cfg.nsfw_checker);
	CHECK(!cfg.simulate && !cfg.foreground && !cfg.debug);
	CHECK(cfg.config_file == NULL); /* the default one is missing */
	CHECK(cfg.key_file == NULL);
	CHECK_STR(cfg.api_key, SECRET);
	CHECK(cfg.fuse_args.argc == 1);

	CHECK(load(ARGV("/m"), ENV(home_env, key_env,
				   "XDG_DATA_HOME=/xdg/data")) == CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/xdg/data/gptimgfs");
	/* a relative XDG directory is ignored, as the XDG spec says */
	CHECK(load(ARGV("/m"), ENV(home_env, key_env, "XDG_DATA_HOME=rel")) ==
	      CONFIG_OK);
	snprintf(want, sizeof(want), "%s/.local/share/gptimgfs", home);
	CHECK_STR(cfg.data_dir, want);

	/* simulated task ids never mix with real ones; no key needed */
	CHECK(load(ARGV("--simulate", "/m"), ENV(home_env)) == CONFIG_OK);
	CHECK(cfg.simulate);
	snprintf(want, sizeof(want), "%s/.local/share/gptimgfs-simulate", home);
	CHECK_STR(cfg.data_dir, want);
	CHECK(cfg.api_key == NULL);
	CHECK(load(ARGV("-o", "simulate", "/m"), ENV(home_env)) == CONFIG_OK);
	CHECK(cfg.simulate);
	CHECK(load(ARGV("-o", "simulate,data_dir=/d", "/m"), ENV(home_env)) ==
	      CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/d");

	refused(ARGV("/m"), ENV(key_env), "data_dir");
	CHECK(load(ARGV("/m"), ENV(key_env, "XDG_DATA_HOME=/x")) == CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/x/gptimgfs");

	/* relative paths are made absolute: the daemon chdirs to / */
	CHECK(load(ARGV("-o", "data_dir=rel/dir/", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	snprintf(want, sizeof(want), "%s/rel/dir", cwd);
	CHECK_STR(cfg.data_dir, want);
}

static void test_precedence(void)
{
	char want[512];
	char *env_all[] = { home_env,
			    key_env,
			    "GPTIMGFS_DATA_DIR=/env",
			    "GPTIMGFS_POLL_INTERVAL=0.25",
			    "GPTIMGFS_MAX_INFLIGHT=6",
			    "GPTIMGFS_API_URL=https://env.example",
			    NULL };

	write_file(cfgpath,
		   "# defaults\n"
		   "data_dir = ~/fromfile\n"
		   "poll_interval = 3\n"
		   "max_inflight = 5\n"
		   "api_url = https://file.example/\n"
		   "[gptimgfs]\n"
		   "resolution = 2k\n"
		   "aspect_ratio = 16:9\n"
		   "nsfw_checker = off\n",
		   0644);

	/* config file beats default */
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK_STR(cfg.config_file, cfgpath);
	snprintf(want, sizeof(want), "%s/fromfile", home);
	CHECK_STR(cfg.data_dir, want);
	CHECK(cfg.poll_interval == 3.0);
	CHECK(cfg.max_inflight == 5);
	CHECK_STR(cfg.api_url, "https://file.example");
	CHECK_STR(cfg.resolution, "2k");
	CHECK_STR(cfg.aspect_ratio, "16:9");
	CHECK(!cfg.nsfw_checker);

	/* environment beats config file */
	CHECK(load(ARGV("/m"), env_all) == CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/env");
	CHECK(cfg.poll_interval == 0.25);
	CHECK(cfg.max_inflight == 6);
	CHECK_STR(cfg.api_url, "https://env.example");
	CHECK_STR(cfg.resolution, "2k");

	/* command line beats environment */
	CHECK(load(ARGV("-o", "data_dir=/cl,poll_interval=0.5", "-o",
			"max_inflight=7,resolution=4k,nsfw_checker=yes", "-o",
			"api_url=https://cl.example", "/m"),
		   env_all) == CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/cl");
	CHECK(cfg.poll_interval == 0.5);
	CHECK(cfg.max_inflight == 7);
	CHECK_STR(cfg.api_url, "https://cl.example");
	CHECK_STR(cfg.resolution, "4k");
	CHECK_STR(cfg.aspect_ratio, "16:9");
	CHECK(cfg.nsfw_checker);

	/* daily_budget: decimals; "none" undoes the file's */
	write_file(cfgpath, "daily_budget = 47.5\n", 0644);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.daily_budget == 47.5);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env,
				   "GPTIMGFS_DAILY_BUDGET=0")) == CONFIG_OK);
	CHECK(cfg.daily_budget == 0);
	CHECK(load(ARGV("-o", "daily_budget=none", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.daily_budget < 0);
	refused(ARGV("-o", "daily_budget=1e3", "/m"), ENV(home_env, key_env),
		"daily_budget: '1e3' is not a number of credits (or none)");
	refused(ARGV("-o", "daily_budget=-2", "/m"), ENV(home_env, key_env),
		"daily_budget");
	refused(ARGV("-o", "daily_budget=1000000001", "/m"),
		ENV(home_env, key_env), "is out of range");
	unlink(cfgpath);

	/* simulate = true in the file is undone by simulate=false */
	write_file(cfgpath, "simulate = true\n", 0600);
	CHECK(load(ARGV("/m"), ENV(home_env)) == CONFIG_OK);
	CHECK(cfg.simulate);
	CHECK(load(ARGV("-o", "simulate=false", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(!cfg.simulate);
	unlink(cfgpath);
}

static void test_config_file_choice(void)
{
	char *other = path_in(tmp, "other.ini");
	char *missing = path_in(tmp, "missing.ini");
	char named[600], cl[600];

	write_file(cfgpath, "max_inflight = 2\n", 0644);
	write_file(other, "max_inflight = 3\n", 0644);
	snprintf(named, sizeof(named), "GPTIMGFS_CONFIG=%s", other);
	snprintf(cl, sizeof(cl), "config=%s", cfgpath);

	CHECK(load(ARGV("/m"), ENV(home_env, key_env, named)) == CONFIG_OK);
	CHECK(cfg.max_inflight == 3);
	CHECK_STR(cfg.config_file, other);
	CHECK(load(ARGV("-o", cl, "/m"), ENV(home_env, key_env, named)) ==
	      CONFIG_OK);
	CHECK(cfg.max_inflight == 2);

	/* a named config file must exist; the default one need not */
	snprintf(named, sizeof(named), "GPTIMGFS_CONFIG=%s", missing);
	refused(ARGV("/m"), ENV(home_env, key_env, named), missing);
	CHECK(strstr(err, "No such file or directory") != NULL);
	snprintf(cl, sizeof(cl), "config=%s", missing);
	refused(ARGV("-o", cl, "/m"), ENV(home_env, key_env), missing);
	refused(ARGV("-o", "config=/dev/null", "/m"), ENV(home_env, key_env),
		"not a regular file");
	unlink(cfgpath);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.config_file == NULL);

	/* XDG_CONFIG_HOME moves the default */
	snprintf(named, sizeof(named), "XDG_CONFIG_HOME=%s", tmp);
	CHECK(mkdir(path_in(tmp, "gptimgfs"), 0700) == 0);
	write_file(path_in(tmp, "gptimgfs/config.ini"), "max_inflight=9\n",
		   0600);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env, named)) == CONFIG_OK);
	CHECK(cfg.max_inflight == 9);
	unlink(path_in(tmp, "gptimgfs/config.ini"));
	rmdir(path_in(tmp, "gptimgfs"));
}

static void test_bad_values(void)
{
	static const struct {
		const char *opt, *key;
	} bad[] = {
		{ "poll_interval=0", "poll_interval" },
		{ "poll_interval=3601", "poll_interval" },
		{ "poll_interval=-1", "poll_interval" },
		{ "poll_interval=1e3", "poll_interval" },
		{ "poll_interval=nan", "poll_interval" },
		{ "poll_interval=.", "poll_interval" },
		{ "poll_interval=", "poll_interval" },
		{ "max_inflight=0", "max_inflight" },
		{ "max_inflight=1001", "max_inflight" },
		{ "max_inflight=4x", "max_inflight" },
		{ "max_inflight=99999999999999999999", "max_inflight" },
		{ "aspect_ratio=7:3", "aspect_ratio" },
		{ "resolution=8k", "resolution" },
		{ "nsfw_checker=maybe", "nsfw_checker" },
		{ "simulate=perhaps", "simulate" },
		{ "data_dir=", "data_dir" },
		{ "key_file=", "key_file" },
		{ "api_url=ftp://x.example", "api_url" },
		{ "api_url=https://", "api_url" },
		{ "api_url=https://:443/", "api_url" },
		{ "api_url=https://a.example:0", "api_url" },
		{ "api_url=https://a.example:99999", "api_url" },
		{ "api_url=https://a.example/?x=1", "api_url" },
		{ "api_url=https://u:p@a.example", "api_url" },
		{ "api_url=https://a b.example", "api_url" },
		{ "api_url=https://[::1", "api_url" },
		{ "api_url=api.example", "api_url" },
		{ "data_dir", "data_dir" },
		{ "config", "config" },
	};
	char opt[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(opt, sizeof(opt), "%s", bad[i].opt);
		refused(ARGV("-o", opt, "/m"), ENV(home_env, key_env),
			bad[i].key);
	}
	refused(ARGV("-o", "poll_interval=abc", "/m"), ENV(home_env, key_env),
		"");
	CHECK_STR(err, "gptimgfs: poll_interval: 'abc' is not a number of "
		       "seconds");

	/* the edges are accepted */
	CHECK(load(ARGV("-o", "poll_interval=3600,max_inflight=1000", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.poll_interval == 3600 && cfg.max_inflight == 1000);
	CHECK(load(ARGV("-o", "poll_interval=.2,max_inflight=1", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.poll_interval == 0.2 && cfg.max_inflight == 1);

	refused(ARGV("/m"), ENV(home_env, key_env, "GPTIMGFS_POLL_INTERVAL=x"),
		"GPTIMGFS_POLL_INTERVAL");
	refused(ARGV("/m"), ENV(home_env, key_env, "GPTIMGFS_MAX_INFLIGHT=0"),
		"GPTIMGFS_MAX_INFLIGHT");
	refused(ARGV("/m"),
		ENV(home_env, key_env, "GPTIMGFS_API_URL=http://example.com"),
		"GPTIMGFS_API_URL");
	/* a bad value on the command line is an error, also when the
	 * environment has a good one */
	refused(ARGV("-o", "max_inflight=0", "/m"),
		ENV(home_env, key_env, "GPTIMGFS_MAX_INFLIGHT=3"),
		"max_inflight");

	write_file(cfgpath, "data_dir = /d\n\npoll_interval = abc\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), cfgpath);
	CHECK(strstr(err, "line 3: key 'poll_interval': 'abc'") != NULL);
	write_file(cfgpath, "resolution = 3k\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "line 1: key 'resolution'");
	write_file(cfgpath, "[gptimgfs]\nnsfw_checker = sometimes\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env),
		"line 2: key 'nsfw_checker'");
	unlink(cfgpath);
}

/* max_task_bytes: bytes or K, M, G (powers of 1024), 1M to 64G, from
 * every source. */
static void test_max_task_bytes(void)
{
	static const struct {
		const char *value;
		uint64_t bytes;
	} good[] = {
		{ "1048576", 1u << 20 },
		{ "1024K", 1u << 20 },
		{ "1024k", 1u << 20 },
		{ "1M", 1u << 20 },
		{ "300m", 300u << 20 },
		{ "2G", (uint64_t)2 << 30 },
		{ "64g", (uint64_t)64 << 30 },
		{ "68719476736", (uint64_t)64 << 30 },
		{ "0001M", 1u << 20 },
	};
	static const char *const bad[] = {
		"0",
		"1048575",
		"1023K",
		"0M",
		"65G",
		"68719476737",
		"9999999999999999G",
		"99999999999999999",
		"1.5M",
		"1MB",
		"1MiB",
		"1T",
		"M",
		"-1M",
		"+1M",
		" 1M",
		"1M ",
		"0x100000",
		"1e6",
		"one",
	};
	char opt[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(opt, sizeof(opt), "max_task_bytes=%s", good[i].value);
		CHECK(load(ARGV("-o", opt, "/m"), ENV(home_env, key_env)) ==
		      CONFIG_OK);
		CHECK(cfg.max_task_bytes == good[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(opt, sizeof(opt), "max_task_bytes=%s", bad[i]);
		refused(ARGV("-o", opt, "/m"), ENV(home_env, key_env),
			"gptimgfs: max_task_bytes: '");
	}
	refused(ARGV("-o", "max_task_bytes=1MB", "/m"), ENV(home_env, key_env),
		"");
	CHECK_STR(err, "gptimgfs: max_task_bytes: '1MB' is not a size "
		       "(bytes, or a number with K, M or G)");
	refused(ARGV("-o", "max_task_bytes=512K", "/m"), ENV(home_env, key_env),
		"");
	CHECK_STR(err, "gptimgfs: max_task_bytes: '512K' is out of range "
		       "(1M to 64G)");
	refused(ARGV("-o", "max_task_bytes", "/m"), ENV(home_env, key_env),
		"max_task_bytes needs a value");

	/* command line > environment > config file */
	write_file(cfgpath, "max_task_bytes = 3M\n", 0600);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.max_task_bytes == 3u << 20);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env,
				   "GPTIMGFS_MAX_TASK_BYTES=4M")) == CONFIG_OK);
	CHECK(cfg.max_task_bytes == 4u << 20);
	CHECK(load(ARGV("-o", "max_task_bytes=5M", "/m"),
		   ENV(home_env, key_env, "GPTIMGFS_MAX_TASK_BYTES=4M")) ==
	      CONFIG_OK);
	CHECK(cfg.max_task_bytes == 5u << 20);
	refused(ARGV("/m"),
		ENV(home_env, key_env, "GPTIMGFS_MAX_TASK_BYTES=big"),
		"gptimgfs: GPTIMGFS_MAX_TASK_BYTES: 'big' is not a size");
	write_file(cfgpath, "\nmax_task_bytes = 0\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "");
	if (!strstr(err, cfgpath) ||
	    !strstr(err, ": line 2: key 'max_task_bytes': '0' is out of range"))
		CHECK(!"the config file's line and key are named");
	unlink(cfgpath);
}

static void test_config_file_errors(void)
{
	char want[512], longline[400];

	write_file(cfgpath, "; comment\n[gptimgfs]\n\ncolour = blue\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "");
	snprintf(want, sizeof(want),
		 "gptimgfs: %s: line 4: unknown key "
		 "'colour'",
		 cfgpath);
	CHECK_STR(err, want);

	write_file(cfgpath, "max_inflight = 2\n[other]\nmax_inflight = 3\n",
		   0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "line 3: unknown section");
	write_file(cfgpath, "max_inflight = 2\n[gptimgfs]\nmax_inflight = 3\n",
		   0600);
	refused(ARGV("/m"), ENV(home_env, key_env),
		"line 3: key 'max_inflight' given twice (first on line 1)");
	write_file(cfgpath, "max_inflight = 2\njust words\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env),
		"line 2: not 'key = value'");
	/* the earlier of a syntax error and a bad key is reported */
	write_file(cfgpath, "oops\ncolour = 1\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "line 1:");
	write_file(cfgpath, "colour = 1\noops\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "line 1: unknown key");
	/* config is not a key of the config file */
	write_file(cfgpath, "config = /x\n", 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "unknown key 'config'");

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "data_dir = /", 12);
	write_file(cfgpath, longline, 0600);
	refused(ARGV("/m"), ENV(home_env, key_env), "line 1: longer than");

	/* CRLF and a trailing line without newline are fine */
	write_file(cfgpath, "max_inflight = 4\r\nresolution = 2k", 0600);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.max_inflight == 4);
	CHECK_STR(cfg.resolution, "2k");

	/* indented keys are keys, not continuations of the value above */
	write_file(cfgpath,
		   "[gptimgfs]\n  data_dir = /a\n\tmax_inflight = 3\n"
		   "  ; comment\n",
		   0600);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/a");
	CHECK(cfg.max_inflight == 3);

	/* "~/" needs HOME */
	write_file(path_in(tmp, "nohome.ini"), "data_dir = ~/x\n", 0600);
	snprintf(want, sizeof(want), "config=%s", path_in(tmp, "nohome.ini"));
	refused(ARGV("-o", want, "/m"), ENV(key_env), "HOME is not set");
	unlink(cfgpath);
}

static void test_config_key(void)
{
	char want[600];

	write_file(cfgpath, "api_key = " SECRET "\n", 0644);
	refused(ARGV("/m"), ENV(home_env), "");
	snprintf(want, sizeof(want),
		 "gptimgfs: %s holds api_key but is "
		 "readable by group or others (chmod 600 %s)",
		 cfgpath, cfgpath);
	CHECK_STR(err, want);
	/* refused even when the key comes from elsewhere: the file leaks */
	refused(ARGV("/m"), ENV(home_env, key_env), "holds api_key");
	write_file(cfgpath, "api_key = " SECRET "\n", 0620);
	refused(ARGV("/m"), ENV(home_env), "holds api_key");

	write_file(cfgpath, "api_key = " SECRET "\n", 0600);
	CHECK(load(ARGV("/m"), ENV(home_env)) == CONFIG_OK);
	CHECK_STR(cfg.api_key, SECRET);
	snprintf(want, sizeof(want), "api_key in %s", cfgpath);
	check_source(want);
	/* the environment's key wins */
	CHECK(load(ARGV("/m"), ENV(home_env, "GPTIMGFS_API_KEY=sk-env")) ==
	      CONFIG_OK);
	CHECK_STR(cfg.api_key, "sk-env");
	check_source("GPTIMGFS_API_KEY");

	write_file(cfgpath, "api_key = sk-Top Secret-4242\n", 0600);
	refused(ARGV("/m"), ENV(home_env), "cannot be sent in an HTTP header");

	write_file(cfgpath, "max_inflight = 3\n", 0644);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	unlink(cfgpath);
}

static void test_key_file(void)
{
	char *key = path_in(tmp, "key");
	char opt[600], envkf[600], source[600], big[5000];

	snprintf(opt, sizeof(opt), "key_file=%s", key);
	snprintf(envkf, sizeof(envkf), "GPTIMGFS_KEY_FILE=%s", key);

	write_file(key, "  " SECRET " \t\r\nsecond line\n", 0600);
	CHECK(load(ARGV("-o", opt, "/m"), ENV(home_env)) == CONFIG_OK);
	CHECK_STR(cfg.api_key, SECRET);
	CHECK_STR(cfg.key_file, key);
	snprintf(source, sizeof(source), "key_file %s", key);
	check_source(source);
	CHECK(load(ARGV("/m"), ENV(home_env, envkf)) == CONFIG_OK);
	CHECK_STR(cfg.api_key, SECRET);
	/* the environment's key wins over key_file */
	CHECK(load(ARGV("-o", opt, "/m"),
		   ENV(home_env, "GPTIMGFS_API_KEY=sk-env")) == CONFIG_OK);
	CHECK_STR(cfg.api_key, "sk-env");
	/* key_file wins over the config file's api_key */
	write_file(cfgpath, "api_key = sk-file\n", 0600);
	CHECK(load(ARGV("-o", opt, "/m"), ENV(home_env)) == CONFIG_OK);
	CHECK_STR(cfg.api_key, SECRET);
	unlink(cfgpath);

	write_file(key, SECRET "\n", 0640);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), key);
	CHECK(strstr(err, "readable by group or others (chmod 600") != NULL);
	write_file(key, SECRET "\n", 0604);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), "chmod 600");

	write_file(key, "", 0600);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), key);
	CHECK(strstr(err, "empty") != NULL);
	write_file(key, " \n" SECRET "\n", 0600);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), "empty");
	write_file(key, "sk-Top Secret-4242\n", 0600);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), "cannot be sent");
	write_file(key, "sk-TopSecret\x01-4242\n", 0600);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), "cannot be sent");
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(key, big, 0600);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), "larger than 4096");

	unlink(key);
	refused(ARGV("-o", opt, "/m"), ENV(home_env), key);
	CHECK(strstr(err, "No such file or directory") != NULL);
	/* not read at all when the environment has the key */
	CHECK(load(ARGV("-o", opt, "/m"), ENV(home_env, key_env)) == CONFIG_OK);

	/* "~/" in a key_file */
	write_file(path_in(home, "k"), SECRET, 0600);
	CHECK(load(ARGV("-o", "key_file=~/k", "/m"), ENV(home_env)) ==
	      CONFIG_OK);
	CHECK_STR(cfg.api_key, SECRET);
	unlink(path_in(home, "k"));
}

static void test_no_key(void)
{
	char want[600];

	refused(ARGV("/m"), ENV(home_env), "");
	snprintf(want, sizeof(want),
		 "gptimgfs: no API key: set "
		 "GPTIMGFS_API_KEY, key_file=FILE, or api_key in %s "
		 "(mode 600)",
		 cfgpath);
	CHECK_STR(err, want);
	refused(ARGV("/m"), ENV(home_env, "GPTIMGFS_API_KEY="), "no API key");
	refused(ARGV("/m"), ENV(home_env, "GPTIMGFS_API_KEY=sk-Top Secret"),
		"GPTIMGFS_API_KEY");
	CHECK(load(ARGV("--simulate", "/m"), ENV(home_env)) == CONFIG_OK);
	CHECK(cfg.api_key == NULL);
	check_source("the simulator's built-in key");
}

static void test_api_url(void)
{
	static const struct {
		const char *opt, *want;
	} good[] = {
		{ "api_url=http://127.0.0.1:8080/", "http://127.0.0.1:8080" },
		{ "api_url=http://127.3.4.5", "http://127.3.4.5" },
		{ "api_url=http://localhost:9/v1/", "http://localhost:9/v1" },
		{ "api_url=http://[::1]:8080", "http://[::1]:8080" },
		{ "api_url=https://example.com/api/",
		  "https://example.com/api" },
		{ "api_url=HTTPS://Example.COM", "HTTPS://Example.COM" },
		{ "api_url=https://[2001:db8::1]:443/",
		  "https://[2001:db8::1]:443" },
	};
	static const char *const plain[] = {
		"api_url=http://example.com",
		"api_url=http://128.0.0.1",
		"api_url=http://127.0.0.1.example.com",
		"api_url=http://[2001:db8::1]/",
		"api_url=http://localhost.evil",
	};
	char opt[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(opt, sizeof(opt), "%s", good[i].opt);
		CHECK(load(ARGV("-o", opt, "/m"), ENV(home_env, key_env)) ==
		      CONFIG_OK);
		CHECK_STR(cfg.api_url, good[i].want);
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		snprintf(opt, sizeof(opt), "%s", plain[i]);
		refused(ARGV("-o", opt, "/m"), ENV(home_env, key_env), "");
		CHECK_STR(err, "gptimgfs: api_url: plain http:// is allowed "
			       "only to loopback; use https://");
	}
	refused(ARGV("-o", "api_url=http://127.0.0.1@evil.example", "/m"),
		ENV(home_env, key_env), "api_url");
}

static void test_cmdline(void)
{
	char keyopt[] = "api_key=" SECRET, shortopt[] = "key=" SECRET;

	refused(ARGV("-o", keyopt, "/m"), ENV(home_env, key_env),
		"GPTIMGFS_API_KEY");
	CHECK(strstr(err, "key_file") && strstr(err, "config file"));
	refused(ARGV("-o", shortopt, "/m"), ENV(home_env, key_env),
		"command line");
	refused(ARGV("-oallow_other,api_key=" SECRET, "/m"),
		ENV(home_env, key_env), "command line");

	CHECK(load(ARGV("-o", "allow_other", "/m"), ENV(home_env, key_env)) ==
	      CONFIG_OK);
	CHECK(count_in_fuse_args("allow_other") == 1);
	CHECK(count_in_fuse_args("default_permissions") == 1);
	CHECK(load(ARGV("-o", "allow_other,default_permissions", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(count_in_fuse_args("default_permissions") == 1);
	CHECK(load(ARGV("-o", "fsname=x,ro", "/m"), ENV(home_env, key_env)) ==
	      CONFIG_OK);
	CHECK(count_in_fuse_args("default_permissions") == 0);
	CHECK(count_in_fuse_args("fsname=x") == 1);
	CHECK(count_in_fuse_args("ro") == 1);

	/* -f and -d are recorded and left for libfuse; -d implies -f */
	CHECK(load(ARGV("-f", "/m", "-s", "-o", "data_dir=/d"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.foreground && !cfg.debug);
	CHECK(count_in_fuse_args("-f") == 1 && count_in_fuse_args("-s") == 1);
	CHECK(count_in_fuse_args("data_dir") == 0);
	CHECK_STR(cfg.fuse_args.argv[0], "gptimgfs");
	CHECK(load(ARGV("-d", "/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.foreground && cfg.debug);
	CHECK(count_in_fuse_args("-d") == 1);
	CHECK(count_in_fuse_args("/m") == 0);

	refused(ARGV("-f"), ENV(home_env, key_env), "no mountpoint");
	refused(ARGV("/a", "/b"), ENV(home_env, key_env), "more than one");
	refused(ARGV("/m", "-o"), ENV(home_env, key_env), "-o needs");

	/* --help and --version win over errors; their output goes to stdout */
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY);

	dup2(null, 1);
	CHECK(load(ARGV("-o", "max_inflight=0", "--help"), ENV(home_env)) ==
	      CONFIG_DONE);
	CHECK(load(ARGV("-h"), ENV(home_env)) == CONFIG_DONE);
	CHECK(load(ARGV("--version"), ENV(home_env)) == CONFIG_DONE);
	CHECK(load(ARGV("-V", "/m"), ENV(home_env)) == CONFIG_DONE);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	CHECK(cfg.mountpoint == NULL && cfg.fuse_args.argv == NULL);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(tmp) || !getcwd(cwd, sizeof(cwd)))
		return 1;
	snprintf(home, sizeof(home), "%s/home", tmp);
	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
	snprintf(cfgpath, sizeof(cfgpath), "%s/.config/gptimgfs/config.ini",
		 home);
	CHECK(mkdir(home, 0700) == 0);
	CHECK(mkdir(path_in(home, ".config"), 0700) == 0);
	CHECK(mkdir(path_in(home, ".config/gptimgfs"), 0700) == 0);

	test_defaults();
	test_precedence();
	test_config_file_choice();
	test_bad_values();
	test_max_task_bytes();
	test_config_file_errors();
	test_config_key();
	test_key_file();
	test_no_key();
	test_api_url();
	test_cmdline();

	config_free(&cfg);
	unlink(path_in(tmp, "other.ini"));
	unlink(path_in(tmp, "nohome.ini"));
	rmdir(path_in(home, ".config/gptimgfs"));
	rmdir(path_in(home, ".config"));
	rmdir(home);
	rmdir(tmp);
	return check_result("test_config");
}
