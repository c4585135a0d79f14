/*
 * The query language: Sourcegraph-style queries (docs/query-syntax.md) parsed into an AST of
 * patterns, filters and boolean operators, plus the query-wide settings (case, count, timeout,
 * select, type, rev). The executor (search/) evaluates the AST per document; the CLI and the
 * server share this parser.
 *
 * Positions are 0-based byte offsets into the query text; error_set_at() carries them so that
 * front ends can point at the offending character (column = position + 1).
 *
 * A parsed query is immutable and may be read from many threads at once.
 */
#ifndef TRAWL_QUERY_QUERY_H
#define TRAWL_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Limits on untrusted queries. */
#define QUERY_MAX_LEN 4096   /* bytes of query text */
#define QUERY_MAX_ATOMS 64   /* patterns and filters */
#define QUERY_MAX_DEPTH 16   /* parenthesis nesting */
#define QUERY_DEFAULT_COUNT 500
#define QUERY_MAX_COUNT 1000000 /* largest count:N */
#define QUERY_DEFAULT_TIMEOUT_MS 10000
#define QUERY_MAX_TIMEOUT_MS 60000

enum qnode_op {
	QN_AND,     /* all children (file level: every positive pattern occurs in the file) */
	QN_OR,
	QN_NOT,     /* one child */
	QN_PATTERN, /* a content pattern */
	QN_FILTER,  /* repo:, file:, lang: */
};

/*
 * Negation has one form: -repo:x, -file:x, -lang:x and -content:x parse exactly like
 * NOT repo:x (and so on), a QN_NOT around the atom. NOT NOT x is x. The parser never sets
 * is_negated; an executor must only look at QN_NOT.
 */

enum qpattern_kind {
	QP_LITERAL, /* a keyword term, a "quoted phrase", content:"...", or patterntype:literal */
	QP_REGEXP,  /* /.../ (keyword and regexp types), or a bare term under patterntype:regexp */
};

/*
 * The filters. Each has one row in the query's field table (query/fields.c: names, how its
 * value parses, a description) and one in the executor's (search/filters.c: how it narrows and
 * evaluates); docs/internals/adding-a-filter.md is the recipe.
 */
enum qfilter_kind {
	QF_REPO,             /* regex over the repository name */
	QF_FILE,             /* regex over the path within the repository */
	QF_LANG,             /* language name, resolved to an id (query/lang.h) */
	QF_REPO_HAS_PATH,    /* repo:has.path(REGEX): some file's path matches */
	QF_REPO_HAS_FILE,    /* repo:has.file(path:REGEX content:REGEX): some file matches both */
	QF_REPO_HAS_CONTENT, /* repo:has.content(REGEX): some file's content matches */
	QF_FILE_HAS_CONTENT, /* file:has.content(REGEX): the file's content matches */
	QF_N
};

struct qnode {
	enum qnode_op op;
	size_t pos;         /* where it starts in the query text */
	size_t len;         /* how many bytes of query text it spans */
	/* QN_PATTERN and QN_FILTER */
	char *value;        /* unquoted, unescaped; NUL-terminated */
	size_t value_len;
	enum qpattern_kind pattern_kind; /* QN_PATTERN */
	enum qfilter_kind filter_kind;   /* QN_FILTER */
	uint16_t lang;                   /* QF_LANG: resolved language id */
	/*
	 * A filter's second value (repo:has.file's content:, whose path: is value), or NULL. An
	 * empty value (value_len 0) under repo:has.file means that part was not given.
	 */
	char *value2;
	size_t value2_len;
	bool is_negated;    /* always false: negation is a QN_NOT (see above) */
	/* QN_AND, QN_OR, QN_NOT */
	struct qnode **sub;
	size_t n_sub;
};

enum qtype { QT_FILE, QT_PATH, QT_REPO, QT_SYMBOL }; /* type: (default file: content matches) */
enum qselect { QS_NONE, QS_REPO, QS_FILE, QS_SYMBOL }; /* select: */

/*
 * The kinds of symbol select:symbol.KIND names: ctags' many per-language kind names map onto
 * these (query_symkind_of). QK_ANY is select:symbol without a kind.
 */
enum qsymkind {
	QK_ANY,
	QK_FUNCTION,
	QK_METHOD,
	QK_CLASS,
	QK_STRUCT,
	QK_ENUM,
	QK_INTERFACE,
	QK_VARIABLE,
	QK_CONSTANT,
	QK_FIELD,
	QK_MACRO,
	QK_TYPE,
	QK_MODULE,
	QK_NAMESPACE,
	QK_OTHER, /* a ctags kind none of the above covers (a C prototype, a header, ...) */
	QK_N
};

/* "function", "method", ...; "symbol" for QK_ANY, "other" for QK_OTHER. */
const char *query_symkind_name(enum qsymkind k);
/*
 * The kind a ctags kind name (kind[0..len), e.g. "func", "member", "enumerator") belongs to, in
 * language lang (ctags' language name, e.g. "Go"; may be NULL): QK_OTHER when none.
 */
enum qsymkind query_symkind_of(const char *kind, size_t len, const char *lang, size_t lang_len);

struct query {
	struct qnode *root;  /* NULL when the query has only settings (then it is an error) */
	enum qtype type;
	enum qselect select;
	enum qsymkind symkind;   /* select:symbol.KIND (QK_ANY for select:symbol or none) */
	bool is_case_sensitive;  /* case:yes; the default, as in Sourcegraph, is case:no */
	uint64_t count;          /* count:N; 0 means count:all */
	uint32_t timeout_ms;     /* timeout:, clamped to QUERY_MAX_TIMEOUT_MS */
	char *rev;               /* rev:NAME or repo:NAME@REV; NULL for the default branch */
	enum qpattern_kind default_kind; /* patterntype: */
	size_t n_warnings;
	char **warnings;         /* e.g. "timeout: clamped to 60s" */
};

/*
 * Parses q[0..len). Errors: TRAWL_EINVAL (syntax, unknown filter with the closest known one
 * suggested, bad value, no positive pattern or filter), TRAWL_ELIMIT (length, atoms, depth),
 * TRAWL_EUNSUPPORTED (type:diff, type:commit), each with error_set_at(position). select:symbol
 * implies type:symbol (the patterns match symbol names, as in Sourcegraph).
 * Regex values (repo:, file:, /.../, patterntype:regexp terms) are checked with regex_parse()
 * so their errors point into the query too.
 */
int query_parse(struct query **out, const char *q, size_t len);
void query_free(struct query *q);

/*
 * A canonical one-line form for tests and --explain, e.g.
 * (and (pattern literal "foo") (not (filter file "_test\\.go$"))) count:500 timeout:10s
 */
int query_describe(struct buf *out, const struct query *q);

/*
 * Appends a duration of ms milliseconds as query_describe writes timeout: (a Go duration,
 * docs/query-syntax.md): "1ms", "1s500ms", "1m30s", "0s". ENOMEM, ELIMIT from buf.
 */
int query_duration_put(struct buf *out, uint64_t ms);

/*
 * The filters and settings of the language as JSON, for the UI's suggestions and its query
 * colouring (GET /api/v1/filters, docs/api.md):
 *   {"fields":[{"name":"repo","aliases":["r"],"kind":"filter","negatable":true,
 *               "description":"repository name (regexp)","values":[]}, ...]}
 * kind is "filter" or "setting"; values lists a setting's fixed values (may be empty). Only
 * what trawl supports is listed, in the order the UI offers them. ENOMEM.
 */
int query_fields_json(struct buf *out);

#endif
