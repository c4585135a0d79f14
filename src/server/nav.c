/*
 * Code navigation's pure decisions (nav.h): the line and column parameters, the identifier at a
 * position, and the order of definitions.
 */
#include "server/nav.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/utf8.h"

int nav_parse_pos(uint32_t *out, const char *s, size_t len, const char *name)
{
	uint32_t v = 0;

	*out = 0;
	/* At most nine digits: NAV_POS_MAX has nine, so the sum below cannot overflow. */
	if (!s || len == 0 || len > 9 || s[0] == '0')
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > NAV_POS_MAX)
		goto bad;
	*out = v;
	return 0;
bad:
	error_set("%s must be a number from 1 to %u", name, NAV_POS_MAX);
	return TRAWL_EINVAL;
}

static bool is_ident(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool nav_is_ident(const char *s, size_t len)
{
	if (len == 0 || len > NAV_IDENT_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_ident((uint8_t)s[i]))
			return false;
	return true;
}

/* The byte offset in line[0..len) of UTF-16 unit u (0-based; len for the end), or -1 past it. */
static ptrdiff_t unit_offset(const uint8_t *line, size_t len, uint32_t u)
{
	size_t at = 0;

	while (u > 0 && at < len) {
		uint32_t cp = 0;
		size_t n = utf8_decode(&cp, line + at, len - at);
		uint32_t units = n && cp > 0xffff ? 2 : 1;

		if (u < units)
			return (ptrdiff_t)at; /* the second half of a pair: its character */
		u -= units;
		at += n ? n : 1;
	}
	return u == 0 ? (ptrdiff_t)at : -1;
}

int nav_ident_at(size_t *start, size_t *n, const uint8_t *text, size_t len, uint32_t line,
		 uint32_t col)
{
	size_t ls = 0, le, a, b;
	ptrdiff_t off;

	*start = *n = 0;
	if (line == 0 || col == 0)
		goto none;
	for (uint32_t k = 1; k < line; k++) {
		const uint8_t *nl = memchr(text + ls, '\n', len - ls);

		if (!nl) {
			error_set("line %u is past the end of the file", line);
			return TRAWL_EINVAL;
		}
		ls = (size_t)(nl - text) + 1;
	}
	{
		const uint8_t *nl = memchr(text + ls, '\n', len - ls);

		le = nl ? (size_t)(nl - text) : len;
	}
	if ((off = unit_offset(text + ls, le - ls, col - 1)) < 0) {
		error_set("column %u is past the end of line %u", col, line);
		return TRAWL_EINVAL;
	}
	a = ls + (size_t)off;
	if (!(a < le && is_ident(text[a]))) {
		if (a == ls || !is_ident(text[a - 1]))
			goto none;
		a--; /* the caret just after a word */
	}
	b = a + 1;
	while (a > ls && is_ident(text[a - 1]))
		a--;
	while (b < le && is_ident(text[b]))
		b++;
	if (text[a] >= '0' && text[a] <= '9')
		goto none; /* a number, not a name */
	if (b - a > NAV_IDENT_MAX) {
		error_set("the identifier at line %u, column %u is over %u bytes", line, col,
			  NAV_IDENT_MAX);
		return TRAWL_EINVAL;
	}
	*start = a;
	*n = b - a;
	return 0;
none:
	error_set("no identifier at line %u, column %u", line, col);
	return TRAWL_EINVAL;
}

unsigned nav_def_tier(bool is_same_file, bool is_same_repo, bool is_same_lang)
{
	if (is_same_file)
		return 0;
	if (is_same_repo)
		return is_same_lang ? 1 : 2;
	return is_same_lang ? 3 : 4;
}

int nav_def_cmp(const void *pa, const void *pb)
{
	const struct nav_def *a = pa, *b = pb;
	size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
	int c;

	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	if ((c = strcmp(a->repo, b->repo)) != 0)
		return c;
	if ((c = memcmp(a->path, b->path, n)) != 0 || a->path_len != b->path_len)
		return c ? c : a->path_len < b->path_len ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->shard != b->shard)
		return a->shard < b->shard ? -1 : 1;
	return a->sym < b->sym ? -1 : a->sym > b->sym;
}

/* Makes room for n more entries. ENOMEM. */
static int merge_grow(struct nav_merge *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;
	struct nav_def *v;
	const char **json;

	if (m->n + n <= m->cap)
		return 0;
	while (cap < m->n + n)
		cap *= 2;
	if (!(v = realloc(m->v, cap * sizeof(*v))))
		return error_nomem(NULL);
	m->v = v;
	if (!(json = realloc(m->json, cap * sizeof(*json))))
		return error_nomem(NULL);
	m->json = json;
	m->cap = cap;
	return 0;
}

/*
 * SECURITY: whether the JSON text s[0..len) holds at most max values. Each value but the first
 * follows a ',' or opens a container's first, so ',', ':', '[' and '{' outside strings count
 * them (over): what jansson allocates for s is bounded before it is parsed (attack s31).
 */
static bool json_is_small(const char *s, size_t len, size_t max)
{
	size_t n = 0;
	bool is_in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (is_in_str) {
			if (c == '\\')
				i++; /* the escaped character */
			else if (c == '"')
				is_in_str = false;
		} else if (c == '"') {
			is_in_str = true;
		} else if ((c == ',' || c == ':' || c == '[' || c == '{') && ++n > max) {
			return false;
		}
	}
	return true;
}

/* One entry of an answer's defs, checked. EINVAL. */
static int merge_entry(const struct nav_merge *m, struct nav_def *d, const char **json,
		       const json_t *e)
{
	json_int_t tier = json_integer_value(json_object_get(e, "tier"));
	const char *repo = json_string_value(json_object_get(e, "repo"));
	const char *js = json_string_value(json_object_get(e, "json"));

	json_t *sym = js && json_is_small(js, strlen(js), NAV_SYMBOL_VALUES_MAX)
			      ? json_loads(js, JSON_REJECT_DUPLICATES, NULL)
			      : NULL;
	const char *shown = json_string_value(json_object_get(sym, "repo"));
	/* The symbol is copied into the answer as it is: one JSON object, of the entry's repo. */
	bool is_object = json_is_object(sym) && repo && shown && strcmp(shown, repo) == 0;

	json_decref(sym);
	if (!json_is_integer(json_object_get(e, "tier")) || tier < 0 || tier > 4 || !repo ||
	    !is_object) {
		error_set("a definition needs tier (0 to 4), repo and json (an object of that repo)");
		return TRAWL_EINVAL;
	}
	if (m->is_asked && !m->is_asked(m->asked_arg, repo)) {
		error_set("a definition of a repository the searcher was not asked for");
		return TRAWL_EINVAL;
	}
	*d = (struct nav_def){ .repo = repo, .path = "", .tier = (unsigned)tier };
	*json = js;
	return 0;
}

int nav_merge_add(struct nav_merge *m, uint32_t searcher, const char *ans, size_t len)
{
	json_t *root, *found, *hit, *defs, **roots;
	size_t n, mark = m->n;
	int err;

	if (!json_is_small(ans, len, NAV_ANSWER_VALUES_MAX)) {
		error_set("a searcher's definitions hold more than %u values", NAV_ANSWER_VALUES_MAX);
		return TRAWL_EINVAL;
	}
	root = json_loadb(ans, len, JSON_REJECT_DUPLICATES, NULL);
	found = json_object_get(root, "found");
	hit = json_object_get(root, "limit_hit");
	defs = json_object_get(root, "defs");
	n = json_array_size(defs);
	if (!json_is_array(defs) || !json_is_integer(found) || json_integer_value(found) < 0 ||
	    (size_t)json_integer_value(found) < n || !json_is_boolean(hit)) {
		json_decref(root);
		error_set("a searcher's definitions need found, limit_hit and defs");
		return TRAWL_EINVAL;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, the answers' roots. */
	if (!(roots = realloc(m->roots, (m->n_roots + 1) * sizeof(*roots))) ||
	    (err = merge_grow(m, n)) < 0) {
		if (roots)
			m->roots = roots;
		json_decref(root);
		return error_nomem(NULL);
	}
	m->roots = roots;
	for (size_t i = 0; i < n; i++) {
		if ((err = merge_entry(m, &m->v[m->n], &m->json[m->n], json_array_get(defs, i))) <
		    0) {
			m->n = mark;
			json_decref(root);
			return err;
		}
		m->v[m->n].shard = searcher;
		m->v[m->n].sym = (uint32_t)m->n;
		m->n++;
	}
	m->roots[m->n_roots++] = root;
	m->found += (uint64_t)json_integer_value(found);
	m->is_limit_hit |= json_is_true(hit);
	return 0;
}

int nav_merge_put(struct buf *b, struct nav_merge *m, const char *id, size_t id_len, size_t max,
		  size_t n_failed)
{
	size_t n = m->n < max ? m->n : max;
	int err;

	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), nav_def_cmp);
	if ((err = buf_puts(b, "{\"identifier\":")) < 0 ||
	    (err = json_put_string(b, id, id_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"definitions\":[")) < 0)
		return err;
	for (size_t k = 0; k < n; k++)
		if ((k && (err = buf_putc(b, ',')) < 0) ||
		    (err = buf_puts(b, m->json[m->v[k].sym])) < 0)
			return err;
	if ((err = buf_printf(b, "],\"limit_hit\":%s",
			      m->is_limit_hit || m->found > max ? "true" : "false")) < 0)
		return err;
	if (n_failed && (err = buf_printf(b, ",\"partial_searchers\":%zu", n_failed)) < 0)
		return err;
	return buf_putc(b, '}');
}

void nav_merge_dispose(struct nav_merge *m)
{
	for (size_t i = 0; i < m->n_roots; i++)
		json_decref(m->roots[i]);
	free(m->roots);
	free(m->v);
	free(m->json);
	*m = (struct nav_merge){ 0 };
}
