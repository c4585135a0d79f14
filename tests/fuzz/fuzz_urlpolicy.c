/*
 * Fuzz target for the repository URL policy (src/git/url.c gurl_parse, gurl_prefix_match) and
 * the URL syntax under it (src/util/repourl.c). The first byte chooses the policy's flags; the
 * rest is "URL" or "PREFIX\nURL". Checks: never a crash or a read past the string; a refusal
 * explains itself; an accepted URL keeps the policy's promises (no helper syntax, no secret in
 * it, a scheme the flags allow, a sane host and port); redaction removes what it must.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "git/url.h"
#include "util/error.h"
#include "util/repourl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct gurl *u, const char *url, const struct gurl_policy *p)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789+.-_";
	static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789.-_:";
	const char *port = gurl_port(u);
	size_t i = strspn(url, name_chars);

	if (i > 0 && url[i] == ':' && url[i + 1] == ':')
		abort(); /* "<helper>::<address>" never gets through */
	if (url[0] == '-')
		abort();
	if ((u->kind == GURL_HTTP && !p->allow_insecure) || (u->kind == GURL_LOCAL && !p->allow_local))
		abort();
	if (u->kind == GURL_LOCAL) {
		if (u->host || u->path || u->user)
			abort();
		return;
	}
	/* SECURITY: only ssh keeps a user name, and only a plain login name. */
	if (u->user && (u->kind != GURL_SSH || !repourl_user_ok(u->user, strlen(u->user))))
		abort();
	if (!u->host || !u->path || !u->host[0] || u->host[0] == '-' ||
	    strspn(u->host, host_chars) != strlen(u->host))
		abort();
	if (strpbrk(u->path, "?#"))
		abort();
	if (!port[0] || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		abort();
}

/* A redacted URL holds no query, fragment or password. */
static void check_redact(const char *url)
{
	struct repourl r;
	char *out = NULL, *name = NULL;

	if (repourl_redact(&out, url) == 0 && out) {
		repourl_split(&r, out);
		if (r.form != REPOURL_PATH && (r.query || r.fragment))
			abort();
		if (r.userinfo && (!repourl_is_ssh(&r) || memchr(r.userinfo, ':', r.userinfo_len)))
			abort();
	}
	free(out);
	if (repourl_name(&name, url) == 0 && name) {
		if (strchr(name, '/'))
			abort(); /* one component */
		(void)repourl_name_is_from_query(name, url);
	}
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gurl_policy p;
	struct gurl u, pre;
	char *s, *url, *nl;
	size_t score;

	if (size < 1)
		return 0;
	p = (struct gurl_policy){ .allow_insecure = data[0] & 1, .allow_local = data[0] & 2,
				  .allow_private = data[0] & 4 };
	/* A copy of exactly the string: ASan catches a read past its NUL. */
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	nl = strchr(s, '\n');
	url = nl ? nl + 1 : s;
	if (nl)
		*nl = '\0';
	if (gurl_parse(&u, url, &p) < 0) {
		if (!error_last()[0] || u.host || u.path || u.user || u.port)
			abort();
	} else {
		check_accepted(&u, url, &p);
		if (nl && gurl_parse(&pre, s, &p) == 0) {
			if (gurl_prefix_match(&score, &pre, &u) && score == 0)
				abort();
			/* Never for a local path, whatever the prefix. */
			if (u.kind == GURL_LOCAL && gurl_prefix_match(&score, &pre, &u))
				abort();
			gurl_dispose(&pre);
		}
		gurl_dispose(&u);
	}
	check_redact(url);
	free(s);
	return 0;
}
