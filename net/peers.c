/* The per-peer token buckets of the callback receiver (peers.h). */
#include <netinet/in.h>
#include <string.h>

#include "peers.h"

void net_peers_key(const struct sockaddr *sa, socklen_t len,
		   unsigned char key[NET_PEER_KEY])
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, NET_PEER_KEY);
	if (sa && sa->sa_family == AF_INET && len >= sizeof(*v4)) {
		key[0] = 4;
		memcpy(key + 1, &v4->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6 && len >= sizeof(*v6)) {
		key[0] = 6;
		memcpy(key + 1, &v6->sin6_addr, 8); /* its /64 */
	}
}

/* The entry of key, or the place for it: a free one, else the one seen
 * longest ago, started afresh. */
static struct net_peer *find(struct net_peers *p, const unsigned char *key,
			     int64_t now)
{
	struct net_peer *oldest = NULL, *e;
	unsigned i;

	for (i = 0; i < p->n; i++) {
		e = &p->v[i];
		if (memcmp(e->key, key, NET_PEER_KEY) == 0)
			return e;
		if (!oldest || e->seen < oldest->seen)
			oldest = e;
	}
	e = p->n < NET_PEERS_MAX ? &p->v[p->n++] : oldest;
	memcpy(e->key, key, NET_PEER_KEY);
	net_bucket_init(&e->bucket, NET_PEER_RATE, NET_PEER_BURST, now);
	return e;
}

bool net_peers_allow(struct net_peers *p, const unsigned char *key, int64_t now)
{
	struct net_peer *e = find(p, key, now);

	e->seen = now;
	return net_bucket_take(&e->bucket, now);
}
