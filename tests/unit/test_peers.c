/* net/peers: the callback receiver's per-peer token buckets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "net/peers.h"

static void key4(const char *addr, unsigned char key[NET_PEER_KEY])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	inet_pton(AF_INET, addr, &sa.sin_addr);
	net_peers_key((struct sockaddr *)&sa, sizeof(sa), key);
}

static void key6(const char *addr, unsigned char key[NET_PEER_KEY])
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, addr, &sa.sin6_addr);
	net_peers_key((struct sockaddr *)&sa, sizeof(sa), key);
}

/* How many requests of key pass at now. */
static int burst(struct net_peers *p, const unsigned char *key, int64_t now)
{
	int n = 0;

	while (n < 10000 && net_peers_allow(p, key, now))
		n++;
	return n;
}

static void test_bucket(void)
{
	static struct net_peers p;
	unsigned char a[NET_PEER_KEY], b[NET_PEER_KEY];

	key4("192.0.2.1", a);
	key4("192.0.2.2", b);
	/* a burst, then the rate */
	CHECK(burst(&p, a, 1000) == (int)NET_PEER_BURST);
	CHECK(!net_peers_allow(&p, a, 1000));
	CHECK(burst(&p, a, 1010) == 1); /* 100 a second: one in 10 ms */
	CHECK(burst(&p, a, 2010) == (int)NET_PEER_RATE);
	/* another peer has its own */
	CHECK(burst(&p, b, 2010) == (int)NET_PEER_BURST);
	CHECK(p.n == 2);
}

static void test_keys(void)
{
	static struct net_peers p;
	unsigned char a[NET_PEER_KEY], b[NET_PEER_KEY], c[NET_PEER_KEY];

	/* one /64 is one peer: a host holds all of it */
	key6("2001:db8:1:2::1", a);
	key6("2001:db8:1:2:ffff::9", b);
	key6("2001:db8:1:3::1", c);
	CHECK(memcmp(a, b, NET_PEER_KEY) == 0);
	CHECK(memcmp(a, c, NET_PEER_KEY) != 0);
	CHECK(burst(&p, a, 0) == (int)NET_PEER_BURST);
	CHECK(!net_peers_allow(&p, b, 0));
	CHECK(net_peers_allow(&p, c, 0));
	/* an IPv4 address is not the IPv6 one with the same bytes */
	key4("32.1.13.184", b);
	CHECK(memcmp(a, b, NET_PEER_KEY) != 0);
	/* no address: one key for all of them */
	net_peers_key(NULL, 0, a);
	net_peers_key(NULL, 0, b);
	CHECK(memcmp(a, b, NET_PEER_KEY) == 0);
}

static void test_table_bounded(void)
{
	static struct net_peers p;
	unsigned char key[NET_PEER_KEY], first[NET_PEER_KEY];
	char addr[32];
	int i;

	key4("10.0.0.0", first);
	CHECK(burst(&p, first, 0) == (int)NET_PEER_BURST);
	for (i = 1; i < NET_PEERS_MAX; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256, i % 256);
		key4(addr, key);
		CHECK(net_peers_allow(&p, key, 10 + i));
	}
	CHECK(p.n == NET_PEERS_MAX);
	/* a new peer takes the place of the one seen longest ago, the
	 * first, which comes back afresh (a full burst, not the 30 tokens
	 * it would have earned since) */
	key4("10.1.0.0", key);
	CHECK(net_peers_allow(&p, key, 300));
	CHECK(p.n == NET_PEERS_MAX);
	CHECK(burst(&p, first, 300) == (int)NET_PEER_BURST);
	CHECK(p.n == NET_PEERS_MAX);
}

int main(void)
{
	test_bucket();
	test_keys();
	test_table_bounded();
	return check_result("test_peers");
}
