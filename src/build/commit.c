/*
 * Committing a produced index entry (build.h: build_commit): linking its new shard files into
 * the index directory and swapping the MANIFEST entry, after checking them when another
 * process (the index worker) wrote them.
 *
 * DESIGN: the index worker parsed a hostile repository, so its output is treated like any other
 * untrusted input (OpenSSH's monitor checks what its unprivileged child asks for): the parent
 * never takes a path from it, only names that must be plain shard names inside the work
 * directory the parent made; it opens every file itself, without following symlinks, and
 * accepts it only when the full verification (`trawl verify`: every checksum, every posting
 * list) passes and the shard says it belongs to this repository. The old shards an
 * incremental entry keeps must be exactly the ones the MANIFEST listed, so a worker can never
 * make the parent list another repository's files, and its overlay may only name documents
 * those shards have.
 */
#include "build/build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/file.h"

void build_git_result_free(struct build_git_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n_branches; i++)
		free(res->branches[i].name);
	free(res->branches);
	*res = (struct build_git_result){ 0 };
}

void build_git_output_dispose(struct build_git_output *out, const char *remove_dir)
{
	if (!out)
		return;
	for (size_t k = out->n_kept; remove_dir && k < out->e.n_shards; k++) {
		char *path = out->e.shards[k] ? file_join(remove_dir, out->e.shards[k]) : NULL;

		if (path)
			unlink(path);
		free(path);
	}
	build_git_result_free(&out->res);
	index_repo_entry_dispose(&out->e);
	out->n_kept = 0;
}

/* The MANIFEST entry's branch list from res (names borrowed: free only the array). */
static int entry_branches(struct index_repo_entry *e, const struct build_git_result *res)
{
	e->branches = calloc(res->n_branches + 1, sizeof(*e->branches));
	if (!e->branches)
		return error_nomem(NULL);
	for (size_t i = 0; i < res->n_branches; i++) {
		e->branches[i].name = res->branches[i].name; /* borrowed: not disposed */
		snprintf(e->branches[i].commit, sizeof(e->branches[i].commit), "%.40s",
			 res->branches[i].commit);
		e->branches[i].is_default = res->branches[i].is_default;
	}
	e->n_branches = res->n_branches;
	return 0;
}

/* The kept shards are expect's, in order, all or none; the overlay names only their documents. */
static int check_kept(const struct build_git_output *out, const struct index_repo_entry *expect,
		      const char *index_dir)
{
	const struct index_repo_entry *e = &out->e;
	size_t n_old = expect ? expect->n_shards : 0;
	struct shard *sh = NULL;
	int err = 0;

	if (out->n_kept != 0 && out->n_kept != n_old) {
		error_set("index worker: keeps %zu of the %zu shards the index lists", out->n_kept,
			  n_old);
		return TRAWL_ECORRUPT;
	}
	if (out->n_kept > e->n_shards || e->n_base > e->n_shards) {
		error_set("index worker: an entry of %zu shards keeps %zu, %zu base", e->n_shards,
			  out->n_kept, e->n_base);
		return TRAWL_ECORRUPT;
	}
	for (size_t k = 0; k < out->n_kept; k++)
		if (strcmp(e->shards[k], expect->shards[k]) != 0) {
			error_set("index worker: kept shard %zu is not the one the index lists", k);
			return TRAWL_ECORRUPT;
		}
	if (out->n_kept && e->n_base != expect->n_base) {
		error_set("index worker: an incremental entry with %zu base shards, not %zu",
			  e->n_base, expect->n_base);
		return TRAWL_ECORRUPT;
	}
	if (!out->n_kept && e->n_base != e->n_shards) {
		error_set("index worker: a full entry with %zu base shards of %zu", e->n_base,
			  e->n_shards);
		return TRAWL_ECORRUPT;
	}
	/* An out-of-range document would make every later index_open refuse the index. */
	for (size_t i = 0; i < e->n_overlay && err == 0; i++) {
		const struct index_overlay *o = &e->overlay[i];
		uint32_t lo, hi;
		char *path;

		if (o->shard >= out->n_kept) {
			error_set("index worker: overlay entry %zu names shard %u, not a kept one", i,
				  o->shard);
			err = TRAWL_ECORRUPT;
			break;
		}
		if (i == 0 || o->shard != e->overlay[i - 1].shard) {
			shard_close(sh);
			sh = NULL;
			if (!(path = file_join(index_dir, e->shards[o->shard]))) {
				err = error_nomem(NULL);
				break;
			}
			err = shard_open(&sh, path);
			free(path);
			if (err < 0)
				break;
		}
		/* Its repository's documents only: a compound file holds others' too. */
		if (!shard_repo_docs(sh, e->name, &lo, &hi) || o->doc < lo || o->doc >= hi) {
			error_set("index worker: overlay entry %zu names document %u, not one of "
				  "the repository's in its shard", i, o->doc);
			err = TRAWL_ECORRUPT;
		}
	}
	shard_close(sh);
	return err;
}

/* Whether shard sh's branch table is the entry's (the writer declares every branch, in order). */
static bool branches_match(const struct shard *sh, const struct build_git_result *res)
{
	if (shard_n_branches(sh) != res->n_branches)
		return false;
	for (uint32_t b = 0; b < res->n_branches; b++) {
		size_t len;
		const char *name = shard_branch(sh, b, &len);

		if (len != strlen(res->branches[b].name) ||
		    memcmp(name, res->branches[b].name, len) != 0)
			return false;
	}
	return true;
}

/*
 * Checks the new file name in work_dir; on success *st has its identity, to compare after the
 * rename.
 */
static int check_new(struct stat *st, const char *work_dir, const char *name,
		     const struct build_git_output *out)
{
	struct shard *sh = NULL;
	char *path = NULL;
	int fd = -1, err = 0;

	/* SECURITY: a plain name: no '/', no leading '.', so never "..", a link or MANIFEST. */
	if (!index_shard_name_ok(name)) {
		error_set("index worker: \"%.64s\" is not a shard file name", name);
		return TRAWL_ECORRUPT;
	}
	if (!(path = file_join(work_dir, name)))
		return error_nomem(NULL);
	/* SECURITY: O_NOFOLLOW: a symlink to anywhere (the index, a secret) is refused. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, st) < 0) {
		error_set("index worker: %s: %s", name,
			  errno == ELOOP ? "a symlink, not a shard file" : strerror(errno));
		err = TRAWL_ECORRUPT;
		goto out;
	}
	/* One link: not a hard link to a file elsewhere (another repository's shard). */
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
		error_set("index worker: %s: not a plain file with one link", name);
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if ((err = shard_open(&sh, path)) < 0 || (err = shard_verify(sh)) < 0) {
		error_prefix("index worker");
		err = err == TRAWL_ENOMEM ? err : TRAWL_ECORRUPT;
		goto out;
	}
	if (shard_n_repos(sh) || strcmp(shard_repo(sh), out->e.name) != 0) {
		error_set("index worker: %s is a shard of another repository (or of several)",
			  name);
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if (!branches_match(sh, &out->res)) {
		error_set("index worker: %s: its branch table is not the entry's", name);
		err = TRAWL_ECORRUPT;
	}
out:
	shard_close(sh);
	if (fd >= 0)
		close(fd);
	free(path);
	return err;
}

/* Unlinks from index_dir the first n new files that were renamed there. */
static void unlink_linked(const char *index_dir, const struct build_git_output *out, size_t n)
{
	for (size_t k = out->n_kept; k < out->n_kept + n; k++) {
		char *path = file_join(index_dir, out->e.shards[k]);

		if (path)
			unlink(path);
		free(path);
	}
}

/* Moves the checked files into index_dir, never over an existing file. */
static int link_new(size_t *n_linked, const char *index_dir, const char *work_dir,
		    const struct build_git_output *out, const struct stat *ids)
{
	int wd = -1, id = -1, err = 0;

	*n_linked = 0;
	wd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	id = open(index_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wd < 0 || id < 0) {
		error_set("cannot open %s: %s", wd < 0 ? work_dir : index_dir, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	for (size_t k = out->n_kept; k < out->e.n_shards; k++) {
		const char *name = out->e.shards[k];
		const struct stat *want = &ids[k - out->n_kept];
		struct stat got;

		if (renameat2(wd, name, id, name, RENAME_NOREPLACE) < 0) {
			error_set("%s: cannot move %s into the index: %s", index_dir, name,
				  strerror(errno));
			err = TRAWL_EIO;
			goto out;
		}
		(*n_linked)++;
		/* SECURITY: the file moved is the one checked (nothing swapped it meanwhile). */
		if (fstatat(id, name, &got, AT_SYMLINK_NOFOLLOW) < 0 || got.st_dev != want->st_dev ||
		    got.st_ino != want->st_ino) {
			error_set("index worker: %s changed while it was checked", name);
			err = TRAWL_ECORRUPT;
			goto out;
		}
	}
out:
	if (wd >= 0)
		close(wd);
	if (id >= 0)
		close(id);
	return err;
}

int build_commit_link(size_t *n_linked, const char *index_dir, const char *work_dir,
		      const struct build_git_output *out, const struct index_repo_entry *expect)
{
	const struct index_repo_entry none = { 0 };
	size_t n_new = out->e.n_shards >= out->n_kept ? out->e.n_shards - out->n_kept : 0;
	struct stat *ids = NULL;
	int err = 0;

	*n_linked = 0;
	if (!expect)
		expect = &none;
	if (!out->e.name || out->e.n_branches || (err = check_kept(out, expect, index_dir)) < 0) {
		if (err == 0) {
			error_set("index worker: a malformed entry");
			err = TRAWL_ECORRUPT;
		}
		return err;
	}
	if (!(ids = calloc(n_new + 1, sizeof(*ids))))
		return error_nomem(NULL);
	for (size_t k = 0; k < n_new && err == 0; k++)
		err = check_new(&ids[k], work_dir, out->e.shards[out->n_kept + k], out);
	if (err == 0)
		err = link_new(n_linked, index_dir, work_dir, out, ids);
	if (err < 0) {
		unlink_linked(index_dir, out, *n_linked);
		*n_linked = 0;
	}
	free(ids);
	return err;
}

void build_commit_unlink(const char *index_dir, const struct build_git_output *out,
			 size_t n_linked)
{
	unlink_linked(index_dir, out, n_linked);
}

int build_entry_of(struct index_repo_entry *e, const struct build_git_output *out)
{
	*e = out->e;
	return entry_branches(e, &out->res);
}

int build_commit(const char *index_dir, const char *work_dir, struct build_git_output *out,
		 const struct index_repo_entry *expect)
{
	const struct index_repo_entry none = { 0 };
	struct index_repo_entry e;
	size_t n_linked = 0;
	int err;

	if (work_dir && (err = build_commit_link(&n_linked, index_dir, work_dir, out, expect)) < 0)
		return err;
	if ((err = build_entry_of(&e, out)) == 0) {
		err = index_commit_entry(index_dir, &e, expect ? expect : &none);
		free(e.branches); /* the names are res's */
	}
	if (err < 0)
		unlink_linked(index_dir, out, n_linked);
	return err;
}
