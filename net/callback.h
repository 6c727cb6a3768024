/* The callback receiver (gptimgfs(1), CALLBACKS): libmicrohttpd on its own
 * thread, on a socket bound before the daemon forks (net_callback_listen).
 * It checks what comes in cheaply and hands on a task id, nothing else:
 * it never touches the task table, and nothing else of a callback is
 * believed. */
#ifndef GPTIMGFS_NET_CALLBACK_H
#define GPTIMGFS_NET_CALLBACK_H

#include <stddef.h>

#define NET_CB_CONNECTIONS 64	   /* at once, in all */
#define NET_CB_PER_IP 8		   /* at once, from one address */
#define NET_CB_TIMEOUT_S 5	   /* a connection idle this long is closed */
#define NET_CB_BODY_MAX (64 << 10) /* a bigger body is answered 413 */
#define NET_CB_PATH "/cb/"	   /* the path ends in this and the token */

struct net_receiver;

/* Called on the receiver's thread with a valid task id (api.h) that a
 * callback named; must not block. */
typedef void net_hint_fn(void *ctx, const char *task_id);

/* Serve fd (listening; the receiver owns it from now on, even on
 * failure): 204 to a POST to a path ending in NET_CB_PATH + token whose
 * body is a JSON object with a valid "id", which goes to hint; 429 past a
 * peer's rate (peers.h), 405 to another method, 404 to another path, 413
 * past NET_CB_BODY_MAX, 400 to anything else. NULL with err set. */
struct net_receiver *net_receiver_start(int fd, const char *token,
					net_hint_fn *hint, void *ctx, char *err,
					size_t errlen);
void net_receiver_stop(struct net_receiver *r);

#endif
