/*
 * The fields of the query language (fields_int.h): the one table the parser, describe and the
 * UI's list of filter names read. docs/internals/adding-a-filter.md is the recipe for a new one.
 */
#include <string.h>

#include "query/fields_int.h"
#include "util/json.h"

/*
 * Names are matched without regard to case. The order is the UI's, and decides ties between
 * "did you mean" suggestions (names first, then aliases, in this order).
 */
const struct field query_fields[] = {
	{ .name = "repo", .aliases = { "r" }, .id = FD_REPO, .value = FV_REGEX,
	  .filter = QF_REPO, .is_negatable = true, .description = "repository name (regexp)" },
	{ .name = "file", .aliases = { "f", "path" }, .id = FD_FILE, .value = FV_REGEX,
	  .filter = QF_FILE, .is_negatable = true, .description = "file path (regexp)" },
	{ .name = "lang", .aliases = { "l", "language" }, .id = FD_LANG, .value = FV_LANG,
	  .filter = QF_LANG, .is_negatable = true, .description = "language" },
	{ .name = "content", .id = FD_CONTENT, .value = FV_LITERAL, .filter = QF_N,
	  .is_negatable = true, .description = "literal text, even if it looks like a filter" },
	{ .name = "case", .id = FD_CASE, .value = FV_SETTING, .filter = QF_N,
	  .description = "case-sensitive: yes or no", .values = { "yes", "no" } },
	{ .name = "type", .id = FD_TYPE, .value = FV_SETTING, .filter = QF_N,
	  .description = "file, path, repo or symbol",
	  .values = { "file", "path", "repo", "symbol" } },
	{ .name = "count", .id = FD_COUNT, .value = FV_SETTING, .filter = QF_N,
	  .description = "how many results (or all)", .values = { "all", "10", "100", "1000" } },
	{ .name = "timeout", .id = FD_TIMEOUT, .value = FV_SETTING, .filter = QF_N,
	  .description = "time limit, e.g. 5s", .values = { "5s", "30s", "60s" } },
	{ .name = "select", .id = FD_SELECT, .value = FV_SETTING, .filter = QF_N,
	  .description = "repo, file, symbol or symbol.KIND",
	  .values = { "repo", "file", "symbol", "symbol.function" } },
	{ .name = "rev", .aliases = { "revision" }, .id = FD_REV, .value = FV_SETTING,
	  .filter = QF_N, .description = "revision (branch or tag)" },
	{ .name = "patterntype", .id = FD_PATTERNTYPE, .value = FV_SETTING, .filter = QF_N,
	  .description = "keyword, regexp or literal",
	  .values = { "keyword", "regexp", "literal", "standard" } },
	{ .name = "fork", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "archived", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "visibility", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "repohasfile", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "repohascommitafter", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "context", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "author", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "committer", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "before", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "after", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "message", .aliases = { "msg" }, .id = FD_UNSUPPORTED, .value = FV_NONE,
	  .filter = QF_N },
	{ .name = "stable", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
	{ .name = "index", .id = FD_UNSUPPORTED, .value = FV_NONE, .filter = QF_N },
};

const size_t query_n_fields = sizeof(query_fields) / sizeof(query_fields[0]);

/* Predicates (Sourcegraph's): a filter whose value is NAME(ARGUMENT). */
const struct field_pred query_preds[] = {
	{ .field = FD_REPO, .name = "has.path", .arg = PA_REGEX, .filter = QF_REPO_HAS_PATH,
	  .description = "repositories with a file whose path matches" },
	{ .field = FD_REPO, .name = "has.file", .arg = PA_PATH_CONTENT,
	  .filter = QF_REPO_HAS_FILE,
	  .description = "repositories with a file matching path: and content:" },
	{ .field = FD_REPO, .name = "has.content", .arg = PA_REGEX,
	  .filter = QF_REPO_HAS_CONTENT,
	  .description = "repositories with a file whose content matches" },
	{ .field = FD_FILE, .name = "has.content", .arg = PA_REGEX,
	  .filter = QF_FILE_HAS_CONTENT, .description = "files whose content matches" },
	{ .field = FD_REPO, .name = "has.commit.after", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs commit dates, which the index does not record" },
	{ .field = FD_REPO, .name = "has", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs repository metadata, not available" },
	{ .field = FD_REPO, .name = "has.key", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs repository metadata, not available" },
	{ .field = FD_REPO, .name = "has.meta", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs repository metadata, not available" },
	{ .field = FD_REPO, .name = "has.tag", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs repository metadata, not available" },
	{ .field = FD_REPO, .name = "has.topic", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs repository metadata, not available" },
	{ .field = FD_REPO, .name = "has.description", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs repository metadata, not available" },
	{ .field = FD_FILE, .name = "has.owner", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs code ownership data, not available" },
	{ .field = FD_FILE, .name = "has.contributor", .arg = PA_NONE, .filter = QF_N,
	  .why = "needs commit authors, which the index does not record" },
};

const size_t query_n_preds = sizeof(query_preds) / sizeof(query_preds[0]);

/* Whether s[0..n) equals the lower-case word w, without regard to case. */
static bool eq_lower(const char *s, size_t n, const char *w)
{
	if (strlen(w) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];

		if (c != w[i])
			return false;
	}
	return true;
}

const struct field *field_lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < query_n_fields; i++) {
		const struct field *f = &query_fields[i];

		if (eq_lower(s, n, f->name))
			return f;
		for (size_t k = 0; k < FIELD_MAX_ALIASES && f->aliases[k]; k++)
			if (eq_lower(s, n, f->aliases[k]))
				return f;
	}
	return NULL;
}

const struct field_pred *field_pred_lookup(enum field_id id, const char *s, size_t n)
{
	for (size_t i = 0; i < query_n_preds; i++)
		if (query_preds[i].field == id && eq_lower(s, n, query_preds[i].name))
			return &query_preds[i];
	return NULL;
}

/* The name of field id (FD_REPO, FD_FILE: the fields predicates are written in). */
static const char *field_name(enum field_id id)
{
	for (size_t i = 0; i < query_n_fields; i++)
		if (query_fields[i].id == id)
			return query_fields[i].name;
	return "?";
}

int field_put_filter_name(struct buf *out, enum qfilter_kind kind)
{
	for (size_t i = 0; i < query_n_fields; i++)
		if (query_fields[i].filter == kind && query_fields[i].value != FV_LITERAL &&
		    query_fields[i].value != FV_SETTING && query_fields[i].value != FV_NONE)
			return buf_puts(out, query_fields[i].name);
	for (size_t i = 0; i < query_n_preds; i++)
		if (query_preds[i].filter == kind && query_preds[i].arg != PA_NONE)
			return buf_printf(out, "%s:%s", field_name(query_preds[i].field),
					  query_preds[i].name);
	return buf_puts(out, "?");
}

static int put_str(struct buf *b, const char *s)
{
	return json_put_string(b, s, strlen(s), NULL);
}

static int put_strings(struct buf *b, const char *const *v, size_t max)
{
	int err;

	if ((err = buf_putc(b, '[')) < 0)
		return err;
	for (size_t k = 0; k < max && v[k]; k++)
		if ((k && (err = buf_putc(b, ',')) < 0) || (err = put_str(b, v[k])) < 0)
			return err;
	return buf_putc(b, ']');
}

int query_fields_json(struct buf *out)
{
	int err;

	if ((err = buf_puts(out, "{\"fields\":[")) < 0)
		return err;
	for (size_t i = 0, n = 0; i < query_n_fields; i++) {
		const struct field *f = &query_fields[i];

		if (!f->description)
			continue;
		if ((n++ && (err = buf_putc(out, ',')) < 0) ||
		    (err = buf_puts(out, "{\"name\":")) < 0 ||
		    (err = put_str(out, f->name)) < 0 ||
		    (err = buf_puts(out, ",\"aliases\":")) < 0 ||
		    (err = put_strings(out, f->aliases, FIELD_MAX_ALIASES)) < 0 ||
		    (err = buf_printf(out, ",\"kind\":\"%s\",\"negatable\":%s,\"description\":",
				      f->value == FV_SETTING ? "setting" : "filter",
				      f->is_negatable ? "true" : "false")) < 0 ||
		    (err = put_str(out, f->description)) < 0 ||
		    (err = buf_puts(out, ",\"values\":")) < 0 ||
		    (err = put_strings(out, f->values, FIELD_MAX_VALUES)) < 0 ||
		    (err = buf_putc(out, '}')) < 0)
			return err;
	}
	if ((err = buf_puts(out, "],\"predicates\":[")) < 0)
		return err;
	for (size_t i = 0, n = 0; i < query_n_preds; i++) {
		const struct field_pred *p = &query_preds[i];
		const char *field = field_name(p->field);

		if (!p->description)
			continue;
		if ((n++ && (err = buf_putc(out, ',')) < 0) ||
		    (err = buf_printf(out, "{\"field\":\"%s\",\"name\":", field)) < 0 ||
		    (err = put_str(out, p->name)) < 0 ||
		    (err = buf_puts(out, ",\"description\":")) < 0 ||
		    (err = put_str(out, p->description)) < 0 ||
		    (err = buf_putc(out, '}')) < 0)
			return err;
	}
	return buf_puts(out, "]}");
}
