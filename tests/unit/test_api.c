/* net/api: the creation body, every answer parser, URLs and ids. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/api.h"
#include "util/json.h"

#define ERRLEN 256
/* A string literal and its length, as the parsers take them. */
#define S(lit) (lit), strlen(lit)

/* head, n times unit, tail: a malloc'd string. */
static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1), *p = s;

	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

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

/* ---- task answers ---- */

static const char completed_example[] =
	"{\n"
	"  \"id\": \"397ce9f2-c04e-4244-ac33-3af19a7cc297\",\n"
	"  \"status\": \"completed\",\n"
	"  \"model\": \"gpt-image-2\",\n"
	"  \"created_at\": 1775383908,\n"
	"  \"completed_at\": 1775383910,\n"
	"  \"output\": {\n"
	"    \"urls\": [\"https://file.aivideoapi.ai/images/2026/04/05/abc123.png\"],\n"
	"    \"metadata\": {\"model\": \"gpt-image-2-image-to-image\", \"costTime\": 70}\n"
	"  }\n"
	"}\n";

static const char failed_example[] =
	"{\n"
	"  \"id\": \"57c8772c-f834-46f3-9b7d-81f92e104050\",\n"
	"  \"status\": \"failed\",\n"
	"  \"model\": \"gpt-image-2\",\n"
	"  \"created_at\": 1775383908,\n"
	"  \"error\": {\"code\": \"upstream_error\", \"message\": \"Generation failed\"}\n"
	"}\n";

static int task(const char *body, const char *expected, struct api_task *t,
		char *err)
{
	return net_api_parse_task(body, strlen(body), expected, t, err, ERRLEN);
}

static void check_task_refused(const char *body, const char *want_err)
{
	struct api_task t;
	char err[ERRLEN] = "";

	CHECK(task(body, "t1", &t, err) == -1);
	CHECK(t.n_urls == 0);
	if (want_err)
		CHECK_STR(err, want_err);
	else
		CHECK(strncmp(err, "task answer: ", 13) == 0);
	net_api_task_free(&t); /* harmless after -1 */
}

/* A completed answer for task t1 with the given "urls" value. */
static void check_urls_refused(const char *urls, const char *want_err)
{
	char *body = repeat("{\"id\":\"t1\",\"status\":\"completed\","
			    "\"output\":{\"urls\":",
			    urls, 1, "}}");

	check_task_refused(body, want_err);
	free(body);
}

static void test_parse_task_examples(void)
{
	struct api_task t;
	char err[ERRLEN];

	CHECK(task(completed_example, "397ce9f2-c04e-4244-ac33-3af19a7cc297",
		   &t, err) == 0);
	CHECK(t.status == API_COMPLETED);
	CHECK(t.n_urls == 1);
	CHECK_STR(t.urls[0],
		  "https://file.aivideoapi.ai/images/2026/04/05/abc123.png");
	CHECK(t.created_at == 1775383908);
	CHECK(t.completed_at == 1775383910);
	CHECK_STR(t.error_code, "");
	net_api_task_free(&t);
	CHECK(t.n_urls == 0);

	CHECK(task(failed_example, "57c8772c-f834-46f3-9b7d-81f92e104050", &t,
		   err) == 0);
	CHECK(t.status == API_FAILED);
	CHECK(t.n_urls == 0);
	CHECK_STR(t.error_code, "upstream_error");
	CHECK_STR(t.error_message, "Generation failed");
	CHECK(t.created_at == 1775383908);
	CHECK(t.completed_at == 0);
	net_api_task_free(&t);

	/* no expected id: any valid one */
	CHECK(task(failed_example, NULL, &t, err) == 0);
	net_api_task_free(&t);

	CHECK(task("{\"id\":\"t1\",\"status\":\"pending\"}", "t1", &t, err) ==
	      0);
	CHECK(t.status == API_PENDING);
	CHECK(task("{\"id\":\"t1\",\"status\":\"processing\",\"created_at\":1.5,"
		   "\"completed_at\":null,\"output\":null}",
		   "t1", &t, err) == 0);
	CHECK(t.status == API_PROCESSING);
	CHECK(t.created_at == 1.5);
	CHECK(t.n_urls == 0);

	/* several outputs, the most allowed */
	CHECK(task("{\"id\":\"t1\",\"status\":\"completed\",\"output\":{\"urls\":["
		   "\"http://127.0.0.1:9/a.png\",\"HTTPS://h/b\",\"https://h/3\","
		   "\"https://h/4\",\"https://h/5\",\"https://h/6\",\"https://h/7\","
		   "\"https://h/8\",\"https://h/9\",\"https://h/10\",\"https://h/11\","
		   "\"https://h/12\",\"https://h/13\",\"https://h/14\",\"https://h/15\","
		   "\"https://h/16?sig=a%20b&x=\\u0041\"]}}",
		   "t1", &t, err) == 0);
	CHECK(t.n_urls == 16);
	CHECK_STR(t.urls[1], "HTTPS://h/b");
	CHECK_STR(t.urls[15], "https://h/16?sig=a%20b&x=A");
	net_api_task_free(&t);

	/* other schemes are kept as they are: the download refuses them,
	 * failing the task with the reason (net/scheme.h) */
	CHECK(task("{\"id\":\"t1\",\"status\":\"completed\",\"output\":{\"urls\":["
		   "\"file:///etc/passwd\",\"ftp://h/a.png\",\"data:x\"]}}",
		   "t1", &t, err) == 0);
	CHECK(t.n_urls == 3);
	CHECK_STR(t.urls[0], "file:///etc/passwd");
	CHECK_STR(t.urls[1], "ftp://h/a.png");
	CHECK_STR(t.urls[2], "data:x");
	net_api_task_free(&t);
}

static void test_parse_task_failed_reasons(void)
{
	struct api_task t;
	char err[ERRLEN], body[4096], *s;

	/* control characters and a code that would break the status line */
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\",\"error\":{"
		   "\"code\":\"bad code: x\\n\",\"message\":"
		   "\"line1\\nline2\\ttab\\u0007\\u009b end \xe7\x8c\xab\"}}",
		   "t1", &t, err) == 0);
	CHECK_STR(t.error_code, "bad_code__x_");
	CHECK_STR(t.error_message, "line1?line2?tab?? end \xe7\x8c\xab");
	/* invalid UTF-8 becomes '?' */
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\",\"error\":{"
		   "\"code\":\"x\",\"message\":\"a\xff\xc0\xafz\"}}",
		   "t1", &t, err) == 0);
	CHECK_STR(t.error_message, "a???z");
	/* bidi controls and invisible characters are no text to show: an
	 * override would make "exe.png" of "gnp.exe" */
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\",\"error\":{"
		   "\"code\":\"x\",\"message\":\"see \\u202egnp.exe\\u202c, "
		   "\xe2\x81\xa6iso\xe2\x81\xa9 z\\u200bw \\ufeffbom s\\u00adh\"}}",
		   "t1", &t, err) == 0);
	CHECK_STR(t.error_message, "see ?gnp.exe?, ?iso? z?w ?bom s?h");
	/* no reason given: one of our own */
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\"}", "t1", &t, err) ==
	      0);
	CHECK_STR(t.error_code, "task_failed");
	CHECK_STR(t.error_message, "the API gave no reason");
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\",\"error\":[1,2]}",
		   "t1", &t, err) == 0);
	CHECK_STR(t.error_code, "task_failed");
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\",\"error\":\"boom\"}",
		   "t1", &t, err) == 0);
	CHECK_STR(t.error_code, "task_failed");
	CHECK_STR(t.error_message, "boom");
	CHECK(task("{\"id\":\"t1\",\"status\":\"failed\",\"error\":{\"code\":7,"
		   "\"message\":\"\\u0000\"}}",
		   "t1", &t, err) == 0);
	CHECK_STR(t.error_code, "task_failed");
	CHECK_STR(t.error_message, "the API gave no reason");

	/* long reasons are cut to size, on a character boundary */
	s = repeat(
		"{\"id\":\"t1\",\"status\":\"failed\",\"error\":{\"code\":\"",
		"c", 1000, "\",\"message\":\"");
	snprintf(body, sizeof(body), "%s", s);
	free(s);
	s = repeat(body, "\xe7\x8c\xab", 1000, "\"}}");
	CHECK(task(s, "t1", &t, err) == 0);
	free(s);
	CHECK(strlen(t.error_code) == API_CODE_MAX - 1);
	CHECK(strlen(t.error_message) == 510); /* 170 cats of 3 bytes */
	CHECK(memcmp(t.error_message + 507, "\xe7\x8c\xab", 3) == 0);
}

static void test_parse_task_hostile(void)
{
	char *s;

	check_task_refused("", "task answer: empty");
	check_task_refused("null", "task answer: not a JSON object");
	check_task_refused("{\"id\":\"t1\",\"status\":\"completed\"",
			   "task answer: not JSON (or too complex)");
	check_task_refused("{\"id\":\"t1\"}", "task answer: 'status' missing");
	check_task_refused("{\"status\":\"pending\"}",
			   "task answer: 'id' missing");
	check_task_refused("{\"id\":1,\"status\":\"pending\"}",
			   "task answer: 'id' is not a string");
	check_task_refused("{\"id\":\"t2\",\"status\":\"pending\"}",
			   "task answer: 'id' is not the task asked for");
	check_task_refused("{\"id\":\"T1\",\"status\":\"pending\"}",
			   "task answer: 'id' is not the task asked for");
	check_task_refused("{\"id\":\"../t1\",\"status\":\"pending\"}",
			   "task answer: 'id' is not a valid task id");
	check_task_refused("{\"id\":\"t1\",\"status\":\"weird\"}",
			   "task answer: unknown status 'weird'");
	check_task_refused("{\"id\":\"t1\",\"status\":\"Completed\"}",
			   "task answer: unknown status 'Completed'");
	check_task_refused("{\"id\":\"t1\",\"status\":\"\\u001b[31m\"}",
			   "task answer: unknown status '?[31m'");
	check_task_refused("{\"id\":\"t1\",\"status\":true}",
			   "task answer: 'status' is not a string");
	check_task_refused("{\"id\":\"t1\",\"status\":[\"pending\"]}",
			   "task answer: 'status' is not a string");
	check_task_refused(
		"{\"id\":\"t1\",\"status\":\"pending\",\"created_at\":\"now\"}",
		"task answer: 'created_at' is not a number");
	check_task_refused(
		"{\"id\":\"t1\",\"status\":\"pending\",\"created_at\":1e400}",
		"task answer: 'created_at' is not a number");
	check_task_refused(
		"{\"id\":\"t1\",\"status\":\"pending\",\"created_at\":-1}",
		"task answer: 'created_at' is out of range");
	check_task_refused("{\"id\":\"t1\",\"status\":\"pending\","
			   "\"completed_at\":123456789012345678901234567890}",
			   "task answer: 'completed_at' is out of range");

	check_task_refused("{\"id\":\"t1\",\"status\":\"completed\"}",
			   "task answer: 'output' missing");
	check_task_refused(
		"{\"id\":\"t1\",\"status\":\"completed\",\"output\":[]}",
		"task answer: 'output' is not an object");
	check_task_refused(
		"{\"id\":\"t1\",\"status\":\"completed\",\"output\":{}}",
		"task answer: 'urls' missing");
	check_urls_refused("\"https://h/a.png\"",
			   "task answer: 'urls' is not an array");
	check_urls_refused("[]", "task answer: completed without output URLs");
	check_urls_refused("[\"https://h/a.png\",null]",
			   "task answer: output URL 2 is not a string");
	check_urls_refused("[\"https://h/a b.png\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"https://h/a.png\\n\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused(
		"[\"https://h/a\\u0000.png\"]",
		"task answer: output URL 1 is too long or badly escaped");
	check_urls_refused("[\"https://h/\xe7\x8c\xab.png\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"https://\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"https:///x\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"1ftp://h/a.png\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"-ftp://h/a.png\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"fi le:///etc/passwd\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"file:///etc/pass wd\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"h/a.png\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused("[\"//h/a.png\"]",
			   "task answer: output URL 1 is not a plain URL");
	check_urls_refused(
		"[\"https://h/1\",\"https://h/2\",\"https://h/3\","
		"\"https://h/4\",\"https://h/5\",\"https://h/6\",\"https://h/7\","
		"\"https://h/8\",\"https://h/9\",\"https://h/10\",\"https://h/11\","
		"\"https://h/12\",\"https://h/13\",\"https://h/14\",\"https://h/15\","
		"\"https://h/16\",\"https://h/17\"]",
		"task answer: more than 16 output URLs");
	s = repeat("[\"https://h/", "a", API_URL_MAX, "\"]");
	check_urls_refused(s, NULL);
	free(s);
	s = repeat(
		"{\"id\":\"t1\",\"status\":\"completed\",\"output\":{\"urls\":[",
		"\"https://h/a\",", 9999, "\"https://h/a\"]}}");
	check_task_refused(s, "task answer: not JSON (or too complex)");
	free(s);
	s = repeat("{\"id\":\"t1\",\"status\":\"pending\",\"x\":", "[", 100000,
		   "");
	check_task_refused(s, "task answer: not JSON (or too complex)");
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
	test_parse_task_examples();
	test_parse_task_failed_reasons();
	test_parse_task_hostile();
	test_parse_credits();
	test_parse_error();
	return check_result("test_api");
}
