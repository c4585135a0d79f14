/*
 * A commit permalink no indexed branch is at any more (the branch moved on): the file, raw and
 * tree routes answer it from the repository's mirror, read by a short-lived confined worker
 * (`trawl worker show`, docs/internals/sandbox.md, "The show worker"), never in this process.
 *
 * DESIGN: the server cannot read DATA/repos (its Landlock rules) and never runs libgit2 on a
 * repository's data: the worker is started through the spawner like the pattern compiler
 * (sandbox_run: its request on standard input, its answer on standard output, limits on its
 * memory, CPU time and output, killed at its deadline), confines itself to the one mirror and
 * answers in worker messages (sandbox/wire.h). The wait is on threads of their own
 * (srv.mirror_pool), never an HTTP thread's, whose other connections would wait with it; at
 * most MIRROR_MAX_WORKERS run at once, and a request that finds them all busy is a 503 at once
 * rather than a queue.
 *
 * SECURITY: which repository is the route's, checked by access_check_repo before anything
 * here runs; the worker gets the repository's numeric id from the registry (never its name, a
 * path or a URL), a 40-hex commit and the path the route checked. Any commit object of the
 * mirror may be shown: access is granted per repository, and a reader of the repository may
 * read its history (branch patterns choose what is indexed, not what is secret). Only in
 * data-directory mode: an index served without a registry has no mirror (404, "commit not
 * indexed").
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"
#include "git/show.h"
#include "index/shard.h"
#include "query/lang.h"
#include "sandbox/child.h"
#include "sandbox/wire.h"
#include "server/mirror.h"
#include "server/server_int.h"
#include "store/store.h"
#include "util/error.h"
#include "util/json.h"

_Static_assert(MIRROR_MAX_WORKERS == LIMITS_MIRROR_SLOTS, "one caller's share of the slots");

#define MIRROR_DEADLINE_MS 5000.0
#define MIRROR_MAX_CPU_S 5
#define MIRROR_MAX_MEMORY ((size_t)1 << 30)
#define MIRROR_MAX_OUTPUT ((size_t)16 << 20)

/* mirror_show's failures that are no TRAWL_E* code: mirror_fail answers them. */
#define MIRROR_BUSY (-1001)    /* 503: every worker slot is taken */
#define MIRROR_TIMEOUT (-1002) /* 504: the worker ran past its deadline or CPU time */
#define MIRROR_FAILED (-1003)  /* 502: it failed or answered nonsense (logged) */

void mirror_answer_dispose(struct mirror_answer *a)
{
	for (size_t i = 0; i < a->n_entries; i++)
		free(a->entries[i].name);
	free(a->entries);
	buf_dispose(&a->content);
	memset(a, 0, sizeof(*a));
}

/* The repository's registry id: ENOTFOUND "commit not indexed" without a registry entry. */
static int registry_id(int64_t *id, struct req *rq, const char *name)
{
	struct store *st = NULL;
	struct store_repo sr = { 0 };
	int err;

	if ((err = handlers_registry_open(&st, rq)) < 0)
		return handlers_registry_error(rq);
	err = st ? store_repo_get(&sr, st, name) : TRAWL_ENOTFOUND;
	store_close(st);
	if (err == TRAWL_ENOTFOUND)
		return handlers_not_found("commit not indexed");
	if (err < 0)
		return err == TRAWL_ENOMEM ? err : handlers_registry_error(rq);
	*id = sr.id;
	store_repo_dispose(&sr);
	return 0;
}

static int put_request(struct buf *b, int64_t id, const char *commit, const char *path)
{
	struct wire_out o;
	int err;

	const void *p;
	size_t len;

	wire_out_begin(&o, WIRE_SHOW_REQ);
	wire_put_u64(&o, (uint64_t)id);
	wire_put_str(&o, commit);
	wire_put_str(&o, path);
	wire_put_u64(&o, BUILD_MAX_FILE_SIZE_DEFAULT);
	wire_put_u32(&o, MIRROR_MAX_ENTRIES);
	/* Its bytes go to the worker's standard input through sandbox_run. */
	if ((err = wire_out_bytes(&o, &p, &len)) == 0)
		err = buf_put(b, p, len);
	wire_out_dispose(&o);
	return err;
}

static int take_entry(struct mirror_answer *a, const struct wire_msg *m)
{
	struct wire_fields f;
	struct mirror_entry e = { 0 };
	uint32_t type;
	int err;

	if (a->n_entries >= MIRROR_MAX_ENTRIES) {
		error_set("more entries than asked for");
		return TRAWL_ECORRUPT;
	}
	if (!a->entries && !(a->entries = calloc(MIRROR_MAX_ENTRIES, sizeof(*a->entries))))
		return error_nomem(NULL);
	wire_fields_init(&f, m);
	if ((err = wire_get_str(&f, &e.name, WIRE_MAX_STR)) < 0 ||
	    (err = wire_get_u32(&f, &type)) < 0 || (err = wire_get_u64(&f, &e.size)) < 0 ||
	    (err = wire_fields_end(&f)) < 0) {
		free(e.name);
		return err;
	}
	/* "." and "..": the worker skips them (show.c); a link to one would leave the repository. */
	if (type > GITSHOW_E_SUBMODULE || !e.name[0] || strchr(e.name, '/') ||
	    strcmp(e.name, ".") == 0 || strcmp(e.name, "..") == 0) {
		free(e.name);
		error_set("an entry of unknown type or with a bad name");
		return TRAWL_ECORRUPT;
	}
	e.type = (int)type;
	a->entries[a->n_entries++] = e;
	return 0;
}

static int take_head(struct mirror_answer *a, const struct wire_msg *m)
{
	struct wire_fields f;
	uint32_t kind, flags;
	int err;

	wire_fields_init(&f, m);
	if ((err = wire_get_u32(&f, &kind)) < 0 || (err = wire_get_u64(&f, &a->size)) < 0 ||
	    (err = wire_get_u32(&f, &flags)) < 0 || (err = wire_fields_end(&f)) < 0)
		return err;
	if (kind < GITSHOW_FILE || kind > GITSHOW_NO_PATH || flags > 3) {
		error_set("an answer of unknown kind");
		return TRAWL_ECORRUPT;
	}
	a->kind = (int)kind;
	a->is_too_large = flags & 1;
	a->is_truncated = flags & 2;
	return 0;
}

/* One message of the answer, in the order show_send (cmd_worker.c) sends them. */
static int take(struct mirror_answer *a, const struct wire_msg *m, bool *is_end)
{
	const uint8_t *p;
	size_t len;
	struct wire_fields f;
	char *msg = NULL;
	uint32_t code = 0;
	bool is_read;

	if (m->type == WIRE_ERROR) {
		wire_fields_init(&f, m);
		is_read = wire_get_str(&f, &msg, WIRE_MAX_STR) == 0 && wire_get_u32(&f, &code) == 0;
		if (is_read)
			error_set("the show worker failed: %s", msg);
		else
			error_set("the show worker failed");
		free(msg);
		/* No mirror to read (never fetched, or not a repository): the mirror_parse contract. */
		return is_read && code == (uint32_t)-TRAWL_ENOTFOUND ? TRAWL_ENOTFOUND : TRAWL_EIO;
	}
	if ((m->type == WIRE_SHOW) != (a->kind == 0)) { /* the head first, and once */
		error_set("an answer out of order");
		return TRAWL_ECORRUPT;
	}
	switch (m->type) {
	case WIRE_SHOW:
		return take_head(a, m);
	case WIRE_SHOW_DATA:
		wire_fields_init(&f, m);
		wire_get_rest(&f, &p, &len);
		if (a->kind != GITSHOW_FILE || a->is_too_large || a->content.len + len > a->size) {
			error_set("more content than the file's size");
			return TRAWL_ECORRUPT;
		}
		return buf_put(&a->content, p, len);
	case WIRE_SHOW_ENTRY:
		if (a->kind == GITSHOW_DIR)
			return take_entry(a, m);
		error_set("an entry in the answer of a file");
		return TRAWL_ECORRUPT;
	case WIRE_END:
		*is_end = true;
		return 0;
	default:
		error_set("an answer of unexpected type %u", m->type);
		return TRAWL_ECORRUPT;
	}
}

/*
 * SECURITY: the worker read a hostile repository: its answer is checked as any input is
 * (sandbox/wire.h bounds, the order and sizes above, the content no longer than the file).
 */
int mirror_parse(struct mirror_answer *a, const char *out, size_t len)
{
	struct wire_in in;
	struct wire_msg m;
	bool is_end = false;
	int err = 0, got;

	wire_in_init(&in, WIRE_SHOW_MAX);
	buf_init(&a->content, BUILD_MAX_FILE_SIZE_DEFAULT);
	for (size_t at = 0; at < len && !is_end && err == 0;) {
		size_t n = len - at < 65536 ? len - at : 65536;

		if ((err = wire_in_feed(&in, out + at, n)) < 0)
			break;
		at += n;
		while (!is_end && err == 0 && (got = wire_in_next(&in, &m)) != 0)
			err = got < 0 ? got : take(a, &m, &is_end);
	}
	if (err == 0 && (!is_end || a->kind == 0 ||
			 (a->kind == GITSHOW_FILE && !a->is_too_large && a->content.len != a->size))) {
		error_set("the show worker's answer ended early");
		err = TRAWL_ECORRUPT;
	}
	wire_in_dispose(&in);
	return err;
}

/* Logs why the worker gave no answer (the client gets a 502/504 without the detail). */
static void log_failure(const struct req *rq, const struct sandbox_result *res)
{
	struct logline l;

	log_begin(&l, "error", "reading a commit from the mirror failed");
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "error", error_last());
	if (res->signal)
		log_num(&l, "signal", res->signal);
	else if (res->exit_status >= 0)
		log_num(&l, "exit_status", res->exit_status);
	log_end(&l);
}

/*
 * What commit (40 hex digits, lowercase) of the repository repo holds at path ("" the root),
 * read from its mirror: 0 with out->kind set (git/show.h: a file, a directory, no such commit,
 * no such path). ENOTFOUND "commit not indexed" when the repository is in no registry or has
 * no mirror, EIO
 * (the registry), MIRROR_TIMEOUT, MIRROR_FAILED. It waits for a process: on a mirror thread
 * only. Dispose of *out after, also on failure.
 */
static int mirror_show(struct mirror_answer *out, struct req *rq, const char *repo,
		       const char *commit, const char *path)
{
	char *argv[] = { "trawl", "worker", "show", "--data", (char *)rq->s->cfg->data_dir, NULL };
	struct sandbox_limits lim = {
		.max_memory = MIRROR_MAX_MEMORY,
		.max_cpu_s = MIRROR_MAX_CPU_S,
		.deadline_ms = clock_now_ms() + MIRROR_DEADLINE_MS,
		.max_output = MIRROR_MAX_OUTPUT,
	};
	struct sandbox_result res = { 0 };
	struct buf req;
	int64_t id = 0;
	int err;

	*out = (struct mirror_answer){ 0 };
	if (strlen(path) > WIRE_MAX_STR)
		return handlers_not_found("not found");
	if ((err = registry_id(&id, rq, repo)) < 0)
		return err;
	buf_init(&req, WIRE_HEADER_SIZE + 2 * WIRE_MAX_STR + 64);
	if ((err = put_request(&req, id, commit, path)) < 0) {
		buf_dispose(&req);
		return handlers_internal(err);
	}
	err = sandbox_run(&res, rq->s->cfg->self_exe, argv, req.ptr, req.len, &lim);
	buf_dispose(&req);
	if (err == 0)
		err = mirror_parse(out, res.out, res.out_len);
	if (err == TRAWL_ENOTFOUND) {
		err = handlers_not_found("commit not indexed");
	} else if (err < 0) {
		log_failure(rq, &res);
		err = err == TRAWL_ETIMEOUT || res.signal == SIGXCPU ? MIRROR_TIMEOUT : MIRROR_FAILED;
	}
	sandbox_result_dispose(&res);
	return err;
}

/* For a MIRROR_* err: the 503, 504 or 502 answer set on rq, and 0; any other err returned. */
static int mirror_fail(struct req *rq, int err)
{
	if (err == MIRROR_BUSY) {
		req_header(rq, "Retry-After", "1");
		req_error(rq, 503, "busy", "too many commits are being read from mirrors; retry shortly",
			  0);
	} else if (err == MIRROR_TIMEOUT) {
		req_error(rq, 504, "timeout", "reading the commit from the mirror took too long", 0);
	} else if (err == MIRROR_FAILED) {
		req_error(rq, 502, "mirror_failed", "reading the commit from the mirror failed", 0);
	} else {
		return err;
	}
	return 0;
}

/*
 * Runs fn(rq) on srv.mirror_pool with rq->work = work (fn frees it and calls mirror_done),
 * or answers 503 (MIRROR_BUSY) when MIRROR_MAX_WORKERS reads run; work is freed then.
 */
static int mirror_defer(struct req *rq, void *work, int (*fn)(struct req *rq))
{
	if (limits_mirror_take(rq) < 0) { /* the 429 is set */
		free(work);
		return 0;
	}
	if (atomic_fetch_add(&rq->s->mirror_jobs, 1) >= MIRROR_MAX_WORKERS) {
		atomic_fetch_sub(&rq->s->mirror_jobs, 1);
		limits_mirror_release(rq);
		free(work);
		return mirror_fail(rq, MIRROR_BUSY);
	}
	rq->work = work;
	req_defer_on(rq, rq->s->mirror_pool, fn);
	return 0;
}

/* The end of a deferred read: its slot is free again. */
static void mirror_done(struct req *rq)
{
	atomic_fetch_sub(&rq->s->mirror_jobs, 1);
	limits_mirror_release(rq);
}

/* ---- the routes' answers ---- */

/* The commit read, or the answer that it could not be (0 with rq answered, or an error). */
static int mirror_read(struct mirror_answer *a, struct req *rq, const struct snap_repo *r,
		       const char *commit, const char *path, size_t path_len,
		       enum gitshow_kind want)
{
	char *p = strndup(path, path_len);
	int err;

	*a = (struct mirror_answer){ 0 };
	if (!p)
		return handlers_internal(error_nomem(NULL));
	err = mirror_show(a, rq, r->name, commit, p);
	free(p);
	if (err < 0)
		return mirror_fail(rq, err);
	if (a->kind == GITSHOW_NO_COMMIT) {
		error_set("no such commit in %s", r->name);
		return TRAWL_ENOTFOUND;
	}
	/* A directory asked for as a file, or a file as a directory, is not found either. */
	if ((int)a->kind != (int)want)
		return handlers_not_found("not found");
	return 1;
}

static int put_mirror_file(struct buf *b, const struct snap_repo *r, const char *commit,
			   const char *path, size_t path_len, const struct mirror_answer *a)
{
	const char *lname = lang_name(lang_detect(path, path_len));
	size_t probe = a->content.len < BUILD_BINARY_PROBE ? a->content.len : BUILD_BINARY_PROBE;
	bool is_binary = !a->is_too_large && probe && memchr(a->content.ptr, 0, probe);
	const char *skip = a->is_too_large ? doc_skip_name(DOC_SKIP_TOO_LARGE)
			   : is_binary	    ? doc_skip_name(DOC_SKIP_BINARY)
					    : NULL;
	int err;

	if ((err = handlers_put_file_head(b, r, commit, path, path_len, commit, false)) < 0 ||
	    (err = buf_puts(b, ",\"language\":")) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0 ||
	    (err = buf_printf(b, ",\"size\":%llu,\"binary\":%s,\"skipped\":",
			      (unsigned long long)a->size, is_binary ? "true" : "false")) < 0)
		return err;
	if (skip)
		return buf_printf(b, "\"%s\"}", skip);
	if ((err = buf_puts(b, "null,\"content\":")) < 0 ||
	    (err = json_put_string(b, a->content.ptr, a->content.len, NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

/* The file route (is_raw: the raw one) for a commit read from the mirror. */
static int mirror_file(struct req *rq, const struct snap_repo *r, const char *commit,
		       const char *path, size_t path_len, bool is_raw)
{
	struct mirror_answer a;
	int err = mirror_read(&a, rq, r, commit, path, path_len, GITSHOW_FILE);

	if (err <= 0)
		goto out;
	if (is_raw) {
		err = a.is_too_large
			      ? handlers_not_found("the file's content is not stored (skipped)")
			      : handlers_raw_answer(rq, a.content.ptr, a.content.len);
		goto out;
	}
	if ((err = put_mirror_file(&rq->body, r, commit, path, path_len, &a)) < 0)
		err = handlers_internal(err);
	else
		rq->status = 200;
out:
	mirror_answer_dispose(&a);
	return err < 0 ? err : 0;
}

static int put_mirror_entry(struct buf *b, const struct mirror_entry *e, const char *dir,
			    size_t dir_len)
{
	struct buf full; /* the entry's path, for its language */
	const char *lname;
	int err;

	if ((err = buf_puts(b, "{\"name\":")) < 0 ||
	    (err = json_put_string(b, e->name, strlen(e->name), NULL)) < 0)
		return err;
	if (e->type == GITSHOW_E_DIR)
		return buf_puts(b, ",\"type\":\"dir\"}");
	buf_init(&full, BUF_MAX_DEFAULT);
	if ((err = buf_put(&full, dir, dir_len)) < 0 ||
	    (dir_len && (err = buf_putc(&full, '/')) < 0) || (err = buf_puts(&full, e->name)) < 0) {
		buf_dispose(&full);
		return err;
	}
	lname = lang_name(lang_detect(full.ptr, full.len));
	buf_dispose(&full);
	if ((err = buf_printf(b, ",\"type\":\"file\",\"size\":%llu,\"language\":",
			      (unsigned long long)e->size)) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0)
		return err;
	if (e->type == GITSHOW_E_SYMLINK || e->type == GITSHOW_E_SUBMODULE)
		err = buf_printf(b, ",\"skipped\":\"%s\"",
				 doc_skip_name(e->type == GITSHOW_E_SYMLINK ? DOC_SKIP_SYMLINK
									    : DOC_SKIP_SUBMODULE));
	return err < 0 ? err : buf_putc(b, '}');
}

/* The tree route for a commit read from the mirror. */
static int mirror_tree(struct req *rq, const struct snap_repo *r, const char *commit,
		       const char *path, size_t path_len)
{
	struct mirror_answer a;
	int err = mirror_read(&a, rq, r, commit, path, path_len, GITSHOW_DIR);

	if (err <= 0)
		goto out;
	if ((err = handlers_put_file_head(&rq->body, r, commit, path, path_len, commit, false)) < 0 ||
	    (a.is_truncated && (err = buf_puts(&rq->body, ",\"truncated\":true")) < 0) ||
	    (err = buf_puts(&rq->body, ",\"entries\":[")) < 0)
		goto fail;
	for (size_t i = 0; i < a.n_entries; i++)
		if ((i && (err = buf_putc(&rq->body, ',')) < 0) ||
		    (err = put_mirror_entry(&rq->body, &a.entries[i], path, path_len)) < 0)
			goto fail;
	if ((err = buf_puts(&rq->body, "]}")) < 0)
		goto fail;
	rq->status = 200;
	goto out;
fail:
	err = handlers_internal(err);
out:
	mirror_answer_dispose(&a);
	return err < 0 ? err : 0;
}

/* A deferred read's request (rq->work): everything borrowed from rq, which outlives it. */
struct mirror_work {
	const struct snap_repo *r; /* in rq->snap */
	const char *commit, *path;
	size_t path_len;
	enum mirror_route route;
};

/* On a mirror thread (mirror_defer). */
static int run_mirror(struct req *rq)
{
	struct mirror_work *w = rq->work;
	int err;

	rq->work = NULL;
	if (w->route == MIRROR_ROUTE_TREE)
		err = mirror_tree(rq, w->r, w->commit, w->path, w->path_len);
	else
		err = mirror_file(rq, w->r, w->commit, w->path, w->path_len,
				  w->route == MIRROR_ROUTE_RAW);
	free(w);
	mirror_done(rq);
	return err;
}

int mirror_route(struct req *rq, const struct snap_repo *r, const char *commit,
		 const char *path, size_t path_len, enum mirror_route route)
{
	struct mirror_work *w = malloc(sizeof(*w));

	if (!w)
		return handlers_internal(error_nomem(NULL));
	*w = (struct mirror_work){
		.r = r, .commit = commit, .path = path, .path_len = path_len, .route = route,
	};
	return mirror_defer(rq, w, run_mirror);
}
