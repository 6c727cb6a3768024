/* The callback receiver (callback.h): the checks run in the order of
 * their cost, so that a flood is answered with the least work: the peer's
 * rate, the method, the path and its token, the declared size; then the
 * body, bounded as it comes. */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "callback.h"
#include "net.h"
#include "peers.h"
#include "timer.h"
#include "core/jobs.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

#define CB_JSON_TOKENS 256 /* a task's answer needs a few dozen */
#define CB_LISTEN_BACKLOG 64
#define CB_SKIP_MAX (4 * NET_CB_BODY_MAX)

struct net_receiver {
	struct MHD_Daemon *mhd;
	char token[CORE_CALLBACK_TOKEN_LEN + 1];
	net_hint_fn *hint;
	void *ctx;
	struct net_peers peers; /* the receiver's thread only */
};

/* One request: its body so far, or the answer already decided. */
struct cb_req {
	struct buf body;
	unsigned status; /* 413 once the body is over the limit */
	size_t skipped;	 /* bytes thrown away since */
};

/* ---- the socket, before the fork ---- */

/* "HOST:PORT" or "[V6]:PORT" into host and port (config/ checked it). */
static int split(const char *address, char *host, size_t hostsz,
		 const char **port)
{
	const char *colon = strrchr(address, ':');
	size_t start = address[0] == '[', len;

	if (!colon)
		return -1;
	len = (size_t)(colon - address) - 2 * start;
	if (len == 0 || len >= hostsz || (start && colon[-1] != ']'))
		return -1;
	memcpy(host, address + start, len);
	host[len] = '\0';
	*port = colon + 1;
	return 0;
}

static int bind_one(const struct addrinfo *ai, int *err)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			ai->ai_protocol);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, CB_LISTEN_BACKLOG) < 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

int net_callback_listen(const char *address, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*res = NULL, *ai;
	char host[256];
	const char *port;
	int fd = -1, rc, e = 0;

	if (split(address, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "not ADDRESS:PORT");
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = bind_one(ai, &e);
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s", strerror(e ? e : EADDRNOTAVAIL));
	return fd;
}

/* ---- the checks ---- */

/* A comparison that takes as long wherever the first difference is, so
 * that the token cannot be guessed a character at a time. */
static bool same_secret(const char *a, const char *b, size_t len)
{
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* The path ends in NET_CB_PATH and the token; whatever is before it is a
 * reverse proxy's prefix, kept or not. */
static bool path_ok(const struct net_receiver *r, const char *url)
{
	size_t plen = sizeof(NET_CB_PATH) - 1, tlen = strlen(r->token);
	size_t len = strlen(url);

	if (len < plen + tlen)
		return false;
	url += len - plen - tlen;
	return memcmp(url, NET_CB_PATH, plen) == 0 &&
	       same_secret(url + plen, r->token, tlen);
}

static bool peer_ok(struct net_receiver *r, struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	unsigned char key[NET_PEER_KEY];

	net_peers_key(ci ? ci->client_addr : NULL,
		      ci ? sizeof(struct sockaddr_storage) : 0, key);
	return net_peers_allow(&r->peers, key, net_timer_now());
}

/* A Content-Length over the limit is refused before a byte is read. */
static bool size_ok(struct MHD_Connection *con)
{
	const char *cl = MHD_lookup_connection_value(
		con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	size_t len = cl ? strlen(cl) : 0;

	/* none (chunked), or not a number (MHD refuses it itself) */
	if (!cl || strspn(cl, "0123456789") != len)
		return true;
	return len < 7 && strtoul(cl, NULL, 10) <= NET_CB_BODY_MAX;
}

/* What the headers alone decide: 0 to read the body. */
static unsigned first_look(struct net_receiver *r, struct MHD_Connection *con,
			   const char *url, const char *method)
{
	if (!peer_ok(r, con))
		return MHD_HTTP_TOO_MANY_REQUESTS;
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	if (!path_ok(r, url))
		return MHD_HTTP_NOT_FOUND;
	if (!size_ok(con))
		return MHD_HTTP_CONTENT_TOO_LARGE;
	return 0;
}

/* The body: a JSON object with a valid task id in "id". The rest of it
 * (a status, image URLs) is not looked at: the poll it leads to asks the
 * API. */
static unsigned take(struct net_receiver *r, const struct buf *body)
{
	struct json_doc doc;
	char *id = NULL;
	unsigned status = MHD_HTTP_BAD_REQUEST;

	if (json_parse(&doc, buf_str(body), body->len, CB_JSON_TOKENS) < 0)
		return status;
	if (json_is_object(&doc, 0))
		id = json_member_string(&doc, 0, "id", API_TASK_ID_MAX + 1);
	if (id && net_api_task_id_valid(id)) {
		r->hint(r->ctx, id);
		status = MHD_HTTP_NO_CONTENT;
	}
	free(id);
	json_doc_free(&doc);
	return status;
}

static enum MHD_Result answer(struct MHD_Connection *con, unsigned status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					MHD_HTTP_METHOD_POST);
	rc = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct net_receiver *r = cls;
	struct cb_req *q = *con_cls;
	unsigned status;

	(void)version;
	if (!q) {
		status = first_look(r, con, url, method);
		if (status)
			return answer(con, status);
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		buf_init(&q->body, NET_CB_BODY_MAX);
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* past the limit (a chunked body): the rest is read and
		 * thrown away, so that the client sees the 413, up to
		 * CB_SKIP_MAX more; then the connection is cut (gptimgfs(1),
		 * CALLBACKS, 413: keep the numbers there with these) */
		if (q->status ||
		    buf_add(&q->body, upload_data, *upload_data_size) < 0) {
			q->status = MHD_HTTP_CONTENT_TOO_LARGE;
			q->skipped += *upload_data_size;
			if (q->skipped > CB_SKIP_MAX)
				return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer(con, q->status ? q->status : take(r, &q->body));
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct cb_req *q = *con_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (!q)
		return;
	buf_free(&q->body);
	free(q);
	*con_cls = NULL;
}

/* ---- start and stop ---- */

/* libmicrohttpd's own messages ("Server reached connection limit", ...):
 * into the daemon's log at debug level, as a client can cause them at
 * will; without this logger they go to stderr with no prefix. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t len;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	log_debug("callback receiver: %s", line);
}

struct net_receiver *net_receiver_start(int fd, const char *token,
					net_hint_fn *hint, void *ctx, char *err,
					size_t errlen)
{
	struct net_receiver *r = calloc(1, sizeof(*r));

	if (!r) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(r->token, sizeof(r->token), "%s", token);
	r->hint = hint;
	r->ctx = ctx;
	r->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, handle, r, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)NET_CB_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)NET_CB_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)NET_CB_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, completed, r,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!r->mhd) {
		close(fd);
		free(r);
		snprintf(err, errlen, "cannot start the callback receiver");
		return NULL;
	}
	return r;
}

void net_receiver_stop(struct net_receiver *r)
{
	if (!r)
		return;
	MHD_stop_daemon(r->mhd);
	explicit_bzero(r->token, sizeof(r->token));
	free(r);
}
