/* sim/: the simulated API, started in-process on an ephemeral port and
 * spoken to over HTTP with libcurl: the task life cycle, real PNGs,
 * validation, credits, fault rules, introspection and callbacks. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "check.h"
#include "sim/limits.h"
#include "sim/sim.h"
#include "util/buf.h"
#include "util/json.h"

#define KEY "sk-test-0123456789"
#define SCALE 0.0625
#define MAX_TOKENS 4096
#define DEADLINE_S 10.0

static char base[64]; /* "http://127.0.0.1:PORT" */
static uint16_t port;

struct resp {
	CURLcode rc;
	long status;
	struct buf body;
	char retry_after[64];
	char location[128];
	double seconds;
};

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
	struct resp *r = cls;

	return buf_add(&r->body, data, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
	struct resp *r = cls;
	size_t len = size * n;

	if (len > 13 && strncasecmp(data, "Retry-After: ", 13) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.*s",
			 (int)strcspn(data + 13, "\r\n"), data + 13);
	if (len > 10 && strncasecmp(data, "Location: ", 10) == 0)
		snprintf(r->location, sizeof(r->location), "%.*s",
			 (int)strcspn(data + 10, "\r\n"), data + 10);
	return len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request: method, full URL or path below base, the key to send (NULL:
 * no Authorization) and a body (NULL: none). */
static void http(struct resp *r, const char *method, const char *where,
		 const char *key, const char *body)
{
	char url[512], auth[128];
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	double start = now_s();

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 64u << 20);
	snprintf(url, sizeof(url), "%s%s",
		 strncmp(where, "http", 4) ? base : "", where);
	if (key) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->seconds = now_s() - start;
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
}

static void resp_free(struct resp *r)
{
	buf_free(&r->body);
}

/* A string found by a path of member names ("error", "code", NULL) in a
 * JSON text; malloc'd, NULL when absent. */
static char *json_path(const char *text, size_t len, ...)
{
	struct json_doc doc;
	const char *key;
	char *s = NULL;
	va_list ap;
	int i = 0;

	if (json_parse(&doc, text, len, MAX_TOKENS) < 0)
		return NULL;
	va_start(ap, len);
	while ((key = va_arg(ap, const char *)) && i >= 0)
		i = json_get(&doc, i, key);
	va_end(ap);
	if (i >= 0)
		s = json_get_string(&doc, i, 1u << 20);
	json_doc_free(&doc);
	return s;
}

/* A number member (one level deep under `outer` when not NULL). */
static double json_num(const struct buf *b, const char *outer, const char *key)
{
	struct json_doc doc;
	double v = -1;
	int i = 0;

	if (json_parse(&doc, b->data ? b->data : "", b->len, MAX_TOKENS) < 0)
		return -999;
	if (outer)
		i = json_get(&doc, 0, outer);
	json_get_number(&doc, json_get(&doc, i, key), &v);
	json_doc_free(&doc);
	return v;
}

static void post_json(const char *path, const char *body)
{
	struct resp r;

	http(&r, "POST", path, NULL, body);
	CHECK(r.status == 200);
	resp_free(&r);
}

static double stat_of(const char *key)
{
	struct resp r;
	double v;

	http(&r, "GET", "/_sim/stats", NULL, NULL);
	v = json_num(&r.body, NULL, key);
	resp_free(&r);
	return v;
}

/* Create a task from input (the members of "input"); the task id into id,
 * the HTTP status as the result. */
static long create(const char *input, char *id, size_t idlen)
{
	char body[2048];
	struct resp r;
	char *tid;
	long status;

	snprintf(body, sizeof(body),
		 "{\"model\":\"gpt-image-2\",\"input\":{%s}}", input);
	http(&r, "POST", "/v1/images/generations", KEY, body);
	tid = json_path(r.body.data, r.body.len, "data", "taskId", NULL);
	snprintf(id, idlen, "%s", tid ? tid : "");
	status = r.status;
	free(tid);
	resp_free(&r);
	return status;
}

/* Poll until the task reaches `want` (or ended): its last answer into r. */
static void poll_until(const char *id, const char *want, struct resp *r,
		       bool *seen_pending, bool *seen_processing)
{
	char path[128];
	double deadline = now_s() + DEADLINE_S;
	struct timespec pause = { 0, 5000000 };

	snprintf(path, sizeof(path), "/v1/tasks/%s", id);
	for (;;) {
		char *status;
		bool done;

		http(r, "GET", path, KEY, NULL);
		status = json_path(r->body.data, r->body.len, "status", NULL);
		if (status && strcmp(status, "pending") == 0 && seen_pending)
			*seen_pending = true;
		if (status && strcmp(status, "processing") == 0 &&
		    seen_processing)
			*seen_processing = true;
		done = !status || strcmp(status, want) == 0 ||
		       strcmp(status, "completed") == 0 ||
		       strcmp(status, "failed") == 0 || now_s() > deadline;
		free(status);
		if (done)
			return;
		resp_free(r);
		nanosleep(&pause, NULL);
	}
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* A PNG's chunks all have good CRCs, IHDR gives w x h, RGB 8-bit, and the
 * IDAT data inflates to exactly h rows of 1 + 3w bytes. */
static void check_png(const struct buf *b, uint32_t w, uint32_t h)
{
	const unsigned char *p = (const unsigned char *)b->data;
	size_t pos = 8, raw_len = (size_t)h * (1 + 3 * (size_t)w);
	unsigned char *raw = malloc(raw_len + 1);
	z_stream zs;
	bool crc_ok = true, ihdr_ok = false, ended = false;
	int zrc = Z_DATA_ERROR;

	CHECK(b->len > 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0);
	memset(&zs, 0, sizeof(zs));
	inflateInit(&zs);
	zs.next_out = raw;
	zs.avail_out = raw_len + 1;
	while (b->len >= 8 && pos + 12 <= b->len && !ended) {
		uint32_t len = be32(p + pos);
		const unsigned char *type = p + pos + 4, *data = type + 4;

		if (pos + 12 + len > b->len)
			break;
		if (crc32(crc32(0, NULL, 0), type, len + 4) != be32(data + len))
			crc_ok = false;
		if (memcmp(type, "IHDR", 4) == 0)
			ihdr_ok = len == 13 && be32(data) == w &&
				  be32(data + 4) == h && data[8] == 8 &&
				  data[9] == 2;
		if (memcmp(type, "IDAT", 4) == 0) {
			zs.next_in = (unsigned char *)data;
			zs.avail_in = len;
			zrc = inflate(&zs, Z_NO_FLUSH);
		}
		ended = memcmp(type, "IEND", 4) == 0;
		pos += 12 + len;
	}
	CHECK(crc_ok);
	CHECK(ihdr_ok);
	CHECK(ended && pos == b->len);
	CHECK(zrc == Z_STREAM_END && zs.total_out == raw_len);
	inflateEnd(&zs);
	free(raw);
}

static void reset(void)
{
	post_json("/_sim/reset", "");
}

static void test_life_cycle(void)
{
	bool pending = false, processing = false;
	char id[64], *url, *model;
	struct resp r, f;

	reset();
	post_json("/_sim/config", "{\"pending_seconds\":0.3,"
				  "\"processing_seconds\":0.3}");
	CHECK(create("\"prompt\":\"a cat\",\"aspect_ratio\":\"16:9\"", id,
		     sizeof(id)) == 200);
	CHECK(strlen(id) == 36 && id[14] == '4');
	poll_until(id, "completed", &r, &pending, &processing);
	CHECK(pending && processing);
	url = json_path(r.body.data, r.body.len, "status", NULL);
	CHECK_STR(url, "completed");
	free(url);
	model = json_path(r.body.data, r.body.len, "output", "metadata",
			  "model", NULL);
	CHECK_STR(model, "gpt-image-2-text-to-image");
	free(model);
	CHECK(json_num(&r.body, NULL, "completed_at") >=
	      json_num(&r.body, NULL, "created_at"));
	/* the first URL, through the array's first element */
	{
		struct json_doc doc;
		char prefix[128];
		int urls;

		CHECK(json_parse(&doc, r.body.data, r.body.len, 64) == 0);
		urls = json_get(&doc, json_get(&doc, 0, "output"), "urls");
		CHECK(json_array_len(&doc, urls) == 1);
		url = json_get_string(&doc, urls + 1, 512);
		json_doc_free(&doc);
		snprintf(prefix, sizeof(prefix),
			 "http://localhost:%u/files/%s-1.png", port, id);
		CHECK_STR(url, prefix);
	}
	http(&f, "GET", url ? url : "/files/none", NULL, NULL);
	CHECK(f.rc == CURLE_OK && f.status == 200);
	check_png(&f.body, 1024 * SCALE, 576 * SCALE);
	resp_free(&f);
	free(url);
	resp_free(&r);
	CHECK(stat_of("auth_on_files") == 0);
	CHECK(stat_of("downloads") == 1);
}

/* The image behind a task's first output. */
static void fetch_first(const char *id, struct resp *f)
{
	char path[128];

	snprintf(path, sizeof(path), "http://localhost:%u/files/%s-1.png", port,
		 id);
	http(f, "GET", path, NULL, NULL);
}

/* The first output URL of a task created with prompt, malloc'd. */
static char *first_url(const char *prompt)
{
	char body[256], id[64], *url = NULL;
	struct json_doc doc;
	struct resp r;
	int urls;

	snprintf(body, sizeof(body), "\"prompt\":\"%s\"", prompt);
	CHECK(create(body, id, sizeof(id)) == 200);
	poll_until(id, "completed", &r, NULL, NULL);
	CHECK(json_parse(&doc, r.body.data, r.body.len, 64) == 0);
	urls = json_get(&doc, json_get(&doc, 0, "output"), "urls");
	CHECK(json_array_len(&doc, urls) >= 1);
	if (json_array_len(&doc, urls) >= 1)
		url = json_get_string(&doc, urls + 1, 1024);
	json_doc_free(&doc);
	resp_free(&r);
	return url ? url : strdup("");
}

/* [sim:url=URL]: the output URLs are URL, whatever its scheme; a value
 * with a blank is ignored. */
static void check_url_directive(void)
{
	char *url;

	url = first_url("a cat [sim:url=file:///etc/passwd]");
	CHECK_STR(url, "file:///etc/passwd");
	free(url);
	url = first_url("a cat [sim:url=ftp://127.0.0.1:2121/x.png]");
	CHECK_STR(url, "ftp://127.0.0.1:2121/x.png");
	free(url);
	url = first_url("a cat [sim:url=file:///a b]");
	CHECK(strncmp(url, "http://", 7) == 0 && strstr(url, "/files/"));
	free(url);
}

static void test_sizes_and_outputs(void)
{
	char id[64], *model;
	struct resp r, f;
	struct json_doc doc;

	reset();
	post_json("/_sim/config", "{\"pending_seconds\":0,"
				  "\"processing_seconds\":0}");
	CHECK(create("\"prompt\":\"tall [sim:outputs=3]\",\"aspect_ratio\":"
		     "\"9:16\",\"resolution\":\"4k\"",
		     id, sizeof(id)) == 200);
	poll_until(id, "completed", &r, NULL, NULL);
	CHECK(json_parse(&doc, r.body.data, r.body.len, 64) == 0);
	CHECK(json_array_len(&doc, json_get(&doc, json_get(&doc, 0, "output"),
					    "urls")) == 3);
	json_doc_free(&doc);
	resp_free(&r);
	fetch_first(id, &f);
	check_png(&f.body, 2304 * SCALE, 4096 * SCALE);
	resp_free(&f);
	/* 2k auto is square; image_urls alone make an edit */
	CHECK(create("\"image_urls\":[\"https://example.com/a.png\"],"
		     "\"resolution\":\"2k\"",
		     id, sizeof(id)) == 200);
	poll_until(id, "completed", &r, NULL, NULL);
	model = json_path(r.body.data, r.body.len, "output", "metadata",
			  "model", NULL);
	CHECK_STR(model, "gpt-image-2-image-to-image");
	free(model);
	resp_free(&r);
	fetch_first(id, &f);
	check_png(&f.body, 2048 * SCALE, 2048 * SCALE);
	resp_free(&f);
	/* [sim:nonimage]: a 200 that is not an image */
	CHECK(create("\"prompt\":\"gone [sim:nonimage]\"", id, sizeof(id)) ==
	      200);
	poll_until(id, "completed", &r, NULL, NULL);
	resp_free(&r);
	fetch_first(id, &f);
	CHECK(f.status == 200);
	CHECK_STR(f.body.data, "<html>expired</html>");
	resp_free(&f);
	check_url_directive();
	/* two tasks' images differ */
	{
		char id2[64];
		struct resp g;

		CHECK(create("\"prompt\":\"one\"", id, sizeof(id)) == 200);
		CHECK(create("\"prompt\":\"two\"", id2, sizeof(id2)) == 200);
		poll_until(id2, "completed", &r, NULL, NULL);
		resp_free(&r);
		fetch_first(id, &f);
		fetch_first(id2, &g);
		CHECK(f.body.len > 0 &&
		      (f.body.len != g.body.len ||
		       memcmp(f.body.data, g.body.data, f.body.len) != 0));
		resp_free(&f);
		resp_free(&g);
	}
}

struct bad_case {
	const char *body;
	long status;
	const char *code;
};

static void check_error(const struct resp *r, long status, const char *code,
			const char *type)
{
	char *got_code =
		json_path(r->body.data, r->body.len, "error", "code", NULL);
	char *got_type =
		json_path(r->body.data, r->body.len, "error", "type", NULL);
	char *message =
		json_path(r->body.data, r->body.len, "error", "message", NULL);

	CHECK(r->status == status);
	CHECK_STR(got_code, code);
	if (type)
		CHECK_STR(got_type, type);
	CHECK(message && *message);
	if (r->status != status || !got_code || strcmp(got_code, code))
		fprintf(stderr, "  answer: %ld %s\n", r->status,
			buf_str(&r->body));
	free(got_code);
	free(got_type);
	free(message);
}

static char *long_prompt_body(size_t chars, const char *unit)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	buf_addstr(&b, "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"");
	for (size_t i = 0; i < chars; i++)
		buf_addstr(&b, unit);
	buf_addstr(&b, "\"}}");
	return buf_detach(&b);
}

static void test_validation(void)
{
	static const struct bad_case cases[] = {
		{ "{\"input\":{\"prompt\":\"a\"}}", 400, "invalid_request" },
		{ "{\"model\":\"gpt-image-1\",\"input\":{\"prompt\":\"a\"}}",
		  404, "model_not_found" },
		{ "{\"model\":\"gpt-image-2\"}", 400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":\"a\"}", 400,
		  "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"aspect_ratio\":\"7:3\"}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"resolution\":\"4k\"}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"resolution\":\"4k\",\"aspect_ratio\":\"auto\"}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"resolution\":\"4k\",\"aspect_ratio\":\"4:3\"}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"resolution\":\"8k\"}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{}}", 400,
		  "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"\","
		  "\"image_urls\":[]}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"nsfw_checker\":\"yes\"}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\","
		  "\"seed\":1}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"image_urls\":"
		  "[\"file:///etc/passwd\"]}}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":1}}", 400,
		  "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\"},"
		  "\"callback_url\":5}",
		  400, "invalid_request" },
		{ "{\"model\":\"gpt-image-2\",", 400, "invalid_request" },
		{ "[\"gpt-image-2\"]", 400, "invalid_request" },
		{ "\"\xff\"", 400, "invalid_request" },
	};
	struct buf urls;
	struct resp r;
	char *body, *msg;

	reset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		http(&r, "POST", "/v1/images/generations", KEY, cases[i].body);
		check_error(&r, cases[i].status, cases[i].code,
			    "invalid_request_error");
		if (i == 0) {
			msg = json_path(r.body.data, r.body.len, "error",
					"message", NULL);
			CHECK_STR(msg, "'model' is required.");
			free(msg);
		}
		resp_free(&r);
	}
	/* 17 URLs are one too many; 16 are fine */
	buf_init(&urls, 4096);
	buf_addstr(&urls,
		   "{\"model\":\"gpt-image-2\",\"input\":{\"image_urls\":[");
	for (int i = 0; i < 17; i++)
		buf_printf(&urls, "%s\"https://example.com/%d.png\"",
			   i ? "," : "", i);
	buf_addstr(&urls, "]}}");
	http(&r, "POST", "/v1/images/generations", KEY, urls.data);
	check_error(&r, 400, "invalid_request", "invalid_request_error");
	resp_free(&r);
	body = strstr(urls.data, ",\"https://example.com/16.png\"");
	memmove(body, body + strlen(",\"https://example.com/16.png\""),
		strlen(body + strlen(",\"https://example.com/16.png\"")) + 1);
	http(&r, "POST", "/v1/images/generations", KEY, urls.data);
	CHECK(r.status == 200);
	resp_free(&r);
	buf_free(&urls);
	/* 20,000 characters (two bytes each) pass, 20,001 do not */
	body = long_prompt_body(20000, "\xc3\xa9");
	http(&r, "POST", "/v1/images/generations", KEY, body);
	CHECK(r.status == 200);
	resp_free(&r);
	free(body);
	body = long_prompt_body(20001, "a");
	http(&r, "POST", "/v1/images/generations", KEY, body);
	check_error(&r, 400, "invalid_request", "invalid_request_error");
	resp_free(&r);
	free(body);
	/* more than 1 MiB */
	body = long_prompt_body((1u << 20) + 1, "a");
	http(&r, "POST", "/v1/images/generations", KEY, body);
	check_error(&r, 400, "invalid_request", NULL);
	resp_free(&r);
	free(body);
	CHECK(stat_of("creates") == 2);
}

static void test_auth_and_routes(void)
{
	const char *ok =
		"{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a\"}}";
	struct resp r;

	reset();
	http(&r, "POST", "/v1/images/generations", NULL, ok);
	check_error(&r, 401, "invalid_api_key", "authentication_error");
	resp_free(&r);
	http(&r, "POST", "/v1/images/generations", "sk-wrong", ok);
	check_error(&r, 401, "invalid_api_key", "authentication_error");
	resp_free(&r);
	http(&r, "GET", "/v1/credits", "sk-wrong", NULL);
	check_error(&r, 401, "invalid_api_key", "authentication_error");
	resp_free(&r);
	http(&r, "GET", "/v1/tasks/00000000-0000-4000-8000-000000000000", KEY,
	     NULL);
	check_error(&r, 404, "task_not_found", "invalid_request_error");
	resp_free(&r);
	http(&r, "GET", "/v1/images/generations", KEY, NULL);
	check_error(&r, 405, "method_not_allowed", NULL);
	resp_free(&r);
	http(&r, "GET", "/v1/nothing", KEY, NULL);
	check_error(&r, 404, "not_found", NULL);
	resp_free(&r);
	http(&r, "GET", "/files/nothing.png", NULL, NULL);
	CHECK(r.status == 404);
	resp_free(&r);
	CHECK(stat_of("creates") == 0);
	CHECK(stat_of("create_requests") == 2); /* the GET is no create */
}

static double balance(void)
{
	struct resp r;
	double v;

	http(&r, "GET", "/v1/credits", KEY, NULL);
	CHECK(r.status == 200);
	v = json_num(&r.body, "data", "balance");
	resp_free(&r);
	return v;
}

static void test_credits(void)
{
	char id[64], *code, *msg;
	struct resp r;

	reset();
	post_json("/_sim/config",
		  "{\"pending_seconds\":0.05,"
		  "\"processing_seconds\":0.05,\"balance\":10}");
	http(&r, "GET", "/v1/credits", KEY, NULL);
	CHECK(strstr(buf_str(&r.body), "\"balance\":10,\"total_purchased\":10,"
				       "\"total_consumed\":0}"));
	resp_free(&r);
	CHECK(create("\"prompt\":\"a\"", id, sizeof(id)) == 200);
	http(&r, "GET", "/v1/credits", KEY, NULL);
	CHECK(strstr(buf_str(&r.body), "\"balance\":5.3,"));
	CHECK(strstr(buf_str(&r.body), "\"total_consumed\":4.7}"));
	resp_free(&r);
	http(&r, "POST", "/v1/images/generations", KEY,
	     "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"b\","
	     "\"resolution\":\"2k\"}}");
	check_error(&r, 402, "insufficient_credits", "billing_error");
	resp_free(&r);
	/* a failed task gives its price back, once; slow enough to see the
	 * price held first */
	post_json("/_sim/config", "{\"pending_seconds\":0.5}");
	CHECK(create("\"prompt\":\"[sim:fail=upstream_error]\"", id,
		     sizeof(id)) == 200);
	CHECK(balance() > 0.59 && balance() < 0.61);
	poll_until(id, "failed", &r, NULL, NULL);
	code = json_path(r.body.data, r.body.len, "error", "code", NULL);
	msg = json_path(r.body.data, r.body.len, "error", "message", NULL);
	CHECK_STR(code, "upstream_error");
	CHECK_STR(msg, "simulated failure");
	free(code);
	free(msg);
	resp_free(&r);
	CHECK(balance() > 5.29 && balance() < 5.31);
	poll_until(id, "failed", &r, NULL, NULL);
	resp_free(&r);
	CHECK(balance() > 5.29 && balance() < 5.31);
	CHECK(stat_of("balance") > 5.29 && stat_of("balance") < 5.31);
	CHECK(stat_of("credits_reads") == 8);
}

static void add_fault(const char *rule)
{
	post_json("/_sim/faults", rule);
}

static void test_faults(void)
{
	const char *ok =
		"{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"f\"}}";
	struct resp r;
	char id[64];

	reset();
	post_json("/_sim/config", "{\"pending_seconds\":0,"
				  "\"processing_seconds\":0}");
	/* error: status, body and Retry-After; nothing created */
	add_fault(
		"{\"endpoint\":\"create\",\"action\":\"error\",\"status\":503,"
		"\"code\":\"upstream_error\",\"retry_after\":\"2\","
		"\"count\":1}");
	http(&r, "POST", "/v1/images/generations", KEY, ok);
	check_error(&r, 503, "upstream_error", "upstream_error");
	CHECK_STR(r.retry_after, "2");
	resp_free(&r);
	CHECK(stat_of("creates") == 0);
	/* count 1: the next one goes through */
	CHECK(create("\"prompt\":\"f\"", id, sizeof(id)) == 200);
	CHECK(stat_of("creates") == 1);
	/* drop_before: an error for curl, nothing created */
	add_fault("{\"endpoint\":\"create\",\"action\":\"drop_before\","
		  "\"count\":1}");
	http(&r, "POST", "/v1/images/generations", KEY, ok);
	CHECK(r.rc != CURLE_OK && r.status == 0);
	resp_free(&r);
	CHECK(stat_of("creates") == 1);
	CHECK(stat_of("create_requests") == 3);
	/* drop_after: an error for curl, but the task was created */
	add_fault("{\"endpoint\":\"create\",\"action\":\"drop_after\","
		  "\"count\":1}");
	http(&r, "POST", "/v1/images/generations", KEY, ok);
	CHECK(r.rc != CURLE_OK && r.status == 0);
	resp_free(&r);
	CHECK(stat_of("creates") == 2);
	/* truncate: a short body, and curl knows */
	add_fault("{\"endpoint\":\"file\",\"action\":\"truncate\","
		  "\"bytes\":100,\"count\":1}");
	fetch_first(id, &r);
	CHECK(r.rc == CURLE_PARTIAL_FILE && r.body.len == 100);
	resp_free(&r);
	fetch_first(id, &r);
	CHECK(r.rc == CURLE_OK && r.body.len > 100);
	resp_free(&r);
	/* slow: the whole image, late */
	add_fault("{\"endpoint\":\"file\",\"action\":\"slow\","
		  "\"delay_ms\":320,\"count\":1}");
	fetch_first(id, &r);
	CHECK(r.rc == CURLE_OK && r.seconds >= 0.25);
	check_png(&r.body, 1024 * SCALE, 1024 * SCALE);
	resp_free(&r);
	/* stall: a normal answer, late */
	add_fault("{\"endpoint\":\"credits\",\"action\":\"stall\","
		  "\"delay_ms\":200,\"count\":1}");
	http(&r, "GET", "/v1/credits", KEY, NULL);
	CHECK(r.status == 200 && r.seconds >= 0.2);
	resp_free(&r);
	/* malformed: 200 and not JSON */
	add_fault("{\"endpoint\":\"task\",\"action\":\"malformed\","
		  "\"count\":1}");
	{
		char path[128];
		struct json_doc doc;

		snprintf(path, sizeof(path), "/v1/tasks/%s", id);
		http(&r, "GET", path, KEY, NULL);
		CHECK(r.status == 200 && r.body.len > 0);
		CHECK(json_parse(&doc, buf_str(&r.body), r.body.len,
				 MAX_TOKENS) < 0);
		resp_free(&r);
	}
	/* redirect: 302 (or the given 3xx) and a Location; nothing made */
	{
		double creates = stat_of("creates");
		char nid[64];

		add_fault("{\"endpoint\":\"create\",\"action\":\"redirect\","
			  "\"count\":1}");
		CHECK(create("\"prompt\":\"moved\"", nid, sizeof(nid)) == 302);
		CHECK(nid[0] == '\0' && stat_of("creates") == creates);
		add_fault("{\"endpoint\":\"credits\",\"action\":\"redirect\","
			  "\"status\":307,\"location\":\"https://x.test/c\","
			  "\"count\":1}");
		http(&r, "GET", "/v1/credits", KEY, NULL);
		CHECK(r.status == 307 &&
		      strcmp(r.location, "https://x.test/c") == 0);
		resp_free(&r);
		http(&r, "POST", "/_sim/faults", NULL,
		     "{\"action\":"
		     "\"redirect\",\"status\":200}");
		check_error(&r, 400, "invalid_request", NULL);
		resp_free(&r);
	}
	/* rate 0 never hits; a bad rule is refused; DELETE clears */
	add_fault("{\"endpoint\":\"any\",\"action\":\"error\",\"rate\":0}");
	CHECK(balance() > 0);
	http(&r, "POST", "/_sim/faults", NULL, "{\"action\":\"explode\"}");
	check_error(&r, 400, "invalid_request", NULL);
	resp_free(&r);
	add_fault("{\"endpoint\":\"credits\",\"action\":\"error\","
		  "\"status\":429}");
	http(&r, "GET", "/v1/credits", KEY, NULL);
	check_error(&r, 429, "rate_limit_exceeded", "rate_limit_error");
	resp_free(&r);
	http(&r, "DELETE", "/_sim/faults", NULL, NULL);
	CHECK(r.status == 200);
	resp_free(&r);
	CHECK(balance() > 0);
}

static void test_introspection(void)
{
	struct json_doc doc;
	struct resp r;
	char id[64];
	int arr, e;

	reset();
	post_json("/_sim/config", "{\"pending_seconds\":0,"
				  "\"processing_seconds\":0}");
	CHECK(create("\"prompt\":\"p1\"", id, sizeof(id)) == 200);
	CHECK(create("\"prompt\":\"p1\"", id, sizeof(id)) == 200);
	CHECK(create("\"prompt\":\"p\\\"2\"", id, sizeof(id)) == 200);
	http(&r, "POST", "/v1/images/generations", KEY, "not json");
	resp_free(&r);
	http(&r, "GET", "/_sim/prompts", NULL, NULL);
	CHECK_STR(buf_str(&r.body), "{\"p1\":2,\"p\\\"2\":1}");
	resp_free(&r);
	http(&r, "GET", "/_sim/requests", NULL, NULL);
	CHECK(json_parse(&doc, buf_str(&r.body), r.body.len, MAX_TOKENS) == 0);
	arr = 0;
	CHECK(json_array_len(&doc, arr) == 4);
	e = arr + 1;
	for (int i = 0; i < 4 && e < doc.ntok; i++, e = json_skip(&doc, e)) {
		double status = 0;
		int body = json_get(&doc, e, "body");

		json_get_number(&doc, json_get(&doc, e, "status"), &status);
		CHECK(status == (i < 3 ? 200 : 400));
		if (i < 3) {
			char *model =
				json_member_string(&doc, body, "model", 64);

			CHECK_STR(model, "gpt-image-2");
			free(model);
		} else {
			char *raw = json_get_string(&doc, body, 64);

			CHECK_STR(raw, "not json");
			free(raw);
		}
	}
	json_doc_free(&doc);
	resp_free(&r);
	/* a download that carries the key is counted */
	{
		char path[128];

		snprintf(path, sizeof(path),
			 "http://localhost:%u/files/%s-1.png", port, id);
		http(&r, "GET", path, KEY, NULL);
		CHECK(r.status == 200);
		resp_free(&r);
	}
	CHECK(stat_of("auth_on_files") == 1);
	CHECK(stat_of("tasks") == 3);
}

/* ---- callbacks: a small receiver ---- */

struct received {
	pthread_mutex_t lock;
	int posts;
	char event[32];
	char task_id[64];
	bool has_timestamp;
	struct buf body;
};

static enum MHD_Result on_callback(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct received *got = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *v;

	(void)url;
	(void)method;
	(void)version;
	if (!*con_cls) {
		*con_cls = got;
		return MHD_YES;
	}
	pthread_mutex_lock(&got->lock);
	if (*upload_size) {
		buf_add(&got->body, upload, *upload_size);
		*upload_size = 0;
		pthread_mutex_unlock(&got->lock);
		return MHD_YES;
	}
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Event");
	snprintf(got->event, sizeof(got->event), "%s", v ? v : "");
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Task-Id");
	snprintf(got->task_id, sizeof(got->task_id), "%s", v ? v : "");
	got->has_timestamp = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 "X-Timestamp");
	got->posts++;
	pthread_mutex_unlock(&got->lock);
	resp = MHD_create_response_from_buffer(0, (void *)"",
					       MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void test_callback(void)
{
	struct received got = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sin;
	char body[512], *tid, *status;
	struct resp r;
	double deadline = now_s() + DEADLINE_S;
	struct timespec pause = { 0, 5000000 };
	int posts = 0;

	reset();
	post_json("/_sim/config", "{\"pending_seconds\":0.05,"
				  "\"processing_seconds\":0.05}");
	buf_init(&got.body, 1u << 16);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
				     MHD_USE_THREAD_PER_CONNECTION,
			     0, NULL, NULL, on_callback, &got,
			     MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
	CHECK(d != NULL);
	if (!d)
		return;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(body, sizeof(body),
		 "{\"model\":\"gpt-image-2\",\"input\":"
		 "{\"prompt\":\"cb\"},\"callback_url\":"
		 "\"http://127.0.0.1:%u/hook\"}",
		 info->port);
	http(&r, "POST", "/v1/images/generations", KEY, body);
	CHECK(r.status == 200);
	tid = json_path(r.body.data, r.body.len, "data", "taskId", NULL);
	resp_free(&r);
	while (now_s() < deadline) {
		pthread_mutex_lock(&got.lock);
		posts = got.posts;
		pthread_mutex_unlock(&got.lock);
		if (posts)
			break;
		nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(d);
	CHECK(posts == 1);
	CHECK_STR(got.event, "task.completed");
	CHECK_STR(got.task_id, tid ? tid : "");
	free(tid);
	CHECK(got.has_timestamp);
	status = json_path(got.body.data, got.body.len, "status", NULL);
	CHECK_STR(status, "completed");
	free(status);
	buf_free(&got.body);
}

static void test_options(void)
{
	struct sim_options o;
	char err[256];

	sim_options_default(&o);
	o.bind_addr = "0.0.0.0";
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "loopback"));
	sim_options_default(&o);
	o.api_key = "not-a-key";
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
	sim_options_default(&o);
	o.image_scale = 0;
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
	sim_options_default(&o);
	o.max_rate = -1;
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "rate"));
	sim_options_default(&o);
	o.max_tasks = 100001;
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
	sim_options_default(&o);
	o.duration_spread = 1.5;
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
	sim_options_default(&o);
	o.callback_drop = -0.1;
	CHECK(sim_start(&o, err, sizeof(err)) == NULL);
}

/* Takes in a row at time now until one is refused: how many. */
static int take_all(struct sim_bucket *b, double now, double *wait)
{
	int n = 0;

	while (n < 1000000 && sim_bucket_take(b, now, wait))
		n++;
	return n;
}

/* The token bucket on a clock of the test's own. */
static void test_bucket(void)
{
	static int per_ms[10000]; /* taken in each millisecond */
	struct sim_bucket b;
	double wait = -1, t;
	int most = 0, taken = 0;

	sim_bucket_set(&b, 0, 100);
	CHECK(take_all(&b, 100, &wait) == 1000000); /* no limit */

	sim_bucket_set(&b, 40, 100); /* burst 4 */
	CHECK(take_all(&b, 100, &wait) == 4);
	CHECK(wait > 0.0249 && wait < 0.0251);
	CHECK(take_all(&b, 100.0125, &wait) == 0); /* half a token */
	CHECK(wait > 0.0124 && wait < 0.0126);
	CHECK(take_all(&b, 100.025, &wait) == 1);
	CHECK(take_all(&b, 200, &wait) == 4); /* a quiet spell: burst only */
	CHECK(take_all(&b, 199, &wait) == 0); /* time going back adds none */

	/* a client as greedy as can be, every millisecond for 10 s: R a
	 * second on average, never more than R + burst in one second */
	sim_bucket_set(&b, 40, 0);
	for (int ms = 0; ms < 10000; ms++) {
		t = ms / 1000.0;
		per_ms[ms] = take_all(&b, t, &wait);
		taken += per_ms[ms];
		if (ms >= 999) {
			int window = 0;

			for (int k = ms - 999; k <= ms; k++)
				window += per_ms[k];
			most = window > most ? window : most;
		}
	}
	CHECK(taken >= 40 * 10 && taken <= 40 * 10 + 4);
	CHECK(most <= 40 + 4);

	sim_bucket_set(&b, 0.5, 0); /* burst 1, a token every 2 s */
	CHECK(take_all(&b, 0, &wait) == 1);
	CHECK(take_all(&b, 0.5, &wait) == 0);
	CHECK(sim_retry_after(wait) == 2);
}

static void test_retry_after_and_rng(void)
{
	struct sim_rng a, b;
	double lo = 1, hi = 0, sum = 0;
	bool same = true;

	CHECK(sim_retry_after(0) == 1);
	CHECK(sim_retry_after(0.001) == 1);
	CHECK(sim_retry_after(1) == 1);
	CHECK(sim_retry_after(1.01) == 2);
	CHECK(sim_retry_after(-3) == 1);
	CHECK(sim_retry_after(1e12) == 86400);

	sim_rng_seed(&a, 42);
	sim_rng_seed(&b, 42);
	for (int i = 0; i < 10000; i++) {
		double u = sim_rng_uniform(&a);

		same = same && u == sim_rng_uniform(&b);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += u;
	}
	CHECK(same);
	CHECK(lo >= 0 && lo < 0.01 && hi < 1 && hi > 0.99);
	CHECK(sum / 10000 > 0.48 && sum / 10000 < 0.52);
	sim_rng_seed(&b, 43);
	CHECK(sim_rng_uniform(&a) != sim_rng_uniform(&b));
}

int main(void)
{
	struct sim_options o;
	struct sim *s;
	char err[256];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	sim_options_default(&o);
	o.api_key = KEY;
	o.image_scale = SCALE;
	o.pending_seconds = 0.05;
	o.processing_seconds = 0.05;
	s = sim_start(&o, err, sizeof(err));
	CHECK(s != NULL);
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return check_result("test_sim");
	}
	port = sim_port(s);
	CHECK(port != 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
	test_life_cycle();
	test_sizes_and_outputs();
	test_validation();
	test_auth_and_routes();
	test_credits();
	test_faults();
	test_introspection();
	test_callback();
	test_options();
	test_bucket();
	test_retry_after_and_rng();
	sim_stop(s);
	curl_global_cleanup();
	return check_result("test_sim");
}
