/* net/api: the parser of task answers: the documented examples, the
 * reasons a task failed, hostile answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/api.h"
#include "util/json.h"
#include "api_fixture.h"

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
	CHECK(t.cost_time == 70);
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
	CHECK(isnan(t.cost_time));
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

/* A completed answer for task t1 whose output.metadata is meta: parsed,
 * with this costTime (NaN: none). */
static void check_cost_time(const char *meta, double want)
{
	char *body = repeat("{\"id\":\"t1\",\"status\":\"completed\","
			    "\"output\":{\"urls\":[\"https://h/a\"],"
			    "\"metadata\":",
			    meta, 1, "}}");
	struct api_task t;
	char err[ERRLEN];

	CHECK(task(body, "t1", &t, err) == 0);
	CHECK(t.n_urls == 1);
	if (isnan(want))
		CHECK(isnan(t.cost_time));
	else
		CHECK(t.cost_time == want);
	net_api_task_free(&t);
	free(body);
}

/* costTime is a hint for the poll schedule: anything odd is no costTime,
 * never a refused answer (the image is there). */
static void test_parse_task_cost_time(void)
{
	check_cost_time("{\"costTime\":15}", 15);
	check_cost_time("{\"costTime\":0}", 0);
	check_cost_time("{\"costTime\":2.5}", 2.5);
	check_cost_time("{}", NAN);
	check_cost_time("null", NAN);
	check_cost_time("[1]", NAN);
	check_cost_time("{\"costTime\":null}", NAN);
	check_cost_time("{\"costTime\":\"70\"}", NAN);
	check_cost_time("{\"costTime\":-1}", NAN);
	check_cost_time("{\"costTime\":1e400}", NAN);
	check_cost_time("{\"costTime\":1e10}", NAN);
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

int main(void)
{
	test_parse_task_examples();
	test_parse_task_failed_reasons();
	test_parse_task_cost_time();
	test_parse_task_hostile();
	return check_result("test_api_task");
}
