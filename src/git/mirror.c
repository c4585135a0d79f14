/*
 * Bare mirrors through libgit2; see mirror.h.
 *
 * DESIGN: a fetch is libgit2's own (anonymous remote, every branch forced, pruned), with
 * two things replaced: the socket stream (registered as GIT_STREAM_STANDARD, which libgit2's TLS
 * and SSH transports also sit on) so that every connection checks the addresses it goes to, and
 * the credential callback, which answers with the one entry the caller passed. A first clone
 * goes to a temporary directory the caller renames to DIR once the clone is complete (trawl
 * sync does, after its confined fetch worker has exited), so DIR is always a whole mirror or
 * absent.
 */
#include "git/mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>

#include "git/git_int.h"
#include "git/knownhosts.h"
#include "util/error.h"
#include "util/file.h"

#define CONNECT_TIMEOUT_S 30
#define IO_TIMEOUT_S 300

/* --- the connection hook -------------------------------------------------------------------- */

/*
 * The policy of the fetch in progress and the one endpoint it may connect to: the URL's host
 * and port (fetches run one at a time in a process). Pinning the port as well as the host
 * matters because libgit2 follows a redirect to the same host whatever follow_redirects says
 * (it compares host names only), so without it a redirect to 127.0.0.1:OTHERPORT, or a URL on
 * a public host redirecting to another service of that host, would be followed.
 */
static struct gurl_policy stream_policy;
static char stream_host[256], stream_port[8];

struct gstream {
	git_stream parent;
	char *host, *port;
	int fd;
};

static int stream_fail(const char *msg)
{
	git_error_set_str(GIT_ERROR_NET, msg);
	return -1;
}

static int try_connect(const struct addrinfo *ai)
{
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0)
		return -1;
	/* On Linux, SO_SNDTIMEO bounds connect() too. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		return -1;
	}
	tv.tv_sec = IO_TIMEOUT_S;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* SECURITY: P1: the addresses are checked here, at connect time, for every connection. */
static int gstream_connect(git_stream *stream)
{
	struct gstream *s = (struct gstream *)stream;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char msg[600];
	int rc, blocked = 0, saved = 0;

	rc = getaddrinfo(s->host, s->port, &hints, &res);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "cannot resolve host %s: %s", s->host, gai_strerror(rc));
		return stream_fail(msg);
	}
	for (struct addrinfo *ai = res; ai && s->fd < 0; ai = ai->ai_next) {
		if (!stream_policy.allow_private && gurl_addr_blocked(ai->ai_addr)) {
			blocked++;
			continue;
		}
		s->fd = try_connect(ai);
		saved = errno;
	}
	freeaddrinfo(res);
	if (s->fd >= 0)
		return 0;
	if (blocked)
		snprintf(msg, sizeof(msg), "refusing to connect to %s: it resolves to a loopback, "
			 "private, link-local or reserved address (allow with --allow-private)", s->host);
	else
		snprintf(msg, sizeof(msg), "cannot connect to %s port %s: %s", s->host, s->port,
			 strerror(saved));
	return stream_fail(msg);
}

static ssize_t gstream_read(git_stream *stream, void *data, size_t len)
{
	struct gstream *s = (struct gstream *)stream;
	ssize_t n;

	do
		n = recv(s->fd, data, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "reading from %s: %s", s->host,
			 errno == EAGAIN ? "timed out" : strerror(errno));
		return stream_fail(msg);
	}
	return n;
}

static ssize_t gstream_write(git_stream *stream, const char *data, size_t len, int flags)
{
	struct gstream *s = (struct gstream *)stream;
	ssize_t n;

	(void)flags;
	do
		n = send(s->fd, data, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "writing to %s: %s", s->host,
			 errno == EAGAIN ? "timed out" : strerror(errno));
		return stream_fail(msg);
	}
	return n;
}

static int gstream_close(git_stream *stream)
{
	struct gstream *s = (struct gstream *)stream;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static void gstream_free(git_stream *stream)
{
	struct gstream *s = (struct gstream *)stream;

	gstream_close(stream);
	free(s->host);
	free(s->port);
	free(s);
}

static int gstream_new(git_stream **out, const char *host, const char *port)
{
	struct gstream *s;

	/* SECURITY: P1: only the repository's own host and port, whatever libgit2 was told. */
	if (strcasecmp(host, stream_host) != 0 || strcmp(port, stream_port) != 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "refusing to connect to %.200s port %.20s: not the "
			 "repository's host and port (redirects are not followed)", host, port);
		return stream_fail(msg);
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->host = strdup(host)) || !(s->port = strdup(port))) {
		if (s)
			free(s->host);
		free(s);
		git_error_set_oom();
		return -1;
	}
	s->fd = -1;
	s->parent.version = GIT_STREAM_VERSION;
	s->parent.connect = gstream_connect;
	s->parent.read = gstream_read;
	s->parent.write = gstream_write;
	s->parent.close = gstream_close;
	s->parent.free = gstream_free;
	*out = &s->parent;
	return 0;
}

/* Installs the connection hook for a fetch from u (a local URL allows no connection at all). */
static int hook_install(const struct gurl *u, const struct gurl_policy *p)
{
	static git_stream_registration reg = { GIT_STREAM_VERSION, gstream_new, NULL };
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				      GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };
	int rc;

	stream_policy = *p;
	snprintf(stream_host, sizeof(stream_host), "%s", u->host ? u->host : "");
	snprintf(stream_port, sizeof(stream_port), "%s", gurl_port(u));
	if ((rc = git_stream_register(GIT_STREAM_STANDARD, &reg)) < 0)
		return gitrepo_error(rc, "installing the connection check");
	/*
	 * SECURITY: no user or system git configuration: url.*.insteadOf could rewrite the URL
	 * that was checked, http.followRedirects could re-enable redirects, and so on.
	 */
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if ((rc = git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "")) < 0)
			return gitrepo_error(rc, "clearing the git configuration search path");
	return 0;
}

/* --- host keys and credentials ------------------------------------------------------------- */

/*
 * What the callbacks of one fetch share: the host key check and the credentials. A problem is
 * kept in err and msg and reported after the fetch (libgit2's own message would be vaguer).
 */
struct auth {
	const char *url;
	const char *host, *port; /* the URL's own; the stream connects nowhere else */
	const struct gcred *cred;       /* the credentials entry for the URL, or NULL */
	const char *credentials;        /* the credentials file's name, for messages */
	const char *known_hosts;        /* the pinned SSH host keys, or NULL */
	const struct gitmirror_opts *o; /* the caller's options (its progress hook) */
	bool user_given;                /* the ssh transport's username step was answered */
	int calls;                      /* secrets handed out on this connection */
	int err;
	char msg[2048];
};

static int cert_refuse(struct auth *a, int err)
{
	a->err = err;
	git_error_set_str(GIT_ERROR_NET, a->msg);
	return GIT_ECERTIFICATE;
}

/*
 * SECURITY: T2: an SSH host key is accepted only when its SHA-256 fingerprint is pinned for
 * the URL's host and port in the known_hosts file; libgit2 asks for credentials only after
 * this returns 0, so an impostor never sees one.
 */
static int hostkey_check(struct auth *a, const git_cert_hostkey *hk)
{
	char fp[KHOSTS_FP_SIZE], hostport[300];
	char *text = NULL;
	size_t len = 0;
	struct khosts k = { 0 };
	int err;

	/* The host as a known_hosts entry names it, so the message can be copied into the file. */
	if (!a->port[0] || strcmp(a->port, "22") == 0)
		snprintf(hostport, sizeof(hostport), "%s", a->host);
	else if (strchr(a->host, ':'))
		snprintf(hostport, sizeof(hostport), "[%s]:%s", a->host, a->port);
	else
		snprintf(hostport, sizeof(hostport), "%s:%s", a->host, a->port);
	if (!(hk->type & GIT_CERT_SSH_SHA256)) {
		snprintf(a->msg, sizeof(a->msg), "refusing the SSH host key of %s: the ssh library "
			 "offered no SHA-256 fingerprint to check against %s", hostport,
			 a->known_hosts ? a->known_hosts : "known_hosts");
		return cert_refuse(a, TRAWL_EPERM);
	}
	khosts_fingerprint(fp, hk->hash_sha256);
	if (!a->known_hosts) {
		snprintf(a->msg, sizeof(a->msg), "refusing the SSH host key %s of %s: no known_hosts "
			 "file to check it against", fp, hostport);
		return cert_refuse(a, TRAWL_EPERM);
	}
	err = gcred_private_read(&text, &len, a->msg, sizeof(a->msg), a->known_hosts,
				 "known_hosts", 022, GCRED_FILE_MAX);
	if (err == 0) {
		err = khosts_parse(&k, text, len, a->known_hosts);
		if (err < 0)
			snprintf(a->msg, sizeof(a->msg), "%s", error_last());
		free(text);
	}
	if (err == 0) {
		err = khosts_check(&k, a->host, a->port, fp);
		khosts_dispose(&k);
	}
	if (err == 0)
		return 0;
	if (err == TRAWL_ENOTFOUND)
		snprintf(a->msg, sizeof(a->msg), "refusing the SSH host key of %s: no key is pinned for "
			 "it in %s; the server offered %s (verify it, e.g. with ssh-keyscan | "
			 "ssh-keygen -lf -, then add the line \"%s %s\"; docs/operations.md)",
			 hostport, a->known_hosts, fp, hostport, fp);
	else if (err == TRAWL_EPERM && a->msg[0] == '\0')
		snprintf(a->msg, sizeof(a->msg), "refusing the SSH host key of %s: the server offered "
			 "%s, which is NOT the key pinned in %s (someone may be impersonating the "
			 "host, or its key changed: verify before updating the file)", hostport, fp,
			 a->known_hosts);
	return cert_refuse(a, err == TRAWL_ENOTFOUND || err == TRAWL_EINVAL ? TRAWL_EPERM : err);
}

static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct auth *a = payload;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return hostkey_check(a, (const git_cert_hostkey *)cert);
	/* SECURITY: T2: TLS keeps libgit2's own verification; an invalid certificate never passes. */
	if (valid)
		return 0;
	snprintf(a->msg, sizeof(a->msg), "the TLS certificate of %.255s could not be verified "
		 "(untrusted issuer, expired, or not for this host name)", host ? host : a->host);
	return cert_refuse(a, TRAWL_EIO);
}

/*
 * Whether this call may be answered: libgit2's ssh transport first asks for a user name alone
 * (when the URL has none), then for a secret; each is answered once per connection, so a
 * refused secret fails the fetch instead of being retried in a loop.
 */
static bool creds_allowed(struct auth *a, unsigned int allowed)
{
	if (allowed == GIT_CREDENTIAL_USERNAME) {
		if (a->user_given)
			return false;
		a->user_given = true;
		return true;
	}
	return a->calls++ == 0;
}

static int creds_cb(git_credential **out, const char *url, const char *username_from_url,
		    unsigned int allowed, void *payload)
{
	struct auth *a = payload;
	const struct gcred *c = a->cred;
	const char *file = a->credentials ? a->credentials : "the credentials file";
	int rc = GIT_EAUTH;

	(void)url;
	(void)username_from_url;
	if (!creds_allowed(a, allowed)) {
		a->err = TRAWL_EAUTH;
		return GIT_EAUTH;
	}
	if (c && c->err) {
		/* The file was refused when it was read (its mode, owner, type): say so now. */
		a->err = c->err;
		snprintf(a->msg, sizeof(a->msg), "%s", c->msg);
		return GIT_EAUTH;
	}
	if (!c || !c->user || !c->secret) {
		snprintf(a->msg, sizeof(a->msg), "authentication required and no entry for this "
			 "repository in %s", file);
	} else if (allowed == GIT_CREDENTIAL_USERNAME) {
		rc = git_credential_username_new(out, c->user);
	} else if (strncmp(c->secret, "key:", 4) == 0) {
		/* SECURITY: a key file's path is never sent as a password. */
		if (allowed & GIT_CREDENTIAL_SSH_KEY)
			rc = git_credential_ssh_key_new(out, c->user, NULL, c->secret + 4, NULL);
		else
			snprintf(a->msg, sizeof(a->msg), "the server does not accept SSH key "
				 "authentication, and the entry in %s is a key", file);
	} else if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		rc = git_credential_userpass_plaintext_new(out, c->user, c->secret);
	} else {
		snprintf(a->msg, sizeof(a->msg), "the server accepts no password authentication, and "
			 "the entry in %s is a password (use key:PATH)", file);
	}
	if (rc == GIT_EAUTH)
		a->err = TRAWL_EAUTH;
	return rc;
}

/* The caller's progress hook, on libgit2's transfer progress. */
static int progress_cb(const git_indexer_progress *stats, void *payload)
{
	struct auth *a = payload;

	if (!a->o || !a->o->progress || stats->received_objects == 0)
		return 0;
	return a->o->progress(stats->received_objects, stats->total_objects,
			      a->o->progress_arg) != 0 ? -1 : 0;
}

/* --- mirrors -------------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Deletes a mirror directory (never following symlinks inside it). */
static int remove_tree(const char *dir)
{
	struct stat sb;

	if (lstat(dir, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlink(dir);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int open_bare(git_repository **repo, const char *dir)
{
	int rc = git_repository_open_ext(repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);

	return rc < 0 ? gitrepo_error(rc, "opening the mirror") : 0;
}

/*
 * Whether the mirror is whole: it opens, every ref reads and leads to a commit whose tree
 * reads (a truncated or damaged pack fails here). ECORRUPT with the reason otherwise.
 */
static int mirror_check(const char *dir)
{
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	int rc, err = 0;

	if ((err = open_bare(&repo, dir)) < 0)
		return TRAWL_ECORRUPT;
	if (!git_repository_is_bare(repo)) {
		error_set("not a bare repository");
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if ((rc = git_reference_iterator_new(&it, repo)) < 0) {
		err = gitrepo_error(rc, "reading refs");
		goto out;
	}
	while (err == 0 && (rc = git_reference_next(&ref, it)) == 0) {
		git_object *obj = NULL;
		git_tree *tree = NULL;

		rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
		if (rc == 0)
			rc = git_commit_tree(&tree, (git_commit *)obj);
		if (rc < 0)
			err = gitrepo_error(rc, "reading a branch");
		git_tree_free(tree);
		git_object_free(obj);
		git_reference_free(ref);
	}
	if (err == 0 && rc != GIT_ITEROVER)
		err = gitrepo_error(rc, "reading refs");
out:
	git_reference_iterator_free(it);
	git_repository_free(repo);
	return err < 0 ? TRAWL_ECORRUPT : 0;
}

/* Maps a failed fetch to a code: the network, the server, credentials, or our own mirror. */
static int fetch_error(int rc, struct auth *c)
{
	const git_error *e = git_error_last();
	int klass = e ? e->klass : 0;

	if (c->err) {
		error_set("%s", c->msg[0] ? c->msg : "authentication failed (credentials refused)");
		return c->err;
	}
	gitrepo_error(rc, "fetch");
	if (rc == GIT_EAUTH)
		return TRAWL_EAUTH;
	switch (klass) {
	case GIT_ERROR_ODB:
	case GIT_ERROR_REFERENCE:
	case GIT_ERROR_REPOSITORY:
	case GIT_ERROR_ZLIB:
		return TRAWL_ECORRUPT; /* of the local mirror: the caller clones again */
	case GIT_ERROR_NOMEMORY:
		return TRAWL_ENOMEM;
	default:
		return TRAWL_EIO;
	}
}

/* Points HEAD at the remote's default branch when it was fetched. */
static void set_head(git_repository *repo, const char *branch_ref)
{
	git_reference *ref = NULL;

	if (branch_ref[0] && git_reference_lookup(&ref, repo, branch_ref) == 0)
		git_repository_set_head(repo, branch_ref);
	git_reference_free(ref);
}

/* A mirror's references as sorted lines "NAME TARGET" (a commit's id, or HEAD's branch). */
struct refs_state {
	char **v;
	size_t n, cap;
	bool is_ok; /* read whole: false after any error (the fetch then counts as a change) */
};

static void refs_state_dispose(struct refs_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool refs_state_add(struct refs_state *s, const char *name, const char *target)
{
	size_t len = strlen(name) + strlen(target) + 2;
	char *line;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return false;
		s->v = v;
		s->cap = cap;
	}
	if (!(line = malloc(len)))
		return false;
	snprintf(line, len, "%s %s", name, target);
	s->v[s->n++] = line;
	return true;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads repo's references into *s (s->is_ok tells whether all of them were read). */
static void refs_state_read(struct refs_state *s, git_repository *repo)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	bool ok = git_reference_iterator_new(&it, repo) == 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	while (ok && (rc = git_reference_next(&ref, it)) == 0) {
		char id[GIT_OID_HEXSZ + 1] = "";
		const char *target = git_reference_symbolic_target(ref);

		if (!target && git_reference_target(ref))
			target = git_oid_tostr(id, sizeof(id), git_reference_target(ref));
		ok = target && refs_state_add(s, git_reference_name(ref), target);
		git_reference_free(ref);
	}
	ok = ok && rc == GIT_ITEROVER;
	git_reference_iterator_free(it);
	if (ok && git_reference_lookup(&ref, repo, "HEAD") == 0) {
		const char *target = git_reference_symbolic_target(ref);

		ok = refs_state_add(s, "HEAD", target ? target : "");
		git_reference_free(ref);
	}
	if (ok && s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_line);
	s->is_ok = ok;
}

static bool refs_state_same(const struct refs_state *a, const struct refs_state *b)
{
	if (!a->is_ok || !b->is_ok || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static int fetch_into(struct gitmirror_result *res, const char *dir, const char *url,
		      const struct gitmirror_opts *o)
{
	struct refs_state before = { 0 }, after = { 0 };
	static char refspec[] = "+refs/heads/*:refs/heads/*";
	char *specs[] = { refspec };
	git_strarray refspecs = { specs, 1 };
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_remote_create_options copts;
	git_remote_connect_options conn;
	git_fetch_options fopts;
	git_buf head = { 0 };
	struct auth c = { .url = url,
			  .host = stream_host,
			  .port = stream_port,
			  .cred = o->cred,
			  .credentials = o->credentials,
			  .known_hosts = o->known_hosts,
			  .o = o };
	char head_ref[sizeof(res->default_branch) + 16] = "";
	int rc, err = 0;

	git_remote_create_options_init(&copts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	git_remote_connect_options_init(&conn, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
	if ((err = open_bare(&repo, dir)) < 0)
		return err;
	refs_state_read(&before, repo);
	copts.repository = repo;
	/* SECURITY: no url.*.insteadOf: the URL fetched is the URL checked. */
	copts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if ((rc = git_remote_create_with_opts(&remote, url, &copts)) < 0) {
		err = gitrepo_error(rc, "setting up the remote");
		goto out;
	}
	conn.callbacks.certificate_check = cert_cb;
	conn.callbacks.credentials = creds_cb;
	conn.callbacks.payload = &c;
	/* SECURITY: P1: a redirect could lead anywhere (an internal address, another host). */
	conn.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if ((rc = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &conn)) < 0) {
		err = fetch_error(rc, &c);
		goto out;
	}
	if (git_remote_default_branch(&head, remote) == 0 && head.ptr &&
	    strncmp(head.ptr, "refs/heads/", 11) == 0 &&
	    strlen(head.ptr) < sizeof(head_ref)) {
		snprintf(head_ref, sizeof(head_ref), "%s", head.ptr);
		snprintf(res->default_branch, sizeof(res->default_branch), "%s", head.ptr + 11);
	}
	fopts.callbacks = conn.callbacks;
	fopts.callbacks.transfer_progress = progress_cb;
	fopts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	fopts.prune = GIT_FETCH_PRUNE;
	fopts.update_fetchhead = 0;
	fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	c.calls = 0;
	c.user_given = false;
	if ((rc = git_remote_fetch(remote, &refspecs, &fopts, "trawl sync")) < 0) {
		err = fetch_error(rc, &c);
		goto out;
	}
	set_head(repo, head_ref);
	refs_state_read(&after, repo);
	res->is_unchanged = refs_state_same(&before, &after);
out:
	refs_state_dispose(&before);
	refs_state_dispose(&after);
	git_buf_dispose(&head);
	git_remote_free(remote);
	git_repository_free(repo);
	return err;
}

/*
 * Clones url into tmp and leaves it there, complete, for the caller to rename (gitmirror_sync).
 * On error nothing is left at tmp.
 */
static int clone_into(struct gitmirror_result *res, const char *tmp, const char *url,
		      const struct gitmirror_opts *o)
{
	git_repository_init_options io;
	git_repository *repo = NULL;
	int rc, err;

	/* A leftover from an interrupted clone is ours to delete. */
	if (remove_tree(tmp) < 0) {
		error_set("cannot remove %s: %s", tmp, strerror(errno));
		return TRAWL_EIO;
	}
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
		   GIT_REPOSITORY_INIT_MKPATH;
	if ((rc = git_repository_init_ext(&repo, tmp, &io)) < 0) {
		err = gitrepo_error(rc, "creating the mirror");
		goto out;
	}
	git_repository_free(repo);
	if ((err = fetch_into(res, tmp, url, o)) < 0)
		goto out;
	res->cloned = true;
	res->is_unchanged = false;
out:
	if (err < 0)
		remove_tree(tmp);
	return err;
}

/*
 * git's lock files ("refs/heads/main.lock", "packed-refs.lock", ...) are created beside what they
 * replace and renamed over it; a fetch killed in between leaves one, and every later fetch then
 * fails with "failed to lock file". Only one sync works on a mirror at a time (the caller's
 * contract), so any such file is a leftover and is removed.
 */
static int rm_lock_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	size_t len = strlen(path);

	(void)ftw;
	if (flag == FTW_F && S_ISREG(sb->st_mode) && len > 5 &&
	    strcmp(path + len - 5, ".lock") == 0 && unlink(path) < 0)
		return -1;
	return 0;
}

static int remove_stale_locks(const char *dir)
{
	static const char *const top[] = { "HEAD.lock", "config.lock", "packed-refs.lock",
					   "FETCH_HEAD.lock", "shallow.lock" };
	char *path = NULL;
	int err = 0;

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) + 1 && err == 0; i++) {
		struct stat sb;

		if (!(path = file_join(dir, i < sizeof(top) / sizeof(top[0]) ? top[i] : "refs")))
			return error_nomem(NULL);
		if (lstat(path, &sb) < 0)
			; /* absent: nothing to remove */
		else if (S_ISDIR(sb.st_mode) ? nftw(path, rm_lock_entry, 16, FTW_PHYS) != 0
					     : S_ISREG(sb.st_mode) && unlink(path) < 0) {
			error_set("cannot remove the stale lock files of %s: %s", dir, strerror(errno));
			err = TRAWL_EIO;
		}
		free(path);
	}
	return err;
}

/* Deletes a corrupt mirror (saying why in res) so that it is cloned again. */
static int discard(struct gitmirror_result *res, const char *dir)
{
	snprintf(res->reclone_reason, sizeof(res->reclone_reason), "%s", error_last());
	res->recloned = true;
	if (remove_tree(dir) < 0) {
		error_set("the mirror %s is corrupt (%s) and cannot be removed: %s", dir,
			  res->reclone_reason, strerror(errno));
		return TRAWL_EIO;
	}
	return 0;
}

static int check_url(struct gurl *u, const char *url, const struct gurl_policy *p)
{
	int err;

	if ((err = gurl_parse(u, url, p)) < 0)
		return err;
	if (u->host && (err = gurl_check_host(u->host, u->port, p)) < 0)
		gurl_dispose(u);
	return err;
}

int gitmirror_url_check(char **normalized, const char *url, const struct gurl_policy *p)
{
	struct gurl u;
	char abs[PATH_MAX];
	int err;

	*normalized = NULL;
	if ((err = check_url(&u, url, p)) < 0)
		return err;
	if (u.kind == GURL_LOCAL && strncmp(url, "file://", 7) != 0) {
		/* A local path is stored absolute: syncs may run from another directory. */
		if (!realpath(url, abs)) {
			error_set("local repository path %s: %s", url, strerror(errno));
			gurl_dispose(&u);
			return errno == ENOENT ? TRAWL_ENOTFOUND : TRAWL_EIO;
		}
		url = abs;
	}
	gurl_dispose(&u);
	if (!(*normalized = strdup(url)))
		return error_nomem(NULL);
	return 0;
}

int gitmirror_sync(struct gitmirror_result *res, const char *dir, const char *tmp,
		   const char *url, const struct gitmirror_opts *o)
{
	struct gurl u;
	struct stat sb;
	int err;

	memset(res, 0, sizeof(*res));
	/* SECURITY: P1: the policy and the host's addresses are checked again before each fetch. */
	if ((err = check_url(&u, url, &o->policy)) < 0)
		return err;
	err = hook_install(&u, &o->policy);
	gurl_dispose(&u);
	if (err < 0)
		return err;
	if (lstat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode) || mirror_check(dir) < 0) {
			if (S_ISLNK(sb.st_mode) || !S_ISDIR(sb.st_mode))
				error_set("not a directory");
			if ((err = discard(res, dir)) < 0)
				return err;
		} else {
			if ((err = remove_stale_locks(dir)) < 0)
				return err;
			err = fetch_into(res, dir, url, o);
			if (err != TRAWL_ECORRUPT)
				return err;
			/* The fetch found our side broken: start again from nothing, once. */
			if ((err = discard(res, dir)) < 0)
				return err;
		}
	} else if (errno != ENOENT) {
		error_set("%s: %s", dir, strerror(errno));
		return TRAWL_EIO;
	}
	return clone_into(res, tmp, url, o);
}
