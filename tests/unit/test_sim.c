/* sim/: the simulated API over HTTP: the task life cycle, real PNGs, sizes
 * and outputs, validation, keys and routes, credits. */
#include "sim_fixture.h"
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

int main(void)
{
	struct sim *s = sim_fixture_start();

	if (!s)
		return check_result("test_sim");
	test_life_cycle();
	test_sizes_and_outputs();
	test_validation();
	test_auth_and_routes();
	test_credits();
	sim_fixture_stop(s);
	return check_result("test_sim");
}
