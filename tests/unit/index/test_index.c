/*
 * Unit tests for the index directory: committing repositories, replacing one (its old files
 * removed, the others untouched), opening with a missing or hostile MANIFEST, and shard file
 * names that are always safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "index/shard.h"
#include "unit/testlib.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"

/* A fresh index directory under the test's temporary directory. */
static const char *fresh_dir(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s", testlib_path(name));
	assert_int_equal(file_mkdirs(p), 0);
	return p;
}

static bool exists(const char *dir, const char *name)
{
	char *p = file_join(dir, name);
	struct stat st;
	bool yes;

	assert_non_null(p);
	yes = stat(p, &st) == 0;
	free(p);
	return yes;
}

/* Writes a one-document shard for repo into dir and returns its (new) file name. */
static char *make_shard(const char *dir, const char *repo, unsigned seq, const char *text)
{
	char *name = index_shard_name(repo, seq);
	char *path;
	struct shard_writer *w = NULL;

	assert_non_null(name);
	path = file_join(dir, name);
	assert_non_null(path);
	assert_int_equal(shard_writer_new(&w, path, repo), 0);
	assert_int_equal(shard_writer_add(w, "f.txt", 5, (const uint8_t *)text, strlen(text),
					  strlen(text), DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	free(path);
	return name;
}

static void write_manifest(const char *dir, const char *json)
{
	char *p = file_join(dir, "MANIFEST");

	assert_non_null(p);
	assert_int_equal(file_write_atomic(p, json, strlen(json)), 0);
	free(p);
}

static void index_commits_two_repositories(void **state)
{
	const char *dir = fresh_dir("two");
	char *a = make_shard(dir, "alpha", 0, "alpha text");
	char *b[2] = { make_shard(dir, "beta", 0, "beta one"), make_shard(dir, "beta", 1, "b2") };
	struct index *ix = NULL;

	(void)state;
	assert_int_equal(index_commit_repo(dir, "alpha", &a, 1), 0);
	assert_int_equal(index_commit_repo(dir, "beta", b, 2), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_shards(ix), 3);
	assert_string_equal(shard_repo(index_shard(ix, 0)), "alpha");
	assert_string_equal(shard_repo(index_shard(ix, 1)), "beta");
	assert_string_equal(shard_repo(index_shard(ix, 2)), "beta");
	assert_null(index_shard(ix, 3));
	index_close(ix);
	free(a);
	free(b[0]);
	free(b[1]);
}

static void index_recommit_replaces_and_removes_old_files(void **state)
{
	const char *dir = fresh_dir("recommit");
	char *a1 = make_shard(dir, "alpha", 0, "old alpha");
	char *b = make_shard(dir, "beta", 0, "beta");
	char *a2[2] = { make_shard(dir, "alpha", 0, "new alpha"), make_shard(dir, "alpha", 1, "x") };
	struct index *ix = NULL;
	struct shard_doc d;

	(void)state;
	assert_int_equal(index_commit_repo(dir, "alpha", &a1, 1), 0);
	assert_int_equal(index_commit_repo(dir, "beta", &b, 1), 0);
	/* A reader holding the old shard keeps it usable after the swap. */
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_commit_repo(dir, "alpha", a2, 2), 0);
	assert_int_equal(shard_doc(&d, index_shard(ix, 0), 0), 0);
	assert_memory_equal(d.content, "old alpha", 9);
	index_close(ix);

	assert_false(exists(dir, a1));
	assert_true(exists(dir, a2[0]));
	assert_true(exists(dir, a2[1]));
	assert_true(exists(dir, b));
	assert_int_equal(index_open(&ix, dir), 0);
	/* The replaced repository keeps its place; the other is untouched. */
	assert_int_equal(index_n_shards(ix), 3);
	assert_string_equal(shard_repo(index_shard(ix, 0)), "alpha");
	assert_int_equal(shard_doc(&d, index_shard(ix, 0), 0), 0);
	assert_memory_equal(d.content, "new alpha", 9);
	assert_string_equal(shard_repo(index_shard(ix, 2)), "beta");
	index_close(ix);

	/* Re-committing the same file list keeps the files. */
	assert_int_equal(index_commit_repo(dir, "alpha", a2, 2), 0);
	assert_true(exists(dir, a2[0]));
	free(a1);
	free(b);
	free(a2[0]);
	free(a2[1]);
}

static void index_open_without_manifest_is_not_found(void **state)
{
	const char *dir = fresh_dir("nothing");
	struct index *ix = NULL;
	char want[600];

	(void)state;
	assert_int_equal(index_open(&ix, dir), TRAWL_ENOTFOUND);
	assert_null(ix);
	snprintf(want, sizeof(want), "%s: no trawl index here (no MANIFEST)", dir);
	assert_string_equal(error_last(), want);
	assert_int_equal(index_open(&ix, "/nonexistent/trawl/dir"), TRAWL_ENOTFOUND);
}

static void index_open_accepts_empty_repository_list(void **state)
{
	const char *dir = fresh_dir("empty");
	struct index *ix = NULL;

	(void)state;
	write_manifest(dir, "{\"version\":1,\"repos\":[]}");
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_shards(ix), 0);
	index_close(ix);
	/* An empty shard list for a repository is fine too. */
	assert_int_equal(index_commit_repo(dir, "none", NULL, 0), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_shards(ix), 0);
	index_close(ix);
}

static void expect_manifest_refused(const char *dir, const char *json)
{
	struct index *ix = NULL;

	write_manifest(dir, json);
	error_clear();
	assert_int_equal(index_open(&ix, dir), TRAWL_ECORRUPT);
	assert_null(ix);
	assert_non_null(strstr(error_last(), "MANIFEST"));
}

static void index_refuses_manifest_naming_files_outside(void **state)
{
	static const char *bad[] = {
		"../x", "../x.shard", "/etc/passwd", "a/b.shard", ".hidden.shard", "..", ".",
		"x", "MANIFEST", "LOCK", "", "a.shard/", "x.shard.tmp.abcdef",
	};
	const char *dir = fresh_dir("hostile");
	char json[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"version\":1,\"repos\":[{\"name\":\"r\",\"shards\":[\"%s\"]}]}", bad[i]);
		expect_manifest_refused(dir, json);
	}
	/* A NUL inside a name must not cut it to something acceptable. */
	expect_manifest_refused(dir, "{\"version\":1,\"repos\":[{\"name\":\"r\",\"shards\":"
				     "[\"ok.shard\\u0000/../../x\"]}]}");
}

static void index_refuses_malformed_manifests(void **state)
{
	const char *dir = fresh_dir("malformed");

	(void)state;
	expect_manifest_refused(dir, "not json");
	expect_manifest_refused(dir, "{\"version\":1}");
	expect_manifest_refused(dir, "{\"version\":\"1\",\"repos\":[]}");
	expect_manifest_refused(dir, "{\"version\":3,\"repos\":[]}");
	assert_non_null(strstr(error_last(), "newer"));
	expect_manifest_refused(dir, "{\"version\":0,\"repos\":[]}");
	expect_manifest_refused(dir, "{\"version\":1,\"repos\":[5]}");
	expect_manifest_refused(dir, "{\"version\":1,\"repos\":[{\"name\":\"\",\"shards\":[]}]}");
	expect_manifest_refused(dir, "{\"version\":1,\"repos\":[{\"name\":\"r\",\"shards\":[]},"
				     "{\"name\":\"r\",\"shards\":[]}]}");
	assert_non_null(strstr(error_last(), "repository \"r\" listed twice"));
	expect_manifest_refused(dir, "{\"version\":1,\"repos\":[{\"name\":\"r\",\"shards\":"
				     "[\"a.shard\",\"a.shard\"]}]}");
	assert_non_null(strstr(error_last(), "repository \"r\" lists shard a.shard twice"));
	expect_manifest_refused(dir, "{\"version\":1,\"version\":1,\"repos\":[]}");
}

/* Duplicates far apart in a long MANIFEST are found (sorted, not compared pairwise). */
static void index_refuses_duplicates_in_a_long_manifest(void **state)
{
	const char *dir = fresh_dir("longdup");
	struct buf b;

	(void)state;
	for (int kind = 0; kind < 2; kind++) {
		buf_init(&b, UINT32_MAX);
		assert_true(buf_puts(&b, "{\"version\":1,\"repos\":[") == 0);
		/* kind 1: the last repository lists its shard twice, 3,000 listings apart. */
		for (int i = 0; i < 3000; i++)
			assert_true(buf_printf(&b, "%s{\"name\":\"r%d\",\"shards\":[\"f%d.shard\"%s]}",
					       i ? "," : "", kind == 0 && i == 2999 ? 7 : i, i,
					       kind == 1 && i == 2999 ? ",\"a.shard\",\"f2999.shard\""
								      : "") == 0);
		assert_true(buf_puts(&b, "]}") == 0);
		assert_true(buf_putc(&b, '\0') == 0);
		expect_manifest_refused(dir, b.ptr);
		assert_non_null(strstr(error_last(),
				       kind == 0 ? "repository \"r7\" listed twice"
						 : "repository \"r2999\" lists shard f2999.shard twice"));
		buf_dispose(&b);
	}
}

/* Version 2 git keys: branches, overlay, base_shards; each malformed one is refused. */
static void index_refuses_malformed_git_metadata(void **state)
{
	const char *dir = fresh_dir("malformed-git");
	static const char *const bad[] = {
		/* two default branches */
		"\"branches\":[{\"name\":\"a\",\"default\":true},{\"name\":\"b\",\"default\":true}]",
		/* a branch twice */
		"\"branches\":[{\"name\":\"a\"},{\"name\":\"a\"}]",
		/* a commit that is not hex */
		"\"branches\":[{\"name\":\"a\",\"commit\":\"zz\"}]",
		/* an empty branch name */
		"\"branches\":[{\"name\":\"\"}]",
		/* an overlay naming a shard the repository does not list */
		"\"branches\":[{\"name\":\"a\"}],\"overlay\":[{\"shard\":\"x.shard\",\"doc\":0,"
		"\"branches\":[0]}]",
		/* an overlay naming a branch that does not exist */
		"\"branches\":[{\"name\":\"a\"}],\"overlay\":[{\"shard\":\"s.shard\",\"doc\":0,"
		"\"branches\":[1]}]",
		/* branches not ascending */
		"\"branches\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"overlay\":[{\"shard\":"
		"\"s.shard\",\"doc\":0,\"branches\":[1,0]}]",
		/* the same document twice */
		"\"branches\":[{\"name\":\"a\"}],\"overlay\":[{\"shard\":\"s.shard\",\"doc\":0,"
		"\"branches\":[]},{\"shard\":\"s.shard\",\"doc\":0,\"branches\":[0]}]",
		/* a negative document */
		"\"overlay\":[{\"shard\":\"s.shard\",\"doc\":-1,\"branches\":[]}]",
		/* more base shards than shards */
		"\"base_shards\":2",
		"\"branches\":5",
	};
	char json[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"version\":2,\"repos\":[{\"name\":\"r\",\"shards\":[\"s.shard\"],%s}]}",
			 bad[i]);
		expect_manifest_refused(dir, json);
	}
}

static void index_refuses_shard_of_another_repository(void **state)
{
	const char *dir = fresh_dir("mismatch");
	char *s = make_shard(dir, "private", 0, "secret");
	char json[512];
	struct index *ix = NULL;

	(void)state;
	snprintf(json, sizeof(json),
		 "{\"version\":1,\"repos\":[{\"name\":\"public\",\"shards\":[\"%s\"]}]}", s);
	write_manifest(dir, json);
	assert_int_equal(index_open(&ix, dir), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), s));
	free(s);
}

static void index_open_reports_corrupt_shard_by_name(void **state)
{
	const char *dir = fresh_dir("corrupt");
	char *s = make_shard(dir, "r", 0, "some text");
	char *p = file_join(dir, s);
	struct index *ix = NULL;

	(void)state;
	assert_int_equal(index_commit_repo(dir, "r", &s, 1), 0);
	assert_int_equal(truncate(p, 100), 0);
	assert_int_equal(index_open(&ix, dir), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), s));
	free(p);
	free(s);
}

static void index_commit_refuses_bad_names(void **state)
{
	const char *dir = fresh_dir("badnames");
	char *ok = make_shard(dir, "r", 0, "x");
	char *dotdot = "../x.shard", *dup[2] = { ok, ok };

	(void)state;
	assert_int_equal(index_commit_repo(dir, "r", &dotdot, 1), TRAWL_EINVAL);
	assert_int_equal(index_commit_repo(dir, "r", dup, 2), TRAWL_EINVAL);
	assert_int_equal(index_commit_repo(dir, "", &ok, 1), TRAWL_EINVAL);
	assert_int_equal(index_commit_repo(dir, "bad\xff", &ok, 1), TRAWL_EINVAL);
	assert_false(exists(dir, "MANIFEST"));
	assert_int_equal(index_commit_repo(dir, "r", &ok, 1), 0);
	/* A file already listed for one repository cannot be claimed by another. */
	assert_int_equal(index_commit_repo(dir, "s", &ok, 1), TRAWL_EINVAL);
	free(ok);
}

static void index_commit_keeps_files_named_by_hostile_manifest(void **state)
{
	const char *dir = fresh_dir("keep");
	char *s = make_shard(dir, "r", 0, "x");
	char victim[600];

	(void)state;
	snprintf(victim, sizeof(victim), "%s/../victim.shard", dir);
	assert_int_equal(file_write_atomic(victim, "precious", 8), 0);
	write_manifest(dir, "{\"version\":1,\"repos\":[{\"name\":\"r\",\"shards\":"
			    "[\"../victim.shard\"]}]}");
	assert_int_equal(index_commit_repo(dir, "r", &s, 1), TRAWL_ECORRUPT);
	assert_int_equal(access(victim, F_OK), 0);
	unlink(victim);
	free(s);
}

static bool name_is_safe(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || n[0] == '.' || len < 7 || strcmp(n + len - 6, ".shard") != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static void shard_names_are_safe_and_unique(void **state)
{
	static const char *repos[] = { "linux", "../../etc/passwd", "", ".hidden", "a/b c\\d",
				       "caf\xc3\xa9", "-dash", "\n\t",
				       "a-very-long-repository-name-that-goes-on-and-on-and-on-"
				       "and-on-past-sixty-four-characters" };
	char *prev = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(repos) / sizeof(repos[0]); i++) {
		char *n = index_shard_name(repos[i], (unsigned)i * 1000000u);

		assert_non_null(n);
		if (!name_is_safe(n))
			fail_msg("unsafe shard name \"%s\" for \"%s\"", n, repos[i]);
		assert_true(strlen(n) <= 64 + 1 + 16 + 1 + 10 + 6);
		if (prev)
			assert_string_not_equal(n, prev);
		free(prev);
		prev = n;
	}
	free(prev);
	{
		char *x = index_shard_name("same", 0), *y = index_shard_name("same", 0);

		assert_string_not_equal(x, y);
		assert_int_equal(strncmp(x, "same-", 5), 0);
		free(x);
		free(y);
	}
}

/* A shard of repo with branches {x, y} holding three documents: on x, on y, on both. */
static char *make_branch_shard(const char *dir, const char *repo)
{
	static char *const branches[] = { "y", "x" }; /* shard order differs from the MANIFEST's */
	char *name = index_shard_name(repo, 0), *path = file_join(dir, name);
	struct shard_writer *w = NULL;
	static const uint8_t sets[] = { 2, 1, 3 };

	assert_int_equal(shard_writer_new(&w, path, repo), 0);
	assert_int_equal(shard_writer_set_branches(w, branches, 2), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(shard_writer_add_git(w, "f", 1, (const uint8_t *)"abc", 3, 3,
						      DOC_INDEXED, 0, NULL, &sets[i], 1), 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	free(path);
	return name;
}

static uint64_t doc_set(const struct index *ix, uint32_t doc)
{
	struct shard_doc d;
	uint64_t set = 0;

	assert_int_equal(shard_doc(&d, index_shard(ix, 0), doc), 0);
	index_doc_branches(&set, 1, ix, 0, doc, &d);
	return set;
}

static bool doc_live(const struct index *ix, uint32_t doc)
{
	struct shard_doc d;

	assert_int_equal(shard_doc(&d, index_shard(ix, 0), doc), 0);
	return index_doc_is_live(ix, 0, doc, &d);
}

static void index_maps_branches_by_name_and_applies_the_overlay(void **state)
{
	const char *dir = fresh_dir("overlay");
	char *file = make_branch_shard(dir, "r");
	struct index_branch br[] = { { "x", "", true }, { "y", "", false } };
	uint32_t only_y[] = { 1 };
	struct index_overlay ov[] = { { 0, 1, only_y, 1 }, { 0, 2, NULL, 0 } };
	struct index_repo_entry e = { .name = "r", .shards = &file, .n_shards = 1, .n_base = 1,
				      .branches = br, .n_branches = 2 };
	struct index_repo_entry back = { 0 };
	struct index *ix = NULL;

	(void)state;
	br[0].name = "x";
	br[1].name = "y";
	assert_int_equal(index_commit_entry(dir, &e, NULL), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	/* Shard branch 1 is "x", MANIFEST branch 0: documents map by name. */
	assert_int_equal(doc_set(ix, 0), 1); /* x */
	assert_int_equal(doc_set(ix, 1), 2); /* y */
	assert_int_equal(doc_set(ix, 2), 3); /* both */
	assert_true(doc_live(ix, 2));
	assert_true(index_shard_entry(ix, 0)->branches[0].is_default);
	index_close(ix);
	/* The overlay moves document 1 to y only (it was) and deletes document 2. */
	ov[0].branches = only_y;
	e.overlay = ov;
	e.n_overlay = 2;
	assert_int_equal(index_commit_entry(dir, &e, NULL), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(doc_set(ix, 0), 1);
	assert_int_equal(doc_set(ix, 1), 2);
	assert_int_equal(doc_set(ix, 2), 0);
	/* Deleted by the overlay: no longer part of the repository (counts, file views). */
	assert_true(doc_live(ix, 0));
	assert_true(doc_live(ix, 1));
	assert_false(doc_live(ix, 2));
	index_close(ix);
	assert_int_equal(index_read_repo(&back, dir, "r"), 0);
	assert_int_equal(back.n_overlay, 2);
	assert_int_equal(back.n_branches, 2);
	/* A commit that expects another state than the current one changes nothing. */
	back.branches[0].commit[0] = '\0';
	snprintf(back.branches[1].commit, sizeof(back.branches[1].commit), "%s",
		 "0123456789012345678901234567890123456789");
	assert_int_equal(index_commit_entry(dir, &e, &back), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "changed in the index during this run"));
	index_repo_entry_dispose(&back);
	/* An overlay naming a document the shard does not have is refused on open. */
	ov[1].doc = 3;
	assert_int_equal(index_commit_entry(dir, &e, NULL), 0);
	assert_int_equal(index_open(&ix, dir), TRAWL_ECORRUPT);
	assert_int_equal(index_read_repo(&back, dir, "nosuch"), TRAWL_ENOTFOUND);
	free(file);
}

/*
 * What a commit expects (sync's batch, compaction's group) is the whole entry: one whose shards,
 * commits and counts are the same but whose branch names, default branch or overlay changed
 * (another indexer's commit meanwhile) is not the one the caller read, and committing over it
 * would bring back what that commit changed (a document it deleted, a branch it renamed).
 */
static void index_commit_expect_compares_the_whole_entry(void **state)
{
	const char *dir = fresh_dir("expect");
	char *file = make_branch_shard(dir, "r");
	struct index_branch br[] = { { "x", "", true }, { "y", "", false } };
	uint32_t only_y[] = { 1 };
	struct index_overlay ov[] = { { 0, 1, only_y, 1 }, { 0, 2, NULL, 0 } };
	struct index_repo_entry e = { .name = "r", .shards = &file, .n_shards = 1, .n_base = 1,
				      .branches = br, .n_branches = 2, .overlay = ov,
				      .n_overlay = 2 };
	struct index_repo_entry back = { 0 };

	(void)state;
	br[0].name = "x";
	br[1].name = "y";
	assert_int_equal(index_commit_entry(dir, &e, NULL), 0);
	assert_int_equal(index_read_repo(&back, dir, "r"), 0);
	assert_int_equal(back.n_overlay, 2);
	back.overlay[1].doc = 0; /* another document deleted */
	assert_int_equal(index_commit_entry(dir, &e, &back), TRAWL_EIO);
	back.overlay[1].doc = 2;
	back.overlay[0].branches[0] = 0; /* the document on another branch */
	assert_int_equal(index_commit_entry(dir, &e, &back), TRAWL_EIO);
	back.overlay[0].branches[0] = 1;
	back.branches[1].name[0] = 'z'; /* a branch renamed */
	assert_int_equal(index_commit_entry(dir, &e, &back), TRAWL_EIO);
	back.branches[1].name[0] = 'y';
	back.branches[0].is_default = false; /* another default branch */
	back.branches[1].is_default = true;
	assert_int_equal(index_commit_entry(dir, &e, &back), TRAWL_EIO);
	back.branches[0].is_default = true;
	back.branches[1].is_default = false;
	assert_int_equal(index_commit_entry(dir, &e, &back), 0); /* the entry as it is */
	index_repo_entry_dispose(&back);
	free(file);
}

static void touch(const char *dir, const char *name)
{
	char *p = file_join(dir, name);

	assert_non_null(p);
	assert_int_equal(file_write_atomic(p, "x", 1), 0);
	free(p);
}

static void writer_end_sweeps_leftovers_unless_another_writer_runs(void **state)
{
	const char *dir = fresh_dir("sweep");
	char *kept = make_shard(dir, "alpha", 0, "listed");
	char *stray = make_shard(dir, "alpha", 1, "killed before its commit");
	static const char *const garbage[] = { "alpha-00-1.shard.tmp.AbC123", "MANIFEST.tmp.x0Y9zZ" };
	static const char *const others[] = { "notes.txt", "alpha.shard.tmp.short", "x.tmp.ABCDEF",
					      ".hidden.shard", "LOCK" };
	struct index *ix = NULL;
	int mine = -1, other = -1;

	(void)state;
	assert_int_equal(index_commit_repo(dir, "alpha", &kept, 1), 0);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(*garbage); i++)
		touch(dir, garbage[i]);
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
		touch(dir, others[i]);
	/* A reader of the old state maps its shards; the sweep must not disturb it. */
	assert_int_equal(index_open(&ix, dir), 0);

	/* While another run holds WRITERS, its files may be uncommitted: nothing goes. */
	assert_int_equal(index_writer_begin(&other, dir), 0);
	assert_int_equal(index_writer_begin(&mine, dir), 0);
	assert_int_equal(index_writer_end(mine, dir, true), 0);
	assert_true(exists(dir, stray));
	assert_true(exists(dir, garbage[0]));
	/* Ended without success: no sweep either. */
	assert_int_equal(index_writer_end(other, dir, false), 0);
	assert_true(exists(dir, stray));

	assert_int_equal(index_writer_begin(&mine, dir), 0);
	assert_int_equal(index_writer_end(mine, dir, true), 3);
	assert_false(exists(dir, stray));
	for (size_t i = 0; i < sizeof(garbage) / sizeof(*garbage); i++)
		assert_false(exists(dir, garbage[i]));
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
		assert_true(exists(dir, others[i]));
	assert_true(exists(dir, kept));
	assert_true(exists(dir, "MANIFEST"));
	index_close(ix);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_shards(ix), 1);
	assert_int_equal(shard_verify(index_shard(ix, 0)), 0);
	index_close(ix);

	/* A corrupt MANIFEST says nothing about which files are garbage: all stay. */
	write_manifest(dir, "{not json");
	assert_int_equal(index_writer_begin(&mine, dir), 0);
	assert_int_equal(index_writer_end(mine, dir, true), 0);
	assert_true(exists(dir, kept));
	free(kept);
	free(stray);
}

static void a_damaged_manifest_is_set_aside_and_its_shards_swept(void **state)
{
	const char *dir = fresh_dir("damaged");
	char *a = make_shard(dir, "alpha", 0, "alpha text");
	struct index *ix = NULL;
	int mine;

	(void)state;
	/* No index yet, then a readable one: nothing to set aside. */
	assert_int_equal(index_set_aside_damaged(dir), 0);
	assert_int_equal(index_commit_repo(dir, "alpha", &a, 1), 0);
	assert_int_equal(index_set_aside_damaged(dir), 0);
	assert_true(exists(dir, "MANIFEST"));
	assert_false(exists(dir, "MANIFEST.damaged"));

	write_manifest(dir, "{\"version\": 2, \"repos\": [");
	assert_int_equal(index_set_aside_damaged(dir), 1);
	assert_non_null(strstr(error_last(), "MANIFEST")); /* what was wrong, for the caller */
	assert_false(exists(dir, "MANIFEST"));
	assert_true(exists(dir, "MANIFEST.damaged"));
	assert_int_equal(index_open(&ix, dir), TRAWL_ENOTFOUND);
	/* The next commit starts a new MANIFEST; the sweep removes the shard the old one listed. */
	free(a);
	a = make_shard(dir, "beta", 0, "beta text");
	assert_int_equal(index_writer_begin(&mine, dir), 0);
	assert_int_equal(index_commit_repo(dir, "beta", &a, 1), 0);
	assert_int_equal(index_writer_end(mine, dir, true), 1);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_shards(ix), 1);
	assert_string_equal(shard_repo(index_shard(ix, 0)), "beta");
	index_close(ix);
	free(a);
}

/* A directory outside the index with a file and a subdirectory a hostile worker would aim at. */
static const char *outside_tree(void)
{
	static char p[512];
	char sub[600];

	snprintf(p, sizeof(p), "%s", testlib_path("outside"));
	assert_int_equal(file_mkdirs(p), 0);
	testlib_write_file(p, "precious.txt", "keep me\n");
	snprintf(sub, sizeof(sub), "%s/etc", p);
	assert_int_equal(file_mkdirs(sub), 0);
	testlib_write_file(sub, "shadow", "keep me too\n");
	return p;
}

static void check_outside_intact(const char *out)
{
	char sub[600];

	assert_true(exists(out, "precious.txt"));
	assert_true(exists(out, "etc"));
	snprintf(sub, sizeof(sub), "%s/etc", out);
	assert_true(exists(sub, "shadow"));
}

/* What a worker could leave in its work directory: symlinks to outside, at several depths. */
static void fill_hostile(const char *w, const char *out)
{
	char p[800], t[800];

	testlib_write_file(w, "junk", "x");
	snprintf(p, sizeof(p), "%s/link", w);
	assert_int_equal(symlink(out, p), 0);
	/* a subdirectory swapped for a symlink to the outside directory */
	snprintf(p, sizeof(p), "%s/sub", w);
	snprintf(t, sizeof(t), "%s/etc", out);
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof(p), "%s/deep/er", w);
	assert_int_equal(file_mkdirs(p), 0);
	testlib_write_file(p, "precious.txt", "bait");
	snprintf(p, sizeof(p), "%s/deep/er/etc", w);
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof(p), "%s/deep/file-link", w);
	snprintf(t, sizeof(t), "%s/precious.txt", out);
	assert_int_equal(symlink(t, p), 0);
}

static void work_dir_removal_never_follows_a_symlink(void **state)
{
	const char *dir = fresh_dir("workrm"), *out = outside_tree();
	char *w = NULL, *w2 = NULL, *work = file_join(dir, "work");
	char *kept = make_shard(dir, "alpha", 0, "listed");
	char p[800];
	struct stat st;
	int mine;

	(void)state;
	assert_non_null(work);
	assert_non_null(kept);
	assert_int_equal(index_commit_repo(dir, "alpha", &kept, 1), 0); /* the sweep needs one */
	assert_int_equal(index_work_dir_new(&w, dir, "alpha"), 0);
	fill_hostile(w, out);
	index_work_dir_remove(w);
	assert_int_equal(lstat(w, &st), -1);
	check_outside_intact(out);

	/* The sweep of DATA/index/work: a work directory, and one that became a symlink. */
	assert_int_equal(index_work_dir_new(&w2, dir, "beta"), 0);
	fill_hostile(w2, out);
	snprintf(p, sizeof(p), "%s/gamma-swapped", work);
	assert_int_equal(symlink(out, p), 0);
	assert_int_equal(index_writer_begin(&mine, dir), 0);
	index_writer_end(mine, dir, true);
	assert_int_equal(lstat(w2, &st), -1);
	assert_int_equal(lstat(p, &st), -1);
	check_outside_intact(out);
	free(w);
	free(w2);
	free(work);
	free(kept);
}

/*
 * A compound shard in dir: "ca" (two documents), "cb" (none) and "cc" (one, holding
 * CANARY): its file name.
 */
static char *make_compound(const char *dir)
{
	char *name = index_shard_name("compound", 0), *path;
	struct shard_writer *w = NULL;

	assert_non_null(name);
	path = file_join(dir, name);
	assert_non_null(path);
	assert_int_equal(shard_writer_new_compound(&w, path, NULL), 0);
	assert_int_equal(shard_writer_begin_repo(w, "ca"), 0);
	assert_int_equal(shard_writer_add(w, "1", 1, (const uint8_t *)"one", 3, 3, DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_add(w, "2", 1, (const uint8_t *)"two", 3, 3, DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_begin_repo(w, "cb"), 0);
	assert_int_equal(shard_writer_begin_repo(w, "cc"), 0);
	assert_int_equal(shard_writer_add(w, "3", 1, (const uint8_t *)"CANARY", 6, 6, DOC_INDEXED,
					  0),
			 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	free(path);
	return name;
}

static void commit_compound(const char *dir, char *file, const char *const *names, size_t n)
{
	struct index_repo_entry es[3] = { 0 };

	for (size_t i = 0; i < n; i++)
		es[i] = (struct index_repo_entry){ .name = (char *)names[i], .shards = &file,
						   .n_shards = 1, .n_base = 1 };
	assert_int_equal(index_commit_entries(dir, es, n), 0);
}

static void compound_shard_is_one_file_listed_by_each_repository(void **state)
{
	const char *dir = fresh_dir("compound");
	static const char *const names[] = { "ca", "cb", "cc" };
	char *c = make_compound(dir), *solo = make_shard(dir, "solo", 0, "solo text"), *ca2;
	struct index *ix = NULL;
	uint32_t lo, hi;

	(void)state;
	assert_int_equal(index_commit_repo(dir, "solo", &solo, 1), 0);
	commit_compound(dir, c, names, 3);
	assert_int_equal(index_open(&ix, dir), 0);
	/* One shard per repository, two files. */
	assert_int_equal(index_n_shards(ix), 4);
	assert_int_equal(index_n_files(ix), 2);
	assert_string_equal(index_shard_repo(ix, 0), "solo");
	index_shard_docs(ix, 0, &lo, &hi);
	assert_int_equal(hi - lo, 1);
	assert_string_equal(index_shard_repo(ix, 1), "ca");
	index_shard_docs(ix, 1, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 2);
	assert_string_equal(index_shard_repo(ix, 2), "cb");
	index_shard_docs(ix, 2, &lo, &hi);
	assert_int_equal(lo, hi);
	assert_string_equal(index_shard_repo(ix, 3), "cc");
	index_shard_docs(ix, 3, &lo, &hi);
	assert_int_equal(lo, 2);
	assert_int_equal(hi, 3);
	assert_ptr_equal(index_shard(ix, 1), index_shard(ix, 3));
	assert_int_equal(index_shard_file(ix, 1), index_shard_file(ix, 3));
	assert_ptr_equal(index_file(ix, index_shard_file(ix, 1)), index_shard(ix, 1));
	index_close(ix);

	/* "ca" re-indexed alone: the compound file stays while "cb" and "cc" list it. */
	ca2 = make_shard(dir, "ca", 0, "new one");
	assert_int_equal(index_commit_repo(dir, "ca", &ca2, 1), 0);
	assert_true(exists(dir, c));
	assert_int_equal(index_remove_repo(dir, "cb"), 0);
	assert_true(exists(dir, c));
	assert_int_equal(index_remove_repo(dir, "cc"), 0);
	assert_false(exists(dir, c)); /* no repository lists it any more */
	assert_true(exists(dir, ca2));
	free(ca2);
	free(c);
	free(solo);
}

/*
 * An open index keeps each shard file's name once, however many repositories list it, and
 * every repository's shards in the order its MANIFEST entry lists them.
 */
static void open_index_lists_shards_in_order_with_each_file_name_once(void **state)
{
	const char *dir = fresh_dir("compound-names");
	static const char *const names[] = { "ca", "cb", "cc" };
	char *c = make_compound(dir), *multi[2];
	const struct index_repo_entry *e[4];
	struct index *ix = NULL;

	(void)state;
	/* Listed in descending order of name: the order is the entry's, not the names'. */
	multi[0] = make_shard(dir, "multi", 0, "first");
	multi[1] = make_shard(dir, "multi", 1, "second");
	if (strcmp(multi[0], multi[1]) < 0) {
		char *t = multi[0];

		multi[0] = multi[1];
		multi[1] = t;
	}
	commit_compound(dir, c, names, 3);
	assert_int_equal(index_commit_repo(dir, "multi", multi, 2), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_shards(ix), 5);
	for (size_t i = 0; i < 3; i++) {
		e[i] = index_shard_entry(ix, i);
		assert_string_equal(e[i]->name, names[i]);
		assert_int_equal(e[i]->n_shards, 1);
		assert_string_equal(e[i]->shards[0], c);
	}
	assert_ptr_equal(e[0]->shards[0], e[1]->shards[0]);
	assert_ptr_equal(e[0]->shards[0], e[2]->shards[0]);
	e[3] = index_shard_entry(ix, 3);
	assert_ptr_equal(index_shard_entry(ix, 4), e[3]);
	assert_string_equal(e[3]->name, "multi");
	assert_int_equal(e[3]->n_shards, 2);
	assert_string_equal(e[3]->shards[0], multi[0]);
	assert_string_equal(e[3]->shards[1], multi[1]);
	assert_string_equal(shard_file(index_shard(ix, 3)) + strlen(dir) + 1, multi[0]);
	index_close(ix);
	free(multi[0]);
	free(multi[1]);
	free(c);
}

static void compound_shard_refuses_repositories_it_does_not_hold(void **state)
{
	const char *dir = fresh_dir("compound-bad");
	char *c = make_compound(dir), *manifest = file_join(dir, "MANIFEST");
	char json[1024];
	struct index *ix = NULL;
	struct index_repo_entry e = { .name = "intruder", .shards = &c, .n_shards = 1,
				      .n_base = 1 };
	struct index_repo_entry two[2];
	static const char *const names[] = { "ca", "cc" };

	(void)state;
	/* SECURITY: a repository it does not hold cannot list it (and so read "cc"'s canary). */
	snprintf(json, sizeof(json),
		 "{\"version\":2,\"repos\":[{\"name\":\"intruder\",\"shards\":[\"%s\"]}]}", c);
	write_manifest(dir, json);
	assert_int_equal(index_open(&ix, dir), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "a compound shard without repository \"intruder\""));
	/* An overlay of "ca" naming "cc"'s document. */
	snprintf(json, sizeof(json),
		 "{\"version\":2,\"repos\":[{\"name\":\"ca\",\"shards\":[\"%s\"],"
		 "\"branches\":[{\"name\":\"main\",\"commit\":\"%040d\",\"default\":true}],"
		 "\"overlay\":[{\"shard\":\"%s\",\"doc\":2,\"branches\":[0]}]}]}", c, 0, c);
	write_manifest(dir, json);
	assert_int_equal(index_open(&ix, dir), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "names document 2"));
	/* A commit cannot take a file another repository lists. */
	assert_int_equal(unlink(manifest), 0);
	commit_compound(dir, c, names, 2);
	assert_int_equal(index_commit_entry(dir, &e, NULL), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "already belongs to another repository"));
	/* Nor name a repository twice in one commit. */
	two[0] = two[1] = e;
	assert_int_equal(index_commit_entries(dir, two, 2), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "committed twice"));
	free(manifest);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_commits_two_repositories),
		cmocka_unit_test(index_recommit_replaces_and_removes_old_files),
		cmocka_unit_test(index_open_without_manifest_is_not_found),
		cmocka_unit_test(index_open_accepts_empty_repository_list),
		cmocka_unit_test(index_refuses_manifest_naming_files_outside),
		cmocka_unit_test(index_refuses_malformed_manifests),
		cmocka_unit_test(index_refuses_duplicates_in_a_long_manifest),
		cmocka_unit_test(index_refuses_malformed_git_metadata),
		cmocka_unit_test(index_maps_branches_by_name_and_applies_the_overlay),
		cmocka_unit_test(index_commit_expect_compares_the_whole_entry),
		cmocka_unit_test(index_refuses_shard_of_another_repository),
		cmocka_unit_test(index_open_reports_corrupt_shard_by_name),
		cmocka_unit_test(index_commit_refuses_bad_names),
		cmocka_unit_test(index_commit_keeps_files_named_by_hostile_manifest),
		cmocka_unit_test(shard_names_are_safe_and_unique),
		cmocka_unit_test(writer_end_sweeps_leftovers_unless_another_writer_runs),
		cmocka_unit_test(a_damaged_manifest_is_set_aside_and_its_shards_swept),
		cmocka_unit_test(work_dir_removal_never_follows_a_symlink),
		cmocka_unit_test(compound_shard_is_one_file_listed_by_each_repository),
		cmocka_unit_test(compound_shard_refuses_repositories_it_does_not_hold),
		cmocka_unit_test(open_index_lists_shards_in_order_with_each_file_name_once),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
