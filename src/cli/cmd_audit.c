/*
 * trawl audit: the audit trail (docs/operations.md, "Audit log"): sign-ins, tokens, account,
 * group and grant changes, repositories added and removed, and every search, oldest first.
 * Every text field may come from a caller (a query, a user agent, a name tried at sign-in), so
 * each is printed with its control characters and hidden characters (bidi controls, U+2028:
 * utf8_is_hidden) escaped, and JSON is re-encoded, never copied.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/accounts.h"
#include "cli/cli.h"
#include "util/error.h"
#include "util/json.h"

const struct cli_help cli_help_audit = {
	.synopsis = "trawl audit [--user USER] [--event EVENT] [--since TIME] [--limit N] [--json]\n"
		    "            [--data DIR]\n"
		    "trawl audit prune --before TIME [--data DIR]\n",
	.summary = "read the audit trail: sign-ins, tokens, account and grant changes, searches",
	.options =
		"  --user USER           events whose actor is USER (\"cli\": this command line)\n"
		"  --event EVENT         events of one kind: sign_in, sign_in_failed, search, grant,\n"
		"                        ... (docs/security.md lists them)\n"
		"  --since TIME          events at or after TIME: RFC 3339 (2026-12-01T09:00:00Z) or a\n"
		"                        duration before now (24h, 7d)\n"
		"  --limit N             at most N events (default 1000)\n"
		"  --json                one JSON object per event (docs/cli-json.md)\n"
		"  --before TIME         prune: delete the table's events before TIME (RFC 3339, or a\n"
		"                        duration before now: 90d); audited as audit_pruned\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n"
		"\n"
		"Times are UTC. The same events are appended to DATA/audit/audit.log, one JSON line each\n"
		"(prune leaves that file and its rotated copies as they are).\n",
};

/*
 * The event's detail as compact JSON, every non-ASCII character escaped; a detail that is
 * not a JSON object (a damaged row) is shown as {"unparsed": TEXT}.
 */
static int detail_put(struct buf *b, const char *detail)
{
	json_t *j = json_loads(detail ? detail : "{}", JSON_REJECT_DUPLICATES, NULL);
	char *s = j && json_is_object(j) ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	int err;

	json_decref(j);
	if (s) {
		err = buf_puts(b, s);
		free(s);
		return err;
	}
	if ((err = buf_puts(b, "{\"unparsed\":")) < 0 ||
	    (err = json_put_string(b, detail, strlen(detail), NULL)) < 0)
		return err;
	return buf_puts(b, "}");
}

static int event_json(struct buf *b, const struct auth_event *e)
{
	int err;

	if ((err = buf_printf(b, "{\"id\":%lld", (long long)e->id)) < 0 ||
	    (err = accounts_json_time(b, "time", e->ts_ms, false)) < 0 ||
	    (err = accounts_json_str(b, "event", e->event, false)) < 0 ||
	    (err = accounts_json_str(b, "actor", e->actor, false)) < 0 ||
	    (err = accounts_json_str(b, "target", e->target, false)) < 0 ||
	    (err = accounts_json_str(b, "address", e->address, false)) < 0 ||
	    (err = buf_puts(b, ",\"detail\":")) < 0 || (err = detail_put(b, e->detail)) < 0)
		return err;
	return buf_puts(b, "}");
}

/* s with control characters escaped, and hidden ones as "\u202e" ("\U000e0001" above U+FFFF). */
static void field_print(const char *s)
{
	size_t len = strlen(s), i = 0, run = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(&cp, (const uint8_t *)s + i, len - i);

		if (n > 1 && utf8_is_hidden(cp)) {
			cli_print_text(s + run, i - run, TERM_NAME);
			printf(cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
			run = i + n;
		}
		i += n ? n : 1;
	}
	cli_print_text(s + run, len - run, TERM_NAME);
}

/* TIME EVENT ACTOR TARGET ADDRESS DETAIL, tab-separated; "-" for an empty field. */
static int event_print(struct buf *b, const struct auth_event *e)
{
	const char *fields[] = { e->event, e->actor, e->target, e->address };
	char t[32];
	int err;

	fputs(accounts_time(t, e->ts_ms), stdout);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		putchar('\t');
		field_print(fields[i][0] ? fields[i] : "-");
	}
	putchar('\t');
	buf_reset(b);
	if ((err = detail_put(b, e->detail)) < 0)
		return err;
	accounts_print(b->ptr);
	putchar('\n');
	buf_reset(b);
	return 0;
}

static int audit_run(struct auth *a, const struct auth_audit_filter *f, bool is_json)
{
	struct auth_event *v = NULL;
	struct buf b;
	size_t n = 0;
	int err;

	buf_init(&b, BUF_MAX_DEFAULT);
	if ((err = auth_audit_list(&v, &n, a, f)) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (!is_json)
			err = event_print(&b, &v[i]);
		else if ((err = event_json(&b, &v[i])) == 0)
			accounts_json_line(&b);
	}
out:
	buf_dispose(&b);
	auth_events_free(v, n);
	return accounts_fail(err);
}

/* trawl audit prune --before TIME: the retention trawl serve applies, by hand. */
static int audit_prune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "before", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct accounts_opts o = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	int64_t before = 0, n = 0;
	char t[32];
	int c, ret;

	optind = 1;
	while ((c = accounts_getopt(&o, argc, argv, longopts)) != -1) {
		if (c != 'b')
			return cli_usage("audit", true);
		if (!accounts_parse_since(&before, optarg, accounts_now_ms())) {
			cli_errorf("--before: \"%s\" is neither an RFC 3339 time "
				   "(2026-12-01T09:00:00Z) nor a duration (90d)", optarg);
			return EXIT_ERROR;
		}
	}
	if (o.is_help || optind != argc || (!before && !o.is_help))
		return cli_usage("audit", !o.is_help);
	if ((ret = accounts_open(&a, &d, o.data, false)) != 0)
		return ret;
	ret = accounts_fail(auth_audit_prune(a, NULL, before, &n));
	if (ret == 0)
		fprintf(stderr, "trawl: pruned %lld audit event%s before %s\n", (long long)n,
			n == 1 ? "" : "s", accounts_time(t, before));
	accounts_close(a, &d);
	return ret;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "user", required_argument, NULL, 'u' },
		{ "event", required_argument, NULL, 'e' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct auth_audit_filter f = { 0 };
	struct accounts_opts o = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	uint64_t limit;
	int c, ret;

	if (argc > 1 && strcmp(argv[1], "prune") == 0)
		return audit_prune(argc - 1, argv + 1);
	optind = 1;
	while ((c = accounts_getopt(&o, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'u': f.user = optarg; break;
		case 'e': f.event = optarg; break;
		case 's':
			if (!accounts_parse_since(&f.since_ms, optarg, accounts_now_ms())) {
				cli_errorf("--since: \"%s\" is neither an RFC 3339 time "
					   "(2026-12-01T09:00:00Z) nor a duration (24h, 7d)", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'l':
			if (!cli_parse_u64(&limit, optarg) || limit == 0 || limit > 1000000) {
				cli_errorf("--limit: \"%s\" is not a number from 1 to 1000000",
					   optarg);
				return EXIT_ERROR;
			}
			f.limit = (size_t)limit;
			break;
		default: return cli_usage("audit", true);
		}
	}
	if (o.is_help || optind != argc)
		return cli_usage("audit", !o.is_help);
	if ((ret = accounts_open(&a, &d, o.data, false)) != 0)
		return ret;
	ret = audit_run(a, &f, o.is_json);
	accounts_close(a, &d);
	return ret;
}
