/*
 * Routing as data (STYLE.md: Redis's command table): a table of routes, each a path pattern,
 * the query parameters it accepts, its flags and its handler; route_match finds the one a
 * request path names. Also the untrusted-input helpers every handler relies on: percent
 * decoding and path confinement. Nothing here knows about libmicrohttpd, so the unit tests and
 * the fuzz target run it directly.
 */
#ifndef TRAWL_SERVER_ROUTE_H
#define TRAWL_SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct req;

enum route_flags {
	ROUTE_API = 1u << 0,    /* JSON errors, Cache-Control: no-store */
	ROUTE_SEARCH = 1u << 1, /* runs a search: counts against the concurrent-search cap */
	ROUTE_INDEX = 1u << 2,  /* needs the index (503 before there is one) */
};

/* Largest decoded {name} and query parameter values. */
#define ROUTE_NAME_MAX 1024
#define ROUTE_PARAM_MAX 8192

struct route {
	/*
	 * Segments separated by '/': literal text (compared with the raw, still percent-encoded
	 * path), "{name}" (one non-empty segment, percent-decoded into route_args.name) or a
	 * final "*" (the rest of the path, undecoded, possibly empty).
	 */
	const char *pattern;
	const char *const *params; /* the query parameters allowed (NULL-terminated); NULL: none */
	unsigned flags;            /* enum route_flags */
	int (*handler)(struct req *rq);
	const char *name;          /* for logs and metrics */
};

struct route_args {
	char name[ROUTE_NAME_MAX + 1]; /* decoded {name}, NUL-terminated */
	size_t name_len;
	const char *rest;               /* the "*" part, borrowed from the path */
};

/*
 * Finds the route of raw path (no query string) in table[0..n). ENOTFOUND when none matches,
 * EINVAL when the route matches but its {name} is malformed (bad percent-encoding, NUL, too
 * long, invalid UTF-8): those are 400s, not 404s.
 */
int route_match(const struct route **out, struct route_args *args, const struct route *table,
		size_t n, const char *path);

/* Whether name is one of route's allowed parameters. */
bool route_param_allowed(const struct route *r, const char *name);

/*
 * Percent-decodes in[0..in_len) into out (at most out_max bytes, then NUL-terminated; out needs
 * out_max + 1 bytes). With is_query, '+' is a space (forms and URLSearchParams encode spaces
 * so). EINVAL: a '%' not followed by two hex digits, or a decoded NUL; ELIMIT: too long.
 */
int route_url_decode(char *out, size_t *out_len, size_t out_max, const char *in, size_t in_len,
		     bool is_query);

/*
 * SECURITY: confines a repository path parameter (F1), given percent-decoded. Accepts "" (the
 * root) and relative '/'-separated paths whose components hold any bytes but NUL (backslashes,
 * control bytes, '%' and invalid UTF-8 are parts of names, as in git); refuses absolute
 * paths, "." and ".." components, empty components ("a//b", a trailing '/') and NUL. EINVAL
 * with a message.
 */
int route_path_check(const char *path, size_t len);

/*
 * SECURITY: whether a Host header names this loopback server: localhost, an IPv4 address in
 * 127.0.0.0/8 or [::1], with an optional port. Until trawl has accounts, anything else is a
 * request a web page made through DNS rebinding (its own name resolved to 127.0.0.1) and must
 * not be answered. NULL (no Host) is refused too.
 */
bool route_host_is_loopback(const char *host);

struct buf;

/*
 * Appends one server-sent event, "event: NAME\ndata: DATA\n\n". A CR or LF inside data starts
 * a new "data:" line instead of ending the event (the encoders never produce one; this keeps
 * it so). ENOMEM, ELIMIT.
 */
int route_sse_event(struct buf *b, const char *name, const char *data, size_t len);

#endif
