/* net/scheme: which schemes a download may use, given api_url. */
#include <string.h>

#include "check.h"
#include "net/scheme.h"

#define API_TLS "https://api.example.com"
#define API_LOOP "http://127.0.0.1:8080"

/* net_scheme_check's verdict; when refused, why must be want. */
static void expect(const char *api_url, const char *url, const char *want)
{
	char why[160] = "";
	int rc = net_scheme_check(api_url, url, why, sizeof(why));

	if (!want) {
		CHECK(rc == 0);
		return;
	}
	CHECK(rc == -1);
	if (strcmp(why, want) != 0) {
		CHECK(!"the reason names the scheme");
		fprintf(stderr, "  %s with %s: got \"%s\", want \"%s\"\n", url,
			api_url, why, want);
	}
}

static void test_plain_http(void)
{
	CHECK(!net_scheme_plain_http(API_TLS));
	CHECK(!net_scheme_plain_http("HTTPS://api.example.com"));
	CHECK(net_scheme_plain_http(API_LOOP));
	CHECK(net_scheme_plain_http("HTTP://localhost"));
	CHECK(net_scheme_plain_http("http://[::1]:9/v1"));
}

static void test_https_api(void)
{
	expect(API_TLS, "https://files.example.com/a.png", NULL);
	expect(API_TLS, "HTTPS://files.example.com/a.png", NULL);
	expect(API_TLS, "http://files.example.com/a.png",
	       "refused: scheme http://, only https:// is allowed");
	expect(API_TLS, "http://127.0.0.1/a.png",
	       "refused: scheme http://, only https:// is allowed");
	expect(API_TLS, "file:///etc/passwd",
	       "refused: scheme file://, only https:// is allowed");
	expect(API_TLS, "ftp://files.example.com/a.png",
	       "refused: scheme ftp://, only https:// is allowed");
	expect(API_TLS, "gopher://x/1",
	       "refused: scheme gopher://, only https:// is allowed");
	expect(API_TLS, "data:image/png;base64,iVBORw0KGgo=",
	       "refused: scheme data:, only https:// is allowed");
	/* a scheme-relative or schemeless URL is no https:// one */
	expect(API_TLS, "//files.example.com/a.png",
	       "refused: no scheme, only https:// is allowed");
	expect(API_TLS, "files.example.com/a.png",
	       "refused: no scheme, only https:// is allowed");
	expect(API_TLS, "", "refused: no scheme, only https:// is allowed");
	expect(API_TLS, "https:/files.example.com/a.png",
	       "refused: scheme https:, only https:// is allowed");
	expect(API_TLS, " https://files.example.com/a.png",
	       "refused: no scheme, only https:// is allowed");
	/* a scheme too long to show is shown as none */
	expect(API_TLS, "averyveryverylongscheme://x",
	       "refused: no scheme, only https:// is allowed");
}

static void test_loopback_api(void)
{
	expect(API_LOOP, "http://127.0.0.1:8080/files/a.png", NULL);
	expect(API_LOOP, "http://localhost/files/a.png", NULL);
	expect(API_LOOP, "https://files.example.com/a.png", NULL);
	expect(API_LOOP, "file:///etc/passwd",
	       "refused: scheme file://, only http:// and https:// are "
	       "allowed");
	expect(API_LOOP, "ftp://127.0.0.1:2121/x",
	       "refused: scheme ftp://, only http:// and https:// are "
	       "allowed");
	expect(API_LOOP, "FILE:///etc/passwd",
	       "refused: scheme FILE://, only http:// and https:// are "
	       "allowed");
}

int main(void)
{
	test_plain_http();
	test_https_api();
	test_loopback_api();
	return check_result("test_scheme");
}
