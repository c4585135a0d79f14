/*
 * The search executor: runs one pattern over the shards of an index, in parallel, and hands
 * results to the caller in a deterministic order (shard order, then document order; a query's
 * by score, read best first across every shard when count: limits it: docs/results.md).
 *
 * SECURITY: search_run takes the set of repositories the caller may read as a required
 * argument and drops every other repository's shards before any posting lookup, matching or
 * counting, so nothing about them reaches results, counts or limits.
 */
#ifndef TRAWL_SEARCH_SEARCH_H
#define TRAWL_SEARCH_SEARCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/shard.h"
#include "query/query.h"
#include "regex/matcher.h"

/* The repositories a caller may read. */
struct search_repos {
	bool is_all;              /* every repository (the CLI, which reads the files directly) */
	const char *const *names; /* otherwise these, exactly: sorted by strcmp */
	size_t n_names;
};

/* Where a running search is (search_opts.progress). */
struct search_progress {
	uint64_t shards_done;
	uint64_t shards_total;
	uint64_t matching_lines; /* found so far (before ranking and count: cut) */
	uint64_t files;          /* files with results so far */
};

struct search_opts {
	/*
	 * Either a parsed query (the query language: several patterns and filters, settings for
	 * case, count, timeout, type; results ranked), or one ripgrep-style pattern.
	 */
	const struct query *query;
	const char *pattern;
	size_t pattern_len;
	unsigned regex_flags;     /* enum regex_flags; with a query, REGEX_ICASE etc. also apply */
	const char *path_regex;   /* restrict to documents whose path matches; NULL for all */
	uint64_t max_per_file;    /* -m: matching lines per file, 0 = unlimited */
	uint64_t limit;           /* --limit: matching lines in all, 0 = unlimited */
	bool want_lines;          /* keep line texts (else only counts, as for -c and -l) */
	bool want_ranges;         /* compute match ranges within lines (JSON, colour) */
	unsigned n_threads;       /* 0 = one per core */
	const atomic_bool *cancel; /* optional: set to stop the search early */
	/*
	 * Optional: called on the calling thread each time a shard is finished (in shard order),
	 * before any result of a ranked query is handed out (with is_early: after that shard's
	 * results), so a stream can report progress.
	 */
	void (*progress)(const struct search_progress *p, void *arg);
	void *progress_arg;
	/*
	 * A query without a count limit (count:all; type:repo excepted) hands each shard's files
	 * out as soon as the shard is done, ranked within the shard, instead of ranking all of
	 * them at the end: the same files, in shard order first. For streams.
	 */
	bool is_early;
	/*
	 * A long-lived caller (the server): each shard's path kinds are computed once, at the first
	 * ranked query, and kept for the next queries (shard_path_tags). A one-shot search computes
	 * them only when it ranks much of a shard.
	 */
	bool is_resident;
	/*
	 * The most memory the run may hold for results not yet handed out (line, range and file
	 * records), in bytes; 0 = no limit (the CLI). Past it the search stops, hands out what it
	 * found and sets search_stats.is_mem_limit.
	 */
	size_t mem_limit;
	/*
	 * Milliseconds of wall time the whole run may take, compiling included, or 0: past it the
	 * search gives up with TRAWL_EAGAIN and hands out nothing more. A server tries a search
	 * on its HTTP thread with a small budget and runs the ones that need more on a search
	 * thread; the callback may have seen some files of the abandoned try.
	 */
	double budget_ms;
	/*
	 * Optional: repository pin_repo searched on its branch pin_branch (an exact name), the
	 * others on the query's revision: a navigation request's own repository, read at rev=.
	 */
	const char *pin_repo;
	const char *pin_branch;
};

struct search_line {
	uint64_t lineno;          /* 1-based */
	const uint8_t *text;      /* borrowed from the shard mapping; no '\n' */
	size_t len;
	const struct match_range *ranges; /* with want_ranges; relative to text */
	size_t n_ranges;
};

enum search_kind {
	SEARCH_CONTENT, /* lines of the file matched */
	SEARCH_PATH,    /* the file's path matched (type:path) */
	SEARCH_REPO,    /* the repository's name matched (type:repo); path is "" */
	SEARCH_SYMBOL,  /* symbols of the file matched (type:symbol, select:symbol) */
};

/*
 * A symbol found by type:symbol (docs/results.md, "Symbols"). Strings are borrowed from the
 * shard mapping for the callback and are not NUL-terminated; NULL/0 when ctags gave none.
 */
struct search_symbol {
	const char *name;
	size_t name_len;
	const char *kind;       /* ctags' kind name, e.g. "function", "member" */
	size_t kind_len;
	const char *scope;      /* the enclosing symbol, e.g. "parser" */
	size_t scope_len;
	const char *scope_kind; /* its kind, e.g. "struct" */
	size_t scope_kind_len;
	const char *lang;       /* ctags' language name, e.g. "C" */
	size_t lang_len;
	const char *signature;  /* e.g. "(const char * path)" */
	size_t signature_len;
	uint64_t line;          /* 1-based; 0 when unknown */
	const uint8_t *text;    /* the line's text (no '\n'); NULL when the line is unknown */
	size_t text_len;
	double score;           /* its ranking score */
};

struct search_file {
	const char *repo;
	const char *path;         /* not NUL-terminated */
	size_t path_len;
	uint64_t n_lines;         /* matching lines in this file (after -m) */
	const struct search_line *lines; /* with want_lines: n_lines entries */
	enum search_kind kind;
	uint16_t lang;            /* query/lang.h */
	double score;             /* the ranking score (queries only; docs/query-syntax.md) */
	/*
	 * The file's content as matched (after a UTF-8 byte order mark), borrowed from the shard
	 * mapping like the line texts: callers find context lines around a match in it. NULL/0
	 * for path and repository results.
	 */
	const uint8_t *content;
	size_t content_len;
	/*
	 * Every indexed branch of the repository the file (this document, identical content) is
	 * on, the MANIFEST overlay applied, in the repository's order (by name): also branches
	 * the search did not select (the search itself covers the default branch without rev:,
	 * else those rev: selects). None for a repository indexed from a directory. Borrowed for
	 * the callback.
	 */
	const char *const *branches;
	size_t n_branches;
	/* SEARCH_SYMBOL: the file's symbols that matched, best first (n_lines is their number). */
	const struct search_symbol *symbols;
	size_t n_symbols;
};

struct search_stats {
	uint64_t lines;           /* matching lines reported */
	uint64_t files;           /* files with at least one */
	uint64_t shards_total;    /* shards in the index */
	uint64_t shards_searched; /* shards of readable repositories */
	uint64_t candidates;      /* documents the trigram index and filters let through */
	uint64_t bytes_scanned;
	bool is_limit_hit;        /* --limit or count: stopped the search */
	bool is_timeout;          /* timeout: stopped the search */
	bool is_mem_limit;        /* search_opts.mem_limit stopped the search */
	uint64_t mem_peak;        /* the most bytes held for results at once (mem_limit's measure) */
	bool is_canceled;
	double elapsed_ms;
	double plan_ms;           /* parsing, planning and compiling */
	/*
	 * rev: named no branch of these many readable repositories (they gave no results), and a
	 * one-line warning naming the revision and the first of them ("" when none).
	 */
	uint64_t rev_missing;
	char rev_warning[512];
	/*
	 * type:symbol: readable repositories indexed without symbols (they gave no symbols), and
	 * a one-line warning naming the first of them ("" when none).
	 */
	uint64_t symbols_missing;
	char symbols_warning[512];
	/* The query's repo: filters exclude every readable repository (so nothing can match). */
	bool is_repo_none;
	/*
	 * A cluster's frontend (docs/internals/cluster.md): searchers that did not answer, and
	 * the readable repositories they hold (0 when the caller reads every repository: their
	 * number is not known there). The results are those of the others.
	 */
	uint64_t partial_searchers;
	uint64_t partial_repos;
};

/*
 * Called once per matching file, on the calling thread: for a pattern in shard then document
 * order, for a query by descending score (ties by repository then path). Return 0 to go on,
 * nonzero to stop the search (the value is returned by search_run).
 */
typedef int (*search_file_fn)(const struct search_file *f, void *arg);

/*
 * Runs the search. repos is required. Errors: the pattern's (EINVAL, EUNSUPPORTED, ELIMIT, with
 * position), ECORRUPT from a bad shard, ENOMEM; or the callback's nonzero value.
 */
int search_run(struct search_stats *stats, const struct index *ix, const struct search_repos *repos,
	       const struct search_opts *o, search_file_fn fn, void *arg);
/* (EAGAIN when search_opts.budget_ms ran out.) */

/* Whether repository name is in the set (bisecting its sorted names). */
bool search_repos_has(const struct search_repos *repos, const char *name);

#endif
