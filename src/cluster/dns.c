/*
 * The searcher set from a Kubernetes headless Service's DNS (--searchers-dns HOST:PORT,
 * cluster.h): HOST's addresses, each named by its reverse DNS. A StatefulSet pod behind the
 * Service its spec.serviceName names has a PTR record pod.service.namespace.svc.ZONE, and the
 * searcher's name is that first label: rendezvous hashing is over stable pod names, never over
 * addresses, which change when a pod moves. Anything else (an address without a name, a name
 * that is the address itself) refuses the whole resolution, so that the caller keeps the set
 * it had rather than hash over a set it cannot name.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cluster/cluster.h"
#include "util/error.h"

int cluster_set_copy(struct cluster_set *out, const struct cluster_set *s)
{
	memset(out, 0, sizeof(*out));
	if (s->n == 0)
		return 0;
	if (!(out->v = calloc(s->n, sizeof(*out->v))))
		return error_nomem(NULL);
	memcpy(out->v, s->v, s->n * sizeof(*s->v));
	out->n = s->n;
	return 0;
}

int cluster_set_format(struct buf *out, const struct cluster_set *s)
{
	int err = 0;

	for (size_t i = 0; i < s->n && err == 0; i++)
		err = buf_printf(out, "%s%s=%s:%u", i ? "," : "", s->v[i].name, s->v[i].host,
				 s->v[i].port);
	return err == 0 ? buf_putc(out, 0) : err;
}

int cluster_dns_lookup(struct cluster_dns_addr **out, size_t *n, const char *host)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	struct cluster_dns_addr *v;
	size_t k = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_NODATA || (rc == 0 && !res)) {
		error_set("%s has no address", host);
		return TRAWL_EINVAL;
	}
	if (rc != 0) {
		error_set("cannot resolve %s: %s", host, gai_strerror(rc));
		return TRAWL_EIO;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next)
		cap++;
	if (cap > CLUSTER_DNS_ADDRS_MAX) {
		freeaddrinfo(res);
		error_set("%s has more than %zu addresses", host, CLUSTER_DNS_ADDRS_MAX);
		return TRAWL_EINVAL;
	}
	if (!(v = calloc(cap, sizeof(*v)))) {
		freeaddrinfo(res);
		return error_nomem(NULL);
	}
	for (struct addrinfo *a = res; a && k < cap; a = a->ai_next) {
		struct cluster_dns_addr *d = &v[k];

		if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
			continue;
		d->family = a->ai_family;
		if (getnameinfo(a->ai_addr, a->ai_addrlen, d->addr, sizeof(d->addr), NULL, 0,
				NI_NUMERICHOST) != 0)
			continue;
		/* The same address twice (a hosts file naming it on two lines) is one. */
		bool is_seen = false;

		for (size_t j = 0; j < k && !is_seen; j++)
			is_seen = strcmp(v[j].addr, d->addr) == 0;
		if (is_seen)
			continue;
		rc = getnameinfo(a->ai_addr, a->ai_addrlen, d->name, sizeof(d->name), NULL, 0,
				 NI_NAMEREQD);
		if (rc == EAI_NONAME) {
			d->name[0] = 0;
		} else if (rc != 0) {
			error_set("cannot resolve the name of %s (reverse DNS): %s", d->addr,
				  gai_strerror(rc));
			freeaddrinfo(res);
			free(v);
			return TRAWL_EIO;
		}
		k++;
	}
	freeaddrinfo(res);
	*out = v;
	*n = k;
	return 0;
}

/*
 * The first label of name into out when it can name a searcher: letters, digits, '-' and '_',
 * not starting with '-' (no DNS label does, and an indexer's sync would take it for a flag).
 */
static bool first_label(char out[CLUSTER_NAME_MAX + 1], const char *name)
{
	size_t len = strcspn(name, ".");

	if (len == 0 || len > CLUSTER_NAME_MAX || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	memcpy(out, name, len);
	out[len] = 0;
	return true;
}

/*
 * Whether label is addr with '.' and ':' as '-': what the Service's DNS names a pod that has no
 * hostname (its StatefulSet's serviceName is another Service), an address in disguise.
 */
static bool is_dashed_addr(const char *label, const char *addr)
{
	char dashed[sizeof(((struct cluster_dns_addr *)0)->addr)];
	size_t i = 0;

	for (; addr[i] && i + 1 < sizeof(dashed); i++)
		dashed[i] = addr[i] == '.' || addr[i] == ':' ? '-' : addr[i];
	dashed[i] = 0;
	return strcasecmp(label, dashed) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cluster_node *)a)->name, ((const struct cluster_node *)b)->name);
}

/* One address as a node of out (a new one, or the dual-stack twin of one). EINVAL. */
static int add_addr(struct cluster_set *out, int *families, const char *spec,
		    const struct cluster_dns_addr *a, unsigned port)
{
	char name[CLUSTER_NAME_MAX + 1];
	struct cluster_node *nd;
	long k;
	int bit = a->family == AF_INET6 ? 2 : 1;

	if (!a->name[0]) {
		error_set("%s: address %s has no name (reverse DNS); each searcher is named by its "
			  "pod's name: the Service must be its StatefulSet's serviceName",
			  spec, a->addr);
		return TRAWL_EINVAL;
	}
	if (!first_label(name, a->name) || is_dashed_addr(name, a->addr)) {
		error_set("%s: address %s is named \"%.100s\", whose first label is no searcher name "
			  "(letters, digits, '-' and '_'; not the address itself: the Service must "
			  "be its StatefulSet's serviceName)",
			  spec, a->addr, a->name);
		return TRAWL_EINVAL;
	}
	if ((k = cluster_set_find(out, name)) >= 0) {
		if (families[k] & bit) {
			error_set("%s: the name %s is given to two addresses, %s and %s", spec, name,
				  out->v[k].host, a->addr);
			return TRAWL_EINVAL;
		}
		families[k] |= bit; /* a dual-stack pod: its first address stays */
		return 0;
	}
	nd = &out->v[out->n];
	memcpy(nd->name, name, sizeof(name));
	snprintf(nd->host, sizeof(nd->host), bit == 2 ? "[%s]" : "%s", a->addr);
	nd->port = port;
	families[out->n++] = bit;
	return 0;
}

int cluster_set_from_addrs(struct cluster_set *out, const char *spec,
			   const struct cluster_dns_addr *v, size_t n, unsigned port)
{
	int *families;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > CLUSTER_DNS_ADDRS_MAX) {
		error_set("%s: expected 1 to %zu addresses, got %zu", spec, CLUSTER_DNS_ADDRS_MAX,
			  n);
		return TRAWL_EINVAL;
	}
	out->v = calloc(n, sizeof(*out->v));
	families = calloc(n, sizeof(*families));
	if (!out->v || !families) {
		free(families);
		cluster_set_dispose(out);
		return error_nomem(NULL);
	}
	for (size_t i = 0; i < n && err == 0; i++)
		err = add_addr(out, families, spec, &v[i], port);
	if (err == 0 && out->n > CLUSTER_NODES_MAX) {
		error_set("%s: more than %d searchers", spec, CLUSTER_NODES_MAX);
		err = TRAWL_EINVAL;
	}
	free(families);
	if (err < 0) {
		cluster_set_dispose(out);
		return err;
	}
	qsort(out->v, out->n, sizeof(*out->v), by_name);
	return 0;
}

int cluster_dns_init(struct cluster_dns *d, const char *spec, cluster_dns_resolver resolve)
{
	struct cluster_node nd;
	size_t len = strlen(spec);

	memset(d, 0, sizeof(*d));
	if (len >= sizeof(d->spec) || cluster_addr_parse(&nd, spec, len) < 0 || nd.host[0] == '[') {
		error_set("--searchers-dns: \"%.300s\" is not HOST:PORT (the headless Service's "
			  "name, such as trawl-searcher.trawl.svc.cluster.local:7070)",
			  spec);
		return TRAWL_EINVAL;
	}
	snprintf(d->spec, sizeof(d->spec), "--searchers-dns %s", spec);
	memcpy(d->host, nd.host, sizeof(d->host));
	d->port = nd.port;
	d->resolve = resolve ? resolve : cluster_dns_lookup;
	return 0;
}

void cluster_dns_dispose(struct cluster_dns *d)
{
	cluster_set_dispose(&d->set);
	free(d->seen_s);
	d->seen_s = NULL;
}

static bool is_same_set(const struct cluster_set *a, const struct cluster_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    strcmp(a->v[i].host, b->v[i].host) != 0 || a->v[i].port != b->v[i].port)
			return false;
	return true;
}

/*
 * fresh (sorted, from DNS at now) with the names of d->set that DNS gave within
 * CLUSTER_DNS_KEEP_S added, into *out and *seen (sorted by name). ENOMEM.
 */
static int merge_kept(struct cluster_set *out, int64_t **seen, const struct cluster_dns *d,
		      const struct cluster_set *fresh, int64_t now)
{
	size_t cap = fresh->n + d->set.n, n = 0;
	struct cluster_node *v = calloc(cap ? cap : 1, sizeof(*v));
	int64_t *s = calloc(cap ? cap : 1, sizeof(*s));

	if (!v || !s) {
		free(v);
		free(s);
		return error_nomem(NULL);
	}
	for (size_t i = 0; i < fresh->n; i++) {
		v[n] = fresh->v[i];
		s[n++] = now;
	}
	for (size_t i = 0; i < d->set.n && n < CLUSTER_NODES_MAX; i++)
		if (cluster_set_find(fresh, d->set.v[i].name) < 0 &&
		    now - d->seen_s[i] < CLUSTER_DNS_KEEP_S) {
			v[n] = d->set.v[i];
			s[n++] = d->seen_s[i];
		}
	/* Sorted by name with their times: a few hundred nodes at most, an insertion sort. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1].name, v[j].name) > 0; j--) {
			struct cluster_node t = v[j];
			int64_t ts = s[j];

			v[j] = v[j - 1];
			s[j] = s[j - 1];
			v[j - 1] = t;
			s[j - 1] = ts;
		}
	out->v = v;
	out->n = n;
	*seen = s;
	return 0;
}

int cluster_dns_refresh(struct cluster_dns *d, int64_t now, bool *is_changed)
{
	struct cluster_dns_addr *addrs = NULL;
	struct cluster_set fresh = { 0 }, merged = { 0 };
	int64_t *seen = NULL;
	size_t n = 0;
	int err;

	*is_changed = false;
	if ((err = d->resolve(&addrs, &n, d->host)) < 0) {
		free(addrs);
		error_prefix("%s", d->spec);
		return err;
	}
	err = cluster_set_from_addrs(&fresh, d->spec, addrs, n, d->port);
	free(addrs);
	if (err < 0)
		return err;
	err = merge_kept(&merged, &seen, d, &fresh, now);
	cluster_set_dispose(&fresh);
	if (err < 0)
		return err;
	*is_changed = !is_same_set(&merged, &d->set);
	cluster_dns_dispose(d);
	d->set = merged;
	d->seen_s = seen;
	return 0;
}
