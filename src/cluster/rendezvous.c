/* The searcher set and rendezvous hashing (cluster.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "util/error.h"

static bool is_name_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int cluster_addr_parse(struct cluster_node *n, const char *s, size_t len)
{
	const char *colon = NULL;
	unsigned long port = 0;
	size_t hlen;

	for (size_t i = len; i-- > 0;)
		if (s[i] == ':') {
			colon = s + i;
			break;
		}
	if (!colon || colon == s || (size_t)(colon - s) > CLUSTER_HOST_MAX || colon + 1 == s + len)
		return -1;
	for (const char *p = colon + 1; p < s + len; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return -1;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port == 0 || port > 65535)
		return -1;
	hlen = (size_t)(colon - s);
	for (size_t i = 0; i < hlen; i++)
		if (!is_name_byte(s[i]) && s[i] != ':' && s[i] != '[' && s[i] != ']')
			return -1;
	memcpy(n->host, s, hlen);
	n->host[hlen] = 0;
	n->port = (unsigned)port;
	return 0;
}

static int parse_item(struct cluster_node *n, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	size_t nlen = eq ? (size_t)(eq - s) : 0;

	if (!eq || nlen == 0 || nlen > CLUSTER_NAME_MAX)
		return -1;
	for (size_t i = 0; i < nlen; i++)
		if (!is_name_byte(s[i]))
			return -1;
	memcpy(n->name, s, nlen);
	n->name[nlen] = 0;
	return cluster_addr_parse(n, eq + 1, len - nlen - 1);
}

int cluster_set_parse(struct cluster_set *out, const char *list)
{
	size_t n = 1;
	const char *p = list;

	memset(out, 0, sizeof(*out));
	for (const char *c = list; *c; c++)
		n += *c == ',';
	if (!list[0] || n > CLUSTER_NODES_MAX) {
		error_set("--searchers: expected 1 to %d items NAME=HOST:PORT separated by commas",
			  CLUSTER_NODES_MAX);
		return TRAWL_EINVAL;
	}
	if (!(out->v = calloc(n, sizeof(*out->v))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (parse_item(&out->v[i], p, len) < 0) {
			error_set("--searchers: \"%.*s\" is not NAME=HOST:PORT (a name of letters, "
				  "digits, '-', '_' and '.')",
				  (int)(len > 300 ? 300 : len), p);
			cluster_set_dispose(out);
			return TRAWL_EINVAL;
		}
		out->n = i + 1;
		if (cluster_set_find(out, out->v[i].name) != (long)i) {
			error_set("--searchers: the name \"%s\" is given twice", out->v[i].name);
			cluster_set_dispose(out);
			return TRAWL_EINVAL;
		}
		p = end ? end + 1 : p + len;
	}
	return 0;
}

int cluster_set_pattern(struct cluster_set *out, unsigned n, const char *pattern)
{
	const char *pct = strstr(pattern, "%d");
	size_t label = strcspn(pattern, ".:");
	/* Named by the host's first label when the number is in it: a StatefulSet pod's name. */
	bool is_label_name = pct && (size_t)(pct - pattern) + 2 <= label;
	struct buf b;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > CLUSTER_NODES_MAX || !pct || strchr(pct + 2, '%') ||
	    memchr(pattern, '%', (size_t)(pct - pattern))) {
		error_set("--searcher-count must be 1 to %d and --searcher-pattern hold one %%d",
			  CLUSTER_NODES_MAX);
		return TRAWL_EINVAL;
	}
	buf_init(&b, BUF_MAX_DEFAULT);
	for (unsigned i = 0; i < n && err == 0; i++) {
		if (i)
			err = buf_putc(&b, ',');
		if (err == 0 && is_label_name)
			err = buf_printf(&b, "%.*s%u%.*s=", (int)(pct - pattern), pattern, i,
					 (int)(label - (size_t)(pct + 2 - pattern)), pct + 2);
		else if (err == 0)
			err = buf_printf(&b, "searcher-%u=", i);
		if (err == 0)
			err = buf_printf(&b, "%.*s%u%s", (int)(pct - pattern), pattern, i, pct + 2);
	}
	if (err == 0)
		err = cluster_set_parse(out, b.ptr);
	buf_dispose(&b);
	return err;
}

void cluster_set_dispose(struct cluster_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

long cluster_set_find(const struct cluster_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

uint64_t cluster_weight(const char *name, const char *repo)
{
	crypto_generichash_state st;
	uint8_t h[8];
	uint64_t w = 0;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name) + 1); /* with its NUL */
	crypto_generichash_update(&st, (const uint8_t *)repo, strlen(repo));
	crypto_generichash_final(&st, h, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		w = w << 8 | h[i];
	return w;
}

size_t cluster_owner(const struct cluster_set *s, const char *repo)
{
	size_t best = 0;
	uint64_t bw = cluster_weight(s->v[0].name, repo);

	for (size_t i = 1; i < s->n; i++) {
		uint64_t w = cluster_weight(s->v[i].name, repo);

		if (w > bw || (w == bw && strcmp(s->v[i].name, s->v[best].name) < 0)) {
			best = i;
			bw = w;
		}
	}
	return best;
}
