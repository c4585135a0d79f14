/* trawl verify and trawl ls: inspecting an index. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "index/shard.h"
#include "util/buf.h"
#include "util/error.h"

/*
 * Sections a later trawl added, marked optional: searches skip them, so say that they are
 * there and that their checksums (checked by shard_verify) hold.
 */
static void print_unknown_sections(const struct shard *sh)
{
	for (size_t i = 0; i < shard_n_unknown_sections(sh); i++) {
		uint32_t id;
		uint64_t len;

		shard_unknown_section(&id, &len, sh, i);
		printf("  unknown optional section id %u (%llu bytes): checksum ok, skipped\n", id,
		       (unsigned long long)len);
	}
}

const struct cli_help cli_help_verify = {
	.synopsis = "trawl verify INDEXDIR\n",
	.summary = "check every shard of an index: its structure, posting lists and checksums",
	.options = "Prints \"ok SHARD (REPO, N documents)\" per good shard and the error of each bad\n"
		   "one, and under a good shard each section a later trawl added and marked\n"
		   "optional (its checksum checked, its content skipped); exit status 2 when any\n"
		   "shard is bad (docs/index-format.md).\n",
};

const struct cli_help cli_help_ls = {
	.synopsis = "trawl ls -d INDEXDIR [--skipped]\n",
	.summary = "list the files of an index, with their sizes and whether they were indexed",
	.options = "Prints REPO/PATH, size and status (indexed, or why not: binary, too large,\n"
		   "unreadable, symlink, submodule), tab-separated.\n"
		   "\n"
		   "  -d, --dir INDEXDIR  the index\n"
		   "  -s, --skipped       only the files that were not indexed\n"
		   "  -h, --help          this usage\n",
};

int cmd_verify(int argc, char **argv)
{
	struct index *ix = NULL;
	int err, bad = 0;
	size_t n_shards;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("verify", true);
	if ((err = index_open(&ix, argv[1])) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		struct shard *sh = index_shard(ix, i);

		if ((err = shard_verify(sh)) < 0) {
			cli_report(err);
			bad++;
		} else {
			printf("ok %s (%s, %u documents)\n", shard_file(sh), shard_repo(sh),
			       shard_n_docs(sh));
			print_unknown_sections(sh);
		}
	}
	n_shards = index_n_shards(ix);
	index_close(ix);
	if (bad) {
		cli_errorf("%d of %zu shards failed verification", bad, n_shards);
		return EXIT_ERROR;
	}
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "skipped", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct index *ix = NULL;
	const char *dir = NULL;
	bool only_skipped = false;
	/* SECURITY: names are data; on a terminal their control characters are shown. */
	enum term_text how = cli_names_out();
	struct buf line;
	int c, err, ret = 0;

	while ((c = getopt_long(argc, argv, "d:sh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': only_skipped = true; break;
		case 'h': return cli_usage("ls", false);
		default: return cli_usage("ls", true);
		}
	}
	if (!dir || optind != argc)
		return cli_usage("ls", true);
	if ((err = index_open(&ix, dir)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	buf_init(&line, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < index_n_shards(ix) && ret == 0; i++) {
		struct shard *sh = index_shard(ix, i);

		for (uint32_t d = 0; d < shard_n_docs(sh); d++) {
			struct shard_doc doc;

			buf_reset(&line);
			if ((err = shard_doc(&doc, sh, d)) == 0 && only_skipped &&
			    doc.skip == DOC_INDEXED)
				continue;
			if (err < 0 ||
			    (err = term_put(&line, shard_repo(sh), strlen(shard_repo(sh)), how)) < 0 ||
			    (err = buf_putc(&line, '/')) < 0 ||
			    (err = term_put(&line, doc.path, doc.path_len, how)) < 0 ||
			    (err = buf_printf(&line, "\t%llu\t%s\n", (unsigned long long)doc.size,
					      doc_skip_name(doc.skip))) < 0) {
				cli_report(err);
				ret = EXIT_ERROR;
				break;
			}
			fwrite(line.ptr, 1, line.len, stdout);
		}
	}
	buf_dispose(&line);
	index_close(ix);
	return ret;
}
