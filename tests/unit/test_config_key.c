/* config_load: the API key: in the config file, a key_file, the
 * environment, or missing; config_key_source says where it came from. */
#include "config_fixture.h"

/* config_key_source names where the key came from, never the key. */
static void check_source(const char *want)
{
	char got[600];

	config_key_source(&cfg, got, sizeof(got));
	CHECK_STR(got, want);
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

int main(void)
{
	if (!config_fixture_open())
		return 1;

	test_config_key();
	test_key_file();
	test_no_key();

	config_fixture_close();
	return check_result("test_config_key");
}
