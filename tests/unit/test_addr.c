/* net/addr: which addresses are global, and what the others are. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "check.h"
#include "net/addr.h"

static enum addr_class v4(const char *text)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (inet_pton(AF_INET, text, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad test address %s\n", text);
		return ADDR_CLASSES;
	}
	return net_addr_classify((struct sockaddr *)&sin, sizeof(sin));
}

static enum addr_class v6(const char *text)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET6, text, &sin6.sin6_addr) != 1) {
		fprintf(stderr, "bad test address %s\n", text);
		return ADDR_CLASSES;
	}
	return net_addr_classify((struct sockaddr *)&sin6, sizeof(sin6));
}

static void test_v4(void)
{
	CHECK(v4("8.8.8.8") == ADDR_GLOBAL);
	CHECK(v4("1.1.1.1") == ADDR_GLOBAL);
	CHECK(v4("0.0.0.0") == ADDR_UNSPECIFIED);
	CHECK(v4("0.1.2.3") == ADDR_RESERVED);
	CHECK(v4("127.0.0.1") == ADDR_LOOPBACK);
	CHECK(v4("127.255.255.254") == ADDR_LOOPBACK);
	CHECK(v4("10.0.0.1") == ADDR_PRIVATE);
	CHECK(v4("172.16.0.1") == ADDR_PRIVATE);
	CHECK(v4("172.31.255.255") == ADDR_PRIVATE);
	CHECK(v4("172.15.255.255") == ADDR_GLOBAL);
	CHECK(v4("172.32.0.0") == ADDR_GLOBAL);
	CHECK(v4("192.168.1.1") == ADDR_PRIVATE);
	CHECK(v4("100.64.0.1") == ADDR_SHARED);
	CHECK(v4("100.127.255.255") == ADDR_SHARED);
	CHECK(v4("100.63.255.255") == ADDR_GLOBAL);
	CHECK(v4("100.128.0.0") == ADDR_GLOBAL);
	CHECK(v4("169.254.169.254") == ADDR_LINK_LOCAL);
	CHECK(v4("224.0.0.1") == ADDR_MULTICAST);
	CHECK(v4("239.255.255.250") == ADDR_MULTICAST);
	CHECK(v4("192.0.2.1") == ADDR_DOCUMENTATION);
	CHECK(v4("198.51.100.7") == ADDR_DOCUMENTATION);
	CHECK(v4("203.0.113.9") == ADDR_DOCUMENTATION);
	CHECK(v4("192.0.0.8") == ADDR_RESERVED);
	CHECK(v4("192.88.99.1") == ADDR_RESERVED);
	CHECK(v4("198.18.0.1") == ADDR_RESERVED);
	CHECK(v4("198.19.255.255") == ADDR_RESERVED);
	CHECK(v4("198.20.0.0") == ADDR_GLOBAL);
	CHECK(v4("240.0.0.1") == ADDR_RESERVED);
	CHECK(v4("255.255.255.255") == ADDR_RESERVED);
	CHECK(v4("223.255.255.255") == ADDR_GLOBAL);
}

static void test_v6(void)
{
	CHECK(v6("2606:4700:4700::1111") == ADDR_GLOBAL);
	CHECK(v6("2a00:1450:4001:80b::200e") == ADDR_GLOBAL);
	CHECK(v6("::") == ADDR_UNSPECIFIED);
	CHECK(v6("::1") == ADDR_LOOPBACK);
	CHECK(v6("fc00::1") == ADDR_PRIVATE);
	CHECK(v6("fd12:3456:789a::1") == ADDR_PRIVATE);
	CHECK(v6("fec0::1") == ADDR_PRIVATE);
	CHECK(v6("fe80::1") == ADDR_LINK_LOCAL);
	CHECK(v6("febf::1") == ADDR_LINK_LOCAL);
	CHECK(v6("ff02::1") == ADDR_MULTICAST);
	CHECK(v6("2001:db8::1") == ADDR_DOCUMENTATION);
	CHECK(v6("3fff::1") == ADDR_DOCUMENTATION);
	CHECK(v6("2001::1") == ADDR_RESERVED);	 /* Teredo */
	CHECK(v6("2001:2::1") == ADDR_RESERVED); /* benchmarking */
	CHECK(v6("100::1") == ADDR_RESERVED);	 /* discard */
	CHECK(v6("5f00::1") == ADDR_RESERVED);
	CHECK(v6("4000::1") == ADDR_RESERVED); /* not 2000::/3 */
	CHECK(v6("1::") == ADDR_RESERVED);
	CHECK(v6("64:ff9b:1::1") == ADDR_PRIVATE);
}

static void test_v4_in_v6(void)
{
	/* mapped */
	CHECK(v6("::ffff:127.0.0.1") == ADDR_LOOPBACK);
	CHECK(v6("::ffff:10.1.2.3") == ADDR_PRIVATE);
	CHECK(v6("::ffff:169.254.169.254") == ADDR_LINK_LOCAL);
	CHECK(v6("::ffff:0.0.0.0") == ADDR_UNSPECIFIED);
	CHECK(v6("::ffff:8.8.8.8") == ADDR_GLOBAL);
	/* compatible */
	CHECK(v6("::127.0.0.1") == ADDR_LOOPBACK);
	CHECK(v6("::192.168.0.1") == ADDR_PRIVATE);
	CHECK(v6("::100.64.1.1") == ADDR_SHARED);
	CHECK(v6("::8.8.8.8") == ADDR_GLOBAL);
	CHECK(v6("::0.0.0.2") == ADDR_RESERVED);
	/* NAT64 well-known prefix */
	CHECK(v6("64:ff9b::127.0.0.1") == ADDR_LOOPBACK);
	CHECK(v6("64:ff9b::172.16.5.4") == ADDR_PRIVATE);
	CHECK(v6("64:ff9b::224.0.0.1") == ADDR_MULTICAST);
	CHECK(v6("64:ff9b::8.8.8.8") == ADDR_GLOBAL);
	/* 6to4 */
	CHECK(v6("2002:7f00:1::1") == ADDR_LOOPBACK);
	CHECK(v6("2002:c0a8:101::1") == ADDR_PRIVATE);
	CHECK(v6("2002:808:808::1") == ADDR_GLOBAL);
	/* other zero-led forms are no IPv4 address */
	CHECK(v6("::1:127.0.0.1") == ADDR_RESERVED);
	CHECK(v6("::fffe:127.0.0.1") == ADDR_RESERVED);
}

static void test_other_families(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr sa = { .sa_family = AF_UNIX };

	CHECK(net_addr_classify(&sa, sizeof(sa)) == ADDR_RESERVED);
	CHECK(net_addr_classify((struct sockaddr *)&sin, 4) == ADDR_RESERVED);
	CHECK_STR(net_addr_class_name(ADDR_GLOBAL), "global");
	CHECK_STR(net_addr_class_name(ADDR_PRIVATE), "private");
	CHECK_STR(net_addr_class_name(ADDR_CLASSES), "reserved");
}

int main(void)
{
	test_v4();
	test_v6();
	test_v4_in_v6();
	test_other_families();
	return check_result("test_addr");
}
