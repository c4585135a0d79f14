/* Tree-to-tree differences and small commit helpers; see diff.h. */
#include "git/diff.h"

#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "git/git_int.h"
#include "util/error.h"

static enum gitwalk_kind kind_of(uint16_t mode)
{
	switch (mode) {
	case GIT_FILEMODE_BLOB_EXECUTABLE: return GITWALK_EXEC;
	case GIT_FILEMODE_LINK: return GITWALK_SYMLINK;
	case GIT_FILEMODE_COMMIT: return GITWALK_SUBMODULE;
	default: return GITWALK_BLOB;
	}
}

static void side_from(struct gitdiff_side *s, const git_diff_file *f, bool present)
{
	s->is_present = present && f->mode != 0;
	if (s->is_present) {
		s->kind = kind_of(f->mode);
		gitrepo_oid_from(&s->oid, &f->id);
	}
}

static int lookup_tree(git_tree **out, struct gitrepo *r, const struct gitrepo_oid *id)
{
	git_oid oid;
	int rc;

	*out = NULL;
	if (!id)
		return 0;
	gitrepo_oid_to(&oid, id);
	if ((rc = git_tree_lookup(out, gitrepo_handle(r), &oid)) < 0)
		return gitrepo_error(rc, "reading a tree to compare");
	return 0;
}

int gitdiff_trees(struct gitrepo *r, const struct gitrepo_oid *old_tree,
		  const struct gitrepo_oid *new_tree, gitdiff_fn fn, void *arg)
{
	git_diff_options opts;
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	int rc, err;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	/* Submodules are compared by their commit id in the tree; nothing is looked up. */
	opts.ignore_submodules = GIT_SUBMODULE_IGNORE_NONE;
	opts.flags = GIT_DIFF_NORMAL;
	if ((err = lookup_tree(&a, r, old_tree)) < 0 || (err = lookup_tree(&b, r, new_tree)) < 0)
		goto out;
	if ((rc = git_diff_tree_to_tree(&diff, gitrepo_handle(r), a, b, &opts)) < 0) {
		err = gitrepo_error(rc, "comparing two trees");
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff) && err == 0; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		struct gitdiff_entry e = { 0 };
		bool has_old = d->status == GIT_DELTA_DELETED || d->status == GIT_DELTA_MODIFIED ||
			       d->status == GIT_DELTA_TYPECHANGE;
		bool has_new = d->status == GIT_DELTA_ADDED || d->status == GIT_DELTA_MODIFIED ||
			       d->status == GIT_DELTA_TYPECHANGE;

		if (!has_old && !has_new)
			continue;
		e.path = has_new ? d->new_file.path : d->old_file.path;
		e.path_len = strlen(e.path);
		side_from(&e.old_side, &d->old_file, has_old);
		side_from(&e.new_side, &d->new_file, has_new);
		err = fn(&e, arg);
	}
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return err;
}

int gitrepo_commit_tree(struct gitrepo_oid *tree, struct gitrepo *r, const char *hex)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc;

	if (strlen(hex) != GITREPO_OID_HEXSZ || git_oid_fromstr(&oid, hex) < 0) {
		error_set("not a commit id");
		return TRAWL_EINVAL;
	}
	if ((rc = git_commit_lookup(&c, gitrepo_handle(r), &oid)) < 0)
		return gitrepo_error(rc, "reading the commit indexed before");
	gitrepo_oid_from(tree, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

int gitrepo_head_branch(char **out, struct gitrepo *r)
{
	git_reference *head = NULL;
	const char *target;
	int rc;

	*out = NULL;
	rc = git_reference_lookup(&head, gitrepo_handle(r), "HEAD");
	if (rc < 0)
		return gitrepo_error(rc, "reading HEAD");
	target = git_reference_type(head) == GIT_REFERENCE_SYMBOLIC
			 ? git_reference_symbolic_target(head)
			 : NULL;
	if (target && strncmp(target, "refs/heads/", 11) == 0 &&
	    gitrepo_branch_name_valid(target + 11) && !(*out = strdup(target + 11))) {
		git_reference_free(head);
		return error_nomem(NULL);
	}
	git_reference_free(head);
	return 0;
}
