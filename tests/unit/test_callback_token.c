/* core: the callback path's secret (gptimgfs(1), CALLBACKS): derived from
 * the store's key, known beforehand for a known key, the same across a
 * restart of one data directory and another in another one. */
#include <string.h>

#include "check.h"
#include "core_fixture.h"
#include "core/store.h"

static void test_known_key(void)
{
	unsigned char key[STORE_KEY_LEN];
	char token[CORE_CALLBACK_TOKEN_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	/* python3: hmac.new(bytes(range(32)), b"gptimgfs callback v1\0",
	 * hashlib.sha256).hexdigest()[:32] */
	CHECK(core_store_callback_token(key, token) == 0);
	CHECK_STR(token, "b6d47c57324b8c751ad8d287cb3cedce");
	key[0] ^= 1;
	CHECK(core_store_callback_token(key, token) == 0);
	CHECK(strlen(token) == CORE_CALLBACK_TOKEN_LEN);
	CHECK(strcmp(token, "b6d47c57324b8c751ad8d287cb3cedce") != 0);
	CHECK(strspn(token, "0123456789abcdef") == CORE_CALLBACK_TOKEN_LEN);
}

static void test_per_store(void)
{
	char first[CORE_CALLBACK_TOKEN_LEN + 1], again[sizeof(first)];
	char other[sizeof(first)];
	struct fx f, g;

	if (!fx_open(&f))
		return;
	CHECK(core_callback_token(f.c, first) == 0);
	CHECK(strlen(first) == CORE_CALLBACK_TOKEN_LEN);
	/* the same after a restart: callbacks of tasks created before it
	 * still find their way */
	CHECK(fx_reopen(&f));
	CHECK(core_callback_token(f.c, again) == 0);
	CHECK_STR(again, first);
	if (fx_open(&g)) {
		CHECK(core_callback_token(g.c, other) == 0);
		CHECK(strcmp(other, first) != 0);
		fx_close(&g);
	}
	fx_close(&f);
}

int main(void)
{
	test_known_key();
	test_per_store();
	return check_result("test_callback_token");
}
