/*
 * The syntax of a repository URL, in one place for the three that read it: the URL policy
 * (src/git/url.c), credentials matching (src/git/mirror.c) and the registry, which removes
 * secrets from URLs an older trawl stored (src/store/store.c). Syntax only: which forms are
 * allowed is the policy's business.
 *
 * Three forms, told apart as git does: "scheme://authority/path?query#fragment" when "://"
 * comes before any '/'; scp-like "[user@]host:path" when a ':' comes before any '/'; otherwise
 * a local path, whose bytes are all path (a directory may be called "a?b#c").
 */
#ifndef TRAWL_UTIL_REPOURL_H
#define TRAWL_UTIL_REPOURL_H

#include <stdbool.h>
#include <stddef.h>

enum repourl_form {
	REPOURL_SCHEME,
	REPOURL_SCP,
	REPOURL_PATH,
};

/* Borrowed pointers into the URL split, with lengths; a part that is absent is NULL. */
struct repourl {
	enum repourl_form form;
	const char *scheme;   /* REPOURL_SCHEME: before "://" */
	const char *userinfo; /* before the authority's last '@'; NULL when it holds no '@' */
	const char *host;     /* the rest of the authority: host, "[v6]", ":port" (scheme form) */
	const char *path;     /* from the authority's end ('/' or after scp's ':') to '?' or '#' */
	const char *query;    /* from '?' (included) to '#'; never for a local path */
	const char *fragment; /* from '#' (included) to the end; never for a local path */
	size_t scheme_len, userinfo_len, host_len, path_len, query_len, fragment_len;
};

/* Splits url (NUL-terminated) into its parts. Never fails: every string has some reading. */
void repourl_split(struct repourl *out, const char *url);

/* Whether the scheme (of a REPOURL_SCHEME split) or the form means ssh (ssh, git+ssh, scp). */
bool repourl_is_ssh(const struct repourl *u);

/*
 * Whether u[0..len) is a plain login name: 1-64 letters, digits, '.', '_', '-', not starting
 * with '-'. An ssh URL may carry one ("git@host:x"); anything else in its user information (a
 * ':' and a password, a '%' that decodes to one) is refused, and removed by repourl_redact.
 */
bool repourl_user_ok(const char *u, size_t len);

/*
 * The URL without its secrets: no query, no fragment, no user information, except an ssh URL
 * keeps a plain login name (repourl_user_ok) and drops any password after it. An scp-like URL
 * with '@' in its path (libgit2 would read a user name up to there) keeps only what follows
 * the last '@', behind "***@". A local path is never changed. *out gets a new string, or NULL
 * when url holds nothing to remove. ENOMEM.
 */
int repourl_redact(char **out, const char *url);

/*
 * The default repository name for url: the last component of its path (of the whole text for
 * a local path), without trailing slashes and without ".git". A query or fragment never
 * contributes. *out gets a new string, possibly empty (then the caller needs a name). ENOMEM.
 */
int repourl_name(char **out, const char *url);

/*
 * Whether name is what trawl before this version named a repository of url (the last
 * component of the whole text, a query or fragment included) and that differs from
 * repourl_name: the name then holds query or fragment material, possibly a token.
 */
bool repourl_name_is_from_query(const char *name, const char *url);

#endif
