/* The API's requests and answers as bytes: the body of a task creation, the
 * URLs, and parsers for every answer (task creation, task query, balance,
 * error). No curl and no I/O here: the network thread moves the bytes.
 * Every answer is hostile: parsers cap tokens and lengths, validate what
 * later becomes a URL path, a file name or a status line, and say in a few
 * words what was wrong ("task answer: 'status' missing"), to be shown as
 * "error: bad_response: <err>". */
#ifndef GPTIMGFS_API_H
#define GPTIMGFS_API_H

#include <stddef.h>

#include "core/opts.h"
#include "net/net.h"
#include "util/buf.h"

#define API_MODEL NET_MODEL
#define API_PATH_CREATE "/v1/images/generations"
#define API_PATH_TASKS "/v1/tasks/"
#define API_PATH_CREDITS "/v1/credits"

/* Upper bounds for the network thread's in-memory bodies: a creation
 * request (20,000 code points, each escaped to at most 6 bytes, plus the
 * options) and any answer of the API. */
#define API_REQUEST_MAX (512 * 1024)
#define API_ANSWER_MAX (256 * 1024)

#define API_TASK_ID_MAX 128 /* the same as the core's TASK_ID_MAX */
#define API_MAX_URLS 16
#define API_URL_MAX 8192
#define API_CODE_MAX 64
#define API_MESSAGE_MAX 512
#define API_COST_TIME_MAX 1e9

/* A task id is 1..API_TASK_ID_MAX characters of [A-Za-z0-9._-], the first
 * not a '.' (no ".", "..", hidden names): it goes into a URL path and a
 * file name. */
int net_api_task_id_valid(const char *id);

/* api_url + path ("https://api.aivideoapi.ai" + API_PATH_CREDITS), without
 * a doubled slash. out is reset first. 0, or -1 when out is full. */
int net_api_url_join(struct buf *out, const char *api_url, const char *path);
/* api_url + "/v1/tasks/" + task_id. -1 also when the id is not valid. */
int net_api_task_url(struct buf *out, const char *api_url, const char *task_id);

/* The body of POST /v1/images/generations: {"model":"gpt-image-2","input":
 * {"prompt":...,"aspect_ratio":...,"resolution":...,"nsfw_checker":...
 * [,"image_urls":[...]]}}. "prompt" is left out when prompt_len is 0 (an
 * image edit without text); callback_url is net_api_add_callback's. out is
 * reset first; 0, or -1 when out's maximum is reached. */
int net_api_build_create(struct buf *out, const char *prompt, size_t prompt_len,
			 const struct job_opts *o);

/* With callbacks on: body, as net_api_build_create made it, gets a last
 * member "callback_url" (gptimgfs(1), CALLBACKS). 0, or -1 when body's
 * maximum is reached (body is then reset). */
int net_api_add_callback(struct buf *body, const char *url);

/* A 2xx answer to a task creation: {"code":200,"msg":"success","data":
 * {"taskId":"..."}}. task_id receives a valid id (idsz > API_TASK_ID_MAX).
 * 0, or -1 with err set. Note that after -1 the task may still exist. */
int net_api_parse_create(const char *body, size_t len, char *task_id,
			 size_t idsz, char *err, size_t errlen);

enum api_task_status {
	API_PENDING,
	API_PROCESSING,
	API_COMPLETED,
	API_FAILED,
};

struct api_task {
	enum api_task_status status;
	size_t n_urls;		  /* > 0 exactly when completed */
	char *urls[API_MAX_URLS]; /* malloc'd, http(s), no blanks */
	/* when failed: printable, cut to size; the code only [A-Za-z0-9._-] */
	char error_code[API_CODE_MAX];
	char error_message[API_MESSAGE_MAX];
	double created_at, completed_at; /* Unix time, 0 when absent */
	/* when completed: output.metadata.costTime, seconds; NaN when
	 * absent or not a number from 0 to API_COST_TIME_MAX (a hint
	 * for the poll schedule: never a reason to refuse the answer) */
	double cost_time;
};

/* A 2xx answer to GET /v1/tasks/{id}. expected_id (may be NULL) must equal
 * the answer's "id". t is overwritten (free an earlier result first); on
 * -1 it holds nothing to free. 0, or -1 with err set. */
int net_api_parse_task(const char *body, size_t len, const char *expected_id,
		       struct api_task *t, char *err, size_t errlen);
void net_api_task_free(struct api_task *t);

/* A 2xx answer to GET /v1/credits: {"code":200,"msg":"success","data":
 * {"balance":9800,"total_purchased":10000,"total_consumed":200}}, numbers
 * read as decimals. Only the balance is required; total_purchased and
 * total_consumed (either may be NULL) are NAN when absent. 0, or -1 with
 * err set. */
int net_api_parse_credits(const char *body, size_t len, double *balance,
			  double *total_purchased, double *total_consumed,
			  char *err, size_t errlen);

struct api_error {
	long http_status;
	char code[API_CODE_MAX]; /* "insufficient_credits", "http_502" */
	char message[API_MESSAGE_MAX];
	char type[API_CODE_MAX]; /* "billing_error", or "" */
};

/* A non-2xx answer: {"error":{"code":...,"message":...,"type":...}}. e is
 * always filled; when the body lacks the code it comes from the status
 * ("http_502", "HTTP 502 with an unreadable body"). 0 when the body had
 * the documented shape, -1 when the status had to stand in. */
int net_api_parse_error(long http_status, const char *body, size_t len,
			struct api_error *e);

#endif
