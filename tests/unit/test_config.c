/* config_load: where the settings come from: defaults, precedence, the
 * config file and its errors, the command line left for libfuse. */
#include "config_fixture.h"

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
	CHECK(cfg.max_inflight == 10000);
	CHECK(cfg.max_rate == 1000);
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
		   "max_rate = 12.5\n"
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
	CHECK(cfg.max_rate == 12.5);
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
	refused(ARGV("/a", "/b", "/c"), ENV(home_env, key_env),
		"more than one");

	/* as mount.fuse3 runs it: SOURCE (the data directory) MOUNTPOINT,
	 * and the options only fstab, mount(8) and systemd act on dropped */
	CHECK(load(ARGV("/srv/d", "/m", "-o",
			"rw,nosuid,nodev,noauto,nofail,_netdev,users,"
			"x-systemd.automount,x-gvfs-show,comment=hi,defaults"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK_STR(cfg.data_dir, "/srv/d");
	CHECK_STR(cfg.mountpoint, "/m");
	CHECK(count_in_fuse_args("nosuid") == 1);
	CHECK(count_in_fuse_args("noauto") == 0);
	CHECK(count_in_fuse_args("nofail") == 0);
	CHECK(count_in_fuse_args("_netdev") == 0);
	CHECK(count_in_fuse_args("users") == 0);
	CHECK(count_in_fuse_args("x-") == 0);
	CHECK(count_in_fuse_args("comment") == 0);
	CHECK(count_in_fuse_args("defaults") == 0);
	CHECK(count_in_fuse_args("/srv/d") == 0);
	/* placeholders leave the default */
	CHECK(load(ARGV("none", "/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(strstr(cfg.data_dir, "/.local/share/gptimgfs") != NULL);
	CHECK(load(ARGV("gptimgfs", "/m"), ENV(home_env, key_env)) ==
	      CONFIG_OK);
	CHECK(strstr(cfg.data_dir, "/.local/share/gptimgfs") != NULL);
	CHECK(load(ARGV("~/imgs", "/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(strstr(cfg.data_dir, "/imgs") != NULL && cfg.data_dir[0] == '/');
	refused(ARGV("/srv/d", "/m", "-o", "data_dir=/e"),
		ENV(home_env, key_env), "given twice");

	/* log=: syslog, stderr or an absolute path */
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.log == NULL);
	CHECK(load(ARGV("-o", "log=/var/log/g.log", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK_STR(cfg.log, "/var/log/g.log");
	CHECK(load(ARGV("/m"), ENV(home_env, key_env, "GPTIMGFS_LOG=syslog")) ==
	      CONFIG_OK);
	CHECK_STR(cfg.log, "syslog");
	CHECK(load(ARGV("-o", "log=~/g.log", "/m"), ENV(home_env, key_env)) ==
	      CONFIG_OK);
	CHECK(cfg.log[0] == '/' && strstr(cfg.log, "/g.log"));
	refused(ARGV("-o", "log=g.log", "/m"), ENV(home_env, key_env),
		"absolute path");
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
	if (!config_fixture_open())
		return 1;

	test_defaults();
	test_precedence();
	test_config_file_choice();
	test_config_file_errors();
	test_cmdline();

	config_fixture_close();
	return check_result("test_config");
}
