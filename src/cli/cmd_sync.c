/*
 * trawl sync [NAME]: for each registered repository (or the one named), fetch its mirror (clone
 * it the first time, re-clone it when corrupt), then index it into DATA/index and record the
 * result in the registry. A repository that fails is marked `error` with the reason and keeps
 * its previous shards (searchable as before); the others still sync. Exit status 2 if any failed.
 * docs/operations.md describes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/build.h"
#include "build/outwire.h"
#include "build/shardcheck.h"
#include "cli/cli.h"
#include "cli/datadir.h"
#include "git/cred.h"
#include "git/mirror.h"
#include "index/shard.h"
#include "sandbox/wire.h"
#include "sandbox/worker.h"
#include "store/policy.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/file.h"
#include "util/sanitizer.h"
#include "util/term.h"

const struct cli_help cli_help_sync = {
	.synopsis = "trawl sync [NAME] [--data DIR] [--retry] [--allow-insecure] [--allow-local]\n"
		    "           [--allow-private]\n",
	.summary = "fetch every registered repository (or NAME) into its mirror and index it",
	.options =
		"Each URL is checked before its fetch under the policy its repository was added "
		"with\n"
		"(trawl repo add --allow-*, kept in DATA/policy/ID). A repository that fails is\n"
		"marked with the reason and keeps its previous results; exit status 2 when any\n"
		"failed (docs/operations.md).\n"
		"Without NAME, a repository whose last attempts failed waits out a backoff (1 min\n"
		"doubling up to 1 h) first. Each fetch and index runs in a sandboxed worker "
		"process.\n"
		"\n"
		"  --data DIR        the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  --retry           also try the repositories still waiting out their backoff\n"
		"  --allow-insecure  also accept http:// for this run\n"
		"  --allow-local     also accept file:// and local paths for this run\n"
		"  --allow-private   also accept loopback, private and link-local hosts for this "
		"run\n"
		"  -h, --help        this usage\n",
};

/* What indexing one repository produced: the commit indexed per branch and counts. */
struct sync_indexed {
	struct store_branch *branches;
	size_t n_branches;
	bool is_unchanged;   /* no branch moved: the index was not touched */
	bool is_incremental; /* only changed files were re-indexed */
};

static void sync_indexed_dispose(struct sync_indexed *x)
{
	for (size_t i = 0; i < x->n_branches; i++)
		free(x->branches[i].name);
	free(x->branches);
	memset(x, 0, sizeof(*x));
}

/*
 * Limits for every repository sync indexes (docs/operations.md): a hostile or runaway
 * repository is refused with "limit: ..." and keeps its previous index. A worker still running
 * a minute past them is killed.
 */
#define SYNC_MAX_BYTES ((uint64_t)16 << 30)
#define SYNC_MAX_SECONDS 3600
#define SYNC_WORKER_MS ((SYNC_MAX_SECONDS + 60) * 1000.0)

/*
 * SECURITY: sync's own address space (a soft RLIMIT_AS, sync_limit_as): SYNC_AS_BASE for its
 * code, libraries and heap (several times what syncs were measured to use:
 * docs/internals/sandbox.md, "`trawl sync`'s own bounds"), plus the shard files it may map
 * (the index and an index worker's output), plus what a worker's result may make it hold. A
 * blow-up nobody foresaw then ends in a clean "out of memory" for the repository instead of
 * taking the machine's memory.
 */
#define SYNC_AS_BASE ((uint64_t)256 << 20)

/* The binary itself, started again as `trawl worker ...` (never found through $PATH). */
#define SELF_EXE "/proc/self/exe"

/* An argv under construction: every argument a separate string, never a shell line. */
struct sync_argv {
	char *v[CLI_MAX_BRANCH_ARGS * 2 + 40];
	size_t n;
	char nums[4][24];
};

static void arg_add(struct sync_argv *a, const char *s)
{
	if (a->n + 1 < sizeof(a->v) / sizeof(a->v[0]))
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void arg_pair(struct sync_argv *a, const char *flag, const char *value)
{
	arg_add(a, flag);
	arg_add(a, value);
}

/*
 * SECURITY: text from a worker or a remote (a git server's error) is shown and stored: into
 * dst as one escaped line of at most TEXT_MAX bytes (util/term.h).
 */
#define TEXT_MAX 500
static void clean_text(char *dst, size_t size, const char *s)
{
	struct buf b;

	buf_init(&b, TEXT_MAX + 16);
	if (term_put_line(&b, s, strlen(s), size - 1 < TEXT_MAX ? size - 1 : TEXT_MAX) == 0)
		snprintf(dst, size, "%s", b.len ? b.ptr : "");
	else
		snprintf(dst, size, "(text that could not be cleaned)");
	buf_dispose(&b);
}

typedef int (*sync_take_fn)(void *arg, const struct wire_msg *m);

/*
 * Runs one worker with argv to its end, handing each message but WIRE_ERROR to take (which
 * returns 1 once the result is complete). 0 with a complete result; else the error code with
 * the reason in error_last(): how the worker died (a signal, the sandbox's rule, the deadline)
 * wins over what it said, which wins over a malformed stream, which wins over none at all.
 */
static int sync_worker(char *const argv[], int in_fd, const char *label, sync_take_fn take,
		       void *arg)
{
	struct worker w;
	struct wire_msg m;
	char said[600] = "", stream[600] = "";
	int err, said_err = 0, stream_err = 0, ended, r = 0;
	bool is_done = false;

	if ((err = worker_start(&w, SELF_EXE, argv, in_fd, label, stderr,
				clock_now_ms() + SYNC_WORKER_MS)) < 0)
		return err;
	while (!is_done && !said_err && (r = worker_next(&w, &m)) > 0) {
		if (m.type == WIRE_ERROR) {
			struct wire_fields f;
			char *msg = NULL;
			uint32_t code = 0;

			wire_fields_init(&f, &m);
			if ((r = wire_get_str(&f, &msg, sizeof(said) - 1)) < 0 ||
			    (r = wire_get_u32(&f, &code)) < 0 || (r = wire_fields_end(&f)) < 0)
				break;
			clean_text(said, sizeof(said), msg);
			free(msg);
			said_err = code >= 1 && code <= 12 ? -(int)code : TRAWL_EIO;
		} else if ((r = take(arg, &m)) != 0) {
			is_done = r > 0;
			if (r < 0)
				break;
		}
	}
	if (r < 0 && !said_err) {
		stream_err = r;
		snprintf(stream, sizeof(stream), "%s", error_last());
	}
	/* A worker that said why it failed exits by itself; one that sent garbage is killed. */
	ended = worker_finish(&w, stream_err != 0);
	if (ended < 0 && (w.is_deadline || (w.signal && !w.is_killed)))
		return ended; /* killed, by the sandbox or otherwise: error_last() says how */
	if (said_err) {
		error_set("%s", said);
		return said_err;
	}
	if (stream_err) {
		error_set("%s", stream);
		return stream_err;
	}
	if (ended < 0)
		return ended; /* it exited with an error status without saying why */
	if (!is_done) {
		error_set("%s ended without a result", label);
		return TRAWL_EIO;
	}
	return 0;
}

/* The fetch worker's result. */
struct sync_fetched {
	bool cloned, recloned, is_done, has_result;
	char reason[512];
};

static int take_fetch(void *arg, const struct wire_msg *m)
{
	struct sync_fetched *f = arg;
	struct wire_fields fl;
	uint32_t flags = 0;
	char *reason = NULL;
	int err;

	wire_fields_init(&fl, m);
	if (m->type == WIRE_END && f->has_result)
		return wire_fields_end(&fl) < 0 ? TRAWL_ECORRUPT : 1;
	if (m->type != WIRE_FETCH || f->has_result) {
		error_set("fetch worker: an unexpected message (type %u)", m->type);
		return TRAWL_ECORRUPT;
	}
	if ((err = wire_get_u32(&fl, &flags)) < 0 ||
	    (err = wire_get_str(&fl, &reason, sizeof(f->reason) - 1)) < 0 ||
	    (err = wire_fields_end(&fl)) < 0)
		goto out;
	clean_text(f->reason, sizeof(f->reason), reason);
	f->cloned = flags & 1u;
	f->recloned = (flags & 2u) != 0;
	f->has_result = true;
out:
	free(reason);
	return err;
}

/*
 * SECURITY: the credential for url only, in a memory file the fetch worker inherits
 * (WORKER_IN_FD): the worker never reads the credentials file, never sees another host's
 * entry, and nothing of it is on disk, in its argv or its environment (git/cred.h). *fd is the
 * file, -1 on error.
 */
static int credential_fd(int *fd, const char *credentials, const char *url)
{
	struct gcred c;
	int err;

	*fd = -1;
	if ((err = gcred_pick(&c, credentials, url)) < 0)
		return err;
	if ((*fd = memfd_create("trawl-credential", MFD_CLOEXEC)) < 0) {
		error_set("cannot create the fetch worker's credential file: %s", strerror(errno));
		err = TRAWL_EIO;
	} else if ((err = gcred_write(*fd, &c)) < 0) {
		close(*fd);
		*fd = -1;
	}
	gcred_dispose(&c);
	return err;
}

/*
 * The fetch step: the fetch worker brings the mirror up to date, confined to the repository's
 * own directory; a first clone it leaves in p->clone is renamed into place here, once it has
 * ended (datadir_repo_adopt). A failed or killed clone leaves nothing behind.
 */
static int sync_fetch(struct sync_fetched *f, const struct gitmirror_opts *mo,
		      const struct store_repo *r, const struct datadir_repo *p, const char *data)
{
	struct sync_argv a = { .n = 0 };
	int cred = -1, err;

	memset(f, 0, sizeof(*f));
	arg_add(&a, "trawl");
	arg_add(&a, "worker");
	arg_add(&a, "fetch");
	arg_pair(&a, "--mirror", p->mirror);
	arg_pair(&a, "--clone", p->clone);
	arg_pair(&a, "--url", r->url);
	arg_pair(&a, "--data", data);
	if (mo->credentials) {
		if ((err = credential_fd(&cred, mo->credentials, r->url)) < 0)
			return err;
		arg_pair(&a, "--credential-of", mo->credentials);
	}
	if (mo->known_hosts)
		arg_pair(&a, "--known-hosts", mo->known_hosts);
	if (mo->policy.allow_insecure)
		arg_add(&a, "--allow-insecure");
	if (mo->policy.allow_local)
		arg_add(&a, "--allow-local");
	if (mo->policy.allow_private)
		arg_add(&a, "--allow-private");
	err = sync_worker(a.v, cred, "fetch worker", take_fetch, f);
	if (cred >= 0)
		close(cred);
	if (err == 0)
		err = datadir_repo_adopt(p, f->cloned);
	if (err < 0)
		datadir_repo_clean(p);
	return err;
}

static int take_index(void *arg, const struct wire_msg *m)
{
	return outwire_rx_take(arg, m);
}

/* The bytes of the regular files directly in dir (0 when it cannot be read). */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	const struct dirent *de;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			n += (uint64_t)st.st_size;
	}
	closedir(d);
	return n;
}

/*
 * Sets sync's soft address-space limit (SYNC_AS_BASE) for the next step: the base, the files
 * of index_dir and work_dir (NULL: none), which it may map, and extra bytes of heap. Only the
 * soft limit, which the next repository's step raises again as the index grows: the limit
 * guards against sync's own code, and a worker confines itself below the hard one. Not under
 * a sanitizer, whose shadow memory reserves terabytes (util/sanitizer.h).
 */
static void sync_limit_as(const char *index_dir, const char *work_dir, uint64_t extra)
{
	struct rlimit rl;
	uint64_t want = SYNC_AS_BASE + dir_bytes(index_dir) + extra;

	if (HAS_SHADOW || getrlimit(RLIMIT_AS, &rl) != 0)
		return;
	if (work_dir)
		want += dir_bytes(work_dir);
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = (rlim_t)want;
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		fprintf(stderr, "trawl: warning: cannot limit the address space: %s\n",
			strerror(errno));
}

/*
 * What the index holds of the repository now, for the worker's result: the documents of each
 * shard, which bound its overlay (outwire_rx_expect); *n_docs_total their sum.
 */
static int expect_old(struct outwire_rx *rx, uint64_t *n_docs_total, const char *index_dir,
		      const struct index_repo_entry *old)
{
	uint32_t *n_docs = NULL;
	int err = 0;

	*n_docs_total = 0;
	if (old->n_shards && !(n_docs = calloc(old->n_shards, sizeof(*n_docs))))
		return error_nomem(NULL);
	for (size_t i = 0; i < old->n_shards && err == 0; i++) {
		char *path = file_join(index_dir, old->shards[i]);
		struct shard *sh = NULL;

		if (!path) {
			err = error_nomem(NULL);
			break;
		}
		if ((err = shard_open(&sh, path)) == 0) {
			n_docs[i] = shard_n_docs(sh);
			*n_docs_total += n_docs[i];
		}
		shard_close(sh);
		free(path);
	}
	if (err == 0)
		err = outwire_rx_expect(rx, n_docs, old->n_shards);
	free(n_docs);
	return err;
}

/* An unchanged result must name the branches and commits the index has. */
static int check_unchanged(const struct build_git_result *res, const struct index_repo_entry *old)
{
	bool ok = res->n_branches == old->n_branches;

	for (size_t i = 0; ok && i < res->n_branches; i++) {
		ok = false;
		for (size_t k = 0; k < old->n_branches && !ok; k++)
			ok = strcmp(old->branches[k].name, res->branches[i].name) == 0 &&
			     strcmp(old->branches[k].commit, res->branches[i].commit) == 0;
	}
	if (ok)
		return 0;
	error_set("index worker: \"unchanged\", but not the branches the index holds");
	return TRAWL_ECORRUPT;
}

/* Copies the branches indexed (with their commits) of one run into x. */
static int sync_indexed_fill(struct sync_indexed *x, const struct build_git_result *res)
{
	if (res->n_branches && !(x->branches = calloc(res->n_branches, sizeof(*x->branches))))
		return error_nomem(NULL);
	for (size_t i = 0; i < res->n_branches; i++, x->n_branches++) {
		struct store_branch *b = &x->branches[i];

		if (!(b->name = strdup(res->branches[i].name)))
			return error_nomem(NULL);
		snprintf(b->commit, sizeof(b->commit), "%s", res->branches[i].commit);
		b->is_default = res->branches[i].is_default;
	}
	x->is_unchanged = res->is_unchanged;
	x->is_incremental = res->is_incremental;
	return 0;
}

/*
 * THE indexing step of sync: the index worker indexes the branches r's patterns select (none:
 * the mirror's HEAD, which follows the remote's default branch) of the mirror at git_dir into a
 * work directory, incrementally when the index already holds the repository (docs/git.md);
 * this process checks its shards and links them into index_dir (build_commit), and returns the
 * commit indexed per branch in *x. WRITERS is held throughout, so no sweep takes the work
 * directory; it is removed whatever happens. On error the previous shards stay as they were.
 */
static int sync_index_repo(struct sync_indexed *x, const char *index_dir,
			   const struct store_repo *r, const char *git_dir)
{
	struct sync_argv a = { .n = 0 };
	struct outwire_rx rx;
	struct index_repo_entry old = { 0 };
	uint64_t n_old_docs = 0, heap = 0;
	char *work = NULL;
	int writers = -1, err;

	memset(x, 0, sizeof(*x));
	outwire_rx_init(&rx);
	if ((err = file_mkdirs(index_dir)) < 0 || (err = index_writer_begin(&writers, index_dir)) < 0)
		goto out;
	if ((err = index_read_repo(&old, index_dir, r->name)) == TRAWL_ENOTFOUND)
		err = 0;
	if (err < 0 || (err = expect_old(&rx, &n_old_docs, index_dir, &old)) < 0 ||
	    (err = index_work_dir_new(&work, index_dir, r->name)) < 0)
		goto out;
	/* What the result may hold: an overlay entry per kept document, the branch lists it sent. */
	heap = 2 * n_old_docs * sizeof(struct index_overlay) + WIRE_MAX_TOTAL;
	sync_limit_as(index_dir, NULL, heap);
	arg_add(&a, "trawl");
	arg_add(&a, "worker");
	arg_add(&a, "index");
	arg_pair(&a, "--mirror", git_dir);
	arg_pair(&a, "--index", index_dir);
	arg_pair(&a, "--work", work);
	arg_pair(&a, "--name", r->name);
	for (size_t i = 0; i < r->n_patterns && i < CLI_MAX_BRANCH_ARGS; i++)
		arg_pair(&a, "--branch", r->patterns[i]);
	snprintf(a.nums[0], sizeof(a.nums[0]), "%llu",
		 (unsigned long long)BUILD_MAX_FILE_SIZE_DEFAULT);
	snprintf(a.nums[1], sizeof(a.nums[1]), "%llu", (unsigned long long)BUILD_MAX_FILES_DEFAULT);
	snprintf(a.nums[2], sizeof(a.nums[2]), "%llu", (unsigned long long)SYNC_MAX_BYTES);
	snprintf(a.nums[3], sizeof(a.nums[3]), "%d", SYNC_MAX_SECONDS);
	arg_pair(&a, "--max-file-size", a.nums[0]);
	arg_pair(&a, "--max-files", a.nums[1]);
	arg_pair(&a, "--max-bytes", a.nums[2]);
	arg_pair(&a, "--max-seconds", a.nums[3]);
	if (datadir_repo_symbols(r))
		arg_add(&a, "--symbols");
	if ((err = sync_worker(a.v, -1, "index worker", take_index, &rx)) < 0)
		goto out;
	/* Its new shards are mapped one at a time to be verified, then with the whole index. */
	sync_limit_as(index_dir, work, heap);
	if (strcmp(rx.out.e.name ? rx.out.e.name : "", r->name) != 0 && !rx.out.res.is_unchanged) {
		error_set("index worker: a result for another repository");
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if (rx.out.res.is_unchanged)
		err = check_unchanged(&rx.out.res, &old);
	else
		err = build_commit(index_dir, work, &rx.out, &old);
	if (err == 0 && rx.out.res.n_invalid)
		fprintf(stderr,
			"trawl: warning: %s: %zu matching branch%s left out (not a valid branch "
			"name for trawl, e.g. starting with '-')\n",
			r->name, rx.out.res.n_invalid, rx.out.res.n_invalid == 1 ? "" : "es");
	if (err == 0)
		err = sync_indexed_fill(x, &rx.out.res);
out:
	if (work)
		index_work_dir_remove(work);
	index_writer_end(writers, index_dir, err == 0 && !x->is_unchanged);
	outwire_rx_dispose(&rx);
	index_repo_entry_dispose(&old);
	free(work);
	return err;
}

/* What the index holds of repository name: shard bytes, live documents, skipped ones. */
struct sync_counts {
	uint64_t bytes, files, skipped;
};

/*
 * Counted from the index rather than from the run: an incremental run reads only what
 * changed, and a run where nothing moved reads nothing. Zero when there is no index.
 */
static void index_counts(struct sync_counts *c, const char *index_dir, const char *name)
{
	struct index *ix = NULL;

	memset(c, 0, sizeof(*c));
	if (index_open(&ix, index_dir) < 0)
		return;
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		struct shard *sh = index_shard(ix, i);
		struct stat sb;
		uint32_t lo, hi;

		if (!datadir_owns(name, index_shard_repo(ix, i)))
			continue;
		if (stat(shard_file(sh), &sb) == 0)
			c->bytes += (uint64_t)sb.st_size;
		index_shard_docs(ix, i, &lo, &hi);
		for (uint32_t id = lo; id < hi; id++) {
			struct shard_doc d;

			if (shard_doc(&d, sh, id) < 0 || !index_doc_is_live(ix, i, id, &d))
				continue;
			c->files++;
			c->skipped += d.skip != DOC_INDEXED;
		}
	}
	index_close(ix);
}

struct sync_run {
	struct datadir *d;
	struct store *s;
	struct gitmirror_opts mo;
	struct shardcheck checked; /* the shard files verified before (DATA/shards-verified) */
};

/* Records a failure (the detail of error_last()) and says so. */
static int sync_failed(struct sync_run *run, const struct store_repo *r, const char *what)
{
	char msg[TEXT_MAX + 32], clean[TEXT_MAX + 1];

	/* error_last() may hold a worker's or a remote's words: cleaned (again) and capped. */
	clean_text(clean, sizeof(clean), error_last());
	snprintf(msg, sizeof(msg), "%s: %s", what, clean);
	fprintf(stderr, "trawl: %s: %s\n", r->name, msg);
	if (store_repo_set_failed(run->s, r->id, (int64_t)time(NULL), msg) < 0)
		cli_report(TRAWL_EIO);
	return EXIT_ERROR;
}

/*
 * Whether every shard the MANIFEST lists for r opens and verifies (checksums and posting lists,
 * as trawl verify does); a file verified before and unchanged since is only opened
 * (build/shardcheck.h). When one does not, r leaves the index (MANIFEST entry and files), so
 * that the run that follows rebuilds it in full instead of building on damaged shards: until
 * then it is not searchable, which beats serving or extending a corrupt index. Errors other
 * than damage (the MANIFEST unreadable, out of memory) are returned.
 */
static int sync_check_shards(struct sync_run *run, const struct store_repo *r)
{
	struct index_repo_entry e;
	int err = index_read_repo(&e, run->d->index, r->name);

	if (err == TRAWL_ENOTFOUND)
		return 0; /* not indexed yet: nothing to check */
	if (err < 0)
		return err;
	for (size_t i = 0; i < e.n_shards && err == 0; i++) {
		err = shardcheck_verify(&run->checked, run->d->index, e.shards[i]);
		if (err == TRAWL_ENOMEM)
			break;
		if (err < 0) {
			fprintf(stderr, "trawl: %s: %s; re-indexing the repository in full\n", r->name,
				error_last());
			err = index_remove_repo(run->d->index, r->name);
			break;
		}
	}
	index_repo_entry_dispose(&e);
	return err;
}

/*
 * What a sync checks before its first repository, holding DATA/sync.lock: repositories a killed
 * sync left in state syncing are marked interrupted, and an unreadable MANIFEST is set aside
 * (MANIFEST.damaged) with *sync_all set, since the index then has to be rebuilt from the registry
 * by syncing every repository.
 */
static int sync_check_start(struct sync_run *run, bool *sync_all)
{
	size_t n;
	int err;

	*sync_all = false;
	if ((err = store_repos_interrupted(run->s, &n)) < 0)
		return err;
	if (n)
		fprintf(stderr, "trawl: %zu repositor%s left syncing by an interrupted sync\n", n,
			n == 1 ? "y was" : "ies were");
	if ((err = index_set_aside_damaged(run->d->index)) == 1) {
		fprintf(stderr, "trawl: %s; set aside as MANIFEST.damaged, re-indexing every "
			"repository\n", error_last());
		*sync_all = true;
		err = 0;
	}
	return err;
}

/*
 * What r's fetch obeys: *fetch is r with the URL and policy of its file DATA/policy/ID (read
 * into *pf, which keeps the strings). SECURITY: the registry's copy is for display; where it
 * differs the file wins and a warning says so. A file that names another repository, or none,
 * fails the repository (ECORRUPT, ENOTFOUND with what to do).
 */
static int sync_policy(struct store_repo *fetch, struct store_policy_file *pf,
		       const struct sync_run *run, const struct store_repo *r)
{
	int err = store_policy_read(pf, run->d->policy, r->id);

	if (err == TRAWL_ENOTFOUND) {
		error_set("no URL policy file %s/%lld for it: remove it (trawl repo remove) and add "
			  "it again", run->d->policy, (long long)r->id);
		return err;
	}
	if (err < 0)
		return err;
	if (strcmp(pf->name, r->name) != 0) {
		error_set("%s/%lld is the URL policy of repository \"%s\", not this one: the "
			  "registry was changed outside trawl repo", run->d->policy, (long long)r->id,
			  pf->name);
		return TRAWL_ECORRUPT;
	}
	if (!store_policy_matches(pf, r)) {
		fprintf(stderr,
			"trawl: %s: the registry's URL or URL policy differs from %s/%lld; the "
			"file's is used\n",
			r->name, run->d->policy, (long long)r->id);
	}
	*fetch = *r;
	fetch->url = pf->url;
	fetch->policy = pf->policy;
	return 0;
}

static int sync_one(struct sync_run *run, const struct store_repo *r)
{
	struct sync_fetched res;
	struct sync_indexed x = { 0 }; /* disposed of even when the shard check fails first */
	struct sync_counts c = { 0 };
	struct gitmirror_opts mo = run->mo;
	struct datadir_repo p;
	struct store_policy_file pf = { 0 };
	struct store_repo fetch;
	int err, ret = 0;

	if ((err = datadir_repo_init(&p, run->d, r->id)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	sync_limit_as(run->d->index, NULL, 0);
	if ((err = store_repo_set_syncing(run->s, r->id)) < 0) {
		cli_report(err);
		datadir_repo_dispose(&p);
		return EXIT_ERROR;
	}
	/*
	 * The fetch worker may write DATA/repos/ID only: it must exist (a restored DATA may lack
	 * it), and a mirror where an older trawl kept it moves in.
	 */
	if ((err = file_mkdirs(run->d->repos)) < 0 || (err = datadir_repo_prepare(&p)) < 0) {
		ret = sync_failed(run, r, "fetch");
		goto out;
	}
	if (err == 1)
		fprintf(stderr, "trawl: %s: moved its mirror %s to %s\n", r->name, p.old, p.mirror);
	/*
	 * SECURITY: P1: the URL is checked again before the fetch, under its stored policy: the URL
	 * and policy of DATA/policy/ID, which the confined server cannot write (trawl.db it can).
	 */
	if ((err = sync_policy(&fetch, &pf, run, r)) < 0) {
		ret = sync_failed(run, r, "fetch");
		goto out;
	}
	datadir_policy_widen(&mo.policy, &fetch.policy);
	err = sync_fetch(&res, &mo, &fetch, &p, run->d->root);
	if (res.recloned)
		fprintf(stderr,
			"trawl: %s: the mirror was corrupt (%s); deleted it and cloned again\n",
			r->name, res.reason);
	if (err < 0) {
		ret = sync_failed(run, r, "fetch");
		goto out;
	}
	if ((err = sync_check_shards(run, r)) == 0)
		err = sync_index_repo(&x, run->d->index, r, p.mirror);
	if (err == 0) {
		index_counts(&c, run->d->index, r->name);
		err = store_repo_set_synced(run->s, r->id, (int64_t)time(NULL), c.bytes, c.files,
					    c.skipped, x.branches, x.n_branches);
	}
	if (err < 0) {
		ret = sync_failed(run, r, "index");
		sync_indexed_dispose(&x);
		goto out;
	}
	printf("synced ");
	cli_print_text(r->name, strlen(r->name), cli_names_out());
	putchar(':');
	for (size_t i = 0; i < x.n_branches; i++) {
		/* A ref name may hold C1 controls (U+0080..U+009F): valid UTF-8, valid for git. */
		putchar(' ');
		cli_print_text(x.branches[i].name, strlen(x.branches[i].name), cli_names_out());
		printf(" at %.12s", x.branches[i].commit);
	}
	printf(" (%llu files, %llu skipped)%s%s\n", (unsigned long long)c.files,
	       (unsigned long long)c.skipped, res.cloned ? ", new mirror" : "",
	       x.is_unchanged ? ", unchanged" : x.is_incremental ? ", incremental" : "");
	sync_indexed_dispose(&x);
out:
	datadir_repo_dispose(&p);
	store_policy_file_dispose(&pf);
	return ret;
}

/*
 * Whether a plain `trawl sync` leaves r for now: its last attempts failed and the backoff the
 * registry set (store_repo_set_failed) has not passed. `trawl sync NAME` always tries.
 */
static bool sync_backoff(const struct store_repo *r)
{
	int64_t now = (int64_t)time(NULL);

	if (r->state != STORE_STATE_ERROR || r->next_attempt <= now)
		return false;
	printf("skipped ");
	cli_print_text(r->name, strlen(r->name), cli_names_out());
	printf(": %u failed attempt%s in a row; next one in %llds (trawl sync NAME tries now)\n",
	       r->failures, r->failures == 1 ? "" : "s", (long long)(r->next_attempt - now));
	return true;
}

/*
 * Drops from the index the shards of names the registry retired (an older trawl named those
 * repositories after their URL's query or fragment, which may hold a secret); the repositories
 * themselves sync under their new names.
 */
static int drop_retired(struct sync_run *run)
{
	char **names = NULL;
	size_t n = 0;
	int err;

	if ((err = store_retired_names(&names, &n, run->s)) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++)
		if ((err = index_remove_repo(run->d->index, names[i])) == 0)
			err = store_retired_name_forget(run->s, names[i]);
	store_names_free(names, n);
	return err;
}

/* The record of the shard files verified before, DATA/shards-verified (build/shardcheck.h). */
static int checked_open(struct shardcheck *sc, const struct datadir *d)
{
	char *path = file_join(d->root, "shards-verified");
	int err;

	if (!path)
		return error_nomem(NULL);
	err = shardcheck_open(sc, path);
	free(path);
	return err;
}

static int sync_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "allow-insecure", no_argument, NULL, 'I' },
		{ "allow-local", no_argument, NULL, 'L' },
		{ "allow-private", no_argument, NULL, 'P' },
		{ "retry", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_run run = { 0 };
	struct datadir d;
	struct store *s = NULL;
	struct store_repo *v = NULL, one;
	size_t n = 0;
	const char *data = NULL;
	int c, err, ret = 0;
	bool have_one = false, sync_all = false, is_retry = false;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': data = optarg; break;
		case 'I': run.mo.policy.allow_insecure = true; break;
		case 'L': run.mo.policy.allow_local = true; break;
		case 'P': run.mo.policy.allow_private = true; break;
		case 'R':
			is_retry = true;
			break;
		case 'h': return cli_usage("sync", false);
		default: return cli_usage("sync", true);
		}
	}
	if (argc - optind > 1)
		return cli_usage("sync", true);
	datadir_policy_env(&run.mo.policy);
	if ((err = datadir_init(&d, data, false)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	run.d = &d;
	run.mo.credentials = d.credentials;
	run.mo.known_hosts = d.known_hosts;
	if ((err = datadir_lock(&d)) < 0 || (err = store_open(&s, d.db)) < 0 ||
	    (err = checked_open(&run.checked, &d)) < 0)
		goto fail;
	run.s = s;
	if ((err = datadir_policy_migrate(&d, s)) < 0 ||
	    (err = sync_check_start(&run, &sync_all)) < 0 || (err = drop_retired(&run)) < 0)
		goto fail;
	if (optind < argc && !sync_all) {
		if ((err = store_repo_get(&one, s, argv[optind])) < 0)
			goto fail;
		have_one = true;
		ret = sync_one(&run, &one);
	} else {
		if ((err = store_repo_list(&v, &n, s)) < 0)
			goto fail;
		if (n == 0)
			printf("no repositories registered (trawl repo add URL)\n");
		for (size_t i = 0; i < n; i++) {
			if (!is_retry && !sync_all && sync_backoff(&v[i]))
				continue;
			if (sync_one(&run, &v[i]) != 0)
				ret = EXIT_ERROR;
		}
	}
	goto out;
fail:
	cli_report(err);
	ret = EXIT_ERROR;
out:
	/* A record that cannot be written only costs the next sync a full verification. */
	if (run.checked.path && shardcheck_save(&run.checked, d.index) < 0)
		fprintf(stderr, "trawl: warning: %s\n", error_last());
	shardcheck_dispose(&run.checked);
	if (have_one)
		store_repo_dispose(&one);
	store_repos_free(v, n);
	store_close(s);
	datadir_dispose(&d);
	return ret;
}

int cmd_sync(int argc, char **argv)
{
	/* The git module is the workers' (cmd_worker.c): this process never reads git data. */
	return sync_main(argc, argv);
}
