/*
 * The query language's fields, as data: one row per filter or setting (its names, how its value
 * parses, whether it can be negated, a one-line description, a setting's fixed values), and one
 * row per predicate written as a filter's value (repo:has.path(...)). The parser, describe and
 * the UI's list (query_fields_json) read these tables; the executor's side of each filter is
 * search/filters.c. For the query module only.
 */
#ifndef TRAWL_QUERY_FIELDS_INT_H
#define TRAWL_QUERY_FIELDS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "query/query.h"

enum field_id {
	FD_REPO,
	FD_FILE,
	FD_LANG,
	FD_CONTENT,
	FD_CASE,
	FD_TYPE,
	FD_COUNT,
	FD_TIMEOUT,
	FD_SELECT,
	FD_REV,
	FD_PATTERNTYPE,
	FD_UNSUPPORTED, /* a Sourcegraph filter trawl does not have */
};

/* How a field's value parses. */
enum field_value {
	FV_REGEX,   /* a regular expression over a name, checked where it is written */
	FV_LANG,    /* a language name or alias (query/lang.h) */
	FV_LITERAL, /* a literal content pattern */
	FV_SETTING, /* a query-wide setting (parse.c: apply_setting) */
	FV_NONE,    /* unsupported: refused with a message */
};

#define FIELD_MAX_ALIASES 3
#define FIELD_MAX_VALUES 5

struct field {
	const char *name; /* lower case; the name used in messages */
	const char *aliases[FIELD_MAX_ALIASES]; /* unused entries are NULL */
	enum field_id id;
	enum field_value value;
	enum qfilter_kind filter; /* FV_REGEX, FV_LANG: the filter it makes */
	bool is_negatable;
	const char *description;  /* one line for the UI; NULL for unsupported fields */
	const char *values[FIELD_MAX_VALUES]; /* a setting's usual values, for suggestions */
};

/* How a predicate's argument, between its parentheses, parses. */
enum pred_arg {
	PA_REGEX,        /* one regular expression */
	PA_PATH_CONTENT, /* path:REGEX and/or content:REGEX, separated by spaces */
	PA_NONE,         /* unsupported: refused with a message */
};

struct field_pred {
	enum field_id field; /* the filter whose value it is written as (repo:, file:) */
	const char *name;    /* lower case, e.g. "has.path" */
	enum pred_arg arg;
	enum qfilter_kind filter;
	const char *description; /* NULL for unsupported predicates */
	const char *why;         /* unsupported: why, for the message */
};

extern const struct field query_fields[];
extern const size_t query_n_fields;
extern const struct field_pred query_preds[];
extern const size_t query_n_preds;

/* The field named (or aliased) s[0..n), without regard to case, or NULL. */
const struct field *field_lookup(const char *s, size_t n);
/* The predicate of field id named s[0..n) (without regard to case), or NULL. */
const struct field_pred *field_pred_lookup(enum field_id id, const char *s, size_t n);
/* Appends the name describe uses for a filter kind ("repo", "repo:has.path"). ENOMEM. */
int field_put_filter_name(struct buf *out, enum qfilter_kind kind);

#endif
