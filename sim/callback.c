/* Posting a task callback with libcurl's easy interface. */
#include "callback.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALLBACK_BODY_MAX (64u << 10)
#define CONNECT_TIMEOUT_S 5L
#define TOTAL_TIMEOUT_S 10L

int sim_callback_prepare(struct sim_callback *cb, const struct sim_task *task,
			 double now, const char *file_base)
{
	memset(cb, 0, sizeof(*cb));
	buf_init(&cb->body, CALLBACK_BODY_MAX);
	cb->url = strdup(task->callback_url);
	cb->event = sim_task_state(task, now) == SIM_FAILED ? "task.failed" :
							      "task.completed";
	memcpy(cb->task_id, task->id, sizeof(cb->task_id));
	if (!cb->url || sim_task_json(&cb->body, task, now, file_base) < 0) {
		sim_callback_free(cb);
		return -1;
	}
	return 0;
}

void sim_callback_free(struct sim_callback *cb)
{
	free(cb->url);
	cb->url = NULL;
	buf_free(&cb->body);
}

static size_t discard(char *data, size_t size, size_t n, void *cls)
{
	(void)data;
	(void)cls;
	return size * n;
}

/* Abort the transfer when the simulator stops. */
static int progress(void *cls, curl_off_t dltotal, curl_off_t dlnow,
		    curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_bool *stopping = cls;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return *stopping ? 1 : 0;
}

static struct curl_slist *headers_for(const struct sim_callback *cb)
{
	char lines[4][96];
	struct curl_slist *h = NULL, *next;

	snprintf(lines[0], sizeof(lines[0]), "Content-Type: application/json");
	snprintf(lines[1], sizeof(lines[1]), "X-Event: %s", cb->event);
	snprintf(lines[2], sizeof(lines[2]), "X-Task-Id: %s", cb->task_id);
	snprintf(lines[3], sizeof(lines[3]), "X-Timestamp: %lld",
		 (long long)time(NULL));
	for (int i = 0; i < 4; i++) {
		next = curl_slist_append(h, lines[i]);
		if (!next) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = next;
	}
	return h;
}

bool sim_callback_post(const struct sim_callback *cb,
		       const atomic_bool *stopping, bool verbose)
{
	struct curl_slist *headers = headers_for(cb);
	CURL *curl = curl_easy_init();
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	long status = 0;

	if (curl && headers) {
		curl_easy_setopt(curl, CURLOPT_URL, cb->url);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
				 CONNECT_TIMEOUT_S);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, buf_str(&cb->body));
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
				 (long)cb->body.len);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)stopping);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		rc = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	}
	if (verbose)
		fprintf(stderr, "gptimgfs-sim: callback %s for %s: %s (%ld)\n",
			cb->event, cb->task_id, curl_easy_strerror(rc), status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	return rc == CURLE_OK && status >= 200 && status < 300;
}
