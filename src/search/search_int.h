/*
 * The executor's shared structures, for the files of src/search/ only (docs/internals/search.md
 * says which file owns what):
 *
 *   compile.c     query -> atoms and a boolean expression (struct qx), cheapest operands first
 *   candidates.c  posting lists -> candidate documents (struct docset and its algebra)
 *   verify.c      per document: the expression's value, matching lines, merged line records
 *   filters.c     what each filter does (the table search dispatches through)
 *   rank.c        the ranking score of a file, its bound before reading, the cut of shown results
 *   branches.c    which branches a search covers and which a result is on
 *   search.c      the run: workers, limits, memory, and handing results out in order
 */
#ifndef TRAWL_SEARCH_SEARCH_INT_H
#define TRAWL_SEARCH_SEARCH_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "regex/patcache.h"
#include "search/rank.h"
#include "search/search.h"
#include "util/error.h"
#include "util/vec.h"

#define ERRMSG_MAX 512
#define MAX_ATOMS (QUERY_MAX_ATOMS + 2)

struct file_rec {
	const char *path;
	size_t path_len;
	uint64_t n_lines;
	size_t first_line; /* index into the shard's lines */
	enum search_kind kind;
	uint16_t lang;
	double score;
	const uint8_t *content; /* as matched: after a byte order mark */
	size_t content_len;
	size_t first_branch; /* into the job's branch names */
	size_t n_branches;
	size_t shard;        /* the shard it comes from (index_shard) */
};

/*
 * A candidate document of a ranked search: its score's static part (rank_doc_base) and the
 * most it can score (rank_bound).
 */
struct cand {
	double base;
	double bound;
	uint32_t id;
	uint32_t view; /* its shard's entry in the job's views */
	uint8_t kind; /* of its path (lang_path_kind) */
};

/*
 * A shard of a best-first job with candidates, and what verifying them needs: the repository
 * filters' values and the selected branches.
 */
struct cand_view {
	size_t shard;
	int8_t repo_val[MAX_ATOMS];
	uint64_t *sel;
	size_t n_words;
};

struct line_rec {
	uint64_t lineno;
	const uint8_t *text;
	size_t len;
	size_t first_range;
	size_t n_ranges;
};

struct run;

/* rank.c's cut (rank_cut_*): a min-heap of the best files found, by score. */
struct rank_cut_ent {
	double score;
	uint64_t lines;
};

struct rank_cut {
	struct rank_cut_ent *v;
	size_t n, cap;
	uint64_t lines; /* of the files in v */
	uint64_t need;  /* count: */
};

/*
 * One job's search: a shard, or the shards of consecutive repositories in one compound file
 * (run.group_first); what a worker found in them, until the calling thread hands it out.
 */
struct job {
	struct run *r;
	size_t mem;           /* bytes of its arrays, counted in run.mem */
	bool is_done;
	int err;
	char *errmsg; /* its error's message (job_fail); a job per shard of 5,000 repositories
		       * made a 512-byte array here 2.5 MB to zero per query */
	struct file_rec *files;
	size_t n_files, cap_files;
	struct line_rec *lines;
	size_t n_lines, cap_lines;
	struct match_range *ranges;
	size_t n_ranges, cap_ranges;
	uint64_t candidates;
	uint64_t bytes;
	size_t n_searched;    /* its shards of readable repositories */
	struct u32vec rev_missing; /* its shards whose repository rev: names no branch of */
	const char **branch_names; /* borrowed from the index */
	size_t n_branch_names, cap_branch_names;
	/*
	 * A best-first search (run.is_best_first) keeps the job's candidates here, best bound
	 * first, with what verifying them needs per shard (views). Its results go to the
	 * workers' arenas, not here.
	 */
	struct cand *cands;
	size_t n_cands, cap_cands, next_cand;
	struct cand_view *views;
	size_t n_views, cap_views;
	struct rank_defs defs; /* a ranked search: the file's definitions of what is searched */
	bool has_defs;
	const struct docset *file_cands; /* its compound file's candidates (run.fcand), once known */
};

/*
 * What a search evaluates per document: atoms (patterns and filters, each compiled once) and a
 * boolean expression over them. A ripgrep-style pattern is one content atom (and a file atom
 * for --path); a query gives one atom per pattern or filter. A filter atom does what its entry
 * in filters.c says.
 */
enum atom_kind { ATOM_CONTENT, ATOM_FILTER };

struct filter_ops;

struct atom {
	enum atom_kind kind;
	const struct filter_ops *ops; /* ATOM_FILTER */
	const struct pattern *pat; /* regex, matcher and (ATOM_CONTENT) plan; shared (patcache.h) */
	const struct pattern *pat2; /* a filter's second regex (repo:has.file's content:) */
	uint16_t lang;    /* lang: */
	char *literal;    /* ATOM_CONTENT from a literal: its text, for case-exact ranking */
	size_t literal_len;
};

struct qx {
	enum qnode_op op; /* QN_AND, QN_OR, QN_NOT; QN_PATTERN and QN_FILTER are atoms */
	size_t atom;
	struct qx **sub;
	size_t n_sub;
};


struct run {
	const struct index *ix;
	const struct search_repos *repos;
	const struct search_opts *o;
	struct atom atoms[MAX_ATOMS];
	size_t n_atoms;
	struct qx *root;
	enum qtype type;
	bool is_ranked;           /* a query: results ordered by score */
	bool is_multi;            /* more than one content atom: lines are merged per file */
	bool is_best_first;       /* ranked with a count: limit: see the merge below */
	bool is_merging;          /* the merge has started (under lock) */
	uint64_t limit;           /* --limit or count: (0 = none) */
	double deadline_ms;       /* timeout: (0 = none) */
	atomic_bool is_timeout;
	double budget_at_ms;      /* search_opts.budget_ms from the start (0 = none) */
	atomic_bool is_over_budget;
	struct job *jobs;
	size_t n_jobs;
	const size_t *group_first; /* job k: shards group_first[k] .. group_first[k+1] - 1 */
	atomic_size_t next_job;
	atomic_uint_fast64_t found; /* matching lines found so far, for --limit */
	atomic_bool is_cut;         /* work was skipped because --limit was reached */
	atomic_bool stop;           /* set by the caller's side: stop all workers */
	/*
	 * Memory: the bytes of every job's arrays (atomic: workers grow their own jobs while the
	 * calling thread frees emitted ones), and whether search_opts.mem_limit stopped the run.
	 */
	atomic_size_t mem;
	atomic_size_t mem_peak;
	atomic_bool is_mem_limit;
	bool is_inline;             /* one thread: the calling one runs every job itself */
	/*
	 * Back-pressure: when results are handed out shard by shard, workers take shard i only
	 * while i < n_emitted + window, so a slow consumer (a stream whose client does not read)
	 * makes the workers wait instead of collecting the whole index ahead of it.
	 */
	size_t n_emitted;           /* under lock */
	size_t window;              /* 0: no gating (ranked at the end: every job is kept) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/*
	 * Best first (a ranked query with a count: limit): the shards' candidates are gathered
	 * first, then verified in the order of their score's bound across every shard, until the
	 * bound of every candidate left is below the score of the last result shown (cut). Under
	 * lock: the merge heap of job indexes (by their next candidate's bound), the cut and
	 * is_merging (set once every shard's candidates are in and the heap is built).
	 */
	size_t *heap;
	size_t n_heap;
	struct rank_cut cut;
	size_t n_merge_done;        /* workers done with the merge (an error: in their arena) */
	double points_max;          /* rank_query_maxima, set once compiled */
	double bonus_max;
	/*
	 * A compound file's candidates (index_n_files of them), computed once by the first of its
	 * repositories' shards to need them and cut to each one's documents (cand_shard; under
	 * lock).
	 */
	struct file_cand *fcand;
};


struct worker {
	struct run *r;
	struct matcher_scratch *scratch;
	/*
	 * The filters decided once per repository (repo:, repo:has.*), per atom: 1 true, 0
	 * false, -1 not known yet. Set for the shard being searched.
	 */
	int8_t repo_val[MAX_ATOMS];
	size_t shard_i;           /* the shard being searched */
	size_t job_i;             /* its job (run.jobs) */
	const uint64_t *sel;      /* its repository's selected branches (n_words words) */
	size_t n_words;
	/* The document being verified: its id, and its score's static part and path kind when known. */
	uint32_t doc_id;
	double doc_base;
	int doc_kind;
	bool has_doc_base;
	/* A best-first search: where this worker's results go, and a branch bitset for it. */
	struct job arena;
	uint64_t *on;
	size_t n_on;
};

/* A set of documents of one shard: every one, or these ids (ascending). */
struct docset {
	bool is_all;
	struct u32vec ids;
};
/* Candidates of a whole file, shared by the repositories of a compound one. */
enum file_cand_state { FC_NONE, FC_BUSY, FC_DONE };

struct file_cand {
	enum file_cand_state state;
	int err;
	char errmsg[ERRMSG_MAX];
	struct docset d;
};

/* One document being verified. */
struct doc_ctx {
	struct worker *w;
	struct job *j;
	const struct shard_doc *d;
	const char *repo;
	const uint8_t *data; /* content without a leading BOM */
	size_t len;
	enum matcher_text text;
	uint64_t n_lines;    /* lines found by content atoms (stored or only counted) */
	int err;
};

/* --- search.c: the run's clock, limits and memory --- */

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Handing out what was found when timeout: stopped the search (ranking, context lines, JSON)
 * may go on this long past the deadline: the results found in time are the answer, and the
 * memory limit bounds the work.
 */
#define HAND_OUT_GRACE_MS 1000.0

/*
 * Whether the run's budget or its timeout: deadline (plus HAND_OUT_GRACE_MS when handing out)
 * has passed, and then stops the search or the hand-out, saying which. One clock read: this
 * runs per matching line, hence inline.
 */
static inline bool is_out_of_time(struct run *r, bool is_hand_out)
{
	double now;

	if (r->budget_at_ms <= 0 && r->deadline_ms <= 0)
		return false;
	now = now_ms();
	if (r->budget_at_ms > 0 && now > r->budget_at_ms) {
		atomic_store_explicit(&r->is_over_budget, true, memory_order_relaxed);
		atomic_store_explicit(&r->stop, true, memory_order_relaxed);
		return true;
	}
	if (r->deadline_ms <= 0 || now <= r->deadline_ms + (is_hand_out ? HAND_OUT_GRACE_MS : 0))
		return false;
	atomic_store_explicit(&r->is_timeout, true, memory_order_relaxed);
	atomic_store_explicit(is_hand_out ? &r->stop : &r->is_cut, true, memory_order_relaxed);
	return true;
}

/* Whether workers should stop: canceled, out of time or memory, or --limit reached. */
static inline bool should_stop(struct run *r)
{
	if (atomic_load_explicit(&r->stop, memory_order_relaxed))
		return true;
	if (r->o->cancel && atomic_load_explicit(r->o->cancel, memory_order_relaxed))
		return true;
	if (is_out_of_time(r, false))
		return true;
	if (atomic_load_explicit(&r->is_mem_limit, memory_order_relaxed)) {
		atomic_store_explicit(&r->is_cut, true, memory_order_relaxed);
		return true;
	}
	/* A best-first search stops by the rank cut, not by the lines found. */
	if (r->limit && !r->is_best_first &&
	    atomic_load_explicit(&r->found, memory_order_relaxed) >= r->limit) {
		/* Callers ask only when work remains: it is skipped, so more lines may exist. */
		atomic_store_explicit(&r->is_cut, true, memory_order_relaxed);
		return true;
	}
	return false;
}

int job_grow_slow(struct job *j, void **p, size_t *cap, size_t need, size_t elem);

/*
 * Decides the per-repository filters of one pass (those that read the repository's documents,
 * or the others) for w's shard; *v gets the expression's value so far (verify_eval_static).
 * Content search and symbol search alike.
 */
int search_repo_filters(int *v, struct worker *w, const char *repo, bool needs_docs);
/* Counts a repository that does not index rev (once per repository), naming the first. */
void search_note_rev_missing(struct search_stats *st, const char *rev, const char *repo);

/*
 * Grows one of job j's arrays to hold need elements. The bytes are counted against the run's
 * memory limit: past it the run stops (is_mem_limit, ELIMIT) and keeps what it found.
 */
static inline int job_grow(struct job *j, void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	return job_grow_slow(j, p, cap, need, elem);
}

/* --- compile.c --- */

/*
 * Compiles o (a query or one pattern) into r's atoms and expression, and sets r's type, limit,
 * deadline, is_ranked and is_multi. Errors carry the query position (EINVAL, ELIMIT, ENOMEM,
 * ETIMEOUT when compiling passes the deadline). compile_free releases what it made.
 */
int compile_run(struct run *r, const struct search_opts *o);
void compile_free(struct run *r);
/* The earlier of the query's deadline and the run's budget (0: neither). */
double compile_deadline(const struct run *r);

/*
 * Whether a compile's ETIMEOUT is the budget's, not the timeout's: the budget ends before the
 * deadline. Not "the budget has passed": a compiler helper is not started when less than its
 * start-up time is left (hscompile.h), which is before the budget passes, and a 5 ms budget
 * must then send the search to a search thread, not end the query as a timeout.
 */
static inline bool is_budget_first(const struct run *r)
{
	return r->budget_at_ms > 0 && (r->deadline_ms <= 0 || r->budget_at_ms < r->deadline_ms);
}
/* Compiles pat[0..len) into *pat_out through the pattern cache (with a trigram plan if asked). */
int compile_atom(const struct pattern **pat_out, const struct run *r, const char *pat, size_t len,
		 unsigned flags, bool want_plan);

/* --- candidates.c --- */

void docset_dispose(struct docset *d);
/* The index of d's first id at least x (d->ids.len when none); d is not all. */
size_t docset_lower_bound(const struct docset *d, uint32_t x);
/* The ids of src in [lo, hi) (every one of them when src is all) into out, as ids. ENOMEM. */
int docset_range(struct docset *out, const struct docset *src, uint32_t lo, uint32_t hi);
/*
 * Shard i's candidates (cand_eval on its file, cut to its documents in a compound file, whose
 * candidates are computed once per run). ECORRUPT, ENOMEM, ETIMEOUT, as cand_eval.
 */
int cand_shard(struct docset *out, struct run *r, size_t shard_i);
/*
 * Whether shard i, a part of a compound file, has no candidates (its file's computed once and
 * kept in *cache for the other shards of the file); false for a file of its own. As cand_shard.
 */
int cand_shard_is_empty(bool *out, struct run *r, size_t shard_i, const struct docset **cache);
/* Cuts d (of a whole file of n_docs) to [lo, hi): nothing to do for the whole file. ENOMEM. */
int docset_restrict(struct docset *d, uint32_t lo, uint32_t hi, uint32_t n_docs);
/* A trigram query's documents in sh (ECORRUPT, ENOMEM). */
int cand_tq_eval(struct docset *out, const struct shard *sh, const struct tq *q);
/* The documents of sh the expression x may hold (each content atom narrowed by its postings). */
int cand_eval(struct docset *out, const struct shard *sh, const struct run *r, const struct qx *x);
/* A content regex's candidates in sh: through the posting masks when it is a literal. */
int cand_pattern(struct docset *out, const struct shard *sh, const struct pattern *pat);

/* --- verify.c --- */

/* Whether pattern pat matches somewhere in text (a path or a repository name). */
bool verify_text_matches(struct worker *w, const struct pattern *pat, const char *text,
			 size_t len);
/*
 * Whether pat matches somewhere in document d's content (skipped documents never do); ECORRUPT
 * or the matcher's error in *err.
 */
bool verify_doc_matches(struct worker *w, const struct pattern *pat, const struct shard_doc *d,
			int *err);
/* The expression's value for the repository alone: 1 true, 0 false, -1 depends on the file. */
int verify_eval_static(const struct worker *w, const struct qx *x);
/*
 * The expression's value for the document. Content atoms in a positive position collect their
 * matching lines (when want_lines); errors go to dc->err.
 */
bool verify_eval(struct doc_ctx *dc, const struct qx *x, bool want_lines);
/* Verifies document d of repo into j (a file record with its lines when it matches). */
int verify_doc(struct worker *w, struct job *j, const struct shard_doc *d, const char *repo);

/* --- filters.c --- */

/*
 * A filter of the query language, as the executor runs it. The query side of the same filter
 * (its names, how its value parses, its description) is its row in query/fields.c.
 */
struct filter_ops {
	enum qfilter_kind kind;
	/* Whether it only looks at names (not at content): evaluated before content patterns. */
	bool is_cheap;
	/* Whether its value is decided once per repository (worker.repo_val) before any file. */
	bool is_per_repo;
	/*
	 * Whether, per repository, it looks at the repository's documents on the selected
	 * branches (w->sel), so it runs after the branch selection; the others run before it.
	 */
	bool needs_docs;
	/* Prepares atom a from node n: compiles its regexes, keeps its language. */
	int (*compile)(struct atom *a, const struct run *r, const struct qnode *n,
		       unsigned case_flags);
	/* Per repository (is_per_repo): its value for shard w->shard_i's repository, or an error. */
	int (*eval_repo)(bool *out, struct worker *w, const struct atom *a, const char *repo);
	/* Per document (otherwise); errors go to dc->err. */
	bool (*eval_doc)(struct doc_ctx *dc, const struct atom *a);
	/*
	 * Optional: the documents of sh it can be true for (a superset), from the posting lists;
	 * candidates.c intersects it in like a content pattern's.
	 */
	int (*narrow)(struct docset *out, const struct shard *sh, const struct atom *a);
};

/* The executor's entry for a filter kind. */
const struct filter_ops *filter_ops_of(enum qfilter_kind kind);
/* The --path filter (a file: over the relative path, case-sensitive). */
int filter_path_atom(struct atom *a, const struct run *r, const char *regex);

/* --- rank.c --- */

/* Points for a line that defines what was searched (rank_line_bonus). */
#define RANK_DEFINITION 120
/*
 * A symbol index's definition of a member, a field, a data key, a label, ...: above a use, below
 * the function or type of the same name even in a file whose name matches too.
 */
#define RANK_DEFINITION_MINOR 20

/* The ranking score of a matching file (docs/results.md, "Ranking"). */
double rank_score_file(struct doc_ctx *dc, const struct file_rec *fr);
/*
 * The part of a file's score known from its path: kind (*kind: a lang_path_kind, or -1 to
 * have it computed and set), length, and a content pattern matching the base name (for
 * content results).
 */
double rank_doc_base(struct worker *w, const char *path, size_t path_len, int *kind);
/*
 * The most document id, whose static part is base, can score, its job's definitions being
 * defs: the bound a best-first search visits candidates by and stops on.
 */
double rank_bound(const struct run *r, const struct rank_defs *defs, uint32_t id, double base,
		  int kind);
/*
 * The most rank_line_bonus can give a line of document id, whose path is of kind: 0 when the
 * query searches no name, or for documentation; with the file's symbol index (defs, its job's),
 * RANK_DEFINITION only when the document defines a name searched; else (the heuristics: any
 * line of code may be one) RANK_DEFINITION.
 */
double rank_doc_bonus_max(const struct run *r, const struct rank_defs *defs, uint32_t id,
			  int kind);
/*
 * Sets what the compiled query r's content can add to a score at most: r->points_max (whole
 * word, exact case only with a literal term, matching lines) and r->bonus_max, the most
 * rank_line_bonus can give any line: RANK_DEFINITION when a content pattern is a name (a
 * literal of word bytes: an identifier), else 0 (a regex, or a literal holding other bytes).
 * The tighter these are, the sooner a best-first search stops.
 */
void rank_query_maxima(struct run *r);
/*
 * Points a matching line earns for its file: RANK_DEFINITION when it defines a name searched,
 * else 0; a file gets its best line's. In a shard with a symbol index, when a symbol of that
 * name is defined on the line (rank_shard_defs); else when a match is the name and the
 * heuristics of rank_is_definition call the line its definition. Never more than
 * rank_doc_bonus_max of its document: rank_bound counts on it.
 */
double rank_line_bonus(const struct doc_ctx *dc, const struct line_rec *lr);
/*
 * Whether text[start..end) (a match on a line of len bytes) looks like the name a definition
 * defines: "#define NAME", "struct NAME {", "def NAME", "fn NAME", "TYPE NAME(" in the first
 * column, ... (docs/results.md lists them).
 */
bool rank_is_definition(const uint8_t *text, size_t len, size_t start, size_t end);
/*
 * Appends to j->cands the candidates of w's shard (every document when cand->is_all) that a
 * search could show, as the job's view view; on is a bitset of w->n_words words to use.
 * ECORRUPT, ENOMEM. rank_candidates_sort then puts the job's best bound first.
 */
int rank_candidates(struct job *j, struct worker *w, const struct shard *sh,
		    const struct docset *cand, uint64_t *on, uint32_t view);
void rank_candidates_sort(struct job *j);

/* The cut: the score of the last file a count: limit of need lines will show. */
void rank_cut_init(struct rank_cut *c, uint64_t need);
void rank_cut_dispose(struct rank_cut *c);
/* Adds a file found (ENOMEM). */
int rank_cut_add(struct rank_cut *c, double score, uint64_t lines);
/* Whether a file scoring at most bound is sure not to be shown, whatever is found later. */
bool rank_cut_excludes(const struct rank_cut *c, double bound);

/* --- symsearch.c --- */

/*
 * search_run for a query of type:symbol (or select:symbol): the same contract, answered from
 * the shards' SYMBOLS sections. st is zeroed and repos checked by the caller.
 */
int symsearch_run(struct search_stats *st, const struct index *ix,
		  const struct search_repos *repos, const struct search_opts *o,
		  search_file_fn fn, void *arg);

/* --- branches.c --- */

/*
 * The branches of repository e a search covers (rev:'s, or the default one), as a bitset. False
 * when none: rev: names no branch of it.
 */
bool branches_select(uint64_t *sel, size_t n_words, const struct run *r,
		     const struct index_repo_entry *e);
/* Whether document id of shard i is on a selected branch; *on gets all of its branches. */
bool branches_doc_selected(uint64_t *on, const uint64_t *sel, size_t n_words, const struct run *r,
			   size_t shard_i, uint32_t id, const struct shard_doc *d);
/* Records the names of the branches in on for the file just added to j. */
int branches_note(struct job *j, const struct index_repo_entry *e, const uint64_t *on);

#endif
