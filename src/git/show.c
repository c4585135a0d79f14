/* Reading one path of one commit of a mirror (show.h). */
#include <stdlib.h>
#include <string.h>

#include "git/git_int.h"
#include "git/show.h"
#include "util/error.h"
#include "util/hex.h"

void gitshow_result_dispose(struct gitshow_result *r)
{
	for (size_t i = 0; i < r->n_entries; i++)
		free(r->entries[i].name);
	free(r->entries);
	free(r->content);
	memset(r, 0, sizeof(*r));
}

static enum gitshow_etype etype_of(git_filemode_t mode)
{
	switch (mode) {
	case GIT_FILEMODE_TREE:
		return GITSHOW_E_DIR;
	case GIT_FILEMODE_LINK:
		return GITSHOW_E_SYMLINK;
	case GIT_FILEMODE_COMMIT:
		return GITSHOW_E_SUBMODULE;
	default:
		return GITSHOW_E_FILE;
	}
}

/* The entries of tree, at most max of them (the rest: is_truncated). */
static int list_tree(struct gitshow_result *out, struct gitrepo *r, const git_tree *tree,
		     size_t max)
{
	size_t n = git_tree_entrycount(tree);

	out->kind = GITSHOW_DIR;
	if (n > max) {
		n = max;
		out->is_truncated = true;
	}
	if (n && !(out->entries = calloc(n, sizeof(*out->entries))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		struct gitshow_entry *d = &out->entries[out->n_entries];
		struct gitrepo_oid id;
		enum gitrepo_otype type;
		int err;

		/* "." and "..": no entry (a hostile tree's; walk.c skips them too). */
		if (strcmp(git_tree_entry_name(e), ".") == 0 || strcmp(git_tree_entry_name(e), "..") == 0)
			continue;
		if (!(d->name = strdup(git_tree_entry_name(e))))
			return error_nomem(NULL);
		out->n_entries++;
		d->type = etype_of(git_tree_entry_filemode(e));
		if (d->type != GITSHOW_E_FILE)
			continue;
		gitrepo_oid_from(&id, git_tree_entry_id(e));
		/* A missing blob (a partial mirror) lists with size 0 rather than failing. */
		if ((err = gitrepo_object_header(&type, &d->size, r, &id)) < 0 &&
		    err != TRAWL_ENOTFOUND)
			return err;
	}
	return 0;
}

/* The blob id names: its content when at most max bytes, else only its size. */
static int read_file(struct gitshow_result *out, struct gitrepo *r, const git_oid *oid,
		     uint64_t max)
{
	struct gitrepo_oid id;
	struct gitrepo_blob b = { 0 };
	enum gitrepo_otype type;
	int err;

	gitrepo_oid_from(&id, oid);
	out->kind = GITSHOW_FILE;
	if ((err = gitrepo_object_header(&type, &out->size, r, &id)) == TRAWL_ENOTFOUND) {
		out->kind = GITSHOW_NO_PATH; /* a partial mirror: the tree names a missing blob */
		return 0;
	}
	if (err < 0)
		return err;
	if (out->size > max) {
		out->is_too_large = true;
		return 0;
	}
	if ((err = gitrepo_blob_read(&b, r, &id, max)) < 0)
		return err;
	if (b.len && !(out->content = malloc(b.len)))
		err = error_nomem(NULL);
	else if (b.len)
		memcpy(out->content, b.data, b.len);
	out->size = b.len;
	gitrepo_blob_dispose(&b);
	return err;
}

/* path in the commit's tree: a file, a directory, or NO_PATH. */
static int read_path(struct gitshow_result *out, struct gitrepo *r, git_tree *root,
		     const char *path, uint64_t max_size, size_t max_entries)
{
	git_repository *repo = gitrepo_handle(r);
	git_tree_entry *e = NULL;
	git_tree *sub = NULL;
	int rc, err = 0;

	if (!path[0])
		return list_tree(out, r, root, max_entries);
	rc = git_tree_entry_bypath(&e, root, path);
	if (rc == GIT_ENOTFOUND) {
		out->kind = GITSHOW_NO_PATH;
		return 0;
	}
	if (rc < 0)
		return gitrepo_error(rc, "looking the path up");
	switch (etype_of(git_tree_entry_filemode(e))) {
	case GITSHOW_E_DIR:
		if ((rc = git_tree_lookup(&sub, repo, git_tree_entry_id(e))) < 0)
			err = gitrepo_error(rc, "reading a tree");
		else
			err = list_tree(out, r, sub, max_entries);
		break;
	case GITSHOW_E_FILE:
		err = read_file(out, r, git_tree_entry_id(e), max_size);
		break;
	default: /* a symlink or a submodule has no content here, as in the index */
		out->kind = GITSHOW_NO_PATH;
		break;
	}
	git_tree_free(sub);
	git_tree_entry_free(e);
	return err;
}

/*
 * SECURITY: libgit2 takes a bare repository's objects from the directory its `commondir` file
 * names (alternates are never loaded: repo.c). A mirror is written by its fetch worker: one
 * taken over could name another repository's mirror there, and where Landlock is not enforced
 * that repository's commits would be shown as this one's. A mirror is its own common dir.
 */
static int own_objects(struct gitrepo *r)
{
	git_repository *repo = gitrepo_handle(r);

	if (strcmp(git_repository_commondir(repo), git_repository_path(repo)) != 0) {
		error_set("the mirror's commondir names another repository: refused");
		return TRAWL_EPERM;
	}
	return 0;
}

int gitshow_read(struct gitshow_result *out, const char *mirror, const char *commit,
		 const char *path, uint64_t max_size, size_t max_entries)
{
	struct gitrepo *r = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int rc, err;

	memset(out, 0, sizeof(*out));
	if (!hex_is_commit_id(commit, strlen(commit)) || git_oid_fromstr(&oid, commit) < 0) {
		error_set("not a commit id (40 hex digits)");
		return TRAWL_EINVAL;
	}
	if ((err = gitrepo_open(&r, mirror)) < 0 || (err = own_objects(r)) < 0) {
		gitrepo_close(r);
		return err;
	}
	/* Another object's id (a tree, a blob) is no commit either: GIT_ENOTFOUND too. */
	rc = git_commit_lookup(&c, gitrepo_handle(r), &oid);
	if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
		out->kind = GITSHOW_NO_COMMIT;
		err = 0;
	} else if (rc < 0) {
		err = gitrepo_error(rc, "reading the commit");
	} else if ((rc = git_commit_tree(&tree, c)) < 0) {
		err = gitrepo_error(rc, "reading the commit's tree");
	} else {
		err = read_path(out, r, tree, path, max_size, max_entries);
	}
	git_tree_free(tree);
	git_commit_free(c);
	gitrepo_close(r);
	return err;
}
