/*
 * Branch and revision selection: which branches of a repository a search covers (the default
 * one, or those rev: names or matches), whether a document is on one of them, and the branches
 * a result is on. Branch sets are bitsets over the repository's branches (util/bitset.h).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "search/search_int.h"
#include "util/bitset.h"

/* Whether branch name is one rev: selects (names separated by ':'; a glob after '*'). */
static bool rev_selects(const char *rev, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = rev; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 1 && p[0] == '*') {
			char *glob = strndup(p + 1, len - 1);
			bool is_match = glob && fnmatch(glob, name, 0) == 0;

			free(glob);
			if (is_match)
				return true;
		} else if (len == n && memcmp(p, name, n) == 0) {
			return true;
		}
		p += len + (end != NULL);
	}
	return false;
}

bool branches_select(uint64_t *sel, size_t n_words, const struct run *r,
		     const struct index_repo_entry *e)
{
	const char *rev = r->o->query ? r->o->query->rev : NULL;
	bool is_pinned = r->o->pin_repo && strcmp(e->name, r->o->pin_repo) == 0;
	bool any = false;

	bitset_clear_all(sel, n_words);
	for (size_t b = 0; b < e->n_branches; b++) {
		bool on = is_pinned ? strcmp(e->branches[b].name, r->o->pin_branch) == 0
			  : rev     ? rev_selects(rev, e->branches[b].name)
				    : e->branches[b].is_default;

		if (on) {
			bitset_set(sel, n_words, b);
			any = true;
		}
	}
	return any;
}

int branches_note(struct job *j, const struct index_repo_entry *e, const uint64_t *on)
{
	struct file_rec *fr = &j->files[j->n_files - 1];
	int err;

	fr->first_branch = j->n_branch_names;
	for (size_t b = 0; b < e->n_branches; b++) {
		if (!bitset_test(on, bitset_words(e->n_branches), b))
			continue;
		if ((err = job_grow(j, (void **)&j->branch_names, &j->cap_branch_names,
				    j->n_branch_names + 1, sizeof(*j->branch_names))) < 0)
			return err;
		j->branch_names[j->n_branch_names++] = e->branches[b].name;
		fr->n_branches++;
	}
	return 0;
}

bool branches_doc_selected(uint64_t *on, const uint64_t *sel, size_t n_words, const struct run *r,
			   size_t shard_i, uint32_t id, const struct shard_doc *d)
{
	/*
	 * Only documents on a searched branch (the overlay applied) count; a result then lists
	 * every branch its document is on, not only the searched ones.
	 */
	index_doc_branches(on, n_words, r->ix, shard_i, id, d);
	return bitset_intersects(on, sel, n_words);
}
