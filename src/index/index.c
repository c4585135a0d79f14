/*
 * The index directory: MANIFEST (JSON) lists each repository's shard files; LOCK serializes
 * writers (and keeps a reader's MANIFEST read and shard opens from racing a writer's unlinks).
 * See shard.h for the contract and docs/index-format.md for the MANIFEST format.
 *
 * A commit writes the new MANIFEST to a temporary file and renames it over the old one, so a
 * reader sees the old or the new list, never a mix; only then are the replaced shard files
 * unlinked. Readers that mapped them keep their mappings.
 *
 * A killed writer leaves temporary files and shards no MANIFEST lists. Every run that writes
 * shards holds WRITERS shared from before its first file until after its commit; a run that
 * ends with WRITERS to itself (no other writer has files in flight) sweeps the leftovers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "util/bitset.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strv.h"
#include "util/json.h"
#include "util/utf8.h"

#define MANIFEST_NAME "MANIFEST"
#define DAMAGED_NAME "MANIFEST.damaged" /* an unreadable MANIFEST, set aside */
#define LOCK_NAME "LOCK"
#define WRITERS_NAME "WRITERS"
#define TMP_INFIX ".tmp."
#define TMP_RANDOM_LEN 6 /* file_tmp_open's mkostemp XXXXXX */
#define MANIFEST_VERSION 2
#define MANIFEST_VERSION_MIN 1
#define MANIFEST_MAX INDEX_MANIFEST_MAX
#define SHARD_NAME_MAX 255
#define SHARD_SUFFIX ".shard"
#define SAFE_NAME_MAX 64
#define WORK_DIR_NAME "work" /* index_work_dir_new's directories live in dir/work/ */

struct manifest {
	struct index_repo_entry *repos;
	size_t n_repos;
	/*
	 * An open index's MANIFEST (manifest_compact): every name in one block, each shard file's
	 * name once however many repositories list it, and the entries' shards arrays slices of
	 * one array. NULL: each entry owns its strings (a MANIFEST being changed).
	 */
	char *pool;
	char **shard_names;
};

/*
 * What search needs per shard of a repository besides the file: the repository's entry, its
 * documents in the file (all of a shard of one repository, a range of a compound one), the
 * branch mapping and the overlay.
 */
struct shard_info {
	const struct index_repo_entry *entry; /* in the index's manifest */
	size_t file;                          /* index into index.files */
	uint32_t lo, hi;                      /* its documents: [lo, hi) */
	uint32_t *map;                        /* shard branch i -> entry branch, UINT32_MAX if none */
	const struct index_overlay *overlay;  /* this shard's overlay entries, sorted by doc */
	size_t n_overlay;
};

/*
 * DESIGN: "shard i" of the index is a repository's shard as the MANIFEST lists it: a file, or
 * the part of a compound file that holds that repository. Search, authorization and counts work
 * per repository shard, exactly as when every file held one repository; each file is opened
 * (and verified, by the server) once, however many repositories it holds.
 */
struct index {
	char *dir;
	struct shard **shards; /* per repository shard: its file (borrowed from files) */
	struct shard_info *info;
	size_t n_shards;
	struct shard **files;  /* every distinct file, in the order first listed */
	size_t n_files;
	size_t *runs;       /* run g: shards runs[g] .. runs[g + 1] - 1, of one file */
	bool *run_is_plain; /* its documents ascend shard by shard; no shard has branches */
	size_t n_runs;
	struct manifest m;
};

/*
 * SECURITY: a shard name from a MANIFEST is joined to the index directory, opened and, on
 * replacement, unlinked: it must name a file directly inside the directory. No '/', no leading
 * '.' (so neither "." nor ".." nor a hidden or temporary file), no NUL, and the ".shard" suffix
 * (so never MANIFEST, LOCK or a temporary file).
 */
static bool shard_name_ok(const char *s, size_t len)
{
	size_t sfx = sizeof(SHARD_SUFFIX) - 1;

	if (len <= sfx || len > SHARD_NAME_MAX || s[0] == '.')
		return false;
	if (memchr(s, '/', len) || memchr(s, '\0', len))
		return false;
	return memcmp(s + len - sfx, SHARD_SUFFIX, sfx) == 0;
}

static bool repo_name_ok(const char *s, size_t len)
{
	return len > 0 && len <= SHARD_REPO_MAX && !memchr(s, '\0', len) &&
	       utf8_is_valid((const uint8_t *)s, len);
}

/* Frees an entry's git metadata: what a compact manifest's entries still own one by one. */
static void entry_dispose_git(struct index_repo_entry *e)
{
	for (size_t i = 0; i < e->n_branches; i++)
		free(e->branches[i].name);
	for (size_t i = 0; i < e->n_overlay; i++)
		free(e->overlay[i].branches);
	free(e->branches);
	free(e->overlay);
}

static void entry_dispose(struct index_repo_entry *e)
{
	for (size_t i = 0; i < e->n_shards; i++)
		free(e->shards[i]);
	entry_dispose_git(e);
	free(e->shards);
	free(e->name);
	*e = (struct index_repo_entry){ 0 };
}

void index_repo_entry_dispose(struct index_repo_entry *e)
{
	if (e)
		entry_dispose(e);
}

static bool branch_name_ok(const char *s, size_t len)
{
	return len > 0 && len <= SHARD_BRANCH_MAX && !memchr(s, '\0', len) &&
	       utf8_is_valid((const uint8_t *)s, len);
}

static bool commit_ok(const char *s, size_t len)
{
	if (len != 0 && len != 40)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int cmp_overlay(const void *a, const void *b)
{
	const struct index_overlay *x = a, *y = b;

	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	return (x->doc > y->doc) - (x->doc < y->doc);
}

/*
 * Checks (and sorts) an entry's git metadata: unique valid branch names, at most one default,
 * commits in hex, overlay entries naming a listed shard and listed branches (ascending), each
 * document once. The detail names what is wrong; the caller prefixes where.
 */
static int entry_check(struct index_repo_entry *e)
{
	size_t n_default = 0;

	for (size_t i = 0; i < e->n_branches; i++) {
		const struct index_branch *b = &e->branches[i];

		if (!b->name || !branch_name_ok(b->name, strlen(b->name)) ||
		    !commit_ok(b->commit, strlen(b->commit))) {
			error_set("repository \"%s\": branch %zu has an invalid name or commit", e->name,
				  i);
			return TRAWL_EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(e->branches[k].name, b->name) == 0) {
				error_set("repository \"%s\": branch listed twice", e->name);
				return TRAWL_EINVAL;
			}
		n_default += b->is_default;
	}
	if (n_default > 1) {
		error_set("repository \"%s\": %zu default branches", e->name, n_default);
		return TRAWL_EINVAL;
	}
	if (e->n_base > e->n_shards) {
		error_set("repository \"%s\": %zu base shards of %zu", e->name, e->n_base,
			  e->n_shards);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < e->n_overlay; i++) {
		const struct index_overlay *o = &e->overlay[i];

		if (o->shard >= e->n_shards) {
			error_set("repository \"%s\": overlay entry %zu names shard %u of %zu", e->name,
				  i, o->shard, e->n_shards);
			return TRAWL_EINVAL;
		}
		for (size_t k = 0; k < o->n_branches; k++)
			if (o->branches[k] >= e->n_branches ||
			    (k > 0 && o->branches[k] <= o->branches[k - 1])) {
				error_set("repository \"%s\": overlay entry %zu: bad branch list",
					  e->name, i);
				return TRAWL_EINVAL;
			}
	}
	if (e->n_overlay)
		qsort(e->overlay, e->n_overlay, sizeof(*e->overlay), cmp_overlay);
	for (size_t i = 1; i < e->n_overlay; i++)
		if (cmp_overlay(&e->overlay[i - 1], &e->overlay[i]) == 0) {
			error_set("repository \"%s\": overlay names document %u of shard %u twice",
				  e->name, e->overlay[i].doc, e->overlay[i].shard);
			return TRAWL_EINVAL;
		}
	return 0;
}

/* "branches": [{"name": ..., "commit": ..., "default": ...}] */
static int parse_branches(struct index_repo_entry *e, json_t *arr)
{
	e->branches = calloc(json_array_size(arr) + 1, sizeof(*e->branches));
	if (!e->branches)
		return error_nomem(NULL);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *b = json_array_get(arr, i), *nm = json_object_get(b, "name"),
		       *commit = json_object_get(b, "commit"), *def = json_object_get(b, "default");
		struct index_branch *ib = &e->branches[i];

		if (!json_is_string(nm) || (commit && !json_is_string(commit)) ||
		    (def && !json_is_boolean(def)) ||
		    !branch_name_ok(json_string_value(nm), json_string_length(nm)) ||
		    (commit && json_string_length(commit) >= sizeof(ib->commit))) {
			error_set("repository \"%s\": branch %zu needs a \"name\" and may have a "
				  "\"commit\" and a \"default\"", e->name, i);
			return TRAWL_EINVAL;
		}
		if (!(ib->name = strdup(json_string_value(nm))))
			return error_nomem(NULL);
		e->n_branches++;
		if (commit)
			memcpy(ib->commit, json_string_value(commit), json_string_length(commit) + 1);
		ib->is_default = def && json_is_true(def);
	}
	return 0;
}

/* "overlay": [{"shard": FILE, "doc": N, "branches": [i, ...]}] */
static int parse_overlay(struct index_repo_entry *e, json_t *arr)
{
	e->overlay = calloc(json_array_size(arr) + 1, sizeof(*e->overlay));
	if (!e->overlay)
		return error_nomem(NULL);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i), *sh = json_object_get(o, "shard"),
		       *doc = json_object_get(o, "doc"), *br = json_object_get(o, "branches");
		struct index_overlay *io = &e->overlay[i];
		size_t k;

		if (!json_is_string(sh) || !json_is_integer(doc) || !json_is_array(br) ||
		    json_integer_value(doc) < 0 || json_integer_value(doc) > UINT32_MAX) {
			error_set("repository \"%s\": overlay entry %zu needs \"shard\", \"doc\" and "
				  "\"branches\"", e->name, i);
			return TRAWL_EINVAL;
		}
		for (k = 0; k < e->n_shards && strcmp(e->shards[k], json_string_value(sh)); k++)
			;
		io->shard = (uint32_t)k; /* k == n_shards is refused by entry_check */
		io->doc = (uint32_t)json_integer_value(doc);
		io->branches = calloc(json_array_size(br) + 1, sizeof(*io->branches));
		e->n_overlay++;
		if (!io->branches)
			return error_nomem(NULL);
		for (size_t j = 0; j < json_array_size(br); j++) {
			json_t *x = json_array_get(br, j);

			if (!json_is_integer(x) || json_integer_value(x) < 0 ||
			    json_integer_value(x) > UINT32_MAX) {
				error_set("repository \"%s\": overlay entry %zu: bad branch", e->name,
					  i);
				return TRAWL_EINVAL;
			}
			io->branches[io->n_branches++] = (uint32_t)json_integer_value(x);
		}
	}
	return 0;
}

/* The optional git keys of an entry: branches, overlay, base_shards, max_file_size. */
static int parse_git_keys(struct index_repo_entry *e, const char *where, json_t *r)
{
	json_t *branches = json_object_get(r, "branches"), *overlay = json_object_get(r, "overlay");
	json_t *base = json_object_get(r, "base_shards"), *mfs = json_object_get(r, "max_file_size");
	int err = 0;

	e->n_base = e->n_shards;
	if ((branches && !json_is_array(branches)) || (overlay && !json_is_array(overlay)) ||
	    (base && (!json_is_integer(base) || json_integer_value(base) < 0)) ||
	    (mfs && (!json_is_integer(mfs) || json_integer_value(mfs) < 0))) {
		error_set("repository \"%s\": \"branches\" and \"overlay\" must be arrays, "
			  "\"base_shards\" and \"max_file_size\" numbers", e->name);
		err = TRAWL_EINVAL;
	}
	if (err == 0 && base)
		e->n_base = (size_t)json_integer_value(base);
	if (err == 0 && mfs)
		e->max_file_size = (uint64_t)json_integer_value(mfs);
	if (err == 0 && branches)
		err = parse_branches(e, branches);
	if (err == 0 && overlay)
		err = parse_overlay(e, overlay);
	if (err == 0)
		err = entry_check(e);
	if (err < 0) {
		error_prefix("%s", where);
		return err == TRAWL_ENOMEM ? err : TRAWL_ECORRUPT;
	}
	return 0;
}

static void manifest_dispose(struct manifest *m)
{
	for (size_t i = 0; i < m->n_repos; i++)
		if (m->pool)
			entry_dispose_git(&m->repos[i]);
		else
			entry_dispose(&m->repos[i]);
	free(m->repos);
	free(m->pool);
	free(m->shard_names);
	*m = (struct manifest){ 0 };
}

static int parse_entry(struct manifest *m, const char *where, json_t *r, size_t i)
{
	struct index_repo_entry *e = &m->repos[i];
	json_t *name = json_object_get(r, "name"), *shards = json_object_get(r, "shards");

	if (!json_is_object(r) || !json_is_string(name) || !json_is_array(shards)) {
		error_set("%s: repository %zu needs a \"name\" string and a \"shards\" array", where,
			  i);
		return TRAWL_ECORRUPT;
	}
	if (!repo_name_ok(json_string_value(name), json_string_length(name))) {
		error_set("%s: repository %zu has an invalid name", where, i);
		return TRAWL_ECORRUPT;
	}
	e->name = strdup(json_string_value(name));
	e->shards = calloc(json_array_size(shards) + 1, sizeof(*e->shards));
	if (!e->name || !e->shards)
		return error_nomem(NULL);
	for (size_t j = 0; j < json_array_size(shards); j++) {
		json_t *s = json_array_get(shards, j);

		if (!json_is_string(s) || !shard_name_ok(json_string_value(s), json_string_length(s))) {
			error_set("%s: repository \"%s\": shard %zu is not a plain file name ending in "
				  "\"%s\"", where, e->name, j, SHARD_SUFFIX);
			return TRAWL_ECORRUPT;
		}
		if (!(e->shards[j] = strdup(json_string_value(s))))
			return error_nomem(NULL);
		e->n_shards++;
	}
	return parse_git_keys(e, where, r);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first string of v[0..n) that appears twice (v is sorted in place), or NULL. */
static const char *first_dup(const char **v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1], v[i]) == 0)
			return v[i];
	return NULL;
}

/* Every shard listing of a MANIFEST: a file name and the repository listing it. */
struct listing {
	const char *file;
	size_t repo;  /* index into manifest.repos */
	size_t shard; /* index into that entry's shards */
};

static int cmp_listing(const void *a, const void *b)
{
	const struct listing *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : (x->repo > y->repo) - (x->repo < y->repo);
}

/* The listings of m sorted by file, then repository, in *out (caller frees). ENOMEM. */
static int listings_sorted(struct listing **out, size_t *n, const struct manifest *m)
{
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < m->n_repos; i++)
		*n += m->repos[i].n_shards;
	if (!(*out = malloc((*n ? *n : 1) * sizeof(**out))))
		return error_nomem(NULL);
	for (size_t i = 0; i < m->n_repos; i++)
		for (size_t j = 0; j < m->repos[i].n_shards; j++)
			(*out)[k++] = (struct listing){ m->repos[i].shards[j], i, j };
	qsort(*out, *n, sizeof(**out), cmp_listing);
	return 0;
}

/* Whether the sorted listings v[0..n) hold file (by binary search). */
static bool listings_have(const struct listing *v, size_t n, const char *file)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].file, file);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * No repository listed twice, and no repository listing a shard file twice: sorted once,
 * neighbours compared, so a MANIFEST of n repositories costs n log n here (a check per entry
 * against every other made each commit of a run over 5,000 repositories cost more than its
 * indexing). A compound file is listed by each repository it holds; index_open checks that it
 * holds them. With out non-NULL, the sorted listings are handed on in *out (caller frees).
 */
static int manifest_check_unique(struct listing **out, size_t *n_out, const struct manifest *m,
				 const char *where)
{
	struct listing *l = NULL;
	const char **v, *dup;
	size_t n;
	int err = 0;

	if (!(v = malloc((m->n_repos + 1) * sizeof(*v))))
		return error_nomem(NULL);
	for (size_t i = 0; i < m->n_repos; i++)
		v[i] = m->repos[i].name;
	if ((dup = first_dup(v, m->n_repos))) {
		error_set("%s: repository \"%s\" listed twice", where, dup);
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if ((err = listings_sorted(&l, &n, m)) < 0)
		goto out;
	for (size_t i = 1; i < n; i++)
		if (cmp_listing(&l[i - 1], &l[i]) == 0) {
			error_set("%s: repository \"%s\" lists shard %s twice", where,
				  m->repos[l[i].repo].name, l[i].file);
			err = TRAWL_ECORRUPT;
			break;
		}
	if (err == 0 && out) {
		*out = l;
		*n_out = n;
		l = NULL;
	}
out:
	free(l);
	free(v);
	return err;
}

/* Parses a MANIFEST's text into m; with l non-NULL, its sorted listings in *l (caller frees). */
static int manifest_parse(struct manifest *m, struct listing **l, size_t *n_l, const char *where,
			  const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root, *version, *repos;
	unsigned n_failed = json_alloc_failures();
	int err = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	/* Out of memory, jansson may misreport a syntax error or drop a byte of a string. */
	if (json_alloc_failures() != n_failed) {
		json_decref(root);
		return error_nomem("reading the MANIFEST");
	}
	if (!root) {
		error_set("%s: not valid JSON: line %d: %s", where, jerr.line, jerr.text);
		return TRAWL_ECORRUPT;
	}
	version = json_object_get(root, "version");
	repos = json_object_get(root, "repos");
	if (!json_is_integer(version) || !json_is_array(repos)) {
		error_set("%s: needs a \"version\" number and a \"repos\" array", where);
		err = TRAWL_ECORRUPT;
		goto out;
	}
	if (json_integer_value(version) < MANIFEST_VERSION_MIN ||
	    json_integer_value(version) > MANIFEST_VERSION) {
		if (json_integer_value(version) > MANIFEST_VERSION)
			error_set("%s: version %lld is newer than this trawl supports (%d)", where,
				  (long long)json_integer_value(version), MANIFEST_VERSION);
		else
			error_set("%s: unsupported version %lld", where,
				  (long long)json_integer_value(version));
		err = TRAWL_ECORRUPT;
		goto out;
	}
	m->repos = calloc(json_array_size(repos) + 1, sizeof(*m->repos));
	if (!m->repos) {
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(repos); i++) {
		m->n_repos++; /* so that dispose frees a half-parsed entry */
		if ((err = parse_entry(m, where, json_array_get(repos, i), i)) < 0)
			goto out;
	}
	err = manifest_check_unique(l, n_l, m, where);
out:
	json_decref(root);
	if (err < 0)
		manifest_dispose(m);
	return err;
}

/* Reads dir/MANIFEST (and with l non-NULL, manifest_parse's listings). ENOTFOUND: none. */
static int manifest_read_listed(struct manifest *m, struct listing **l, size_t *n_l, const char *dir)
{
	char *path = file_join(dir, MANIFEST_NAME), *text = NULL;
	size_t len;
	int err;

	*m = (struct manifest){ 0 };
	if (!path)
		return error_nomem(NULL);
	err = file_read_all(&text, &len, path, MANIFEST_MAX);
	if (err == TRAWL_ENOTFOUND)
		error_set("%s: no trawl index here (no %s)", dir, MANIFEST_NAME);
	else if (err == 0)
		err = manifest_parse(m, l, n_l, path, text, len);
	free(text);
	free(path);
	return err;
}

/* Reads dir/MANIFEST. ENOTFOUND when there is none. */
static int manifest_read(struct manifest *m, const char *dir)
{
	return manifest_read_listed(m, NULL, NULL, dir);
}

/*
 * Moves m's names into one block (m->pool), each shard file's name once however many
 * repositories list it, and the entries' shards arrays into slices of one array: a MANIFEST of
 * 50,000 repositories in ten compound files held 150,000 small blocks for as long as the index
 * was open. l[0..n_l): m's listings, sorted (listings_sorted); they name the new strings
 * after. ENOMEM (m unchanged).
 */
static int manifest_compact(struct manifest *m, struct listing *l, size_t n_l)
{
	size_t bytes = 0, at = 0, *first = NULL;
	char *pool = NULL, **names = NULL;
	char *cur = NULL;
	int err = 0;

	for (size_t i = 0; i < m->n_repos; i++)
		bytes += strlen(m->repos[i].name) + 1;
	for (size_t i = 0; i < n_l; i++)
		if (i == 0 || strcmp(l[i - 1].file, l[i].file) != 0)
			bytes += strlen(l[i].file) + 1;
	if (!(pool = malloc(bytes ? bytes : 1)) ||
	    !(names = malloc((n_l ? n_l : 1) * sizeof(*names))) ||
	    !(first = malloc((m->n_repos ? m->n_repos : 1) * sizeof(*first)))) {
		err = error_nomem(NULL);
		goto out;
	}
	/* Entry i's shards become names[first[i] ..], in its order. */
	for (size_t i = 0, k = 0; i < m->n_repos; k += m->repos[i++].n_shards)
		first[i] = k;
	for (size_t i = 0; i < n_l; i++) {
		if (i == 0 || strcmp(l[i - 1].file, l[i].file) != 0) {
			size_t len = strlen(l[i].file) + 1;

			memcpy(pool + at, l[i].file, len);
			cur = pool + at;
			at += len;
		}
		names[first[l[i].repo] + l[i].shard] = cur;
		l[i].file = cur;
	}
	for (size_t i = 0; i < m->n_repos; i++) {
		struct index_repo_entry *e = &m->repos[i];
		size_t len = strlen(e->name) + 1;

		memcpy(pool + at, e->name, len);
		free(e->name);
		e->name = pool + at;
		at += len;
		for (size_t j = 0; j < e->n_shards; j++)
			free(e->shards[j]);
		free(e->shards);
		e->shards = names + first[i];
	}
	m->pool = pool;
	m->shard_names = names;
	pool = NULL;
	names = NULL;
out:
	free(first);
	free(names);
	free(pool);
	return err;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : error_nomem(NULL);
}

/* The git keys of an entry (none for a directory: no branches, no overlay, all base). */
static int write_git_keys(json_t *r, const struct index_repo_entry *e)
{
	json_t *branches, *overlay;
	int err;

	if (e->n_branches == 0 && e->n_overlay == 0 && e->n_base == e->n_shards &&
	    !e->max_file_size)
		return 0;
	if ((err = set_new(r, "base_shards", json_integer((json_int_t)e->n_base))) < 0 ||
	    (err = set_new(r, "max_file_size", json_integer((json_int_t)e->max_file_size))) < 0 ||
	    (err = set_new(r, "branches", branches = json_array())) < 0 ||
	    (err = set_new(r, "overlay", overlay = json_array())) < 0)
		return err;
	for (size_t i = 0; i < e->n_branches; i++) {
		const struct index_branch *b = &e->branches[i];
		json_t *o = json_object();

		if (!o || json_array_append_new(branches, o) < 0 ||
		    (err = set_new(o, "name", json_string(b->name))) < 0 ||
		    (err = set_new(o, "commit", json_string(b->commit))) < 0 ||
		    (err = set_new(o, "default", json_boolean(b->is_default))) < 0)
			return error_nomem(NULL);
	}
	for (size_t i = 0; i < e->n_overlay; i++) {
		const struct index_overlay *ov = &e->overlay[i];
		json_t *o = json_object(), *br = json_array();

		if (!o || json_array_append_new(overlay, o) < 0 ||
		    (err = set_new(o, "shard", json_string(e->shards[ov->shard]))) < 0 ||
		    (err = set_new(o, "doc", json_integer(ov->doc))) < 0 ||
		    (err = set_new(o, "branches", br)) < 0)
			return error_nomem(NULL);
		for (size_t k = 0; k < ov->n_branches; k++)
			if (json_array_append_new(br, json_integer(ov->branches[k])) < 0)
				return error_nomem(NULL);
	}
	return 0;
}

/* m as a MANIFEST's text in *text (caller frees). ENOMEM. */
static int manifest_dump(char **text, const struct manifest *m)
{
	/*
	 * jansson out of memory while dumping does not always say so: its object dump ignores a
	 * key's failed write and goes on, leaving a damaged text with no error (a MANIFEST then
	 * written for good). Counted as while reading (json_alloc_failures): a change is ENOMEM.
	 */
	unsigned n_failed = json_alloc_failures();
	json_t *root = json_object(), *repos = json_array();
	int err = 0;

	*text = NULL;
	if (!root || !repos || json_object_set_new(root, "version",
						   json_integer(MANIFEST_VERSION)) < 0) {
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t i = 0; i < m->n_repos; i++) {
		const struct index_repo_entry *e = &m->repos[i];
		json_t *r = json_object(), *shards = json_array();

		if (!r || !shards || json_array_append_new(repos, r) < 0) {
			json_decref(r);
			json_decref(shards);
			err = error_nomem(NULL);
			goto out;
		}
		if (json_object_set_new(r, "name", json_string(e->name)) < 0) {
			json_decref(shards); /* not yet r's */
			err = error_nomem(NULL);
			goto out;
		}
		if (json_object_set_new(r, "shards", shards) < 0) {
			err = error_nomem(NULL);
			goto out;
		}
		for (size_t j = 0; j < e->n_shards; j++)
			if (json_array_append_new(shards, json_string(e->shards[j])) < 0) {
				err = error_nomem(NULL);
				goto out;
			}
		if ((err = write_git_keys(r, e)) < 0)
			goto out;
	}
	if (json_object_set(root, "repos", repos) < 0 || !(*text = json_dumps(root, JSON_INDENT(2))))
		err = error_nomem(NULL);
	else if (json_alloc_failures() != n_failed)
		err = error_nomem("writing the MANIFEST");
out:
	if (err < 0) {
		free(*text);
		*text = NULL;
	}
	json_decref(repos);
	json_decref(root);
	return err;
}

static int manifest_write(const struct manifest *m, const char *dir)
{
	char *path = file_join(dir, MANIFEST_NAME), *text = NULL;
	int err;

	if (!path)
		return error_nomem(NULL);
	if ((err = manifest_dump(&text, m)) == 0)
		err = file_write_atomic(path, text, strlen(text));
	free(text);
	free(path);
	return err;
}

int index_entry_dump(char **text, const struct index_repo_entry *e)
{
	const struct manifest m = { .repos = (struct index_repo_entry *)e, .n_repos = e ? 1 : 0 };

	return manifest_dump(text, &m);
}

/* Moves repository name's entry out of m into *out. ENOTFOUND (where names the MANIFEST). */
static int manifest_take(struct index_repo_entry *out, struct manifest *m, const char *where,
			 const char *name)
{
	for (size_t i = 0; i < m->n_repos; i++)
		if (strcmp(m->repos[i].name, name) == 0) {
			*out = m->repos[i];
			m->repos[i] = m->repos[--m->n_repos]; /* moved out: dispose must not free it */
			return 0;
		}
	error_set("%s: no repository \"%s\" in the index", where, name);
	return TRAWL_ENOTFOUND;
}

int index_entry_parse(struct index_repo_entry *out, const char *text, size_t len,
		      const char *where, const char *name)
{
	struct manifest m = { 0 };
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = manifest_parse(&m, NULL, NULL, where, text, len)) < 0)
		return err;
	err = manifest_take(out, &m, where, name);
	manifest_dispose(&m);
	return err;
}

/*
 * Opens dir/name and takes a flock of the given kind. With create false, a missing lock file
 * gives *fd = -1 and success (a read-only index that was never written by this version). With
 * LOCK_NB in kind, a lock held elsewhere is TRAWL_ELIMIT without a message.
 */
static int lock_take_file(int *fd, const char *dir, const char *name, int kind, bool create)
{
	char *path = file_join(dir, name);
	int err = 0;

	*fd = -1;
	if (!path)
		return error_nomem(NULL);
	*fd = create ? open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)
		     : open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0) {
		if (!create && errno == ENOENT)
			goto out;
		error_set("%s: cannot open: %s", path, strerror(errno));
		err = errno == ENOENT || errno == ENOTDIR ? TRAWL_ENOTFOUND : TRAWL_EIO;
		goto out;
	}
	while (flock(*fd, kind) < 0) {
		if (errno == EINTR)
			continue;
		err = errno == EWOULDBLOCK ? TRAWL_ELIMIT : TRAWL_EIO;
		if (err == TRAWL_EIO)
			error_set("%s: cannot lock: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		break;
	}
out:
	free(path);
	return err;
}

static int lock_take(int *fd, const char *dir, int kind, bool create)
{
	return lock_take_file(fd, dir, LOCK_NAME, kind, create);
}

static void lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/*
 * Repository shard si's mapping from its file's branch table to its repository's branches, and
 * its slice of the overlay (k: its index in the entry's shards). ECORRUPT when the overlay
 * names a document the repository does not have there.
 */
static int info_init(struct shard_info *si, const struct index_repo_entry *e, size_t k,
		     const struct shard *sh)
{
	uint32_t nb = shard_n_branches(sh);
	size_t lo = 0;

	si->entry = e;
	/* None for a shard without branches (a directory's: 50,000 of them in a compound run). */
	if (nb && !(si->map = calloc(nb, sizeof(*si->map))))
		return error_nomem(NULL);
	for (uint32_t b = 0; b < nb; b++) {
		size_t len;
		const char *name = shard_branch(sh, b, &len);

		si->map[b] = UINT32_MAX; /* a branch the repository no longer lists */
		for (size_t j = 0; j < e->n_branches; j++)
			if (strlen(e->branches[j].name) == len &&
			    memcmp(e->branches[j].name, name, len) == 0) {
				si->map[b] = (uint32_t)j;
				break;
			}
	}
	while (lo < e->n_overlay && e->overlay[lo].shard < k)
		lo++;
	si->overlay = e->overlay ? e->overlay + lo : NULL; /* NULL + 0 is undefined */
	while (lo + si->n_overlay < e->n_overlay && e->overlay[lo + si->n_overlay].shard == k) {
		uint32_t doc = e->overlay[lo + si->n_overlay].doc;

		/* SECURITY: never another repository's document of a compound shard. */
		if (doc < si->lo || doc >= si->hi) {
			error_set("%s: overlay of repository \"%s\" names document %u of %s (its "
				  "documents there: %u to %u)", MANIFEST_NAME, e->name, doc,
				  e->shards[k], si->lo, si->hi);
			return TRAWL_ECORRUPT;
		}
		si->n_overlay++;
	}
	return 0;
}

/* The distinct file names of sorted listings, in *out (borrowed names; caller frees). */
static int distinct_files(const char ***out, size_t *n, const struct listing *l, size_t n_l)
{
	*n = 0;
	if (!(*out = malloc((n_l ? n_l : 1) * sizeof(**out))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n_l; i++)
		if (i == 0 || strcmp(l[i - 1].file, l[i].file) != 0)
			(*out)[(*n)++] = l[i].file;
	return 0;
}

/* Opens dir/file as ix's next distinct file. */
static int open_file(struct index *ix, const char *dir, const char *file)
{
	char *path = file_join(dir, file);
	int err;

	if (!path)
		return error_nomem(NULL);
	err = shard_open(&ix->files[ix->n_files], path);
	free(path);
	if (err == 0)
		ix->n_files++;
	return err;
}

/*
 * Repository e's shard k, in file f: its documents there, checked. SECURITY: search authorizes
 * by the repository a document is in, so the file must hold e (its own name, or a range of a
 * compound file's REPOS).
 */
static int add_repo_shard(struct index *ix, const struct index_repo_entry *e, size_t k,
			  size_t f)
{
	struct shard *sh = ix->files[f];
	struct shard_info *si = &ix->info[ix->n_shards];

	if (!shard_repo_docs(sh, e->name, &si->lo, &si->hi)) {
		if (shard_n_repos(sh))
			error_set("%s: a compound shard without repository \"%s\", which %s lists "
				  "it under", shard_file(sh), e->name, MANIFEST_NAME);
		else
			error_set("%s: holds repository \"%s\" but %s lists it under \"%s\"",
				  shard_file(sh), shard_repo(sh), MANIFEST_NAME, e->name);
		return TRAWL_ECORRUPT;
	}
	si->file = f;
	ix->shards[ix->n_shards++] = sh;
	return info_init(si, e, k, sh);
}

/*
 * The runs of consecutive shards in one file (a compound file's repositories, as its MANIFEST
 * entries list them), worked out once here so that a query does not walk every shard to find
 * them.
 */
static int runs_init(struct index *ix)
{
	void *p;

	if (!(ix->runs = malloc((ix->n_shards + 1) * sizeof(*ix->runs))) ||
	    !(ix->run_is_plain =
		      malloc((ix->n_shards ? ix->n_shards : 1) * sizeof(*ix->run_is_plain))))
		return error_nomem(NULL);
	/* Shard i is entry e's shard j, as index_open added them. */
	for (size_t r = 0, i = 0; r < ix->m.n_repos; r++) {
		const struct index_repo_entry *e = &ix->m.repos[r];

		for (size_t j = 0; j < e->n_shards && i < ix->n_shards; j++, i++) {
			const struct shard_info *si = &ix->info[i];

			if (i == 0 || si->file != ix->info[i - 1].file) {
				ix->runs[ix->n_runs] = i;
				ix->run_is_plain[ix->n_runs++] = true;
			} else if (si->lo < ix->info[i - 1].hi) {
				ix->run_is_plain[ix->n_runs - 1] = false;
			}
			if (e->n_branches)
				ix->run_is_plain[ix->n_runs - 1] = false;
		}
	}
	ix->runs[ix->n_runs] = ix->n_shards;
	/* A few runs of 50,000 shards in ten files: keep only what they need. */
	if ((p = realloc(ix->runs, (ix->n_runs + 1) * sizeof(*ix->runs))))
		ix->runs = p;
	if ((p = realloc(ix->run_is_plain,
			 (ix->n_runs ? ix->n_runs : 1) * sizeof(*ix->run_is_plain))))
		ix->run_is_plain = p;
	return 0;
}

/*
 * Opens the files ix->m lists (l[0..n_l): its sorted listings, which name the compacted strings
 * after; under the caller's shared lock) and sets up its shards and runs.
 */
static int open_listed(struct index *ix, const char *dir, struct listing *l, size_t n_l)
{
	const char **names = NULL;
	size_t *file_of = NULL, n_names = 0;
	int err;

	if ((err = manifest_compact(&ix->m, l, n_l)) < 0 ||
	    (err = distinct_files(&names, &n_names, l, n_l)) < 0)
		goto out;
	if (!(ix->dir = strdup(dir)) ||
	    !(ix->shards = calloc(n_l ? n_l : 1, sizeof(*ix->shards))) ||
	    !(ix->info = calloc(n_l ? n_l : 1, sizeof(*ix->info))) ||
	    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	    !(ix->files = calloc(n_names ? n_names : 1, sizeof(*ix->files))) ||
	    !(file_of = malloc((n_names ? n_names : 1) * sizeof(*file_of)))) {
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t u = 0; u < n_names; u++)
		file_of[u] = SIZE_MAX;
	for (size_t i = 0; i < ix->m.n_repos; i++) {
		const struct index_repo_entry *e = &ix->m.repos[i];

		for (size_t j = 0; j < e->n_shards; j++) {
			/* manifest_compact set every listed name (one per listing of l): */
			/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
			size_t u = strv_find(names, n_names, e->shards[j]);

			if (u == n_names) { /* every listed name is among the distinct ones */
				error_set("%s: internal error: shard %s not found", dir, e->shards[j]);
				err = TRAWL_EIO;
				goto out;
			}
			if (file_of[u] == SIZE_MAX) {
				if ((err = open_file(ix, dir, e->shards[j])) < 0)
					goto out;
				file_of[u] = ix->n_files - 1;
			}
			if ((err = add_repo_shard(ix, e, j, file_of[u])) < 0)
				goto out;
		}
	}
	err = runs_init(ix);
out:
	free(file_of);
	free((void *)names);
	return err;
}

static int new_entry(struct index_repo_entry *e, const struct index_repo_entry *src);

/* index_open over m (taken: disposed with the index) instead of dir's MANIFEST when not NULL. */
static int open_index(struct index **out, const char *dir, struct manifest *m)
{
	struct index *ix = calloc(1, sizeof(*ix));
	struct listing *l = NULL;
	size_t n_l = 0;
	int lock = -1, err;

	*out = NULL;
	if (!ix) {
		if (m)
			manifest_dispose(m);
		return error_nomem(NULL);
	}
	if (m)
		ix->m = *m;
	/* A shared lock: a concurrent commit cannot unlink the files we are about to open. */
	if ((err = lock_take(&lock, dir, LOCK_SH, false)) == 0 &&
	    (err = m ? listings_sorted(&l, &n_l, &ix->m)
		     : manifest_read_listed(&ix->m, &l, &n_l, dir)) == 0 &&
	    (err = open_listed(ix, dir, l, n_l)) == 0) {
		*out = ix;
		ix = NULL;
	}
	free(l);
	lock_release(lock);
	index_close(ix);
	return err;
}

int index_open(struct index **out, const char *dir)
{
	return open_index(out, dir, NULL);
}

int index_open_entry(struct index **out, const char *dir, const struct index_repo_entry *e)
{
	struct manifest m = { .repos = calloc(2, sizeof(*m.repos)), .n_repos = 0 };
	int err;

	*out = NULL;
	if (!m.repos)
		return error_nomem(NULL);
	m.n_repos = 1;
	if ((err = new_entry(&m.repos[0], e)) < 0) {
		manifest_dispose(&m);
		return err;
	}
	return open_index(out, dir, &m);
}

void index_close(struct index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_files; i++)
		shard_close(ix->files[i]);
	for (size_t i = 0; i < ix->n_shards; i++)
		free(ix->info[i].map);
	free(ix->files);
	free(ix->shards);
	free(ix->info);
	free(ix->runs);
	free(ix->run_is_plain);
	free(ix->dir);
	manifest_dispose(&ix->m);
	free(ix);
}

size_t index_n_shards(const struct index *ix)
{
	return ix->n_shards;
}

struct shard *index_shard(const struct index *ix, size_t i)
{
	return i < ix->n_shards ? ix->shards[i] : NULL;
}

const struct index_repo_entry *index_shard_entry(const struct index *ix, size_t i)
{
	return i < ix->n_shards ? ix->info[i].entry : NULL;
}

const char *index_shard_repo(const struct index *ix, size_t i)
{
	return ix->info[i].entry->name;
}

void index_shard_docs(const struct index *ix, size_t i, uint32_t *lo, uint32_t *hi)
{
	*lo = ix->info[i].lo;
	*hi = ix->info[i].hi;
}

size_t index_shard_file(const struct index *ix, size_t i)
{
	return ix->info[i].file;
}

size_t index_n_files(const struct index *ix)
{
	return ix->n_files;
}

struct shard *index_file(const struct index *ix, size_t f)
{
	return f < ix->n_files ? ix->files[f] : NULL;
}

size_t index_n_runs(const struct index *ix)
{
	return ix->n_runs;
}

const size_t *index_runs(const struct index *ix)
{
	return ix->runs;
}

bool index_run_is_plain(const struct index *ix, size_t g)
{
	return g < ix->n_runs && ix->run_is_plain[g];
}

size_t index_run_find(const struct index *ix, size_t first, size_t end, uint32_t doc)
{
	while (first < end) {
		size_t mid = first + (end - first) / 2;

		if (ix->info[mid].hi <= doc)
			first = mid + 1;
		else
			end = mid;
	}
	return first;
}

/* The overlay record of document doc of shard i, NULL when the overlay does not name it. */
static const struct index_overlay *overlay_find(const struct shard_info *si, uint32_t doc)
{
	size_t lo = 0, hi = si->n_overlay;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (si->overlay[mid].doc == doc)
			return &si->overlay[mid];
		if (si->overlay[mid].doc < doc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void index_doc_branches(uint64_t *set, size_t n_words, const struct index *ix, size_t i,
			uint32_t doc, const struct shard_doc *d)
{
	const struct shard_info *si = &ix->info[i];
	const struct index_overlay *o = overlay_find(si, doc);

	bitset_clear_all(set, n_words);
	if (o) {
		for (size_t k = 0; k < o->n_branches; k++)
			bitset_set(set, n_words, o->branches[k]);
		return;
	}
	for (size_t byte = 0; byte < d->bset_len; byte++) {
		uint8_t bits = d->bset[byte];

		while (bits) {
			uint32_t b = (uint32_t)(byte * 8 + (size_t)__builtin_ctz(bits)), r = si->map[b];

			bits &= (uint8_t)(bits - 1);
			if (r != UINT32_MAX)
				bitset_set(set, n_words, r);
		}
	}
}

bool index_doc_is_live(const struct index *ix, size_t i, uint32_t doc, const struct shard_doc *d)
{
	const struct shard_info *si = &ix->info[i];
	const struct index_overlay *o;

	if (index_shard_entry(ix, i)->n_branches == 0)
		return true; /* a directory: no branches, no overlay */
	if ((o = overlay_find(si, doc)))
		return o->n_branches > 0;
	for (size_t byte = 0; byte < d->bset_len; byte++)
		for (uint8_t bits = d->bset[byte]; bits; bits &= (uint8_t)(bits - 1))
			if (si->map[byte * 8 + (size_t)__builtin_ctz(bits)] != UINT32_MAX)
				return true;
	return false;
}

int index_read_repo(struct index_repo_entry *out, const char *dir, const char *name)
{
	struct manifest m = { 0 };
	int lock = -1, err;

	*out = (struct index_repo_entry){ 0 };
	if ((err = lock_take(&lock, dir, LOCK_SH, false)) == 0 &&
	    (err = manifest_read(&m, dir)) == 0)
		err = manifest_take(out, &m, dir, name);
	manifest_dispose(&m);
	lock_release(lock);
	return err;
}

int index_read_repos(struct index_repo_entry **out, size_t *n, const char *dir)
{
	struct manifest m = { 0 };
	int lock = -1, err;

	*out = NULL;
	*n = 0;
	if ((err = lock_take(&lock, dir, LOCK_SH, false)) == 0 &&
	    (err = manifest_read(&m, dir)) == 0) {
		*out = m.repos;
		*n = m.n_repos;
		m = (struct manifest){ 0 }; /* moved out */
	}
	manifest_dispose(&m);
	lock_release(lock);
	return err;
}

int index_set_aside_damaged(const char *dir)
{
	struct manifest m = { 0 };
	char *path = NULL, *aside = NULL;
	int lock = -1, err;

	if ((err = lock_take(&lock, dir, LOCK_EX, false)) < 0)
		goto out;
	if ((err = manifest_read(&m, dir)) != TRAWL_ECORRUPT) {
		/* Readable, or no index yet: nothing to set aside; other errors are the caller's. */
		err = err == TRAWL_ENOTFOUND ? 0 : err;
		goto out;
	}
	if (!(path = file_join(dir, MANIFEST_NAME)) || !(aside = file_join(dir, DAMAGED_NAME))) {
		err = error_nomem(NULL);
		goto out;
	}
	if (rename(path, aside) < 0) {
		error_set("%s: cannot rename to %s: %s", path, DAMAGED_NAME, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	err = 1;
out:
	manifest_dispose(&m);
	free(aside);
	free(path);
	lock_release(lock);
	return err;
}

/* Copies src's git metadata (branches, overlay, base, options) into e. */
static int copy_git_keys(struct index_repo_entry *e, const struct index_repo_entry *src)
{
	e->n_base = src->n_base;
	e->max_file_size = src->max_file_size;
	e->branches = calloc(src->n_branches + 1, sizeof(*e->branches));
	e->overlay = calloc(src->n_overlay + 1, sizeof(*e->overlay));
	if (!e->branches || !e->overlay)
		return error_nomem(NULL);
	for (size_t i = 0; i < src->n_branches; i++) {
		e->branches[i] = src->branches[i];
		if (!(e->branches[i].name = strdup(src->branches[i].name)))
			return error_nomem(NULL);
		e->n_branches++;
	}
	for (size_t i = 0; i < src->n_overlay; i++) {
		const struct index_overlay *o = &src->overlay[i];
		struct index_overlay *c = &e->overlay[i];

		*c = *o;
		c->branches = malloc((o->n_branches + 1) * sizeof(*c->branches));
		e->n_overlay++;
		if (!c->branches) {
			c->n_branches = 0;
			return error_nomem(NULL);
		}
		if (o->n_branches)
			memcpy(c->branches, o->branches, o->n_branches * sizeof(*c->branches));
	}
	if (entry_check(e) < 0)
		return TRAWL_EINVAL;
	return 0;
}

/* Builds the new entry from src in *e. EINVAL for a bad or duplicate file name. */
static int new_entry(struct index_repo_entry *e, const struct index_repo_entry *src)
{
	const char *name = src->name;
	char *const *files = src->shards;
	size_t n_files = src->n_shards;

	*e = (struct index_repo_entry){ 0 };
	e->name = strdup(name);
	e->shards = calloc(n_files + 1, sizeof(*e->shards));
	if (!e->name || !e->shards)
		return error_nomem(NULL);
	for (size_t i = 0; i < n_files; i++) {
		if (!shard_name_ok(files[i], strlen(files[i]))) {
			error_set("invalid shard file name \"%s\"", files[i]);
			return TRAWL_EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(files[j], files[i]) == 0) {
				error_set("shard file %s given twice", files[i]);
				return TRAWL_EINVAL;
			}
		if (!(e->shards[i] = strdup(files[i])))
			return error_nomem(NULL);
		e->n_shards++;
	}
	return copy_git_keys(e, src);
}

/*
 * Whether the current entry (NULL when absent) is expect: its shards, branches (names, commits,
 * the default) and overlay. Shards and commits alone would let a commit over another indexer's
 * that only renamed a branch or changed the overlay bring back what it changed.
 */
static bool entry_unchanged(const struct index_repo_entry *cur,
			    const struct index_repo_entry *expect)
{
	if (!cur)
		return expect->n_shards == 0 && !expect->name;
	if (cur->n_shards != expect->n_shards || cur->n_overlay != expect->n_overlay ||
	    cur->n_branches != expect->n_branches)
		return false;
	for (size_t i = 0; i < cur->n_shards; i++)
		if (strcmp(cur->shards[i], expect->shards[i]) != 0)
			return false;
	for (size_t i = 0; i < cur->n_branches; i++) {
		const struct index_branch *a = &cur->branches[i], *b = &expect->branches[i];

		if (strcmp(a->name, b->name) != 0 || strcmp(a->commit, b->commit) != 0 ||
		    a->is_default != b->is_default)
			return false;
	}
	for (size_t i = 0; i < cur->n_overlay; i++) {
		const struct index_overlay *a = &cur->overlay[i], *b = &expect->overlay[i];

		if (a->shard != b->shard || a->doc != b->doc || a->n_branches != b->n_branches ||
		    (a->n_branches &&
		     memcmp(a->branches, b->branches, a->n_branches * sizeof(*a->branches)) != 0))
			return false;
	}
	return true;
}

/* A repository of a MANIFEST by name (the names do not move when the array grows). */
struct named {
	const char *name;
	size_t i;
};

/* One commit of several entries (index_commit_entries), as it goes. */
struct commit {
	struct manifest m;
	const char **batch;   /* the names committed, sorted */
	size_t n_batch;
	struct named *order;  /* m's repositories before the commit, sorted by name */
	size_t n_order;
	struct listing *old;  /* m's listings before the commit, sorted */
	size_t n_old;
	struct index_repo_entry *replaced; /* the entries the commit replaced or removed */
	size_t n_replaced;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* Repository name's index in c->m before the commit, or SIZE_MAX. */
static size_t commit_find(const struct commit *c, const char *name)
{
	size_t lo = 0, hi = c->n_order;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->order[mid].name, name);

		if (r == 0)
			return c->order[mid].i;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static void commit_dispose(struct commit *c)
{
	for (size_t i = 0; i < c->n_replaced; i++)
		entry_dispose(&c->replaced[i]);
	free(c->replaced);
	free(c->old);
	free(c->order);
	free((void *)c->batch);
	manifest_dispose(&c->m);
}

/*
 * Reads the MANIFEST (none: an empty index) and indexes it for n entries named es[i].name.
 * EINVAL for an invalid or repeated name.
 */
static int commit_begin(struct commit *c, const char *dir, const struct index_repo_entry *es,
			size_t n)
{
	int err;

	if (!(c->batch = malloc((n ? n : 1) * sizeof(*c->batch))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		if (!repo_name_ok(es[i].name, strlen(es[i].name))) {
			error_set("invalid repository name for the index (1 to %u bytes of UTF-8)",
				  SHARD_REPO_MAX);
			return TRAWL_EINVAL;
		}
		c->batch[c->n_batch++] = es[i].name;
	}
	if (first_dup(c->batch, c->n_batch)) {
		error_set("repository \"%s\" committed twice in one commit",
			  first_dup(c->batch, c->n_batch));
		return TRAWL_EINVAL;
	}
	err = manifest_read(&c->m, dir);
	if (err == TRAWL_ENOTFOUND)
		err = 0; /* the first commit creates the index */
	if (err < 0 || (err = listings_sorted(&c->old, &c->n_old, &c->m)) < 0)
		return err;
	if (!(c->order = malloc((c->m.n_repos + 1) * sizeof(*c->order))) ||
	    !(c->replaced = calloc(n + 1, sizeof(*c->replaced))))
		return error_nomem(NULL);
	for (size_t i = 0; i < c->m.n_repos; i++)
		c->order[c->n_order++] = (struct named){ c->m.repos[i].name, i };
	qsort(c->order, c->n_order, sizeof(*c->order), cmp_named);
	return 0;
}

/*
 * SECURITY: a commit lists no file that a repository outside it lists: one repository's run
 * never takes over another's shards (a compound file is listed by the repositories it holds,
 * all committed at once).
 */
static int commit_check_files(const struct commit *c, const struct index_repo_entry *e)
{
	for (size_t i = 0; i < e->n_shards; i++) {
		struct listing key = { e->shards[i], 0, 0 };
		size_t lo = 0, hi = c->n_old;

		while (lo < hi) { /* the first listing of the file */
			size_t mid = lo + (hi - lo) / 2;

			if (cmp_listing(&c->old[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < c->n_old && strcmp(c->old[lo].file, e->shards[i]) == 0; lo++) {
			const char *owner = c->m.repos[c->old[lo].repo].name;

			if (strv_find(c->batch, c->n_batch, owner) == c->n_batch) {
				error_set("shard file %s already belongs to another repository",
					  e->shards[i]);
				return TRAWL_EINVAL;
			}
		}
	}
	return 0;
}

/* Replaces (or appends) e's entry in c->m, keeping the replaced one. */
static int commit_put(struct commit *c, const struct index_repo_entry *e, size_t at)
{
	struct index_repo_entry fresh = { 0 };
	int err;

	if ((err = commit_check_files(c, e)) < 0 || (err = new_entry(&fresh, e)) < 0) {
		entry_dispose(&fresh);
		return err;
	}
	if (at == SIZE_MAX) {
		struct index_repo_entry *v = realloc(c->m.repos, (c->m.n_repos + 1) * sizeof(*v));

		if (!v) {
			entry_dispose(&fresh);
			return error_nomem(NULL);
		}
		c->m.repos = v;
		at = c->m.n_repos++;
	} else if (at < c->m.n_repos && c->m.repos) {
		c->replaced[c->n_replaced++] = c->m.repos[at];
	} else {
		entry_dispose(&fresh);
		error_set("internal error: repository %zu of %zu", at, c->m.n_repos);
		return TRAWL_EIO;
	}
	c->m.repos[at] = fresh;
	return 0;
}

/*
 * Writes the new MANIFEST, then removes the files of the replaced entries that it no longer
 * lists. Only now, with the new MANIFEST in place: a process that mapped them keeps its
 * mapping (the inode lives until the last munmap), so a search that opened the old state
 * finishes on it.
 */
static int commit_finish(struct commit *c, const char *dir)
{
	struct listing *now = NULL;
	size_t n_now;
	int err;

	if ((err = manifest_write(&c->m, dir)) < 0)
		return err;
	/*
	 * Committed: an error now would have the caller unlink the new files the MANIFEST lists.
	 * Without the memory to tell which old files it no longer lists, they stay (wasted space,
	 * for the next sweep).
	 */
	if (listings_sorted(&now, &n_now, &c->m) < 0) {
		error_clear();
		return 0;
	}
	for (size_t r = 0; r < c->n_replaced; r++)
		for (size_t i = 0; i < c->replaced[r].n_shards; i++) {
			char *path;

			if (listings_have(now, n_now, c->replaced[r].shards[i]))
				continue; /* still listed (kept across the commit, or compound) */
			/* A failure is not fatal: the commit is done, the file is only wasted space. */
			path = file_join(dir, c->replaced[r].shards[i]);
			if (path)
				unlink(path);
			free(path);
		}
	free(now);
	return 0;
}

/*
 * index_commit_entries, or with is_removal the removal of es[0].name's entry and files. expects
 * (NULL, or one per entry): what each entry must still be.
 */
static int commit_entries(const char *dir, const struct index_repo_entry *es, size_t n,
			  const struct index_repo_entry *expects, bool is_removal)
{
	struct commit c = { 0 };
	int lock = -1, err;

	if ((err = lock_take(&lock, dir, LOCK_EX, true)) < 0 ||
	    (err = commit_begin(&c, dir, es, n)) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++) {
		size_t at = commit_find(&c, es[i].name);

		if (expects &&
		    !entry_unchanged(at != SIZE_MAX ? &c.m.repos[at] : NULL, &expects[i])) {
			error_set("%s: repository \"%s\" changed in the index during this run "
				  "(another indexer?); nothing was committed, run again", dir,
				  es[i].name);
			err = TRAWL_EIO;
		} else if (is_removal) {
			if (at == SIZE_MAX)
				goto out; /* not in the index: nothing to write */
			c.replaced[c.n_replaced++] = c.m.repos[at];
			memmove(&c.m.repos[at], &c.m.repos[at + 1],
				(c.m.n_repos - at - 1) * sizeof(*c.m.repos));
			c.m.n_repos--;
		} else {
			err = commit_put(&c, &es[i], at);
		}
	}
	if (err == 0)
		err = commit_finish(&c, dir);
out:
	commit_dispose(&c);
	lock_release(lock);
	return err;
}

int index_commit_entry(const char *dir, const struct index_repo_entry *e,
		       const struct index_repo_entry *expect)
{
	return commit_entries(dir, e, 1, expect, false);
}

int index_commit_entries(const char *dir, const struct index_repo_entry *es, size_t n)
{
	return commit_entries(dir, es, n, NULL, false);
}

int index_commit_entries_expect(const char *dir, const struct index_repo_entry *es,
				const struct index_repo_entry *expects, size_t n)
{
	return commit_entries(dir, es, n, expects, false);
}

int index_remove_repo(const char *dir, const char *name)
{
	struct index_repo_entry e = { .name = (char *)name };

	return commit_entries(dir, &e, 1, NULL, true);
}

int index_commit_repo(const char *dir, const char *name, char *const *shard_files,
		      size_t n_files)
{
	struct index_repo_entry e = { .name = (char *)name, .shards = (char **)shard_files,
				      .n_shards = n_files, .n_base = n_files };

	return index_commit_entry(dir, &e, NULL);
}

int index_writer_begin(int *fd, const char *dir)
{
	return lock_take_file(fd, dir, WRITERS_NAME, LOCK_SH, true);
}

/* NAME.shard.tmp.XXXXXX or MANIFEST.tmp.XXXXXX: a file_tmp_open name of a shard or MANIFEST. */
static bool is_tmp_name(const char *s)
{
	size_t len = strlen(s), infix = sizeof(TMP_INFIX) - 1, base;

	if (len <= infix + TMP_RANDOM_LEN)
		return false;
	base = len - infix - TMP_RANDOM_LEN;
	if (memcmp(s + base, TMP_INFIX, infix) != 0)
		return false;
	for (size_t i = len - TMP_RANDOM_LEN; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	if (base == sizeof(MANIFEST_NAME) - 1 && memcmp(s, MANIFEST_NAME, base) == 0)
		return true;
	return shard_name_ok(s, base);
}

/*
 * Removes the temporary files and the shard files the MANIFEST does not list. The caller holds
 * WRITERS exclusively (no run has files it has yet to commit) and LOCK exclusively (no reader
 * is between reading the MANIFEST and opening its shards; one that mapped an old shard keeps
 * it). Without a readable MANIFEST nothing is known to be garbage and nothing is removed. A
 * file that cannot be removed stays: it is only wasted space.
 */
/*
 * SECURITY: a work directory holds what a worker wrote, and the worker (or anything it left
 * behind) may change it while it is being removed. So the walk never uses a path string below
 * the directory's parent: each directory is opened relative to its parent's descriptor with
 * O_NOFOLLOW, and entries are removed with unlinkat relative to the descriptor of the
 * directory that was read. A name swapped for a symlink is removed as a symlink, never
 * followed, and a directory moved elsewhere is still the same directory. Trees deeper than
 * RM_DEPTH_MAX stay (bounded descriptors and stack): what cannot be removed is only wasted
 * space. Returns 0 when name is gone.
 */
#define RM_DEPTH_MAX 64

static int rm_tree_at(int dfd, const char *name, unsigned depth)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOTDIR && errno != ELOOP)
			return errno == ENOENT ? 0 : -1;
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	}
	if (depth >= RM_DEPTH_MAX || !(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rm_tree_at(fd, de->d_name, depth + 1);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

/* Opens the directory path names, not following a symlink in its last component. */
static int open_dir_nofollow(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void index_work_dir_remove(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent;
	int dfd;

	if (!slash || !slash[1])
		return;
	if (!(parent = strndup(path, slash == path ? 1 : (size_t)(slash - path))))
		return;
	dfd = open_dir_nofollow(parent);
	free(parent);
	if (dfd < 0)
		return;
	rm_tree_at(dfd, slash + 1, 0);
	close(dfd);
}

/* Removes every work directory: called when no run holds WRITERS, so none is in use. */
static size_t sweep_work(const char *dir)
{
	char *work = file_join(dir, WORK_DIR_NAME);
	struct dirent *de;
	size_t n = 0;
	int fd = -1;
	DIR *d;

	if (!work || (fd = open_dir_nofollow(work)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		free(work);
		return 0;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n += rm_tree_at(fd, de->d_name, 0) == 0;
	closedir(d);
	free(work);
	return n;
}

int index_work_dir_new(char **out, const char *dir, const char *name)
{
	char *work = file_join(dir, WORK_DIR_NAME), *shard = index_shard_name(name, 0), *path = NULL;
	size_t cap;
	int err = 0;

	*out = NULL;
	if (!work || !shard) {
		err = error_nomem(NULL);
		goto out;
	}
	if (mkdir(work, 0700) < 0 && errno != EEXIST) {
		error_set("%s: cannot create: %s", work, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	/* The shard name's safe form of name (its suffix cut) keeps the directory recognizable. */
	shard[strlen(shard) - (sizeof(SHARD_SUFFIX) - 1)] = '\0';
	cap = strlen(work) + 1 + strlen(shard) + 8;
	if (!(path = malloc(cap))) {
		err = error_nomem(NULL);
		goto out;
	}
	snprintf(path, cap, "%s/%s-XXXXXX", work, shard);
	if (!mkdtemp(path)) {
		error_set("%s: cannot create a work directory: %s", work, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	*out = path;
	path = NULL;
out:
	free(path);
	free(shard);
	free(work);
	return err;
}

bool index_shard_name_ok(const char *name)
{
	return shard_name_ok(name, strlen(name));
}

static size_t sweep(const char *dir)
{
	struct manifest m;
	struct dirent *de;
	char **listed = NULL;
	size_t n_listed = 0, n = 0;
	DIR *d = NULL;

	if (manifest_read(&m, dir) < 0)
		return 0;
	for (size_t i = 0; i < m.n_repos; i++)
		n_listed += m.repos[i].n_shards;
	if (!(listed = calloc(n_listed + 1, sizeof(*listed))))
		goto out; /* out of memory: nothing is removed */
	n_listed = 0;
	for (size_t i = 0; i < m.n_repos; i++)
		for (size_t j = 0; j < m.repos[i].n_shards; j++)
			listed[n_listed++] = m.repos[i].shards[j];
	qsort(listed, n_listed, sizeof(*listed), cmp_name);
	if (!(d = opendir(dir)))
		goto out;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		bool is_unlisted = shard_name_ok(nm, strlen(nm)) &&
				   !bsearch(&nm, listed, n_listed, sizeof(*listed), cmp_name);

		if ((is_unlisted || is_tmp_name(nm)) && unlinkat(dirfd(d), nm, 0) == 0)
			n++;
	}
out:
	if (d)
		closedir(d);
	free(listed);
	manifest_dispose(&m);
	return n;
}

size_t index_writer_end(int fd, const char *dir, bool is_sweep)
{
	int writers = -1, lock = -1;
	size_t n = 0;

	if (fd < 0)
		return 0; /* never begun */
	lock_release(fd);
	if (!is_sweep)
		return 0;
	/* Another writer running may be between writing its shards and committing them. */
	if (lock_take_file(&writers, dir, WRITERS_NAME, LOCK_EX | LOCK_NB, false) == 0 &&
	    writers >= 0 && lock_take(&lock, dir, LOCK_EX, false) == 0 && lock >= 0)
		n = sweep(dir) + sweep_work(dir);
	lock_release(lock);
	lock_release(writers);
	return n;
}

static uint64_t fallback_random(void)
{
	static _Atomic uint64_t counter;
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
	    (counter++ * 0x9e3779b97f4a7c15ull);
	/* splitmix64's finalizer */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

char *index_shard_name(const char *name, unsigned seq)
{
	char safe[SAFE_NAME_MAX + 1];
	size_t n = 0, cap;
	uint64_t rnd;
	char *out;

	for (const char *p = name; *p && n < SAFE_NAME_MAX; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		safe[n++] = ok ? (char)c : '_';
	}
	if (n == 0)
		safe[n++] = '_';
	if (safe[0] == '.')
		safe[0] = '_'; /* names starting with '.' are refused in a MANIFEST */
	safe[n] = '\0';
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = fallback_random();
	cap = n + 1 + 16 + 1 + 10 + sizeof(SHARD_SUFFIX);
	out = malloc(cap);
	if (!out)
		return NULL;
	snprintf(out, cap, "%s-%016llx-%u%s", safe, (unsigned long long)rnd, seq, SHARD_SUFFIX);
	return out;
}
