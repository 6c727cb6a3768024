/* One HTTP transfer on a curl easy handle: see transfer.h. */
#include "transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "api.h"

#define XFER_CONNECT_TIMEOUT 10L
#define XFER_LOW_SPEED_LIMIT 1L	      /* bytes a second ... */
#define XFER_LOW_SPEED_TIME 30L	      /* ... for this long: stalled */
#define XFER_DOWNLOAD_LOW_SPEED 4096L /* an image trickling slower */
#define XFER_DISK_CHECK (1024 * 1024) /* look at free space this often */
#define XFER_DOWNLOAD_TIMEOUT 600L
#define XFER_MAX_REDIRS 5L

void net_xfer_pool_init(struct xfer_pool *p)
{
	p->n = 0;
}

void net_xfer_pool_free(struct xfer_pool *p)
{
	while (p->n)
		curl_easy_cleanup(p->idle[--p->n]);
}

static size_t write_answer(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb;

	if (buf_add(&x->answer, data, len) < 0) {
		x->too_big = true;
		return 0; /* curl ends the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

/* Keep the first bytes; once there are enough, are they an image's? An
 * error answer's body is none, and need not be. */
static bool looks_like_image(struct xfer *x, const char *data, size_t len)
{
	size_t n = sizeof(x->head) - x->head_len;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (n == 0 || status < 200 || status > 299)
		return true;
	if (n > len)
		n = len;
	memcpy(x->head + x->head_len, data, n);
	x->head_len += n;
	/* a shorter body is judged whole, by the core */
	return x->head_len < sizeof(x->head) ||
	       core_sniff_image(x->head, x->head_len) != NULL;
}

/* Would len more bytes eat into the reserve of fd's file system
 * (XFER_DISK_RESERVE, or a twentieth of a small one)? Looked at before the
 * first bytes and after every XFER_DISK_CHECK more. */
static bool disk_nearly_full(struct xfer *x, size_t len)
{
	unsigned long long reserve = XFER_DISK_RESERVE;
	struct statvfs sv;

	if (x->received > 0 &&
	    (x->received + (curl_off_t)len) / XFER_DISK_CHECK ==
		    x->received / XFER_DISK_CHECK)
		return false;
	if (fstatvfs(x->fd, &sv) < 0)
		return false; /* write(2) will say what is wrong */
	if (reserve > (unsigned long long)sv.f_blocks * sv.f_frsize / 20)
		reserve = (unsigned long long)sv.f_blocks * sv.f_frsize / 20;
	return (unsigned long long)sv.f_bavail * sv.f_frsize < reserve + len;
}

/* CURLOPT_MAXFILESIZE only sees a Content-Length: a chunked body is
 * capped here. */
static size_t write_file(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb, done = 0;

	if ((curl_off_t)len > x->rules.max_bytes - x->received) {
		x->too_big = true;
		return 0;
	}
	if (!looks_like_image(x, data, len)) {
		x->not_image = true;
		return 0;
	}
	if (disk_nearly_full(x, len)) {
		x->disk_full = true;
		return 0;
	}
	while (done < len) {
		ssize_t n = write(x->fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			x->write_errno = n < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)n;
	}
	x->received += (curl_off_t)len;
	return len;
}

/* The schemes a transfer and its redirects (if followed) may use. */
static void set_protocols(CURL *e, bool plain_http)
{
#if CURL_AT_LEAST_VERSION(7, 85, 0)
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
			 plain_http ? "http,https" : "https");
	/* a redirect never downgrades https to http */
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
			 plain_http ? "http" : "https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
			 plain_http ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) :
				      (long)CURLPROTO_HTTPS);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS,
			 plain_http ? (long)CURLPROTO_HTTP :
				      (long)CURLPROTO_HTTPS);
#endif
}

static struct xfer *xfer_new(struct xfer_pool *p, const char *url, long timeout)
{
	struct xfer *x = calloc(1, sizeof(*x));
	CURL *e;

	if (!x)
		return NULL;
	e = p->n ? p->idle[--p->n] : curl_easy_init();
	if (!e) {
		free(x);
		return NULL;
	}
	x->easy = e;
	x->fd = -1;
	buf_init(&x->answer, API_ANSWER_MAX);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	set_protocols(e, true);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, XFER_CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, XFER_LOW_SPEED_LIMIT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, XFER_LOW_SPEED_TIME);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "gptimgfs/" GPTIMGFS_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK) {
		net_xfer_free(p, x);
		return NULL;
	}
	return x;
}

struct xfer *net_xfer_api(struct xfer_pool *p, const char *url,
			  const struct curl_slist *headers, const char *post,
			  size_t postlen, long timeout)
{
	struct xfer *x = xfer_new(p, url, timeout);

	if (!x)
		return NULL;
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_answer);
	/* the key goes to api_url and nowhere else: no redirects */
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, headers);
	/* plain http carries the key to loopback only: never via a proxy */
	if (strncasecmp(url, "http://", 7) == 0)
		curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
	if (post) {
		/* curl sends a request again by itself when a reused
		 * connection closes without an answer; a server that made
		 * the task and then lost the connection would charge twice */
		curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)postlen);
		if (curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, post) !=
		    CURLE_OK) {
			net_xfer_free(p, x);
			return NULL;
		}
	}
	return x;
}

struct xfer *net_xfer_probe(struct xfer_pool *p, const char *url, long timeout)
{
	struct xfer *x = xfer_new(p, url, timeout);

	if (!x)
		return NULL;
	curl_easy_setopt(x->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
	if (strncasecmp(url, "http://", 7) == 0)
		curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
	return x;
}

/* Every connection a download makes, redirects included, comes here
 * first: an address of a class the rules do not allow gets no socket, so
 * nothing is sent to it. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	struct xfer *x = ud;
	enum addr_class cls = net_addr_classify(&a->addr, a->addrlen);

	if (purpose == CURLSOCKTYPE_IPCXN && cls != ADDR_GLOBAL &&
	    !(x->rules.allowed & ADDR_BIT(cls))) {
		char ip[INET6_ADDRSTRLEN] = "?";
		const void *bytes =
			a->family == AF_INET6 ?
				(const void *)&((struct sockaddr_in6 *)&a->addr)
					->sin6_addr :
				(const void *)&((struct sockaddr_in *)&a->addr)
					->sin_addr;

		inet_ntop(a->family, bytes, ip, sizeof(ip));
		snprintf(x->refused, sizeof(x->refused),
			 "address %s is %s, not global", ip,
			 net_addr_class_name(cls));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

struct xfer *net_xfer_download(struct xfer_pool *p, const char *url, int fd,
			       const struct xfer_rules *rules)
{
	struct xfer *x = xfer_new(p, url, XFER_DOWNLOAD_TIMEOUT);
	bool plain = strncasecmp(url, "http://", 7) == 0;

	if (!x)
		return NULL;
	x->fd = fd;
	x->rules = *rules;
	if (x->rules.max_bytes > XFER_DOWNLOAD_MAX)
		x->rules.max_bytes = XFER_DOWNLOAD_MAX;
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_file);
	curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE,
			 x->rules.max_bytes);
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, XFER_MAX_REDIRS);
	set_protocols(x->easy, plain && rules->plain_http);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
	/* a stall or a trickle is cut and retried, not waited out */
	curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT,
			 XFER_DOWNLOAD_LOW_SPEED);
	/* plain http goes to loopback only: never via a proxy */
	if (plain)
		curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
	return x;
}

/* Did bytes of the request possibly leave? Conservative: once the
 * connection (TLS included) stood, the request went out right after. */
static bool request_sent(CURL *e)
{
	curl_off_t connect = 0, appconnect = 0;
	long request_size = 0;
	char *scheme = NULL;

	curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
	if (request_size > 0)
		return true;
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect);
	curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &appconnect);
	curl_easy_getinfo(e, CURLINFO_SCHEME, &scheme);
	if (scheme && strcasecmp(scheme, "https") == 0)
		return appconnect > 0;
	return connect > 0;
}

static double retry_after(CURL *e)
{
	struct curl_header *h;
	double seconds;

	if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK)
		return 0;
	if (net_retry_parse_retry_after(h->value, time(NULL), &seconds) < 0)
		return 0;
	return seconds;
}

void net_xfer_result(struct xfer *x, CURLcode code, struct xfer_result *r)
{
	memset(r, 0, sizeof(*r));
	r->code = code;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
	r->request_sent = request_sent(x->easy);
	r->transport =
		net_retry_transport_from_curl((int)code, r->request_sent);
	r->retry_after = retry_after(x->easy);
	/* the body's Content-Length said it was over the cap */
	if (code == CURLE_FILESIZE_EXCEEDED)
		x->too_big = true;
	if (code == CURLE_OK)
		snprintf(r->what, sizeof(r->what), "HTTP %ld", r->status);
	else if (x->too_big)
		snprintf(r->what, sizeof(r->what),
			 "answer larger than %lld bytes",
			 x->fd >= 0 ? (long long)x->rules.max_bytes :
				      (long long)API_ANSWER_MAX);
	else if (x->write_errno)
		snprintf(r->what, sizeof(r->what), "cannot write the image: %s",
			 strerror(x->write_errno));
	else
		snprintf(r->what, sizeof(r->what), "%s",
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
}

void net_xfer_url_host(const char *url, char *host, size_t size)
{
	CURLU *u = curl_url();
	char *h = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		snprintf(host, size, "%s", h);
	else
		snprintf(host, size, "the file host");
	curl_free(h);
	curl_url_cleanup(u);
}

void net_xfer_free(struct xfer_pool *p, struct xfer *x)
{
	if (!x)
		return;
	if (p->n < XFER_POOL_MAX) {
		curl_easy_reset(x->easy);
		p->idle[p->n++] = x->easy;
	} else {
		curl_easy_cleanup(x->easy);
	}
	buf_free(&x->answer);
	free(x);
}
