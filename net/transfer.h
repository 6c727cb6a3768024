/* One HTTP transfer on a curl easy handle: the options every transfer
 * carries, API requests (with the key, answer kept in memory) and
 * downloads (no key, streamed to a file), and what the result means for
 * the retry policy. Easy handles are reused from a small pool; the multi
 * handle that runs them keeps the connections. Network thread only. */
#ifndef GPTIMGFS_NET_TRANSFER_H
#define GPTIMGFS_NET_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/sniff.h"
#include "retry.h"
#include "util/buf.h"

#define XFER_POOL_MAX 8
#define XFER_DOWNLOAD_MAX ((curl_off_t)100 * 1024 * 1024)
/* Free bytes a download leaves on the data directory's file system (at
 * most a twentieth of its size). */
#define XFER_DISK_RESERVE ((unsigned long long)64 * 1024 * 1024)

/* What a download may do. */
struct xfer_rules {
	unsigned allowed;     /* ADDR_BIT()s of non-global classes it may
				 * connect to (those of api_url) */
	bool plain_http;      /* http:// too, not only https:// */
	curl_off_t max_bytes; /* the body at most */
};

struct xfer_pool {
	CURL *idle[XFER_POOL_MAX];
	size_t n;
};

struct xfer {
	CURL *easy;
	void *owner;		 /* the task (or NULL for a balance read) */
	struct buf answer;	 /* API answers, at most API_ANSWER_MAX */
	int fd;			 /* downloads: where the body goes, else -1 */
	curl_off_t received;	 /* downloads: bytes written to fd */
	bool too_big;		 /* the body went over its cap */
	int write_errno;	 /* downloads: a failed write(2) */
	struct xfer_rules rules; /* downloads */
	char refused[128];	 /* downloads: why a connection was refused */
	bool disk_full;		 /* downloads: the reserve was reached */
	bool not_image;		 /* downloads: the first bytes are none */
	unsigned char head[SNIFF_HEAD]; /* downloads: the first bytes */
	size_t head_len;
	char errbuf[CURL_ERROR_SIZE];
};

/* What a finished transfer means. */
struct xfer_result {
	CURLcode code;
	enum transport_result transport;
	bool request_sent;  /* bytes of the request may have left */
	long status;	    /* HTTP status, 0 when none arrived */
	double retry_after; /* seconds, 0 when none was given */
	char what[CURL_ERROR_SIZE + 64]; /* e.g. "connection refused" */
};

void net_xfer_pool_init(struct xfer_pool *p);
void net_xfer_pool_free(struct xfer_pool *p);

/* An API request: GET url, or POST post (a JSON body, copied) when it is
 * not NULL, always on a new connection so that curl never resends it.
 * headers carries the key. timeout is the total in seconds. NULL when out
 * of memory. */
struct xfer *net_xfer_api(struct xfer_pool *p, const char *url,
			  const struct curl_slist *headers, const char *post,
			  size_t postlen, long timeout);
/* Whether the API at url can be reached: a connection (TLS included),
 * closed at once; no request is sent, no key. */
struct xfer *net_xfer_probe(struct xfer_pool *p, const char *url, long timeout);
/* A download of url into fd (the caller's), without the key, under rules
 * (copied); redirects are followed (at most 5, to the URL's own scheme).
 * Every address it connects to, redirects included, is checked before the
 * connection is made (x->refused says why one was not). The body stops
 * early when its first bytes are no image (x->not_image) or when the file
 * system of fd gets within XFER_DISK_RESERVE of full (x->disk_full). */
struct xfer *net_xfer_download(struct xfer_pool *p, const char *url, int fd,
			       const struct xfer_rules *rules);
/* Read the result of a transfer curl finished with code. */
void net_xfer_result(struct xfer *x, CURLcode code, struct xfer_result *r);
/* The host of url, for messages ("file.example"), at most size bytes. */
void net_xfer_url_host(const char *url, char *host, size_t size);
/* Give the handle back to the pool (fd is the caller's to close). */
void net_xfer_free(struct xfer_pool *p, struct xfer *x);

#endif
