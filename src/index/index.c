/*
 * The index directory: MANIFEST (JSON) lists each repository's shard files; LOCK serializes
 * writers (and keeps a reader's MANIFEST read and shard opens from racing a writer's unlinks).
 * See shard.h for the contract and docs/index-format.md for the MANIFEST format.
 *
 * A commit writes the new MANIFEST to a temporary file and renames it over the old one, so a
 * reader sees the old or the new list, never a mix; only then are the replaced shard files
 * unlinked. Readers that mapped them keep their mappings.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "index/utf8.h"
#include "util/error.h"
#include "util/file.h"

#define MANIFEST_NAME "MANIFEST"
#define LOCK_NAME "LOCK"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX ((size_t)64 << 20)
#define SHARD_NAME_MAX 255
#define SHARD_SUFFIX ".shard"
#define SAFE_NAME_MAX 64

struct manifest {
	struct index_repo_entry *repos;
	size_t n_repos;
};

struct index {
	char *dir;
	struct shard **shards;
	size_t n_shards;
};

static int nomem(void)
{
	error_set("out of memory");
	return TRAWL_ENOMEM;
}

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
	free(e->shards);
	free(e->name);
	e->shards = NULL;
	e->name = NULL;
	e->n_shards = 0;
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
	for (size_t k = 0; k < i; k++)
		if (strcmp(m->repos[k].name, json_string_value(name)) == 0) {
			error_set("%s: repository \"%s\" listed twice", where, m->repos[k].name);
			return TRAWL_ECORRUPT;
		}
	e->name = strdup(json_string_value(name));
	e->shards = calloc(json_array_size(shards) + 1, sizeof(*e->shards));
	if (!e->name || !e->shards)
		return nomem();
	for (size_t j = 0; j < json_array_size(shards); j++) {
		json_t *s = json_array_get(shards, j);

		if (!json_is_string(s) || !shard_name_ok(json_string_value(s), json_string_length(s))) {
			error_set("%s: repository \"%s\": shard %zu is not a plain file name ending in "
				  "\"%s\"", where, e->name, j, SHARD_SUFFIX);
			return TRAWL_ECORRUPT;
		}
		if (manifest_owner(m, json_string_value(s))) {
			error_set("%s: shard %s listed twice", where, json_string_value(s));
			return TRAWL_ECORRUPT;
		}
		if (!(e->shards[j] = strdup(json_string_value(s))))
			return nomem();
		e->n_shards++;
	}
	return 0;
}

static int manifest_parse(struct manifest *m, const char *where, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root, *version, *repos;
	int err = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
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
	if (json_integer_value(version) != MANIFEST_VERSION) {
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
		err = nomem();
		goto out;
	}
	for (size_t i = 0; i < json_array_size(repos); i++) {
		m->n_repos++; /* so that dispose frees a half-parsed entry */
		if ((err = parse_entry(m, where, json_array_get(repos, i), i)) < 0)
			goto out;
	}
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
		return nomem();
	err = file_read_all(&text, &len, path, MANIFEST_MAX);
	if (err == TRAWL_ENOTFOUND)
		error_set("%s: no trawl index here (no %s)", dir, MANIFEST_NAME);
	else if (err == 0)
		err = manifest_parse(m, path, text, len);
	free(text);
	free(path);
	return err;
}

static int manifest_write(const struct manifest *m, const char *dir)
{
	json_t *root = json_object(), *repos = json_array();
	char *path = file_join(dir, MANIFEST_NAME), *text = NULL;
	int err = 0;

	if (!root || !repos || !path || json_object_set_new(root, "version",
							    json_integer(MANIFEST_VERSION)) < 0) {
		err = nomem();
		goto out;
	}
	for (size_t i = 0; i < m->n_repos; i++) {
		const struct index_repo_entry *e = &m->repos[i];
		json_t *r = json_object(), *shards = json_array();

		if (!r || !shards || json_array_append_new(repos, r) < 0) {
			json_decref(r);
			json_decref(shards);
			err = nomem();
			goto out;
		}
		if (json_object_set_new(r, "name", json_string(e->name)) < 0 ||
		    json_object_set_new(r, "shards", shards) < 0) {
			err = nomem();
			goto out;
		}
		for (size_t j = 0; j < e->n_shards; j++)
			if (json_array_append_new(shards, json_string(e->shards[j])) < 0) {
				err = nomem();
				goto out;
			}
	}
	if (json_object_set(root, "repos", repos) < 0 ||
	    !(text = json_dumps(root, JSON_INDENT(2)))) {
		err = nomem();
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
 * Opens dir/LOCK and takes a flock of the given kind. With create false, a missing lock file
 * gives *fd = -1 and success (a read-only index that was never written by this version).
 */
static int lock_take(int *fd, const char *dir, int kind, bool create)
{
	char *path = file_join(dir, LOCK_NAME);
	int err = 0;

	*fd = -1;
	if (!path)
		return nomem();
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
		error_set("%s: cannot lock: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		err = TRAWL_EIO;
		break;
	}
out:
	free(path);
	return err;
}

static void lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

int index_open(struct index **out, const char *dir)
{
	struct manifest m = { 0 };
	struct index *ix = NULL;
	size_t total = 0;
	int lock = -1, err;

	*out = NULL;
	/* A shared lock: a concurrent commit cannot unlink the files we are about to open. */
	if ((err = lock_take(&lock, dir, LOCK_SH, false)) < 0 || (err = manifest_read(&m, dir)) < 0)
		goto out;
	for (size_t i = 0; i < m.n_repos; i++)
		total += m.repos[i].n_shards;
	ix = calloc(1, sizeof(*ix));
	if (!ix || !(ix->dir = strdup(dir)) ||
	    !(ix->shards = calloc(total ? total : 1, sizeof(*ix->shards)))) {
		err = nomem();
		goto out;
	}
	for (size_t i = 0; i < m.n_repos; i++) {
		const struct index_repo_entry *e = &m.repos[i];

		for (size_t j = 0; j < e->n_shards; j++) {
			char *path = file_join(dir, e->shards[j]);
			struct shard *sh = NULL;

			if (!path) {
				err = nomem();
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
		}
	}
	*out = ix;
	ix = NULL;
out:
	lock_release(lock);
	manifest_dispose(&m);
	index_close(ix);
	return err;
}

void index_close(struct index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_shards; i++)
		shard_close(ix->shards[i]);
	free(ix->shards);
	free(ix->dir);
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

/* Builds the new entry for name in *e. EINVAL for a bad or duplicate file name. */
static int new_entry(struct index_repo_entry *e, const struct manifest *m, const char *name,
		     char *const *files, size_t n_files)
{
	*e = (struct index_repo_entry){ 0 };
	e->name = strdup(name);
	e->shards = calloc(n_files + 1, sizeof(*e->shards));
	if (!e->name || !e->shards)
		return nomem();
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
			return nomem();
		e->n_shards++;
	}
	return 0;
}

int index_commit_repo(const char *dir, const char *name, char *const *shard_files,
		      size_t n_files)
{
	struct manifest m = { 0 };
	struct index_repo_entry fresh = { 0 }, old = { 0 };
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
	if (err < 0 || (err = new_entry(&fresh, &m, name, shard_files, n_files)) < 0)
		goto out;
	for (at = 0; at < m.n_repos && strcmp(m.repos[at].name, name) != 0; at++)
		;
	if (at == m.n_repos) {
		struct index_repo_entry *v = realloc(m.repos, (m.n_repos + 1) * sizeof(*v));

		if (!v) {
			err = nomem();
			goto out;
		}
		m.repos = v;
		m.n_repos++;
	} else {
		old = m.repos[at];
	}
	m.repos[at] = fresh;
	fresh = (struct index_repo_entry){ 0 }; /* owned by m now */
	if ((err = manifest_write(&m, dir)) < 0)
		goto out;
	/* Only now, with the new MANIFEST in place, do the replaced files go. */
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
