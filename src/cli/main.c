/* trawl: the command-line entry point and subcommand dispatch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/gitmod.h"
#include "regex/hscompile.h"
#include "util/buf.h"
#include "util/error.h"

#ifndef TRAWL_VERSION
#define TRAWL_VERSION "0.1.0"
#endif

static const char usage[] =
	"usage: trawl COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  index  -o INDEXDIR [--name NAME] [--max-file-size SIZE] PATH...\n"
	"                      index directories, one repository each\n"
	"  search -d INDEXDIR|--data DIR [-F] [-i] [-w] [-l] [-c] [-m N] [--limit N] [--path REGEX]\n"
	"         [--json] [--color WHEN] PATTERN\n"
	"                      search the index (ripgrep-compatible output)\n"
	"  ls     -d INDEXDIR [--skipped]   list indexed files (and skipped ones, with reasons)\n"
	"  verify INDEXDIR     check every shard and checksum\n"
	"  repo   add URL|PATH [--name NAME] [--branch B]... | list [--json] | status NAME [--json]\n"
	"         | remove NAME     [--data DIR]   the repository registry (docs/operations.md)\n"
	"  sync   [NAME] [--data DIR]   fetch and index registered repositories\n"
	"  serve  [--data DIR] [--listen 127.0.0.1:6070] [--sync-interval 10m]\n"
	"                      the HTTP API and web UI (docs/api.md)\n"
	"  help | version\n"
	"\n"
	"exit status: 0 when something matched, 1 when nothing did, 2 on error\n";

void cli_report(int err)
{
	const char *msg = error_last();

	fprintf(stderr, "trawl: %s\n", msg[0] ? msg : error_name(err));
}

void cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("trawl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_parse_u64(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool cli_parse_size(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': mul = 1ull << 10; end++; break;
	case 'M': case 'm': mul = 1ull << 20; end++; break;
	case 'G': case 'g': mul = 1ull << 30; end++; break;
	default: return false;
	}
	if (*end || __builtin_mul_overflow((uint64_t)v, mul, out))
		return false;
	return true;
}

bool cli_branch_arg(char **v, size_t *n, char *arg)
{
	/* SECURITY: V2: a branch name or pattern is checked here, then only ever used as data. */
	if (!gitmod.branch_pattern_valid(arg)) {
		cli_errorf("--branch: not a valid branch name or pattern (a git ref name not "
			   "starting with '-', or a glob such as 'release/*')");
		return false;
	}
	if (*n == CLI_MAX_BRANCH_ARGS) {
		cli_errorf("--branch: at most %d", CLI_MAX_BRANCH_ARGS);
		return false;
	}
	v[(*n)++] = arg;
	return true;
}

const char *cli_human_bytes(char *buf, size_t n, double bytes)
{
	static const char *units[] = { "B", "KB", "MB", "GB", "TB" };
	size_t u = 0;

	while (bytes >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1000;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
	return buf;
}

enum term_text cli_names_out(void)
{
	return isatty(1) ? TERM_NAME : TERM_RAW;
}

void cli_print_text(const char *s, size_t len, enum term_text how)
{
	struct buf b;

	buf_init(&b, BUF_MAX_DEFAULT);
	if (term_put(&b, s, len, how) == 0 && b.len)
		fwrite(b.ptr, 1, b.len, stdout);
	buf_dispose(&b);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : EXIT_ERROR;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("trawl %s\n", TRAWL_VERSION);
		return 0;
	}
	/* Hidden: the pattern compiler's helper process (src/regex/hscompile.h). */
	if (strcmp(cmd, "__compile") == 0 && argc == 2)
		return hscompile_main();
	hscompile_serve_helpers();
	if (strcmp(cmd, "index") == 0)
		return cmd_index(argc - 1, argv + 1);
	if (strcmp(cmd, "search") == 0)
		return cmd_search(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "ls") == 0)
		return cmd_ls(argc - 1, argv + 1);
	if (strcmp(cmd, "repo") == 0)
		return cmd_repo(argc - 1, argv + 1);
	if (strcmp(cmd, "sync") == 0)
		return cmd_sync(argc - 1, argv + 1);
	cli_errorf("unknown command \"%s\" (try: trawl help)", cmd);
	return EXIT_ERROR;
}
