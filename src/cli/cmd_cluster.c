/* trawl cluster assign: which searcher owns each repository (docs/operations.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "util/error.h"

const struct cli_help cli_help_cluster = {
	.synopsis = "trawl cluster assign (--searchers NAME=HOST:PORT,... |\n"
		    "            --searcher-count N --searcher-pattern P |\n"
		    "            --searchers-dns HOST:PORT) REPO...\n",
	.summary = "print the searcher that rendezvous hashing assigns each repository to",
	.options = "  --searchers LIST      the searcher set, as trawl serve --role=frontend takes it\n"
		   "  --searcher-count N, --searcher-pattern P\n"
		   "                        or N searchers at P (%d their number), named by their\n"
		   "                        host's first label\n"
		   "  --searchers-dns HOST:PORT  or the searchers a headless Service's DNS gives now\n"
		   "                        (as trawl serve --searchers-dns resolves them)\n"
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
	{ "searchers-dns", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The set --searchers-dns gives now, as a frontend resolves it. */
static int set_of_dns(struct cluster_set *out, const char *spec)
{
	struct cluster_dns d;
	bool is_changed;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = cluster_dns_init(&d, spec, NULL)) < 0 ||
	    (err = cluster_dns_refresh(&d, 0, &is_changed)) < 0 ||
	    (err = cluster_set_copy(out, &d.set)) < 0) {
		cluster_dns_dispose(&d);
		return err;
	}
	cluster_dns_dispose(&d);
	return 0;
}

int cmd_cluster(int argc, char **argv)
{
	const char *list = NULL, *pattern = NULL, *dns = NULL;
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
		case 'd': dns = optarg; break;
		case 'h': return cli_usage("cluster", false);
		default: return cli_usage("cluster", true);
		}
	}
	if (optind == argc || (!!list + !!(count || pattern) + !!dns) != 1)
		return cli_usage("cluster", true);
	if (dns)
		err = set_of_dns(&set, dns);
	else
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
