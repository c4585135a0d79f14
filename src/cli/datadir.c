/* The registry's data directory; see datadir.h. */
#include "cli/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/policy.h"
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
	d->db = file_join(dir, "trawl.db");
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

char *datadir_mirror(const struct datadir *d, int64_t id)
{
	char name[32];

	/* SECURITY: named by the id only: a repository's name never becomes a file name. */
	snprintf(name, sizeof(name), "%lld.git", (long long)id);
	return file_join(d->repos, name);
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

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int datadir_remove_tree(const char *dir)
{
	struct stat sb;

	if (lstat(dir, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
	} else if (!S_ISDIR(sb.st_mode) ? unlink(dir) == 0
					: nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0) {
		return 0;
	}
	error_set("cannot remove %s: %s", dir, strerror(errno));
	return TRAWL_EIO;
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
