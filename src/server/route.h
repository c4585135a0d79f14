/*
 * Routing as data (STYLE.md: Redis's command table): a table of routes, each a path pattern,
 * its methods, its access rule (authentication and permission), its limits, the query
 * parameters it accepts and its handler; route_match finds the one a request path names, and
 * route_error_of is the one map from a handler's TRAWL_E* code to an HTTP status. Also the untrusted-input helpers every handler relies on: percent
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
	/* Runs a search: counts against the concurrent-search cap, may run on the search pool. */
	ROUTE_SEARCH = 1u << 1,
	ROUTE_INDEX = 1u << 2,  /* needs the index (503 before there is one) */
	/*
	 * A GET that changes state: OpenID Connect's login (a pending login) and callback (a
	 * session), and no other row (test_dispatch.c checks it). A provider sends the browser
	 * back by a GET; the callback's CSRF protection is its single-use state, bound to the
	 * cookie the login set on this browser (handlers_sso.c).
	 */
	ROUTE_GET_SIGNS_IN = 1u << 3,
};

/* The methods a route answers (a bit each). */
enum route_method {
	ROUTE_GET = 1u << 0,
	ROUTE_HEAD = 1u << 1,
	ROUTE_POST = 1u << 2,
	ROUTE_PUT = 1u << 3,
	ROUTE_DELETE = 1u << 4,
};

/* Who may call a route. Unset (0) is refused: every route states its rule. */
enum route_auth {
	ROUTE_AUTH_UNSET = 0,
	ROUTE_AUTH_NONE,  /* anyone who reaches the server (loopback only until accounts exist) */
	ROUTE_AUTH_USER,  /* a signed-in caller */
};

/* The permission a route needs (a bit each, as access_caller.perms holds them). */
enum route_perm {
	ROUTE_PERM_UNSET = 0,
	ROUTE_PERM_READ = 1u << 0,  /* read what the caller's readable repositories hold */
	ROUTE_PERM_ADMIN = 1u << 1, /* manage the server */
	/*
	 * Nothing: open to every caller, also without credentials in team mode (/healthz, signing
	 * in, the web UI's page and assets). Such a route carries no repository data.
	 */
	ROUTE_PERM_NONE = 1u << 2,
};

/* Largest decoded {name} and query parameter values. */
#define ROUTE_NAME_MAX 1024
#define ROUTE_PARAM_MAX 8192

/*
 * One row of the route table. The dispatcher enforces every column before the handler runs:
 * lookup -> method -> body size -> parameters -> authenticate -> authorize -> limits.
 */
struct route {
	/*
	 * Segments separated by '/': literal text (compared with the raw, still percent-encoded
	 * path), "{name}" (one non-empty segment, percent-decoded into route_args.name) or a
	 * final "*" (the rest of the path, undecoded, possibly empty).
	 */
	const char *pattern;
	unsigned methods;          /* enum route_method; a request with another method is a 405 */
	unsigned flags;            /* enum route_flags */
	enum route_auth auth;
	enum route_perm perm;
	size_t max_body;           /* request body bytes accepted; 0: none */
	const char *const *params; /* the query parameters allowed (NULL-terminated); NULL: none */
	/*
	 * Builds the response (0), or returns a negative TRAWL_E* code without one: the
	 * dispatcher answers it through route_error_of. NULL: the path is known not to exist.
	 */
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

/*
 * The row for method among r and the rows after it with r's pattern: rows sharing a pattern
 * give one path different rules by method (signing in is open, signing out needs a user). r
 * itself when none has the method (a 405); *all gets the methods of them all (its Allow).
 */
const struct route *route_by_method(const struct route *r, const struct route *table, size_t n,
				    unsigned method, unsigned *all);

/* Whether r is open to everyone: no authentication and no permission (ROUTE_PERM_NONE). */
bool route_is_open(const struct route *r);

/* Whether name is one of route's allowed parameters. */
bool route_param_allowed(const struct route *r, const char *name);

/* The enum route_method bit of an HTTP method name, or 0 for one trawl knows nothing of. */
unsigned route_method_of(const char *method);

/*
 * The value of the Allow header of a 405 for methods ("GET, HEAD"), in out (n bytes, always
 * NUL-terminated).
 */
void route_allow(char *out, size_t n, unsigned methods);

struct access_caller;
struct access_request;

/* The dispatcher's answer to a request before its handler runs. */
struct route_verdict {
	unsigned status;      /* 0: admitted; else the refusal's HTTP status */
	const char *code;     /* the JSON error code */
	const char *message;
	char allow[48];       /* with a 405: the Allow header's value */
};

/*
 * Enforces route r's columns, in order: the method (405 with Allow), the body (a route with
 * max_body 0 takes none: 400; a declared body_len over max_body: 413; 0 when the length is
 * not declared, a chunked body counted as it arrives), then authentication
 * (access_authenticate with in: 401, or 500 when the accounts cannot be read) and
 * authorization (access_authorize: 401 for an anonymous caller, else 403: deny by default).
 * Fills *caller on the way. 0 when admitted, else a negative code and the refusal in *v.
 */
int route_admit(struct route_verdict *v, struct access_caller *caller, const struct route *r,
		const char *method, bool has_body, unsigned long long body_len,
		const struct access_request *in);

/* The message of every 401: how to authenticate (docs/api.md, "Authentication"). */
#define ROUTE_UNAUTHORIZED_MSG "sign in, or send an API token in Authorization: Bearer"

/* How a handler's error code is answered. */
struct route_error {
	int err;             /* the TRAWL_E* code (0 in the last row: every other code) */
	unsigned status;     /* the HTTP status */
	const char *code;    /* the JSON error code ("not_found") */
	/* The message, or NULL: the detail the code's error_set gave (safe to show by rule). */
	const char *message;
};

/*
 * SECURITY: the one map from error codes to HTTP answers. EPERM (a repository the caller may
 * not read) answers exactly as ENOTFOUND does, so a hidden repository looks missing; codes
 * whose detail may name files or SQL (EIO, ECORRUPT, ENOMEM...) are a bare 500.
 */
const struct route_error *route_error_of(int err);

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

/*
 * Splits a Host value "NAME[:PORT]" or "[IPV6][:PORT]": the length of its name part (brackets
 * included) and its port (443 when none: trawl off loopback is reached over https). False when
 * malformed (a name is letters, digits, '-' and '.').
 */
bool route_host_split(const char *host, size_t *name_len, unsigned *port);

/*
 * SECURITY: whether a Host header names this server: a loopback name (route_host_is_loopback),
 * or external, the host and port of --external-url ("code.example.com:443"; NULL or "": none),
 * the name compared without regard to case. Any other Host is refused (421), as DNS rebinding.
 */
bool route_host_is_allowed(const char *host, const char *external);

struct buf;

/*
 * Appends one server-sent event, "event: NAME\ndata: DATA\n\n". A CR or LF inside data starts
 * a new "data:" line instead of ending the event (the encoders never produce one; this keeps
 * it so). ENOMEM, ELIMIT.
 */
int route_sse_event(struct buf *b, const char *name, const char *data, size_t len);

#endif
