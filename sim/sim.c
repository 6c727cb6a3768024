/* The simulator's server: options, start and stop, and the life of one
 * request in libmicrohttpd (headers → body → fault → endpoint → answer).
 * One thread per connection, so that a stalled answer blocks no other. */
#include "sim_int.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECTION_TIMEOUT_S 60
#define LOG_PATH_MAX 120

void sim_options_default(struct sim_options *o)
{
	o->bind_addr = "127.0.0.1";
	o->port = 0;
	o->api_key = "sk-sim-0000000000000000";
	o->pending_seconds = 1;
	o->processing_seconds = 2;
	o->balance = 10000;
	o->file_host = "localhost";
	o->image_scale = 1;
	o->max_rate = 0;
	o->max_tasks = 0;
	o->duration_spread = 0;
	o->callback_drop = 0;
	o->seed = 1;
	o->verbose = false;
}

uint16_t sim_port(const struct sim *s)
{
	return s->port;
}

int sim_pause(struct sim *s, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping &&
	       pthread_cond_timedwait(&s->stop, &s->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->lock);
	return s->stopping ? -1 : 0;
}

void sim_limits_reset(struct sim *s)
{
	sim_bucket_set(&s->bucket, s->opt.max_rate, sim_monotonic());
	s->max_tasks = s->opt.max_tasks;
	s->duration_spread = s->opt.duration_spread;
	s->callback_drop = s->opt.callback_drop;
	/* two streams, so that the drops do not shift the durations */
	sim_rng_seed(&s->duration_rng, s->opt.seed);
	sim_rng_seed(&s->callback_rng, s->opt.seed ^ 0x5bd1e9955bd1e995u);
}

void sim_throttle(struct sim_req *r, double wait, const char *message)
{
	sim_reply_error(&r->reply, 429, "rate_limit_exceeded", message);
	snprintf(r->reply.retry_after, sizeof(r->reply.retry_after), "%u",
		 sim_retry_after(wait));
}

static enum sim_endpoint classify(const char *path)
{
	if (strcmp(path, "/v1/images/generations") == 0)
		return SIM_EP_CREATE;
	if (strncmp(path, "/v1/tasks/", 10) == 0)
		return SIM_EP_TASK;
	if (strcmp(path, "/v1/credits") == 0)
		return SIM_EP_CREDITS;
	if (strncmp(path, "/files/", 7) == 0)
		return SIM_EP_FILE;
	if (strncmp(path, "/_sim/", 6) == 0)
		return SIM_EP_CONTROL;
	return SIM_EP_OTHER;
}

static bool is_get(const struct sim_req *r)
{
	return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static void check_auth(struct sim_req *r, struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	r->has_auth = h != NULL;
	r->auth_ok = h && strncasecmp(h, "Bearer ", 7) == 0 &&
		     strcmp(h + 7, r->sim->api_key) == 0;
}

/* The counters count every request that arrives, faulted or not. */
static void count_request(struct sim *s, const struct sim_req *r)
{
	struct sim_counters *c = &s->record.count;

	if (r->ep == SIM_EP_CREATE && strcmp(r->method, "POST") == 0)
		c->create_requests++;
	else if (r->ep == SIM_EP_TASK && is_get(r))
		c->polls++;
	else if (r->ep == SIM_EP_CREDITS && is_get(r))
		c->credits_reads++;
	else if (r->ep == SIM_EP_FILE && is_get(r))
		c->downloads++;
	if (r->ep == SIM_EP_FILE && r->has_auth)
		c->auth_on_files++;
}

static void req_free(struct sim_req *r)
{
	free(r->path);
	buf_free(&r->body);
	sim_reply_free(&r->reply);
	free(r);
}

static struct sim_req *req_new(struct sim *s, struct MHD_Connection *conn,
			       const char *url, const char *method)
{
	struct sim_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sim = s;
	r->path = strdup(url);
	if (!r->path) {
		free(r);
		return NULL;
	}
	snprintf(r->method, sizeof(r->method), "%s", method);
	r->ep = classify(url);
	buf_init(&r->body, SIM_BODY_MAX);
	sim_reply_init(&r->reply);
	check_auth(r, conn);
	pthread_mutex_lock(&s->lock);
	count_request(s, r);
	sim_faults_take(&s->faults, r->ep, &r->fault);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void take_body(struct sim_req *r, const char *data, size_t len)
{
	if (!r->body_too_large && buf_add(&r->body, data, len) < 0)
		r->body_too_large = true;
}

static void method_not_allowed(struct sim_req *r, const char *allow)
{
	sim_reply_error(&r->reply, 405, "method_not_allowed",
			"Method not allowed on this endpoint.");
	r->reply.allow = allow;
}

/* --max-rate: every /v1/ request with the key takes a token. */
static bool rate_allows(struct sim_req *r)
{
	struct sim *s = r->sim;
	double wait = 0;
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = sim_bucket_take(&s->bucket, sim_monotonic(), &wait);
	pthread_mutex_unlock(&s->lock);
	if (!ok)
		sim_throttle(r, wait, sim_error_message("rate_limit_exceeded"));
	return ok;
}

static void dispatch_api(struct sim_req *r)
{
	if (!r->auth_ok) {
		sim_reply_error(
			&r->reply, 401, "invalid_api_key",
			r->has_auth ? "Invalid API key. Keys start with sk-." :
				      "Missing API key: send Authorization: "
				      "Bearer sk-...");
	} else if (!rate_allows(r)) {
		return;
	} else if (r->ep == SIM_EP_CREATE) {
		if (strcmp(r->method, "POST") == 0)
			sim_api_create(r);
		else
			method_not_allowed(r, "POST");
	} else if (r->ep == SIM_EP_TASK || r->ep == SIM_EP_CREDITS) {
		if (!is_get(r))
			method_not_allowed(r, "GET");
		else if (r->ep == SIM_EP_TASK)
			sim_api_task(r, r->path + strlen("/v1/tasks/"));
		else
			sim_api_credits(r);
	} else {
		sim_reply_error(&r->reply, 404, "not_found",
				"No such endpoint.");
	}
}

static void dispatch(struct sim_req *r)
{
	if (r->ep == SIM_EP_CONTROL)
		sim_control(r, r->path + strlen("/_sim/"));
	else if (r->ep == SIM_EP_FILE && !is_get(r))
		method_not_allowed(r, "GET, HEAD");
	else if (r->ep == SIM_EP_FILE)
		sim_api_file(r, r->path + strlen("/files/"));
	else if (strncmp(r->path, "/v1/", 4) == 0)
		dispatch_api(r);
	else
		sim_reply_error(&r->reply, 404, "not_found",
				"No such endpoint.");
}

/* A 200 whose body is the first half of the real one: never valid JSON,
 * as a JSON object's every proper prefix is broken. */
static void malform(struct sim_reply *rep)
{
	struct buf half;

	buf_init(&half, rep->body.max);
	if (buf_add(&half, buf_str(&rep->body), rep->body.len / 2) == 0 &&
	    (half.len > 0 || buf_addstr(&half, "{") == 0))
		sim_reply_json(rep, &half);
	rep->status = 200;
	buf_free(&half);
}

static enum MHD_Result answer(struct sim_req *r, struct MHD_Connection *conn)
{
	struct sim *s = r->sim;
	const struct sim_fault *f = &r->fault;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (f->action == SIM_FAULT_ERROR)
		sim_reply_error(&r->reply, f->status, f->code, f->message);
	else if (f->action == SIM_FAULT_REDIRECT)
		sim_reply_redirect(&r->reply, f->status, f->location);
	else if (r->body_too_large)
		sim_reply_error(&r->reply, 400, "invalid_request",
				"The request body is larger than 1 MiB.");
	else
		dispatch(r);
	if (f->retry_after[0])
		snprintf(r->reply.retry_after, sizeof(r->reply.retry_after),
			 "%s", f->retry_after);
	if (f->action == SIM_FAULT_MALFORMED)
		malform(&r->reply);
	pthread_mutex_lock(&s->lock);
	if (r->reply.status == 429)
		s->record.count.answers_429++;
	if (r->ep == SIM_EP_CREATE && strcmp(r->method, "POST") == 0) {
		if (r->reply.status == 429)
			s->record.count.creates_429++;
		sim_record_request(&s->record, r->reply.status,
				   buf_str(&r->body), r->body.len);
	}
	pthread_mutex_unlock(&s->lock);
	if (f->action == SIM_FAULT_DROP_AFTER)
		return MHD_NO;
	if (f->action == SIM_FAULT_STALL && sim_pause(s, f->delay_ms) < 0)
		return MHD_NO;
	resp = sim_reply_response(&r->reply, f, s);
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, r->reply.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD calls this first with the headers, then with each piece of the body,
 * then once more with nothing: that last call answers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sim_req *r = *con_cls;

	(void)version;
	if (!r) {
		r = req_new(cls, conn, url, method);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		return r->fault.action == SIM_FAULT_DROP_BEFORE ? MHD_NO :
								  MHD_YES;
	}
	if (*upload_size) {
		take_body(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return answer(r, conn);
}

static void log_request(const struct sim_req *r,
			enum MHD_RequestTerminationCode toe)
{
	char path[LOG_PATH_MAX + 1];
	size_t n = 0;

	/* the path is the client's: keep the log line one printable line */
	for (const char *p = r->path; *p && n < LOG_PATH_MAX; p++)
		path[n++] = (*p > ' ' && *p < 0x7f) ? *p : '?';
	path[n] = '\0';
	fprintf(stderr, "gptimgfs-sim: %s %s -> %u%s\n", r->method, path,
		r->reply.status,
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ?
			"" :
			" (connection closed)");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sim *s = cls;
	struct sim_req *r = *con_cls;

	(void)conn;
	if (!r)
		return;
	if (s->opt.verbose)
		log_request(r, toe);
	req_free(r);
	*con_cls = NULL;
}

static bool is_loopback(const char *addr, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 &&
	       (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

/* Host names go into URLs and JSON unescaped: letters, digits, - and . */
static bool is_host_name(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n < 254 &&
	       strspn(h, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

static bool is_key(const char *k)
{
	if (!k || strncmp(k, "sk-", 3) != 0 || strlen(k) > 256)
		return false;
	for (; *k; k++)
		if (*k <= ' ' || *k >= 0x7f)
			return false;
	return true;
}

static int check_options(const struct sim_options *o, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	const char *what = NULL;

	if (!o->bind_addr || !is_loopback(o->bind_addr, &sin))
		what = "the bind address must be an IPv4 loopback address";
	else if (!is_key(o->api_key))
		what = "the API key must start with sk- and have no spaces";
	else if (!o->file_host || !is_host_name(o->file_host))
		what = "the file host must be a host name";
	else if (!(o->pending_seconds >= 0 && o->pending_seconds <= 1e6) ||
		 !(o->processing_seconds >= 0 && o->processing_seconds <= 1e6))
		what = "timings must be 0..1000000 seconds";
	else if (!(o->balance >= 0 && o->balance <= 1e12))
		what = "the balance must be 0..1e12";
	else if (!(o->image_scale > 0 && o->image_scale <= 1))
		what = "the image scale must be in (0, 1]";
	else if (!(o->max_rate >= 0 && o->max_rate <= 1e6))
		what = "the request rate must be 0..1000000";
	else if (o->max_tasks > SIM_TASKS_MAX)
		what = "the task limit must be 0..100000";
	else if (!(o->duration_spread >= 0 && o->duration_spread <= 1))
		what = "the duration spread must be in [0, 1]";
	else if (!(o->callback_drop >= 0 && o->callback_drop <= 1))
		what = "the callback drop chance must be in [0, 1]";
	if (what)
		snprintf(err, errlen, "simulator: %s", what);
	return what ? -1 : 0;
}

static int init_state(struct sim *s, const struct sim_options *o)
{
	pthread_condattr_t ca;

	s->opt = *o;
	s->bind_addr = strdup(o->bind_addr);
	s->api_key = strdup(o->api_key);
	s->file_host = strdup(o->file_host);
	if (!s->bind_addr || !s->api_key || !s->file_host)
		return -1;
	s->opt.bind_addr = s->bind_addr;
	s->opt.api_key = s->api_key;
	s->opt.file_host = s->file_host;
	s->pending_s = o->pending_seconds;
	s->processing_s = o->processing_seconds;
	s->image_scale = o->image_scale;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_cond_init(&s->stop, &ca);
	pthread_condattr_destroy(&ca);
	sim_tasks_init(&s->tasks, llround(o->balance * 1000));
	sim_faults_init(&s->faults);
	sim_record_init(&s->record);
	sim_limits_reset(s);
	return 0;
}

static int start_daemon(struct sim *s, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sin;

	is_loopback(s->bind_addr, &sin);
	sin.sin_port = htons(s->opt.port);
	if (s->opt.verbose)
		flags |= MHD_USE_ERROR_LOG;
	s->daemon = MHD_start_daemon(
		flags, s->opt.port, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "simulator: cannot listen on %s:%u",
			 s->bind_addr, s->opt.port);
		return -1;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : s->opt.port;
	snprintf(s->file_base, sizeof(s->file_base), "http://%s:%u/files/",
		 s->file_host, s->port);
	return 0;
}

struct sim *sim_start(const struct sim_options *o, char *err, size_t errlen)
{
	struct sim *s;

	if (check_options(o, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || init_state(s, o) < 0) {
		snprintf(err, errlen, "simulator: out of memory");
		if (s) {
			free(s->bind_addr);
			free(s->api_key);
			free(s->file_host);
		}
		free(s);
		return NULL;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (start_daemon(s, err, errlen) < 0) {
		sim_stop(s);
		return NULL;
	}
	if (pthread_create(&s->worker, NULL, sim_worker_main, s) != 0) {
		snprintf(err, errlen, "simulator: cannot start a thread");
		sim_stop(s);
		return NULL;
	}
	s->worker_started = true;
	return s;
}

void sim_stop(struct sim *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	pthread_cond_broadcast(&s->stop);
	pthread_mutex_unlock(&s->lock);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	if (s->worker_started)
		pthread_join(s->worker, NULL);
	sim_tasks_free(&s->tasks);
	sim_record_free(&s->record);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->stop);
	pthread_mutex_destroy(&s->lock);
	free(s->bind_addr);
	free(s->api_key);
	free(s->file_host);
	free(s);
	curl_global_cleanup();
}
