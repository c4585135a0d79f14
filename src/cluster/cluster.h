/*
 * The cluster's pieces that need no server (docs/internals/cluster.md): the searcher set and
 * rendezvous hashing (rendezvous.c), the signature of internal requests (sign.c) and the
 * searcher's answer on the wire (wire.c). The frontend's fan-out, which needs libcurl, is
 * src/server/cluster.c.
 */
#ifndef TRAWL_CLUSTER_CLUSTER_H
#define TRAWL_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search/search.h"
#include "util/buf.h"

/* ---- the searcher set and rendezvous hashing (rendezvous.c) ---- */

#define CLUSTER_NAME_MAX 63
#define CLUSTER_HOST_MAX 255
#define CLUSTER_NODES_MAX 1024

struct cluster_node {
	char name[CLUSTER_NAME_MAX + 1]; /* the stable identity rendezvous hashing uses */
	char host[CLUSTER_HOST_MAX + 1]; /* a DNS name or an address ([v6] in brackets) */
	unsigned port;
};

struct cluster_set {
	struct cluster_node *v;
	size_t n;
};

/*
 * Parses --searchers: "NAME=HOST:PORT" items separated by commas. Names are letters, digits,
 * '-', '_' and '.', unique. EINVAL with a message naming the bad item, ENOMEM.
 */
int cluster_set_parse(struct cluster_set *out, const char *list);
/*
 * Builds the list --searcher-count N and --searcher-pattern P describe (P holding one %d): the
 * searchers at P(0) ... P(N-1), each named by its host's first label when the number is in it
 * (trawl-searcher-%d.trawl-searcher:7070 gives trawl-searcher-0, a StatefulSet pod's name, as
 * --self=$(POD_NAME) says), else searcher-0 ... EINVAL, ENOMEM.
 */
int cluster_set_pattern(struct cluster_set *out, unsigned n, const char *pattern);
void cluster_set_dispose(struct cluster_set *s);
/* "HOST:PORT" or "[V6]:PORT" (s[0..len)) into n's host and port; -1 when malformed. */
int cluster_addr_parse(struct cluster_node *n, const char *s, size_t len);
/* The index of the node called name, or -1. */
long cluster_set_find(const struct cluster_set *s, const char *name);

/* The rendezvous weight of repository repo on node name: BLAKE2b-64 of name, NUL, repo. */
uint64_t cluster_weight(const char *name, const char *repo);
/*
 * The owner of repo: the node of highest weight (ties: the smaller name). s must not be empty.
 * Adding a node moves to it only the repositories it now wins, about 1/(n+1) of them.
 */
size_t cluster_owner(const struct cluster_set *s, const char *repo);

/* ---- the searcher set from a Kubernetes headless Service's DNS (dns.c) ---- */

/*
 * A name that DNS no longer gives stays in the set this long (at its last address): a pod that
 * is deleted and created again (a rolling update, a drain) is absent from the Service for a
 * while, and its repositories must stay its own (flagged partial while it is away) rather than
 * move to searchers that do not hold their shards. A new name joins at once.
 */
#define CLUSTER_DNS_KEEP_S 300
/* Addresses one resolution may give: a dual-stack pod has two. */
#define CLUSTER_DNS_ADDRS_MAX ((size_t)2 * CLUSTER_NODES_MAX)

/* One address of --searchers-dns's host, with the name its reverse DNS gives. */
struct cluster_dns_addr {
	int family;                      /* AF_INET or AF_INET6 */
	char addr[48];                   /* numeric, without brackets */
	char name[CLUSTER_HOST_MAX + 1]; /* its PTR name; "" when it has none */
};

/*
 * Lists host's addresses (A and AAAA) with their names into *out (the caller frees it), *n.
 * EINVAL when host has no address, EIO when a look-up fails otherwise, ENOMEM; each with a
 * message naming host. cluster_dns_lookup is getaddrinfo's and getnameinfo's; the tests
 * give their own.
 */
typedef int (*cluster_dns_resolver)(struct cluster_dns_addr **out, size_t *n, const char *host);
int cluster_dns_lookup(struct cluster_dns_addr **out, size_t *n, const char *host);

/*
 * The set addresses v[0..n) name, each searcher named by the first label of its address's name
 * (a StatefulSet pod's: pod.service.namespace.svc...) at that address and port, sorted by
 * name. Refused whole (EINVAL, the message starting with spec): no address, an address without
 * a name, a first label that is no searcher name or is the address itself (what the Service
 * gives a pod without a hostname), one name for two addresses of one family (the same name
 * for an IPv4 and an IPv6 address is one dual-stack pod: its first address is used). ENOMEM.
 */
int cluster_set_from_addrs(struct cluster_set *out, const char *spec,
			   const struct cluster_dns_addr *v, size_t n, unsigned port);

/* A --searchers-dns HOST:PORT's state between resolutions. Not thread-safe. */
struct cluster_dns {
	char spec[CLUSTER_HOST_MAX + 8]; /* HOST:PORT, for messages */
	char host[CLUSTER_HOST_MAX + 1];
	unsigned port;
	cluster_dns_resolver resolve;
	struct cluster_set set; /* the current set, sorted by name (empty until resolved) */
	int64_t *seen_s;        /* per node of set: when DNS last gave its name */
};

/* Parses spec HOST:PORT (EINVAL with a message); resolve NULL is cluster_dns_lookup. */
int cluster_dns_init(struct cluster_dns *d, const char *spec, cluster_dns_resolver resolve);
void cluster_dns_dispose(struct cluster_dns *d);
/*
 * Resolves again at time now (seconds): d->set becomes the names DNS gives, with those it gave
 * within CLUSTER_DNS_KEEP_S kept; *is_changed says whether a name, host or port changed. A
 * resolution refused (cluster_set_from_addrs, the resolver's errors) leaves d->set as it was.
 */
int cluster_dns_refresh(struct cluster_dns *d, int64_t now, bool *is_changed);
/* A copy of s into *out. ENOMEM. */
int cluster_set_copy(struct cluster_set *out, const struct cluster_set *s);
/*
 * "NAME=HOST:PORT,..." for --searchers: what an indexer hands its sync (which then needs no
 * DNS). ENOMEM, ELIMIT.
 */
int cluster_set_format(struct buf *out, const struct cluster_set *s);

/* ---- signed internal requests (sign.c) ---- */

#define CLUSTER_SIGN_HEADER "X-Trawl-Signature"
#define CLUSTER_SIGN_WINDOW_S 60
#define CLUSTER_SIG_MAX 160 /* the header's value, NUL included */
#define CLUSTER_KEY_BYTES 32

struct cluster_key {
	uint8_t k[CLUSTER_KEY_BYTES];
};

/*
 * Reads --cluster-secret-file: at least 32 bytes, raw or base64 text (surrounding whitespace
 * ignored); the key is SHA-256 of the decoded secret. EINVAL (too short), EIO, with a message
 * that never holds the secret.
 */
int cluster_key_load(struct cluster_key *out, const char *path);
/* The key of secret[0..len) itself (the tests). */
void cluster_key_of(struct cluster_key *out, const void *secret, size_t len);

/*
 * What a signature names of its request besides the body: the searcher it is for (its name in
 * the set, its --self), so that a request seen on the way to one searcher cannot be replayed to
 * another, whose nonce table does not hold it; the method; the path with its query.
 */
struct cluster_req {
	const char *target;
	const char *method;
	const char *path;
};

/*
 * The signature header's value for a request at time now (Unix seconds):
 * "t=TIME,n=NONCE,s=MAC" where NONCE is 16 random bytes in hex and MAC is HMAC-SHA256, in
 * hex, over "TARGET\nMETHOD\nPATH\nTIME\nNONCE\nSHA256(BODY) in hex".
 */
void cluster_sign(char out[CLUSTER_SIG_MAX], const struct cluster_key *k,
		  const struct cluster_req *q, const void *body, size_t len, int64_t now);

/*
 * A request with a body also sends the body's SHA-256 in hex (CLUSTER_HASH_HEADER), which
 * the signature covers: a searcher checks the signature against it before reading the body
 * (cluster_verify_head), so no one without the secret makes it read (and hold) one.
 */
#define CLUSTER_HASH_HEADER "X-Trawl-Content-SHA256"
#define CLUSTER_HASH_HEX (2 * 32 + 1) /* with its NUL */
void cluster_body_hash(char out[CLUSTER_HASH_HEX], const void *body, size_t len);
/*
 * SECURITY: checks header against body_hash (the CLUSTER_HASH_HEADER's value, NULL when
 * missing) before the body is read: form, time, MAC, and that the nonce is not one seen
 * (without remembering it: cluster_verify, once the body is in, checks the MAC over the body
 * itself and takes the nonce). 0 or EPERM.
 */
struct cluster_replay;
int cluster_verify_head(struct cluster_replay *r, const struct cluster_key *k,
			const char *header, const struct cluster_req *q, const char *body_hash,
			int64_t now);

/* Nonces seen within the window: a bounded table (each lives until its time + the window). */
struct cluster_replay;

int cluster_replay_new(struct cluster_replay **out, size_t capacity);
void cluster_replay_free(struct cluster_replay *r);

/*
 * SECURITY: checks a request's signature header (NULL when missing): its form, its time within
 * CLUSTER_SIGN_WINDOW_S of now, its MAC (compared in constant time), then its nonce, which
 * must not have been seen (it is remembered; the table is locked). 0, or EPERM for every
 * failure alike (the caller answers a bare 401), ELIMIT when the table is full of live nonces.
 */
int cluster_verify(struct cluster_replay *r, const struct cluster_key *k, const char *header,
		   const struct cluster_req *q, const void *body, size_t len, int64_t now);

/* ---- the searcher's answer (wire.c) ---- */

/*
 * A searcher's answer to POST /internal/v1/search is binary: "TRWLC1", then records, each a
 * tag byte: 'F' a file (the encoding of wire_put_file), 'P' the progress's counts,
 * 'S' the stats (last), or 'E' an error
 * (a TRAWL_E* code, the error position and message). Strings are a varint length, the bytes
 * and a NUL; scores are IEEE doubles, little-endian.
 */
#define CLUSTER_WIRE_MAGIC "TRWLC1"

int cluster_wire_begin(struct buf *b);
/*
 * Appends file f. With context > 0, f's content goes too, with every line farther than
 * context from a matching line emptied (its '\n' kept, so line numbers hold), and each line's
 * text as an offset into it (the JSON's context lines are read there). ENOMEM, ELIMIT.
 */
int cluster_wire_put_file(struct buf *b, const struct search_file *f, unsigned context);
int cluster_wire_put_stats(struct buf *b, const struct search_stats *st);
/*
 * 'P': what the search's last progress counted (matching lines and files found, before
 * ranking and count:) and the shards of the repositories it was sent (the caller's: a stream
 * shows a caller the shards they read only), before the stats when the frontend asks
 * ("progress": a stream's last progress event is the sum of its searchers').
 */
struct cluster_progress {
	uint64_t lines, files, shards;
};
int cluster_wire_put_progress(struct buf *b, const struct cluster_progress *p);
int cluster_wire_put_error(struct buf *b, int err, size_t pos, const char *msg);

/* A decoded answer: its files point into the body, which must outlive it. */
struct cluster_answer {
	struct search_file *files;
	size_t n_files;
	struct search_stats stats;
	bool has_stats;
	struct cluster_progress progress; /* a 'P' record's (zeros without one) */
	int err;        /* an 'E' record: the searcher's error code (0: none) */
	size_t err_pos; /* its position in the query, or (size_t)-1 */
	const char *err_msg;
};

/*
 * SECURITY: decodes body[0..len) (NUL-terminated at len: the decoder checks each string's
 * NUL) into *out; hostile input is refused: every count is bounded by the bytes left, every
 * offset checked, what the decoded answer allocates by max_mem bytes, a NaN score refused.
 * ECORRUPT with a message, ENOMEM. Dispose *out either way.
 */
int cluster_wire_decode(struct cluster_answer *out, const uint8_t *body, size_t len,
			size_t max_mem);
void cluster_answer_dispose(struct cluster_answer *a);

#endif
