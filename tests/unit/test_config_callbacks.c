/* config: callback_listen and callback_url (gptimgfs(1), CALLBACKS) from
 * each source, checked, and only together. */
#include "config_fixture.h"

static void test_none(void)
{
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK(cfg.callback_listen == NULL && cfg.callback_url == NULL);
}

static void test_sources(void)
{
	write_file(cfgpath,
		   "callback_listen = 127.0.0.1:8001\n"
		   "callback_url = https://file.example/hooks/\n",
		   0644);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env)) == CONFIG_OK);
	CHECK_STR(cfg.callback_listen, "127.0.0.1:8001");
	CHECK_STR(cfg.callback_url, "https://file.example/hooks");
	/* environment beats the file, the command line beats both */
	CHECK(load(ARGV("/m"),
		   ENV(home_env, key_env, "GPTIMGFS_CALLBACK_LISTEN=[::1]:8002",
		       "GPTIMGFS_CALLBACK_URL=http://env.example:81")) ==
	      CONFIG_OK);
	CHECK_STR(cfg.callback_listen, "[::1]:8002");
	CHECK_STR(cfg.callback_url, "http://env.example:81");
	CHECK(load(ARGV("-o",
			"callback_listen=0.0.0.0:8003,callback_url=http://"
			"203.0.113.5:8003",
			"/m"),
		   ENV(home_env, key_env,
		       "GPTIMGFS_CALLBACK_LISTEN=[::1]:8002")) == CONFIG_OK);
	CHECK_STR(cfg.callback_listen, "0.0.0.0:8003");
	CHECK_STR(cfg.callback_url, "http://203.0.113.5:8003");
	unlink(cfgpath);
}

static void test_together(void)
{
	refused(ARGV("-o", "callback_listen=127.0.0.1:8001", "/m"),
		ENV(home_env, key_env),
		"callback_listen is given without callback_url");
	refused(ARGV("/m"),
		ENV(home_env, key_env,
		    "GPTIMGFS_CALLBACK_URL=https://example.com"),
		"callback_url is given without callback_listen");
	/* the message names where the one given came from */
	refused(ARGV("-o", "callback_listen=127.0.0.1:8001", "/m"),
		ENV(home_env, key_env),
		"gptimgfs: -o callback_listen is given without callback_url: "
		"callbacks need both (or neither)");
	refused(ARGV("/m"),
		ENV(home_env, key_env,
		    "GPTIMGFS_CALLBACK_LISTEN=127.0.0.1:8001"),
		"gptimgfs: GPTIMGFS_CALLBACK_LISTEN: callback_listen is given "
		"without callback_url");
	write_file(cfgpath, "callback_url = https://file.example/\n", 0644);
	refused(ARGV("/m"), ENV(home_env, key_env), cfgpath);
	CHECK(strstr(err, ": callback_url is given without callback_listen"));
	unlink(cfgpath);
}

/* where callback_listen came from, for "cannot listen" */
static void test_listen_from(void)
{
	char url[] = "GPTIMGFS_CALLBACK_URL=http://127.0.0.1:9";

	CHECK(load(ARGV("-o", "callback_listen=127.0.0.1:8001", "/m"),
		   ENV(home_env, key_env, url)) == CONFIG_OK);
	CHECK(cfg.callback_listen_from == NULL);
	CHECK(load(ARGV("/m"),
		   ENV(home_env, key_env, url,
		       "GPTIMGFS_CALLBACK_LISTEN=127.0.0.1:8001")) ==
	      CONFIG_OK);
	CHECK_STR(cfg.callback_listen_from, "GPTIMGFS_CALLBACK_LISTEN");
	write_file(cfgpath, "callback_listen = 127.0.0.1:8001\n", 0644);
	CHECK(load(ARGV("/m"), ENV(home_env, key_env, url)) == CONFIG_OK);
	CHECK_STR(cfg.callback_listen_from, cfgpath);
	unlink(cfgpath);
}

static void test_refused(void)
{
	static const char *const bad[][2] = {
		{ "callback_listen=8001", "callback_listen" },
		{ "callback_listen=127.0.0.1", "callback_listen" },
		{ "callback_listen=127.0.0.1:0", "callback_listen" },
		{ "callback_listen=127.0.0.1:65536", "callback_listen" },
		{ "callback_listen=[::1]", "callback_listen" },
		{ "callback_listen=::1:80", "callback_listen" },
		{ "callback_listen=a b:80", "callback_listen" },
		{ "callback_url=ftp://example.com", "callback_url" },
		{ "callback_url=https://", "callback_url" },
		{ "callback_url=https://u@example.com", "callback_url" },
		{ "callback_url=https://example.com/?a=1", "callback_url" },
		{ "callback_url=https://example.com/#x", "callback_url" },
		{ "callback_url=https://exa\"mple.com", "callback_url" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(ARGV("-o", (char *)bad[i][0], "/m"),
			ENV(home_env, key_env), bad[i][1]);
	/* each says what is wrong, in the manual's words */
	refused(ARGV("-o", "callback_url=http://u@127.0.0.1:18790/x", "/m"),
		ENV(home_env, key_env),
		"'http://u@127.0.0.1:18790/x' has user@ in it, which is not "
		"allowed");
	refused(ARGV("-o", "callback_url=https://exa\"mple.com", "/m"),
		ENV(home_env, key_env),
		"has a query (?), a fragment (#), a double quote or a "
		"backslash in it");
	refused(ARGV("-o", "callback_url=https://", "/m"),
		ENV(home_env, key_env), "'https://' has no host");
	refused(ARGV("-o", "callback_url=https://a.example:0", "/m"),
		ENV(home_env, key_env), "has a malformed host or port");
}

int main(void)
{
	if (!config_fixture_open())
		return 1;
	test_none();
	test_sources();
	test_together();
	test_listen_from();
	test_refused();
	config_fixture_close();
	return check_result("test_config_callbacks");
}
