/* sim/: what tests steer and read: fault rules, introspection, callbacks
 * and the options' bounds. */
#include "sim_fixture.h"

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

int main(void)
{
	struct sim *s = sim_fixture_start();

	if (!s)
		return check_result("test_sim_control");
	test_faults();
	test_introspection();
	test_callback();
	test_options();
	sim_fixture_stop(s);
	return check_result("test_sim_control");
}
