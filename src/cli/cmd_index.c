/*
 * trawl index: build shards from directories and git repositories. A PATH that is a git
 * repository (a work tree with .git, or a bare repository) is indexed from its committed tree
 * (HEAD, or the --branch selection); anything else, or any PATH with --worktree, is walked as a
 * directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build.h"
#include "cli/cli.h"
#include "cli/gitmod.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/file.h"

const struct cli_help cli_help_index = {
	.synopsis =
		"trawl index -o INDEXDIR [--name NAME] [--branch NAME|GLOB]... [--worktree]\n"
		"            [--max-file-size SIZE] [--max-files N] [--max-bytes SIZE]\n"
		"            [--max-seconds N] [--symbols [--symbols-timeout MS]] [-j N] [-q]\n"
		"            [--paths-from FILE] PATH...\n",
	.summary = "index git repositories and directories, one repository per PATH",
	.options =
		"A git repository (a work tree or a bare one) is indexed from the commits of its\n"
		"branches, never its working tree; a file identical on several branches is stored\n"
		"once; a re-index only reads what changed since (docs/git.md). Anything else is\n"
		"walked as a directory.\n"
		"\n"
		"  -o, --output INDEXDIR  the index to write (created; other repositories in it stay)\n"
		"  -n, --name NAME        the repository's name (one PATH only; default: the last\n"
		"                         component of PATH)\n"
		"  --branch NAME|GLOB     a branch to index, or a glob such as 'release/*'\n"
		"                         (repeatable; default: HEAD); searched with rev:\n"
		"  --worktree             walk PATH as a directory even when it is a git repository\n"
		"  --max-file-size SIZE   skip files larger than SIZE (e.g. 512K, 4M; default 1M, at\n"
		"                         most 1G)\n"
		"  --max-files N          refuse a git repository of more than N files (default\n"
		"                         1000000)\n"
		"  --max-bytes SIZE       refuse a git repository of more than SIZE of content to\n"
		"                         index (e.g. 2G; default: no limit)\n"
		"  --max-seconds N        stop indexing a git repository after N seconds (default:\n"
		"                         no limit)\n"
		"  --symbols              also extract symbols (definitions) with universal-ctags,\n"
		"                         run confined, one per thread (docs/internals/symbols.md)\n"
		"  --symbols-timeout MS   give up a file's symbols after MS milliseconds (default\n"
		"                         5000); its content is indexed all the same\n"
		"  --paths-from FILE      also index the PATHs FILE lists, one per line ('-': standard\n"
		"                         input): thousands of repositories, more than a command\n"
		"                         line holds; directories of one run share shards\n"
		"  -j, --jobs N           indexing threads, 1 to 64 (default: one per core)\n"
		"  -q, --quiet            print neither progress nor the summary\n"
		"  -h, --help             this usage\n",
};


struct progress {
	bool is_tty;
	double start_bytes;
};

static void show_progress(const struct build_stats *st, void *arg)
{
	struct progress *pg = arg;
	char a[32], b[32], c[32];
	double frac = st->bytes ? (double)st->bytes_done / (double)st->bytes : 1;
	double secs = 0, rate, eta;
	int width = 24, fill = (int)(frac * width);
	static double t0 = -1;
	double now;

	if (!pg->is_tty)
		return;
	now = clock_now_ms() / 1e3;
	if (t0 < 0)
		t0 = now;
	secs = now - t0;
	rate = secs > 0 ? (double)st->bytes_done / secs : 0;
	eta = rate > 0 ? ((double)st->bytes - (double)st->bytes_done) / rate : 0;
	fprintf(stderr, "\r[%.*s%.*s] %llu/%llu files  %s/%s  %s/s  ETA %.0fs \x1b[K", fill,
		"========================", width - fill, "                        ",
		(unsigned long long)st->files_done, (unsigned long long)st->files,
		cli_human_bytes(a, sizeof(a), (double)st->bytes_done),
		cli_human_bytes(b, sizeof(b), (double)st->bytes), cli_human_bytes(c, sizeof(c), rate),
		eta);
}

static void print_summary(const char *name, const struct build_stats *st, bool has_symbols)
{
	char a[32];

	printf("indexed %s", name);
	if (st->commit[0])
		printf(" at %.12s", st->commit);
	printf(": %llu files (%s) in %llu shard%s, %.1f s; skipped %llu binary, %llu too "
	       "large, %llu unreadable; %llu symlinks not followed",
	       (unsigned long long)st->indexed, cli_human_bytes(a, sizeof(a), (double)st->indexed_bytes),
	       (unsigned long long)st->shards, st->shards == 1 ? "" : "s", st->elapsed_ms / 1000,
	       (unsigned long long)st->skipped_binary, (unsigned long long)st->skipped_large,
	       (unsigned long long)st->skipped_unreadable, (unsigned long long)st->symlinks);
	if (st->commit[0])
		printf(", %llu submodules not followed", (unsigned long long)st->submodules);
	putchar('\n');
	if (has_symbols)
		printf("symbols %s: %llu symbols; %llu files without symbols because ctags failed\n",
		       name, (unsigned long long)st->symbols, (unsigned long long)st->symbols_failed);
	if (st->walk_errors)
		printf("warning: %s: %llu directories could not be read\n", name,
		       (unsigned long long)st->walk_errors);
	if (st->trees_skipped)
		printf("warning: %s: %llu directories not read (deeper than the limit, too large or "
		       "unreadable)\n", name, (unsigned long long)st->trees_skipped);
	if (st->paths_too_long)
		printf("warning: %s: %llu entries not recorded (path over the length limit)\n", name,
		       (unsigned long long)st->paths_too_long);
	if (st->bad_names)
		printf("warning: %s: %llu entries named \".\" or \"..\" not recorded\n", name,
		       (unsigned long long)st->bad_names);
}

struct index_run {
	const char *out;
	const struct build_opts *o;
	const struct build_git_limits *lim;
	struct progress *pg;
	bool quiet;
};

static void print_git_summary(const char *name, const struct build_stats *st,
			      const struct build_git_result *res, bool has_symbols)
{
	for (size_t i = 0; i < res->n_branches; i++) {
		const struct build_git_branch *b = &res->branches[i];

		printf("%s %s@%s at %.12s%s\n", b->is_reindexed ? "indexed" : "unchanged", name,
		       b->name, b->commit, b->is_default ? " (default)" : "");
	}
	if (res->is_unchanged) {
		printf("unchanged %s: no branch moved\n", name);
		return;
	}
	if (res->is_incremental)
		printf("incremental %s: %llu changed entries, %llu new shard%s\n", name,
		       (unsigned long long)res->changed_files, (unsigned long long)res->delta_shards,
		       res->delta_shards == 1 ? "" : "s");
	print_summary(name, st, has_symbols);
}

/* Indexes the git repository at path: HEAD, or the branches the patterns select. */
static int index_git(const struct index_run *run, const char *nm, const char *path,
		     char *const *branches, size_t n_branches)
{
	struct build_git_result res = { 0 };
	struct build_stats st;
	int err;

	err = gitmod.build_repo(&st, &res, run->out, nm, path, branches, n_branches, run->o,
				run->lim, show_progress, run->pg);
	if (run->pg->is_tty)
		fputs("\r\x1b[K", stderr);
	if (err < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	if (res.n_invalid)
		fprintf(stderr, "trawl: warning: %s: %zu matching branch%s left out (not a valid "
			"branch name for trawl, e.g. starting with '-')\n", path, res.n_invalid,
			res.n_invalid == 1 ? "" : "es");
	if (!run->quiet)
		print_git_summary(nm, &st, &res, run->o->symbols != NULL);
	gitmod.result_free(&res);
	return 0;
}

#define PATHS_FROM_MAX ((size_t)256 << 20)

/* The PATHs of a run: the command line's, then those --paths-from lists. */
struct path_list {
	char **v; /* borrowed from argv, or into buf */
	size_t n;
	char *buf;
};

static void paths_dispose(struct path_list *l)
{
	free(l->v);
	free(l->buf);
}

/* Standard input to its end (a pipe, a file) into *out, NUL-terminated. EIO, ELIMIT, ENOMEM. */
static int read_stdin(char **out, size_t *len, size_t max)
{
	size_t cap = 1 << 16;
	char *p = malloc(cap), *q;

	*out = NULL;
	*len = 0;
	if (!p)
		return error_nomem(NULL);
	for (;;) {
		ssize_t n;

		if (*len + 1 == cap) {
			if (cap > max) {
				free(p);
				error_set("standard input: more than %zu bytes", max);
				return TRAWL_ELIMIT;
			}
			if (!(q = realloc(p, cap * 2))) {
				free(p);
				return error_nomem(NULL);
			}
			p = q;
			cap *= 2;
		}
		n = read(STDIN_FILENO, p + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set("standard input: %s", strerror(errno));
			free(p);
			return TRAWL_EIO;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	p[*len] = '\0';
	*out = p;
	return 0;
}

/*
 * argv's n PATHs, then the lines of file (NULL: none; "-": standard input), one PATH each
 * (empty lines skipped; a path may hold any byte but newline and NUL). EIO, ENOTFOUND, ELIMIT,
 * EINVAL (a NUL byte), ENOMEM.
 */
static int paths_read(struct path_list *l, const char *file, char **argv, size_t n)
{
	size_t len = 0, lines = 0;
	int err;

	*l = (struct path_list){ 0 };
	if (file && (err = strcmp(file, "-") == 0 ? read_stdin(&l->buf, &len, PATHS_FROM_MAX)
						 : file_read_all(&l->buf, &len, file, PATHS_FROM_MAX)) < 0)
		return err;
	if (l->buf && memchr(l->buf, 0, len)) {
		error_set("%s: a NUL byte: one path per line", file);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		lines += l->buf[i] == '\n';
	if (!(l->v = calloc(n + lines + 2, sizeof(*l->v))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++)
		l->v[l->n++] = argv[i];
	for (char *p = l->buf, *end = l->buf + len, *nl; p && p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end; /* the last line without its newline: buf has a byte after it */
		*nl = '\0';
		if (nl > p)
			l->v[l->n++] = p;
	}
	return 0;
}

/* The directories of one run: indexed together (build_dirs), small ones sharing shards. */
struct dir_batch {
	char **names;
	char **roots; /* borrowed from argv */
	size_t n;
};

static void dirs_dispose(struct dir_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->names[i]);
	free(b->names);
	free(b->roots);
}

/*
 * Adds directory root as repository nm (taking nm), after checking it opens and its name: a
 * missing one or a bad name is reported and left out, the others are still indexed.
 * EXIT_ERROR when left out.
 */
static int dirs_add(struct dir_batch *b, char *nm, char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		cli_errorf("%s: cannot open directory: %s", root, strerror(errno));
		free(nm);
		return EXIT_ERROR;
	}
	close(fd);
	if (!build_name_valid(nm)) {
		cli_errorf("%s: invalid repository name \"%s\" (1-200 bytes of UTF-8, no '/', '\\' "
			   "or control characters, not starting with '-'): left out", root, nm);
		free(nm);
		return EXIT_ERROR;
	}
	b->names[b->n] = nm;
	b->roots[b->n++] = root;
	return 0;
}

struct dir_name {
	const char *name;
	size_t i; /* its place in the batch */
};

static int cmp_dir_name(const void *a, const void *b)
{
	const struct dir_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * A name given twice keeps the last directory, as when each was indexed in turn, with a
 * warning; the order of the others is kept. Sorted once: 50,000 names compared each with every
 * other took longer than indexing them. ENOMEM.
 */
static int dirs_dedupe(struct dir_batch *b)
{
	struct dir_name *order = malloc((b->n + 1) * sizeof(*order));
	size_t w = 0;
	bool *is_dropped = calloc(b->n + 1, sizeof(*is_dropped));

	if (!order || !is_dropped) {
		free(order);
		free(is_dropped);
		return error_nomem(NULL);
	}
	for (size_t i = 0; i < b->n; i++)
		order[i] = (struct dir_name){ b->names[i], i };
	qsort(order, b->n, sizeof(*order), cmp_dir_name);
	for (size_t k = 0; k + 1 < b->n; k++)
		if (strcmp(order[k].name, order[k + 1].name) == 0) {
			fprintf(stderr, "trawl: warning: %s and %s are both named \"%s\": %s is left "
				"out (index it alone with --name)\n", b->roots[order[k].i],
				b->roots[order[k + 1].i], order[k].name, b->roots[order[k].i]);
			is_dropped[order[k].i] = true;
		}
	for (size_t i = 0; i < b->n; i++) {
		if (is_dropped[i]) {
			free(b->names[i]);
			continue;
		}
		b->names[w] = b->names[i];
		b->roots[w++] = b->roots[i];
	}
	b->n = w;
	free(order);
	free(is_dropped);
	return 0;
}

/* Indexes the run's directories in one pipeline and one commit, and says what each gave. */
static int index_dirs(const struct index_run *run, const struct dir_batch *b)
{
	struct build_stats *st = calloc(b->n, sizeof(*st)), total;
	int err;

	if (!st) {
		cli_errorf("out of memory");
		return EXIT_ERROR;
	}
	err = build_dirs(st, &total, run->out, b->names, b->roots, b->n, run->o, show_progress,
			 run->pg);
	if (run->pg->is_tty)
		fputs("\r\x1b[K", stderr);
	if (err < 0) {
		cli_report(err);
		free(st);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < b->n && !run->quiet; i++) {
		if (b->n == 1) {
			st[i].symbols = total.symbols;
			st[i].symbols_failed = total.symbols_failed;
		}
		print_summary(b->names[i], &st[i], b->n == 1 && run->o->symbols);
	}
	if (b->n > 1 && !run->quiet) {
		char a[32];

		printf("indexed %zu repositories: %llu files (%s) in %llu shard%s, %.1f s\n", b->n,
		       (unsigned long long)total.indexed,
		       cli_human_bytes(a, sizeof(a), (double)total.indexed_bytes),
		       (unsigned long long)total.shards, total.shards == 1 ? "" : "s",
		       total.elapsed_ms / 1000);
		if (run->o->symbols)
			printf("symbols: %llu symbols; %llu files without symbols because ctags "
			       "failed\n", (unsigned long long)total.symbols,
			       (unsigned long long)total.symbols_failed);
	}
	free(st);
	return 0;
}

/* The repository name for a path: its last component, ignoring trailing slashes. */
static char *default_name(const char *path)
{
	char *copy = strdup(path), *base, *name;

	if (!copy)
		return NULL;
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	base = basename(copy);
	name = strdup(strcmp(base, ".") == 0 || strcmp(base, "/") == 0 ? "root" : base);
	free(copy);
	return name;
}

static int index_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "max-file-size", required_argument, NULL, 'S' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "branch", required_argument, NULL, 'b' },
		{ "max-files", required_argument, NULL, 'F' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "max-seconds", required_argument, NULL, 'T' },
		{ "worktree", no_argument, NULL, 'W' },
		{ "symbols", no_argument, NULL, 'Y' },
		{ "symbols-timeout", required_argument, NULL, 'Z' },
		{ "paths-from", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_opts o = { BUILD_MAX_FILE_SIZE_DEFAULT, 0, NULL };
	struct ctags_opts ctags = { 0 };
	bool has_symbols = false;
	struct build_git_limits lim = { BUILD_MAX_FILES_DEFAULT, 0, 0 };
	struct progress pg = { isatty(2) != 0, 0 };
	const char *out = NULL, *name = NULL;
	char *branches[CLI_MAX_BRANCH_ARGS];
	size_t n_branches = 0;
	bool quiet = false, worktree = false;
	struct index_run run;
	struct dir_batch dirs = { 0 };
	struct path_list paths = { 0 };
	const char *paths_from = NULL;
	uint64_t v;
	int c, err, ret = 0;

	while ((c = getopt_long(argc, argv, "o:n:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n': name = optarg; break;
		case 'q': quiet = true; break;
		case 'W': worktree = true; break;
		case 'Y': has_symbols = true; break;
		case 'Z':
			if (!cli_parse_u64(&v, optarg) || v == 0 || v > 3600000) {
				cli_errorf("--symbols-timeout: expected milliseconds from 1 to 3600000, "
					   "got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			ctags.timeout_ms = (double)v;
			break;
		case 'b':
			if (!cli_branch_arg(branches, &n_branches, optarg))
				return EXIT_ERROR;
			break;
		case 'F':
			if (!cli_parse_u64(&lim.max_files, optarg) || lim.max_files == 0 ||
			    lim.max_files > 100000000) {
				cli_errorf("--max-files: expected a number from 1 to 100000000, got \"%s\"",
					   optarg);
				return EXIT_ERROR;
			}
			break;
		case 'B':
			if (!cli_parse_size(&lim.max_bytes, optarg) || lim.max_bytes == 0) {
				cli_errorf("--max-bytes: expected a size such as 2G, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'T':
			if (!cli_parse_u64(&lim.max_seconds, optarg) || lim.max_seconds == 0 ||
			    lim.max_seconds > 86400 * 7) {
				cli_errorf("--max-seconds: expected a number of seconds from 1 to 604800, "
					   "got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'S':
			if (!cli_parse_size(&o.max_file_size, optarg) || o.max_file_size > (1ull << 30)) {
				cli_errorf("--max-file-size: expected a size up to 1G such as 1M, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'j':
			if (!cli_parse_u64(&v, optarg) || v == 0 || v > 64) {
				cli_errorf("-j: expected a number of threads from 1 to 64, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			o.n_threads = (unsigned)v;
			break;
		case 'P': paths_from = optarg; break;
		case 'h': return cli_usage("index", false);
		default: return cli_usage("index", true);
		}
	}
	if (!out)
		return cli_usage("index", true);
	if (worktree && n_branches) {
		cli_errorf("--branch reads a git repository; --worktree walks its directory: choose one");
		return EXIT_ERROR;
	}
	if (ctags.timeout_ms > 0 && !has_symbols) {
		cli_errorf("--symbols-timeout needs --symbols");
		return EXIT_ERROR;
	}
	if ((err = paths_read(&paths, paths_from, argv + optind, (size_t)(argc - optind))) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	if (paths.n == 0) {
		paths_dispose(&paths);
		return cli_usage("index", true);
	}
	if (name && paths.n > 1) {
		cli_errorf("--name applies to a single PATH");
		ret = EXIT_ERROR;
		goto out;
	}
	if (has_symbols)
		o.symbols = &ctags;
	if (quiet)
		pg.is_tty = false;
	run = (struct index_run){ out, &o, &lim, &pg, quiet };
	if (!(dirs.names = calloc(paths.n, sizeof(*dirs.names))) ||
	    !(dirs.roots = calloc(paths.n, sizeof(*dirs.roots)))) {
		cli_errorf("out of memory");
		ret = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < paths.n; i++) {
		char *path = paths.v[i];
		char *nm = name ? strdup(name) : default_name(path);
		enum build_git_kind kind = worktree ? BUILD_GIT_NONE : gitmod.probe(path);

		if (!nm) {
			cli_errorf("out of memory");
			ret = EXIT_ERROR;
			break;
		}
		if (kind == BUILD_GIT_BROKEN) {
			fprintf(stderr, "trawl: warning: %s; indexing the directory instead\n",
				error_last());
			kind = BUILD_GIT_NONE;
		}
		if (kind == BUILD_GIT_REPO) {
			if (index_git(&run, nm, path, branches, n_branches) != 0)
				ret = EXIT_ERROR;
			free(nm);
			continue;
		}
		if (n_branches) {
			cli_errorf("%s: --branch needs a git repository", path);
			ret = EXIT_ERROR;
			free(nm);
			continue;
		}
		if (dirs_add(&dirs, nm, path) != 0)
			ret = EXIT_ERROR;
	}
	if (dirs.n && (err = dirs_dedupe(&dirs)) < 0) {
		cli_report(err);
		ret = EXIT_ERROR;
		goto out;
	}
	if (dirs.n && index_dirs(&run, &dirs) != 0)
		ret = EXIT_ERROR;
out:
	dirs_dispose(&dirs);
	paths_dispose(&paths);
	return ret;
}

int cmd_index(int argc, char **argv)
{
	int err, ret;

	/* libgit2 starts first: checking a --branch value already uses it. */
	if ((err = gitmod_init()) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	ret = index_main(argc, argv);
	gitmod.shutdown();
	return ret;
}
