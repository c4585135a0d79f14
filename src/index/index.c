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
#define MANIFEST_MAX ((size_t)64 << 20)
#define SHARD_NAME_MAX 255
#define SHARD_SUFFIX ".shard"
#define SAFE_NAME_MAX 64
#define WORK_DIR_NAME "work" /* index_work_dir_new's directories live in dir/work/ */

struct manifest {
	struct index_repo_entry *repos;
	size_t n_repos;
};

/* What search needs per shard besides the shard: its repository's entry and branch mapping. */
struct shard_info {
	const struct index_repo_entry *entry; /* in the index's manifest */
	uint32_t *map;                        /* shard branch i -> entry branch, UINT32_MAX if none */
	const struct index_overlay *overlay;  /* this shard's overlay entries, sorted by doc */
	size_t n_overlay;
};

struct index {
	char *dir;
	struct shard **shards;
	struct shard_info *info;
	size_t n_shards;
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

static void entry_dispose(struct index_repo_entry *e)
{
	for (size_t i = 0; i < e->n_shards; i++)
		free(e->shards[i]);
	for (size_t i = 0; i < e->n_branches; i++)
		free(e->branches[i].name);
	for (size_t i = 0; i < e->n_overlay; i++)
		free(e->overlay[i].branches);
	free(e->shards);
	free(e->branches);
	free(e->overlay);
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

		if (!branch_name_ok(b->name, strlen(b->name)) ||
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
		entry_dispose(&m->repos[i]);
	free(m->repos);
	m->repos = NULL;
	m->n_repos = 0;
}

/* The repository listing shard file name, or NULL. */
static const struct index_repo_entry *manifest_owner(const struct manifest *m, const char *file)
{
	for (size_t i = 0; i < m->n_repos; i++)
		for (size_t j = 0; j < m->repos[i].n_shards; j++)
			if (strcmp(m->repos[i].shards[j], file) == 0)
				return &m->repos[i];
	return NULL;
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

/*
 * No repository or shard file listed twice: sorted once, neighbours compared, so a MANIFEST of
 * n repositories costs n log n here (a check per entry against every other made each commit of
 * a run over 5,000 repositories cost more than its indexing).
 */
static int manifest_check_unique(const struct manifest *m, const char *where)
{
	size_t n_shards = 0, n = 0;
	const char **v, *dup;
	int err = 0;

	for (size_t i = 0; i < m->n_repos; i++)
		n_shards += m->repos[i].n_shards;
	if (!(v = malloc((n_shards > m->n_repos ? n_shards : m->n_repos) * sizeof(*v) + 1)))
		return error_nomem(NULL);
	for (size_t i = 0; i < m->n_repos; i++)
		v[n++] = m->repos[i].name;
	if ((dup = first_dup(v, n))) {
		error_set("%s: repository \"%s\" listed twice", where, dup);
		err = TRAWL_ECORRUPT;
		goto out;
	}
	n = 0;
	for (size_t i = 0; i < m->n_repos; i++)
		for (size_t j = 0; j < m->repos[i].n_shards; j++)
			v[n++] = m->repos[i].shards[j];
	if ((dup = first_dup(v, n))) {
		error_set("%s: shard %s listed twice", where, dup);
		err = TRAWL_ECORRUPT;
	}
out:
	free(v);
	return err;
}

static int manifest_parse(struct manifest *m, const char *where, const char *text, size_t len)
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
	err = manifest_check_unique(m, where);
out:
	json_decref(root);
	if (err < 0)
		manifest_dispose(m);
	return err;
}

/* Reads dir/MANIFEST. ENOTFOUND when there is none. */
static int manifest_read(struct manifest *m, const char *dir)
{
	char *path = file_join(dir, MANIFEST_NAME), *text = NULL;
	size_t len;
	int err;

	m->repos = NULL;
	m->n_repos = 0;
	if (!path)
		return error_nomem(NULL);
	err = file_read_all(&text, &len, path, MANIFEST_MAX);
	if (err == TRAWL_ENOTFOUND)
		error_set("%s: no trawl index here (no %s)", dir, MANIFEST_NAME);
	else if (err == 0)
		err = manifest_parse(m, path, text, len);
	free(text);
	free(path);
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

static int manifest_write(const struct manifest *m, const char *dir)
{
	json_t *root = json_object(), *repos = json_array();
	char *path = file_join(dir, MANIFEST_NAME), *text = NULL;
	int err = 0;

	if (!root || !repos || !path || json_object_set_new(root, "version",
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
		if (json_object_set_new(r, "name", json_string(e->name)) < 0 ||
		    json_object_set_new(r, "shards", shards) < 0) {
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
	if (json_object_set(root, "repos", repos) < 0 ||
	    !(text = json_dumps(root, JSON_INDENT(2)))) {
		err = error_nomem(NULL);
		goto out;
	}
	err = file_write_atomic(path, text, strlen(text));
out:
	free(text);
	free(path);
	json_decref(repos);
	json_decref(root);
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
 * Shard i's mapping from its branch table to its repository's branches, and its slice of the
 * overlay. ECORRUPT when the overlay names a document the shard does not have.
 */
static int info_init(struct shard_info *si, const struct index_repo_entry *e, size_t k,
		     const struct shard *sh)
{
	uint32_t nb = shard_n_branches(sh);
	size_t lo = 0;

	si->entry = e;
	si->map = calloc(nb ? nb : 1, sizeof(*si->map));
	if (!si->map)
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
		if (e->overlay[lo + si->n_overlay].doc >= shard_n_docs(sh)) {
			error_set("%s: overlay of repository \"%s\" names document %u of %s (%u documents)",
				  MANIFEST_NAME, e->name, e->overlay[lo + si->n_overlay].doc,
				  e->shards[k], shard_n_docs(sh));
			return TRAWL_ECORRUPT;
		}
		si->n_overlay++;
	}
	return 0;
}

int index_open(struct index **out, const char *dir)
{
	struct index *ix = NULL;
	size_t total = 0;
	int lock = -1, err;

	*out = NULL;
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return error_nomem(NULL);
	/* A shared lock: a concurrent commit cannot unlink the files we are about to open. */
	if ((err = lock_take(&lock, dir, LOCK_SH, false)) < 0 ||
	    (err = manifest_read(&ix->m, dir)) < 0)
		goto out;
	for (size_t i = 0; i < ix->m.n_repos; i++)
		total += ix->m.repos[i].n_shards;
	if (!(ix->dir = strdup(dir)) ||
	    !(ix->shards = calloc(total ? total : 1, sizeof(*ix->shards))) ||
	    !(ix->info = calloc(total ? total : 1, sizeof(*ix->info)))) {
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t i = 0; i < ix->m.n_repos; i++) {
		const struct index_repo_entry *e = &ix->m.repos[i];

		for (size_t j = 0; j < e->n_shards; j++) {
			char *path = file_join(dir, e->shards[j]);
			struct shard *sh = NULL;

			if (!path) {
				err = error_nomem(NULL);
				goto out;
			}
			err = shard_open(&sh, path);
			free(path);
			if (err < 0)
				goto out;
			/* SECURITY: search authorizes by the shard's own repository name. */
			if (strcmp(shard_repo(sh), e->name) != 0) {
				error_set("%s: holds repository \"%s\" but %s lists it under \"%s\"",
					  shard_file(sh), shard_repo(sh), MANIFEST_NAME, e->name);
				shard_close(sh);
				err = TRAWL_ECORRUPT;
				goto out;
			}
			ix->shards[ix->n_shards++] = sh; /* sized for total above */
			if ((err = info_init(&ix->info[ix->n_shards - 1], e, j, sh)) < 0)
				goto out;
		}
	}
	*out = ix;
	ix = NULL;
out:
	lock_release(lock);
	index_close(ix);
	return err;
}

void index_close(struct index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_shards; i++) {
		shard_close(ix->shards[i]);
		free(ix->info[i].map);
	}
	free(ix->shards);
	free(ix->info);
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
	if ((err = lock_take(&lock, dir, LOCK_SH, false)) < 0 || (err = manifest_read(&m, dir)) < 0)
		goto out;
	err = TRAWL_ENOTFOUND;
	error_set("%s: no repository \"%s\" in the index", dir, name);
	for (size_t i = 0; i < m.n_repos; i++)
		if (strcmp(m.repos[i].name, name) == 0) {
			*out = m.repos[i];
			m.repos[i] = m.repos[--m.n_repos]; /* moved out: dispose must not free it */
			err = 0;
			break;
		}
out:
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
static int new_entry(struct index_repo_entry *e, const struct manifest *m,
		     const struct index_repo_entry *src)
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
		const struct index_repo_entry *owner = manifest_owner(m, files[i]);

		if (!shard_name_ok(files[i], strlen(files[i]))) {
			error_set("invalid shard file name \"%s\"", files[i]);
			return TRAWL_EINVAL;
		}
		if (owner && strcmp(owner->name, name) != 0) {
			error_set("shard file %s already belongs to another repository", files[i]);
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

/* Whether the current entry (NULL when absent) lists exactly expect's shards. */
static bool entry_unchanged(const struct index_repo_entry *cur,
			    const struct index_repo_entry *expect)
{
	if (!cur)
		return expect->n_shards == 0 && !expect->name;
	if (cur->n_shards != expect->n_shards || cur->n_overlay != expect->n_overlay)
		return false;
	for (size_t i = 0; i < cur->n_shards; i++)
		if (strcmp(cur->shards[i], expect->shards[i]) != 0)
			return false;
	for (size_t i = 0; i < cur->n_branches && i < expect->n_branches; i++)
		if (strcmp(cur->branches[i].commit, expect->branches[i].commit) != 0)
			return false;
	return cur->n_branches == expect->n_branches;
}

/* index_commit_entry, or with is_removal the removal of e->name's entry and files. */
static int commit_entry(const char *dir, const struct index_repo_entry *e,
			const struct index_repo_entry *expect, bool is_removal)
{
	struct manifest m = { 0 };
	struct index_repo_entry fresh = { 0 }, old = { 0 };
	const char *name = e->name;
	size_t at;
	int lock = -1, err;

	if (!repo_name_ok(name, strlen(name))) {
		error_set("invalid repository name for the index (1 to %u bytes of UTF-8)",
			  SHARD_REPO_MAX);
		return TRAWL_EINVAL;
	}
	if ((err = lock_take(&lock, dir, LOCK_EX, true)) < 0)
		goto out;
	err = manifest_read(&m, dir);
	if (err == TRAWL_ENOTFOUND)
		err = 0; /* the first commit creates the index */
	if (err < 0 || (!is_removal && (err = new_entry(&fresh, &m, e)) < 0))
		goto out;
	for (at = 0; at < m.n_repos && strcmp(m.repos[at].name, name) != 0; at++)
		;
	if (is_removal && at == m.n_repos)
		goto out; /* not in the index: nothing to write */
	if (expect && !entry_unchanged(at < m.n_repos ? &m.repos[at] : NULL, expect)) {
		error_set("%s: repository \"%s\" changed in the index during this run (another "
			  "indexer?); nothing was committed, run again", dir, name);
		err = TRAWL_EIO;
		goto out;
	}
	if (is_removal) {
		old = m.repos[at];
		memmove(&m.repos[at], &m.repos[at + 1], (m.n_repos - at - 1) * sizeof(*m.repos));
		m.n_repos--;
	} else if (at == m.n_repos) {
		struct index_repo_entry *v = realloc(m.repos, (m.n_repos + 1) * sizeof(*v));

		if (!v) {
			err = error_nomem(NULL);
			goto out;
		}
		m.repos = v;
		m.n_repos++;
	} else {
		old = m.repos[at];
	}
	if (!is_removal) {
		m.repos[at] = fresh;
		fresh = (struct index_repo_entry){ 0 }; /* owned by m now */
	}
	if ((err = manifest_write(&m, dir)) < 0)
		goto out;
	/*
	 * Only now, with the new MANIFEST in place, do the replaced files go. A process that
	 * mapped them keeps its mapping (the inode lives until the last munmap), so a search
	 * that opened the old state finishes on it.
	 */
	for (size_t i = 0; i < old.n_shards; i++) {
		char *path;

		if (manifest_owner(&m, old.shards[i]))
			continue; /* still listed (kept across the commit) */
		/* A failure is not fatal: the commit is done, the file is only wasted space. */
		path = file_join(dir, old.shards[i]);
		if (path)
			unlink(path);
		free(path);
	}
out:
	entry_dispose(&old);
	entry_dispose(&fresh);
	manifest_dispose(&m);
	lock_release(lock);
	return err;
}

int index_commit_entry(const char *dir, const struct index_repo_entry *e,
		       const struct index_repo_entry *expect)
{
	return commit_entry(dir, e, expect, false);
}

int index_remove_repo(const char *dir, const char *name)
{
	struct index_repo_entry e = { .name = (char *)name };

	return commit_entry(dir, &e, NULL, true);
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
