/*
 * Shard verification that remembers what it verified; see shardcheck.h. The record is text,
 * one line per shard file after a version line:
 *
 *     trawl-shards-verified 1
 *     NAME DEV INO SIZE MTIME_S MTIME_NS CTIME_S CTIME_NS CRC
 *
 * (decimal numbers, CRC in 8 lower-case hex digits), sorted by name.
 */
#include "build/shardcheck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/shard.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"

#define HEADER "trawl-shards-verified 1\n"
#define N_FIELDS 9

static void rec_dispose(struct shardcheck_rec *r)
{
	free(r->name);
	r->name = NULL;
}

void shardcheck_dispose(struct shardcheck *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++)
		rec_dispose(&sc->v[i]);
	free(sc->v);
	free(sc->path);
	*sc = (struct shardcheck){ 0 };
}

/* The index of name in sc->v, or where it would go (*found false). */
static size_t find(const struct shardcheck *sc, const char *name, bool *found)
{
	size_t lo = 0, hi = sc->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(sc->v[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool parse_u64(uint64_t *v, const char *s, int base)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* One line (NUL-terminated, without its newline) into r; false when malformed. */
static bool parse_line(struct shardcheck_rec *r, char *line)
{
	char *f[N_FIELDS];
	uint64_t n[N_FIELDS];
	size_t k = 0;

	for (char *p = line; k < N_FIELDS; k++) {
		f[k] = p;
		p = strchr(p, ' ');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (k != N_FIELDS - 1 || !index_shard_name_ok(f[0]))
		return false;
	for (k = 1; k < N_FIELDS; k++)
		if (!parse_u64(&n[k], f[k], k == N_FIELDS - 1 ? 16 : 10))
			return false;
	if (n[4] > INT64_MAX || n[5] >= 1000000000 || n[6] > INT64_MAX || n[7] >= 1000000000 ||
	    n[8] > UINT32_MAX || strlen(f[8]) != 8)
		return false;
	*r = (struct shardcheck_rec){ .dev = n[1],
				      .ino = n[2],
				      .size = n[3],
				      .mtime_s = (int64_t)n[4],
				      .mtime_ns = (int64_t)n[5],
				      .ctime_s = (int64_t)n[6],
				      .ctime_ns = (int64_t)n[7],
				      .crc = (uint32_t)n[8] };
	return true;
}

/* Parses text into sc->v; *ok false when a line is malformed or out of order. ENOMEM. */
static int parse(struct shardcheck *sc, char *text, bool *ok)
{
	char *p = text + strlen(HEADER);
	int err;

	*ok = false;
	if (strncmp(text, HEADER, strlen(HEADER)) != 0)
		return 0;
	while (*p) {
		char *nl = strchr(p, '\n');
		struct shardcheck_rec r;

		if (!nl)
			return 0; /* a torn last line */
		*nl = '\0';
		if (!parse_line(&r, p) || (sc->n && strcmp(sc->v[sc->n - 1].name, p) >= 0))
			return 0;
		if ((err = ARRAY_GROW(&sc->v, &sc->cap, sc->n + 1)) < 0)
			return err;
		if (!(r.name = strdup(p)))
			return error_nomem(NULL);
		sc->v[sc->n++] = r;
		p = nl + 1;
	}
	*ok = true;
	return 0;
}

/*
 * Removes what a killed writer left beside path (PATH.tmp.XXXXXX, util/file.h): the caller is
 * the only writer (trawl sync holds DATA/sync.lock), so none is in flight.
 */
static void sweep_tmp(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	const char *base = slash ? slash + 1 : path;
	size_t len = strlen(base);
	const struct dirent *de;
	DIR *d = dir ? opendir(dir[0] ? dir : "/") : NULL;

	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, base, len) == 0 && strncmp(de->d_name + len, ".tmp.", 5) == 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	free(dir);
}

int shardcheck_open(struct shardcheck *sc, const char *path)
{
	char *text = NULL;
	size_t len;
	bool ok = false;
	int err;

	*sc = (struct shardcheck){ .settle_s = SHARDCHECK_SETTLE_S };
	if (!(sc->path = strdup(path)))
		return error_nomem(NULL);
	sweep_tmp(path);
	err = file_read_all(&text, &len, path, SHARDCHECK_MAX_BYTES);
	if (err == TRAWL_ENOMEM)
		return err;
	if (err < 0) {
		if (err != TRAWL_ENOTFOUND)
			fprintf(stderr, "trawl: %s; verifying every shard again\n", error_last());
		return 0;
	}
	if (strlen(text) != len)
		ok = false; /* a NUL inside */
	else if ((err = parse(sc, text, &ok)) < 0)
		goto out;
	if (!ok) {
		fprintf(stderr, "trawl: %s: damaged; verifying every shard again\n", path);
		for (size_t i = 0; i < sc->n; i++)
			rec_dispose(&sc->v[i]);
		sc->n = 0;
		sc->is_dirty = true; /* rewritten by the next save */
	}
out:
	free(text);
	return err;
}

static void rec_fill(struct shardcheck_rec *r, const struct stat *st, uint32_t crc)
{
	r->dev = (uint64_t)st->st_dev;
	r->ino = (uint64_t)st->st_ino;
	r->size = (uint64_t)st->st_size;
	r->mtime_s = (int64_t)st->st_mtim.tv_sec;
	r->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
	r->ctime_s = (int64_t)st->st_ctim.tv_sec;
	r->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
	r->crc = crc;
}

static bool rec_equal(const struct shardcheck_rec *a, const struct shardcheck_rec *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s &&
	       a->ctime_ns == b->ctime_ns && a->crc == b->crc;
}

/* Whether both of a file's times are settle_s seconds or more before now. */
static bool settled(const struct stat *st, int settle_s)
{
	struct timespec now;
	int64_t limit;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return false;
	limit = (int64_t)now.tv_sec - settle_s;
	return st->st_mtim.tv_sec >= 0 && st->st_ctim.tv_sec >= 0 &&
	       (int64_t)st->st_mtim.tv_sec < limit && (int64_t)st->st_ctim.tv_sec < limit;
}

static void forget(struct shardcheck *sc, size_t at)
{
	rec_dispose(&sc->v[at]);
	memmove(&sc->v[at], &sc->v[at + 1], (sc->n - at - 1) * sizeof(*sc->v));
	sc->n--;
	sc->is_dirty = true;
}

static int remember(struct shardcheck *sc, const char *name, const struct shardcheck_rec *now)
{
	bool found;
	size_t at = find(sc, name, &found);
	char *copy;
	int err;

	if (found) {
		copy = sc->v[at].name;
		sc->v[at] = *now;
		sc->v[at].name = copy;
		sc->is_dirty = true;
		return 0;
	}
	if ((err = ARRAY_GROW(&sc->v, &sc->cap, sc->n + 1)) < 0)
		return err;
	if (!(copy = strdup(name)))
		return error_nomem(NULL);
	memmove(&sc->v[at + 1], &sc->v[at], (sc->n - at) * sizeof(*sc->v));
	sc->v[at] = *now;
	sc->v[at].name = copy;
	sc->n++;
	sc->is_dirty = true;
	return 0;
}

int shardcheck_verify(struct shardcheck *sc, const char *index_dir, const char *name)
{
	struct shard *sh = NULL;
	struct shardcheck_rec now = { 0 };
	struct stat before, after;
	char *path = NULL;
	bool found;
	size_t at;
	int err;

	if (!(path = file_join(index_dir, name)))
		return error_nomem(NULL);
	if (lstat(path, &before) != 0) {
		error_set("%s: %s", path, strerror(errno));
		err = errno == ENOENT ? TRAWL_ENOTFOUND : TRAWL_EIO;
		goto out;
	}
	if ((err = shard_open(&sh, path)) < 0)
		goto out;
	rec_fill(&now, &before, shard_checksum(sh));
	at = find(sc, name, &found);
	if (found && rec_equal(&sc->v[at], &now)) {
		sc->n_skipped++;
		goto out;
	}
	if ((err = shard_verify(sh)) < 0)
		goto out;
	sc->n_verified++;
	/* Recorded only when nothing changed while it was read and its times have settled. */
	if (lstat(path, &after) == 0 && after.st_ino == before.st_ino &&
	    after.st_dev == before.st_dev && after.st_size == before.st_size &&
	    after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
	    after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
	    after.st_ctim.tv_nsec == before.st_ctim.tv_nsec && settled(&before, sc->settle_s))
		err = remember(sc, name, &now);
out:
	if (err < 0 && err != TRAWL_ENOMEM) {
		at = find(sc, name, &found);
		if (found)
			forget(sc, at);
	}
	shard_close(sh);
	free(path);
	return err;
}

int shardcheck_save(struct shardcheck *sc, const char *index_dir)
{
	struct buf b;
	int err = 0;

	/* Files no longer in the index (replaced, removed) leave the record. */
	for (size_t i = sc->n; i-- > 0;) {
		char *path = file_join(index_dir, sc->v[i].name);
		struct stat st;

		if (!path)
			return error_nomem(NULL);
		if (lstat(path, &st) != 0 && errno == ENOENT)
			forget(sc, i);
		free(path);
	}
	if (!sc->is_dirty)
		return 0;
	buf_init(&b, SHARDCHECK_MAX_BYTES);
	err = buf_puts(&b, HEADER);
	for (size_t i = 0; i < sc->n && err == 0; i++) {
		const struct shardcheck_rec *r = &sc->v[i];

		err = buf_printf(&b, "%s %llu %llu %llu %lld %lld %lld %lld %08x\n", r->name,
				 (unsigned long long)r->dev, (unsigned long long)r->ino,
				 (unsigned long long)r->size, (long long)r->mtime_s,
				 (long long)r->mtime_ns, (long long)r->ctime_s,
				 (long long)r->ctime_ns, r->crc);
	}
	if (err == TRAWL_ELIMIT) {
		/* Too many shards to remember: an empty record (every shard verified each time). */
		buf_reset(&b);
		err = buf_puts(&b, HEADER);
	}
	if (err == 0)
		err = file_write_atomic(sc->path, b.ptr, b.len);
	if (err == 0)
		sc->is_dirty = false;
	buf_dispose(&b);
	return err;
}
