/*
 * libgit2 under confinement (sandbox/confine.h): a fetch worker's role mirrors a repository
 * (libgit2's local transport, which writes a pack like any fetch), and an index worker's role
 * opens a repository, resolves its branch and reads a blob, loose and from that pack. Before
 * confining, libgit2 is told to read no system, global or XDG configuration: those files lie
 * outside the worker's trees (docs/internals/sandbox.md).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "git/mirror.h"
#include "git/repo.h"
#include "util/error.h"

#include "unit/git/fixture.h"
#include "unit/sandbox/confine_fixture.h"

static git_oid blob_id;
static char src[512], mirrors[512], work[512], mirror[600], clone[600];

static int setup(void **state)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
				      GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL };
	git_repository *repo;
	struct fx_entry e = { .mode = "100644", .name = "file.txt" };

	if (fx_setup(state) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(levels) / sizeof(*levels); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return -1;
	snprintf(src, sizeof(src), "%s", fx_path("src.git"));
	snprintf(mirrors, sizeof(mirrors), "%s", fx_path("mirrors"));
	snprintf(work, sizeof(work), "%s", fx_path("work"));
	snprintf(mirror, sizeof(mirror), "%s/m.git", mirrors);
	snprintf(clone, sizeof(clone), "%s/clone.tmp", mirrors);
	if (mkdir(mirrors, 0755) < 0 || mkdir(work, 0755) < 0)
		return -1;
	repo = fx_repo("src.git", true);
	e.id = blob_id = fx_blob(repo, "hello from a confined worker\n");
	fx_commit(repo, fx_tree(repo, &e, 1), "refs/heads/main");
	if (git_repository_set_head(repo, "refs/heads/main") < 0)
		return -1;
	git_repository_free(repo);
	return 0;
}

static int read_blob(void *arg)
{
	struct gitrepo_oid tree, id;
	char commit[GITREPO_OID_HEXSZ + 1];
	struct gitrepo_blob b = { 0 };
	struct gitrepo *r = NULL;

	CHILD_CHECK(gitrepo_open(&r, arg) == 0);
	CHILD_CHECK(gitrepo_resolve(&tree, commit, r, "main") == 0);
	memcpy(id.id, blob_id.id, sizeof(id.id));
	CHILD_CHECK(gitrepo_blob_read(&b, r, &id, 1 << 20) == 0);
	CHILD_CHECK(b.len == 29 && memcmp(b.data, "hello from a confined worker\n", 29) == 0);
	gitrepo_blob_dispose(&b);
	gitrepo_close(r);
	return 0;
}

static int fetch(void *arg)
{
	struct gitmirror_opts o = { .policy = { .allow_local = true } };
	struct gitmirror_result res;
	int err;

	(void)arg;
	err = gitmirror_sync(&res, mirror, clone, src, &o);
	if (err < 0)
		dprintf(cf_report_fd, "gitmirror_sync: %s\n", error_last());
	CHILD_CHECK(err == 0 && res.cloned);
	return 0;
}

static struct confine_spec spec(enum confine_role role, const char **ro, const char **rw)
{
	return (struct confine_spec){
		.role = role,
		.read_paths = ro,
		.n_read = 1,
		.write_paths = rw,
		.n_write = 1,
		.report_fd = -1,
	};
}

static void index_role_reads_a_loose_blob(void **state)
{
	const char *ro[] = { src }, *rw[] = { work };
	struct cf_run r;

	(void)state;
	cf_run(&r, spec(CONFINE_INDEX, ro, rw), read_blob, src);
	assert_true(cf_exited(&r, 0));
	assert_true(r.st.seccomp);
}

static void fetch_role_mirrors_then_index_role_reads_the_pack(void **state)
{
	const char *ro[] = { src }, *rw[] = { mirrors }, *ro2[] = { mirror }, *rw2[] = { work };
	struct cf_run r;
	struct stat st;

	(void)state;
	cf_run(&r, spec(CONFINE_FETCH, ro, rw), fetch, NULL);
	assert_true(cf_exited(&r, 0));
	/* The clone is left for the unconfined parent to rename, as trawl sync does. */
	assert_int_equal(stat(mirror, &st), -1);
	assert_int_equal(rename(clone, mirror), 0);
	assert_int_equal(stat(mirror, &st), 0);
	cf_run(&r, spec(CONFINE_INDEX, ro2, rw2), read_blob, mirror);
	assert_true(cf_exited(&r, 0));
}

static int write_into_repository(void *arg)
{
	char path[700];
	int fd;

	snprintf(path, sizeof(path), "%s/objects/evil", (const char *)arg);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	return 0;
}

static void index_role_cannot_change_the_repository(void **state)
{
	const char *ro[] = { src }, *rw[] = { work };
	struct cf_run r;

	(void)state;
	cf_run(&r, spec(CONFINE_INDEX, ro, rw), write_into_repository, src);
	if (r.st.landlock_abi == 0)
		skip();
	assert_true(cf_exited(&r, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_role_reads_a_loose_blob),
		cmocka_unit_test(fetch_role_mirrors_then_index_role_reads_the_pack),
		cmocka_unit_test(index_role_cannot_change_the_repository),
	};

	return cmocka_run_group_tests(tests, setup, fx_teardown);
}
