/* The API's requests and answers as bytes: see api.h. */
#include "api.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json.h"
#include "util/utf8.h"

/* No answer of the API needs more tokens; a bigger one (a 10,000-element
 * array) is refused before anything looks at it. */
#define API_MAX_TOKENS 1024
/* Numbers beyond these are not a balance or a Unix time. */
#define API_NUMBER_MAX 1e15
#define API_TIME_MAX 1e12

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- text that ends up in a status line ---- */

/* A message for one line of a status file: printable UTF-8 is kept,
 * control and invisible format characters (utf8_unsafe) and invalid bytes
 * become '?', and it is cut at a character boundary to fit dst. */
static void sanitize_text(char *dst, size_t dstsz, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = strlen(src), i = 0, o = 0, n;
	uint32_t cp;

	while (i < len) {
		n = utf8_char(s + i, len - i, &cp);
		if (n == 0 || utf8_unsafe(cp)) {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = '?';
			i += n ? n : 1;
			continue;
		}
		if (o + n >= dstsz)
			break;
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
}

/* An error code or type: [A-Za-z0-9._-], anything else becomes '_' (the
 * status line is "error: CODE: message"). "" when src is empty. */
static void sanitize_code(char *dst, size_t dstsz, const char *src)
{
	size_t o;
	char c;

	for (o = 0; src[o] && o + 1 < dstsz; o++) {
		c = src[o];
		dst[o] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					 (c >= '0' && c <= '9') || c == '.' ||
					 c == '_' || c == '-' ?
				 c :
				 '_';
	}
	dst[o] = '\0';
}

/* ---- URLs and ids ---- */

static int id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int net_api_task_id_valid(const char *id)
{
	size_t i;

	if (!id || id[0] == '\0' || id[0] == '.')
		return 0;
	for (i = 0; id[i]; i++)
		if (i >= API_TASK_ID_MAX || !id_char(id[i]))
			return 0;
	return 1;
}

/* An output URL we are willing to keep and to show: a scheme (RFC 3986),
 * a host when it is http or https, printable ASCII only (no blanks, no
 * control characters). Whether its scheme may be fetched is for the
 * download to say (scheme.h): a file:// URL then fails the task with the
 * reason, where a refusal here would make the answer unreadable, polled
 * again and again. */
static int output_url_valid(const char *u)
{
	size_t scheme = strspn(u, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	size_t skip, i;

	if (scheme == 0 || u[scheme] != ':' ||
	    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
		    u[0]))
		return 0;
	if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else
		skip = scheme + 1;
	if (skip > scheme + 1 && (u[skip] == '\0' || u[skip] == '/'))
		return 0;
	for (i = skip; u[i]; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

int net_api_url_join(struct buf *out, const char *api_url, const char *path)
{
	size_t n = strlen(api_url);

	buf_reset(out);
	while (n > 0 && api_url[n - 1] == '/')
		n--;
	if (buf_add(out, api_url, n) < 0 || buf_addstr(out, path) < 0) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

int net_api_task_url(struct buf *out, const char *api_url, const char *task_id)
{
	if (!net_api_task_id_valid(task_id) ||
	    net_api_url_join(out, api_url, API_PATH_TASKS) < 0 ||
	    buf_addstr(out, task_id) < 0) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

/* ---- the request ---- */

/* The options' canonical JSON object is spliced into "input" after the
 * prompt, so what is sent is exactly what is compared and shown. */
int net_api_build_create(struct buf *out, const char *prompt, size_t prompt_len,
			 const struct job_opts *o)
{
	struct buf opts;
	int rc = -1;

	buf_reset(out);
	buf_init(&opts, out->max);
	if (core_opts_to_json(o, &opts) < 0 || opts.len < 2 ||
	    opts.data[0] != '{' || opts.data[opts.len - 1] != '}')
		goto out;
	if (buf_addstr(out, "{\"model\":\"" API_MODEL "\",\"input\":{") < 0)
		goto out;
	if (prompt_len > 0) {
		if (buf_addstr(out, "\"prompt\":") < 0 ||
		    json_add_string(out, prompt, prompt_len) < 0 ||
		    (opts.len > 2 && buf_addstr(out, ",") < 0))
			goto out;
	}
	/* the options' members and their closing brace, then ours */
	if (buf_add(out, opts.data + 1, opts.len - 1) < 0 ||
	    buf_addstr(out, "}") < 0)
		goto out;
	rc = 0;
out:
	buf_free(&opts);
	if (rc < 0)
		buf_reset(out);
	return rc;
}

int net_api_add_callback(struct buf *body, const char *url)
{
	if (body->len < 2 || body->data[body->len - 1] != '}')
		goto fail;
	body->len--; /* the object's closing brace, put back below */
	if (buf_addstr(body, ",\"callback_url\":") < 0 ||
	    json_add_cstr(body, url) < 0 || buf_addstr(body, "}") < 0)
		goto fail;
	return 0;
fail:
	buf_reset(body);
	return -1;
}

/* ---- reading answers ---- */

/* Parse body as a JSON object. what names the answer in err. */
static int answer_open(struct json_doc *doc, const char *body, size_t len,
		       const char *what, char *err, size_t errlen)
{
	if (!body || len == 0)
		return fail(err, errlen, "%s: empty", what);
	if (len > API_ANSWER_MAX)
		return fail(err, errlen, "%s: larger than %d bytes", what,
			    API_ANSWER_MAX);
	if (json_parse(doc, body, len, API_MAX_TOKENS) < 0)
		return fail(err, errlen, "%s: not JSON (or too complex)", what);
	if (!json_is_object(doc, 0)) {
		json_doc_free(doc);
		return fail(err, errlen, "%s: not a JSON object", what);
	}
	return 0;
}

/* The string member key of object obj, decoded (at most max bytes), or
 * NULL with err set. */
static char *member_string(const struct json_doc *doc, int obj, const char *key,
			   size_t max, const char *what, char *err,
			   size_t errlen)
{
	int i = json_get(doc, obj, key);
	char *s;

	if (i < 0) {
		fail(err, errlen, "%s: '%s' missing", what, key);
		return NULL;
	}
	if (!json_is_string(doc, i)) {
		fail(err, errlen, "%s: '%s' is not a string", what, key);
		return NULL;
	}
	s = json_get_string(doc, i, max);
	if (!s)
		fail(err, errlen, "%s: '%s' is too long or badly escaped", what,
		     key);
	return s;
}

/* The object member key of object obj: its index, or -1 with err set. */
static int member_object(const struct json_doc *doc, int obj, const char *key,
			 const char *what, char *err, size_t errlen)
{
	int i = json_get(doc, obj, key);

	if (i < 0)
		return fail(err, errlen, "%s: '%s' missing", what, key);
	if (!json_is_object(doc, i))
		return fail(err, errlen, "%s: '%s' is not an object", what,
			    key);
	return i;
}

/* The number member key of object obj in [lo, hi]. An absent (or null)
 * member is an error when required, else *out = dflt. */
static int member_number(const struct json_doc *doc, int obj, const char *key,
			 int required, double dflt, double lo, double hi,
			 double *out, const char *what, char *err,
			 size_t errlen)
{
	int i = json_get(doc, obj, key);

	*out = dflt;
	if (i < 0 || json_is_null(doc, i)) {
		if (required)
			return fail(err, errlen, "%s: '%s' missing", what, key);
		return 0;
	}
	if (json_get_number(doc, i, out) < 0) {
		*out = dflt;
		return fail(err, errlen, "%s: '%s' is not a number", what, key);
	}
	if (!isfinite(*out) || *out < lo || *out > hi) {
		*out = dflt;
		return fail(err, errlen, "%s: '%s' is out of range", what, key);
	}
	return 0;
}

/* The envelope's "code", when there is one, must say 200: a 2xx answer
 * carrying another code (and its "msg") is not a success. */
static int envelope_ok(const struct json_doc *doc, const char *what, char *err,
		       size_t errlen)
{
	char msg[128] = "";
	double code;
	char *s;
	int i = json_get(doc, 0, "code");

	if (i < 0)
		return 0;
	if (json_get_number(doc, i, &code) < 0)
		return fail(err, errlen, "%s: 'code' is not a number", what);
	if (code == 200)
		return 0;
	if (!isfinite(code) || fabs(code) > 1e9)
		return fail(err, errlen, "%s: 'code' is out of range", what);
	s = json_member_string(doc, 0, "msg", doc->len);
	if (s)
		sanitize_text(msg, sizeof(msg), s);
	free(s);
	return fail(err, errlen, "%s: code %.0f: %s", what, code,
		    msg[0] ? msg : "(no message)");
}

int net_api_parse_create(const char *body, size_t len, char *task_id,
			 size_t idsz, char *err, size_t errlen)
{
	static const char what[] = "create answer";
	struct json_doc doc;
	char *id = NULL;
	int data, rc = -1;

	if (idsz > 0)
		task_id[0] = '\0';
	if (answer_open(&doc, body, len, what, err, errlen) < 0)
		return -1;
	if (envelope_ok(&doc, what, err, errlen) < 0)
		goto out;
	data = member_object(&doc, 0, "data", what, err, errlen);
	if (data < 0)
		goto out;
	id = member_string(&doc, data, "taskId", API_URL_MAX, what, err,
			   errlen);
	if (!id)
		goto out;
	if (!net_api_task_id_valid(id)) {
		fail(err, errlen, "%s: 'taskId' is not a valid task id", what);
		goto out;
	}
	if (strlen(id) >= idsz) {
		fail(err, errlen, "%s: 'taskId' is too long", what);
		goto out;
	}
	memcpy(task_id, id, strlen(id) + 1);
	rc = 0;
out:
	free(id);
	json_doc_free(&doc);
	return rc;
}

static int task_status(const char *s, enum api_task_status *st)
{
	static const char *const words[] = {
		[API_PENDING] = "pending",
		[API_PROCESSING] = "processing",
		[API_COMPLETED] = "completed",
		[API_FAILED] = "failed",
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(s, words[i]) == 0) {
			*st = (enum api_task_status)i;
			return 0;
		}
	}
	return -1;
}

static int task_urls(const struct json_doc *doc, struct api_task *t,
		     const char *what, char *err, size_t errlen)
{
	int output, arr, n, k, i;
	char *u;

	output = member_object(doc, 0, "output", what, err, errlen);
	if (output < 0)
		return -1;
	arr = json_get(doc, output, "urls");
	if (arr < 0)
		return fail(err, errlen, "%s: 'urls' missing", what);
	n = json_array_len(doc, arr);
	if (n < 0)
		return fail(err, errlen, "%s: 'urls' is not an array", what);
	if (n == 0)
		return fail(err, errlen, "%s: completed without output URLs",
			    what);
	if (n > API_MAX_URLS)
		return fail(err, errlen, "%s: more than %d output URLs", what,
			    API_MAX_URLS);
	for (k = 0, i = arr + 1; k < n; k++, i = json_skip(doc, i)) {
		if (!json_is_string(doc, i))
			return fail(err, errlen,
				    "%s: output URL %d is not a string", what,
				    k + 1);
		u = json_get_string(doc, i, API_URL_MAX);
		if (!u)
			return fail(
				err, errlen,
				"%s: output URL %d is too long or badly escaped",
				what, k + 1);
		if (!output_url_valid(u)) {
			free(u);
			return fail(err, errlen,
				    "%s: output URL %d is not a plain URL",
				    what, k + 1);
		}
		t->urls[t->n_urls++] = u;
	}
	return 0;
}

/* How long the API says a completed task took: output.metadata.costTime.
 * Only a hint for the poll schedule, so anything odd is NaN, not an error:
 * the image is there all the same. */
static double task_cost_time(const struct json_doc *doc)
{
	int output = json_get(doc, 0, "output"), meta, i;
	double v;

	if (output < 0 || !json_is_object(doc, output))
		return NAN;
	meta = json_get(doc, output, "metadata");
	if (meta < 0 || !json_is_object(doc, meta))
		return NAN;
	i = json_get(doc, meta, "costTime");
	if (i < 0 || json_get_number(doc, i, &v) < 0 || !(v >= 0) ||
	    v > API_COST_TIME_MAX)
		return NAN;
	return v;
}

/* Why a task failed. The API's reason is shown, never trusted: a missing or
 * odd "error" still makes a failed task, with a reason of our own. */
static void task_error(const struct json_doc *doc, struct api_task *t)
{
	int e = json_get(doc, 0, "error");
	char *code = NULL, *msg = NULL;

	if (e >= 0 && json_is_object(doc, e)) {
		code = json_member_string(doc, e, "code", doc->len);
		msg = json_member_string(doc, e, "message", doc->len);
	} else if (e >= 0 && json_is_string(doc, e)) {
		msg = json_get_string(doc, e, doc->len);
	}
	sanitize_code(t->error_code, sizeof(t->error_code), code ? code : "");
	if (!t->error_code[0])
		snprintf(t->error_code, sizeof(t->error_code), "task_failed");
	sanitize_text(t->error_message, sizeof(t->error_message),
		      msg ? msg : "");
	if (!t->error_message[0])
		snprintf(t->error_message, sizeof(t->error_message),
			 "the API gave no reason");
	free(code);
	free(msg);
}

int net_api_parse_task(const char *body, size_t len, const char *expected_id,
		       struct api_task *t, char *err, size_t errlen)
{
	static const char what[] = "task answer";
	struct json_doc doc;
	char *s;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (answer_open(&doc, body, len, what, err, errlen) < 0)
		return -1;
	s = member_string(&doc, 0, "id", API_URL_MAX, what, err, errlen);
	if (!s)
		goto out;
	if (!net_api_task_id_valid(s)) {
		free(s);
		fail(err, errlen, "%s: 'id' is not a valid task id", what);
		goto out;
	}
	if (expected_id && strcmp(s, expected_id) != 0) {
		free(s);
		fail(err, errlen, "%s: 'id' is not the task asked for", what);
		goto out;
	}
	free(s);
	s = member_string(&doc, 0, "status", 64, what, err, errlen);
	if (!s)
		goto out;
	if (task_status(s, &t->status) < 0) {
		char word[32];

		sanitize_text(word, sizeof(word), s);
		free(s);
		fail(err, errlen, "%s: unknown status '%s'", what, word);
		goto out;
	}
	free(s);
	if (member_number(&doc, 0, "created_at", 0, 0, 0, API_TIME_MAX,
			  &t->created_at, what, err, errlen) < 0 ||
	    member_number(&doc, 0, "completed_at", 0, 0, 0, API_TIME_MAX,
			  &t->completed_at, what, err, errlen) < 0)
		goto out;
	if (t->status == API_COMPLETED &&
	    task_urls(&doc, t, what, err, errlen) < 0)
		goto out;
	t->cost_time = task_cost_time(&doc);
	if (t->status == API_FAILED)
		task_error(&doc, t);
	rc = 0;
out:
	json_doc_free(&doc);
	if (rc < 0)
		net_api_task_free(t);
	return rc;
}

void net_api_task_free(struct api_task *t)
{
	size_t i;

	for (i = 0; i < t->n_urls && i < API_MAX_URLS; i++) {
		free(t->urls[i]);
		t->urls[i] = NULL;
	}
	t->n_urls = 0;
}

int net_api_parse_credits(const char *body, size_t len, double *balance,
			  double *total_purchased, double *total_consumed,
			  char *err, size_t errlen)
{
	static const char what[] = "credits answer";
	struct json_doc doc;
	double purchased, consumed;
	int data, rc = -1;

	*balance = NAN;
	if (total_purchased)
		*total_purchased = NAN;
	if (total_consumed)
		*total_consumed = NAN;
	if (answer_open(&doc, body, len, what, err, errlen) < 0)
		return -1;
	if (envelope_ok(&doc, what, err, errlen) < 0)
		goto out;
	data = member_object(&doc, 0, "data", what, err, errlen);
	if (data < 0 ||
	    member_number(&doc, data, "balance", 1, NAN, -API_NUMBER_MAX,
			  API_NUMBER_MAX, balance, what, err, errlen) < 0 ||
	    member_number(&doc, data, "total_purchased", 0, NAN,
			  -API_NUMBER_MAX, API_NUMBER_MAX, &purchased, what,
			  err, errlen) < 0 ||
	    member_number(&doc, data, "total_consumed", 0, NAN, -API_NUMBER_MAX,
			  API_NUMBER_MAX, &consumed, what, err, errlen) < 0) {
		*balance = NAN;
		goto out;
	}
	if (total_purchased)
		*total_purchased = purchased;
	if (total_consumed)
		*total_consumed = consumed;
	rc = 0;
out:
	json_doc_free(&doc);
	return rc;
}

/* The documented error body, or failing that a top-level "msg"/"message"
 * (the success envelope's style). 0 when "error.code" was there. */
static int error_from_body(const struct json_doc *doc, struct api_error *e)
{
	int obj = json_get(doc, 0, "error");
	char *code = NULL, *msg = NULL, *type = NULL;

	if (obj >= 0 && json_is_object(doc, obj)) {
		code = json_member_string(doc, obj, "code", doc->len);
		msg = json_member_string(doc, obj, "message", doc->len);
		type = json_member_string(doc, obj, "type", doc->len);
	} else {
		msg = json_member_string(doc, 0, "msg", doc->len);
		if (!msg)
			msg = json_member_string(doc, 0, "message", doc->len);
	}
	if (code)
		sanitize_code(e->code, sizeof(e->code), code);
	if (msg)
		sanitize_text(e->message, sizeof(e->message), msg);
	if (type)
		sanitize_code(e->type, sizeof(e->type), type);
	free(code);
	free(msg);
	free(type);
	return e->code[0] ? 0 : -1;
}

int net_api_parse_error(long http_status, const char *body, size_t len,
			struct api_error *e)
{
	struct json_doc doc;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	e->http_status = http_status;
	if (body && len > 0 && len <= API_ANSWER_MAX &&
	    json_parse(&doc, body, len, API_MAX_TOKENS) == 0) {
		if (json_is_object(&doc, 0))
			rc = error_from_body(&doc, e);
		json_doc_free(&doc);
	}
	if (!e->code[0])
		snprintf(e->code, sizeof(e->code), "http_%ld", http_status);
	if (!e->message[0])
		snprintf(e->message, sizeof(e->message), "HTTP %ld %s",
			 http_status,
			 !body || len == 0 ? "with an empty body" :
			 rc == 0	   ? "without a message" :
					     "with an unreadable body");
	return rc;
}
