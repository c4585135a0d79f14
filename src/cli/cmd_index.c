/* trawl index: build shards from directories. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/build.h"
#include "cli/cli.h"
#include "util/error.h"

static const char index_usage[] =
	"usage: trawl index -o INDEXDIR [--name NAME] [--max-file-size SIZE] [-j N] [-q] PATH...\n";

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
	struct timespec ts;

	if (!pg->is_tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (t0 < 0)
		t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0;
	rate = secs > 0 ? (double)st->bytes_done / secs : 0;
	eta = rate > 0 ? ((double)st->bytes - (double)st->bytes_done) / rate : 0;
	fprintf(stderr, "\r[%.*s%.*s] %llu/%llu files  %s/%s  %s/s  ETA %.0fs \x1b[K", fill,
		"========================", width - fill, "                        ",
		(unsigned long long)st->files_done, (unsigned long long)st->files,
		cli_human_bytes(a, sizeof(a), (double)st->bytes_done),
		cli_human_bytes(b, sizeof(b), (double)st->bytes), cli_human_bytes(c, sizeof(c), rate),
		eta);
}

static void print_summary(const char *name, const struct build_stats *st)
{
	char a[32];

	printf("indexed %s: %llu files (%s) in %llu shard%s, %.1f s; skipped %llu binary, %llu too "
	       "large, %llu unreadable; %llu symlinks not followed\n",
	       name, (unsigned long long)st->indexed, cli_human_bytes(a, sizeof(a), (double)st->indexed_bytes),
	       (unsigned long long)st->shards, st->shards == 1 ? "" : "s", st->elapsed_ms / 1000,
	       (unsigned long long)st->skipped_binary, (unsigned long long)st->skipped_large,
	       (unsigned long long)st->skipped_unreadable, (unsigned long long)st->symlinks);
	if (st->walk_errors)
		printf("warning: %s: %llu directories could not be read\n", name,
		       (unsigned long long)st->walk_errors);
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

int cmd_index(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "max-file-size", required_argument, NULL, 'S' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_opts o = { BUILD_MAX_FILE_SIZE_DEFAULT, 0 };
	struct progress pg = { isatty(2) != 0, 0 };
	const char *out = NULL, *name = NULL;
	bool quiet = false;
	uint64_t v;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "o:n:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n': name = optarg; break;
		case 'q': quiet = true; break;
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
		case 'h': fputs(index_usage, stdout); return 0;
		default: fputs(index_usage, stderr); return EXIT_ERROR;
		}
	}
	if (!out || optind >= argc) {
		fputs(index_usage, stderr);
		return EXIT_ERROR;
	}
	if (name && argc - optind > 1) {
		cli_errorf("--name applies to a single PATH");
		return EXIT_ERROR;
	}
	if (quiet)
		pg.is_tty = false;
	for (int i = optind; i < argc; i++) {
		struct build_stats st;
		char *nm = name ? strdup(name) : default_name(argv[i]);
		int err;

		if (!nm) {
			cli_errorf("out of memory");
			return EXIT_ERROR;
		}
		err = build_dir(&st, out, nm, argv[i], &o, show_progress, &pg);
		if (pg.is_tty)
			fputs("\r\x1b[K", stderr);
		if (err < 0) {
			cli_report(err);
			ret = EXIT_ERROR;
		} else if (!quiet) {
			print_summary(nm, &st);
		}
		free(nm);
	}
	return ret;
}
