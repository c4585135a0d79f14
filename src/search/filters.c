/*
 * The executor's side of every filter: one entry per enum qfilter_kind, saying whether it is
 * cheap (names only, evaluated before content patterns), whether it is decided once per
 * repository, how its atom is compiled and how it is evaluated. compile.c, verify.c and
 * search.c dispatch through this table and know no filter by name. The query side of each
 * filter (names, value syntax, description) is its row in query/fields.c; the recipe for adding
 * one is docs/internals/adding-a-filter.md.
 */
#include <stdlib.h>
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

/*
 * A content regex of a filter: with the query's case and a trigram plan, so that it narrows
 * candidates through the posting lists like a content pattern.
 */
static int compile_content(const struct pattern **pat, const struct run *r, const char *v,
			   size_t len, unsigned case_flags)
{
	return compile_atom(pat, r, v, len, case_flags, true);
}

/* repo:has.path(R) and repo:has.content(R) keep R in pat; repo:has.file(path:P content:C) P, C. */
static int compile_has_path(struct atom *a, const struct run *r, const struct qnode *n,
			    unsigned case_flags)
{
	return compile_atom(&a->pat, r, n->value, n->value_len, case_flags, false);
}

static int compile_has_content(struct atom *a, const struct run *r, const struct qnode *n,
			       unsigned case_flags)
{
	return compile_content(&a->pat, r, n->value, n->value_len, case_flags);
}

static int compile_has_file(struct atom *a, const struct run *r, const struct qnode *n,
			    unsigned case_flags)
{
	int err = 0;

	if (n->value_len)
		err = compile_atom(&a->pat, r, n->value, n->value_len, case_flags, false);
	if (err == 0 && n->value2 && n->value2_len)
		err = compile_content(&a->pat2, r, n->value2, n->value2_len, case_flags);
	return err;
}

/* Whether document d passes a has.* atom: its path matches pat, its content pat2 (when given). */
static bool doc_has(struct worker *w, const struct pattern *path, const struct pattern *content,
		    const struct shard_doc *d, int *err)
{
	if (path && !verify_text_matches(w, path, d->path, d->path_len))
		return false;
	return !content || verify_doc_matches(w, content, d, err);
}

/*
 * Whether some document of the repository being searched (every shard of it: a large one is
 * split), on a branch the search covers, passes doc_has. With a content regex, only the
 * documents its posting lists allow are read. SECURITY: only the repository's own shards are
 * read, and it was found readable before this runs.
 */
static int repo_has(bool *out, struct worker *w, const struct pattern *path,
		    const struct pattern *content)
{
	struct run *r = w->r;
	const struct index_repo_entry *e = index_shard_entry(r->ix, w->shard_i);
	uint64_t *on = NULL;
	size_t k = w->shard_i;
	int err = 0;

	*out = false;
	if (e->n_branches && !(on = calloc(w->n_words, sizeof(*on))))
		return error_nomem(NULL);
	/* A repository's shards are consecutive in the index. */
	while (k > 0 && index_shard_entry(r->ix, k - 1) == e)
		k--;
	for (; k < index_n_shards(r->ix) && index_shard_entry(r->ix, k) == e && !*out && err == 0;
	     k++) {
		const struct shard *sh = index_shard(r->ix, k);
		struct docset cand = { .is_all = true };
		uint32_t lo, hi;
		size_t n;

		index_shard_docs(r->ix, k, &lo, &hi);
		if ((content && (err = cand_pattern(&cand, sh, content)) < 0) ||
		    (err = docset_restrict(&cand, lo, hi, shard_n_docs(sh))) < 0) {
			docset_dispose(&cand);
			break;
		}
		n = cand.is_all ? shard_n_docs(sh) : cand.ids.len;
		for (size_t i = 0; i < n && !*out && !should_stop(r); i++) {
			uint32_t id = cand.is_all ? (uint32_t)i : cand.ids.v[i];
			struct shard_doc d;

			if ((err = shard_doc(&d, sh, id)) < 0)
				break;
			if (on && !branches_doc_selected(on, w->sel, w->n_words, r, k, id, &d))
				continue;
			*out = doc_has(w, path, content, &d, &err);
			if (err < 0)
				break;
		}
		docset_dispose(&cand);
	}
	free(on);
	return err;
}

static int repo_has_path_eval(bool *out, struct worker *w, const struct atom *a, const char *repo)
{
	(void)repo;
	return repo_has(out, w, a->pat, NULL);
}

static int repo_has_content_eval(bool *out, struct worker *w, const struct atom *a,
				 const char *repo)
{
	(void)repo;
	return repo_has(out, w, NULL, a->pat);
}

static int repo_has_file_eval(bool *out, struct worker *w, const struct atom *a, const char *repo)
{
	(void)repo;
	return repo_has(out, w, a->pat, a->pat2);
}

static bool file_has_content_eval(struct doc_ctx *dc, const struct atom *a)
{
	int err = 0;
	bool hit = verify_doc_matches(dc->w, a->pat, dc->d, &err);

	if (err < 0)
		dc->err = err;
	return hit;
}

static int file_has_content_narrow(struct docset *out, const struct shard *sh,
				   const struct atom *a)
{
	return cand_pattern(out, sh, a->pat);
}

static const struct filter_ops ops[QF_N] = {
	[QF_REPO] = { .kind = QF_REPO, .is_cheap = true, .is_per_repo = true,
		      .compile = compile_regex, .eval_repo = repo_name_eval },
	[QF_FILE] = { .kind = QF_FILE, .is_cheap = true, .compile = compile_regex,
		      .eval_doc = path_eval },
	[QF_LANG] = { .kind = QF_LANG, .is_cheap = true, .compile = compile_lang,
		      .eval_doc = lang_eval },
	[QF_REPO_HAS_PATH] = { .kind = QF_REPO_HAS_PATH, .is_cheap = true, .is_per_repo = true,
			       .needs_docs = true, .compile = compile_has_path,
			       .eval_repo = repo_has_path_eval },
	[QF_REPO_HAS_FILE] = { .kind = QF_REPO_HAS_FILE, .is_cheap = true, .is_per_repo = true,
			       .needs_docs = true, .compile = compile_has_file,
			       .eval_repo = repo_has_file_eval },
	[QF_REPO_HAS_CONTENT] = { .kind = QF_REPO_HAS_CONTENT, .is_cheap = true,
				  .is_per_repo = true, .needs_docs = true,
				  .compile = compile_has_content,
				  .eval_repo = repo_has_content_eval },
	[QF_FILE_HAS_CONTENT] = { .kind = QF_FILE_HAS_CONTENT, .compile = compile_has_content,
				  .eval_doc = file_has_content_eval,
				  .narrow = file_has_content_narrow },
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
