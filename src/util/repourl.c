/* Repository URL syntax; see repourl.h. */
#include "util/repourl.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/error.h"

#define USER_MAX 64

void repourl_split(struct repourl *out, const char *url)
{
	const char *sep = strstr(url, "://"), *slash = strchr(url, '/'), *colon = strchr(url, ':');
	const char *auth, *auth_end, *hier_end, *hash;

	memset(out, 0, sizeof(*out));
	if (sep && (!slash || sep < slash)) {
		out->form = REPOURL_SCHEME;
		out->scheme = url;
		out->scheme_len = (size_t)(sep - url);
		auth = sep + 3;
		/* As RFC 3986 and curl read it: the authority ends at '/', '?' or '#'. */
		auth_end = auth + strcspn(auth, "/?#");
		hier_end = auth_end + strcspn(auth_end, "?#");
	} else if (colon && (!slash || colon < slash)) {
		out->form = REPOURL_SCP;
		auth = url;
		auth_end = colon;
		hier_end = colon + 1 + strcspn(colon + 1, "?#");
	} else {
		out->form = REPOURL_PATH;
		out->path = url;
		out->path_len = strlen(url);
		return;
	}
	out->host = auth;
	for (const char *c = auth; c < auth_end; c++)
		if (*c == '@')
			out->host = c + 1;
	if (out->host != auth) {
		out->userinfo = auth;
		out->userinfo_len = (size_t)(out->host - 1 - auth);
	}
	out->host_len = (size_t)(auth_end - out->host);
	out->path = out->form == REPOURL_SCP ? auth_end + 1 : auth_end;
	out->path_len = (size_t)(hier_end - out->path);
	if (*hier_end == '?') {
		out->query = hier_end;
		out->query_len = strcspn(hier_end, "#");
	}
	if ((hash = strchr(hier_end, '#'))) {
		out->fragment = hash;
		out->fragment_len = strlen(hash);
	}
}

bool repourl_is_ssh(const struct repourl *u)
{
	static const char *const schemes[] = { "ssh", "git+ssh", "ssh+git" };

	if (u->form == REPOURL_SCP)
		return true;
	for (size_t i = 0; u->form == REPOURL_SCHEME && i < sizeof(schemes) / sizeof(*schemes); i++)
		if (u->scheme_len == strlen(schemes[i]) &&
		    strncasecmp(u->scheme, schemes[i], u->scheme_len) == 0)
			return true;
	return false;
}

bool repourl_user_ok(const char *u, size_t len)
{
	if (len == 0 || len > USER_MAX || u[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)u[i]) && !strchr("._-", u[i]))
			return false;
	return true;
}

int repourl_redact(char **out, const char *url)
{
	struct repourl u;
	struct buf b;
	const char *path, *at = NULL;
	size_t user_len = 0, path_len;
	int err;

	*out = NULL;
	repourl_split(&u, url);
	if (u.form == REPOURL_PATH)
		return 0;
	if (u.userinfo && repourl_is_ssh(&u)) {
		const char *colon = memchr(u.userinfo, ':', u.userinfo_len);

		user_len = colon ? (size_t)(colon - u.userinfo) : u.userinfo_len;
		if (!repourl_user_ok(u.userinfo, user_len))
			user_len = 0;
	}
	path = u.path;
	path_len = u.path_len;
	/* libgit2 reads an scp-like user name up to the first '@', wherever it is. */
	for (const char *c = path; u.form == REPOURL_SCP && c < path + path_len; c++)
		if (*c == '@')
			at = c;
	if (at) {
		path_len -= (size_t)(at + 1 - path);
		path = at + 1;
	}
	if (!u.query && !u.fragment && !at && (!u.userinfo || user_len == u.userinfo_len))
		return 0;
	buf_init(&b, strlen(url) + 8);
	if ((u.form == REPOURL_SCHEME && ((err = buf_put(&b, u.scheme, u.scheme_len)) < 0 ||
					  (err = buf_puts(&b, "://")) < 0)) ||
	    (user_len && ((err = buf_put(&b, u.userinfo, user_len)) < 0 ||
			  (err = buf_putc(&b, '@')) < 0)) ||
	    (err = buf_put(&b, u.host, u.host_len)) < 0 ||
	    (u.form == REPOURL_SCP && (err = buf_putc(&b, ':')) < 0) ||
	    (at && (err = buf_puts(&b, "***@")) < 0) || (err = buf_put(&b, path, path_len)) < 0) {
		buf_dispose(&b);
		return err;
	}
	if (!(*out = buf_detach(&b, NULL)))
		return error_nomem(NULL);
	return 0;
}

/*
 * The default name's span in s[0..end): the last component after '/' or ':', trailing slashes
 * and a ".git" suffix left out.
 */
static void name_span(size_t *start, size_t *stop, const char *s, size_t end)
{
	while (end > 0 && s[end - 1] == '/')
		end--;
	*start = end;
	while (*start > 0 && s[*start - 1] != '/' && s[*start - 1] != ':')
		(*start)--;
	if (end - *start > 4 && strncmp(s + end - 4, ".git", 4) == 0)
		end -= 4;
	*stop = end;
}

int repourl_name(char **out, const char *url)
{
	struct repourl u;
	size_t start, stop;

	repourl_split(&u, url);
	name_span(&start, &stop, url, (size_t)(u.path + u.path_len - url));
	if (!(*out = strndup(url + start, stop - start)))
		return error_nomem(NULL);
	return 0;
}

bool repourl_name_is_from_query(const char *name, const char *url)
{
	struct repourl u;
	size_t old_start, old_stop, start, stop, len = strlen(name);

	repourl_split(&u, url);
	if (!u.query && !u.fragment)
		return false;
	name_span(&old_start, &old_stop, url, strlen(url));
	name_span(&start, &stop, url, (size_t)(u.path + u.path_len - url));
	return len == old_stop - old_start && memcmp(name, url + old_start, len) == 0 &&
	       (stop - start != len || memcmp(name, url + start, len) != 0);
}
