/*
 * Trusted reverse proxies (--trusted-proxy): who a request really comes from. A proxy's
 * X-Forwarded-For and X-Forwarded-Proto are believed only when the connection comes from one
 * of the configured networks; from anyone else they are ignored, so a client cannot choose the
 * address its rate limits, logs and audit trail count (R1). Nothing here knows about
 * libmicrohttpd: the unit tests call it directly.
 */
#ifndef TRAWL_SERVER_PROXY_H
#define TRAWL_SERVER_PROXY_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Most --trusted-proxy networks. */
#define PROXY_MAX_NETS 32

/* One network: an IPv4 or IPv6 prefix. */
struct proxy_net {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network byte order; 4 bytes used for AF_INET */
	unsigned prefix_len; /* 0..32 or 0..128 */
};

/*
 * Parses "10.0.0.0/8", "192.0.2.7" (a /32), "fd00::/8" or "::1" (a /128). Host bits set
 * beyond the prefix are refused (a typo of the operator's, not a network). EINVAL with a
 * message naming the value.
 */
int proxy_net_parse(struct proxy_net *out, const char *cidr);

/* An address as the proxy module compares it: IPv4-mapped IPv6 addresses count as IPv4. */
struct proxy_addr {
	int family;
	uint8_t addr[16];
};

/* The address of a socket peer (NULL or another family: false). */
bool proxy_addr_of_sockaddr(struct proxy_addr *out, const struct sockaddr *sa);
/* An address written in X-Forwarded-For: "192.0.2.1", "2001:db8::1", "[2001:db8::1]:443". */
bool proxy_addr_parse(struct proxy_addr *out, const char *s, size_t len);
/* Whether a is inside one of nets[0..n). */
bool proxy_is_trusted(const struct proxy_net *nets, size_t n, const struct proxy_addr *a);
/* a as text ("192.0.2.1", "2001:db8::1"). */
void proxy_addr_format(char out[INET6_ADDRSTRLEN], const struct proxy_addr *a);

/* Who a request comes from. */
struct proxy_client {
	char addr[INET6_ADDRSTRLEN]; /* the client's address as text; "" when the peer is unknown */
	bool is_forwarded;           /* the peer is a trusted proxy */
	bool is_https;               /* a trusted proxy said X-Forwarded-Proto: https */
};

/*
 * SECURITY: the client of a request from peer (the socket's other end) and the values of its
 * X-Forwarded-For (every such header joined with ",", or NULL) and X-Forwarded-Proto (or
 * NULL). Unless the peer is trusted the headers are ignored and the client is the peer. From a
 * trusted peer, X-Forwarded-For is read from the right: the client is the rightmost address
 * that is not itself a trusted proxy (the leftmost when all are); an entry that is not an
 * address stops the walk at the last trusted hop, which then counts as the client.
 */
void proxy_client_of(struct proxy_client *out, const struct proxy_net *nets, size_t n,
		     const struct sockaddr *peer, const char *xff, const char *xfp);

#endif
