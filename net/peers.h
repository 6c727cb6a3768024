/* The callback receiver's flood limit: a token bucket per peer (an IPv4
 * address, or an IPv6 /64, as one host often holds a whole /64), in a
 * table of at most NET_PEERS_MAX peers, the one seen longest ago giving
 * its place to a new one. Pure logic; the receiver's thread only. */
#ifndef GPTIMGFS_NET_PEERS_H
#define GPTIMGFS_NET_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bucket.h"

#define NET_PEERS_MAX 256
#define NET_PEER_BURST 200.0 /* callbacks at once from one peer */
#define NET_PEER_RATE 100.0  /* then a second */
#define NET_PEER_KEY 16

struct net_peer {
	unsigned char key[NET_PEER_KEY];
	struct bucket bucket;
	int64_t seen; /* its last request, milliseconds */
};

struct net_peers {
	struct net_peer v[NET_PEERS_MAX];
	unsigned n;
};

/* The peer sa stands for (an address family we do not know: all zeros);
 * len is sa's size. */
void net_peers_key(const struct sockaddr *sa, socklen_t len,
		   unsigned char key[NET_PEER_KEY]);
/* May peer key make one more request at now (milliseconds)? */
bool net_peers_allow(struct net_peers *p, const unsigned char *key,
		     int64_t now);

#endif
