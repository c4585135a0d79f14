/*
 * trawl worker fetch|index: the sandboxed halves of `trawl sync` (docs/internals/sandbox.md,
 * "Workers"). Internal: `trawl sync` starts one per repository and step, with everything it
 * needs on the argv; a worker never opens the registry, confines itself (sandbox/confine.h)
 * before it touches repository data, and writes its result as messages (sandbox/wire.h) on
 * descriptor 3, its diagnostics on standard error. Exit status 0 when it sent a result, 2
 * after a WIRE_ERROR message or a usage error.
 *
 * Test hooks, only in the test binary trawl-test (built with TRAWL_TEST_HOOKS; the release
 * trawl has none and ignores these variables), read from the environment and used by
 * tests/e2e/test_workers.sh: with
 * TRAWL_TEST_WORKER_PAUSE=fetch|index|show the worker of that role stops once confined (the
 * index worker after writing its shards, before it reports them) and waits to be killed, with
 * TRAWL_TEST_WORKER_PAUSE=fetch-objects the fetch worker stops once the first objects of its
 * fetch arrived (a first clone: half-way); with TRAWL_TEST_WORKER_SYSCALL=fetch|index|show it
 * calls socket() once confined, which the index role (the show worker's too) forbids (with =index-execve the index worker
 * calls execve(), which it may not either, its ctags launcher notwithstanding); with
 * TRAWL_TEST_WORKER_READ=PATH the
 * confined index worker tries to open PATH and says on standard error whether it could ("test
 * read PATH: ok" or the error), and TRAWL_TEST_WORKER_FETCH_READ and _FETCH_WRITE (each a list
 * of paths separated by ':') make the confined fetch worker try to open each path for reading,
 * resp. for appending (nothing is written), and say so the same way ("test write PATH: ...");
 * with TRAWL_TEST_WORKER_FETCH_LINK=TARGET the fetch worker, its fetch done, moves its mirror
 * aside and leaves a symlink to TARGET in its place, as one taken over could. None does
 * anything the worker could not do anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "build/outwire.h"
#include "cli/cli.h"
#include "cli/worker_int.h"
#include "cli/gitmod.h"
#include "git/cred.h"
#include "index/shard.h"
#include "sandbox/confine.h"
#include "sandbox/wire.h"
#include "sandbox/worker.h"
#include "symbols/ctags.h"
#include "symbols/symbols.h"
#include "util/error.h"
#include "util/sanitizer.h"
#include "util/file.h"

const struct cli_help cli_help_worker = {
	.synopsis = "trawl worker fetch --mirror DIR --clone DIR --url URL --data DIR\n"
		    "                   [--credential-of FILE]\n"
		    "                   [--known-hosts FILE] [--allow-insecure] [--allow-local]\n"
		    "                   [--allow-private]\n"
		    "trawl worker index --mirror DIR --index DIR --work DIR --name NAME\n"
		    "                   [--branch PATTERN]... [--max-file-size N] [--max-files N]\n"
		    "                   [--max-bytes N] [--max-seconds N]\n"
		    "                   [--symbols [--symbols-timeout MS]]\n"
		    "trawl worker show --data DIR\n",
	.summary = "internal: the sandboxed fetch and index steps of trawl sync, and the server's\n"
		   "reads of a mirror (show)",
	.options =
		"Started by trawl sync, one process per repository and step; not for use by hand.\n"
		"Writes its result as messages on descriptor 3, which must be a pipe\n"
		"(docs/internals/sandbox.md, \"Workers\"). show is started by trawl serve for a\n"
		"commit permalink no indexed branch is at: it reads its request on standard input\n"
		"and answers on standard output, one socket (\"The show worker\").\n"
		"\n"
		"  --mirror DIR        the repository's bare mirror\n"
		"  --clone DIR         fetch: where a first clone goes (beside the mirror), for\n"
		"                      trawl sync to rename; the fetch writes their directory only\n"
		"  --url URL           fetch: the URL, checked again under the --allow-* policy\n"
		"  --data DIR          fetch: the data directory, which a local repository's\n"
		"                      links may not name; show: the one whose mirror it reads\n"
		"  --credential-of FILE\n"
		"                      fetch: descriptor 4 holds the entry of the credentials file\n"
		"                      FILE for the URL (named in messages, never opened)\n"
		"  --known-hosts FILE  fetch: the pinned SSH host keys\n"
		"  --index DIR         index: the index directory, read for an incremental run\n"
		"  --work DIR          index: the empty directory the new shards go into\n"
		"  --name NAME         index: the repository's name\n"
		"  --branch PATTERN    index: a branch name or glob (repeatable; none: HEAD)\n"
		"  --max-file-size N, --max-files N, --max-bytes N, --max-seconds N\n"
		"                      index: the limits of trawl sync (docs/operations.md)\n"
		"  --symbols           index: also extract symbols with ctags, started by a launcher\n"
		"                      forked before the worker confines itself\n"
		"                      (docs/internals/symbols.md)\n"
		"  --symbols-timeout MS\n"
		"                      index: a file's symbols are given up after MS milliseconds\n"
		"  -h, --help          this usage\n",
};

struct worker_args {
	const char *mirror, *clone, *url, *credentials, *known_hosts, *index, *work, *name, *data;
	char *branches[CLI_MAX_BRANCH_ARGS];
	size_t n_branches;
	struct gurl_policy policy;
	struct build_opts o;
	struct build_git_limits lim;
	bool has_symbols;
	bool has_entry; /* --entry-fd: the index entry is on WORKER_IN_FD, not read from MANIFEST */
	struct ctags_opts ctags;
};

#ifdef TRAWL_TEST_HOOKS
/* Whether the environment variable name names this role (a test hook). */
static bool test_hook(const char *name, const char *role)
{
	const char *v = getenv(name);

	return v && strcmp(v, role) == 0;
}

/* The test hooks once confined: a forbidden system call, or a pause until killed. */
static void test_hooks(const char *role)
{
	if (test_hook("TRAWL_TEST_WORKER_SYSCALL", role)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0)
			close(fd);
	}
	if (strcmp(role, "index") == 0 && test_hook("TRAWL_TEST_WORKER_SYSCALL", "index-execve")) {
		char *argv[] = { "true", NULL }, *envp[] = { NULL };

		execve("/bin/true", argv, envp);
	}
}

/* Whether the confined worker may open path (its Landlock rules), said on standard error. */
static void test_open(const char *role, const char *path, bool is_write)
{
	int fd = open(path, (is_write ? O_WRONLY | O_APPEND : O_RDONLY) | O_CLOEXEC);

	fprintf(stderr, "trawl: %s worker: test %s %s: %s\n", role, is_write ? "write" : "read",
		path, fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The read test hook of the index worker. */
static void test_read(void)
{
	const char *path = getenv("TRAWL_TEST_WORKER_READ");

	if (path && *path)
		test_open("index", path, false);
}

/* The fetch worker's open hooks: each path of a ':'-separated list, for reading or appending. */
static void test_fetch_opens(void)
{
	static const char *const names[] = { "TRAWL_TEST_WORKER_FETCH_READ",
					     "TRAWL_TEST_WORKER_FETCH_WRITE" };

	for (size_t i = 0; i < 2; i++) {
		const char *v = getenv(names[i]);
		char *list = v && *v ? strdup(v) : NULL, *p = list, *path;

		while (p && (path = strsep(&p, ":")))
			if (*path)
				test_open("fetch", path, i == 1);
		free(list);
	}
}

/* The link test hook: the mirror moved aside (MIRROR.aside) and a symlink to TARGET put there. */
static void test_link(const char *mirror)
{
	const char *target = getenv("TRAWL_TEST_WORKER_FETCH_LINK");
	char aside[4096];

	if (!target || !*target)
		return;
	snprintf(aside, sizeof(aside), "%s.aside", mirror);
	if (rename(mirror, aside) < 0 || symlink(target, mirror) < 0)
		fprintf(stderr, "trawl: fetch worker: test link: %s\n", strerror(errno));
	else
		fprintf(stderr, "trawl: fetch worker: test link %s -> %s\n", mirror, target);
}

static void test_pause(const char *role)
{
	if (test_hook("TRAWL_TEST_WORKER_PAUSE", role)) {
		fprintf(stderr, "trawl: %s worker: paused (TRAWL_TEST_WORKER_PAUSE)\n", role);
		for (;;)
			sleep(60); /* nanosleep: pause() is not on the workers' allow-list */
	}
}

static bool test_pause_wanted(const char *role)
{
	return test_hook("TRAWL_TEST_WORKER_PAUSE", role);
}
#else
/* The release binary: no test hook (docs/internals/testing.md, "The test binary"). */
static void test_hooks(const char *role)
{
	(void)role;
}

static void test_read(void)
{
}

static void test_pause(const char *role)
{
	(void)role;
}

static void test_fetch_opens(void)
{
}

static void test_link(const char *mirror)
{
	(void)mirror;
}

static bool test_pause_wanted(const char *role)
{
	(void)role;
	return false;
}
#endif

/* The directory path is in: the repository's own, the fetch worker's one write tree. */
static char *parent_dir(const char *path)
{
	char *p = strdup(path), *slash;

	if (p && (slash = strrchr(p, '/')) && slash != p)
		*slash = '\0';
	return p;
}


/*
 * Under AddressSanitizer, LeakSanitizer reads its suppressions file (LSAN_OPTIONS'
 * suppressions=PATH) when the process exits, confined by then: the file's path is added to
 * read, when it exists. Nothing in a release build.
 */
static size_t sanitizer_paths(const char **read, size_t n_read, char *buf, size_t len)
{
#if HAS_ASAN
	const char *opts = getenv("LSAN_OPTIONS"), *p;
	size_t n;

	if (!opts || !(p = strstr(opts, "suppressions=")))
		return n_read;
	p += sizeof("suppressions=") - 1;
	n = strcspn(p, ": ");
	if (n == 0 || n >= len)
		return n_read;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (access(buf, R_OK) == 0)
		read[n_read++] = buf;
#else
	(void)read;
	(void)buf;
	(void)len;
#endif
	return n_read;
}

/* THE confinement of a worker: worker_int.h. */
int worker_confine(enum confine_role role, const char *const *read, size_t n_read,
		   const char *const *write, size_t n_write, int keep_fd, bool without_tls)
{
	const int keep[] = { WORKER_MSG_FD, keep_fd };
	const char **reads;
	char supp[1024];
	struct confine_spec spec = {
		.role = role,
		.write_paths = write,
		.n_write = n_write,
		.keep_fds = keep,
		.n_keep_fds = keep_fd >= 0 ? 2 : 1,
		.report_fd = 2,
	};
	struct confine_status st;
	int err;

	if (!(reads = calloc(n_read + 1, sizeof(*reads))))
		return error_nomem(NULL);
	memcpy(reads, read, n_read * sizeof(*read));
	spec.read_paths = reads;
	spec.n_read = sanitizer_paths(reads, n_read, supp, sizeof(supp));
	spec.without_tls = without_tls;
	/* libgit2 starts confined (gitmod_load): it reads what its sandbox lets it, no more. */
	err = confine_apply(&spec, &st);
	if (err >= 0)
		err = gitmod.init();
	if (err >= 0)
		err = gitmod.config_isolate();
	free(reads);
	if (err < 0)
		return err;
	if (st.detail[0])
		fprintf(stderr, "trawl: %s worker: %s\n", confine_role_name(role), st.detail);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

int worker_send_error(int fd, int err)
{
	struct wire_out o;

	wire_out_begin(&o, WIRE_ERROR);
	wire_put_str(&o, error_last()[0] ? error_last() : error_name(err));
	wire_put_u32(&o, (uint32_t)-err);
	if (wire_send(&o, fd) < 0)
		cli_report(err);
	return EXIT_ERROR;
}

static int send_error(int err)
{
	return worker_send_error(WORKER_MSG_FD, err);
}

void worker_test_confined(const char *role)
{
	test_hooks(role);
	test_pause(role);
}

/*
 * The progress hook of TRAWL_TEST_WORKER_PAUSE=fetch-objects: once objects arrive (a first
 * clone is then half-written in its temporary directory), the worker stops until killed.
 */
static int test_pause_objects(unsigned received, unsigned total, void *arg)
{
	(void)received;
	(void)total;
	(void)arg;
	test_pause("fetch-objects");
	return 0;
}

#define LOCAL_DIRS_MAX 9
#define GIT_LINK_MAX 4096

/* What a local repository's path or link must resolve to (local_dir_check). */
enum local_kind {
	LOCAL_TREE,    /* the registered path: any directory */
	LOCAL_GITDIR,  /* a `.git` file's target, a commondir: holds HEAD or objects/ */
	LOCAL_OBJECTS, /* an alternates entry: an object directory, which holds pack/ */
};

/* Whether real (resolved) is data or lies inside it. */
static bool path_within(const char *real, const char *data)
{
	size_t n = strlen(data);

	return strncmp(real, data, n) == 0 && (real[n] == '\0' || real[n] == '/' || n == 1);
}

/* Whether the directory dir holds name (a file or a directory as is_dir says). */
static bool dir_holds(const char *dir, const char *name, bool is_dir)
{
	char *p = file_join(dir, name);
	struct stat st;
	bool ok = p && stat(p, &st) == 0 && (is_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));

	free(p);
	return ok;
}

/*
 * SECURITY: a local repository's path and git links are written by whoever writes that
 * repository, not by the operator, and each becomes a read rule of the confined fetch worker.
 * target is resolved (realpath: no link left in it, so the rule is the tree it names) into *out
 * (a new string) only when it is a directory of the kind expected and neither /, nor inside
 * the data directory data (resolved), nor above it: a `.git` file naming another repository's
 * mirror, or alternates naming /, would hand the worker what trawl keeps from it. EPERM with a
 * message naming file (the link, or "the path") and target; ENOTFOUND when target is missing.
 */
static int local_dir_check(char **out, const char *data, const char *repo, const char *file,
			   const char *target, enum local_kind kind)
{
	char *real = realpath(target, NULL);
	const char *why = NULL;
	struct stat st;
	int err = 0;

	*out = NULL;
	if (!real) {
		if (errno == ENOMEM)
			return error_nomem(NULL);
		return TRAWL_ENOTFOUND;
	}
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (strcmp(real, "/") == 0 || path_within(real, data) || path_within(data, real))
		why = "the root, the data directory, or a directory inside or above it";
	else if (kind == LOCAL_GITDIR && !dir_holds(real, "HEAD", false) &&
		 !dir_holds(real, "objects", true))
		why = "not a git directory (no HEAD, no objects/)";
	else if (kind == LOCAL_OBJECTS && !dir_holds(real, "pack", true))
		why = "not a git object directory (no pack/)";
	if (why) {
		error_set("local repository %s: %s names %s%s%s%s, %s: refused", repo, file, target,
			  strcmp(real, target) ? " (" : "", strcmp(real, target) ? real : "",
			  strcmp(real, target) ? ")" : "", why);
		err = TRAWL_EPERM;
		free(real);
		return err;
	}
	*out = real;
	return 0;
}

/*
 * The first line of file (a git link: `.git` as a file, `commondir`, an alternates entry) with
 * prefix removed, joined to base when relative, into *out (a new string, NULL when there is
 * none). The link file itself is read only when it lies outside the data directory data (its
 * text goes into messages) and is not a symlink.
 */
static int git_link(char **out, const char *data, const char *base, const char *dir, const char *file,
		    const char *prefix, size_t skip_lines)
{
	char *path = file_join(dir, file), *real = NULL, *text = NULL, *line;
	size_t len = 0, plen = strlen(prefix);
	int err = 0;

	*out = NULL;
	if (!path) {
		err = error_nomem(NULL);
		goto done;
	}
	if (!(real = realpath(path, NULL)) || path_within(real, data) ||
	    file_read_all(&text, &len, path, GIT_LINK_MAX) < 0)
		goto done;
	line = text;
	for (size_t i = 0; i < skip_lines && line; i++)
		if ((line = strchr(line, '\n')))
			line++;
	if (!line || strncmp(line, prefix, plen) != 0)
		goto done;
	line += plen;
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] && !(*out = line[0] == '/' ? strdup(line) : file_join(base, line)))
		err = error_nomem(NULL);
done:
	free(path);
	free(real);
	free(text);
	return err;
}

/*
 * The local repository at path: its tree and its git directories outside it, which libgit2
 * reads through links once confined: the directory a `.git` file names (a worktree,
 * --separate-git-dir), its `commondir`, and the object directories `objects/info/alternates`
 * names (first entries). Each existing one, resolved and checked (local_dir_check), is added to
 * dirs (new strings, *n of them, at most LOCAL_DIRS_MAX); a link whose target is missing is
 * left to libgit2. EPERM when one is refused, ENOMEM.
 */
static int local_git_dirs(char **dirs, size_t *n, const char *path, const char *data)
{
	char *link = NULL, *gitdir = NULL, *common = NULL, *dotgit = NULL, *objects = NULL;
	const char *bases[2] = { NULL, NULL };
	int err;

	*n = 0;
	err = local_dir_check(&dirs[0], data, path, "the path", path, LOCAL_TREE);
	if (err < 0)
		return err == TRAWL_ENOTFOUND ? 0 : err;
	(*n)++;
	bases[0] = dirs[0];
	if ((err = git_link(&link, data, path, path, ".git", "gitdir: ", 0)) < 0)
		goto out;
	if (!link && !(dotgit = file_join(path, ".git"))) {
		err = error_nomem(NULL);
		goto out;
	}
	/* A `.git` file's target, or a .git directory, which may link out of the path's tree. */
	err = local_dir_check(&gitdir, data, path, ".git", link ? link : dotgit, LOCAL_GITDIR);
	if (err < 0 && err != TRAWL_ENOTFOUND)
		goto out;
	if (gitdir) {
		dirs[(*n)++] = gitdir;
		bases[0] = gitdir;
		free(link);
		if ((err = git_link(&link, data, gitdir, gitdir, "commondir", "", 0)) < 0)
			goto out;
		err = link ? local_dir_check(&common, data, path, "commondir", link, LOCAL_GITDIR)
			   : 0;
		if (err < 0 && err != TRAWL_ENOTFOUND)
			goto out;
		if (common) {
			dirs[(*n)++] = common;
			bases[1] = common;
		}
	}
	for (size_t b = 0; b < 2; b++) {
		free(objects);
		objects = bases[b] ? file_join(bases[b], "objects") : NULL;
		for (size_t k = 0; objects && k < 4 && *n < LOCAL_DIRS_MAX; k++) {
			char *alt = NULL;

			free(link);
			if ((err = git_link(&link, data, objects, objects, "info/alternates", "",
					    k)) < 0)
				goto out;
			if (!link)
				break;
			err = local_dir_check(&alt, data, path, "objects/info/alternates", link,
					      LOCAL_OBJECTS);
			if (err < 0 && err != TRAWL_ENOTFOUND)
				goto out;
			if (alt)
				dirs[(*n)++] = alt;
		}
	}
	err = 0;
out:
	free(link);
	free(dotgit);
	free(objects);
	return err;
}

/*
 * The fetch worker writes the repository's own directory only (DATA/repos/ID: its mirror and
 * the first clone's temporary directory, both in there) and reads, beyond its role's system
 * trees, the pinned host keys, the one SSH key file its credential names (trawl sync handed it
 * that entry alone, on WORKER_IN_FD: it never sees the credentials file nor another host's
 * entry), and a local repository's trees.
 */
static int worker_fetch(const struct worker_args *a)
{
	struct gcred cred = { 0 };
	struct gitmirror_opts mo = { .policy = a->policy,
				     .cred = a->credentials ? &cred : NULL,
				     .credentials = a->credentials,
				     .known_hosts = a->known_hosts };
	struct gitmirror_result res = { 0 };
	const char *read[2 + LOCAL_DIRS_MAX], *write[1];
	char *dir = parent_dir(a->mirror), *local[LOCAL_DIRS_MAX], *data = NULL;
	size_t n_read = 0, n_local = 0;
	struct wire_out o;
	int err, ret = 0;

	if (!dir) {
		err = error_nomem(NULL);
		goto out;
	}
	if (a->credentials && (err = gcred_read(&cred, WORKER_IN_FD)) < 0)
		goto out;
	if (cred.secret && strncmp(cred.secret, "key:", 4) == 0 && exists(cred.secret + 4))
		read[n_read++] = cred.secret + 4;
	if (exists(a->known_hosts))
		read[n_read++] = a->known_hosts;
	/* A local repository (trawl repo add --allow-local) is read where it is. */
	if (a->policy.allow_local) {
		const char *path = strncmp(a->url, "file://", 7) == 0 ? a->url + 7 : a->url;

		if (path[0] == '/') {
			if (!(data = realpath(a->data, NULL))) {
				error_set("%s: cannot resolve the data directory: %s", a->data,
					  strerror(errno));
				err = TRAWL_EIO;
				goto out;
			}
			if ((err = local_git_dirs(local, &n_local, path, data)) < 0)
				goto out;
			for (size_t i = 0; i < n_local; i++)
				read[n_read++] = local[i];
		}
	}
	write[0] = dir;
	/* No TLS but for https: the system's CA bundle stays out of reach (and unparsed). */
	if ((err = worker_confine(CONFINE_FETCH, read, n_read, write, 1, -1,
				  strncmp(a->url, "https://", 8) != 0)) < 0)
		goto out;
	test_hooks("fetch");
	test_fetch_opens();
	test_pause("fetch");
	if (test_pause_wanted("fetch-objects"))
		mo.progress = test_pause_objects;
	if ((err = gitmod.mirror_sync(&res, a->mirror, a->clone, a->url, &mo)) < 0)
		goto out;
	test_link(a->mirror);
	wire_out_begin(&o, WIRE_FETCH);
	wire_put_u32(&o, (res.cloned ? 1u : 0) | (res.recloned ? 2u : 0) |
			     (res.is_unchanged ? 4u : 0));
	wire_put_str(&o, res.recloned ? res.reclone_reason : "");
	if ((err = wire_send(&o, WORKER_MSG_FD)) == 0) {
		wire_out_begin(&o, WIRE_END);
		err = wire_send(&o, WORKER_MSG_FD);
	}
	if (err < 0) {
		cli_report(err); /* the pipe failed: no message can say why */
		ret = EXIT_ERROR;
		err = 0;
	}
out:
	for (size_t i = 0; i < n_local; i++)
		free(local[i]);
	free(data);
	free(dir);
	gcred_dispose(&cred);
	return err < 0 ? send_error(err) : ret;
}

/*
 * The repository's entry in the index (*has_old false when it has none): the one trawl sync
 * handed over on WORKER_IN_FD (--entry-fd), the entry it read from the MANIFEST it holds
 * WRITERS on, or else read from the MANIFEST. DESIGN: every worker parsing the whole MANIFEST
 * made a first sync of thousands of repositories quadratic.
 */
static int read_entry(struct index_repo_entry *old, bool *has_old, const struct worker_args *a)
{
	static const char what[] = "the index entry from trawl sync";
	char *text = NULL;
	size_t len = 0;
	int err;

	if (!a->has_entry)
		err = index_read_repo(old, a->index, a->name);
	else if ((err = file_read_fd(&text, &len, WORKER_IN_FD, what, INDEX_MANIFEST_MAX)) == 0)
		err = index_entry_parse(old, text, len, what, a->name);
	free(text);
	*has_old = err == 0;
	return err == TRAWL_ENOTFOUND ? 0 : err;
}

/*
 * SECURITY: a compound shard (build/compact.h) holds other repositories' text: the worker of one
 * repository never gets to read it. When any file of *old holds another repository, *old is
 * dropped (*has_old false): the run indexes the repository in full, and its commit replaces
 * the entry, the compound file staying for the others. A file that does not open counts as
 * shared: whether it holds others' text is unknown, and kept it would be readable by the
 * confined run (tests/e2e/test_compact_attack.sh). ENOMEM.
 */
static int drop_if_shared(bool *has_old, struct index_repo_entry *old, const char *index)
{
	bool is_shared = false;

	for (size_t i = 0; i < old->n_shards && !is_shared; i++) {
		char *path = file_join(index, old->shards[i]);
		struct shard *sh = NULL;

		if (!path)
			return error_nomem(NULL);
		is_shared = shard_open(&sh, path) < 0 || shard_n_repos(sh) > 1;
		shard_close(sh);
		free(path);
	}
	if (is_shared) {
		index_repo_entry_dispose(old);
		memset(old, 0, sizeof(*old));
		*has_old = false;
	}
	return 0;
}

/*
 * The index worker reads the mirror and, of the index, only this repository's current shard
 * files (an incremental run reads them): never another repository's shards, whose text it could
 * otherwise copy into its own. Its MANIFEST entry is read before confining (sync, which holds
 * WRITERS so the entry and its files stay as they are, parses the same MANIFEST itself), and
 * each shard file becomes a Landlock rule of its own.
 */
static int worker_index(const struct worker_args *a)
{
	const char *write[] = { a->work }, **read = NULL;
	struct ctags_launcher *launcher = NULL;
	unsigned n_threads;
	struct ctags_opts ctags;
	struct build_opts o;
	struct index_repo_entry old = { 0 };
	struct build_git_output out = { 0 };
	struct build_stats st;
	char **files = NULL;
	size_t n_read = 0;
	bool has_old = false;
	int err;

	if ((err = read_entry(&old, &has_old, a)) < 0)
		return send_error(err);
	if (has_old && (err = drop_if_shared(&has_old, &old, a->index)) < 0)
		return send_error(err);
	if (!(read = calloc(old.n_shards + 1, sizeof(*read))) ||
	    !(files = calloc(old.n_shards + 1, sizeof(*files)))) {
		err = error_nomem(NULL);
		goto out;
	}
	read[n_read++] = a->mirror;
	for (size_t i = 0; has_old && i < old.n_shards; i++) {
		if (!index_shard_name_ok(old.shards[i])) {
			error_set("%s: MANIFEST: bad shard name", a->name);
			err = TRAWL_ECORRUPT;
			goto out;
		}
		if (!(files[i] = file_join(a->index, old.shards[i]))) {
			err = error_nomem(NULL);
			goto out;
		}
		read[n_read++] = files[i];
	}
	/*
	 * The one process left that may start ctags: forked now, before the worker confines. It
	 * lets as many live at once as the run has indexing threads (one ctags each).
	 */
	n_threads = build_n_threads(a->o.n_threads);
	if (a->has_symbols &&
	    (err = ctags_launcher_start(&launcher, n_threads,
					n_threads * (CTAGS_MAX_FAILURES + 1))) < 0)
		goto out;
	ctags = a->ctags;
	ctags.launcher = launcher;
	o = a->o;
	o.symbols = a->has_symbols ? &ctags : NULL;
	if ((err = worker_confine(CONFINE_INDEX, read, n_read, write, 1,
				  launcher ? ctags_launcher_fd(launcher) : -1, false)) < 0)
		goto out;
	test_hooks("index");
	test_read();
	err = gitmod.produce(&st, &out, a->work, a->index, has_old ? &old : NULL, a->name, a->mirror,
			     a->branches, a->n_branches, &o, &a->lim, NULL, NULL);
	if (err == 0 && st.symbols_failed)
		fprintf(stderr,
			"trawl: index worker: %llu files without symbols because ctags failed (trawl "
			"repo status lists them)\n",
			(unsigned long long)st.symbols_failed);
out:
	ctags_launcher_free(launcher);
	for (size_t i = 0; files && i < old.n_shards; i++)
		free(files[i]);
	free(files);
	free(read);
	index_repo_entry_dispose(&old);
	if (err < 0)
		return send_error(err);
	test_pause("index");
	err = outwire_send(WORKER_MSG_FD, &out);
	build_git_output_dispose(&out, NULL);
	if (err < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	return 0;
}

static bool parse_u64(uint64_t *v, const char *flag)
{
	if (cli_parse_size(v, optarg))
		return true;
	cli_errorf("%s: not a number: %s", flag, optarg);
	return false;
}

int cmd_worker(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "clone", required_argument, NULL, 'C' },
		{ "url", required_argument, NULL, 'u' },
		{ "credential-of", required_argument, NULL, 'c' },
		{ "known-hosts", required_argument, NULL, 'k' },
		{ "allow-insecure", no_argument, NULL, 'I' },
		{ "allow-local", no_argument, NULL, 'L' },
		{ "allow-private", no_argument, NULL, 'P' },
		{ "data", required_argument, NULL, 'D' },
		{ "index", required_argument, NULL, 'x' },
		{ "work", required_argument, NULL, 'w' },
		{ "name", required_argument, NULL, 'n' },
		{ "branch", required_argument, NULL, 'b' },
		{ "max-file-size", required_argument, NULL, 'F' },
		{ "max-files", required_argument, NULL, 'N' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "max-seconds", required_argument, NULL, 'S' },
		{ "symbols", no_argument, NULL, 'Y' },
		{ "entry-fd", no_argument, NULL, 'E' },
		{ "symbols-timeout", required_argument, NULL, 'Z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker_args a = { .o = { BUILD_MAX_FILE_SIZE_DEFAULT, 0 } };
	const char *role = argc > 1 ? argv[1] : "";
	bool is_fetch = strcmp(role, "fetch") == 0, is_index = strcmp(role, "index") == 0,
	     is_show = strcmp(role, "show") == 0;
	struct stat st;
	int c, err, ret;

	if (argc > 1 && (strcmp(role, "--help") == 0 || strcmp(role, "-h") == 0))
		return cli_usage("worker", false);
	if (!is_fetch && !is_index && !is_show)
		return cli_usage("worker", true);
	if ((err = worker_bind_to_parent()) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	if ((err = gitmod_load()) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	argc--;
	argv++;
	ret = EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			a.mirror = optarg;
			break;
		case 'C':
			a.clone = optarg;
			break;
		case 'u':
			a.url = optarg;
			break;
		case 'c':
			a.credentials = optarg;
			break;
		case 'k':
			a.known_hosts = optarg;
			break;
		case 'I':
			a.policy.allow_insecure = true;
			break;
		case 'L':
			a.policy.allow_local = true;
			break;
		case 'P':
			a.policy.allow_private = true;
			break;
		case 'D':
			a.data = optarg;
			break;
		case 'x':
			a.index = optarg;
			break;
		case 'w':
			a.work = optarg;
			break;
		case 'n':
			a.name = optarg;
			break;
		case 'b':
			if (!cli_branch_arg(a.branches, &a.n_branches, optarg))
				goto out;
			break;
		case 'F':
			if (!parse_u64(&a.o.max_file_size, "--max-file-size"))
				goto out;
			break;
		case 'N':
			if (!parse_u64(&a.lim.max_files, "--max-files"))
				goto out;
			break;
		case 'B':
			if (!parse_u64(&a.lim.max_bytes, "--max-bytes"))
				goto out;
			break;
		case 'S':
			if (!parse_u64(&a.lim.max_seconds, "--max-seconds"))
				goto out;
			break;
		case 'Y':
			a.has_symbols = true;
			break;
		case 'E':
			a.has_entry = true;
			break;
		case 'Z': {
			uint64_t v;

			if (!parse_u64(&v, "--symbols-timeout"))
				goto out;
			if (v < 1 || v > 3600000) {
				cli_errorf("--symbols-timeout: expected milliseconds from 1 to 3600000");
				goto out;
			}
			a.ctags.timeout_ms = (double)v;
			break;
		}
		case 'h':
			ret = cli_usage("worker", false);
			goto out;
		default:
			ret = cli_usage("worker", true);
			goto out;
		}
	}
	if (optind != argc || (!is_show && !a.mirror) ||
	    (is_fetch && (!a.url || !a.clone || !a.data)) ||
	    (is_index && (!a.index || !a.work || !a.name)) || (is_show && !a.data)) {
		ret = cli_usage("worker", true);
		goto out;
	}
	/* Its request and answer are the socket of the server's sandbox_run, nothing else. */
	if (is_show) {
		if (fstat(WORKER_SHOW_OUT_FD, &st) < 0 || !S_ISSOCK(st.st_mode))
			cli_errorf("worker show: standard output is not a socket: started by "
				   "trawl serve only");
		else
			ret = worker_show(a.data);
		goto out;
	}
	/* Its results go to the parent's pipe only, never to a file that happens to be fd 3. */
	if (fstat(WORKER_MSG_FD, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		cli_errorf("worker: descriptor %d is not a pipe: started by trawl sync only",
			   WORKER_MSG_FD);
		goto out;
	}
	ret = is_fetch ? worker_fetch(&a) : worker_index(&a);
out:
	gitmod.shutdown();
	return ret;
}
