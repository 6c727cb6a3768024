/* What the tests of sim/ share: the simulator started in-process on an
 * ephemeral port and spoken to over HTTP with libcurl, and the checks of
 * its answers. */
#ifndef GPTIMGFS_TESTS_SIM_FIXTURE_H
#define GPTIMGFS_TESTS_SIM_FIXTURE_H
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

static inline size_t on_body(char *data, size_t size, size_t n, void *cls)
{
	struct resp *r = cls;

	return buf_add(&r->body, data, size * n) == 0 ? size * n : 0;
}

static inline size_t on_header(char *data, size_t size, size_t n, void *cls)
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

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request: method, full URL or path below base, the key to send (NULL:
 * no Authorization) and a body (NULL: none). */
static inline void http(struct resp *r, const char *method, const char *where,
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

static inline void resp_free(struct resp *r)
{
	buf_free(&r->body);
}

/* A string found by a path of member names ("error", "code", NULL) in a
 * JSON text; malloc'd, NULL when absent. */
static inline char *json_path(const char *text, size_t len, ...)
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
static inline double json_num(const struct buf *b, const char *outer,
			      const char *key)
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

static inline void post_json(const char *path, const char *body)
{
	struct resp r;

	http(&r, "POST", path, NULL, body);
	CHECK(r.status == 200);
	resp_free(&r);
}

static inline double stat_of(const char *key)
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
static inline long create(const char *input, char *id, size_t idlen)
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
static inline void poll_until(const char *id, const char *want, struct resp *r,
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

static inline uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* A PNG's chunks all have good CRCs, IHDR gives w x h, RGB 8-bit, and the
 * IDAT data inflates to exactly h rows of 1 + 3w bytes. */
static inline void check_png(const struct buf *b, uint32_t w, uint32_t h)
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

static inline void reset(void)
{
	post_json("/_sim/reset", "");
}

/* The image behind a task's first output. */
static inline void fetch_first(const char *id, struct resp *f)
{
	char path[128];

	snprintf(path, sizeof(path), "http://localhost:%u/files/%s-1.png", port,
		 id);
	http(f, "GET", path, NULL, NULL);
}

static inline void check_error(const struct resp *r, long status,
			       const char *code, const char *type)
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

static inline double balance(void)
{
	struct resp r;
	double v;

	http(&r, "GET", "/v1/credits", KEY, NULL);
	CHECK(r.status == 200);
	v = json_num(&r.body, "data", "balance");
	resp_free(&r);
	return v;
}

/* Start the simulator with the tests' options; false (and a message) on
 * failure. */
static inline struct sim *sim_fixture_start(void)
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
		return NULL;
	}
	port = sim_port(s);
	CHECK(port != 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
	return s;
}

static inline void sim_fixture_stop(struct sim *s)
{
	sim_stop(s);
	curl_global_cleanup();
}

#endif
