/* The registry's data directory; see datadir.h. */
#include "cli/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/shard.h"
#include "store/policy.h"
#include "store/store.h"
#include "symbols/ctags.h"
#include "util/error.h"
#include "util/file.h"

static int mkdir_private(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST && lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	error_set("cannot create directory %s: %s", dir,
		  errno == EEXIST ? "exists and is not a directory" : strerror(errno));
	return TRAWL_EIO;
}

void datadir_dispose(struct datadir *d)
{
	if (d->lock_fd > 0)
		close(d->lock_fd);
	free(d->root);
	free(d->db);
	free(d->repos);
	free(d->index);
	free(d->credentials);
	free(d->known_hosts);
	free(d->lock);
	free(d->policy);
	memset(d, 0, sizeof(*d));
}

int datadir_init(struct datadir *d, const char *dir, bool create)
{
	const char *env = getenv("TRAWL_DATA");
	struct stat sb;
	int err;

	memset(d, 0, sizeof(*d));
	/* Everything under DATA is private (mirrors, the database, shards): no group or other
	 * access for what this process creates from here on. */
	umask(077);
	if (!dir)
		dir = env && env[0] ? env : DATADIR_DEFAULT;
	d->root = strdup(dir);
	d->db = store_location(dir);
	d->repos = file_join(dir, "repos");
	d->index = file_join(dir, "index");
	d->credentials = file_join(dir, "credentials");
	d->known_hosts = file_join(dir, "known_hosts");
	d->lock = file_join(dir, "sync.lock");
	d->policy = file_join(dir, STORE_POLICY_DIR);
	if (!d->root || !d->db || !d->repos || !d->index || !d->credentials || !d->known_hosts ||
	    !d->lock || !d->policy) {
		datadir_dispose(d);
		return error_nomem(NULL);
	}
	if (!create && stat(dir, &sb) < 0) {
		error_set("no data directory %s (trawl repo add creates one; --data DIR or "
			  "$TRAWL_DATA chooses it)", dir);
		datadir_dispose(d);
		return TRAWL_ENOTFOUND;
	}
	if (create && ((err = mkdir_private(d->root)) < 0 || (err = mkdir_private(d->repos)) < 0 ||
		       (err = mkdir_private(d->index)) < 0)) {
		datadir_dispose(d);
		return err;
	}
	return 0;
}

int datadir_repo_init(struct datadir_repo *p, const struct datadir *d, int64_t id)
{
	char name[32];

	memset(p, 0, sizeof(*p));
	/* SECURITY: named by the id only: a repository's name never becomes a file name. */
	snprintf(name, sizeof(name), "%lld", (long long)id);
	p->dir = file_join(d->repos, name);
	snprintf(name, sizeof(name), "%lld.git", (long long)id);
	p->old = file_join(d->repos, name);
	if (p->dir) {
		p->mirror = file_join(p->dir, "mirror.git");
		p->clone = file_join(p->dir, "clone.tmp");
	}
	if (!p->dir || !p->old || !p->mirror || !p->clone) {
		datadir_repo_dispose(p);
		return error_nomem(NULL);
	}
	return 0;
}

void datadir_repo_dispose(struct datadir_repo *p)
{
	free(p->dir);
	free(p->mirror);
	free(p->clone);
	free(p->old);
	memset(p, 0, sizeof(*p));
}

/* Whether path is a directory itself (lstat: a symlink to one is not). */
static bool is_real_dir(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int datadir_repo_prepare(const struct datadir_repo *p)
{
	struct stat sb;
	char *old_tmp = NULL;
	int err, moved = 0;

	/* SECURITY: an existing p->dir must be a directory itself, never a symlink (lstat). */
	if ((err = mkdir_private(p->dir)) < 0)
		return err;
	/* The layout before: DATA/repos/ID.git, its first clone written beside it as ID.git.tmp. */
	if (lstat(p->old, &sb) == 0) {
		if (S_ISDIR(sb.st_mode) && lstat(p->mirror, &sb) < 0 && errno == ENOENT) {
			if (rename(p->old, p->mirror) < 0) {
				error_set("cannot move the mirror %s to %s: %s", p->old, p->mirror,
					  strerror(errno));
				return TRAWL_EIO;
			}
			moved = 1;
		} else if ((err = datadir_remove_tree(p->old)) < 0) {
			return err; /* not a mirror, or a second copy: the one in p->dir wins */
		}
	}
	if (!(old_tmp = malloc(strlen(p->old) + 5)))
		return error_nomem(NULL);
	memcpy(old_tmp, p->old, strlen(p->old));
	memcpy(old_tmp + strlen(p->old), ".tmp", 5);
	err = datadir_remove_tree(old_tmp);
	free(old_tmp);
	return err < 0 ? err : moved;
}

int datadir_repo_adopt(const struct datadir_repo *p, bool is_cloned)
{
	if (is_cloned) {
		if (!is_real_dir(p->clone)) {
			error_set("the fetch worker's clone %s is not a directory", p->clone);
			return TRAWL_ECORRUPT;
		}
		if (renameat2(AT_FDCWD, p->clone, AT_FDCWD, p->mirror, RENAME_NOREPLACE) < 0) {
			error_set("cannot rename %s to %s: %s", p->clone, p->mirror, strerror(errno));
			return TRAWL_EIO;
		}
	}
	if (!is_real_dir(p->mirror)) {
		error_set("the mirror %s is not a directory after the fetch", p->mirror);
		return TRAWL_ECORRUPT;
	}
	return 0;
}

void datadir_repo_clean(const struct datadir_repo *p)
{
	/* SECURITY: the fetch worker wrote there: removed by descriptors, no path followed. */
	index_work_dir_remove(p->clone);
}

int datadir_repo_remove(const struct datadir_repo *p)
{
	int err = datadir_remove_tree(p->dir);

	return err < 0 ? err : datadir_remove_tree(p->old);
}

int datadir_lock(struct datadir *d)
{
	int fd = open(d->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		error_set("cannot open %s: %s", d->lock, strerror(errno));
		return TRAWL_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		error_set("another trawl sync or repo remove is running on %s", d->root);
		return TRAWL_EPERM;
	}
	d->lock_fd = fd;
	return 0;
}

int datadir_remove_tree(const char *dir)
{
	/* SECURITY: fetch workers wrote there: by descriptors, at any depth, no symlink followed. */
	return file_remove_tree(dir);
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && strcmp(v, "1") == 0;
}

void datadir_policy_env(struct gurl_policy *p)
{
	p->allow_insecure |= env_on("TRAWL_ALLOW_INSECURE");
	p->allow_local |= env_on("TRAWL_ALLOW_LOCAL");
	p->allow_private |= env_on("TRAWL_ALLOW_PRIVATE");
}

void datadir_policy_widen(struct gurl_policy *p, const struct store_policy *stored)
{
	p->allow_insecure |= stored->allow_insecure;
	p->allow_local |= stored->allow_local;
	p->allow_private |= stored->allow_private;
}

int datadir_policy_migrate(const struct datadir *d, struct store *s)
{
	size_t n = 0;
	int err;

	if ((err = store_policy_migrate(&n, s, d->policy)) == 0 && n)
		fprintf(stderr,
			"trawl: wrote the URL policy of %zu repositor%s from the registry to %s; "
			"trawl sync obeys these files from now on\n",
			n, n == 1 ? "y" : "ies", d->policy);
	return err;
}

struct store_policy datadir_policy_to_store(const struct gurl_policy *p)
{
	return (struct store_policy){ .allow_insecure = p->allow_insecure,
				      .allow_local = p->allow_local,
				      .allow_private = p->allow_private };
}

bool datadir_owns(const char *name, const char *index_repo)
{
	return strcmp(index_repo, name) == 0;
}

bool datadir_repo_symbols(const struct store_repo *r)
{
	if (r->symbols == STORE_SYMBOLS_DEFAULT)
		return ctags_installed();
	return r->symbols == STORE_SYMBOLS_ON;
}
