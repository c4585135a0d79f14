/*
 * The executor's side of every filter: one entry per enum qfilter_kind, saying whether it is
 * cheap (names only, evaluated before content patterns), whether it is decided once per
 * repository, how its atom is compiled and how it is evaluated. compile.c, verify.c and
 * search.c dispatch through this table and know no filter by name. The query side of each
 * filter (names, value syntax, description) is its row in query/fields.c; the recipe for adding
 * one is docs/internals/adding-a-filter.md.
 */
#include <string.h>

#include "search/search_int.h"
#include "util/bitset.h"

/* A regex filter's atom: its value compiled with the query's case (no trigram plan). */
static int compile_regex(struct atom *a, const struct run *r, const struct qnode *n,
			 unsigned case_flags)
{
	return compile_atom(&a->pat, r, n->value, n->value_len, case_flags, false);
}

static int compile_lang(struct atom *a, const struct run *r, const struct qnode *n,
			unsigned case_flags)
{
	(void)r;
	(void)case_flags;
	a->lang = n->lang;
	return 0;
}

static int repo_name_eval(bool *out, struct worker *w, const struct atom *a, const char *repo)
{
	*out = verify_text_matches(w, a->pat, repo, strlen(repo));
	return 0;
}

static bool path_eval(struct doc_ctx *dc, const struct atom *a)
{
	return verify_text_matches(dc->w, a->pat, dc->d->path, dc->d->path_len);
}

static bool lang_eval(struct doc_ctx *dc, const struct atom *a)
{
	return dc->d->lang == a->lang;
}

static const struct filter_ops ops[QF_N] = {
	[QF_REPO] = { .kind = QF_REPO, .is_cheap = true, .is_per_repo = true,
		      .compile = compile_regex, .eval_repo = repo_name_eval },
	[QF_FILE] = { .kind = QF_FILE, .is_cheap = true, .compile = compile_regex,
		      .eval_doc = path_eval },
	[QF_LANG] = { .kind = QF_LANG, .is_cheap = true, .compile = compile_lang,
		      .eval_doc = lang_eval },
};

const struct filter_ops *filter_ops_of(enum qfilter_kind kind)
{
	if ((unsigned)kind >= QF_N || !ops[kind].compile)
		return NULL;
	return &ops[kind];
}

int filter_path_atom(struct atom *a, const struct run *r, const char *regex)
{
	memset(a, 0, sizeof(*a));
	a->kind = ATOM_FILTER;
	a->ops = &ops[QF_FILE];
	return compile_atom(&a->pat, r, regex, strlen(regex), 0, false);
}
