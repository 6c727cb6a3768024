/* What kind of address a download connects to: global, or one of the
 * special-purpose ranges (RFC 6890 and the IANA registries) a file host on
 * the internet never has. Pure functions, no network. */
#ifndef GPTIMGFS_NET_ADDR_H
#define GPTIMGFS_NET_ADDR_H

#include <stdint.h>
#include <sys/socket.h>

enum addr_class {
	ADDR_GLOBAL,	    /* reachable on the internet */
	ADDR_LOOPBACK,	    /* 127/8, ::1 */
	ADDR_PRIVATE,	    /* RFC 1918, fc00::/7, fec0::/10, 64:ff9b:1::/48 */
	ADDR_SHARED,	    /* 100.64/10 (carrier-grade NAT) */
	ADDR_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
	ADDR_MULTICAST,	    /* 224/4, ff00::/8 */
	ADDR_UNSPECIFIED,   /* 0.0.0.0, :: */
	ADDR_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24,
				 * 2001:db8::/32, 3fff::/20 */
	ADDR_RESERVED,	    /* any other non-global range */
	ADDR_CLASSES
};

#define ADDR_BIT(cls) (1u << (cls))

/* An AF_INET or AF_INET6 socket address; anything else (or a short len)
 * is ADDR_RESERVED. */
enum addr_class net_addr_classify(const struct sockaddr *sa, socklen_t len);
/* "global", "loopback", "private", ... for messages. */
const char *net_addr_class_name(enum addr_class cls);

#endif
