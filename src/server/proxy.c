/* Trusted proxies and the client address of a request (proxy.h). */
#include "server/proxy.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"
#include "util/error.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* IPv4-mapped IPv6 becomes IPv4: a dual-stack socket shows IPv4 clients so. */
static void addr_set6(struct proxy_addr *out, const uint8_t a[16])
{
	memset(out, 0, sizeof(*out));
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
		out->family = AF_INET;
		memcpy(out->addr, a + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, a, 16);
	}
}

bool proxy_addr_of_sockaddr(struct proxy_addr *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		addr_set6(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
		return true;
	}
	return false;
}

bool proxy_addr_parse(struct proxy_addr *out, const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	uint8_t a6[16];
	const char *colon;

	memset(out, 0, sizeof(*out));
	if (len > 0 && s[0] == '[') {
		/* "[V6]" or "[V6]:PORT": the port is the proxy's business, not ours. */
		const char *rb = memchr(s, ']', len);

		if (!rb)
			return false;
		len = (size_t)(rb - s - 1);
		s++;
	} else if ((colon = memchr(s, ':', len)) &&
		   !memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
		len = (size_t)(colon - s); /* "V4:PORT" */
	}
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	if (inet_pton(AF_INET, tmp, out->addr) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, a6) == 1) {
		addr_set6(out, a6);
		return true;
	}
	return false;
}

int proxy_net_parse(struct proxy_net *out, const char *cidr)
{
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	struct proxy_addr a;
	unsigned long len;
	unsigned max;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!proxy_addr_parse(&a, cidr, alen) || (alen > 0 && cidr[0] == '['))
		goto bad;
	max = a.family == AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			goto bad;
		len = strtoul(slash + 1, &end, 10);
		if (*end || len > max)
			goto bad;
	}
	for (unsigned bit = (unsigned)len; bit < max; bit++)
		if (a.addr[bit / 8] & (0x80u >> (bit % 8))) {
			error_set(
				"--trusted-proxy %s: the address has bits set beyond the /%lu prefix",
				cidr, len);
			return TRAWL_EINVAL;
		}
	out->family = a.family;
	memcpy(out->addr, a.addr, sizeof(out->addr));
	out->prefix_len = (unsigned)len;
	return 0;
bad:
	error_set("--trusted-proxy: expected an address or a network such as 10.0.0.0/8 or "
		  "fd00::/8, got \"%s\"",
		  cidr);
	return TRAWL_EINVAL;
}

static bool net_has(const struct proxy_net *net, const struct proxy_addr *a)
{
	unsigned full = net->prefix_len / 8, rest = net->prefix_len % 8;

	if (net->family != a->family || memcmp(net->addr, a->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->addr[full] ^ a->addr[full]) & (uint8_t)(0xffu << (8 - rest))) == 0;
}

bool proxy_is_trusted(const struct proxy_net *nets, size_t n, const struct proxy_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (net_has(&nets[i], a))
			return true;
	return false;
}

void proxy_addr_format(char out[INET6_ADDRSTRLEN], const struct proxy_addr *a)
{
	if (!inet_ntop(a->family, a->addr, out, INET6_ADDRSTRLEN))
		out[0] = 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The last comma-separated element of v, trimmed, is "https". */
static bool last_is_https(const char *v)
{
	const char *start = strrchr(v, ',');
	size_t len;

	start = start ? start + 1 : v;
	while (is_space(*start))
		start++;
	len = strlen(start);
	while (len > 0 && is_space(start[len - 1]))
		len--;
	return len == 5 && strncasecmp(start, "https", 5) == 0;
}

void proxy_client_of(struct proxy_client *out, const struct proxy_net *nets, size_t n,
		     const struct sockaddr *peer, const char *xff, const char *xfp)
{
	struct proxy_addr client;
	size_t end;

	memset(out, 0, sizeof(*out));
	if (!proxy_addr_of_sockaddr(&client, peer))
		return;
	if (!proxy_is_trusted(nets, n, &client)) {
		proxy_addr_format(out->addr, &client);
		return;
	}
	out->is_forwarded = true;
	out->is_https = xfp && last_is_https(xfp);
	/* SECURITY: from the right, each hop was written by the trusted hop after it. */
	for (end = xff ? strlen(xff) : 0; end > 0;) {
		size_t start = end, a = 0, b;
		struct proxy_addr hop;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		b = end;
		a = start;
		while (a < b && is_space(xff[a]))
			a++;
		while (b > a && is_space(xff[b - 1]))
			b--;
		if (!proxy_addr_parse(&hop, xff + a, b - a))
			break;
		client = hop;
		if (!proxy_is_trusted(nets, n, &hop))
			break;
		end = start > 0 ? start - 1 : 0;
	}
	proxy_addr_format(out->addr, &client);
}

/* Every X-Forwarded-For header of a request, joined with ",", as one list. */
struct xff_join {
	struct buf b;
	bool is_over;
};

static enum MHD_Result join_xff(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct xff_join *j = cls;

	(void)kind;
	if (strcasecmp(key, "X-Forwarded-For") != 0 || !value)
		return MHD_YES;
	if ((j->b.len && buf_putc(&j->b, ',') < 0) || buf_puts(&j->b, value) < 0)
		j->is_over = true;
	return MHD_YES;
}

int proxy_request(struct req *rq)
{
	const struct server_config *cfg = rq->s->cfg;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	struct proxy_client pc;
	struct xff_join j = { .is_over = false };
	const char *xfp = NULL;

	if (cfg->n_proxies == 0) {
		proxy_client_of(&pc, NULL, 0, peer, NULL, NULL);
	} else {
		/* A head is at most 64 KiB (the connection memory limit), so is the list. */
		buf_init(&j.b, (size_t)64 * 1024);
		MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, join_xff, &j);
		xfp = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
		proxy_client_of(&pc, cfg->proxies, cfg->n_proxies, peer, j.is_over ? NULL : j.b.ptr,
				xfp);
		buf_dispose(&j.b);
	}
	memcpy(rq->client_addr, pc.addr, sizeof(rq->client_addr));
	rq->is_https = rq->s->is_tls || pc.is_https;
	rq->is_from_proxy = pc.is_forwarded;
	return 0;
}

/* Counts the values of header name (MHD keeps each repeated header apart). */
struct header_count {
	const char *name;
	unsigned n;
};

static enum MHD_Result count_header(void *arg, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct header_count *hc = arg;

	(void)kind;
	(void)value;
	if (strcasecmp(key, hc->name) == 0)
		hc->n++;
	return MHD_YES;
}

static unsigned header_count(const struct req *rq, const char *name)
{
	struct header_count hc = { .name = name, .n = 0 };

	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, count_header, &hc);
	return hc.n;
}

void proxy_auth_headers(struct access_request *in, const struct req *rq)
{
	const struct server_sso_config *c = &rq->s->cfg->sso;

	/* SECURITY: from any peer but a trusted proxy the headers are not even read. */
	if (!c->proxy_header || !rq->is_from_proxy)
		return;
	in->proxy_user = req_header_value(rq, c->proxy_header);
	if (!in->proxy_user)
		return;
	in->has_proxy_groups = c->proxy_groups_header != NULL;
	if (c->proxy_groups_header)
		in->proxy_groups = req_header_value(rq, c->proxy_groups_header);
	in->is_proxy_repeated =
		header_count(rq, c->proxy_header) > 1 ||
		(c->proxy_groups_header && header_count(rq, c->proxy_groups_header) > 1);
}
