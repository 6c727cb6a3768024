/* The seal of a record or metadata file: an HMAC-SHA256 under the store's
 * key, so that a file this daemon did not write is known. See store.h. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "store.h"

#define SEAL_HEAD ",\"mac\":\""
#define SEAL_HEX 64
#define SEAL_TAIL "\"}\n"
#define SEAL_LEN (sizeof(SEAL_HEAD) - 1 + SEAL_HEX + sizeof(SEAL_TAIL) - 1)

/* HMAC-SHA256 under key of name, a NUL, and data; in hex. */
static int seal_of(const unsigned char *key, const char *name, const char *data,
		   size_t len, char hex[SEAL_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	unsigned char md[SEAL_HEX / 2];
	size_t mdlen = 0, i;
	int ok = ctx && EVP_MAC_init(ctx, key, STORE_KEY_LEN, params) &&
		 EVP_MAC_update(ctx, (const unsigned char *)name,
				strlen(name) + 1) &&
		 EVP_MAC_update(ctx, (const unsigned char *)data, len) &&
		 EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) &&
		 mdlen == sizeof(md);

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		return -ENOMEM;
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[SEAL_HEX] = '\0';
	return 0;
}

/* Whether data ends in a seal's shape; its body is what comes before. */
static bool has_seal(const char *data, size_t len)
{
	return len >= SEAL_LEN &&
	       memcmp(data + len - SEAL_LEN, SEAL_HEAD,
		      sizeof(SEAL_HEAD) - 1) == 0 &&
	       memcmp(data + len - sizeof(SEAL_TAIL) + 1, SEAL_TAIL,
		      sizeof(SEAL_TAIL) - 1) == 0;
}

int core_store_seal(const unsigned char *key, const char *name, struct buf *b)
{
	char hex[SEAL_HEX + 1];
	int rc;

	/* the body: all before the closing brace, or before the old seal
	 * when sealing again (a test's edit) */
	if (has_seal(b->data, b->len)) {
		b->len -= SEAL_LEN;
	} else {
		if (b->len > 0 && b->data[b->len - 1] == '\n')
			b->len--;
		if (b->len == 0 || b->data[b->len - 1] != '}')
			return -EINVAL;
		b->len--;
	}
	rc = seal_of(key, name, b->data, b->len, hex);
	if (rc == 0 && buf_printf(b, "%s%s%s", SEAL_HEAD, hex, SEAL_TAIL) < 0)
		rc = -ENOMEM;
	return rc;
}

int core_store_check_seal(const unsigned char *key, const char *name,
			  const char *data, size_t len)
{
	char hex[SEAL_HEX + 1];
	size_t body;

	if (!has_seal(data, len))
		return -ENOKEY;
	body = len - SEAL_LEN;
	if (seal_of(key, name, data, body, hex) < 0)
		return -ENOMEM;
	return CRYPTO_memcmp(hex, data + body + sizeof(SEAL_HEAD) - 1,
			     SEAL_HEX) == 0 ?
		       0 :
		       -EBADMSG;
}

int core_store_write_sealed(const struct store *s, int dir_fd, const char *name,
			    struct buf *b, bool durable)
{
	int rc = core_store_seal(s->key, name, b);

	return rc < 0 ? rc :
			core_store_write_atomic(dir_fd, name, b->data, b->len,
						durable);
}

int core_store_read_sealed(const struct store *s, int dir_fd, const char *name,
			   size_t max, struct buf *out)
{
	int rc = core_store_read_file(dir_fd, name, max, out);

	return rc < 0 ?
		       rc :
		       core_store_check_seal(s->key, name, out->data, out->len);
}

int core_store_callback_token(const unsigned char *key, char *out)
{
	char hex[SEAL_HEX + 1];
	int rc = seal_of(key, CORE_CALLBACK_LABEL, "", 0, hex);

	if (rc == 0) {
		memcpy(out, hex, CORE_CALLBACK_TOKEN_LEN);
		out[CORE_CALLBACK_TOKEN_LEN] = '\0';
	}
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

/* The store's key never leaves the core: only what is derived from it. */
int core_callback_token(struct core *c, char *out)
{
	return core_store_callback_token(c->store.key, out);
}
