/*
 * The repository routes (docs/api.md, "Repositories" and "Files"): the index joined with the
 * registry, revisions, trees, files and raw content. Which repositories a caller may see is
 * access.c's answer (access_check_repo), never decided here.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "query/lang.h"
#include "server/access.h"
#include "server/mirror.h"
#include "server/server_int.h"
#include "store/store.h"
#include "util/bitset.h"
#include "util/error.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/rfc3339.h"
#include "util/strv.h"
#include "util/utf8.h"

/* ---- repositories: the index joined with the registry ---- */

/*
 * Opens DATA/trawl.db (or the --database) for this request, or sets *out to NULL when DATA has none (an index built
 * with `trawl index` only: every repository of the index is then "indexed", with no url, sync
 * time or error). SQLite connections are not shared between threads, so each request of the
 * repository routes and /metrics opens its own; the search routes never touch the registry.
 */
int handlers_registry_open(struct store **out, const struct req *rq)
{
	char *path = store_location(rq->s->cfg->data_dir);
	struct stat st;
	int err = 0;

	*out = NULL;
	if (!path)
		return error_nomem(NULL);
	/* Never create a database here: only `trawl repo add` makes one. */
	if (store_is_server(path) || stat(path, &st) == 0 || errno != ENOENT)
		err = store_open(out, path);
	free(path);
	return err;
}

/*
 * SECURITY: a registry error names files or SQL (L4): it goes to the log, the client gets a
 * bare 500.
 */
int handlers_registry_error(struct req *rq)
{
	struct logline l;

	log_begin(&l, "error", "cannot read the repository registry");
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "error", error_last());
	log_end(&l);
	return TRAWL_EIO;
}

static int put_branch(struct buf *b, bool is_first, const char *name, const char *commit,
		      bool is_default)
{
	int err;

	if ((err = buf_puts(b, is_first ? "{\"name\":" : ",{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, strlen(name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"commit\":")) < 0 ||
	    (err = commit[0] ? json_put_string(b, commit, strlen(commit), NULL)
			     : buf_puts(b, "null")) < 0)
		return err;
	return buf_printf(b, ",\"default\":%s}", is_default ? "true" : "false");
}

/*
 * The branches of a repository: the registry's record of the last sync when it has an entry,
 * else the index MANIFEST's (a repository indexed with `trawl index`; empty for a directory).
 */
static int put_branches(struct buf *b, const struct snapshot *snap, const struct snap_repo *r,
			const struct store_repo *sr)
{
	const struct index_repo_entry *e = r ? index_shard_entry(snap->ix, r->shard0) : NULL;
	int err = 0;

	if (sr) {
		for (size_t i = 0; i < sr->n_branches && !err; i++)
			err = put_branch(b, i == 0, sr->branches[i].name, sr->branches[i].commit,
					 sr->branches[i].is_default);
		return err;
	}
	for (size_t i = 0; e && i < e->n_branches && !err; i++)
		err = put_branch(b, i == 0, e->branches[i].name, e->branches[i].commit,
				 e->branches[i].is_default);
	return err;
}

/* An RFC 3339 UTC time ("2026-11-26T09:00:00Z") as a JSON string. */
int handlers_put_time(struct buf *b, int64_t t)
{
	char s[RFC3339_LEN];

	if (rfc3339_format(s, t) < 0)
		return buf_puts(b, "null");
	return buf_printf(b, "\"%s\"", s);
}

/* A JSON string, or null for NULL. */
static int put_str_or_null(struct buf *b, const char *s)
{
	return s ? json_put_string(b, s, strlen(s), NULL) : buf_puts(b, "null");
}

/* An RFC 3339 time, or null for 0 (never). */
static int put_time_or_null(struct buf *b, int64_t t)
{
	return t ? handlers_put_time(b, t) : buf_puts(b, "null");
}

/*
 * SECURITY: where a repository comes from and why its last sync failed are an administrator's
 * business (Z6): the remote URL can carry a user name or an internal host, the sync's error
 * text a path of DATA or of the mirror. Readers get neither field.
 */
static int put_source(struct buf *b, const struct store_repo *sr)
{
	int err;

	if ((err = buf_puts(b, ",\"url\":")) < 0 ||
	    (err = put_str_or_null(b, sr ? sr->url : NULL)) < 0 ||
	    (err = buf_puts(b, ",\"last_error\":")) < 0)
		return err;
	return put_str_or_null(b, sr ? sr->last_error : NULL);
}

/*
 * One REPO object (docs/api.md). r is the repository in the index (NULL: registered, not
 * indexed yet), sr its registry entry (NULL: none). Sizes and skipped files come from the
 * index when it holds the repository (what searches see), else from the registry. The
 * registry's source fields only when is_admin (put_source).
 */
static int put_repo(struct buf *b, const struct snapshot *snap, const struct snap_repo *r,
		    const struct store_repo *sr, bool is_full, bool is_admin)
{
	const char *name = r ? r->name : sr->name;
	const char *state = sr ? store_state_name(sr->state) : "indexed";
	unsigned long long bytes = r ? r->index_bytes : sr->index_bytes;
	size_t files = r ? r->n_docs : (size_t)sr->files;
	size_t skipped = r ? r->n_skipped : (size_t)sr->skipped_count;
	int err;

	if ((err = buf_puts(b, "{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, strlen(name), NULL)) < 0 ||
	    (is_admin && (err = put_source(b, sr)) < 0) ||
	    (err = buf_printf(b, ",\"state\":\"%s\",\"branches\":[", state)) < 0 ||
	    (err = put_branches(b, snap, r, sr)) < 0 || (err = buf_puts(b, "],\"last_sync\":")) < 0 ||
	    (err = put_time_or_null(b, sr ? sr->last_sync : 0)) < 0 ||
	    (err = buf_puts(b, ",\"last_success\":")) < 0 ||
	    (err = put_time_or_null(b, sr ? sr->last_success : 0)) < 0 ||
	    (err = buf_printf(b, ",\"index_bytes\":%llu,\"files\":%zu", bytes, files)) < 0)
		return err;
	if (!is_full)
		return buf_printf(b, ",\"skipped_count\":%zu}", skipped);
	if ((err = buf_printf(b, ",\"skipped_count\":%zu,\"skipped\":[", skipped)) < 0)
		return err;
	for (size_t i = 0, k = 0; r && i < r->n_docs; i++) {
		struct shard_doc d;

		if ((err = shard_doc(&d, r->docs[i].sh, r->docs[i].id)) < 0)
			return err;
		if (d.skip == DOC_INDEXED)
			continue;
		if ((err = buf_puts(b, k++ ? ",{\"path\":" : "{\"path\":")) < 0 ||
		    (err = json_put_string(b, d.path, d.path_len, NULL)) < 0 ||
		    (err = buf_printf(b, ",\"reason\":\"%s\"}", doc_skip_name(d.skip))) < 0)
			return err;
	}
	return buf_puts(b, "]}");
}

/* ---- the repository list, a page at a time ---- */

/*
 * DESIGN: a page is the readable repositories whose names sort after the cursor's, in strcmp
 * order; the cursor names the last one of the previous page, so pages neither repeat nor skip
 * a repository when others are added or removed between them. The cursor is that name in
 * base64url behind a tag byte: opaque to clients (they pass it back unchanged) and checked on
 * the way in (a tampered one is a 400). Any name is a valid position, the name of a repository
 * the caller cannot read too: what follows it is still only what the caller reads.
 */
#define REPOS_LIMIT_DEFAULT 100
#define REPOS_LIMIT_MAX 1000
#define REPOS_CURSOR_TAG 'n'

struct repos_page {
	const char *after; /* the cursor's name (a request parameter), or NULL: from the start */
	char *after_buf;   /* owns after */
	const char *q;     /* the name filter (case-insensitive substring), or NULL */
	size_t q_len;
	size_t limit;
};

/* One repository of the walk: in the index (r), in the registry (is_registered), or both. */
struct repos_item {
	const char *name;
	const struct snap_repo *r;
	bool is_registered;
};

/*
 * The repositories the caller may read, in name order. For a caller who reads everything the
 * index's and the registry's lists are merged; for anyone else the walk goes through the
 * readable set and looks each name up, so its cost follows what the caller reads, not how
 * many repositories the server holds.
 */
struct repos_walk {
	const struct snapshot *snap; /* NULL: no index yet */
	char *const *regs;           /* the registry's names, sorted */
	size_t n_regs;
	const struct search_repos *rs;
	size_t i, k; /* next of snap->repos and regs (is_all), or of rs->names */
};

static bool regs_has(char *const *v, size_t n, const char *name)
{
	return strv_find((const char *const *)v, n, name) < n;
}

static bool walk_next(struct repos_item *out, struct repos_walk *w)
{
	size_t n_snap = w->snap ? w->snap->n_repos : 0;

	if (!w->rs->is_all) {
		while (w->i < w->rs->n_names) {
			const char *name = w->rs->names[w->i++];

			*out = (struct repos_item){
				.name = name,
				.r = w->snap ? snapshot_repo(w->snap, name) : NULL,
				.is_registered = regs_has(w->regs, w->n_regs, name),
			};
			if (out->r || out->is_registered)
				return true;
		}
		return false;
	}
	const struct snap_repo *r = w->i < n_snap ? &w->snap->repos[w->i] : NULL;
	const char *reg = w->k < w->n_regs ? w->regs[w->k] : NULL;
	int c;

	if (!r && !reg)
		return false;
	c = !r ? 1 : !reg ? -1 : strcmp(r->name, reg);
	if (c <= 0)
		*out = (struct repos_item){ .name = r->name, .r = r, .is_registered = c == 0 };
	else
		*out = (struct repos_item){ .name = reg, .is_registered = true };
	w->i += c <= 0;
	w->k += c >= 0;
	return true;
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether name contains q, ASCII letters compared without case. */
static bool name_matches(const char *name, const char *q, size_t q_len)
{
	size_t n = strlen(name);

	for (size_t i = 0; q_len <= n && i <= n - q_len; i++) {
		size_t j = 0;

		while (j < q_len &&
		       ascii_lower((unsigned char)name[i + j]) == ascii_lower((unsigned char)q[j]))
			j++;
		if (j == q_len)
			return true;
	}
	return false;
}

/* limit=N: 1 to REPOS_LIMIT_MAX, digits only. */
static int parse_limit(size_t *out, const char *v, size_t len)
{
	size_t n = 0;

	if (len == 0 || len > 4)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		n = n * 10 + (size_t)(v[i] - '0');
	}
	if (n == 0 || n > REPOS_LIMIT_MAX)
		goto bad;
	*out = n;
	return 0;
bad:
	error_set("limit must be a number from 1 to %d", REPOS_LIMIT_MAX);
	return TRAWL_EINVAL;
}

/* SECURITY: a cursor is client input: base64url, our tag, then a UTF-8 name without NUL. */
static int parse_cursor(char **out, const char *v, size_t len)
{
	unsigned char *bin = malloc(len + 1);
	size_t n = 0;
	const char *end = NULL;
	int err = TRAWL_EINVAL;

	*out = NULL;
	if (!bin)
		return error_nomem(NULL);
	if (len == 0 ||
	    sodium_base642bin(bin, len, v, len, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != v + len || n < 2 || bin[0] != REPOS_CURSOR_TAG || memchr(bin, 0, n) ||
	    !utf8_is_valid(bin + 1, n - 1)) {
		error_set("the cursor is not one this server made");
		goto out;
	}
	memmove(bin, bin + 1, n - 1);
	bin[n - 1] = 0;
	*out = (char *)bin;
	bin = NULL;
	err = 0;
out:
	free(bin);
	return err;
}

static int put_cursor(struct buf *b, const char *name)
{
	size_t n = strlen(name) + 1,
	       b64_len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	unsigned char *bin = malloc(n);
	char *b64 = malloc(b64_len);
	int err;

	if (!bin || !b64) {
		err = error_nomem(NULL);
		goto out;
	}
	bin[0] = REPOS_CURSOR_TAG;
	memcpy(bin + 1, name, n - 1);
	sodium_bin2base64(b64, b64_len, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	err = buf_puts(b, b64);
out:
	free(bin);
	free(b64);
	return err;
}

/* The next cursor as a JSON string (base64url needs no escaping). */
static int put_next(struct buf *b, const char *name)
{
	int err;

	if ((err = buf_putc(b, '"')) < 0 || (err = put_cursor(b, name)) < 0)
		return err;
	return buf_putc(b, '"');
}

static void page_dispose(struct repos_page *pg)
{
	free(pg->after_buf);
	pg->after_buf = NULL;
}

static int page_params(struct repos_page *pg, struct req *rq)
{
	const char *v;
	size_t len;
	int err;

	*pg = (struct repos_page){ .limit = REPOS_LIMIT_DEFAULT };
	if ((err = req_param(&v, &len, rq, "limit")) < 0 ||
	    (v && (err = parse_limit(&pg->limit, v, len)) < 0) ||
	    (err = req_param(&pg->q, &pg->q_len, rq, "q")) < 0 ||
	    (err = req_param(&v, &len, rq, "cursor")) < 0 ||
	    (v && (err = parse_cursor(&pg->after_buf, v, len)) < 0))
		return err;
	if (pg->q && memchr(pg->q, 0, pg->q_len)) {
		error_set("a NUL byte in q");
		return TRAWL_EINVAL;
	}
	/* No name is longer; it also bounds the substring comparisons of name_matches. */
	if (pg->q_len > ROUTE_NAME_MAX) {
		error_set("q is longer than a repository name can be (%d bytes)", ROUTE_NAME_MAX);
		return TRAWL_EINVAL;
	}
	pg->after = pg->after_buf;
	return 0;
}

/* Appends s to b percent-encoded for a query string (unreserved characters kept). */
static int put_query_value(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	int err = 0;

	for (size_t i = 0; i < len && !err; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			err = buf_putc(b, (char)c);
		else
			err = buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return err;
}

/* The Link header of the next page: the same request with the next cursor. */
static int link_next(struct req *rq, const struct repos_page *pg, const char *last)
{
	struct buf b;
	const char *kept;
	int err;

	buf_init(&b, BUF_MAX_DEFAULT);
	if ((err = buf_puts(&b, "</api/v1/repos?cursor=")) < 0 || (err = put_cursor(&b, last)) < 0 ||
	    (err = buf_printf(&b, "&limit=%zu", pg->limit)) < 0 ||
	    (pg->q_len && ((err = buf_puts(&b, "&q=")) < 0 ||
			   (err = put_query_value(&b, pg->q, pg->q_len)) < 0)) ||
	    (err = buf_puts(&b, ">; rel=\"next\"")) < 0 || (err = buf_putc(&b, 0)) < 0)
		goto out;
	if (!(kept = req_keep(rq, b.ptr)))
		err = error_nomem(NULL);
	else
		req_header(rq, "Link", kept);
out:
	buf_dispose(&b);
	return err;
}

/* A page: its repositories, the readable total matching q, and whether more follow. */
struct repos_found {
	struct repos_item *v; /* at most limit */
	size_t n;
	size_t total;
	bool has_more;
};

/* Walks every readable repository, counting those matching q and keeping the page's. */
static int page_find(struct repos_found *out, struct repos_walk *w, const struct repos_page *pg)
{
	struct repos_item it;

	*out = (struct repos_found){ .v = calloc(pg->limit, sizeof(*out->v)) };
	if (!out->v)
		return error_nomem(NULL);
	while (walk_next(&it, w)) {
		if (pg->q_len && !name_matches(it.name, pg->q, pg->q_len))
			continue;
		out->total++;
		if (pg->after && strcmp(it.name, pg->after) <= 0)
			continue;
		if (out->n < pg->limit)
			out->v[out->n++] = it;
		else
			out->has_more = true;
	}
	return 0;
}

/*
 * The registry's entries of the page's repositories, by name: one read of exactly those names
 * (so what is read, and its cost, is the page's alone).
 */
static int page_registry(struct store_repo **out, size_t *n, struct store *st,
			 const struct repos_found *f)
{
	const char **names;
	size_t n_names = 0;
	int err;

	*out = NULL;
	*n = 0;
	if (!st || f->n == 0)
		return 0;
	if (!(names = malloc(f->n * sizeof(*names))))
		return error_nomem(NULL);
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].is_registered)
			names[n_names++] = f->v[i].name;
	err = n_names ? store_repo_named(out, n, st, names, n_names) : 0;
	free(names);
	return err;
}

/*
 * The page's REPO objects. A repository the registry lost since the names were read is shown
 * from the index alone (and not at all when the index does not hold it either).
 */
static int put_found(struct buf *b, const struct snapshot *snap, const struct repos_found *f,
		     const struct store_repo *regs, size_t n_regs, bool is_admin)
{
	size_t k = 0, n = 0;
	int err = 0;

	for (size_t i = 0; i < f->n && !err; i++) {
		const struct repos_item *it = &f->v[i];
		const struct store_repo *sr = NULL;

		while (k < n_regs && strcmp(regs[k].name, it->name) < 0)
			k++;
		if (it->is_registered && k < n_regs && strcmp(regs[k].name, it->name) == 0)
			sr = &regs[k];
		if (!it->r && !sr)
			continue;
		if (!(n++ && (err = buf_putc(b, ',')) < 0))
			err = put_repo(b, snap, it->r, sr, false, is_admin);
	}
	return err;
}

int handlers_repos(struct req *rq)
{
	const struct search_repos *rs = access_readable_repos(&rq->caller);
	struct repos_page pg;
	struct store *st = NULL;
	char **names = NULL;
	struct store_repo *regs = NULL;
	size_t n_names = 0, n_regs = 0;
	struct repos_found f = { 0 };
	bool is_admin = access_is_admin(&rq->caller);
	const char *last;
	struct repos_walk w;
	int err;

	if (!rs)
		return TRAWL_EIO; /* fail closed: no readable set, no list */
	if ((err = page_params(&pg, rq)) < 0)
		goto out;
	/* The list works before the first index: registered repositories are "new". */
	rq->snap = snapstore_get(rq->s->store);
	if ((err = handlers_registry_open(&st, rq)) < 0 ||
	    (st && (err = store_repo_names(&names, &n_names, st)) < 0)) {
		err = handlers_registry_error(rq);
		goto out;
	}
	w = (struct repos_walk){ .snap = rq->snap, .regs = names, .n_regs = n_names, .rs = rs };
	if ((err = page_find(&f, &w, &pg)) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	if ((err = page_registry(&regs, &n_regs, st, &f)) < 0) {
		err = err == TRAWL_ENOMEM ? handlers_internal(err) : handlers_registry_error(rq);
		goto out;
	}
	last = f.has_more ? f.v[f.n - 1].name : NULL;
	if ((err = buf_puts(&rq->body, "{\"repos\":[")) < 0 ||
	    (err = put_found(&rq->body, rq->snap, &f, regs, n_regs, is_admin)) < 0 ||
	    (err = buf_printf(&rq->body, "],\"total\":%zu,\"next\":", f.total)) < 0 ||
	    (err = last ? put_next(&rq->body, last) : buf_puts(&rq->body, "null")) < 0 ||
	    (err = buf_putc(&rq->body, '}')) < 0 || (last && (err = link_next(rq, &pg, last)) < 0)) {
		err = handlers_internal(err);
		goto out;
	}
	rq->status = 200;
out:
	store_close(st);
	store_repos_free(regs, n_regs);
	free(f.v);
	store_names_free(names, n_names);
	page_dispose(&pg);
	return err < 0 ? err : 0;
}

int handlers_find_repo(const struct snap_repo **out, struct req *rq)
{
	*out = snapshot_repo(rq->snap, rq->args.name);
	if (!*out)
		return handlers_not_found("not found");
	return access_check_repo(&rq->caller, (*out)->name);
}

int handlers_repo(struct req *rq)
{
	const struct snap_repo *r;
	struct store *st = NULL;
	struct store_repo sr = { 0 };
	bool has_sr = false;
	int err = 0;

	rq->snap = snapstore_get(rq->s->store);
	r = rq->snap ? snapshot_repo(rq->snap, rq->args.name) : NULL;
	if ((err = handlers_registry_open(&st, rq)) < 0)
		return handlers_registry_error(rq);
	if (st && (err = store_repo_get(&sr, st, rq->args.name)) < 0 && err != TRAWL_ENOTFOUND) {
		store_close(st);
		return handlers_registry_error(rq);
	}
	has_sr = st && err == 0;
	store_close(st);
	if (!r && !has_sr)
		err = handlers_not_found("not found");
	else if ((err = access_check_repo(&rq->caller, rq->args.name)) < 0)
		;
	else if ((err = put_repo(&rq->body, rq->snap, r, has_sr ? &sr : NULL, true,
				 access_is_admin(&rq->caller))) < 0)
		err = handlers_internal(err);
	else
		rq->status = 200;
	if (has_sr)
		store_repo_dispose(&sr);
	return err < 0 ? err : 0;
}

/* ---- files ---- */

void handlers_rev_dispose(struct handlers_rev *v)
{
	free(v->set);
	v->set = NULL;
}

/* Fills out for branch b of e, named name (the branch's, or the commit asked for). */
static int rev_at(struct handlers_rev *out, const struct index_repo_entry *e, size_t b,
		  const char *name)
{
	out->name = name;
	out->commit = e->branches[b].commit[0] ? e->branches[b].commit : NULL;
	out->branch = b;
	out->has_branches = true;
	out->n_words = bitset_words(e->n_branches);
	if (!(out->set = calloc(out->n_words, sizeof(*out->set))))
		return error_nomem(NULL);
	return 0;
}

/*
 * The indexed branch at commit (40 lowercase hex digits), the default one when several are:
 * its documents are the commit's. e->n_branches when none is (the branch moved on).
 */
static size_t branch_at(const struct index_repo_entry *e, const char *commit)
{
	size_t found = e->n_branches;

	for (size_t b = 0; b < e->n_branches; b++)
		if (strcmp(e->branches[b].commit, commit) == 0 &&
		    (found == e->n_branches || e->branches[b].is_default))
			found = b;
	return found;
}

int handlers_rev_resolve(struct handlers_rev *out, const struct snapshot *snap,
			 const struct snap_repo *r, const char *rev)
{
	const struct index_repo_entry *e = index_shard_entry(snap->ix, r->shard0);
	bool is_head = !rev || rev[0] == 0 || strcmp(rev, "HEAD") == 0;
	size_t b;

	*out = (struct handlers_rev){ .name = "HEAD", .ix = snap->ix };
	if (!e || e->n_branches == 0) {
		if (is_head)
			return 0;
		error_set("unknown revision");
		return TRAWL_ENOTFOUND;
	}
	for (b = 0; b < e->n_branches; b++)
		if (is_head ? e->branches[b].is_default : strcmp(e->branches[b].name, rev) == 0)
			return rev_at(out, e, b, e->branches[b].name);
	/* A branch's name first (git's order too), then a commit a branch is at. */
	if (!is_head && hex_is_commit_id(rev, strlen(rev)) && (b = branch_at(e, rev)) < e->n_branches)
		return rev_at(out, e, b, rev);
	error_set("unknown revision");
	return TRAWL_ENOTFOUND;
}

bool handlers_rev_has(struct handlers_rev *v, const struct snap_doc *d)
{
	struct shard_doc sd;

	if (!v->has_branches)
		return true;
	if (shard_doc(&sd, d->sh, d->id) < 0)
		return false;
	index_doc_branches(v->set, v->n_words, v->ix, d->shard_i, d->id, &sd);
	return bitset_test(v->set, v->n_words, v->branch);
}

/*
 * A rev that is no branch but looks like a commit id: 40 characters (a commit id mistyped),
 * or a run of hex digits of another length (an abbreviated id, which trawl does not resolve:
 * a permalink carries all 40). EINVAL with the reason; 0 for any other rev (a 404 then).
 */
static int rev_syntax(const char *rev, size_t len)
{
	size_t n_hex = 0;

	while (n_hex < len && hex_digit((unsigned char)rev[n_hex]) >= 0)
		n_hex++;
	if (len == HEX_COMMIT_LEN && n_hex < len) {
		error_set("rev is no branch and not a commit id either (40 hex digits)");
		return TRAWL_EINVAL;
	}
	if (n_hex == len && len >= 7 && len <= 64 && len != HEX_COMMIT_LEN) {
		error_set("rev is no branch; an abbreviated commit id is not accepted: give all 40 "
			  "hex digits");
		return TRAWL_EINVAL;
	}
	return 0;
}

/* rv lowercased when it is a commit id (the index records commits so), else rv itself. */
static const char *rev_normal(struct req *rq, const char *rv, size_t len)
{
	char lower[HEX_COMMIT_LEN + 1];

	if (!rv || !hex_is_commit_id(rv, len))
		return rv;
	for (size_t i = 0; i < len; i++)
		lower[i] = rv[i] >= 'A' && rv[i] <= 'F' ? (char)(rv[i] - 'A' + 'a') : rv[i];
	lower[len] = 0;
	return req_keep(rq, lower);
}

/*
 * handlers_file_params; with mirror_commit not NULL, a commit id no indexed branch is at is
 * no 404: *mirror_commit gets it (lowercase) and *rev is left empty, for mirror_show.
 */
static int file_params(const struct snap_repo **r, struct handlers_rev *rev, const char **path,
		       size_t *path_len, struct req *rq, const char **mirror_commit)
{
	const char *rv;
	size_t len;
	int err;

	*rev = (struct handlers_rev){ .name = "HEAD" }; /* named even when it fails */
	if (mirror_commit)
		*mirror_commit = NULL;
	if ((err = handlers_find_repo(r, rq)) < 0)
		return err;
	if ((err = req_param(&rv, &len, rq, "rev")) < 0 ||
	    (err = req_param(path, path_len, rq, "path")) < 0)
		return err;
	if (!*path) {
		*path = "";
		*path_len = 0;
	}
	if ((err = route_path_check(*path, *path_len)) < 0)
		return err;
	if (rv && !(rv = rev_normal(rq, rv, len)))
		return handlers_internal(error_nomem(NULL));
	err = handlers_rev_resolve(rev, rq->snap, *r, rv);
	if (err == TRAWL_ENOTFOUND && rv && hex_is_commit_id(rv, len)) {
		if (!mirror_commit)
			return handlers_not_found("commit not indexed");
		*mirror_commit = rv;
		return 0;
	}
	if (err == TRAWL_ENOTFOUND)
		return rv && (err = rev_syntax(rv, len)) < 0 ? err : handlers_not_found("not found");
	return err < 0 ? handlers_internal(err) : 0;
}

int handlers_file_params(const struct snap_repo **r, struct handlers_rev *rev, const char **path,
			 size_t *path_len, struct req *rq)
{
	return file_params(r, rev, path, path_len, rq, NULL);
}

int handlers_put_repo_rev(struct buf *b, const struct snap_repo *r, const struct handlers_rev *rev)
{
	int err;

	if ((err = buf_puts(b, "{\"repo\":")) < 0 ||
	    (err = json_put_string(b, r->name, strlen(r->name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"rev\":")) < 0)
		return err;
	return json_put_string(b, rev->name, strlen(rev->name), NULL);
}

int handlers_put_file_head(struct buf *b, const struct snap_repo *r, const char *rev,
			   const char *path, size_t path_len, const char *commit, bool is_indexed)
{
	int err;

	if ((err = buf_puts(b, "{\"repo\":")) < 0 ||
	    (err = json_put_string(b, r->name, strlen(r->name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"rev\":")) < 0 ||
	    (err = json_put_string(b, rev, strlen(rev), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"path\":")) < 0 ||
	    (err = json_put_string(b, path, path_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"commit\":")) < 0 ||
	    (err = commit ? json_put_string(b, commit, strlen(commit), NULL)
			  : buf_puts(b, "null")) < 0)
		return err;
	return buf_printf(b, ",\"indexed\":%s", is_indexed ? "true" : "false");
}

static int put_file_entry(struct buf *b, const struct snap_doc *d, const char *name,
			  size_t name_len)
{
	struct shard_doc sd;
	const char *lname;
	int err;

	if ((err = shard_doc(&sd, d->sh, d->id)) < 0)
		return err;
	lname = lang_name(sd.lang);
	if ((err = buf_puts(b, "{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, name_len, NULL)) < 0 ||
	    (err = buf_printf(b, ",\"type\":\"file\",\"size\":%llu,\"language\":",
			      (unsigned long long)sd.size)) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0)
		return err;
	if (sd.skip != DOC_INDEXED &&
	    (err = buf_printf(b, ",\"skipped\":\"%s\"", doc_skip_name(sd.skip))) < 0)
		return err;
	return buf_putc(b, '}');
}

static int put_dir_entry(struct buf *b, const char *name, size_t name_len)
{
	int err;

	if ((err = buf_puts(b, "{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, name_len, NULL)) < 0)
		return err;
	return buf_puts(b, ",\"type\":\"dir\"}");
}

int handlers_raw_answer(struct req *rq, const void *p, size_t len)
{
	if (buf_put(&rq->body, p, len) < 0)
		return handlers_internal(TRAWL_ENOMEM);
	/* SECURITY: repository content is never rendered as active content (X4). */
	rq->ctype = "text/plain; charset=utf-8";
	req_header(rq, "Content-Security-Policy", "sandbox");
	req_header(rq, "Content-Disposition", "inline");
	rq->status = 200;
	return 0;
}

int handlers_tree(struct req *rq)
{
	const struct snap_repo *r;
	struct handlers_rev rev;
	struct dir_walk w;
	struct dir_entry e;
	const char *path, *commit;
	size_t path_len, n = 0;
	int err;

	if ((err = file_params(&r, &rev, &path, &path_len, rq, &commit)) < 0) {
		handlers_rev_dispose(&rev);
		return err;
	}
	if (commit)
		return mirror_route(rq, r, commit, path, path_len, MIRROR_ROUTE_TREE);
	if ((err = dir_walk_init(&w, r, &rev, path, path_len)) < 0 ||
	    (err = handlers_put_file_head(&rq->body, r, rev.name, path, path_len, rev.commit,
					  true)) < 0 ||
	    (err = buf_puts(&rq->body, ",\"entries\":[")) < 0)
		goto out;
	while ((err = dir_walk_next(&w, &e)) > 0) {
		if (n++ && (err = buf_putc(&rq->body, ',')) < 0)
			goto out;
		err = e.is_dir ? put_dir_entry(&rq->body, e.name, e.name_len)
			       : put_file_entry(&rq->body, e.doc, e.name, e.name_len);
		if (err < 0)
			goto out;
	}
	if (err == 0)
		err = buf_puts(&rq->body, "]}");
out:
	dir_walk_dispose(&w);
	handlers_rev_dispose(&rev);
	/* A directory nothing on the revision is under does not exist (the root always does). */
	if (err >= 0 && n == 0 && path_len)
		return handlers_not_found("not found");
	if (err < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

/* The document at path on the revision, or a 404. */
static int find_doc(struct shard_doc *out, const struct snap_repo *r,
		    struct handlers_rev *rev, const char *path, size_t path_len)
{
	for (size_t i = snap_repo_lower_bound(r, path, path_len);
	     path_len && i < r->n_docs && r->docs[i].path_len == path_len &&
	     memcmp(r->docs[i].path, path, path_len) == 0;
	     i++)
		if (handlers_rev_has(rev, &r->docs[i]) && shard_doc(out, r->docs[i].sh, r->docs[i].id) == 0)
			return 0;
	return handlers_not_found("not found");
}

static int put_file(struct buf *b, const struct snap_repo *r, const struct handlers_rev *rev,
		    const char *path, size_t path_len, const struct shard_doc *d)
{
	const char *lname = lang_name(d->lang);
	int err;

	if ((err = handlers_put_file_head(b, r, rev->name, path, path_len, rev->commit, true)) < 0 ||
	    (err = buf_puts(b, ",\"language\":")) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0 ||
	    (err = buf_printf(b, ",\"size\":%llu,\"binary\":%s,\"skipped\":",
			      (unsigned long long)d->size,
			      d->skip == DOC_SKIP_BINARY ? "true" : "false")) < 0)
		return err;
	if (d->skip != DOC_INDEXED)
		return buf_printf(b, "\"%s\"}", doc_skip_name(d->skip));
	if ((err = buf_puts(b, "null,\"content\":")) < 0 ||
	    (err = json_put_string(b, (const char *)d->content, d->content_len, NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

int handlers_file(struct req *rq)
{
	const struct snap_repo *r;
	struct handlers_rev rev;
	const char *path;
	size_t path_len;
	const char *commit;
	struct shard_doc d;
	int err;

	if ((err = file_params(&r, &rev, &path, &path_len, rq, &commit)) < 0 ||
	    (!commit && (err = find_doc(&d, r, &rev, path, path_len)) < 0)) {
		handlers_rev_dispose(&rev);
		return err;
	}
	if (commit)
		return mirror_route(rq, r, commit, path, path_len, MIRROR_ROUTE_FILE);
	err = put_file(&rq->body, r, &rev, path, path_len, &d);
	handlers_rev_dispose(&rev);
	if (err < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

int handlers_raw(struct req *rq)
{
	const struct snap_repo *r;
	struct handlers_rev rev;
	const char *path;
	size_t path_len;
	const char *commit;
	struct shard_doc d;
	int err;

	err = file_params(&r, &rev, &path, &path_len, rq, &commit);
	if (err >= 0 && !commit)
		err = find_doc(&d, r, &rev, path, path_len);
	handlers_rev_dispose(&rev);
	if (err < 0)
		return err;
	if (commit)
		return mirror_route(rq, r, commit, path, path_len, MIRROR_ROUTE_RAW);
	if (d.skip != DOC_INDEXED)
		return handlers_not_found("the file's content is not stored (skipped)");
	return handlers_raw_answer(rq, d.content, d.content_len);
}
