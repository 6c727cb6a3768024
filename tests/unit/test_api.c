/* net/api: the creation body, URLs and ids, and the parsers of the
 * creation, balance and error answers (task answers: test_api_task.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/api.h"
#include "util/json.h"
#include "api_fixture.h"

/* A string literal and its length, as the parsers take them. */
#define S(lit) (lit), strlen(lit)

/* ---- the creation body ---- */

/* Build a body for prompt and read the prompt back as the API would. */
static void check_prompt_round_trip(const char *prompt, size_t len)
{
	struct job_opts o;
	struct json_doc doc;
	struct buf out;
	char *model, *got;
	int input;

	core_opts_init(&o, "auto", "1k", true);
	buf_init(&out, API_REQUEST_MAX);
	CHECK(net_api_build_create(&out, prompt, len, &o) == 0);
	CHECK(json_parse(&doc, out.data, out.len, 64) == 0);
	model = json_member_string(&doc, 0, "model", 64);
	CHECK_STR(model, "gpt-image-2");
	CHECK(json_get(&doc, 0, "callback_url") < 0);
	input = json_get(&doc, 0, "input");
	CHECK(json_is_object(&doc, input));
	got = json_member_string(&doc, input, "prompt", API_REQUEST_MAX);
	CHECK(got && strlen(got) == len && memcmp(got, prompt, len) == 0);
	CHECK(json_is_string(&doc, json_get(&doc, input, "aspect_ratio")));
	CHECK(json_is_string(&doc, json_get(&doc, input, "resolution")));
	free(model);
	free(got);
	json_doc_free(&doc);
	buf_free(&out);
	core_opts_free(&o);
}

static void test_build_create(void)
{
	static const char *const prompts[] = {
		"a cat",
		"say \"cheese\"",
		"back\\slash \\n not a newline \\",
		"line one\nline two\r\nline three",
		"tab\there",
		"control \x01\x02\x1f\x7f bytes",
		"emoji \xf0\x9f\x90\x88 and \xe2\x9c\xa8",
		"CJK \xe7\x8c\xab\xe3\x81\xae\xe7\xb5\xb5 \xea\xb3\xa0\xec\x96\x91\xec\x9d\xb4",
		"</script><script>alert(1)</script> {\"model\":\"x\"}",
		"\xe2\x80\xa8 line separator, \xef\xbb\xbf BOM",
	};
	struct job_opts o;
	struct buf out;
	size_t i;
	char *big;

	for (i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++)
		check_prompt_round_trip(prompts[i], strlen(prompts[i]));

	/* the longest prompt: 20,000 characters, all escaped */
	big = malloc(PROMPT_MAX_CHARS);
	memset(big, '"', PROMPT_MAX_CHARS);
	check_prompt_round_trip(big, PROMPT_MAX_CHARS);
	memset(big, '\x01', PROMPT_MAX_CHARS);
	check_prompt_round_trip(big, PROMPT_MAX_CHARS);
	free(big);

	/* the exact bytes, options spliced in */
	core_opts_init(&o, "16:9", "4k", false);
	buf_init(&out, API_REQUEST_MAX);
	CHECK(net_api_build_create(&out, "a cat", 5, &o) == 0);
	CHECK_STR(buf_str(&out),
		  "{\"model\":\"gpt-image-2\",\"input\":{\"prompt\":\"a cat\","
		  "\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\","
		  "\"nsfw_checker\":false}}");

	/* an edit without text: no "prompt" at all */
	o.image_urls[0] = strdup("https://example.com/source.png");
	o.image_urls[1] = strdup("https://example.com/b.png?x=\"1\"");
	o.n_urls = 2;
	CHECK(net_api_build_create(&out, "", 0, &o) == 0);
	CHECK_STR(buf_str(&out),
		  "{\"model\":\"gpt-image-2\",\"input\":{"
		  "\"aspect_ratio\":\"16:9\",\"resolution\":\"4k\","
		  "\"nsfw_checker\":false,\"image_urls\":["
		  "\"https://example.com/source.png\","
		  "\"https://example.com/b.png?x=\\\"1\\\"\"]}}");
	CHECK(net_api_build_create(&out, NULL, 0, &o) == 0);
	CHECK(strstr(buf_str(&out), "prompt") == NULL);

	/* too big for the buffer: -1 and nothing half-built */
	out.max = 40;
	CHECK(net_api_build_create(&out, "a cat", 5, &o) == -1);
	CHECK(out.len == 0);
	buf_free(&out);
	core_opts_free(&o);
}

/* ---- ids and URLs ---- */

static void test_ids_and_urls(void)
{
	char id[API_TASK_ID_MAX + 2];
	struct buf out;

	CHECK(net_api_task_id_valid("397ce9f2-c04e-4244-ac33-3af19a7cc297"));
	CHECK(net_api_task_id_valid("a.b_c-D9"));
	CHECK(!net_api_task_id_valid(""));
	CHECK(!net_api_task_id_valid(NULL));
	CHECK(!net_api_task_id_valid("."));
	CHECK(!net_api_task_id_valid(".."));
	CHECK(!net_api_task_id_valid(".hidden"));
	CHECK(!net_api_task_id_valid("a/b"));
	CHECK(!net_api_task_id_valid("../etc"));
	CHECK(!net_api_task_id_valid("a b"));
	CHECK(!net_api_task_id_valid("a%2f"));
	CHECK(!net_api_task_id_valid("a?x=1"));
	CHECK(!net_api_task_id_valid("caf\xc3\xa9"));
	memset(id, 'a', API_TASK_ID_MAX);
	id[API_TASK_ID_MAX] = '\0';
	CHECK(net_api_task_id_valid(id));
	id[API_TASK_ID_MAX] = 'a';
	id[API_TASK_ID_MAX + 1] = '\0';
	CHECK(!net_api_task_id_valid(id));

	buf_init(&out, 1024);
	CHECK(net_api_task_url(&out, "https://api.aivideoapi.ai", "abc-1") ==
	      0);
	CHECK_STR(buf_str(&out), "https://api.aivideoapi.ai/v1/tasks/abc-1");
	CHECK(net_api_task_url(&out, "http://127.0.0.1:8080//", "abc-1") == 0);
	CHECK_STR(buf_str(&out), "http://127.0.0.1:8080/v1/tasks/abc-1");
	CHECK(net_api_task_url(&out, "https://h", "../credits") == -1);
	CHECK(out.len == 0);
	CHECK(net_api_url_join(&out, "https://h/", API_PATH_CREDITS) == 0);
	CHECK_STR(buf_str(&out), "https://h/v1/credits");
	CHECK(net_api_url_join(&out, "https://h", API_PATH_CREATE) == 0);
	CHECK_STR(buf_str(&out), "https://h/v1/images/generations");
	out.max = 10;
	CHECK(net_api_url_join(&out, "https://h", API_PATH_CREATE) == -1);
	buf_free(&out);
}

/* ---- task creation answers ---- */

static int create(const char *body, char *id, char *err)
{
	return net_api_parse_create(body, body ? strlen(body) : 0, id,
				    API_TASK_ID_MAX + 1, err, ERRLEN);
}

static void check_create_refused(const char *body, const char *want_err)
{
	char id[API_TASK_ID_MAX + 1] = "stale", err[ERRLEN] = "";

	CHECK(create(body, id, err) == -1);
	CHECK_STR(id, "");
	if (want_err)
		CHECK_STR(err, want_err);
	else
		CHECK(strncmp(err, "create answer: ", 15) == 0);
}

static void test_parse_create(void)
{
	char id[API_TASK_ID_MAX + 1], err[ERRLEN], *s, *body;

	CHECK(create("{\"code\": 200, \"msg\": \"success\", \"data\": "
		     "{\"taskId\": \"397ce9f2-c04e-4244-ac33-3af19a7cc297\"}}",
		     id, err) == 0);
	CHECK_STR(id, "397ce9f2-c04e-4244-ac33-3af19a7cc297");
	/* no envelope code is fine, extra members are ignored */
	CHECK(create("{\"data\":{\"taskId\":\"t1\",\"x\":[1,{}]},\"y\":null}",
		     id, err) == 0);
	CHECK_STR(id, "t1");
	/* the id fits exactly, or it is refused */
	body = "{\"data\":{\"taskId\":\"abc\"}}";
	CHECK(net_api_parse_create(body, strlen(body), id, 3, err, ERRLEN) ==
	      -1);
	CHECK_STR(err, "create answer: 'taskId' is too long");

	check_create_refused(NULL, "create answer: empty");
	check_create_refused("", "create answer: empty");
	check_create_refused("<html>502 Bad Gateway</html>",
			     "create answer: not JSON (or too complex)");
	check_create_refused("{\"data\":{\"taskId\":\"t1\"}", NULL);
	check_create_refused("{\"data\":{\"taskId\":\"t1\"}} trailing", NULL);
	check_create_refused("[\"t1\"]", "create answer: not a JSON object");
	check_create_refused("\"t1\"", "create answer: not a JSON object");
	check_create_refused("{}", "create answer: 'data' missing");
	check_create_refused("{\"data\":\"t1\"}",
			     "create answer: 'data' is not an object");
	check_create_refused("{\"data\":{}}",
			     "create answer: 'taskId' missing");
	check_create_refused("{\"data\":{\"taskId\":42}}",
			     "create answer: 'taskId' is not a string");
	check_create_refused("{\"data\":{\"taskId\":null}}",
			     "create answer: 'taskId' is not a string");
	check_create_refused("{\"data\":{\"taskId\":\"\"}}",
			     "create answer: 'taskId' is not a valid task id");
	check_create_refused("{\"data\":{\"taskId\":\"../../etc/passwd\"}}",
			     "create answer: 'taskId' is not a valid task id");
	check_create_refused("{\"data\":{\"taskId\":\"..\"}}",
			     "create answer: 'taskId' is not a valid task id");
	check_create_refused("{\"data\":{\"taskId\":\"a/b\"}}",
			     "create answer: 'taskId' is not a valid task id");
	check_create_refused("{\"data\":{\"taskId\":\"a\\u002fb\"}}",
			     "create answer: 'taskId' is not a valid task id");
	check_create_refused(
		"{\"data\":{\"taskId\":\"a\\u0000b\"}}",
		"create answer: 'taskId' is too long or badly escaped");
	check_create_refused("{\"data\":{\"taskId\":\"a\\nb\"}}",
			     "create answer: 'taskId' is not a valid task id");
	s = repeat("{\"data\":{\"taskId\":\"", "a", API_TASK_ID_MAX + 1,
		   "\"}}");
	check_create_refused(s,
			     "create answer: 'taskId' is not a valid task id");
	free(s);
	s = repeat("{\"data\":{\"taskId\":\"", "a", 100000, "\"}}");
	check_create_refused(
		s, "create answer: 'taskId' is too long or badly escaped");
	free(s);
	check_create_refused("{\"code\":402,\"msg\":\"no\\nmoney\","
			     "\"data\":{\"taskId\":\"t1\"}}",
			     "create answer: code 402: no?money");
	check_create_refused("{\"code\":\"200\",\"data\":{\"taskId\":\"t1\"}}",
			     "create answer: 'code' is not a number");
	check_create_refused("{\"code\":1e400,\"data\":{\"taskId\":\"t1\"}}",
			     "create answer: 'code' is not a number");
	check_create_refused("{\"code\":1e300,\"data\":{\"taskId\":\"t1\"}}",
			     "create answer: 'code' is out of range");
	/* 10,000 elements, 10,000 levels: refused before any lookup */
	s = repeat("{\"data\":{\"taskId\":\"t1\"},\"x\":[", "1,", 9999, "1]}");
	check_create_refused(s, "create answer: not JSON (or too complex)");
	free(s);
	s = repeat("", "[", 10000, "");
	check_create_refused(s, "create answer: not JSON (or too complex)");
	free(s);
	s = repeat("{\"data\":{\"taskId\":\"t1\"},\"x\":", "{\"a\":", 5000,
		   "1");
	body = repeat(s, "}", 5001, "");
	check_create_refused(body, "create answer: not JSON (or too complex)");
	free(body);
	free(s);
	/* bigger than any answer may be */
	s = repeat("{\"data\":{\"taskId\":\"t1\"},\"x\":\"", "x",
		   API_ANSWER_MAX, "\"}");
	check_create_refused(s, NULL);
	free(s);
}

/* ---- balance answers ---- */

static void check_credits_refused(const char *body, const char *want_err)
{
	double balance = 1, purchased = 1, consumed = 1;
	char err[ERRLEN] = "";

	CHECK(net_api_parse_credits(body, strlen(body), &balance, &purchased,
				    &consumed, err, ERRLEN) == -1);
	CHECK(isnan(balance) && isnan(purchased) && isnan(consumed));
	CHECK_STR(err, want_err);
}

static void test_parse_credits(void)
{
	static const char example[] =
		"{\"code\": 200, \"msg\": \"success\", \"data\": {\"balance\": 9800, "
		"\"total_purchased\": 10000, \"total_consumed\": 200}}";
	double balance, purchased, consumed;
	char err[ERRLEN];

	CHECK(net_api_parse_credits(example, strlen(example), &balance,
				    &purchased, &consumed, err, ERRLEN) == 0);
	CHECK(balance == 9800 && purchased == 10000 && consumed == 200);
	CHECK(net_api_parse_credits(S("{\"data\":{\"balance\":4.7,"
				      "\"total_consumed\":0.3e1}}"),
				    &balance, &purchased, &consumed, err,
				    ERRLEN) == 0);
	CHECK(balance == 4.7 && isnan(purchased) && consumed == 3);
	CHECK(net_api_parse_credits(S("{\"data\":{\"balance\":-14.1}}"),
				    &balance, NULL, NULL, err, ERRLEN) == 0);
	CHECK(balance == -14.1);

	check_credits_refused("", "credits answer: empty");
	check_credits_refused("9800", "credits answer: not a JSON object");
	check_credits_refused("{\"data\":{}}",
			      "credits answer: 'balance' missing");
	check_credits_refused("{\"data\":{\"balance\":null}}",
			      "credits answer: 'balance' missing");
	check_credits_refused("{\"data\":{\"balance\":\"9800\"}}",
			      "credits answer: 'balance' is not a number");
	check_credits_refused("{\"data\":{\"balance\":1e999}}",
			      "credits answer: 'balance' is not a number");
	check_credits_refused("{\"data\":{\"balance\":1e300}}",
			      "credits answer: 'balance' is out of range");
	check_credits_refused(
		"{\"data\":{\"balance\":1,\"total_purchased\":\"x\"}}",
		"credits answer: 'total_purchased' is not a number");
	check_credits_refused("{\"data\":[9800]}",
			      "credits answer: 'data' is not an object");
	check_credits_refused(
		"{\"code\":401,\"msg\":\"bad key\",\"data\":{\"balance\":1}}",
		"credits answer: code 401: bad key");
}

/* ---- error answers ---- */

static void check_error_row(long status, const char *code, const char *type,
			    const char *message)
{
	char body[1024];
	struct api_error e;

	snprintf(body, sizeof(body),
		 "{\"error\": {\"code\": \"%s\", \"message\": \"%s\", "
		 "\"type\": \"%s\"}}",
		 code, message, type);
	CHECK(net_api_parse_error(status, body, strlen(body), &e) == 0);
	CHECK(e.http_status == status);
	CHECK_STR(e.code, code);
	CHECK_STR(e.type, type);
	CHECK_STR(e.message, message);
}

static void check_error_fallback(long status, const char *body,
				 const char *code, const char *message)
{
	struct api_error e;

	CHECK(net_api_parse_error(status, body, body ? strlen(body) : 0, &e) ==
	      -1);
	CHECK_STR(e.code, code);
	CHECK_STR(e.message, message);
	CHECK_STR(e.type, "");
}

static void test_parse_error(void)
{
	struct api_error e;
	char *s;

	check_error_row(400, "invalid_request", "invalid_request_error",
			"'model' is required.");
	check_error_row(401, "invalid_api_key", "authentication_error",
			"Invalid API key");
	check_error_row(402, "insufficient_credits", "billing_error",
			"Your credit balance is too low. Please top up.");
	check_error_row(403, "ip_not_allowed", "permission_error",
			"IP not allowed");
	check_error_row(404, "model_not_found", "invalid_request_error",
			"Model not found");
	check_error_row(404, "task_not_found", "invalid_request_error",
			"Task not found");
	check_error_row(429, "rate_limit_exceeded", "rate_limit_error",
			"Too many requests");
	check_error_row(429, "spend_limit_exceeded", "billing_error",
			"Spend limit reached");
	check_error_row(500, "internal_error", "api_error", "Server error");
	check_error_row(503, "upstream_error", "upstream_error",
			"Generation failed");

	check_error_fallback(502, NULL, "http_502",
			     "HTTP 502 with an empty body");
	check_error_fallback(502, "", "http_502",
			     "HTTP 502 with an empty body");
	check_error_fallback(502, "<html><h1>Bad Gateway</h1></html>",
			     "http_502", "HTTP 502 with an unreadable body");
	check_error_fallback(500, "[1,2]", "http_500",
			     "HTTP 500 with an unreadable body");
	check_error_fallback(500, "{\"error\":\"oops\"}", "http_500",
			     "HTTP 500 with an unreadable body");
	check_error_fallback(500, "{\"error\":{\"code\":5}}", "http_500",
			     "HTTP 500 with an unreadable body");
	check_error_fallback(429, "{\"code\":429,\"msg\":\"slow\\r\\ndown\"}",
			     "http_429", "slow??down");
	check_error_fallback(404, "{\"message\":\"no route\"}", "http_404",
			     "no route");
	s = repeat("{\"error\":{\"code\":\"x\",\"y\":[", "0,", 20000, "0]}}");
	check_error_fallback(400, s, "http_400",
			     "HTTP 400 with an unreadable body");
	free(s);

	/* a code but no message; hostile code and type */
	CHECK(net_api_parse_error(402,
				  S("{\"error\":{\"code\":"
				    "\"insufficient_credits\"}}"),
				  &e) == 0);
	CHECK_STR(e.code, "insufficient_credits");
	CHECK_STR(e.message, "HTTP 402 without a message");
	CHECK(net_api_parse_error(
		      400,
		      S("{\"error\":{\"code\":\"a: b\\n\","
			"\"type\":\"t t\",\"message\":\"m\\u0000\"}}"),
		      &e) == 0);
	CHECK_STR(e.code, "a__b_");
	CHECK_STR(e.type, "t_t");
	CHECK_STR(e.message, "HTTP 400 without a message");
}

int main(void)
{
	test_build_create();
	test_ids_and_urls();
	test_parse_create();
	test_parse_credits();
	test_parse_error();
	return check_result("test_api");
}
