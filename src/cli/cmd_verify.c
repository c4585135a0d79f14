/* trawl verify and trawl ls: inspecting an index. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "index/shard.h"
#include "symbols/symbols.h"
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

/* A shard's symbols (checked by shard_verify): how many, and the files ctags failed on. */
static void print_symbols(const struct shard *sh)
{
	uint64_t by[SYMSEC_STATUS_MAX + 1] = { 0 };
	struct symsec s;
	bool has;

	if (symbols_open(&s, &has, sh) < 0 || !has)
		return;
	for (uint32_t d = 0; d < s.n_docs; d++) {
		uint32_t first, n;
		enum symsec_status st;

		if (symsec_doc(&first, &n, &st, &s, d) == 0)
			by[st]++;
	}
	printf("  symbols: %u in %llu files; failed: %llu timed out, %llu crashed, %llu too many, "
	       "%llu ctags unavailable\n", s.n_symbols, (unsigned long long)by[SYMSEC_OK],
	       (unsigned long long)by[SYMSEC_TIMEOUT], (unsigned long long)by[SYMSEC_CRASHED],
	       (unsigned long long)by[SYMSEC_TOO_MUCH], (unsigned long long)by[SYMSEC_UNAVAILABLE]);
}

const struct cli_help cli_help_verify = {
	.synopsis = "trawl verify INDEXDIR\n",
	.summary = "check every shard of an index: its structure, posting lists and checksums",
	.options = "Prints \"ok SHARD (REPO, N documents)\" per good shard and the error of each bad\n"
		   "one, and under a good shard each section a later trawl added and marked\n"
		   "optional (its checksum checked, its content skipped), and for a shard with\n"
		   "symbols how many and the files ctags failed on; exit status 2 when any shard is\n"
		   "bad (docs/index-format.md).\n",
};

const struct cli_help cli_help_ls = {
	.synopsis = "trawl ls -d INDEXDIR [--skipped]\n"
		    "trawl ls -d INDEXDIR --symbols [NAME [--prefix] [--ignore-case]]\n",
	.summary = "list the files of an index, with their sizes and whether they were indexed",
	.options = "Prints REPO/PATH, size and status (indexed, or why not: binary, too large,\n"
		   "unreadable, symlink, submodule), tab-separated. A file indexed with --symbols\n"
		   "whose symbols ctags did not give says why: \"indexed, no symbols: ctags timed\n"
		   "out\" (crashed, too many symbols, ctags unavailable); --skipped lists it too.\n"
		   "\n"
		   "With --symbols: the symbols of the index (those named NAME, or starting with it\n"
		   "with --prefix), one a line: REPO/PATH:LINE, kind, name, scope, language,\n"
		   "signature, tab-separated; files deleted since they were indexed are left out.\n"
		   "\n"
		   "  -d, --dir INDEXDIR   the index\n"
		   "  -s, --skipped        only the files that were not indexed (or lack symbols)\n"
		   "  -y, --symbols        list symbols instead of files\n"
		   "  --prefix             NAME is a prefix\n"
		   "  -i, --ignore-case    NAME matches without regard to ASCII case\n"
		   "  -h, --help           this usage\n",
};

int cmd_verify(int argc, char **argv)
{
	struct index *ix = NULL;
	int err, bad = 0;
	size_t n_shards;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return cli_usage("verify", false);
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("verify", true);
	if ((err = index_open(&ix, argv[1])) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	/* Each file once, however many repositories a compound one holds. */
	for (size_t i = 0; i < index_n_files(ix); i++) {
		struct shard *sh = index_file(ix, i);

		if ((err = shard_verify(sh)) < 0) {
			cli_report(err);
			bad++;
		} else {
			if (shard_n_repos(sh))
				printf("ok %s (compound: %u repositories, %u documents)\n",
				       shard_file(sh), shard_n_repos(sh), shard_n_docs(sh));
			else
				printf("ok %s (%s, %u documents)\n", shard_file(sh), shard_repo(sh),
				       shard_n_docs(sh));
			print_unknown_sections(sh);
			print_symbols(sh);
		}
	}
	n_shards = index_n_files(ix);
	index_close(ix);
	if (bad) {
		cli_errorf("%d of %zu shards failed verification", bad, n_shards);
		return EXIT_ERROR;
	}
	return 0;
}

struct sym_print {
	const struct index *ix;
	size_t shard;
	struct buf *line;
	enum term_text how;
};

/* Appends a string field (escaped like names) and a tab. */
static int put_field(struct buf *b, const char *s, size_t len, enum term_text how)
{
	int err = s ? term_put(b, s, len, how) : 0;

	return err < 0 ? err : buf_putc(b, '\t');
}

static int print_symbol(void *arg, const struct symsec_sym *y)
{
	struct sym_print *p = arg;
	const struct shard *sh = index_shard(p->ix, p->shard);
	const char *repo = index_shard_repo(p->ix, p->shard);
	struct shard_doc doc;
	struct buf *b = p->line;
	uint32_t lo, hi;
	int err;

	index_shard_docs(p->ix, p->shard, &lo, &hi);
	if (y->doc < lo || y->doc >= hi)
		return 0; /* another repository's, in a compound file */
	if ((err = shard_doc(&doc, sh, y->doc)) < 0)
		return err;
	if (!index_doc_is_live(p->ix, p->shard, y->doc, &doc))
		return 0; /* deleted or moved by a later incremental run */
	buf_reset(b);
	if ((err = term_put(b, repo, strlen(repo), p->how)) < 0 ||
	    (err = buf_putc(b, '/')) < 0 || (err = term_put(b, doc.path, doc.path_len, p->how)) < 0 ||
	    (err = buf_printf(b, ":%u\t", y->line)) < 0 ||
	    (err = put_field(b, y->kind, y->kind_len, p->how)) < 0 ||
	    (err = put_field(b, y->name, y->name_len, p->how)) < 0 ||
	    (err = put_field(b, y->scope, y->scope_len, p->how)) < 0 ||
	    (err = put_field(b, y->lang, y->lang_len, p->how)) < 0 ||
	    (err = put_field(b, y->signature, y->signature_len, p->how)) < 0)
		return err;
	b->ptr[b->len - 1] = '\n';
	fwrite(b->ptr, 1, b->len, stdout);
	return 0;
}

/* trawl ls --symbols [NAME]: every shard's symbols, or those a lookup finds. */
static int list_symbols(const struct index *ix, const char *name, enum symsec_mode mode,
			enum term_text how)
{
	struct buf line;
	int err = 0;

	buf_init(&line, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < index_n_shards(ix) && err == 0; i++) {
		struct sym_print p = { .ix = ix, .shard = i, .line = &line, .how = how };
		struct symsec s;
		bool has;

		if ((err = symbols_open(&s, &has, index_shard(ix, i))) < 0 || !has)
			continue;
		if (name) {
			err = symbols_lookup(index_shard(ix, i), name, strlen(name), mode, NULL, NULL,
					     print_symbol, &p);
			continue;
		}
		for (uint32_t k = 0; k < s.n_symbols && err == 0; k++) {
			struct symsec_sym y;

			if ((err = symsec_symbol(&y, &s, k)) == 0)
				err = print_symbol(&p, &y);
		}
	}
	buf_dispose(&line);
	return err;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "skipped", no_argument, NULL, 's' },
		{ "symbols", no_argument, NULL, 'y' },
		{ "prefix", no_argument, NULL, 'P' },
		{ "ignore-case", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool is_symbols = false, is_prefix = false, is_icase = false;
	struct index *ix = NULL;
	const char *dir = NULL;
	bool only_skipped = false;
	/* SECURITY: names are data; on a terminal their control characters are shown. */
	enum term_text how = cli_names_out();
	struct buf line;
	int c, err, ret = 0;

	while ((c = getopt_long(argc, argv, "d:syih", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': only_skipped = true; break;
		case 'y': is_symbols = true; break;
		case 'P': is_prefix = true; break;
		case 'i': is_icase = true; break;
		case 'h': return cli_usage("ls", false);
		default: return cli_usage("ls", true);
		}
	}
	if (!dir || optind + (is_symbols && optind < argc) != argc ||
	    (!is_symbols && (is_prefix || is_icase)) || (is_symbols && only_skipped))
		return cli_usage("ls", true);
	if ((err = index_open(&ix, dir)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	if (is_symbols) {
		enum symsec_mode mode = is_prefix ? (is_icase ? SYMSEC_PREFIX_ICASE : SYMSEC_PREFIX)
						  : (is_icase ? SYMSEC_EXACT_ICASE : SYMSEC_EXACT);

		if ((err = list_symbols(ix, optind < argc ? argv[optind] : NULL, mode, how)) < 0) {
			cli_report(err);
			ret = EXIT_ERROR;
		}
		index_close(ix);
		return ret;
	}
	buf_init(&line, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < index_n_shards(ix) && ret == 0; i++) {
		struct shard *sh = index_shard(ix, i);
		const char *repo = index_shard_repo(ix, i);
		struct symsec s;
		bool has = false;
		uint32_t lo, hi;

		if ((err = symbols_open(&s, &has, sh)) < 0) {
			cli_report(err);
			ret = EXIT_ERROR;
			break;
		}
		index_shard_docs(ix, i, &lo, &hi);
		for (uint32_t d = lo; d < hi; d++) {
			const char *no_symbols = symsec_doc_failure(has ? &s : NULL, d);
			struct shard_doc doc;

			buf_reset(&line);
			if ((err = shard_doc(&doc, sh, d)) == 0 && only_skipped &&
			    doc.skip == DOC_INDEXED && !no_symbols)
				continue;
			if (err < 0 ||
			    (err = term_put(&line, repo, strlen(repo), how)) < 0 ||
			    (err = buf_putc(&line, '/')) < 0 ||
			    (err = term_put(&line, doc.path, doc.path_len, how)) < 0 ||
			    (err = buf_printf(&line, "\t%llu\t%s%s%s\n", (unsigned long long)doc.size,
					      doc_skip_name(doc.skip), no_symbols ? ", no symbols: " : "",
					      no_symbols ? no_symbols : "")) < 0) {
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
