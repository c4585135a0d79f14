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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/build.h"
#include "build/compact.h"
#include "build/outwire.h"
#include "build/shardcheck.h"
#include "cli/cli.h"
#include "cli/datadir.h"
#include "cli/progress.h"
#include "git/cred.h"
#include "git/mirror.h"
#include "index/shard.h"
#include "sandbox/wire.h"
#include "sandbox/worker.h"
#include "cli/accounts.h"
#include "cluster/cluster.h"
#include "store/due.h"
#include "store/policy.h"
#include "store/store.h"
#include "symbols/symbols.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/file.h"
#include "util/sanitizer.h"
#include "util/strv.h"
#include "util/repourl.h"
#include "util/term.h"

const struct cli_help cli_help_sync = {
	.synopsis = "trawl sync [NAME] [--data DIR] [--retry] [--jobs N] [--no-progress]\n"
		    "           [--allow-insecure] [--allow-local] [--allow-private]\n"
		    "trawl sync --due [--min-interval D] [--max-interval D] [the same options]\n"
		    "trawl sync ... --self NAME (--searchers LIST | --searcher-count N\n"
		    "            --searcher-pattern P)\n",
	.summary = "fetch every registered repository (or NAME) into its mirror and index it",
	.options =
		"Each URL is checked before its fetch under the policy its repository was added "
		"with\n"
		"(trawl repo add --allow-*, kept in DATA/policy/ID). A repository that fails is\n"
		"marked with the reason and keeps its previous results; exit status 2 when any\n"
		"failed (docs/operations.md).\n"
		"Without NAME, a repository whose last attempts failed waits out a backoff (1 min\n"
		"doubling up to 1 h) first. Each fetch and index runs in a sandboxed worker "
		"process;\n"
		"the workers of up to --jobs repositories run at once. On a terminal a progress\n"
		"line shows the counts and an ETA.\n"
		"\n"
		"  --data DIR        the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  --retry           also try the repositories still waiting out their backoff\n"
		"  -j, --jobs N      repositories synced at once, 1 to 256 (default twice the\n"
		"                    online CPUs, at most 16)\n"
		"  --due             only the repositories due by how recently they changed: half\n"
		"                    the time they had gone unchanged, within the two intervals\n"
		"  --min-interval D  the shortest of them (default 10m; D as 30s, 10m, 8h, 1d)\n"
		"  --max-interval D  the longest (default 8h)\n"
		"  --no-progress     no progress line, even on a terminal\n"
		"  --allow-insecure  also accept http:// for this run\n"
		"  --allow-local     also accept file:// and local paths for this run\n"
		"  --allow-private   also accept loopback, private and link-local hosts for this "
		"run\n"
		"  -h, --help        this usage\n",
};

/* What indexing one repository produced: the commit indexed per branch and counts. */
/* What the index holds of a repository: shard bytes, live documents, skipped ones. */
struct sync_counts {
	uint64_t bytes, files, skipped;
};

struct sync_indexed {
	struct store_branch *branches;
	size_t n_branches;
	bool is_unchanged;   /* no branch moved: the index was not touched */
	bool is_incremental; /* only changed files were re-indexed */
	bool has_counts;     /* counts is what the commit left in the index */
	struct sync_counts counts;
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

/* A batch of results committed at once (sync_flush): at most this many, this old (ms). */
#define SYNC_BATCH_MAX 256
#define SYNC_BATCH_MS 2000.0

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
 * One worker's run, supervised among the others' (sync_loop): each message but WIRE_ERROR goes
 * to take (which returns 1 once the result is complete) as it arrives (sync_wrun_feed), and
 * what the worker said and how its stream went is kept for sync_wrun_end.
 */
struct sync_wrun {
	struct worker w;
	sync_take_fn take;
	void *arg;
	char said[600], stream[600];
	int said_err, stream_err;
	bool is_done; /* the result is complete */
	bool is_read; /* no more messages are taken: the run waits for the worker's end */
};

static int sync_wrun_start(struct sync_wrun *wr, char *const argv[], int in_fd,
			   const char *label, sync_take_fn take, void *arg)
{
	*wr = (struct sync_wrun){ .take = take, .arg = arg };
	return worker_start(&wr->w, SELF_EXE, argv, in_fd, label, stderr,
			    clock_now_ms() + SYNC_WORKER_MS);
}

/* A worker's WIRE_ERROR: its words, cleaned, and its code. */
static int take_said(struct sync_wrun *wr, const struct wire_msg *m)
{
	struct wire_fields f;
	char *msg = NULL;
	uint32_t code = 0;
	int err;

	wire_fields_init(&f, m);
	if ((err = wire_get_str(&f, &msg, sizeof(wr->said) - 1)) == 0 &&
	    (err = wire_get_u32(&f, &code)) == 0 && (err = wire_fields_end(&f)) == 0) {
		clean_text(wr->said, sizeof(wr->said), msg);
		wr->said_err = code >= 1 && code <= 12 ? -(int)code : TRAWL_EIO;
	}
	free(msg);
	return err;
}

/*
 * Takes the messages that have arrived, without waiting: until the result is complete, the
 * worker said why it failed, its stream ended or was malformed (is_read).
 */
static void sync_wrun_feed(struct sync_wrun *wr)
{
	struct wire_msg m;
	int r;

	while (!wr->is_read) {
		if ((r = worker_try_next(&wr->w, &m)) == WORKER_PENDING)
			return;
		if (r > 0 && m.type == WIRE_ERROR) {
			if ((r = take_said(wr, &m)) == 0) {
				wr->is_read = true;
				return;
			}
		} else if (r > 0) {
			if ((r = wr->take(wr->arg, &m)) == 0)
				continue;
			wr->is_done = r > 0;
		}
		wr->is_read = true;
		if (r < 0) {
			wr->stream_err = r;
			snprintf(wr->stream, sizeof(wr->stream), "%s", error_last());
		}
	}
}

/*
 * Ends a run (once is_read): 0 with a complete result; else the error code with the reason in
 * error_last(): how the worker died (a signal, the sandbox's rule, the deadline) wins over what
 * it said, which wins over a malformed stream, which wins over none at all.
 */
static int sync_wrun_end(struct sync_wrun *wr, const char *label)
{
	/* A worker that said why it failed exits by itself; one that sent garbage is killed. */
	int ended = worker_finish(&wr->w, wr->stream_err != 0);

	if (ended < 0 && (wr->w.is_deadline || (wr->w.signal && !wr->w.is_killed)))
		return ended; /* killed, by the sandbox or otherwise: error_last() says how */
	if (wr->said_err) {
		error_set("%s", wr->said);
		return wr->said_err;
	}
	if (wr->stream_err) {
		error_set("%s", wr->stream);
		return wr->stream_err;
	}
	if (ended < 0)
		return ended; /* it exited with an error status without saying why */
	if (!wr->is_done) {
		error_set("%s ended without a result", label);
		return TRAWL_EIO;
	}
	return 0;
}

/* The fetch worker's result. */
struct sync_fetched {
	bool cloned, recloned, is_done, has_result;
	bool is_unchanged; /* no reference of the mirror moved (the worker's word) */
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
	f->is_unchanged = (flags & 4u) != 0 && !f->cloned;
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
 * Starts the fetch step: the fetch worker brings the mirror up to date, confined to the
 * repository's own directory (sync_fetched then adopts a first clone).
 */
static int sync_fetch_start(struct sync_wrun *wr, struct sync_fetched *f,
			    const struct gitmirror_opts *mo, const struct store_repo *r,
			    const struct datadir_repo *p, const char *data)
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
	/*
	 * SECURITY: the credential's memory file is closed as soon as the worker has its copy: the
	 * workers started after this one (close-on-exec aside) never have it in this process.
	 */
	err = sync_wrun_start(wr, a.v, cred, "fetch worker", take_fetch, f);
	if (cred >= 0)
		close(cred);
	return err;
}

/* Ends the fetch step: a first clone the worker left in p->clone is renamed into place. */
static int sync_fetch_end(struct sync_wrun *wr, const struct sync_fetched *f,
			  const struct datadir_repo *p)
{
	int err = sync_wrun_end(wr, "fetch worker");

	if (err == 0)
		err = datadir_repo_adopt(p, f->cloned);
	if (err < 0)
		datadir_repo_clean(p); /* a failed or killed clone leaves nothing behind */
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
 * What sync may map and hold beyond SYNC_AS_BASE (sync_limit_as): the shard files of the index,
 * and what the results of the index steps running may make it hold.
 * DESIGN: the index's bytes are counted once per run, then grown by each commit's new shard
 * files (never shrunk by the files a commit replaces): a directory read per repository made a
 * sync quadratic in the repositories, and counting high only loosens a guard that is several
 * times what syncs need.
 */
struct sync_mem {
	uint64_t index_bytes; /* the index directory's files, at most */
	uint64_t heap;        /* what the results of the index steps running may hold */
};

/*
 * Sets sync's soft address-space limit (SYNC_AS_BASE) for the next step: the base, the files
 * of the index and work_bytes more (a work directory's), which it may map, and mem's heap.
 * Only the soft limit, which the next repository's step raises again as the index grows: the
 * limit guards against sync's own code, and a worker confines itself below the hard one. Not
 * under a sanitizer, whose shadow memory reserves terabytes (util/sanitizer.h).
 */
static void sync_limit_as(const struct sync_mem *mem, uint64_t work_bytes)
{
	struct rlimit rl;
	uint64_t want = SYNC_AS_BASE + mem->index_bytes + work_bytes + mem->heap;

	if (HAS_SHADOW || getrlimit(RLIMIT_AS, &rl) != 0)
		return;
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

/* The index step of one repository, between its start and its end. */
struct sync_ixrun {
	struct outwire_rx rx;
	struct index_repo_entry old; /* the repository's entry the run builds on */
	char *work;                  /* the worker's work directory */
	int writers;                 /* index_writer_begin's lock, -1 when not held */
	uint64_t heap;               /* what its result may make this process hold */
};

/*
 * A repository whose index worker's new shards are checked and linked into the index, waiting
 * for the commit of the batch it is in (sync_flush): the run's WRITERS keeps another run's
 * sweep off them meanwhile.
 */
struct sync_pending {
	const struct store_repo *r;
	bool cloned;                 /* its mirror is new (said in its line) */
	struct outwire_rx rx;        /* the worker's result */
	struct index_repo_entry old; /* the entry it was built on: what the commit expects */
	size_t n_linked;             /* its new files in the index */
	uint64_t work_bytes, heap;
};

/*
 * A memory file holding e (NULL: none) as a MANIFEST of that entry alone, read from its start:
 * the index worker's entry (--entry-fd), so that it parses its own, not every repository's.
 */
static int entry_fd(int *fd, const struct index_repo_entry *e)
{
	char *text = NULL;
	int err;

	if ((*fd = memfd_create("trawl-entry", MFD_CLOEXEC)) < 0) {
		error_set("cannot create the index worker's entry file: %s", strerror(errno));
		return TRAWL_EIO;
	}
	if ((err = index_entry_dump(&text, e)) == 0 &&
	    (err = file_write_all(*fd, text, strlen(text), "the index worker's entry")) == 0 &&
	    lseek(*fd, 0, SEEK_SET) < 0) {
		error_set("the index worker's entry file: %s", strerror(errno));
		err = TRAWL_EIO;
	}
	free(text);
	if (err < 0) {
		close(*fd);
		*fd = -1;
	}
	return err;
}

/*
 * Starts THE indexing step of sync: the index worker indexes the branches r's patterns select
 * (none: the mirror's HEAD, which follows the remote's default branch) of the mirror at git_dir
 * into a work directory, incrementally when the index already holds the repository
 * (docs/git.md): on the index's entry *old of the repository (sync_check_shards's), which
 * becomes ix's. WRITERS is held (shared) from here to sync_index_end, so no sweep takes the
 * work directory. mem's heap (what every index step running holds) grows by the run's heap
 * until sync_index_end.
 */
static int sync_index_start(struct sync_wrun *wr, struct sync_ixrun *ix,
			    struct index_repo_entry *old, struct sync_mem *mem,
			    const char *index_dir, const struct store_repo *r, const char *git_dir)
{
	struct sync_argv a = { .n = 0 };
	uint64_t n_old_docs = 0;
	int fd = -1, err;

	*ix = (struct sync_ixrun){ .old = *old, .writers = -1 };
	memset(old, 0, sizeof(*old)); /* transferred */
	outwire_rx_init(&ix->rx);
	if ((err = file_mkdirs(index_dir)) < 0 ||
	    (err = index_writer_begin(&ix->writers, index_dir)) < 0 ||
	    (err = expect_old(&ix->rx, &n_old_docs, index_dir, &ix->old)) < 0 ||
	    (err = index_work_dir_new(&ix->work, index_dir, r->name)) < 0)
		return err;
	/* What the result may hold: an overlay entry per kept document, the branch lists it sent. */
	ix->heap = 2 * n_old_docs * sizeof(struct index_overlay) + WIRE_MAX_TOTAL;
	mem->heap += ix->heap;
	sync_limit_as(mem, 0);
	arg_add(&a, "trawl");
	arg_add(&a, "worker");
	arg_add(&a, "index");
	arg_pair(&a, "--mirror", git_dir);
	arg_pair(&a, "--index", index_dir);
	arg_pair(&a, "--work", ix->work);
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
	arg_add(&a, "--entry-fd");
	if ((err = entry_fd(&fd, ix->old.name ? &ix->old : NULL)) < 0)
		return err;
	err = sync_wrun_start(wr, a.v, fd, "index worker", take_index, &ix->rx);
	close(fd);
	return err;
}

/*
 * What the index holds of the repository whose entry e (with its branches) was just committed.
 * Counted from the index rather than from the run: an incremental run reads only what changed.
 * Only e's files are opened: opening the whole index for each repository made a first sync of
 * thousands of them quadratic. A compound file counts for its share of documents.
 */
static void entry_counts(struct sync_counts *c, const char *index_dir,
			 const struct index_repo_entry *e)
{
	struct index *ix = NULL;

	memset(c, 0, sizeof(*c));
	if (index_open_entry(&ix, index_dir, e) < 0)
		return;
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		struct shard *sh = index_shard(ix, i);
		struct stat sb;
		uint32_t lo, hi;

		index_shard_docs(ix, i, &lo, &hi);
		if (stat(shard_file(sh), &sb) == 0)
			c->bytes += shard_n_repos(sh) > 1 && shard_n_docs(sh)
					    ? (uint64_t)sb.st_size / shard_n_docs(sh) * (hi - lo)
					    : (uint64_t)sb.st_size;
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

/* entry_counts of repository name's entry as the MANIFEST lists it (zero when it does not). */
static void listed_counts(struct sync_counts *c, const char *index_dir, const char *name)
{
	struct index_repo_entry e;

	memset(c, 0, sizeof(*c));
	if (index_read_repo(&e, index_dir, name) == 0)
		entry_counts(c, index_dir, &e);
	index_repo_entry_dispose(&e);
}

/* entry_counts of the entry out's commit wrote: out->e with the branches of out->res. */
static void committed_counts(struct sync_counts *c, const char *index_dir,
			     const struct build_git_output *out)
{
	struct index_repo_entry e;

	memset(c, 0, sizeof(*c));
	if (build_entry_of(&e, out) < 0)
		return;
	entry_counts(c, index_dir, &e);
	free(e.branches); /* the names are out's */
}

/* The worker's warning about branches it left out, said by sync. */
static void warn_invalid(const struct store_repo *r, const struct build_git_result *res)
{
	if (res->n_invalid)
		fprintf(stderr,
			"trawl: warning: %s: %zu matching branch%s left out (not a valid branch "
			"name for trawl, e.g. starting with '-')\n",
			r->name, res->n_invalid, res->n_invalid == 1 ? "" : "es");
}

/*
 * Ends the indexing step (also after sync_index_start failed with start_err). An unchanged
 * result: 0, with the commit indexed per branch in *x. A change: this process checks the
 * worker's shards and links them into index_dir (build_commit_link), and the result waits in
 * *p for its batch's commit (sync_flush): 1. The work directory is removed whatever happens; on
 * error the previous shards stay as they were.
 */
static int sync_index_end(struct sync_indexed *x, struct sync_pending *p, int start_err,
			  struct sync_wrun *wr, struct sync_ixrun *ix, struct sync_mem *mem,
			  const char *index_dir, const struct store_repo *r)
{
	const struct outwire_rx *rx = &ix->rx;
	int err = start_err < 0 ? start_err : sync_wrun_end(wr, "index worker");
	uint64_t work_bytes = 0;
	size_t n_linked = 0;
	bool is_queued = false;

	memset(x, 0, sizeof(*x));
	if (err < 0)
		goto out;
	/* Its new shards are mapped one at a time to be verified, then with the whole index. */
	work_bytes = dir_bytes(ix->work);
	sync_limit_as(mem, work_bytes);
	if (strcmp(rx->out.e.name ? rx->out.e.name : "", r->name) != 0 &&
	    !rx->out.res.is_unchanged) {
		error_set("index worker: a result for another repository");
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if (rx->out.res.is_unchanged) {
		if ((err = check_unchanged(&rx->out.res, &ix->old)) == 0)
			warn_invalid(r, &rx->out.res);
		if (err == 0)
			err = sync_indexed_fill(x, &rx->out.res);
	} else if (!p) {
		error_set("internal error: an index result with nowhere to wait for its commit");
		err = TRAWL_EINVAL;
	} else if ((err = build_commit_link(&n_linked, index_dir, ix->work, &ix->rx.out,
					    &ix->old)) == 0) {
		*p = (struct sync_pending){ .r = r, .rx = ix->rx, .old = ix->old,
					    .n_linked = n_linked, .work_bytes = work_bytes,
					    .heap = ix->heap };
		memset(&ix->rx, 0, sizeof(ix->rx)); /* moved */
		memset(&ix->old, 0, sizeof(ix->old));
		ix->heap = 0;
		is_queued = true;
	}
out:
	if (ix->work)
		index_work_dir_remove(ix->work);
	if (ix->writers >= 0)
		index_writer_end(ix->writers, index_dir, false);
	mem->heap -= ix->heap;
	outwire_rx_dispose(&ix->rx);
	index_repo_entry_dispose(&ix->old);
	free(ix->work);
	memset(ix, 0, sizeof(*ix));
	ix->writers = -1;
	return err < 0 ? err : is_queued;
}


/*
 * The entries of the index's MANIFEST, read once and taken from until the MANIFEST changes:
 * sync's own commits drop them (sync_manifest_drop), another writer's change is seen by the
 * file's identity. DESIGN: reading the whole MANIFEST for each repository was most of the
 * time sync itself spent on an unchanged repository, and made a sync quadratic in the
 * repositories.
 */
struct sync_manifest {
	struct index_repo_entry *v; /* an entry taken has its name NULL */
	size_t n;
	bool is_read;
	struct stat st; /* the file as it was before it was read (zero: there was none) */
};

static void sync_manifest_drop(struct sync_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		index_repo_entry_dispose(&m->v[i]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Moves repository name's entry out of the MANIFEST of index_dir into *e (read again first when
 * the file is not the one read last). ENOTFOUND when there is none; as index_read_repos.
 */
static int sync_manifest_take(struct index_repo_entry *e, struct sync_manifest *m,
			      const char *index_dir, const char *name)
{
	char *path = file_join(index_dir, "MANIFEST");
	struct stat st = { 0 };
	int err = 0;

	memset(e, 0, sizeof(*e));
	if (!path)
		return error_nomem(NULL);
	if (stat(path, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (!m->is_read || !same_file(&st, &m->st)) {
		sync_manifest_drop(m);
		m->st = st; /* before the read: a change during it is seen next time */
		if ((err = index_read_repos(&m->v, &m->n, index_dir)) == TRAWL_ENOTFOUND)
			err = 0;
		m->is_read = err == 0;
	}
	free(path);
	if (err < 0)
		return err;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].name && strcmp(m->v[i].name, name) == 0) {
			*e = m->v[i];
			memset(&m->v[i], 0, sizeof(m->v[i])); /* moved out */
			return 0;
		}
	error_set("%s: no repository \"%s\" in the index", index_dir, name);
	return TRAWL_ENOTFOUND;
}

/*
 * The shard files this run checked, and whether each has symbols (-1: not looked at yet).
 * DESIGN: thousands of packed repositories list the same shared file, and each open of it sorts
 * its repository table: checking it once per repository made an unchanged sync quadratic (5,000
 * repositories in one file: 4.8 s of opens, 20,000: 97 s). A shard file is never rewritten
 * under its name (a new one gets a new name), so a check holds for the run.
 */
struct sync_memo {
	char **names; /* sorted */
	signed char *has_symbols;
	size_t n, cap;
};

/* Where name is, or would go, in m->names. */
static size_t memo_at(const struct sync_memo *m, const char *name)
{
	return strv_lower_bound((const char *const *)m->names, m->n, name);
}

static bool memo_has(const struct sync_memo *m, const char *name)
{
	size_t at = memo_at(m, name);

	return at < m->n && strcmp(m->names[at], name) == 0;
}

/* Remembers name as checked (a failure to remember only costs a check). */
static void memo_add(struct sync_memo *m, const char *name)
{
	size_t at = memo_at(m, name);
	char *copy;

	if (at < m->n && strcmp(m->names[at], name) == 0)
		return;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
		char **v = realloc(m->names, cap * sizeof(*v));
		signed char *h;

		if (!v)
			return;
		m->names = v;
		if (!(h = realloc(m->has_symbols, cap * sizeof(*h))))
			return;
		m->has_symbols = h;
		m->cap = cap;
	}
	if (!(copy = strdup(name)))
		return;
	memmove(m->names + at + 1, m->names + at, (m->n - at) * sizeof(*m->names));
	memmove(m->has_symbols + at + 1, m->has_symbols + at, (m->n - at) * sizeof(*m->has_symbols));
	m->names[at] = copy;
	m->has_symbols[at] = -1;
	m->n++;
}

static void memo_dispose(struct sync_memo *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->names[i]);
	free(m->names);
	free(m->has_symbols);
	memset(m, 0, sizeof(*m));
}

struct sync_run {
	struct datadir *d;
	struct store *s;
	struct gitmirror_opts mo;
	struct shardcheck checked; /* the shard files verified before (DATA/shards-verified) */
	size_t jobs;               /* workers running at once, at most (--jobs) */
	bool is_progress;          /* the progress line is drawn (stderr is a terminal) */
	struct sync_mem mem;       /* what sync may map and hold (sync_limit_as) */
	struct sync_manifest manifest; /* the index's entries, as last read */
	struct sync_memo memo;         /* the shard files this run checked */
	size_t n_changed;              /* repositories whose index this run changed */
	struct sync_pending *pending;  /* results waiting for their batch's commit (sync_flush) */
	size_t n_pending, cap_pending;
	double pending_since;          /* clock_now_ms() when the first of them was queued */
	int writers;                   /* the run's own WRITERS hold, -1: none */
	char **failed;                 /* the repositories this run failed (compaction keeps them) */
	size_t n_failed;
};

/*
 * Notes that name failed in this run: a failed sync leaves the repository's index as it was,
 * so compaction keeps it. Without memory the note is lost and compaction is skipped.
 */
static void failed_add(struct sync_run *run, const char *name)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	char **v = realloc(run->failed, (run->n_failed + 1) * sizeof(*v));

	if (v)
		run->failed = v;
	if (!v || !(run->failed[run->n_failed] = strdup(name))) {
		run->n_changed = 0; /* no compaction without the full list */
		return;
	}
	run->n_failed++;
}

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
	failed_add(run, r->name);
	return EXIT_ERROR;
}

/*
 * Whether every shard the MANIFEST lists for r opens and verifies (checksums and posting lists,
 * as trawl verify does); a file verified before and unchanged since is only opened
 * (build/shardcheck.h). When one does not, r leaves the index (MANIFEST entry and files), so
 * that the run that follows rebuilds it in full instead of building on damaged shards: until
 * then it is not searchable, which beats serving or extending a corrupt index. Errors other
 * than damage (the MANIFEST unreadable, out of memory) are returned. On success *e is r's entry
 * the index step builds on (empty when there is none, or no longer), the caller's to dispose.
 */
static int sync_check_shards(struct index_repo_entry *e, struct sync_run *run,
			     const struct store_repo *r)
{
	int err = sync_manifest_take(e, &run->manifest, run->d->index, r->name);

	if (err == TRAWL_ENOTFOUND) {
		memset(e, 0, sizeof(*e));
		return 0; /* not indexed yet: nothing to check */
	}
	if (err < 0)
		return err;
	for (size_t i = 0; i < e->n_shards && err == 0; i++) {
		if (memo_has(&run->memo, e->shards[i]))
			continue; /* checked in this run (a shared file, for another repository) */
		err = shardcheck_verify(&run->checked, run->d->index, e->shards[i]);
		if (err == 0)
			memo_add(&run->memo, e->shards[i]);
		if (err == TRAWL_ENOMEM)
			break;
		if (err < 0) {
			fprintf(stderr, "trawl: %s: %s; re-indexing the repository in full\n", r->name,
				error_last());
			index_repo_entry_dispose(e);
			memset(e, 0, sizeof(*e));
			err = index_remove_repo(run->d->index, r->name);
			sync_manifest_drop(&run->manifest);
			break;
		}
	}
	if (err < 0)
		index_repo_entry_dispose(e);
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

/*
 * A local repository (a path or file:// URL) whose directory is gone: ENOTFOUND saying so, since
 * libgit2 would call the URL an "unsupported URL protocol". Checked here, before the confined
 * fetch worker, which sees only what it may read. 0 for every other URL (the fetch says more).
 */
static int sync_local_exists(const struct store_repo *r)
{
	struct repourl u;
	struct stat st;
	char path[4096];

	repourl_split(&u, r->url);
	if (u.form == REPOURL_SCHEME &&
	    !(u.scheme_len == 4 && strncmp(u.scheme, "file", 4) == 0 && u.host_len == 0))
		return 0;
	if (u.form == REPOURL_SCP || !u.path || u.path_len >= sizeof(path))
		return 0;
	memcpy(path, u.path, u.path_len);
	path[u.path_len] = '\0';
	if (stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR))
		return 0;
	error_set("the local repository %s no longer exists (deleted or moved?): trawl repo "
		  "remove %s, then trawl repo add NEWPATH --allow-local --name %s", path, r->name,
		  r->name);
	return TRAWL_ENOTFOUND;
}

/*
 * One repository's sync, from its fetch to its commit: a step in this process, then its fetch
 * worker, a step, its index worker, a step (sync_loop runs the workers of several at once).
 */
struct sync_job {
	const struct store_repo *r; /* NULL: the slot is free */
	bool is_index;              /* its index worker runs, else its fetch worker */
	struct sync_wrun wr;
	struct datadir_repo p;
	struct store_policy_file pf;
	struct sync_fetched res;
	struct sync_ixrun ix;
};

/* What a job ended as (sync_progress counts them). */
enum sync_outcome {
	SYNC_CHANGED,
	SYNC_UNCHANGED,
	SYNC_FAILED,
	SYNC_QUEUED, /* its result waits for its batch's commit: it ends there (sync_flush) */
};

static void sync_job_dispose(struct sync_job *j)
{
	datadir_repo_dispose(&j->p);
	store_policy_file_dispose(&j->pf);
	memset(j, 0, sizeof(*j));
}

/*
 * The first step: r marked syncing, its directory and URL policy checked, its fetch worker
 * started. 0 when the worker runs, else the job has ended (failed, said and recorded).
 */
static int sync_job_begin(struct sync_run *run, struct sync_job *j, const struct store_repo *r)
{
	struct gitmirror_opts mo = run->mo;
	struct store_repo fetch;
	int err;

	*j = (struct sync_job){ .r = r, .ix.writers = -1 };
	if ((err = datadir_repo_init(&j->p, run->d, r->id)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	sync_limit_as(&run->mem, 0);
	if ((err = store_repo_set_syncing(run->s, r->id)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	/*
	 * The fetch worker may write DATA/repos/ID only: it must exist (a restored DATA may lack
	 * it), and a mirror where an older trawl kept it moves in.
	 */
	if ((err = file_mkdirs(run->d->repos)) < 0 || (err = datadir_repo_prepare(&j->p)) < 0)
		return sync_failed(run, r, "fetch");
	if (err == 1)
		fprintf(stderr, "trawl: %s: moved its mirror %s to %s\n", r->name, j->p.old,
			j->p.mirror);
	/*
	 * SECURITY: P1: the URL is checked again before the fetch, under its stored policy: the URL
	 * and policy of DATA/policy/ID, which the confined server cannot write (trawl.db it can).
	 */
	if ((err = sync_policy(&fetch, &j->pf, run, r)) < 0)
		return sync_failed(run, r, "fetch");
	if ((err = sync_local_exists(&fetch)) < 0)
		return sync_failed(run, r, "fetch");
	datadir_policy_widen(&mo.policy, &fetch.policy);
	if ((err = sync_fetch_start(&j->wr, &j->res, &mo, &fetch, &j->p, run->d->root)) < 0) {
		datadir_repo_clean(&j->p);
		return sync_failed(run, r, "fetch");
	}
	return 0;
}

/* Whether every shard file of e has symbols exactly when want says (a damaged one: no). */
static bool entry_symbols_are(struct sync_memo *m, const struct index_repo_entry *e,
			      const char *index_dir, bool want)
{
	bool ok = true;

	for (size_t i = 0; i < e->n_shards && ok; i++) {
		size_t at = memo_at(m, e->shards[i]);
		bool is_known = at < m->n && strcmp(m->names[at], e->shards[i]) == 0;
		char *path = NULL;
		struct shard *sh = NULL;
		struct symsec sec;
		bool has = false;

		if (is_known && m->has_symbols[at] >= 0) {
			ok = (m->has_symbols[at] != 0) == want;
			continue;
		}
		path = file_join(index_dir, e->shards[i]);
		ok = path && shard_open(&sh, path) == 0 && symbols_open(&sec, &has, sh) == 0;
		if (ok && is_known)
			m->has_symbols[at] = has;
		ok = ok && has == want;
		shard_close(sh);
		free(path);
	}
	return ok;
}

/*
 * Whether the index worker would find nothing to do, so that sync need not start it: the fetch
 * moved no reference of the mirror (f), the last sync of r succeeded, and r's entry old in the
 * index holds what that sync recorded: the same branches at the same commits (the default one
 * too), indexed under the default file-size limit, with symbols exactly when r's setting wants
 * them (the worker's own test, build_git.c). A branch pattern is fixed when the repository is
 * added, so the same references select the same branches.
 * DESIGN: an unchanged repository cost two confined workers, each most of its time starting
 * (the dynamic loader, libgit2 reading the system's CA bundle): 5,000 of them took minutes.
 * A fetch worker that lies ("unchanged") keeps the repository's previous index, which it could
 * as well by failing: it gains nothing.
 */
static bool index_is_current(struct sync_memo *m, const struct sync_fetched *f,
			     const struct store_repo *r, const struct index_repo_entry *old,
			     const char *index_dir)
{
	if (!f->is_unchanged || r->state != STORE_STATE_INDEXED || !old->name ||
	    old->max_file_size != BUILD_MAX_FILE_SIZE_DEFAULT || old->n_branches != r->n_branches)
		return false;
	for (size_t i = 0; i < old->n_branches; i++) {
		const struct index_branch *b = &old->branches[i];
		bool found = false;

		for (size_t k = 0; k < r->n_branches && !found; k++)
			found = strcmp(r->branches[k].name, b->name) == 0 &&
				strcmp(r->branches[k].commit, b->commit) == 0 &&
				r->branches[k].is_default == b->is_default;
		if (!found)
			return false;
	}
	return entry_symbols_are(m, old, index_dir, datadir_repo_symbols(r));
}

/* What the last sync recorded of r, as an unchanged run's result. */
static int sync_indexed_recorded(struct sync_indexed *x, const struct store_repo *r)
{
	memset(x, 0, sizeof(*x));
	x->is_unchanged = true;
	if (r->n_branches && !(x->branches = calloc(r->n_branches, sizeof(*x->branches))))
		return error_nomem(NULL);
	for (size_t i = 0; i < r->n_branches; i++, x->n_branches++) {
		x->branches[i] = r->branches[i];
		if (!(x->branches[i].name = strdup(r->branches[i].name)))
			return error_nomem(NULL);
	}
	return 0;
}

static void sync_record(struct sync_run *run, const struct store_repo *r, bool cloned,
			struct sync_indexed *x, int err, enum sync_outcome *how);

/*
 * Once its fetch worker has ended: the shard check, then the index worker started (0), or the
 * job ended: failed, or unchanged without an index worker (index_is_current; *how says which).
 */
static int sync_job_fetched(struct sync_run *run, struct sync_job *j, enum sync_outcome *how)
{
	struct sync_indexed x = { 0 };
	struct index_repo_entry old;
	int err = sync_fetch_end(&j->wr, &j->res, &j->p);

	if (j->res.recloned)
		fprintf(stderr,
			"trawl: %s: the mirror was corrupt (%s); deleted it and cloned again\n",
			j->r->name, j->res.reason);
	if (err < 0)
		return sync_failed(run, j->r, "fetch");
	if ((err = sync_check_shards(&old, run, j->r)) < 0)
		return sync_failed(run, j->r, "index");
	if (index_is_current(&run->memo, &j->res, j->r, &old, run->d->index)) {
		index_repo_entry_dispose(&old);
		err = sync_indexed_recorded(&x, j->r);
		sync_record(run, j->r, j->res.cloned, &x, err, how);
		return 1;
	}
	if ((err = sync_index_start(&j->wr, &j->ix, &old, &run->mem, run->d->index, j->r,
				    j->p.mirror)) == 0) {
		j->is_index = true;
		return 0;
	}
	sync_index_end(&x, NULL, err, &j->wr, &j->ix, &run->mem, run->d->index, j->r);
	return sync_failed(run, j->r, "index");
}

static int sync_pending_add(struct sync_run *run, struct sync_pending *p);
static void sync_pending_end(struct sync_run *run, struct sync_pending *p, int err,
			     enum sync_outcome *how);

/* Once its index worker has ended: unchanged (recorded now), or queued for its batch's commit. */
static void sync_job_indexed(struct sync_run *run, struct sync_job *j, enum sync_outcome *how)
{
	struct sync_indexed x;
	struct sync_pending p;
	int err = sync_index_end(&x, &p, 0, &j->wr, &j->ix, &run->mem, run->d->index, j->r);

	if (err == 1) {
		p.cloned = j->res.cloned;
		if ((err = sync_pending_add(run, &p)) == 0) {
			*how = SYNC_QUEUED;
			return;
		}
		sync_pending_end(run, &p, err, how);
		return;
	}
	if (err < 0)
		sync_manifest_drop(&run->manifest); /* its shard check may have dropped the entry */
	sync_record(run, j->r, j->res.cloned, &x, err, how);
}

static void sync_record(struct sync_run *run, const struct store_repo *r, bool cloned,
			struct sync_indexed *x, int err, enum sync_outcome *how)
{
	struct sync_counts c = { 0 };

	/*
	 * Nothing moved since a sync that succeeded: the counts it recorded are the index's. Counting
	 * opens every shard of the index, which made an unchanged sync quadratic in the repositories.
	 */
	if (err == 0 && x->is_unchanged && r->state == STORE_STATE_INDEXED)
		c = (struct sync_counts){ r->index_bytes, r->files, r->skipped_count };
	else if (err == 0 && x->has_counts)
		c = x->counts;
	else if (err == 0)
		listed_counts(&c, run->d->index, r->name); /* unchanged since a failed sync */
	if (err == 0) {
		err = store_repo_set_synced(run->s, r->id, (int64_t)time(NULL), c.bytes, c.files,
					    c.skipped, x->branches, x->n_branches, !x->is_unchanged);
	}
	if (err < 0) {
		sync_indexed_dispose(x);
		sync_failed(run, r, "index");
		return;
	}
	printf("synced ");
	cli_print_text(r->name, strlen(r->name), cli_names_out());
	putchar(':');
	for (size_t i = 0; i < x->n_branches; i++) {
		/* A ref name may hold C1 controls (U+0080..U+009F): valid UTF-8, valid for git. */
		putchar(' ');
		cli_print_text(x->branches[i].name, strlen(x->branches[i].name), cli_names_out());
		printf(" at %.12s", x->branches[i].commit);
	}
	printf(" (%llu files, %llu skipped)%s%s\n", (unsigned long long)c.files,
	       (unsigned long long)c.skipped, cloned ? ", new mirror" : "",
	       x->is_unchanged ? ", unchanged" : x->is_incremental ? ", incremental" : "");
	*how = x->is_unchanged ? SYNC_UNCHANGED : SYNC_CHANGED;
	run->n_changed += !x->is_unchanged;
	sync_indexed_dispose(x);
}

/*
 * Moves a job on once its worker's messages are read and its standard error has ended (or its
 * deadline passed: sync_wrun_end then kills it). 1 when the job has ended, with *how; else 0.
 */
static int sync_job_step(struct sync_run *run, struct sync_job *j, enum sync_outcome *how)
{
	sync_wrun_feed(&j->wr);
	if (!j->wr.is_read)
		return 0;
	if (!j->wr.stream_err && !worker_try_drain(&j->wr.w) &&
	    clock_now_ms() < j->wr.w.deadline_ms)
		return 0;
	*how = SYNC_FAILED;
	if (j->is_index)
		sync_job_indexed(run, j, how);
	else if (sync_job_fetched(run, j, how) == 0)
		return 0; /* its index worker runs */
	sync_job_dispose(j);
	return 1;
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

static void progress_outcome(struct progress *pg, enum sync_outcome how)
{
	progress_count(pg, how == SYNC_FAILED, how == SYNC_UNCHANGED);
}

static int sync_pending_add(struct sync_run *run, struct sync_pending *p)
{
	if (run->n_pending == run->cap_pending) {
		size_t cap = run->cap_pending ? 2 * run->cap_pending : 64;
		struct sync_pending *v = realloc(run->pending, cap * sizeof(*v));

		if (!v)
			return error_nomem(NULL);
		run->pending = v;
		run->cap_pending = cap;
	}
	if (run->n_pending == 0)
		run->pending_since = clock_now_ms();
	run->pending[run->n_pending++] = *p;
	return 0;
}

/* The end of p's job once its commit returned err: the record and its line, or the failure. */
static void sync_pending_end(struct sync_run *run, struct sync_pending *p, int err,
			     enum sync_outcome *how)
{
	const struct build_git_output *out = &p->rx.out;
	struct sync_indexed x = { 0 };

	if (err < 0) {
		build_commit_unlink(run->d->index, out, p->n_linked); /* the index stays as it was */
	} else {
		run->mem.index_bytes += p->work_bytes; /* its shard files moved into the index */
		warn_invalid(p->r, &out->res);
		if ((err = sync_indexed_fill(&x, &out->res)) == 0) {
			committed_counts(&x.counts, run->d->index, out);
			x.has_counts = true;
		}
	}
	sync_record(run, p->r, p->cloned, &x, err, how);
	run->mem.heap -= p->heap;
	outwire_rx_dispose(&p->rx);
	index_repo_entry_dispose(&p->old);
}

/*
 * Commits the queued results in one MANIFEST write, each expecting the entry it was built on;
 * when that fails, one at a time, so that a repository that cannot be committed (another
 * indexer changed it meanwhile) fails alone. Each then gets its record and line. EXIT_ERROR
 * when one failed. DESIGN: a commit per repository rewrote the whole MANIFEST each time, which
 * made a first sync of thousands of repositories quadratic; a batch is at most
 * SYNC_BATCH_MAX results and SYNC_BATCH_MS old, so a result waits that long to be searched.
 */
static int sync_flush(struct sync_run *run, struct progress *pg)
{
	size_t n = run->n_pending;
	struct index_repo_entry *es = calloc(n + 1, sizeof(*es));
	struct index_repo_entry *expects = calloc(n + 1, sizeof(*expects));
	int err = 0, ret = 0;

	if (n == 0)
		goto out;
	if (!es || !expects)
		err = error_nomem(NULL);
	else
		for (size_t k = 0; k < n && err == 0; k++) {
			err = build_entry_of(&es[k], &run->pending[k].rx.out);
			expects[k] = run->pending[k].old; /* borrowed */
		}
	if (err == 0)
		err = index_commit_entries_expect(run->d->index, es, expects, n);
	sync_manifest_drop(&run->manifest);
	for (size_t k = 0; k < n; k++) {
		enum sync_outcome how = SYNC_FAILED;
		int one = err;

		if (err < 0 && n > 1 && es && expects && es[k].name)
			one = index_commit_entry(run->d->index, &es[k], &expects[k]);
		if (es)
			free(es[k].branches); /* the names are the result's */
		sync_pending_end(run, &run->pending[k], one, &how);
		progress_outcome(pg, how);
		ret |= how == SYNC_FAILED;
	}
out:
	run->n_pending = 0;
	free(expects);
	free(es);
	return ret ? EXIT_ERROR : 0;
}

/* Whether the queued results are to be committed now. */
static bool sync_flush_due(const struct sync_run *run)
{
	return run->n_pending &&
	       (run->n_pending >= SYNC_BATCH_MAX || run->writers < 0 ||
		clock_now_ms() >= run->pending_since + SYNC_BATCH_MS);
}

/*
 * Syncs todo[0..n) with at most run->jobs workers running at once, and returns EXIT_ERROR when
 * any failed. DESIGN: one thread, one poll over every running worker's pipes; everything
 * between two workers of a job (the registry, the shard check, the commit into the index, the
 * output) runs in this thread, one job at a time, so the registry and the MANIFEST see the
 * same sequence of single-repository changes as a sync with --jobs 1, and lines are never
 * interleaved. Only the workers (the fetches and the index builds) overlap.
 */
static int sync_loop(struct sync_run *run, const struct store_repo *const *todo, size_t n)
{
	struct sync_job *jobs = calloc(run->jobs, sizeof(*jobs));
	struct pollfd *pfd = calloc(2 * run->jobs, sizeof(*pfd));
	struct progress pg;
	size_t next = 0, running = 0;
	enum sync_outcome how;
	int ret = 0;

	progress_init(&pg, run->is_progress, n);
	if (!jobs || !pfd) {
		cli_report(error_nomem(NULL));
		ret = EXIT_ERROR;
		goto out;
	}
	run->mem.index_bytes = dir_bytes(run->d->index);
	/* Linked results wait for their batch's commit: no other run's sweep may take them. */
	if (file_mkdirs(run->d->index) < 0 || index_writer_begin(&run->writers, run->d->index) < 0)
		run->writers = -1; /* then each result is committed at once */
	while (next < n || running > 0) {
		double wake = clock_now_ms() + (pg.is_on ? PROGRESS_MS : 60000.0), left;
		size_t n_pfd = 0;

		if (run->n_pending && run->pending_since + SYNC_BATCH_MS < wake)
			wake = run->pending_since + SYNC_BATCH_MS;

		for (size_t k = 0; k < run->jobs; k++) {
			while (!jobs[k].r && next < n) {
				progress_erase(&pg);
				if (sync_job_begin(run, &jobs[k], todo[next++]) == 0) {
					running++;
					continue;
				}
				sync_job_dispose(&jobs[k]);
				progress_outcome(&pg, SYNC_FAILED);
				ret = EXIT_ERROR;
			}
			if (!jobs[k].r)
				continue;
			n_pfd += worker_pollfds(&jobs[k].wr.w, !jobs[k].wr.is_read, pfd + n_pfd);
			if (jobs[k].wr.w.deadline_ms < wake)
				wake = jobs[k].wr.w.deadline_ms;
		}
		progress_draw(&pg, running);
		if (running == 0)
			continue;
		left = wake - clock_now_ms();
		if (n_pfd && poll(pfd, n_pfd, left < 0 ? 0 : (int)left + 1) < 0 && errno != EINTR) {
			cli_errorf("waiting for the workers: %s", strerror(errno));
			ret = EXIT_ERROR;
			break;
		}
		for (size_t k = 0; k < run->jobs; k++) {
			if (!jobs[k].r)
				continue;
			progress_erase(&pg);
			if (sync_job_step(run, &jobs[k], &how) == 0)
				continue;
			running--;
			if (how != SYNC_QUEUED)
				progress_outcome(&pg, how);
			if (how == SYNC_FAILED)
				ret = EXIT_ERROR;
		}
		if (sync_flush_due(run)) {
			progress_erase(&pg);
			ret |= sync_flush(run, &pg);
		}
	}
out:
	/* After an error above: the workers still running are ended (and the repositories failed). */
	for (size_t k = 0; jobs && k < run->jobs; k++) {
		if (!jobs[k].r)
			continue;
		jobs[k].wr.stream_err = TRAWL_EIO;
		jobs[k].wr.is_read = true;
		snprintf(jobs[k].wr.stream, sizeof(jobs[k].wr.stream), "sync stopped");
		sync_job_step(run, &jobs[k], &how);
	}
	progress_erase(&pg);
	ret |= sync_flush(run, &pg);
	progress_erase(&pg);
	if (run->writers >= 0)
		index_writer_end(run->writers, run->d->index, run->n_changed > 0);
	run->writers = -1;
	free(run->pending);
	run->pending = NULL;
	run->cap_pending = 0;
	free(pfd);
	free(jobs);
	return ret;
}

/*
 * Once a run changed the index: the small repositories' shards packed into compound ones
 * (build/compact.h), so that thousands of synced repositories are not thousands of files. A
 * failure leaves the index as it was (each group is its own commit) and the sync's outcome
 * alone: the next run tries again.
 */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sync_compact(struct sync_run *run)
{
	struct compact_stats st;
	struct compact_opts o = { .keep = (const char *const *)run->failed,
				  .n_keep = run->n_failed };

	sync_manifest_drop(&run->manifest);
	/* What it maps: the index, and the one compound file it writes at a time. */
	sync_limit_as(&run->mem, 8 * COMPACT_TARGET_BYTES);
	if (run->n_failed)
		qsort(run->failed, run->n_failed, sizeof(*run->failed), cmp_str);
	if (build_compact(&st, run->d->index, &o) < 0) {
		fprintf(stderr, "trawl: warning: packing small repositories into shared shards: %s\n",
			error_last());
		return;
	}
	if (st.repos)
		printf("packed %zu repositories into %zu shared shard file%s (they had %zu)\n",
		       st.repos, st.files, st.files == 1 ? "" : "s", st.files_before);
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

/*
 * Workers running at once by default: twice the online CPUs, within 1..SYNC_JOBS_DEFAULT_MAX.
 * A fetch mostly waits on the network or the disk and an index worker mostly computes, so more
 * jobs than CPUs keep both busy (bench/sync-many.md measured it); the cap keeps a big machine
 * from opening hundreds of connections to one git host at once.
 */
#define SYNC_JOBS_DEFAULT_MAX 16
#define SYNC_JOBS_MAX 256

static size_t sync_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return 2 * (size_t)n > SYNC_JOBS_DEFAULT_MAX ? SYNC_JOBS_DEFAULT_MAX : 2 * (size_t)n;
}

/* What sync_main's options set beyond struct sync_run. */
struct sync_opts {
	const char *data;
	bool is_retry, is_due, is_quiet;
	struct store_due_rule due;
	/* A cluster's indexer (docs/operations.md, "Running a cluster"): only self's share. */
	const char *searchers, *pattern, *self;
	uint64_t count;
	struct cluster_set set;
	long self_i;
};

/* --searchers (or --searcher-count and --searcher-pattern) with --self: self's share only. */
static bool sync_owner_options(struct sync_opts *o)
{
	int err = 0;

	o->self_i = -1;
	if (!o->self && !o->searchers && !o->count && !o->pattern)
		return true;
	if (!o->self || !o->searchers == !(o->count && o->pattern) || !o->count != !o->pattern) {
		cli_errorf("--self goes with --searchers, or with --searcher-count and "
			   "--searcher-pattern");
		return false;
	}
	err = o->searchers ? cluster_set_parse(&o->set, o->searchers)
			   : cluster_set_pattern(&o->set, (unsigned)o->count, o->pattern);
	if (err < 0) {
		cli_report(err);
		return false;
	}
	if ((o->self_i = cluster_set_find(&o->set, o->self)) < 0) {
		cli_errorf("--self: \"%s\" is not a name of the searchers", o->self);
		cluster_set_dispose(&o->set);
		return false;
	}
	return true;
}

/* Parses the options; false when the command ends here (--help, a usage error) with *status. */
static bool sync_options(struct sync_opts *o, struct sync_run *run, int argc, char **argv,
			 int *status)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "allow-insecure", no_argument, NULL, 'I' },
		{ "allow-local", no_argument, NULL, 'L' },
		{ "allow-private", no_argument, NULL, 'P' },
		{ "retry", no_argument, NULL, 'R' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "due", no_argument, NULL, 'd' },
		{ "min-interval", required_argument, NULL, 'm' },
		{ "max-interval", required_argument, NULL, 'M' },
		{ "no-progress", no_argument, NULL, 'q' },
		{ "searchers", required_argument, NULL, 1000 },
		{ "searcher-count", required_argument, NULL, 1001 },
		{ "searcher-pattern", required_argument, NULL, 1002 },
		{ "self", required_argument, NULL, 1003 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t jobs;
	int c;

	*o = (struct sync_opts){ .due = { STORE_DUE_MIN_DEFAULT, STORE_DUE_MAX_DEFAULT } };
	run->jobs = sync_default_jobs();
	while ((c = getopt_long(argc, argv, "hj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': o->data = optarg; break;
		case 'I': run->mo.policy.allow_insecure = true; break;
		case 'L': run->mo.policy.allow_local = true; break;
		case 'P': run->mo.policy.allow_private = true; break;
		case 'R': o->is_retry = true; break;
		case 'd': o->is_due = true; break;
		case 'q': o->is_quiet = true; break;
		case 'j':
			if (!cli_parse_u64(&jobs, optarg) || jobs < 1 || jobs > SYNC_JOBS_MAX) {
				cli_errorf("--jobs: expected a number from 1 to %d", SYNC_JOBS_MAX);
				return (*status = EXIT_ERROR, false);
			}
			run->jobs = (size_t)jobs;
			break;
		case 'm':
		case 'M':
			if (!accounts_parse_duration(c == 'm' ? &o->due.min_s : &o->due.max_s, optarg)) {
				cli_errorf("--%s: expected a duration like 30s, 10m, 8h or 1d",
					   c == 'm' ? "min-interval" : "max-interval");
				return (*status = EXIT_ERROR, false);
			}
			break;
		case 1000: o->searchers = optarg; break;
		case 1001:
			if (!cli_parse_u64(&o->count, optarg) || o->count == 0 ||
			    o->count > CLUSTER_NODES_MAX) {
				cli_errorf("--searcher-count: expected 1 to %d", CLUSTER_NODES_MAX);
				return (*status = EXIT_ERROR, false);
			}
			break;
		case 1002: o->pattern = optarg; break;
		case 1003: o->self = optarg; break;
		case 'h': return (*status = cli_usage("sync", false), false);
		default: return (*status = cli_usage("sync", true), false);
		}
	}
	if (!sync_owner_options(o))
		return (*status = EXIT_ERROR, false);
	if (argc - optind > 1 || (o->is_due && argc - optind > 0))
		return (*status = cli_usage("sync", true), false);
	if (store_due_check(&o->due) < 0) {
		cli_errorf("%s", error_last());
		return (*status = EXIT_ERROR, false);
	}
	run->is_progress = !o->is_quiet && isatty(STDERR_FILENO);
	return true;
}

/*
 * The repositories a sync of every one takes, in *todo (pointers into v): all of them but the
 * ones waiting out their backoff (unless retry or sync_all, said by a line each) or, with
 * is_due, all of them but the ones not due (store/due.h, whose rule for a failed repository is
 * its backoff: not due, it is left out without a line, every tick).
 */
static int sync_select(const struct store_repo ***todo, size_t *n_todo, const struct store_repo *v,
		       size_t n, const struct sync_opts *o, bool sync_all)
{
	int64_t now = (int64_t)time(NULL);

	*n_todo = 0;
	if (n && !(*todo = calloc(n, sizeof(const struct store_repo *))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		bool is_retried = o->is_retry && v[i].state == STORE_STATE_ERROR;

		if (!sync_all && o->is_due && !is_retried && !store_due(&v[i], &o->due, now))
			continue;
		if (!sync_all && !o->is_due && !o->is_retry && sync_backoff(&v[i]))
			continue;
		/* A cluster's indexer syncs what its searcher owns, nothing else. */
		if (o->self_i >= 0 && cluster_owner(&o->set, v[i].name) != (size_t)o->self_i)
			continue;
		(*todo)[(*n_todo)++] = &v[i];
	}
	if (o->is_due)
		printf("%zu of %zu repositor%s due\n", *n_todo, n, n == 1 ? "y" : "ies");
	return 0;
}

static int sync_main(int argc, char **argv)
{
	struct sync_run run = { 0 };
	struct sync_opts o;
	struct datadir d;
	struct store *s = NULL;
	struct store_repo *v = NULL, one;
	const struct store_repo **todo = NULL, *todo_one[1];
	size_t n = 0, n_todo = 0;
	int err, ret;
	bool have_one = false, sync_all = false;

	if (!sync_options(&o, &run, argc, argv, &ret))
		return ret;
	datadir_policy_env(&run.mo.policy);
	if ((err = datadir_init(&d, o.data, false)) < 0) {
		cli_report(err);
		cluster_set_dispose(&o.set);
		return EXIT_ERROR;
	}
	run.d = &d;
	run.mo.credentials = d.credentials;
	run.mo.known_hosts = d.known_hosts;
	if ((err = datadir_lock(&d)) < 0 || (err = store_open(&s, d.db)) < 0 ||
	    (err = store_relax_durability(s)) < 0 || (err = checked_open(&run.checked, &d)) < 0)
		goto fail;
	run.s = s;
	if ((err = datadir_policy_migrate(&d, s)) < 0 ||
	    (err = sync_check_start(&run, &sync_all)) < 0 || (err = drop_retired(&run)) < 0)
		goto fail;
	if (optind < argc && !sync_all) {
		if ((err = store_repo_get(&one, s, argv[optind])) < 0)
			goto fail;
		have_one = true;
		todo_one[0] = &one;
		ret = sync_loop(&run, todo_one, 1);
	} else {
		if ((err = store_repo_list(&v, &n, s)) < 0 ||
		    (err = sync_select(&todo, &n_todo, v, n, &o, sync_all)) < 0)
			goto fail;
		if (n == 0)
			printf("no repositories registered (trawl repo add URL)\n");
		ret = sync_loop(&run, todo, n_todo);
	}
	if (run.n_changed)
		sync_compact(&run);
	goto out;
fail:
	cli_report(err);
	ret = EXIT_ERROR;
out:
	/* A record that cannot be written only costs the next sync a full verification. */
	if (run.checked.path && shardcheck_save(&run.checked, d.index) < 0)
		fprintf(stderr, "trawl: warning: %s\n", error_last());
	shardcheck_dispose(&run.checked);
	sync_manifest_drop(&run.manifest);
	memo_dispose(&run.memo);
	for (size_t i = 0; i < run.n_failed; i++)
		free(run.failed[i]);
	free(run.failed);
	if (have_one)
		store_repo_dispose(&one);
	free(todo);
	store_repos_free(v, n);
	store_close(s);
	datadir_dispose(&d);
	cluster_set_dispose(&o.set);
	return ret;
}

int cmd_sync(int argc, char **argv)
{
	/* The git module is the workers' (cmd_worker.c): this process never reads git data. */
	return sync_main(argc, argv);
}
