/*
 * trawl user add|list|disable|enable|passwd|admin|link: the accounts of a data directory
 * (docs/operations.md, "Accounts"). There is no default account: `user add` is the only way
 * in, and the first account turns the server into team mode. A password is either generated
 * (auth_password_generate) and printed once, or read from a pipe with --password-stdin and
 * checked against the policy; it never goes to a message, a log or the audit trail.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/accounts.h"
#include "cli/cli.h"
#include "util/error.h"

const struct cli_help cli_help_user = {
	.synopsis =
		"trawl user add NAME [--admin] [--display-name TEXT] [--password-stdin] [--data DIR]\n"
		"trawl user list [--json] [--data DIR]\n"
		"trawl user disable NAME [--data DIR]\n"
		"trawl user enable NAME [--data DIR]\n"
		"trawl user passwd NAME [--password-stdin] [--data DIR]\n"
		"trawl user admin NAME --on|--off [--data DIR]\n"
		"trawl user link NAME --oidc ISSUER SUBJECT | --proxy | --local [--data DIR]\n",
	.summary = "the accounts that may sign in to trawl serve (the first one starts team mode)",
	.options =
		"  add      create an account; without --password-stdin a random password is printed\n"
		"           once. The first account makes the server require sign-in on every request\n"
		"  list     every account: administrator, disabled, created, last seen, groups\n"
		"  disable  refuse the account's sign-in and end its sessions and tokens at once\n"
		"  enable   allow it again (its old sessions and tokens stay ended)\n"
		"  passwd   set a new password (generated, or --password-stdin); ends the account's\n"
		"           sessions and tokens\n"
		"  admin    make the account an administrator (--on) or not (--off); the last enabled\n"
		"           administrator stays one\n"
		"  link     let an identity provider sign in as an existing account: --oidc with the\n"
		"           ID token's issuer and subject, or --proxy (the authentication proxy's\n"
		"           user of that name); --local undoes it. Removes the password and ends the\n"
		"           account's sessions and tokens. Single sign-on never takes an account over\n"
		"           by its name alone (docs/security.md, \"External identities\")\n"
		"\n"
		"  --admin               the new account is an administrator\n"
		"  --display-name TEXT   the name the web UI shows beside NAME (default: none)\n"
		"  --password-stdin      read the password from standard input (one line), checked\n"
		"                        against the policy: 12 to 1024 bytes, not a common password,\n"
		"                        not the user's name\n"
		"  --on, --off           admin: grant or take the administrator role\n"
		"  --oidc ISSUER         link: the provider's issuer URL (SUBJECT follows NAME)\n"
		"  --proxy, --local      link: to the authentication proxy, or back to a local account\n"
		"  --json                list: one JSON object per account (docs/cli-json.md)\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n"
		"\n"
		"NAME: 1-64 characters of A-Z a-z 0-9 . _ @ + -, not starting with - or .\n",
};

struct user_args {
	struct accounts_opts o;
	const char *display_name;
	const char *issuer; /* link --oidc */
	bool is_admin, use_stdin, on, off, is_proxy, is_local;
};

/*
 * Parses argv (argv[0] is the subcommand) into *u, leaving the operands at argv[optind..]:
 * 0, or EXIT_ERROR after printing the usage.
 */
static int user_parse(struct user_args *u, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "admin", no_argument, NULL, 'A' },
		{ "display-name", required_argument, NULL, 'N' },
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "on", no_argument, NULL, '1' },
		{ "off", no_argument, NULL, '0' },
		{ "oidc", required_argument, NULL, 'O' },
		{ "proxy", no_argument, NULL, 'X' },
		{ "local", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = accounts_getopt(&u->o, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'A': u->is_admin = true; break;
		case 'N': u->display_name = optarg; break;
		case 'P': u->use_stdin = true; break;
		case '1': u->on = true; break;
		case '0': u->off = true; break;
		case 'O':
			u->issuer = optarg;
			break;
		case 'X':
			u->is_proxy = true;
			break;
		case 'L':
			u->is_local = true;
			break;
		default: return cli_usage("user", true);
		}
	}
	return 0;
}

/*
 * The password for add or passwd: one line of standard input (policy-checked here, so the
 * refusal comes before the slow hashing), or a generated one (*is_generated).
 */
static int password_get(char *pw, size_t *len, bool *is_generated, const char *user,
			bool use_stdin)
{
	int err;

	*is_generated = !use_stdin;
	if (!use_stdin) {
		auth_password_generate(pw);
		*len = strlen(pw);
		return 0;
	}
	if ((err = accounts_read_password(pw, len)) < 0)
		return err;
	return auth_password_check(user, pw, *len);
}

static void password_show(const char *user, const char *pw)
{
	printf("password: %s\n", pw);
	printf("this password will not be shown again: give it to %s, who can change it in the "
	       "web UI (or: trawl user passwd %s)\n", user, user);
}

/* What the new account changes about the server, said once. */
static void mode_say(bool had_accounts, bool had_admin, const char *name, bool is_admin)
{
	if (!had_accounts)
		printf("trawl serve now runs in team mode on this data directory: every request "
		       "must sign in or send an API token\n");
	if (!had_admin && is_admin)
		printf("%s is the first administrator\n", name);
	else if (!had_admin)
		printf("there is no administrator yet: trawl user add NAME --admin makes one\n");
}

static int user_add(struct auth *a, const struct user_args *u, const char *name)
{
	char pw[AUTH_PASSWORD_MAX + 2];
	size_t len = 0;
	bool is_generated, had_accounts, had_admin;
	int err;

	if ((err = auth_name_check(name)) < 0 ||
	    (err = password_get(pw, &len, &is_generated, name, u->use_stdin)) < 0 ||
	    (err = auth_has_accounts(a, &had_accounts)) < 0 ||
	    (err = auth_has_admin(a, &had_admin)) < 0 ||
	    (err = auth_user_add(a, NULL, name, u->display_name, u->is_admin, pw, len)) < 0)
		goto out;
	printf("added user %s%s\n", name, u->is_admin ? ", an administrator" : "");
	if (is_generated)
		password_show(name, pw);
	mode_say(had_accounts, had_admin, name, u->is_admin);
out:
	sodium_memzero(pw, sizeof(pw));
	return accounts_fail(err);
}

static int user_passwd(struct auth *a, const struct user_args *u, const char *name)
{
	char pw[AUTH_PASSWORD_MAX + 2];
	struct auth_user usr = { 0 };
	size_t len = 0;
	bool is_generated;
	int err;

	/* The account first: an unknown name is said before a password is asked for. */
	if ((err = auth_user_get(&usr, a, name)) < 0 ||
	    (err = password_get(pw, &len, &is_generated, name, u->use_stdin)) < 0 ||
	    (err = auth_user_set_password(a, NULL, name, NULL, 0, pw, len)) < 0)
		goto out;
	printf("set the password of %s; its sessions and tokens have ended\n", name);
	if (is_generated)
		password_show(name, pw);
out:
	sodium_memzero(pw, sizeof(pw));
	auth_user_dispose(&usr);
	return accounts_fail(err);
}

static int json_str_or_null(struct buf *b, const char *key, const char *s)
{
	return s ? accounts_json_str(b, key, s, false) : buf_printf(b, ",\"%s\":null", key);
}

static int user_json(struct buf *b, const struct auth_user *u)
{
	int err;

	if ((err = buf_puts(b, "{")) < 0 || (err = accounts_json_str(b, "name", u->name, true)) < 0 ||
	    (err = accounts_json_str(b, "display_name", u->display_name, false)) < 0 ||
	    (err = buf_printf(b, ",\"is_admin\":%s", u->is_admin ? "true" : "false")) < 0 ||
	    (err = buf_printf(b, ",\"is_disabled\":%s", u->is_disabled ? "true" : "false")) < 0 ||
	    (err = accounts_json_time(b, "created", u->created_ms, false)) < 0 ||
	    (err = accounts_json_time(b, "last_seen", u->last_seen_ms, false)) < 0 ||
	    (err = accounts_json_names(b, "groups", u->groups, u->n_groups)) < 0 ||
	    (err = accounts_json_str(b, "source", auth_source_name(u->source), false)) < 0 ||
	    (err = json_str_or_null(b, "issuer", u->issuer)) < 0 ||
	    (err = json_str_or_null(b, "subject", u->subject)) < 0)
		return err;
	return buf_puts(b, "}");
}

static void user_print(const struct auth_user *u)
{
	char c[32], s[32];

	printf("%s\t", u->name);
	accounts_print(u->display_name[0] ? u->display_name : "-");
	printf("\t%s\t%s\tcreated %s\tlast seen %s\tgroups: ", u->is_admin ? "admin" : "user",
	       u->is_disabled ? "disabled" : "enabled", accounts_time(c, u->created_ms),
	       accounts_time(s, u->last_seen_ms));
	accounts_print_names(u->groups, u->n_groups);
	printf("\tsource: %s", auth_source_name(u->source));
	if (u->issuer && u->subject) {
		putchar(' ');
		accounts_print(u->issuer);
		putchar(' ');
		accounts_print(u->subject);
	}
	putchar('\n');
}

static int user_list(struct auth *a, const struct user_args *u)
{
	struct auth_user *v = NULL;
	struct buf b;
	size_t n = 0;
	int err;

	buf_init(&b, BUF_MAX_DEFAULT);
	if ((err = auth_user_list(&v, &n, a)) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (!u->o.is_json)
			user_print(&v[i]);
		else if ((err = user_json(&b, &v[i])) == 0)
			accounts_json_line(&b);
	}
	if (n == 0 && !u->o.is_json)
		printf("no accounts: the server runs in laptop mode (loopback only, no sign-in); "
		       "trawl user add NAME --admin creates the first administrator\n");
out:
	buf_dispose(&b);
	auth_users_free(v, n);
	return accounts_fail(err);
}

static int user_flag(struct auth *a, const char *sub, const struct user_args *u,
		     const char *name)
{
	int err;

	if (strcmp(sub, "disable") == 0) {
		if ((err = auth_user_set_disabled(a, NULL, name, true)) == 0)
			printf("disabled %s; its sessions and tokens have ended\n", name);
	} else if (strcmp(sub, "enable") == 0) {
		if ((err = auth_user_set_disabled(a, NULL, name, false)) == 0)
			printf("enabled %s\n", name);
	} else {
		if ((err = auth_user_set_admin(a, NULL, name, u->on)) == 0)
			printf("%s is %s\n", name,
			       u->on ? "an administrator" : "no longer an administrator");
	}
	return accounts_fail(err);
}

static int user_link(struct auth *a, const struct user_args *u, char **operands)
{
	enum auth_source source = u->issuer     ? AUTH_SOURCE_OIDC
				  : u->is_proxy ? AUTH_SOURCE_PROXY
						: AUTH_SOURCE_LOCAL;
	int err;

	if ((err = auth_user_link(a, NULL, operands[0], source, u->issuer,
				  u->issuer ? operands[1] : NULL)) == 0)
		printf("%s is now %s; its password, sessions and tokens have ended\n", operands[0],
		       source == AUTH_SOURCE_OIDC    ? "linked to the OpenID Connect identity"
		       : source == AUTH_SOURCE_PROXY ? "the authentication proxy's"
						     : "a local account (give it a password: trawl "
						       "user passwd)");
	return accounts_fail(err);
}

/* link: exactly one of --oidc (with SUBJECT after NAME), --proxy, --local. */
static bool link_args_fit(const struct user_args *u, int n_operands)
{
	int n_kinds = (u->issuer != NULL) + u->is_proxy + u->is_local;

	return n_kinds == 1 && n_operands == (u->issuer ? 2 : 1);
}

/* Which flags each subcommand takes, and how many operands (NAME). */
static bool user_args_fit(const char *sub, const struct user_args *u, int n_operands)
{
	bool is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0;
	bool is_passwd = strcmp(sub, "passwd") == 0, is_admin = strcmp(sub, "admin") == 0;
	bool is_link = strcmp(sub, "link") == 0;

	if (is_link)
		return link_args_fit(u, n_operands) && !u->o.is_json && !u->is_admin &&
		       !u->display_name && !u->use_stdin && !u->on && !u->off;
	if (u->issuer || u->is_proxy || u->is_local)
		return false;
	if (n_operands != (is_list ? 0 : 1) || (u->o.is_json && !is_list) ||
	    ((u->is_admin || u->display_name) && !is_add) || (u->use_stdin && !is_add && !is_passwd))
		return false;
	return is_admin ? u->on != u->off : !u->on && !u->off;
}

int cmd_user(int argc, char **argv)
{
	static const char *const subs[] = { "add",    "list",  "disable", "enable",
					    "passwd", "admin", "link" };
	struct user_args u = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	bool is_known = false;
	int ret;

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		is_known |= strcmp(sub, subs[i]) == 0;
	if (strcmp(sub, "help") == 0)
		return cli_usage("user", false);
	if (!is_known) {
		if (argc < 2)
			return cli_usage("user", true);
		cli_errorf("unknown user command \"%s\" (add, list, disable, enable, passwd, admin, "
			   "link)",
			   sub);
		return EXIT_ERROR;
	}
	if ((ret = user_parse(&u, argc - 1, argv + 1)) != 0 || u.o.is_help)
		return u.o.is_help ? cli_usage("user", false) : ret;
	argc--, argv++;
	if (!user_args_fit(sub, &u, argc - optind))
		return cli_usage("user", true);
	/* Only add may create the data directory: it is how a new installation begins. */
	if ((ret = accounts_open(&a, &d, u.o.data, strcmp(sub, "add") == 0)) != 0)
		return ret;
	if (strcmp(sub, "add") == 0)
		ret = user_add(a, &u, argv[optind]);
	else if (strcmp(sub, "list") == 0)
		ret = user_list(a, &u);
	else if (strcmp(sub, "passwd") == 0)
		ret = user_passwd(a, &u, argv[optind]);
	else if (strcmp(sub, "link") == 0)
		ret = user_link(a, &u, argv + optind);
	else
		ret = user_flag(a, sub, &u, argv[optind]);
	accounts_close(a, &d);
	return ret;
}
