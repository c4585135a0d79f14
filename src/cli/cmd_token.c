/*
 * trawl token create|list|revoke: API tokens, which scripts send as `Authorization: Bearer`
 * (docs/operations.md, "API tokens"). The secret exists only in create's output: the store
 * keeps its keyed hash, so list shows a prefix to recognise it by and nothing else.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/accounts.h"
#include "cli/cli.h"
#include "util/error.h"

const struct cli_help cli_help_token = {
	.synopsis =
		"trawl token create USER [--scope search|admin] [--expires DURATION] [--name LABEL]\n"
		"                  [--data DIR]\n"
		"trawl token list [USER] [--json] [--data DIR]\n"
		"trawl token revoke ID [--data DIR]\n",
	.summary = "API tokens for scripts (Authorization: Bearer), shown once when created",
	.options =
		"  create  make a token for USER and print it, alone on standard output; it is never\n"
		"          shown again\n"
		"  list    USER's tokens (everyone's without USER), newest first: id, prefix, label,\n"
		"          scope, created, expires, last used, state; never the secret\n"
		"  revoke  end token ID; the next request that sends it is refused\n"
		"\n"
		"  --scope search|admin  search: read what USER may read (default); admin: also manage\n"
		"                        users, groups, grants and tokens (USER must be an administrator)\n"
		"  --expires DURATION    lifetime, such as 90d, 12h, 2w (default 90d)\n"
		"  --name LABEL          a label to recognise the token by (\"ci\", \"laptop\")\n"
		"  --json                list: one JSON object per token (docs/cli-json.md)\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n",
};

struct token_args {
	struct accounts_opts o;
	const char *label, *scope, *expires;
};

static const char *scope_name(unsigned scope)
{
	return scope & AUTH_SCOPE_ADMIN ? "admin" : "search";
}

static int token_create(struct auth *a, const struct token_args *o, const char *user)
{
	char secret[AUTH_TOKEN_LEN + 1] = "", t[32];
	struct auth_token tok = { 0 };
	unsigned scope = AUTH_SCOPE_SEARCH;
	int64_t expires_s = AUTH_TOKEN_EXPIRY_S;
	int err;

	if (o->scope && strcmp(o->scope, "admin") == 0)
		scope = AUTH_SCOPE_ADMIN;
	else if (o->scope && strcmp(o->scope, "search") != 0) {
		cli_errorf("--scope: \"%s\" is not a scope (search or admin)", o->scope);
		return EXIT_ERROR;
	}
	if (o->expires && !accounts_parse_duration(&expires_s, o->expires)) {
		cli_errorf("--expires: \"%s\" is not a duration (a number and s, m, h, d or w, such "
			   "as 90d; at most ten years)", o->expires);
		return EXIT_ERROR;
	}
	if ((err = auth_token_create(&tok, secret, a, NULL, user, o->label ? o->label : "", scope,
				     expires_s)) < 0)
		return accounts_fail(err);
	/* The secret alone on stdout, so `TOKEN=$(trawl token create ...)` holds just it. */
	printf("%s\n", secret);
	fflush(stdout);
	sodium_memzero(secret, sizeof(secret));
	fprintf(stderr, "created token %lld for %s (%s scope, expires %s); it will not be shown "
		"again: store it now\n", (long long)tok.id, user, scope_name(tok.scope),
		accounts_time(t, tok.expires_ms));
	return 0;
}

static const char *token_state(const struct auth_token *t, int64_t now_ms)
{
	if (t->is_revoked)
		return "revoked";
	return t->expires_ms <= now_ms ? "expired" : "active";
}

static int token_json(struct buf *b, const struct auth_token *t)
{
	int err;

	if ((err = buf_printf(b, "{\"id\":%lld", (long long)t->id)) < 0 ||
	    (err = accounts_json_str(b, "user", t->user, false)) < 0 ||
	    (err = accounts_json_str(b, "name", t->name, false)) < 0 ||
	    (err = accounts_json_str(b, "prefix", t->prefix, false)) < 0 ||
	    (err = accounts_json_str(b, "scope", scope_name(t->scope), false)) < 0 ||
	    (err = accounts_json_time(b, "created", t->created_ms, false)) < 0 ||
	    (err = accounts_json_time(b, "expires", t->expires_ms, false)) < 0 ||
	    (err = accounts_json_time(b, "last_used", t->last_used_ms, false)) < 0)
		return err;
	return buf_printf(b, ",\"revoked\":%s}", t->is_revoked ? "true" : "false");
}

static void token_print(const struct auth_token *t, int64_t now_ms)
{
	char c[32], e[32], u[32];

	printf("%lld\t%s\t%s...\t", (long long)t->id, t->user, t->prefix);
	accounts_print(t->name[0] ? t->name : "-");
	printf("\t%s\tcreated %s\texpires %s\tlast used %s\t%s\n", scope_name(t->scope),
	       accounts_time(c, t->created_ms), accounts_time(e, t->expires_ms),
	       accounts_time(u, t->last_used_ms), token_state(t, now_ms));
}

static int token_list(struct auth *a, const struct token_args *o, const char *user)
{
	struct auth_token *v = NULL;
	struct auth_user u = { 0 };
	struct buf b;
	size_t n = 0;
	int64_t now = accounts_now_ms();
	int err = 0;

	buf_init(&b, BUF_MAX_DEFAULT);
	/* An unknown user is an error, not an empty list. */
	if ((user && (err = auth_user_get(&u, a, user)) < 0) ||
	    (err = auth_token_list(&v, &n, a, user)) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (!o->o.is_json)
			token_print(&v[i], now);
		else if ((err = token_json(&b, &v[i])) == 0)
			accounts_json_line(&b);
	}
out:
	buf_dispose(&b);
	auth_user_dispose(&u);
	free(v);
	return accounts_fail(err);
}

static int token_revoke(struct auth *a, const char *arg)
{
	uint64_t id;
	int err;

	if (!cli_parse_u64(&id, arg) || id == 0 || id > INT64_MAX) {
		cli_errorf("\"%s\" is not a token id (trawl token list shows them)", arg);
		return EXIT_ERROR;
	}
	if ((err = auth_token_revoke(a, NULL, (int64_t)id, NULL)) < 0)
		return accounts_fail(err);
	printf("revoked token %llu\n", (unsigned long long)id);
	return 0;
}

static int token_parse(struct token_args *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "scope", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = accounts_getopt(&o->o, argc, argv, longopts)) != -1) {
		switch (c) {
		case 's': o->scope = optarg; break;
		case 'e': o->expires = optarg; break;
		case 'n': o->label = optarg; break;
		default: return cli_usage("token", true);
		}
	}
	return 0;
}

/* Which flags each subcommand takes, and how many operands. */
static bool token_args_fit(const char *sub, const struct token_args *o, int n_operands)
{
	bool has_create_flags = o->scope || o->expires || o->label;

	if (strcmp(sub, "create") == 0)
		return n_operands == 1 && !o->o.is_json;
	if (strcmp(sub, "list") == 0)
		return n_operands <= 1 && !has_create_flags;
	return n_operands == 1 && !o->o.is_json && !has_create_flags;
}

int cmd_token(int argc, char **argv)
{
	struct token_args o = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	const char *sub = argc > 1 ? argv[1] : "", *operand;
	int ret;

	if (strcmp(sub, "help") == 0)
		return cli_usage("token", false);
	if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0) {
		if (argc < 2)
			return cli_usage("token", true);
		cli_errorf("unknown token command \"%s\" (create, list, revoke)", sub);
		return EXIT_ERROR;
	}
	if ((ret = token_parse(&o, argc - 1, argv + 1)) != 0 || o.o.is_help)
		return o.o.is_help ? cli_usage("token", false) : ret;
	if (!token_args_fit(sub, &o, argc - 1 - optind))
		return cli_usage("token", true);
	operand = optind < argc - 1 ? argv[1 + optind] : NULL;
	if ((ret = accounts_open(&a, &d, o.o.data, false)) != 0)
		return ret;
	if (strcmp(sub, "create") == 0)
		ret = token_create(a, &o, operand);
	else if (strcmp(sub, "list") == 0)
		ret = token_list(a, &o, operand);
	else
		ret = token_revoke(a, operand);
	accounts_close(a, &d);
	return ret;
}
