/*
 * trawl repo add|list|remove|status|set: the repository registry in the data directory
 * (docs/operations.md). `add` checks the URL against the policy (src/git/url.h) and stores it;
 * `trawl sync` fetches and indexes; `set` marks a repository public or private for the
 * accounts (src/auth), and `add` and `remove` keep them in step. Nothing here prints a
 * credential: URLs that could carry one (user information, a query, a fragment) are refused
 * when added, and the registry removed them from URLs an older trawl stored
 * (src/store/store.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "build/build.h"
#include "cli/accounts.h"
#include "cli/cli.h"
#include "cli/datadir.h"
#include "cli/gitmod.h"
#include "index/shard.h"
#include "store/policy.h"
#include "store/store.h"
#include "symbols/ctags.h"
#include "symbols/symbols.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/repourl.h"

const struct cli_help cli_help_repo = {
	.synopsis =
		"trawl repo add URL|PATH [--name NAME] [--branch NAME|GLOB]... [--data DIR]\n"
		"               [--allow-insecure] [--allow-local] [--allow-private]\n"
		"               [--symbols|--no-symbols]\n"
		"trawl repo list [--json] [--data DIR]\n"
		"trawl repo status NAME [--json] [--data DIR]\n"
		"trawl repo remove NAME [--data DIR]\n"
		"trawl repo set NAME [--public|--private] [--symbols|--no-symbols] [--data DIR]\n",
	.summary = "the registry of repositories that trawl sync mirrors and indexes",
	.options =
		"  add     register a repository; its URL is checked now and before every fetch\n"
		"  list    every repository: state, last sync, size, files, commit per branch, error\n"
		"  status  one repository as list shows it, and every file not indexed, with why\n"
		"  remove  drop a repository's grants, then its shards, its mirror and its rows\n"
		"  set     --public: every user may read it (and anonymous callers, when the server\n"
		"          allows them); --private: administrators and its grants only (the default)\n"
		"          --symbols, --no-symbols: whether its index has symbols (below)\n"
		"\n"
		"  --name NAME           the name (default: the URL's last path component, without\n"
		"                        .git)\n"
		"  --branch NAME|GLOB    a branch to index (repeatable; default: the remote's HEAD)\n"
		"  --allow-insecure      accept http:// (unencrypted)\n"
		"  --allow-local         accept file:// and local paths (this machine's files)\n"
		"  --allow-private       accept hosts on loopback, private or link-local addresses\n"
		"                        (the --allow-* flags are kept with the repository and every\n"
		"                        sync of it uses them, the server's included)\n"
		"  --symbols             extract symbols (definitions, for type:symbol and navigation)\n"
		"                        with universal-ctags, run confined, when it is synced; costs\n"
		"                        about four times the indexing CPU. Default: on when\n"
		"                        /usr/bin/ctags is installed. A change re-indexes it in full\n"
		"  --no-symbols          index it without symbols\n"
		"  --json                one JSON object per repository\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n"
		"\n"
		"docs/operations.md describes the URL policy, credentials and failures.\n",
};


/* --- add ------------------------------------------------------------------------------------ */

static bool registry_name_valid(const char *name)
{
	/* '@' separates NAME from the revision in queries (repo:NAME@REV). */
	return build_name_valid(name) && !strchr(name, '@');
}

static int repo_add(int argc, char **argv, const char *data, struct gurl_policy *policy,
		    int symbols)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "branch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	char *branches[CLI_MAX_BRANCH_ARGS];
	size_t n_branches = 0;
	const char *name = NULL;
	char *auto_name = NULL, *url = NULL;
	struct datadir d = { 0 };
	struct store *s = NULL;
	struct store_policy stored = datadir_policy_to_store(policy);
	struct auth *a = NULL;
	int64_t id;
	int c, err;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'b':
			if (!cli_branch_arg(branches, &n_branches, optarg))
				return EXIT_ERROR;
			break;
		default: return cli_usage("repo", true);
		}
	}
	if (argc - optind != 1)
		return cli_usage("repo", true);
	/*
	 * SECURITY: P1: the URL is checked (and its host resolved) before anything is stored or
	 * named: a refused URL's query or user information never becomes a name or a message.
	 */
	if ((err = gitmod.url_check(&url, argv[optind], policy)) < 0 ||
	    (!name && (err = repourl_name(&auto_name, url)) < 0)) {
		cli_report(err);
		goto out;
	}
	if (!name)
		name = auto_name;
	if (!registry_name_valid(name)) {
		cli_errorf("invalid repository name \"%s\" (1-200 bytes, no '/', '\\', '@' or control "
			   "characters, not starting with '-'); choose one with --name", name);
		err = TRAWL_EINVAL;
		goto out;
	}
	/*
	 * The accounts open first: a repository is not added without its audit event. SECURITY:
	 * its URL and policy go to DATA/policy/ID too, which is what every sync obeys; a row whose
	 * file cannot be written is taken out again.
	 */
	if ((err = datadir_init(&d, data, true)) < 0 || (err = auth_open(&a, d.root, NULL)) < 0 ||
	    (err = store_open(&s, d.db)) < 0 || (err = datadir_policy_migrate(&d, s)) < 0 ||
	    (err = store_repo_add(&id, s, name, url, &stored, branches, n_branches)) < 0)
		goto fail;
	/* A row without its setting or its policy file is taken out again. */
	if ((symbols != STORE_SYMBOLS_DEFAULT && (err = store_repo_set_symbols(s, id, symbols)) < 0) ||
	    (err = store_policy_write(d.policy, id, name, url, &stored)) < 0) {
		cli_report(err);
		(void)store_repo_remove(s, id);
		goto out;
	}
	if ((err = auth_repo_added(a, NULL, name)) < 0)
		goto fail;
	printf("added %s (id %lld); run trawl sync to fetch and index it\n", name, (long long)id);
	goto out;
fail:
	cli_report(err);
out:
	store_close(s);
	auth_close(a);
	datadir_dispose(&d);
	free(url);
	free(auto_name);
	return err < 0 ? EXIT_ERROR : 0;
}

/* --- list and status ------------------------------------------------------------------------ */

static const char *fmt_time(char *buf, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "never");
	return buf;
}

static int put_str(struct buf *b, const char *key, const char *v)
{
	int err;

	if ((err = buf_printf(b, "\"%s\":", key)) < 0)
		return err;
	return v ? json_put_string(b, v, strlen(v), NULL) : buf_puts(b, "null");
}

/*
 * The URL policy a repository was added under, as its names ("insecure", "local", "private"),
 * each between before and after, separated by sep.
 */
static int policy_put(struct buf *b, const struct store_policy *p, const char *before,
		      const char *after, const char *sep)
{
	const char *names[3];
	size_t n = 0;
	int err = 0;

	if (p->allow_insecure)
		names[n++] = "insecure";
	if (p->allow_local)
		names[n++] = "local";
	if (p->allow_private)
		names[n++] = "private";
	for (size_t i = 0; i < n && err == 0; i++)
		err = buf_printf(b, "%s%s%s%s", i ? sep : "", before, names[i], after);
	return err;
}

/* The repository as a JSON object without its closing brace (status adds "skipped"). */
static int repo_json(struct buf *b, const struct store_repo *r)
{
	char t[32];
	int err;

	if ((err = buf_printf(b, "{\"id\":%lld,", (long long)r->id)) < 0 ||
	    (err = put_str(b, "name", r->name)) < 0 ||
	    (err = buf_puts(b, ",")) < 0 || (err = put_str(b, "url", r->url)) < 0 ||
	    (err = buf_puts(b, ",")) < 0 ||
	    (err = put_str(b, "state", store_state_name(r->state))) < 0 ||
	    (err = buf_puts(b, ",")) < 0 ||
	    (err = put_str(b, "last_sync", r->last_sync ? fmt_time(t, sizeof(t), r->last_sync)
							: NULL)) < 0 ||
	    (err = buf_puts(b, ",")) < 0 ||
	    (err = put_str(b, "last_success", r->last_success
							? fmt_time(t, sizeof(t), r->last_success)
							: NULL)) < 0 ||
	    (err = buf_puts(b, ",")) < 0 || (err = put_str(b, "last_error", r->last_error)) < 0 ||
	    (err = buf_printf(b, ",\"index_bytes\":%llu,\"files\":%llu,\"skipped_count\":%llu,"
				 "\"patterns\":[",
			      (unsigned long long)r->index_bytes, (unsigned long long)r->files,
			      (unsigned long long)r->skipped_count)) < 0)
		return err;
	for (size_t i = 0; i < r->n_patterns; i++)
		if ((err = buf_puts(b, i ? "," : "")) < 0 ||
		    (err = json_put_string(b, r->patterns[i], strlen(r->patterns[i]), NULL)) < 0)
			return err;
	if ((err = buf_printf(b, "],\"symbols\":%s,\"symbols_setting\":\"%s\"",
			      datadir_repo_symbols(r) ? "true" : "false",
			      r->symbols == STORE_SYMBOLS_DEFAULT ? "default"
			      : r->symbols == STORE_SYMBOLS_ON    ? "on"
								  : "off")) < 0 ||
	    (err = buf_puts(b, ",\"allow\":[")) < 0 ||
	    (err = policy_put(b, &r->policy, "\"", "\"", ",")) < 0 ||
	    (err = buf_puts(b, "],\"branches\":[")) < 0)
		return err;
	for (size_t i = 0; i < r->n_branches; i++) {
		const struct store_branch *br = &r->branches[i];

		if ((err = buf_puts(b, i ? ",{" : "{")) < 0 || (err = put_str(b, "name", br->name)) < 0 ||
		    (err = buf_puts(b, ",")) < 0 || (err = put_str(b, "commit", br->commit)) < 0 ||
		    (err = buf_printf(b, ",\"default\":%s}", br->is_default ? "true" : "false")) < 0)
			return err;
	}
	return buf_puts(b, "]");
}

/*
 * SECURITY: names are data: a control character in one must not drive the terminal. Branch
 * names and errors are always escaped; names, URLs and paths on a terminal only, so that piped
 * output keeps their bytes (as `trawl ls` and `trawl search` do).
 */
static void print_safe(const char *s)
{
	cli_print_text(s, strlen(s), TERM_NAME);
}

static void repo_print(const struct store_repo *r)
{
	char t[32], size[32];

	cli_print_text(r->name, strlen(r->name), cli_names_out());
	printf("\t%s\tlast sync %s\t%s\t%llu files\t%llu skipped\t", store_state_name(r->state),
	       fmt_time(t, sizeof(t), r->last_sync),
	       cli_human_bytes(size, sizeof(size), (double)r->index_bytes),
	       (unsigned long long)r->files, (unsigned long long)r->skipped_count);
	if (r->url)
		cli_print_text(r->url, strlen(r->url), cli_names_out());
	putchar('\n');
	if (r->policy.allow_insecure || r->policy.allow_local || r->policy.allow_private) {
		struct buf b;

		buf_init(&b, 256);
		if (policy_put(&b, &r->policy, "--allow-", "", " ") == 0)
			printf("  added with %.*s\n", (int)b.len, b.ptr);
		buf_dispose(&b);
	}
	for (size_t i = 0; i < r->n_branches; i++) {
		printf("  branch ");
		print_safe(r->branches[i].name);
		printf(" at %s%s\n", r->branches[i].commit, r->branches[i].is_default ? " (default)" : "");
	}
	/* A failed attempt does not make the index older: say how old it is apart. */
	if (r->state == STORE_STATE_ERROR) {
		char ok[32];

		if (r->last_success)
			printf("  last synced OK at %s; last attempt at %s failed\n",
			       fmt_time(ok, sizeof(ok), r->last_success),
			       fmt_time(t, sizeof(t), r->last_sync));
		else
			printf("  no successful sync recorded; last attempt at %s failed\n",
			       fmt_time(t, sizeof(t), r->last_sync));
	}
	if (r->last_error) {
		printf("  error: ");
		print_safe(r->last_error);
		putchar('\n');
	}
}

/* The symbols setting, and what it means on this machine. */
static void print_symbols(const struct store_repo *r)
{
	bool is_on = datadir_repo_symbols(r), has_ctags = ctags_installed();

	if (r->symbols == STORE_SYMBOLS_DEFAULT)
		printf("  symbols: %s (the default: universal-ctags is %s)\n", is_on ? "on" : "off",
		       has_ctags ? "installed" : "not installed at " CTAGS_PATH);
	else if (is_on && !has_ctags)
		printf("  symbols: on, but universal-ctags is not installed at " CTAGS_PATH
		       ": its files get no symbols (ctags unavailable)\n");
	else
		printf("  symbols: %s\n", is_on ? "on" : "off");
}

static int open_registry(struct datadir *d, struct store **s, const char *data)
{
	int err;

	if ((err = datadir_init(d, data, false)) < 0 || (err = store_open(s, d->db)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	return 0;
}

static int repo_list(int argc, char **argv, const char *data, bool json)
{
	struct datadir d = { 0 };
	struct store *s = NULL;
	struct store_repo *v = NULL;
	struct buf b;
	size_t n = 0;
	int err = 0, ret;

	(void)argv;
	if (argc > 1)
		return cli_usage("repo", true);
	if ((ret = open_registry(&d, &s, data)) != 0)
		goto out;
	if ((err = store_repo_list(&v, &n, s)) < 0) {
		cli_report(err);
		ret = EXIT_ERROR;
		goto out;
	}
	buf_init(&b, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < n && err == 0; i++) {
		if (!json) {
			repo_print(&v[i]);
			continue;
		}
		buf_reset(&b);
		if ((err = repo_json(&b, &v[i])) == 0 && (err = buf_puts(&b, "}\n")) == 0)
			fwrite(b.ptr, 1, b.len, stdout);
	}
	buf_dispose(&b);
	if (err < 0) {
		cli_report(err);
		ret = EXIT_ERROR;
	}
out:
	store_repos_free(v, n);
	store_close(s);
	datadir_dispose(&d);
	return ret;
}

/*
 * Prints (or adds to b as JSON) every skipped file of repository r found in the index, and
 * every indexed file whose symbols ctags did not give (reason "indexed, no symbols: WHY").
 */
static int list_skipped(struct buf *b, const struct datadir *d, const struct store_repo *r,
			bool json)
{
	struct index *ix = NULL;
	size_t n = 0;
	int err;

	if ((err = index_open(&ix, d->index)) == TRAWL_ENOTFOUND)
		return json ? buf_puts(b, ",\"skipped\":[]") : 0; /* nothing indexed yet */
	if (err < 0)
		return err;
	if (json && (err = buf_puts(b, ",\"skipped\":[")) < 0)
		goto out;
	for (size_t i = 0; i < index_n_shards(ix) && err == 0; i++) {
		struct shard *sh = index_shard(ix, i);
		const char *repo = index_shard_repo(ix, i);
		struct symsec s;
		bool has = false;
		uint32_t lo, hi;

		if (!datadir_owns(r->name, repo))
			continue;
		if ((err = symbols_open(&s, &has, sh)) < 0)
			break;
		index_shard_docs(ix, i, &lo, &hi);
		for (uint32_t id = lo; id < hi && err == 0; id++) {
			const char *why = symsec_doc_failure(has ? &s : NULL, id);
			char reason[64];
			struct shard_doc doc;

			if ((err = shard_doc(&doc, sh, id)) < 0 || (doc.skip == DOC_INDEXED && !why))
				continue;
			snprintf(reason, sizeof(reason), "%s%s%s", doc_skip_name(doc.skip),
				 why ? ", no symbols: " : "", why ? why : "");
			if (!json) {
				printf("  skipped ");
				cli_print_text(repo, strlen(repo), cli_names_out());
				putchar('/');
				cli_print_text(doc.path, doc.path_len, cli_names_out());
				printf("\t%llu\t%s\n", (unsigned long long)doc.size, reason);
				continue;
			}
			if ((err = buf_puts(b, n++ ? ",{" : "{")) < 0 ||
			    (err = put_str(b, "repo", repo)) < 0 ||
			    (err = buf_puts(b, ",\"path\":")) < 0 ||
			    (err = json_put_string(b, doc.path, doc.path_len, NULL)) < 0 ||
			    (err = buf_printf(b, ",\"size\":%llu,", (unsigned long long)doc.size)) < 0 ||
			    (err = put_str(b, "reason", reason)) < 0)
				break;
			err = buf_puts(b, "}");
		}
	}
	if (err == 0 && json)
		err = buf_puts(b, "]");
out:
	index_close(ix);
	return err;
}

static int repo_status(int argc, char **argv, const char *data, bool json)
{
	struct datadir d = { 0 };
	struct store *s = NULL;
	struct store_repo r = { 0 };
	struct buf b;
	int err = 0, ret;

	if (argc != 2)
		return cli_usage("repo", true);
	if ((ret = open_registry(&d, &s, data)) != 0)
		goto out;
	buf_init(&b, BUF_MAX_DEFAULT);
	if ((err = store_repo_get(&r, s, argv[1])) == 0) {
		if (json) {
			if ((err = repo_json(&b, &r)) == 0 && (err = list_skipped(&b, &d, &r, true)) == 0 &&
			    (err = buf_puts(&b, "}\n")) == 0)
				fwrite(b.ptr, 1, b.len, stdout);
		} else {
			repo_print(&r);
			print_symbols(&r);
			err = list_skipped(&b, &d, &r, false);
		}
	}
	buf_dispose(&b);
	if (err < 0) {
		cli_report(err);
		ret = EXIT_ERROR;
	}
out:
	store_repo_dispose(&r);
	store_close(s);
	datadir_dispose(&d);
	return ret;
}

/* --- remove --------------------------------------------------------------------------------- */

/* Drops r's shards (all its branches) from the index. */
static int drop_from_index(const struct datadir *d, const struct store_repo *r)
{
	struct index *ix = NULL;
	char **names = NULL;
	size_t n = 0;
	int err;

	if ((err = index_open(&ix, d->index)) == TRAWL_ENOTFOUND)
		return 0;
	if (err < 0)
		return err;
	names = calloc(index_n_shards(ix) + 1, sizeof(*names));
	for (size_t i = 0; names && i < index_n_shards(ix); i++) {
		const char *repo = index_shard_repo(ix, i);
		bool seen = false;

		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(names[j], repo) == 0;
		if (!seen && datadir_owns(r->name, repo) && !(names[n++] = strdup(repo)))
			break;
	}
	index_close(ix);
	if (!names || (n && !names[n - 1])) {
		error_set("out of memory");
		err = TRAWL_ENOMEM;
	}
	for (size_t i = 0; i < n && err == 0; i++)
		err = index_remove_repo(d->index, names[i]);
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

static int repo_remove(int argc, char **argv, const char *data)
{
	struct datadir d = { 0 };
	struct store *s = NULL;
	struct store_repo r = { 0 };
	struct auth *a = NULL;
	struct datadir_repo paths = { 0 };
	int err = 0, ret;

	if (argc != 2)
		return cli_usage("repo", true);
	if ((ret = open_registry(&d, &s, data)) != 0)
		goto out;
	/*
	 * Grants first (a repository half removed is readable by administrators only, and a new
	 * one of the same name starts without them), index next, mirror, rows last: an
	 * interrupted removal can be run again.
	 */
	if ((err = datadir_lock(&d)) < 0 || (err = store_repo_get(&r, s, argv[1])) < 0 ||
	    (err = auth_open(&a, d.root, NULL)) < 0 ||
	    (err = auth_repo_forget(a, NULL, r.name)) < 0 || (err = drop_from_index(&d, &r)) < 0)
		goto out;
	if ((err = datadir_repo_init(&paths, &d, r.id)) < 0 ||
	    (err = datadir_repo_remove(&paths)) < 0 ||
	    (err = store_policy_remove(d.policy, r.id)) < 0 ||
	    (err = store_repo_remove(s, r.id)) < 0)
		goto out;
	printf("removed %s\n", r.name);
out:
	if (err < 0) {
		cli_report(err);
		ret = EXIT_ERROR;
	}
	datadir_repo_dispose(&paths);
	store_repo_dispose(&r);
	store_close(s);
	auth_close(a);
	datadir_dispose(&d);
	return ret;
}

/* --- set ------------------------------------------------------------------------------------ */

/* repo set NAME --symbols|--no-symbols: the registry's setting, used from the next sync. */
static int repo_set_symbols(const char *name, const char *data, int symbols)
{
	struct datadir d = { 0 };
	struct store *s = NULL;
	struct store_repo r = { 0 };
	int err = 0, ret;

	if ((ret = open_registry(&d, &s, data)) != 0)
		goto out;
	if ((err = store_repo_get(&r, s, name)) == 0 &&
	    (err = store_repo_set_symbols(s, r.id, symbols)) == 0) {
		printf("%s: symbols %s from its next sync (in full when its index differs)\n", name,
		       symbols ? "on" : "off");
		if (symbols && !ctags_installed())
			printf("  note: universal-ctags is not installed at " CTAGS_PATH
			       ": its files will get no symbols\n");
	}
	if (err < 0) {
		cli_report(err);
		ret = EXIT_ERROR;
	}
out:
	store_repo_dispose(&r);
	store_close(s);
	datadir_dispose(&d);
	return ret;
}

/*
 * repo set NAME [--public|--private] [--symbols|--no-symbols]: visibility is 1 for --public, 0
 * for --private, else -1; symbols a STORE_SYMBOLS_* value.
 */
static int repo_set(int argc, char **argv, const char *data, int visibility, int symbols)
{
	struct datadir d = { 0 };
	struct auth *a = NULL;
	char **repos = NULL;
	size_t n = 0;
	int err, ret;

	if (argc != 2 || (visibility < 0 && symbols == STORE_SYMBOLS_DEFAULT))
		return cli_usage("repo", true);
	if (visibility < 0)
		return repo_set_symbols(argv[1], data, symbols);
	if ((ret = accounts_open(&a, &d, data, false)) != 0)
		return ret;
	if ((err = accounts_repos(&repos, &n, &d)) == 0 && !accounts_repos_has(repos, n, argv[1])) {
		error_set("unknown repository \"%s\" in %s (trawl repo list shows the registry)",
			  argv[1], d.root);
		err = TRAWL_ENOTFOUND;
	}
	if (err == 0 && (err = auth_repo_set_public(a, NULL, argv[1], visibility == 1)) == 0) {
		printf("%s is now %s\n", argv[1],
		       visibility ? "public: every user may read it"
				  : "private: administrators and its grants only");
	}
	store_names_free(repos, n);
	accounts_close(a, &d);
	ret = accounts_fail(err);
	if (ret == 0 && symbols != STORE_SYMBOLS_DEFAULT)
		ret = repo_set_symbols(argv[1], data, symbols);
	return ret;
}

/* --- dispatch ------------------------------------------------------------------------------- */

/*
 * Options common to every subcommand (--data, --json, --allow-*, --help) are taken out of argv
 * first; the rest (NAME, URL, --name, --branch) is left for the subcommand, in order.
 */
static int repo_main(int argc, char **argv)
{
	struct gurl_policy policy = { 0 };
	const char *data = NULL;
	char *sub;
	bool json = false;
	int n = 0, visibility = -1, n_visibility = 0, symbols = STORE_SYMBOLS_DEFAULT, n_symbols = 0;

	if (argc < 2)
		return cli_usage("repo", true);
	sub = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			/* Kept: add's getopt stops there; list/status/remove skip it below. */
			for (; i < argc; i++)
				argv[1 + ++n] = argv[i];
			break;
		}
		if (strcmp(a, "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strncmp(a, "--data=", 7) == 0)
			data = a + 7;
		else if (strcmp(a, "--json") == 0)
			json = true;
		else if (strcmp(a, "--allow-insecure") == 0)
			policy.allow_insecure = true;
		else if (strcmp(a, "--allow-local") == 0)
			policy.allow_local = true;
		else if (strcmp(a, "--allow-private") == 0)
			policy.allow_private = true;
		else if (strcmp(a, "--public") == 0 || strcmp(a, "--private") == 0) {
			visibility = strcmp(a, "--public") == 0;
			n_visibility++;
		}
		else if (strcmp(a, "--symbols") == 0 || strcmp(a, "--no-symbols") == 0) {
			symbols = strcmp(a, "--symbols") == 0 ? STORE_SYMBOLS_ON : STORE_SYMBOLS_OFF;
			n_symbols++;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return cli_usage("repo", false);
		else if ((strcmp(a, "--name") == 0 || strcmp(a, "--branch") == 0) && i + 1 < argc) {
			/* Their value is data, "-h" included. */
			argv[1 + ++n] = argv[i];
			argv[1 + ++n] = argv[++i];
		} else
			argv[1 + ++n] = argv[i];
	}
	argv[1] = sub;
	argc = n + 2;
	argv[argc] = NULL;
	datadir_policy_env(&policy);
	optind = 1;
	if (strcmp(sub, "add") != 0 && argc > 2 && strcmp(argv[2], "--") == 0) {
		memmove(&argv[2], &argv[3], (size_t)(argc - 2) * sizeof(*argv));
		argc--;
	}
	if ((n_visibility && strcmp(sub, "set") != 0) || n_visibility > 1 || n_symbols > 1 ||
	    (n_symbols && strcmp(sub, "set") != 0 && strcmp(sub, "add") != 0))
		return cli_usage("repo", true);
	if (strcmp(sub, "add") == 0)
		return repo_add(argc - 1, argv + 1, data, &policy, symbols);
	if (strcmp(sub, "list") == 0)
		return repo_list(argc - 1, argv + 1, data, json);
	if (strcmp(sub, "status") == 0)
		return repo_status(argc - 1, argv + 1, data, json);
	if (strcmp(sub, "remove") == 0)
		return repo_remove(argc - 1, argv + 1, data);
	if (strcmp(sub, "set") == 0)
		return repo_set(argc - 1, argv + 1, data, visibility, symbols);
	if (strcmp(sub, "help") == 0)
		return cli_usage("repo", false);
	cli_errorf("unknown repo command \"%s\" (add, list, status, remove, set)", sub);
	return EXIT_ERROR;
}

int cmd_repo(int argc, char **argv)
{
	int err, ret;

	/* Only add needs libgit2 (the URL and branch checks); the others stay fast. */
	if (argc > 1 && strcmp(argv[1], "add") == 0) {
		if ((err = gitmod_init()) < 0) {
			cli_report(err);
			return EXIT_ERROR;
		}
		ret = repo_main(argc, argv);
		gitmod.shutdown();
		return ret;
	}
	return repo_main(argc, argv);
}
