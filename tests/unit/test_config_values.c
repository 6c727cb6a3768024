/* config_load: the values each setting takes and refuses, from every
 * source: numbers, ratios, max_task_bytes, api_url. */
#include "config_fixture.h"

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
		{ "max_inflight=1000001", "max_inflight" },
		{ "max_inflight=4x", "max_inflight" },
		{ "max_inflight=99999999999999999999", "max_inflight" },
		{ "max_rate=0", "max_rate" },
		{ "max_rate=0.4", "max_rate" },
		{ "max_rate=.49999", "max_rate" },
		{ "max_rate=100001", "max_rate" },
		{ "max_rate=-5", "max_rate" },
		{ "max_rate=1e3", "max_rate" },
		{ "max_rate=inf", "max_rate" },
		{ "max_rate=", "max_rate" },
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
	/* a refused count or rate says the range, whatever the mistake */
	refused(ARGV("-o", "max_rate=-1", "/m"), ENV(home_env, key_env), "");
	CHECK_STR(err, "gptimgfs: max_rate: '-1' is not a number of requests "
		       "a second (0.5 to 100000)");
	/* below the pacer's floor is refused, not silently raised */
	refused(ARGV("-o", "max_rate=0.1", "/m"), ENV(home_env, key_env), "");
	CHECK_STR(err, "gptimgfs: max_rate: '0.1' is out of range (0.5 to "
		       "100000)");
	refused(ARGV("-o", "max_inflight=-1", "/m"), ENV(home_env, key_env),
		"");
	CHECK_STR(err, "gptimgfs: max_inflight: '-1' is not a whole number "
		       "(1 to 1000000)");

	/* the edges are accepted */
	CHECK(load(ARGV("-o", "poll_interval=3600,max_inflight=1000", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.poll_interval == 3600 && cfg.max_inflight == 1000);
	CHECK(load(ARGV("-o", "poll_interval=.2,max_inflight=1", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.poll_interval == 0.2 && cfg.max_inflight == 1);
	CHECK(load(ARGV("-o", "max_inflight=1000000,max_rate=100000", "/m"),
		   ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.max_inflight == 1000000 && cfg.max_rate == 100000);
	CHECK(load(ARGV("-o", "max_rate=.5", "/m"),
		   ENV(home_env, key_env, "GPTIMGFS_MAX_RATE=7")) == CONFIG_OK);
	CHECK(cfg.max_rate == 0.5);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env, "GPTIMGFS_MAX_RATE=7")) ==
	      CONFIG_OK);
	CHECK(cfg.max_rate == 7);
	refused(ARGV("/m"), ENV(home_env, key_env, "GPTIMGFS_MAX_RATE=fast"),
		"GPTIMGFS_MAX_RATE");

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

int main(void)
{
	if (!config_fixture_open())
		return 1;

	test_bad_values();
	test_max_task_bytes();
	test_api_url();

	config_fixture_close();
	return check_result("test_config_values");
}
