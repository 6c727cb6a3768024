/* The network thread: one thread owns a curl multi handle and drives every
 * transfer (task creation, polls, downloads, balance reads) with a timer
 * heap for polls and retries. FUSE threads never call curl: the core's hooks
 * hand work over with net_task_ready / net_credits_wanted, which are safe
 * from any thread and never block. */
#ifndef GPTIMGFS_NET_H
#define GPTIMGFS_NET_H

#include <stddef.h>
#include <stdint.h>

struct core;
struct net;

/* The model every task is created with, the one the API offers (named in
 * the metadata embedded in images). */
#define NET_MODEL "gpt-image-2"

struct net_config {
	const char *api_url;   /* "https://api.aivideoapi.ai", no trailing / */
	const char *api_key;   /* sent only to api_url's host */
	double poll_interval;  /* seconds between polls of one task */
	unsigned max_inflight; /* tasks at the API at once, at most */
	double max_rate;       /* requests a second, at most (adapt.h) */
	uint64_t max_task_bytes; /* all images of one task; 0: the default */
	/* callbacks (gptimgfs(1), CALLBACKS), when callback_url is not
	 * NULL: the URL the API reaches the receiver at, the socket it
	 * listens on (net_callback_listen) and the secret of its path
	 * (core_callback_token) */
	int callback_fd;
	const char *callback_url;
	const char *callback_token;
};

#define NET_MAX_TASK_BYTES ((uint64_t)256 * 1024 * 1024)

/* The key check at start: one GET /v1/credits with curl's easy interface,
 * no retry, at most NET_KEYCHECK_TIMEOUT seconds (NET_KEYCHECK_CONNECT to
 * connect). No thread it starts outlives it (curl's resolver thread is
 * joined), so it may run before the fork of fuse_daemonize. Only api_url
 * and api_key of cfg are used. */
#define NET_KEYCHECK_TIMEOUT 10L
#define NET_KEYCHECK_CONNECT 5L

enum net_key_verdict {
	NET_KEY_ACCEPTED,  /* 2xx with a balance */
	NET_KEY_REFUSED,   /* 401 or 403: what is "401 CODE: message" */
	NET_KEY_UNCHECKED, /* no answer or another one: what says which */
	NET_KEY_ERROR,	   /* nothing sent: the key cannot go in a header,
				 * or out of memory; what says which */
};

/* balance receives the balance when accepted, else NAN. what (at most
 * whatlen bytes, one line, never the key) says why when not accepted. */
enum net_key_verdict net_check_key(const struct net_config *cfg,
				   double *balance, char *what, size_t whatlen);

/* The callback receiver's socket, bound to address ("HOST:PORT" or
 * "[V6]:PORT") and listening, before the daemon forks: a failure stops
 * the start instead of leaving a mount without its receiver. The fd, or
 * -1 with err set to the reason (strerror's words). */
int net_callback_listen(const char *address, char *err, size_t errlen);
/* What the log shows after callback_url in place of the path and its
 * secret. */
#define NET_CB_LOG "/cb/..."

/* With callbacks, cfg->callback_fd belongs to the network from here on,
 * even on failure. */
struct net *net_start(struct core *c, const struct net_config *cfg, char *err,
		      size_t errlen);
/* Hook targets (core_hooks.task_ready / credits_wanted). */
void net_task_ready(struct net *n, uint64_t seq);
void net_credits_wanted(struct net *n);
/* Stop the thread: no new requests; creation requests already on the wire
 * get a few seconds to be answered (so their tasks are not left in doubt). */
void net_stop(struct net *n);

#endif
