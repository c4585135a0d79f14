/*
 * Git repositories through libgit2; see repo.h.
 *
 * DESIGN: a repository is opened with git_repository_open_ext(NO_SEARCH), then its object
 * database is replaced by one built from the repository's own objects directory (packs, then
 * loose objects, libgit2's default priorities) so that alternates are never loaded. libgit2
 * keeps no blob in its object cache (limit 0, set in gitrepo_global_init), so a blob's memory is
 * released by gitrepo_blob_dispose and a reader holds one blob at a time.
 */
#include "git/repo.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include "git/git_int.h"
#include "util/array.h"
#include "util/error.h"
#include "util/file.h"
#include "util/utf8.h"

/* libgit2's own priorities for the default backends: packs are looked at first. */
#define PACKED_PRIORITY 2
#define LOOSE_PRIORITY 1

struct gitrepo {
	git_repository *repo;
	git_odb *odb; /* our reference to the repository's object database */
	char *path;   /* the git directory */
	bool has_alternates;
};

int gitrepo_error(int git_err, const char *what)
{
	const git_error *e = git_error_last();
	char msg[512];
	size_t i;

	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown libgit2 error");
	/* SECURITY: libgit2 messages may quote names from the repository. */
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	error_set("%s: %s", what, msg);
	if (e && e->klass == GIT_ERROR_NOMEMORY)
		return TRAWL_ENOMEM;
	switch (git_err) {
	case GIT_ENOTFOUND:
	case GIT_EUNBORNBRANCH: return TRAWL_ENOTFOUND;
	case GIT_EOWNER: return TRAWL_EPERM;
	default: return TRAWL_ECORRUPT;
	}
}

int gitrepo_global_init(void)
{
	int rc = git_libgit2_init();

	if (rc < 0)
		return gitrepo_error(rc, "libgit2");
	/*
	 * Blobs are never cached (libgit2's default, made explicit): each is read, used and freed,
	 * so memory stays at one blob per thread whatever the repository holds.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, (int)GIT_OBJECT_BLOB, (size_t)0);
	/*
	 * Pack windows are mapped 32 MiB at a time, at most 256 MiB in all (libgit2's defaults
	 * are 1 GiB and 8 GiB on 64-bit): a repository with a 20 GB pack must not map all of it.
	 */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)32 << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)256 << 20);
	/*
	 * No SHA-1 of every object read (libgit2 does it by default; git itself does not on
	 * reads): it cost about a quarter of the CPU of indexing Linux. It is no security check
	 * here, since a repository's author chooses its content anyway; corruption is still caught
	 * by zlib's checksum of every object and by delta sizes, and the blob becomes "unreadable".
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	return 0;
}

int gitrepo_config_isolate(void)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				      GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };
	int rc;

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if ((rc = git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "")) < 0)
			return gitrepo_error(rc, "clearing the git configuration search path");
	return 0;
}

void gitrepo_global_shutdown(void)
{
	git_libgit2_shutdown();
}

bool gitrepo_threads_ok(void)
{
	return (git_libgit2_features() & GIT_FEATURE_THREADS) != 0;
}

git_repository *gitrepo_handle(struct gitrepo *r)
{
	return r->repo;
}

const char *gitrepo_path(const struct gitrepo *r)
{
	return r->path;
}

bool gitrepo_has_alternates(const struct gitrepo *r)
{
	return r->has_alternates;
}

/* Replaces the repository's object database with its own objects directory, no alternates. */
static int own_odb(git_odb **out, bool *has_alternates, git_repository *repo)
{
	struct stat sb;
	char *alt;
	git_buf dir = { 0 };
	git_odb *odb = NULL;
	git_odb_backend *pack = NULL, *loose = NULL;
	int rc;

	*out = NULL;
	if ((rc = git_repository_item_path(&dir, repo, GIT_REPOSITORY_ITEM_OBJECTS)) < 0 ||
	    (rc = git_odb_new(&odb)) < 0 || (rc = git_odb_backend_pack(&pack, dir.ptr)) < 0)
		goto out;
	alt = file_join(dir.ptr, "info/alternates");
	*has_alternates = alt && lstat(alt, &sb) == 0;
	free(alt);
	if ((rc = git_odb_add_backend(odb, pack, PACKED_PRIORITY)) < 0)
		goto out;
	pack = NULL; /* owned by odb */
	if ((rc = git_odb_backend_loose(&loose, dir.ptr, -1, 0, 0, 0)) < 0 ||
	    (rc = git_odb_add_backend(odb, loose, LOOSE_PRIORITY)) < 0)
		goto out;
	loose = NULL;
	if ((rc = git_repository_set_odb(repo, odb)) < 0)
		goto out;
	*out = odb;
	odb = NULL;
out:
	if (pack)
		pack->free(pack);
	if (loose)
		loose->free(loose);
	git_odb_free(odb);
	git_buf_dispose(&dir);
	return rc;
}

int gitrepo_open(struct gitrepo **out, const char *path)
{
	struct gitrepo *r = NULL;
	int rc, err = 0;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return error_nomem("opening a git repository");
	/* NO_SEARCH: a directory inside someone's work tree is a directory, not their repository. */
	rc = git_repository_open_ext(&r->repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_ENOTFOUND) {
		err = gitrepo_error(rc, path); /* libgit2 says what it looked for */
		goto out;
	}
	if (rc < 0 || (rc = own_odb(&r->odb, &r->has_alternates, r->repo)) < 0) {
		err = gitrepo_error(rc, path);
		if (err == TRAWL_ENOTFOUND)
			err = TRAWL_ECORRUPT; /* it is a repository, just not a readable one */
		goto out;
	}
	r->path = strdup(git_repository_path(r->repo));
	if (!r->path) {
		err = error_nomem("opening a git repository");
		goto out;
	}
	*out = r;
	r = NULL;
out:
	gitrepo_close(r);
	return err;
}

void gitrepo_close(struct gitrepo *r)
{
	if (!r)
		return;
	git_odb_free(r->odb);
	git_repository_free(r->repo);
	free(r->path);
	free(r);
}

enum gitrepo_probe gitrepo_probe(const char *path)
{
	struct gitrepo *r = NULL;
	struct stat sb;
	char *dotgit, why[512];
	int err = gitrepo_open(&r, path);

	if (err == 0) {
		gitrepo_close(r);
		return GITREPO_OK;
	}
	if (err != TRAWL_ENOTFOUND)
		return GITREPO_BROKEN;
	dotgit = file_join(path, ".git");
	err = dotgit ? lstat(dotgit, &sb) : -1;
	free(dotgit);
	if (err < 0)
		return GITREPO_NONE;
	snprintf(why, sizeof(why), "%s", error_last());
	error_set("%s/.git: not a git repository libgit2 can open (%s)", path, why);
	return GITREPO_BROKEN;
}

/* A branch name as a repository may hold it: a valid ref name under refs/heads/, UTF-8. */
static bool branch_name_ok(const char *name)
{
	static const char prefix[] = "refs/heads/";
	char full[sizeof(prefix) + GITREPO_BRANCH_MAX];
	size_t n = strlen(name);
	int valid = 0;

	if (n == 0 || n > GITREPO_BRANCH_MAX || !utf8_is_valid((const uint8_t *)name, n))
		return false;
	memcpy(full, prefix, sizeof(prefix) - 1);
	memcpy(full + sizeof(prefix) - 1, name, n + 1);
	return git_reference_name_is_valid(&valid, full) == 0 && valid;
}

bool gitrepo_branch_name_valid(const char *name)
{
	/* SECURITY: V2: a value starting with '-' is refused, though no program ever sees it. */
	return name[0] != '-' && branch_name_ok(name);
}

bool gitrepo_is_pattern(const char *pattern)
{
	return strpbrk(pattern, "*?[") != NULL;
}

bool gitrepo_branch_pattern_valid(const char *pattern)
{
	size_t n = strlen(pattern);

	if (!gitrepo_is_pattern(pattern))
		return gitrepo_branch_name_valid(pattern);
	if (n == 0 || n > GITREPO_BRANCH_MAX || pattern[0] == '-' ||
	    !utf8_is_valid((const uint8_t *)pattern, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pattern[i] < 0x20 || pattern[i] == 0x7f)
			return false;
	return true;
}

void gitrepo_names_free(char **names)
{
	if (!names)
		return;
	for (size_t i = 0; names[i]; i++)
		free(names[i]);
	free(names);
}

struct names {
	char **v;
	size_t n, cap;
};

/* Keeps ns->v NULL-terminated. */
static int names_add(struct names *ns, const char *name)
{
	int err;

	if ((err = ARRAY_GROW(&ns->v, &ns->cap, ns->n + 2)) < 0)
		return err;
	if (!(ns->v[ns->n] = strdup(name)))
		return error_nomem("listing branches");
	ns->v[++ns->n] = NULL;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every local branch matching one of the glob patterns. */
static int match_globs(struct names *ns, size_t *n_invalid, struct gitrepo *r,
		       char *const *patterns, size_t n_patterns)
{
	git_branch_iterator *it = NULL;
	git_reference *ref = NULL;
	git_branch_t type;
	int rc, err = 0;

	if ((rc = git_branch_iterator_new(&it, r->repo, GIT_BRANCH_LOCAL)) < 0)
		return gitrepo_error(rc, "listing branches");
	while ((rc = git_branch_next(&ref, &type, it)) == 0) {
		const char *nm = NULL;

		if (git_branch_name(&nm, ref) < 0 || !nm) {
			(*n_invalid)++;
		} else {
			for (size_t i = 0; i < n_patterns; i++) {
				/* No flags: names are data, '*' matches '/' and a leading '.' alike. */
				if (!gitrepo_is_pattern(patterns[i]) || fnmatch(patterns[i], nm, 0) != 0)
					continue;
				if (gitrepo_branch_name_valid(nm))
					err = names_add(ns, nm);
				else
					(*n_invalid)++;
				break;
			}
		}
		git_reference_free(ref);
		ref = NULL;
		if (err < 0)
			goto out;
	}
	if (rc != GIT_ITEROVER)
		err = gitrepo_error(rc, "listing branches");
out:
	git_branch_iterator_free(it);
	return err;
}

int gitrepo_branches(char ***out, size_t *n, size_t *n_invalid, struct gitrepo *r,
		     char *const *patterns, size_t n_patterns)
{
	struct names ns = { 0 };
	bool has_glob = false;
	size_t k = 0;
	int err = 0;

	*out = NULL;
	*n = 0;
	*n_invalid = 0;
	for (size_t i = 0; i < n_patterns; i++) {
		git_reference *ref = NULL;
		int rc;

		if (!gitrepo_branch_pattern_valid(patterns[i])) {
			error_set("--branch: not a valid branch name or pattern");
			err = TRAWL_EINVAL;
			goto out;
		}
		if (gitrepo_is_pattern(patterns[i])) {
			has_glob = true;
			continue;
		}
		rc = git_branch_lookup(&ref, r->repo, patterns[i], GIT_BRANCH_LOCAL);
		git_reference_free(ref);
		if (rc == GIT_ENOTFOUND) {
			error_set("no branch \"%s\"", patterns[i]);
			err = TRAWL_ENOTFOUND;
			goto out;
		}
		if (rc < 0) {
			err = gitrepo_error(rc, "looking up a branch");
			goto out;
		}
		if ((err = names_add(&ns, patterns[i])) < 0)
			goto out;
	}
	if (has_glob && (err = match_globs(&ns, n_invalid, r, patterns, n_patterns)) < 0)
		goto out;
	if (ns.n == 0) {
		error_set("no branch matches --branch");
		err = TRAWL_ENOTFOUND;
		goto out;
	}
	qsort(ns.v, ns.n, sizeof(*ns.v), cmp_names);
	for (size_t i = 0; i < ns.n; i++) {
		if (k > 0 && strcmp(ns.v[k - 1], ns.v[i]) == 0) {
			free(ns.v[i]);
			continue;
		}
		ns.v[k++] = ns.v[i];
	}
	ns.v[k] = NULL;
	*out = ns.v;
	*n = k;
	ns.v = NULL;
out:
	gitrepo_names_free(ns.v);
	return err;
}

int gitrepo_resolve(struct gitrepo_oid *tree, char commit[GITREPO_OID_HEXSZ + 1],
		    struct gitrepo *r, const char *branch)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int rc, err = 0;

	commit[0] = '\0';
	if (!branch) {
		rc = git_repository_head(&ref, r->repo);
		if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
			error_set("HEAD has no commit yet");
			err = TRAWL_ENOTFOUND;
			goto out;
		}
	} else {
		rc = git_branch_lookup(&ref, r->repo, branch, GIT_BRANCH_LOCAL);
		if (rc == GIT_ENOTFOUND) {
			error_set("no branch \"%s\"", branch);
			err = TRAWL_ENOTFOUND;
			goto out;
		}
	}
	if (rc < 0) {
		err = gitrepo_error(rc, branch ? "reading the branch" : "reading HEAD");
		goto out;
	}
	if ((rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT)) < 0) {
		err = gitrepo_error(rc, branch ? "the branch does not lead to a commit"
					       : "HEAD does not lead to a commit");
		if (err == TRAWL_ENOTFOUND)
			err = TRAWL_ECORRUPT; /* the ref exists; its commit does not */
		goto out;
	}
	gitrepo_oid_from(tree, git_commit_tree_id((const git_commit *)obj));
	git_oid_tostr(commit, GITREPO_OID_HEXSZ + 1, git_object_id(obj));
out:
	git_object_free(obj);
	git_reference_free(ref);
	return err;
}

int gitrepo_object_header(enum gitrepo_otype *type, uint64_t *size, struct gitrepo *r,
			  const struct gitrepo_oid *id)
{
	git_oid oid;
	git_object_t t;
	size_t len;
	int rc;

	gitrepo_oid_to(&oid, id);
	if ((rc = git_odb_read_header(&len, &t, r->odb, &oid)) < 0)
		return gitrepo_error(rc, "reading an object header");
	*type = t == GIT_OBJECT_BLOB ? GITREPO_OBJ_BLOB
				     : t == GIT_OBJECT_TREE ? GITREPO_OBJ_TREE : GITREPO_OBJ_OTHER;
	*size = len;
	return 0;
}

int gitrepo_blob_read(struct gitrepo_blob *out, struct gitrepo *r, const struct gitrepo_oid *id,
		      uint64_t max)
{
	enum gitrepo_otype type;
	git_blob *blob = NULL;
	git_oid oid;
	uint64_t size;
	int rc, err;

	memset(out, 0, sizeof(*out));
	if ((err = gitrepo_object_header(&type, &size, r, id)) < 0)
		return err;
	if (type != GITREPO_OBJ_BLOB) {
		error_set("object is not a blob");
		return TRAWL_ECORRUPT;
	}
	/* SECURITY: F2: the size comes from the header; a blob over the limit is never loaded. */
	if (size > max) {
		error_set("blob of %llu bytes is over the limit", (unsigned long long)size);
		return TRAWL_ELIMIT;
	}
	gitrepo_oid_to(&oid, id);
	if ((rc = git_blob_lookup(&blob, r->repo, &oid)) < 0)
		return gitrepo_error(rc, "reading a blob");
	if (git_blob_rawsize(blob) > max) { /* the header and the object disagree */
		git_blob_free(blob);
		error_set("blob larger than its header said");
		return TRAWL_ECORRUPT;
	}
	out->obj = blob;
	out->len = (size_t)git_blob_rawsize(blob);
	out->data = out->len ? git_blob_rawcontent(blob) : NULL;
	return 0;
}

void gitrepo_blob_dispose(struct gitrepo_blob *b)
{
	git_blob_free(b->obj);
	memset(b, 0, sizeof(*b));
}
