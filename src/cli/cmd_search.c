/* trawl search: ripgrep-compatible output, or JSON Lines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/datadir.h"
#include "query/lang.h"
#include "query/query.h"
#include "regex/regex.h"
#include "search/request.h"
#include "search/search.h"
#include "search/search_json.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"
#include "util/term.h"

const struct cli_help cli_help_search = {
	.synopsis =
		"trawl search [-d INDEXDIR | --data DATADIR] [-F] [-i] [-w] [-l | -c] [-m N]\n"
		"             [-A N] [-B N] [-C N] [--heading | --no-heading] [--limit N]\n"
		"             [--path REGEX] [--json] [--color WHEN] [-j N] QUERY\n"
		"trawl search [-d INDEXDIR | --data DATADIR] [the same options] -e PATTERN\n",
	.summary = "search an index: a query, best results first, or one regex as rg -e",
	.options =
		"QUERY is Sourcegraph's language (docs/query-syntax.md): terms that must all occur\n"
		"in a file, \"phrases\", /regexes/, repo:, file:, lang:, case:yes, count:, timeout:,\n"
		"type:, select:, rev:, patterntype:, AND, OR, NOT and parentheses. Lines print as\n"
		"REPO/PATH:LINE:TEXT; with -e, in index order, exactly as rg -n --no-heading.\n"
		"\n"
		"  -d, --dir INDEXDIR        the index to search\n"
		"  --data DATADIR            the registry's index, DATADIR/index (docs/operations.md);\n"
		"                            neither given: $TRAWL_DATA's, else ./trawl-data's\n"
		"  -e, --regexp PATTERN      one ripgrep-syntax regex instead of a query\n"
		"  -F, --fixed-strings       the pattern is a fixed string\n"
		"  -i, --ignore-case         ignore case (Unicode simple case folding)\n"
		"  -w, --word-regexp         whole words only (ripgrep's definition)\n"
		"  -l, --files-with-matches  only the names of matching files\n"
		"  -c, --count               the number of matching lines per file\n"
		"  -m, --max-count N         at most N matching lines per file\n"
		"  -A, --after-context N     N lines after each matching line, as rg: PATH-LINE-TEXT,\n"
		"                            overlapping context merged, -- between groups apart\n"
		"  -B, --before-context N    N lines before each matching line\n"
		"  -C, --context N           N lines before and after (-A and -B given win)\n"
		"                            (text output only: not with --json, -l or -c)\n"
		"  --heading                 each file's path once on a line of its own above its\n"
		"                            lines (LINE:TEXT), a blank line between files, as rg\n"
		"  --no-heading              PATH:LINE:TEXT on every line (the default)\n"
		"  --limit N                 stop after N matching lines in all (said on stderr)\n"
		"  --path REGEX              only files whose path in the repository matches REGEX\n"
		"  --json                    JSON Lines: an object per file, then a summary\n"
		"                            (docs/cli-json.md)\n"
		"  --color WHEN              auto, always or never: highlight paths, line numbers\n"
		"                            and matches (also --colour; default auto)\n"
		"  -j, --jobs N              search threads, 1 to 64 (default: one per core)\n"
		"  -h, --help                this usage\n"
		"\n"
		"exit status: 0 when something matched, 1 when nothing did, 2 on error\n",
};

/* ripgrep's default colours. */
#define C_PATH "\x1b[0m\x1b[35m"
#define C_LINE "\x1b[0m\x1b[32m"
#define C_MATCH "\x1b[0m\x1b[1m\x1b[31m"
#define C_RESET "\x1b[0m"

enum out_mode { OUT_LINES, OUT_FILES, OUT_COUNT, OUT_JSON };

struct printer {
	struct search_sink sink; /* first: the request hands it back */
	enum out_mode mode;
	bool color;
	struct buf b;
	struct buf prefix; /* "repo/path:" of the file being printed */
	bool show_branches; /* rev: was given: print repo@BRANCHES/path */
	enum term_text names; /* repositories, branches and paths: escaped on a terminal */
	enum term_text text;  /* matching lines: the same, tabs kept */
	uint64_t before, after; /* -B, -A: context lines (text output) */
	bool heading;           /* --heading: the path on a line of its own above the lines */
	bool is_any_line;       /* a line was printed: separators go between groups and files */
	/* The closing alerts, printed after the results (stderr after stdout). */
	bool is_count_hit;
	bool is_timeout;
	char rev_warning[sizeof(((struct search_stats *)0)->rev_warning)];
	char symbols_warning[sizeof(((struct search_stats *)0)->symbols_warning)];
};

static int flush_out(struct printer *p)
{
	if (p->b.len && fwrite(p->b.ptr, 1, p->b.len, stdout) != p->b.len) {
		error_set("cannot write output");
		return TRAWL_EIO;
	}
	buf_reset(&p->b);
	return 0;
}

static int put_path_to(struct buf *b, const struct printer *p, const struct search_file *f)
{
	int err = 0;

	if (p->color)
		err = buf_puts(b, C_PATH);
	if (!err)
		err = term_put(b, f->repo, strlen(f->repo), p->names);
	/* With rev:, the branches the match is on: repo@dev,main/path (else unchanged). */
	for (size_t i = 0; !err && p->show_branches && i < f->n_branches; i++)
		if ((err = buf_putc(b, i ? ',' : '@')) == 0)
			err = term_put(b, f->branches[i], strlen(f->branches[i]), p->names);
	if (!err && f->kind != SEARCH_REPO)
		err = buf_putc(b, '/');
	if (!err && f->kind != SEARCH_REPO)
		err = term_put(b, f->path, f->path_len, p->names);
	if (!err && p->color)
		err = buf_puts(b, C_RESET);
	return err;
}

static int put_path(struct printer *p, const struct search_file *f)
{
	return put_path_to(&p->b, p, f);
}

static int put_line_text(struct printer *p, const struct search_line *l)
{
	size_t pos = 0;
	int err = 0;

	if (!p->color || l->n_ranges == 0)
		return term_put(&p->b, l->text, l->len, p->text);
	for (size_t i = 0; i < l->n_ranges && !err; i++) {
		const struct match_range *r = &l->ranges[i];

		if (r->start < pos || r->end > l->len || r->start == r->end)
			continue;
		err = term_put(&p->b, l->text + pos, r->start - pos, p->text);
		if (!err)
			err = buf_puts(&p->b, C_MATCH);
		if (!err)
			err = term_put(&p->b, l->text + r->start, r->end - r->start, p->text);
		if (!err)
			err = buf_puts(&p->b, C_RESET);
		pos = r->end;
	}
	return err ? err : term_put(&p->b, l->text + pos, l->len - pos, p->text);
}

static int print_json_file(struct printer *p, const struct search_file *f)
{
	int err = search_json_file(&p->b, f, NULL);

	return err < 0 ? err : buf_putc(&p->b, '\n');
}

/* One line: PREFIX LINE SEP TEXT, SEP ':' for a matching line and '-' for context (as rg). */
static int put_numbered(struct printer *p, uint64_t lineno, const struct search_line *l, char sep)
{
	int err;

	if ((err = buf_reserve(&p->b, p->prefix.len + l->len + 32)) < 0 ||
	    (err = buf_put(&p->b, p->prefix.ptr, p->prefix.len)) < 0)
		return err;
	if (p->prefix.len && (err = buf_putc(&p->b, sep)) < 0)
		return err;
	if (p->color && (err = buf_puts(&p->b, C_LINE)) < 0)
		return err;
	if ((err = buf_put_u64(&p->b, lineno)) < 0)
		return err;
	if (p->color && (err = buf_puts(&p->b, C_RESET)) < 0)
		return err;
	if ((err = buf_putc(&p->b, sep)) < 0 || (err = put_line_text(p, l)) < 0 ||
	    (err = buf_putc(&p->b, '\n')) < 0)
		return err;
	return p->b.len > (1 << 16) ? flush_out(p) : 0;
}

/*
 * Context lines are found in the file's content around the matching lines' texts (which point
 * into it). ctx tracks the last line printed, so overlapping context is printed once.
 */
struct ctx {
	const uint8_t *c, *end;  /* the file's content */
	uint64_t last;           /* the last line printed; 0 before the first */
	const uint8_t *last_end; /* where it ends: its '\n', or end */
	uint64_t pending;        /* after-context lines still owed to it */
};

static int put_context_line(struct printer *p, struct ctx *x, uint64_t lineno, const uint8_t *s)
{
	const uint8_t *e = memchr(s, '\n', (size_t)(x->end - s));
	struct search_line l = { .lineno = lineno, .text = s, .len = (size_t)((e ? e : x->end) - s) };

	x->last = lineno;
	x->last_end = s + l.len;
	return put_numbered(p, lineno, &l, '-');
}

/* The after-context owed to the last line printed, up to (not including) line limit. */
static int put_after(struct printer *p, struct ctx *x, uint64_t limit)
{
	int err = 0;

	/* A line follows when last_end (its '\n') is not the content's last byte. */
	while (!err && x->pending && x->last + 1 < limit && x->last_end && x->end - x->last_end > 1) {
		x->pending--;
		err = put_context_line(p, x, x->last + 1, x->last_end + 1);
	}
	return err;
}

/* The "--" between groups of lines that are not adjacent (rg prints it with context only). */
static int put_group_break(struct printer *p, const struct ctx *x, uint64_t first)
{
	bool is_apart = x->last ? first > x->last + 1 : (!p->heading && p->is_any_line);

	return is_apart ? buf_puts(&p->b, "--\n") : 0;
}

/* The before-context of l (not already printed), the break before it, then l itself. */
static int put_match(struct printer *p, struct ctx *x, const struct search_line *l)
{
	const uint8_t *s = l->text;
	uint64_t first = l->lineno;
	int err;

	if (x->c && l->text >= x->c && l->text + l->len <= x->end) {
		while (first > 1 && l->lineno - first < p->before && first - 1 > x->last && s > x->c) {
			s--; /* onto the '\n' ending the line before */
			while (s > x->c && s[-1] != '\n')
				s--;
			first--;
		}
		if ((p->before || p->after) && (err = put_group_break(p, x, first)) < 0)
			return err;
		for (uint64_t n = first; n < l->lineno; n++)
			if ((err = put_context_line(p, x, n, s)) < 0)
				return err;
			else
				s = x->last_end + 1;
		x->last_end = l->text + l->len;
		x->pending = p->after;
	} else {
		x->last_end = NULL; /* not in the content: no context around it */
		x->pending = 0;
	}
	x->last = l->lineno;
	p->is_any_line = true;
	return put_numbered(p, l->lineno, l, ':');
}

static int print_lines(struct printer *p, const struct search_file *f)
{
	struct ctx x = { .c = f->content, .end = f->content + f->content_len };
	int err;

	/* Format "repo/path" once, then copy it in front of every line (or above them). */
	buf_reset(&p->prefix);
	if ((err = put_path_to(&p->prefix, p, f)) < 0)
		return err;
	if (p->heading) {
		if ((p->is_any_line && (err = buf_putc(&p->b, '\n')) < 0) ||
		    (err = buf_put(&p->b, p->prefix.ptr, p->prefix.len)) < 0 ||
		    (err = buf_putc(&p->b, '\n')) < 0)
			return err;
		buf_reset(&p->prefix);
	}
	for (uint64_t i = 0; i < f->n_lines; i++) {
		const struct search_line *l = &f->lines[i];

		if (l->lineno <= x.last) /* out of order: printed as it comes, no context */
			x.last = 0, x.last_end = NULL, x.pending = 0;
		if ((err = put_after(p, &x, l->lineno)) < 0 || (err = put_match(p, &x, l)) < 0)
			return err;
	}
	return put_after(p, &x, UINT64_MAX);
}

/* A symbol result: "repo/path:LINE: KIND NAME (SCOPE)" per symbol. */
static int print_symbols(struct printer *p, const struct search_file *f)
{
	int err;

	buf_reset(&p->prefix);
	if ((err = put_path_to(&p->prefix, p, f)) < 0 || (err = buf_putc(&p->prefix, ':')) < 0)
		return err;
	for (size_t i = 0; i < f->n_symbols; i++) {
		const struct search_symbol *y = &f->symbols[i];

		if ((err = buf_put(&p->b, p->prefix.ptr, p->prefix.len)) < 0 ||
		    (p->color && (err = buf_puts(&p->b, C_LINE)) < 0) ||
		    (err = buf_put_u64(&p->b, y->line)) < 0 ||
		    (p->color && (err = buf_puts(&p->b, C_RESET)) < 0) ||
		    (err = buf_putc(&p->b, ':')) < 0 || (err = buf_putc(&p->b, ' ')) < 0 ||
		    (err = term_put(&p->b, y->kind, y->kind_len, p->text)) < 0 ||
		    (err = buf_putc(&p->b, ' ')) < 0 ||
		    (p->color && (err = buf_puts(&p->b, C_MATCH)) < 0) ||
		    (err = term_put(&p->b, y->name, y->name_len, p->text)) < 0 ||
		    (p->color && (err = buf_puts(&p->b, C_RESET)) < 0))
			return err;
		if (y->scope &&
		    ((err = buf_puts(&p->b, " (")) < 0 ||
		     (err = term_put(&p->b, y->scope, y->scope_len, p->text)) < 0 ||
		     (err = buf_putc(&p->b, ')')) < 0))
			return err;
		if ((err = buf_putc(&p->b, '\n')) < 0)
			return err;
	}
	return 0;
}

static int on_file(struct search_sink *sk, const struct search_file *f)
{
	struct printer *p = (struct printer *)sk;
	int err = 0;

	if (f->kind == SEARCH_SYMBOL && p->mode == OUT_LINES) {
		err = print_symbols(p, f);
		if (!err && p->b.len > (1 << 16))
			err = flush_out(p);
		return err < 0 ? err : 0;
	}

	if (f->kind != SEARCH_CONTENT && f->kind != SEARCH_SYMBOL && p->mode != OUT_JSON) {
		/* Path, repository and selected results are one line each. */
		if ((err = put_path(p, f)) == 0)
			err = buf_putc(&p->b, '\n');
		return err < 0 ? err : 0;
	}
	switch (p->mode) {
	case OUT_FILES:
		if ((err = put_path(p, f)) == 0)
			err = buf_putc(&p->b, '\n');
		break;
	case OUT_COUNT:
		if ((err = put_path(p, f)) == 0)
			err = buf_printf(&p->b, ":%llu\n", (unsigned long long)f->n_lines);
		break;
	case OUT_JSON:
		err = print_json_file(p, f);
		break;
	case OUT_LINES:
		err = print_lines(p, f);
		break;
	}
	if (!err && p->b.len > (1 << 16))
		err = flush_out(p);
	return err < 0 ? err : 0;
}

/* The query's warnings go out at once; the closing alerts wait for the results. */
static int on_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	struct printer *p = (struct printer *)sk;

	switch (a) {
	case SEARCH_ALERT_WARNING:
		cli_errorf("warning: %s", msg);
		break;
	case SEARCH_ALERT_REV:
		snprintf(p->rev_warning, sizeof(p->rev_warning), "%s", msg);
		break;
	case SEARCH_ALERT_SYMBOLS:
		snprintf(p->symbols_warning, sizeof(p->symbols_warning), "%s", msg);
		break;
	case SEARCH_ALERT_REPO_NONE:
		cli_errorf("warning: %s", msg);
		break;
	case SEARCH_ALERT_COUNT:
		p->is_count_hit = true;
		break;
	case SEARCH_ALERT_TIMEOUT:
		p->is_timeout = true;
		break;
	case SEARCH_ALERT_MEMORY: /* the command line sets no memory or output limit */
	case SEARCH_ALERT_OUTPUT:
	case SEARCH_ALERT_PARTIAL: /* nor fans out */
		break;
	}
	return 0;
}

/* The query's timeout: as it was written, in the query language's own form (1ms, 1s500ms). */
static void report_timeout(const struct query *q)
{
	struct buf d;

	buf_init(&d, 64);
	if (q && query_duration_put(&d, q->timeout_ms) == 0)
		cli_errorf("stopped by the time limit (timeout:%.*s); results so far shown",
			   (int)d.len, d.ptr);
	else
		cli_errorf("stopped by the time limit; results so far shown");
	buf_dispose(&d);
}

/* The closing alerts, on stderr, as the command line words them. */
static void print_closing_alerts(const struct printer *p, const struct query *query,
				 const struct search_opts *o, bool json)
{
	if (p->rev_warning[0])
		cli_errorf("warning: %s", p->rev_warning);
	if (p->symbols_warning[0])
		cli_errorf("warning: %s", p->symbols_warning);
	if (json)
		return;
	if (p->is_timeout)
		report_timeout(query);
	else if (p->is_count_hit && o->limit)
		cli_errorf("stopped after %llu matching lines (--limit)", (unsigned long long)o->limit);
	else if (p->is_count_hit && query)
		cli_errorf("stopped after %llu results (count:%llu; count:all for every one)",
			   (unsigned long long)query->count, (unsigned long long)query->count);
}

static int print_json_summary(struct printer *p, const struct search_stats *st)
{
	int err = search_json_summary(&p->b, st, true);

	return err < 0 ? err : buf_putc(&p->b, '\n');
}

/* Prints the error, and for a pattern error the pattern with a caret under the position. */
static void report_pattern_error(int err, const char *pattern)
{
	size_t pos = error_pos(), column = 1;
	const char *msg = error_last();

	if (pos == (size_t)-1 || pos > strlen(pattern)) {
		cli_report(err);
		return;
	}
	for (size_t i = 0; i < pos; i++)
		column += ((unsigned char)pattern[i] & 0xc0) != 0x80;
	fprintf(stderr, "trawl: %s (column %zu)\n", msg[0] ? msg : error_name(err), column);
	fprintf(stderr, "  %s\n  ", pattern);
	/* Count columns in characters, not bytes, so the caret lines up with UTF-8 text. */
	for (size_t i = 0; i < pos; i++)
		if (((unsigned char)pattern[i] & 0xc0) != 0x80)
			fputc(pattern[i] == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
}

/*
 * The index of the data directory the other commands use when neither -d nor --data is given
 * ($TRAWL_DATA, else ./trawl-data; docs/operations.md): its path (caller frees), "" (freeable)
 * after saying there is none, NULL out of memory (said).
 */
static char *default_data_index(void)
{
	const char *env = getenv("TRAWL_DATA");
	const char *data = env && env[0] ? env : DATADIR_DEFAULT;
	struct stat st;
	char *index;

	if (stat(data, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_errorf("no index to search: give -d INDEXDIR or --data DATADIR (%s%s does not "
			   "exist)", env && env[0] ? "$TRAWL_DATA=" : "./", data);
		return strdup("");
	}
	if (!(index = file_join(data, "index")))
		cli_errorf("out of memory");
	return index;
}

#define NO_CONTEXT UINT64_MAX /* -A, -B or -C not given */
#define MAX_CONTEXT 10000

/* -A, -B, -C N: a number of lines. */
static bool context_arg(uint64_t *out, int flag, const char *arg)
{
	if (!cli_parse_u64(out, arg) || *out > MAX_CONTEXT) {
		cli_errorf("-%c: expected a number of lines from 0 to %d, got \"%s\"", flag,
			   MAX_CONTEXT, arg);
		return false;
	}
	return true;
}

/* Whether dir looks like a data directory (its registry and index inside) rather than an index. */
static bool is_data_dir(const char *dir)
{
	char *db = file_join(dir, "trawl.db"), *index = file_join(dir, "index");
	char *manifest = file_join(dir, "MANIFEST");
	struct stat st;
	bool yes = db && index && manifest && stat(db, &st) == 0 && stat(index, &st) == 0 &&
		   S_ISDIR(st.st_mode) && stat(manifest, &st) != 0;

	free(db);
	free(index);
	free(manifest);
	return yes;
}

int cmd_search(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "data", required_argument, NULL, 'D' },
		{ "fixed-strings", no_argument, NULL, 'F' },
		{ "ignore-case", no_argument, NULL, 'i' },
		{ "word-regexp", no_argument, NULL, 'w' },
		{ "files-with-matches", no_argument, NULL, 'l' },
		{ "count", no_argument, NULL, 'c' },
		{ "max-count", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'L' },
		{ "path", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'J' },
		{ "color", required_argument, NULL, 'K' },
		{ "colour", required_argument, NULL, 'K' },
		{ "after-context", required_argument, NULL, 'A' },
		{ "before-context", required_argument, NULL, 'B' },
		{ "context", required_argument, NULL, 'C' },
		{ "heading", no_argument, NULL, 'H' },
		{ "no-heading", no_argument, NULL, 'N' },
		{ "regexp", required_argument, NULL, 'e' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* The command line reads the index's files itself: every repository is readable. */
	static const struct search_repos all = { .is_all = true };
	struct search_request rq = { .readable = &all, .opts = { .want_lines = true } };
	struct search_opts *o = &rq.opts;
	struct printer p = { .sink = { .file = on_file, .alert = on_alert }, .mode = OUT_LINES };
	struct search_stats st;
	struct index *ix = NULL;
	const char *dir = NULL, *pattern = NULL, *qtext = NULL, *color = "auto";
	char *data_index = NULL;
	struct query *query = NULL;
	bool json = false, files = false, count = false;
	uint64_t v, after = NO_CONTEXT, before = NO_CONTEXT, both = NO_CONTEXT;
	int c, err, ret = EXIT_ERROR;

	buf_init(&p.b, BUF_MAX_DEFAULT);
	buf_init(&p.prefix, 1 << 20);
	while ((c = getopt_long(argc, argv, "d:Fiwlcm:e:j:A:B:C:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'D':
			free(data_index);
			if (!(data_index = file_join(optarg, "index"))) {
				cli_errorf("out of memory");
				goto out;
			}
			break;
		case 'F': o->regex_flags |= REGEX_FIXED; break;
		case 'i': o->regex_flags |= REGEX_ICASE; break;
		case 'w': o->regex_flags |= REGEX_WORD; break;
		case 'l': files = true; break;
		case 'c': count = true; break;
		case 'J': json = true; break;
		case 'P': o->path_regex = optarg; break;
		case 'K': color = optarg; break;
		case 'H': p.heading = true; break;
		case 'N': p.heading = false; break;
		case 'A': case 'B': case 'C':
			if (!context_arg(c == 'A' ? &after : c == 'B' ? &before : &both, c, optarg))
				goto out;
			break;
		case 'e': pattern = optarg; break;
		case 'm':
			if (!cli_parse_u64(&o->max_per_file, optarg)) {
				cli_errorf("-m: expected a number, got \"%s\"", optarg);
				goto out;
			}
			break;
		case 'L':
			if (!cli_parse_u64(&o->limit, optarg) || o->limit == 0) {
				cli_errorf("--limit: expected a positive number, got \"%s\"", optarg);
				goto out;
			}
			break;
		case 'j':
			if (!cli_parse_u64(&v, optarg) || v == 0 || v > 64) {
				cli_errorf("-j: expected a number of threads from 1 to 64, got \"%s\"", optarg);
				goto out;
			}
			o->n_threads = (unsigned)v;
			break;
		case 'h': ret = cli_usage("search", false); goto out;
		default: cli_usage("search", true); goto out;
		}
	}
	if (!pattern && optind < argc)
		qtext = argv[optind++];
	if (dir && data_index) {
		cli_errorf("-d INDEXDIR and --data DATADIR name two indexes: give one");
		goto out;
	}
	if (!dir && !data_index && (!(data_index = default_data_index()) || !*data_index))
		goto out;
	if (data_index)
		dir = data_index;
	if ((!pattern && !qtext) || optind != argc) {
		cli_usage("search", true);
		goto out;
	}
	if (is_data_dir(dir) && dir != data_index) {
		cli_errorf("%s is a data directory, not an index: --data %s searches its index "
			   "(%s/index)", dir, dir, dir);
		goto out;
	}
	if (qtext) {
		if ((err = query_parse(&query, qtext, strlen(qtext))) < 0) {
			report_pattern_error(err, qtext);
			goto out;
		}
		o->query = query;
		p.show_branches = query->rev != NULL;
	}
	/*
	 * SECURITY: names and lines come from repositories; on a terminal their control
	 * characters are shown, not obeyed. Piped output stays byte for byte rg's.
	 */
	p.names = cli_names_out();
	p.text = p.names == TERM_NAME ? TERM_CONTENT : TERM_RAW;
	if (strcmp(color, "always") == 0)
		p.color = true;
	else if (strcmp(color, "auto") == 0)
		p.color = isatty(1) != 0;
	else if (strcmp(color, "never") != 0) {
		cli_errorf("--color: expected auto, always or never, got \"%s\"", color);
		goto out;
	}
	p.after = after != NO_CONTEXT ? after : both != NO_CONTEXT ? both : 0;
	p.before = before != NO_CONTEXT ? before : both != NO_CONTEXT ? both : 0;
	if ((p.after || p.before) && (json || files || count)) {
		cli_errorf("-A, -B and -C add context to lines of text: not with %s (the API's "
			   "context=N gives JSON context lines)", json ? "--json" : files ? "-l" : "-c");
		goto out;
	}
	if (json) {
		p.mode = OUT_JSON;
		p.color = false;
		o->want_ranges = true;
	} else if (files) {
		p.mode = OUT_FILES;
		o->want_lines = false;
		if (!o->max_per_file || o->max_per_file > 1)
			o->max_per_file = 1; /* one line proves the file matches */
	} else if (count) {
		p.mode = OUT_COUNT;
		o->want_lines = false;
	}
	o->want_ranges = o->want_ranges || (p.mode == OUT_LINES && p.color);
	if (pattern) {
		o->pattern = pattern;
		o->pattern_len = strlen(pattern);
	}
	if ((err = index_open(&ix, dir)) < 0) {
		cli_report(err);
		goto out;
	}
	err = search_request_run(&st, ix, &rq, &p.sink);
	if (err < 0) {
		flush_out(&p);
		report_pattern_error(err, qtext ? qtext : pattern);
		goto out;
	}
	if (json && (err = print_json_summary(&p, &st)) < 0) {
		cli_report(err);
		goto out;
	}
	if ((err = flush_out(&p)) < 0 || fflush(stdout) != 0) {
		cli_report(err < 0 ? err : TRAWL_EIO);
		goto out;
	}
	print_closing_alerts(&p, query, o, json);
	ret = st.files ? EXIT_MATCH : EXIT_NOMATCH;
out:
	free(data_index);
	query_free(query);
	index_close(ix);
	buf_dispose(&p.b);
	buf_dispose(&p.prefix);
	return ret;
}
