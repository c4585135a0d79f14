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
	{ "repo", { "r" }, FD_REPO, FV_REGEX, QF_REPO, true, "repository name (regexp)", { 0 } },
	{ "file", { "f", "path" }, FD_FILE, FV_REGEX, QF_FILE, true, "file path (regexp)", { 0 } },
	{ "lang", { "l", "language" }, FD_LANG, FV_LANG, QF_LANG, true, "language", { 0 } },
	{ "content", { 0 }, FD_CONTENT, FV_LITERAL, QF_N, true,
	  "literal text, even if it looks like a filter", { 0 } },
	{ "case", { 0 }, FD_CASE, FV_SETTING, QF_N, false, "case-sensitive: yes or no",
	  { "yes", "no" } },
	{ "type", { 0 }, FD_TYPE, FV_SETTING, QF_N, false, "file, path or repo",
	  { "file", "path", "repo" } },
	{ "count", { 0 }, FD_COUNT, FV_SETTING, QF_N, false, "how many results (or all)",
	  { "all", "10", "100", "1000" } },
	{ "timeout", { 0 }, FD_TIMEOUT, FV_SETTING, QF_N, false, "time limit, e.g. 5s",
	  { "5s", "30s", "60s" } },
	{ "select", { 0 }, FD_SELECT, FV_SETTING, QF_N, false, "repo or file", { "repo", "file" } },
	{ "rev", { "revision" }, FD_REV, FV_SETTING, QF_N, false, "revision (branch or tag)",
	  { 0 } },
	{ "patterntype", { 0 }, FD_PATTERNTYPE, FV_SETTING, QF_N, false,
	  "keyword, regexp or literal", { "keyword", "regexp", "literal", "standard" } },
	{ "fork", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "archived", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "visibility", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "repohasfile", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "repohascommitafter", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "context", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "author", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "committer", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "before", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "after", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "message", { "msg" }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "stable", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
	{ "index", { 0 }, FD_UNSUPPORTED, FV_NONE, QF_N, false, NULL, { 0 } },
};

const size_t query_n_fields = sizeof(query_fields) / sizeof(query_fields[0]);

/* Predicates (Sourcegraph's): a filter whose value is NAME(ARGUMENT). */
const struct field_pred query_preds[] = {
	{ FD_REPO, "has.path", PA_REGEX, QF_REPO_HAS_PATH,
	  "repositories with a file whose path matches", NULL },
	{ FD_REPO, "has.file", PA_PATH_CONTENT, QF_REPO_HAS_FILE,
	  "repositories with a file matching path: and content:", NULL },
	{ FD_REPO, "has.content", PA_REGEX, QF_REPO_HAS_CONTENT,
	  "repositories with a file whose content matches", NULL },
	{ FD_FILE, "has.content", PA_REGEX, QF_FILE_HAS_CONTENT,
	  "files whose content matches", NULL },
	{ FD_REPO, "has.commit.after", PA_NONE, QF_N, NULL,
	  "needs commit dates, which the index does not record" },
	{ FD_REPO, "has", PA_NONE, QF_N, NULL, "needs repository metadata, not available" },
	{ FD_REPO, "has.key", PA_NONE, QF_N, NULL, "needs repository metadata, not available" },
	{ FD_REPO, "has.meta", PA_NONE, QF_N, NULL, "needs repository metadata, not available" },
	{ FD_REPO, "has.tag", PA_NONE, QF_N, NULL, "needs repository metadata, not available" },
	{ FD_REPO, "has.topic", PA_NONE, QF_N, NULL, "needs repository metadata, not available" },
	{ FD_REPO, "has.description", PA_NONE, QF_N, NULL,
	  "needs repository metadata, not available" },
	{ FD_FILE, "has.owner", PA_NONE, QF_N, NULL, "needs code ownership data, not available" },
	{ FD_FILE, "has.contributor", PA_NONE, QF_N, NULL,
	  "needs commit authors, which the index does not record" },
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

const char *field_filter_name(enum qfilter_kind kind)
{
	static const char *const names[QF_N] = {
		[QF_REPO] = "repo",
		[QF_FILE] = "file",
		[QF_LANG] = "lang",
		[QF_REPO_HAS_PATH] = "repo:has.path",
		[QF_REPO_HAS_FILE] = "repo:has.file",
		[QF_REPO_HAS_CONTENT] = "repo:has.content",
		[QF_FILE_HAS_CONTENT] = "file:has.content",
	};

	return (unsigned)kind < QF_N && names[kind] ? names[kind] : "?";
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
		const char *field = p->field == FD_REPO ? "repo" : "file";

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
