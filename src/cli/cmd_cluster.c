/* trawl cluster assign: which searcher owns each repository (docs/operations.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "util/error.h"

const struct cli_help cli_help_cluster = {
	.synopsis = "trawl cluster assign (--searchers NAME=HOST:PORT,... |\n"
		    "            --searcher-count N --searcher-pattern P) REPO...\n",
	.summary = "print the searcher that rendezvous hashing assigns each repository to",
	.options = "  --searchers LIST      the searcher set, as trawl serve --role=frontend takes it\n"
		   "  --searcher-count N, --searcher-pattern P\n"
		   "                        or N searchers at P (%d their number), named by their\n"
		   "                        host's first label\n"
		   "  -h, --help            this usage\n"
		   "\n"
		   "Prints one line per repository: its name, a tab and its searcher's name. An\n"
		   "operator indexes each searcher's repositories with `trawl index` into its data\n"
		   "directory (docs/operations.md, \"Running a cluster\").\n",
};

static const struct option longopts[] = {
	{ "searchers", required_argument, NULL, 's' },
	{ "searcher-count", required_argument, NULL, 'n' },
	{ "searcher-pattern", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_cluster(int argc, char **argv)
{
	const char *list = NULL, *pattern = NULL;
	uint64_t count = 0;
	struct cluster_set set;
	int c, err;

	if (argc < 2 || strcmp(argv[1], "assign") != 0)
		return cli_usage("cluster", argc < 2 || strcmp(argv[1], "-h") != 0);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': list = optarg; break;
		case 'n':
			if (!cli_parse_u64(&count, optarg) || count == 0 || count > CLUSTER_NODES_MAX) {
				cli_errorf("--searcher-count: expected 1 to %d, got \"%s\"",
					   CLUSTER_NODES_MAX, optarg);
				return EXIT_ERROR;
			}
			break;
		case 'p': pattern = optarg; break;
		case 'h': return cli_usage("cluster", false);
		default: return cli_usage("cluster", true);
		}
	}
	if (optind == argc || !list == !(count || pattern))
		return cli_usage("cluster", true);
	err = list ? cluster_set_parse(&set, list)
		   : cluster_set_pattern(&set, (unsigned)count, pattern ? pattern : "");
	if (err < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++)
		printf("%s\t%s\n", argv[i], set.v[cluster_owner(&set, argv[i])].name);
	cluster_set_dispose(&set);
	return 0;
}
