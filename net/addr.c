/* Address classes: see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

struct range4 {
	uint32_t net;
	unsigned bits;
	enum addr_class cls;
};

/* The IPv4 special-purpose registry; the first match wins. */
static const struct range4 special4[] = {
	{ 0x00000000, 32, ADDR_UNSPECIFIED },	/* 0.0.0.0 */
	{ 0x00000000, 8, ADDR_RESERVED },	/* "this network" */
	{ 0x0a000000, 8, ADDR_PRIVATE },	/* 10/8 */
	{ 0x64400000, 10, ADDR_SHARED },	/* 100.64/10 */
	{ 0x7f000000, 8, ADDR_LOOPBACK },	/* 127/8 */
	{ 0xa9fe0000, 16, ADDR_LINK_LOCAL },	/* 169.254/16 */
	{ 0xac100000, 12, ADDR_PRIVATE },	/* 172.16/12 */
	{ 0xc0000000, 24, ADDR_RESERVED },	/* 192.0.0/24 IETF protocols */
	{ 0xc0000200, 24, ADDR_DOCUMENTATION }, /* 192.0.2/24 */
	{ 0xc0586300, 24, ADDR_RESERVED },	/* 192.88.99/24 6to4 relays */
	{ 0xc0a80000, 16, ADDR_PRIVATE },	/* 192.168/16 */
	{ 0xc6120000, 15, ADDR_RESERVED },	/* 198.18/15 benchmarking */
	{ 0xc6336400, 24, ADDR_DOCUMENTATION }, /* 198.51.100/24 */
	{ 0xcb007100, 24, ADDR_DOCUMENTATION }, /* 203.0.113/24 */
	{ 0xe0000000, 4, ADDR_MULTICAST },	/* 224/4 */
	{ 0xf0000000, 4, ADDR_RESERVED },	/* 240/4, broadcast */
};

/* ip in host byte order. */
static enum addr_class addr_class_v4(uint32_t ip)
{
	size_t i;

	for (i = 0; i < sizeof(special4) / sizeof(special4[0]); i++) {
		const struct range4 *r = &special4[i];
		uint32_t mask = r->bits ? ~UINT32_C(0) << (32 - r->bits) : 0;

		if ((ip & mask) == r->net)
			return r->cls;
	}
	return ADDR_GLOBAL;
}

static uint32_t v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Do the first bits of ip match prefix? */
static int has_prefix(const uint8_t ip[16], const uint8_t *prefix,
		      unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(ip, prefix, whole) != 0)
		return 0;
	return !rest || ((ip[whole] ^ prefix[whole]) >> (8 - rest)) == 0;
}

struct range6 {
	uint8_t net[16];
	unsigned bits;
	enum addr_class cls;
};

/* The IPv6 special-purpose registry, less ::, ::1 and the ranges that
 * embed an IPv4 address; the first match wins. Outside 2000::/3 nothing is global. */
static const struct range6 special6[] = {
	/* NAT64 local */
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, ADDR_PRIVATE },
	/* 2001:db8::/32 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, ADDR_DOCUMENTATION },
	/* IETF protocols */
	{ { 0x20, 0x01 }, 23, ADDR_RESERVED },
	/* 3fff::/20 */
	{ { 0x3f, 0xff }, 20, ADDR_DOCUMENTATION },
	/* SRv6 SIDs */
	{ { 0x5f, 0x00 }, 16, ADDR_RESERVED },
	/* unique local */
	{ { 0xfc }, 7, ADDR_PRIVATE },
	{ { 0xfe, 0x80 }, 10, ADDR_LINK_LOCAL },
	/* site-local */
	{ { 0xfe, 0xc0 }, 10, ADDR_PRIVATE },
	{ { 0xff }, 8, ADDR_MULTICAST },
	/* 2000::/3 */
	{ { 0x20 }, 3, ADDR_GLOBAL },
};

static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
static const uint8_t six_to_four[2] = { 0x20, 0x02 };

/* The 16 bytes of an IPv6 address. An IPv4 address written in one
 * (::ffff:a.b.c.d mapped, ::a.b.c.d compatible, 64:ff9b::a.b.c.d NAT64,
 * 2002:AABB:CCDD::/48 6to4) is classified as that IPv4 address. */
static enum addr_class addr_class_v6(const uint8_t ip[16])
{
	static const uint8_t zeros[15];
	size_t i;

	if (memcmp(ip, zeros, 15) == 0 && ip[15] <= 1)
		return ip[15] ? ADDR_LOOPBACK : ADDR_UNSPECIFIED;
	/* an IPv4 address in an IPv6 one reaches that IPv4 address */
	if (memcmp(ip, mapped, 12) == 0 || memcmp(ip, zeros, 12) == 0 ||
	    memcmp(ip, nat64, 12) == 0)
		return addr_class_v4(v4_at(ip + 12));
	if (has_prefix(ip, six_to_four, 16))
		return addr_class_v4(v4_at(ip + 2));
	for (i = 0; i < sizeof(special6) / sizeof(special6[0]); i++)
		if (has_prefix(ip, special6[i].net, special6[i].bits))
			return special6[i].cls;
	return ADDR_RESERVED;
}

enum addr_class net_addr_classify(const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return addr_class_v4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		return addr_class_v6(in6->sin6_addr.s6_addr);
	}
	return ADDR_RESERVED;
}

const char *net_addr_class_name(enum addr_class cls)
{
	static const char *const names[ADDR_CLASSES] = {
		[ADDR_GLOBAL] = "global",
		[ADDR_LOOPBACK] = "loopback",
		[ADDR_PRIVATE] = "private",
		[ADDR_SHARED] = "shared (carrier-grade NAT)",
		[ADDR_LINK_LOCAL] = "link-local",
		[ADDR_MULTICAST] = "multicast",
		[ADDR_UNSPECIFIED] = "unspecified",
		[ADDR_DOCUMENTATION] = "documentation",
		[ADDR_RESERVED] = "reserved",
	};

	return (unsigned)cls < ADDR_CLASSES ? names[cls] : "reserved";
}
