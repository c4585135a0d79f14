#!/usr/bin/env bash
# End-to-end tests of the account commands (docs/operations.md, "Accounts" to "Backups and
# restore"): trawl user, group, grant, revoke, access, repo set, token, audit and backup, with
# their errors; no default account (A7); the generated password shown once and working; the
# password policy (A2); secrets never in a listing, the audit trail or DATA/audit/audit.log (L2);
# a backup taken while the server runs, restored into a new directory, with the same users,
# groups, grants, audit trail and a token that still works. Password hashing takes about half a
# second per account: the test makes three.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
D=$T/data

# expect_out DESC PATTERN CMD...: CMD exits 0 and its stdout matches the glob PATTERN.
expect_out() {
  local d=$1 pat=$2 out st; shift 2
  out=$("$@" 2>"$T/.err"); st=$?
  # shellcheck disable=SC2053
  if [ $st = 0 ] && [[ $out == $pat ]]; then ok "$d"; else not_ok "$d" "status $st: $*" "$out" "$(head -c 1000 "$T/.err")"; fi
}
# expect_err DESC PATTERN CMD...: CMD exits 2 and its stderr matches the glob PATTERN.
expect_err() {
  local d=$1 pat=$2 st; shift 2
  "$@" >"$T/.out" 2>"$T/.err" </dev/null; st=$?
  # shellcheck disable=SC2053
  if [ $st = 2 ] && [[ $(cat "$T/.err") == $pat ]]; then ok "$d"; else not_ok "$d" "status $st: $*" "$(head -c 1000 "$T/.err")" "$(head -c 500 "$T/.out")"; fi
}
# json_check DESC PYTHON_EXPR [ARG]: the JSON lines in $T/j.json, as list L, make the expression
# true (ARG is sys.argv[2]). Not in a pipeline: ok and not_ok count in this shell.
json_check() {
  if python3 -c 'import json,sys; L=[json.loads(l) for l in sys.stdin if l.strip()]; sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" "${3:-}" <"$T/j.json" 2>"$T/.pyerr"
  then ok "$1"; else not_ok "$1" "$2" "$(cat "$T/.pyerr")"; fi
}

# serve_start NAME DATA: trawl serve on a free loopback port; sets ${NAME}_port and ${NAME}_pid.
# Its temporary directory is its own ($T holds DATA): it runs with its production file rights.
serve_start() {
  local name=$1 port=""
  mkdir -p "$T/server-tmp"
  TMPDIR=$T/server-tmp "$TRAWL" serve --data "$2" --listen 127.0.0.1:0 --sync-interval 0 >"$T/$name.out" 2>"$T/$name.log" &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
  for _ in $(seq 100); do
    port=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$T/$name.out" 2>/dev/null | grep -o '[0-9]*/$' | tr -d /)
    [ -n "$port" ] && break; sleep 0.1
  done
  printf -v "${name}_port" '%s' "$port"
  [ -n "$port" ]
}
# http PORT METHOD PATH [CURL ARGS...]: prints the status; the body goes to $T/body.
http() {
  local port=$1 method=$2 path=$3; shift 3
  curl -s -o "$T/body" -w '%{http_code}' -X "$method" "$@" "http://127.0.0.1:$port$path"
}
sign_in() { # PORT USER PASSWORD: the status of POST /api/v1/session
  http "$1" POST /api/v1/session -H 'Content-Type: application/json' \
    --data-binary "$(python3 -c 'import json,sys; print(json.dumps({"user":sys.argv[1],"password":sys.argv[2]}))' "$2" "$3")"
}

# --- two repositories in a registry ------------------------------------------------------------
g() { git -c user.name=t -c user.email=t@t -c init.defaultBranch=main "$@"; }
for r in alpha beta; do
  g init -q "$T/src/$r" && printf '%s_marker\n' "$r" >"$T/src/$r/f.txt"
  g -C "$T/src/$r" add -A && g -C "$T/src/$r" commit -q -m one
done

# --- A7: a fresh data directory has no account ------------------------------------------------
expect_err "user list without a data directory is an error" "*no data directory*" "$TRAWL" user list --data "$D"
[ ! -e "$D" ] && ok "... and creates nothing" || not_ok "... and creates nothing"
check "repo add alpha" "$TRAWL" repo add --data "$D" --allow-local "$T/src/alpha"
check "repo add beta" "$TRAWL" repo add --data "$D" --allow-local "$T/src/beta"
check "sync" "$TRAWL" sync --data "$D"
expect_out "a fresh data directory has no account (laptop mode)" "no accounts:*laptop mode*trawl user add NAME --admin*" "$TRAWL" user list --data "$D"
expect_eq "user list --json of a fresh data directory is empty" "" "$("$TRAWL" user list --json --data "$D")"
for c in user group grant revoke access token audit backup; do
  expect_out "trawl $c --help" "usage: trawl $c*" "$TRAWL" "$c" --help
done
expect_out "repo --help shows repo set" "*trawl repo set NAME \[--public|--private\]*" "$TRAWL" repo --help
if serve_start laptop "$D"; then
  st=$(http "$laptop_port" GET /api/v1/repos)
  expect_eq "laptop mode: the server answers without credentials, as before" 200 "$st"
  for cred in admin:admin root:root admin: trawl:trawl; do
    expect_eq "laptop mode: no default account (${cred%%:*}/${cred#*:} cannot sign in)" 401 "$(sign_in "$laptop_port" "${cred%%:*}" "${cred#*:}")"
  done
  kill "$laptop_pid"; wait "$laptop_pid" 2>/dev/null
else
  not_ok "the server starts in laptop mode" "$(cat "$T/laptop.log")"
fi

# --- user add: the first administrator, a generated password shown once -----------------------
out=$("$TRAWL" user add alice --admin --display-name 'Alice A.' --data "$D" 2>"$T/.err"); st=$?
expect_eq "user add alice --admin succeeds" 0 "$st"
alice_pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
[[ $alice_pw =~ ^[A-Za-z0-9]{20}$ ]] && ok "the generated password is 20 base62 characters" || not_ok "the generated password is 20 base62 characters" "$out"
case $out in *"will not be shown again"*) ok "... and it says it will not be shown again";; *) not_ok "... and it says it will not be shown again" "$out";; esac
case $out in *"team mode"*"alice is the first administrator"*) ok "the first account says the server now runs in team mode";; *) not_ok "the first account says the server now runs in team mode" "$out";; esac
expect_eq "the password appears once in the output" 1 "$(printf '%s\n' "$out" | grep -c -- "$alice_pw")"

bob_pw='correct-Horse-battery-e2e'
out=$(printf '%s\n' "$bob_pw" | "$TRAWL" user add bob --password-stdin --data "$D" 2>&1); st=$?
expect_eq "user add bob --password-stdin succeeds" 0 "$st"
case $out in *password:*|*"$bob_pw"*) not_ok "a password read from stdin is not printed" "$out";; *) ok "a password read from stdin is not printed";; esac
case $out in *"team mode"*) not_ok "the second account does not announce team mode again" "$out";; *) ok "the second account does not announce team mode again";; esac
check "user add carol" sh -c "printf '%s\n' 'carol-e2e-passphrase' | '$TRAWL' user add carol --password-stdin --data '$D'"

# --- the password policy (A2) and other refusals ----------------------------------------------
pw_refused() { # DESC PATTERN NAME PASSWORD
  printf '%s\n' "$4" | "$TRAWL" user add "$3" --password-stdin --data "$D" >"$T/.out" 2>"$T/.err"; local st=$?
  # shellcheck disable=SC2053
  if [ $st = 2 ] && [[ $(cat "$T/.err") == $2 ]]; then ok "$1"; else not_ok "$1" "status $st" "$(cat "$T/.err")"; fi
  if grep -qF -- "$4" "$T/.err" "$T/.out"; then not_ok "$1: the message does not echo the password"; else ok "$1: the message does not echo the password"; fi
}
pw_refused "an 11-byte password is refused, naming the minimum" "*too short*12*" dave 'abcdefghijk'
pw_refused "a common password is refused (case-insensitively)" "*common password*" dave 'WinnieThePooh'
pw_refused "the user's own name is refused" "*user's name*" daveofdavesworld 'DaveOfDavesWorld'
pw_refused "a password over 1024 bytes is refused" "*longer than 1024*" dave "$(head -c 1100 /dev/zero | tr '\0' x)"
expect_err "an empty standard input is refused" "*no password on standard input*" "$TRAWL" user add dave --password-stdin --data "$D"
expect_eq "... and no refused account was made" "alice bob carol" "$("$TRAWL" user list --data "$D" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
expect_err "a taken name is refused" "*bob*" sh -c "printf '%s\n' 'another-long-passphrase' | '$TRAWL' user add bob --password-stdin --data '$D'"
expect_err "a name starting with '-' is refused" "*may not start with*" "$TRAWL" user add --data "$D" -- -x
expect_err "a name with '/' is refused" "*only letters, digits*" "$TRAWL" user add 'a/b' --data "$D"
expect_err "an unknown user subcommand" "*unknown user command \"frobnicate\"*" "$TRAWL" user frobnicate --data "$D"
expect_status "user add without a name is a usage error" 2 "$TRAWL" user add --data "$D"
expect_status "user list --admin is a usage error" 2 "$TRAWL" user list --admin --data "$D"

# --- user list, disable, enable, admin --------------------------------------------------------
expect_out "user list shows alice as an enabled administrator with her display name" \
  "alice	Alice A.	admin	enabled	created 20??-??-??T??:??:??Z	last seen never	groups: -*" "$TRAWL" user list --data "$D"
"$TRAWL" user list --json --data "$D" >"$T/j.json"; json_check "user list --json: every field" \
  '[u["name"] for u in L] == ["alice","bob","carol"] and L[0]["is_admin"] and not L[1]["is_admin"] and L[0]["display_name"] == "Alice A." and L[1]["display_name"] == "" and L[1]["last_seen"] is None and L[0]["created"].endswith("Z") and all(u["groups"] == [] and u["is_disabled"] is False for u in L)'
expect_err "the last administrator cannot be disabled" "*administrator*" "$TRAWL" user disable alice --data "$D"
expect_err "the last administrator stays one" "*administrator*" "$TRAWL" user admin alice --off --data "$D"
expect_out "user admin bob --on" "bob is an administrator" "$TRAWL" user admin bob --on --data "$D"
expect_out "user admin bob --off" "bob is no longer an administrator" "$TRAWL" user admin bob --off --data "$D"
expect_status "user admin without --on or --off is a usage error" 2 "$TRAWL" user admin bob --data "$D"
expect_status "user admin with both is a usage error" 2 "$TRAWL" user admin bob --on --off --data "$D"
expect_out "user disable carol" "disabled carol*" "$TRAWL" user disable carol --data "$D"
expect_out "... user list shows her disabled" "*carol	-	user	disabled	*" "$TRAWL" user list --data "$D"
expect_out "user enable carol" "enabled carol" "$TRAWL" user enable carol --data "$D"
expect_out "... user list shows her enabled" "*carol	-	user	enabled	*" "$TRAWL" user list --data "$D"
expect_err "disabling an unknown user names it" "*nosuch*" "$TRAWL" user disable nosuch --data "$D"
expect_err "passwd of an unknown user names it" "*nosuch*" "$TRAWL" user passwd nosuch --data "$D"

# --- groups -----------------------------------------------------------------------------------
expect_out "group add devs" "added group devs" "$TRAWL" group add devs --data "$D"
expect_out "group add ops" "added group ops" "$TRAWL" group add ops --data "$D"
expect_err "a taken group name is refused" "*devs*" "$TRAWL" group add devs --data "$D"
expect_err "an invalid group name is refused" "*only letters, digits*" "$TRAWL" group add 'd e v' --data "$D"
expect_out "group member add devs bob" "added bob to group devs" "$TRAWL" group member add devs bob --data "$D"
expect_out "group member add devs carol" "added carol to group devs" "$TRAWL" group member add devs carol --data "$D"
expect_out "group member add ops carol" "added carol to group ops" "$TRAWL" group member add ops carol --data "$D"
expect_err "an unknown user cannot join a group" "*nosuch*" "$TRAWL" group member add devs nosuch --data "$D"
expect_err "nobody can join an unknown group" "*nogroup*" "$TRAWL" group member add nogroup bob --data "$D"
expect_out "group list shows the members" "devs	members: bob, carol
ops	members: carol" "$TRAWL" group list --data "$D"
"$TRAWL" group list --json --data "$D" >"$T/j.json"; json_check "group list --json" \
  'L == [{"name":"devs","synced":False,"members":["bob","carol"]},{"name":"ops","synced":False,"members":["carol"]}]'
"$TRAWL" user list --json --data "$D" >"$T/j.json"; json_check "user list --json shows each user's groups" \
  '[u["groups"] for u in L] == [[],["devs"],["devs","ops"]]'
expect_out "group member remove ops carol" "removed carol from group ops" "$TRAWL" group member remove ops carol --data "$D"
expect_out "group remove ops" "removed group ops" "$TRAWL" group remove ops --data "$D"
expect_err "removing an unknown group names it" "*ops*" "$TRAWL" group remove ops --data "$D"
expect_out "group list after the removals" "devs	members: bob, carol" "$TRAWL" group list --data "$D"
expect_status "group member with a missing operand is a usage error" 2 "$TRAWL" group member add devs --data "$D"
expect_status "group list --json with an operand is a usage error" 2 "$TRAWL" group list x --json --data "$D"

# --- grants, public flags, access -------------------------------------------------------------
expect_out "access: every repository starts private, granted to nobody" "alpha	private	users: -	groups: -
beta	private	users: -	groups: -" "$TRAWL" access --data "$D"
expect_out "grant alpha --user bob" "granted alpha to user bob" "$TRAWL" grant alpha --user bob --data "$D"
expect_out "grant alpha --group devs" "granted alpha to group devs" "$TRAWL" grant alpha --group devs --data "$D"
expect_out "grant beta --user carol" "granted beta to user carol" "$TRAWL" grant beta --user carol --data "$D"
expect_err "granting an unknown repository is refused" "*unknown repository \"gamma\"*" "$TRAWL" grant gamma --user bob --data "$D"
expect_err "granting to an unknown user is refused" "*nosuch*" "$TRAWL" grant alpha --user nosuch --data "$D"
expect_err "granting to an unknown group is refused" "*nogroup*" "$TRAWL" grant alpha --group nogroup --data "$D"
expect_status "grant with both --user and --group is a usage error" 2 "$TRAWL" grant alpha --user bob --group devs --data "$D"
expect_status "grant with neither is a usage error" 2 "$TRAWL" grant alpha --data "$D"
expect_status "grant without a repository is a usage error" 2 "$TRAWL" grant --user bob --data "$D"
expect_out "repo set beta --public" "beta is now public*" "$TRAWL" repo set beta --public --data "$D"
expect_err "repo set of an unknown repository is refused" "*unknown repository \"gamma\"*" "$TRAWL" repo set gamma --public --data "$D"
expect_status "repo set without --public or --private is a usage error" 2 "$TRAWL" repo set beta --data "$D"
expect_status "repo set with both is a usage error" 2 "$TRAWL" repo set beta --public --private --data "$D"
expect_status "repo list --public is a usage error" 2 "$TRAWL" repo list --public --data "$D"
expect_out "access shows the grants and the public flag" "alpha	private	users: bob	groups: devs
beta	public	users: carol	groups: -" "$TRAWL" access --data "$D"
"$TRAWL" access --json --data "$D" >"$T/j.json"; json_check "access --json" \
  'L == [{"repo":"alpha","public":False,"users":["bob"],"groups":["devs"]},{"repo":"beta","public":True,"users":["carol"],"groups":[]}]'
expect_out "revoke beta --user carol" "revoked beta from user carol" "$TRAWL" revoke beta --user carol --data "$D"
expect_out "repo set beta --private" "beta is now private*" "$TRAWL" repo set beta --private --data "$D"
expect_out "access after the revocation" "alpha	private	users: bob	groups: devs
beta	private	users: -	groups: -" "$TRAWL" access --data "$D"
expect_status "access with an operand is a usage error" 2 "$TRAWL" access alpha --data "$D"

# --- tokens -----------------------------------------------------------------------------------
tok=$("$TRAWL" token create bob --name ci --data "$D" 2>"$T/tok.err"); st=$?
expect_eq "token create bob succeeds" 0 "$st"
[[ $tok =~ ^trawl_[A-Za-z0-9]{49}$ ]] && ok "the token alone on stdout: trawl_ and 49 base62 characters" || not_ok "the token alone on stdout: trawl_ and 49 base62 characters" "$tok"
case $(cat "$T/tok.err") in *"will not be shown again"*) ok "... and stderr says it will not be shown again";; *) not_ok "... and stderr says it will not be shown again" "$(cat "$T/tok.err")";; esac
grep -qF -- "$tok" "$T/tok.err" && not_ok "the token is not on stderr" || ok "the token is not on stderr"
admin_tok=$("$TRAWL" token create alice --scope admin --expires 7d --data "$D" 2>/dev/null)
[[ $admin_tok =~ ^trawl_ ]] && ok "token create alice --scope admin" || not_ok "token create alice --scope admin" "$admin_tok"
carol_tok=$("$TRAWL" token create carol --expires 12h --name 'laptop' --data "$D" 2>/dev/null)
expect_err "an admin-scope token for a non-administrator is refused" "*" "$TRAWL" token create bob --scope admin --data "$D"
expect_err "an unknown scope is refused" "*--scope*\"root\"*" "$TRAWL" token create bob --scope root --data "$D"
expect_err "a malformed --expires is refused" "*--expires*\"soon\"*" "$TRAWL" token create bob --expires soon --data "$D"
expect_err "a token for an unknown user is refused" "*nosuch*" "$TRAWL" token create nosuch --data "$D"
out=$("$TRAWL" token list bob --data "$D")
case $out in *"	bob	${tok:0:10}...	ci	search	created "*"	last used never	active") ok "token list bob: id, prefix, label, scope, times, state";; *) not_ok "token list bob: id, prefix, label, scope, times, state" "$out";; esac
"$TRAWL" token list --json --data "$D" >"$T/tokens.json"; cp "$T/tokens.json" "$T/j.json"
json_check "token list --json: every token, newest first, with its fields" \
  '[t["user"] for t in L] == ["carol","alice","bob"] and L[1]["scope"] == "admin" and L[2]["name"] == "ci" and L[2]["last_used"] is None and L[2]["revoked"] is False and L[2]["prefix"] == sys.argv[2][:10] and L[2]["expires"] > L[2]["created"]' "$tok"
for s in "$tok" "$admin_tok" "$carol_tok"; do
  if grep -qF -- "${s:10}" "$T/tokens.json" <("$TRAWL" token list --data "$D"); then not_ok "token list never shows a secret"; else ok "token list never shows a secret"; fi
done
expect_err "token list of an unknown user is an error" "*nosuch*" "$TRAWL" token list nosuch --data "$D"
carol_id=$("$TRAWL" token list carol --data "$D" | cut -f1)
expect_out "token revoke" "revoked token $carol_id" "$TRAWL" token revoke "$carol_id" --data "$D"
expect_out "... token list shows it revoked" "*	revoked" "$TRAWL" token list carol --data "$D"
expect_err "revoking an unknown token is an error" "*" "$TRAWL" token revoke 99999 --data "$D"
expect_err "a token id must be a number" "*\"abc\" is not a token id*" "$TRAWL" token revoke abc --data "$D"
expect_status "token create --json is a usage error" 2 "$TRAWL" token create bob --json --data "$D"

# --- a server in team mode: the password and the tokens work ------------------------------------
if serve_start team "$D"; then
  expect_eq "team mode: no credentials is 401" 401 "$(http "$team_port" GET /api/v1/repos)"
  expect_eq "the password user add printed signs alice in" 200 "$(sign_in "$team_port" alice "$alice_pw")"
  expect_eq "bob's password from stdin signs him in" 200 "$(sign_in "$team_port" bob "$bob_pw")"
  expect_eq "a wrong password does not" 401 "$(sign_in "$team_port" alice "${alice_pw}x")"
  for cred in admin:admin root:root admin: alice:; do
    expect_eq "team mode: no default credentials (${cred%%:*}/${cred#*:} cannot sign in)" 401 "$(sign_in "$team_port" "${cred%%:*}" "${cred#*:}")"
  done
  expect_eq "bob's token works (GET /api/v1/me)" 200 "$(http "$team_port" GET /api/v1/me -H "Authorization: Bearer $tok")"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["name"]=="bob" and d["auth"]=="token" else 1)' "$T/body" \
    && ok "... as bob" || not_ok "... as bob" "$(cat "$T/body")"
  expect_eq "carol's revoked token is refused" 401 "$(http "$team_port" GET /api/v1/me -H "Authorization: Bearer $carol_tok")"
else
  not_ok "the server starts in team mode" "$(cat "$T/team.log")"
fi

# --- disabling and a new password end a user's tokens ---------------------------------------------
carol_tok2=$("$TRAWL" token create carol --data "$D" 2>/dev/null)
check "user disable carol" "$TRAWL" user disable carol --data "$D"
expect_eq "a disabled user's token is refused" 401 "$(http "$team_port" GET /api/v1/me -H "Authorization: Bearer $carol_tok2")"
check "user enable carol" "$TRAWL" user enable carol --data "$D"
expect_eq "... and stays refused once she is enabled again" 401 "$(http "$team_port" GET /api/v1/me -H "Authorization: Bearer $carol_tok2")"
carol_tok3=$("$TRAWL" token create carol --data "$D" 2>/dev/null)
printf 'short\n' | "$TRAWL" user passwd carol --password-stdin --data "$D" >"$T/.out" 2>"$T/.err"; st=$?
case "$st:$(cat "$T/.err")" in 2:*"too short"*) ok "user passwd applies the policy";; *) not_ok "user passwd applies the policy" "$st" "$(cat "$T/.err")";; esac
out=$(printf '%s\n' 'carol-second-passphrase' | "$TRAWL" user passwd carol --password-stdin --data "$D" 2>&1); st=$?
case "$st:$out" in "0:set the password of carol; its sessions and tokens have ended") ok "user passwd --password-stdin";; *) not_ok "user passwd --password-stdin" "$st" "$out";; esac
expect_eq "a new password ends the user's tokens" 401 "$(http "$team_port" GET /api/v1/me -H "Authorization: Bearer $carol_tok3")"
expect_eq "the new password signs carol in" 200 "$(sign_in "$team_port" carol carol-second-passphrase)"
out=$("$TRAWL" user passwd carol --data "$D" 2>&1)
carol_pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
[[ $carol_pw =~ ^[A-Za-z0-9]{20}$ ]] && ok "user passwd without --password-stdin prints a new password once" || not_ok "user passwd without --password-stdin prints a new password once" "$out"
expect_eq "... which signs her in" 200 "$(sign_in "$team_port" carol "$carol_pw")"

# --- the audit trail --------------------------------------------------------------------------
"$TRAWL" audit --json --data "$D" >"$T/audit.json"; cp "$T/audit.json" "$T/j.json"
json_check "audit --json: every event has its fields, times in RFC 3339 UTC" \
  'L and all(set(e) == {"id","time","event","actor","target","address","detail"} and e["time"].endswith("Z") and isinstance(e["detail"], dict) for e in L) and [e["id"] for e in L] == sorted(e["id"] for e in L)'
json_check "audit: the command line's changes are by actor cli" \
  'any(e["actor"] == "cli" and e["target"] == "alice" for e in L) and any(e["actor"] == "cli" and e["target"] == "alpha" for e in L)'
json_check "audit: sign-ins and failures are there" \
  'any(e["actor"] == "alice" or e["target"] == "alice" for e in L if "sign_in" in e["event"] and "fail" not in e["event"]) and any("fail" in e["event"] for e in L)'
ev=$(python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print([e["event"] for e in L if e["target"]=="alpha" and e["actor"]=="cli" and "grant" in e["event"]][0])' "$T/audit.json")
"$TRAWL" audit --event "$ev" --json --data "$D" >"$T/j.json"; json_check "audit --event keeps only that event" \
  "len(L) >= 2 and all(e['event'] == '$ev' for e in L)"
"$TRAWL" audit --user alice --json --data "$D" >"$T/j.json"; json_check "audit --user keeps only that actor" \
  'L and all(e["actor"] == "alice" for e in L)'
expect_eq "audit --user of nobody is empty" "" "$("$TRAWL" audit --user nobody-at-all --data "$D")"
expect_eq "audit --limit 2 gives two events" 2 "$("$TRAWL" audit --limit 2 --data "$D" | wc -l | tr -d ' ')"
expect_eq "audit --since 1h keeps them all" "$("$TRAWL" audit --data "$D" | wc -l)" "$("$TRAWL" audit --since 1h --data "$D" | wc -l)"
expect_eq "audit --since a future RFC 3339 time is empty" "" "$("$TRAWL" audit --since 2999-01-01T00:00:00Z --data "$D")"
expect_eq "audit --since with an offset" "$("$TRAWL" audit --data "$D" | wc -l)" "$("$TRAWL" audit --since 2000-01-01T01:00:00+01:00 --data "$D" | wc -l)"
expect_err "audit --since of neither form is refused" "*--since*\"yesterday\"*" "$TRAWL" audit --since yesterday --data "$D"
expect_eq "audit --since a date alone" "$("$TRAWL" audit --data "$D" | wc -l)" "$("$TRAWL" audit --since 2000-01-01 --data "$D" | wc -l)"
expect_err "audit --since a day its month lacks is refused" "*--since*\"2023-02-29T00:00:00Z\"*" "$TRAWL" audit --since 2023-02-29T00:00:00Z --data "$D"
expect_err "audit --limit 0 is refused" "*--limit*" "$TRAWL" audit --limit 0 --data "$D"
out=$("$TRAWL" audit --data "$D" | head -n 1)
[[ $out =~ ^20[0-9-]{8}T[0-9:]{8}Z$'\t'[a-z_]+$'\t' ]] && ok "audit prints TIME EVENT ACTOR TARGET ADDRESS DETAIL" || not_ok "audit prints TIME EVENT ACTOR TARGET ADDRESS DETAIL" "$out"

# L3: a name tried at sign-in is one escaped field, never a forged line.
[ -n "${team_port:-}" ] && sign_in "$team_port" $'mallory\nFAKE\tENTRY' 'not-the-password-1' >/dev/null
if "$TRAWL" audit --data "$D" | grep -q '^FAKE'; then not_ok "a control character in a sign-in name does not forge an audit line"; else ok "a control character in a sign-in name does not forge an audit line"; fi

# L3: a bidi override or a line separator in a field is an escape in audit, audit --json and
# DATA/audit/audit.log, never the raw character.
"$TRAWL" repo add --data "$T/hidden" --allow-local --name $'ev\u202eil\u2028x' "$T/src/alpha" >/dev/null 2>&1
expect_eq "audit prints a bidi override and U+2028 as escapes" 'ev\u202eil\u2028x' "$("$TRAWL" audit --data "$T/hidden" | cut -f 4)"
if grep -qaF $'\u202e' "$T/hidden/audit/audit.log" || "$TRAWL" audit --json --data "$T/hidden" | grep -qaF $'\u202e'; then
  not_ok "audit --json and DATA/audit/audit.log hold no raw bidi override"
else
  ok "audit --json and DATA/audit/audit.log hold no raw bidi override"
fi
expect_eq "audit --json still decodes to the name" $'ev\u202eil\u2028x' "$("$TRAWL" audit --json --data "$T/hidden" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["target"])')"

# L2: no password or token in the audit trail, its file, the database or the server's logs.
"$TRAWL" audit --json --data "$D" >"$T/audit.json"
leaked=""
for s in "$alice_pw" "$bob_pw" carol-e2e-passphrase carol-second-passphrase "$carol_pw" "$tok" "$admin_tok" "$carol_tok" "$carol_tok2" "$carol_tok3" not-the-password-1; do
  [ -n "$s" ] || continue
  for f in "$T/audit.json" "$D/audit/audit.log" "$D/trawl.db" "$D"/trawl.db-wal "$T/team.log" "$T/laptop.log"; do
    [ -f "$f" ] && grep -qaF -- "$s" "$f" && leaked="$leaked ${s:0:8}...@${f##*/}"
  done
done
expect_eq "no password or token in the audit trail, DATA/audit/audit.log, trawl.db or the server log" "" "$leaked"
[ -s "$D/audit/audit.log" ] && ok "DATA/audit/audit.log is written" || not_ok "DATA/audit/audit.log is written"
expect_eq "DATA/audit/audit.log is private" 600 "$(stat -c %a "$D/audit/audit.log")"

# --- backup while the server runs, and a restore --------------------------------------------------
"$TRAWL" user list --data "$D" | cut -f1-4 >"$T/users.before"
"$TRAWL" group list --data "$D" >"$T/groups.before"
"$TRAWL" access --data "$D" >"$T/access.before"
"$TRAWL" audit --json --data "$D" >"$T/audit.before"
kill -0 "${team_pid:-0}" 2>/dev/null && ok "the server runs during the backup" || not_ok "the server runs during the backup"
expect_out "backup while the server runs" "backed up * to $T/bk*" "$TRAWL" backup --data "$D" "$T/bk"
expect_eq "the backup directory is private" 700 "$(stat -c %a "$T/bk")"
for f in trawl.db auth.key audit.log; do [ -s "$T/bk/$f" ] && ok "the backup holds $f" || not_ok "the backup holds $f" "$(ls -la "$T/bk")"; done
expect_err "a backup into a directory that is not empty is refused" "*bk*" "$TRAWL" backup --data "$D" "$T/bk"
expect_status "backup without OUT is a usage error" 2 "$TRAWL" backup --data "$D"

# The documented restore: a new directory with the backup's files, then trawl sync.
R=$T/restored
mkdir -m 700 "$R" && cp -p "$T/bk/trawl.db" "$T/bk/auth.key" "$T/bk/audit.log" "$R/"
check "sync remakes the mirrors and the index of the restored directory" "$TRAWL" sync --data "$R"
expect_eq "restored: the same users" "$(cat "$T/users.before")" "$("$TRAWL" user list --data "$R" | cut -f1-4)"
expect_eq "restored: the same groups" "$(cat "$T/groups.before")" "$("$TRAWL" group list --data "$R")"
expect_eq "restored: the same grants and public flags" "$(cat "$T/access.before")" "$("$TRAWL" access --data "$R")"
"$TRAWL" audit --json --data "$R" >"$T/audit.after"
if [ -s "$R/audit/audit.log" ] && [ ! -e "$R/audit.log" ]; then ok "restored: the backup's audit.log moved into DATA/audit/"; else not_ok "restored: the backup's audit.log moved into DATA/audit/" "$(ls -la "$R" "$R/audit" 2>&1)"; fi
[ -s "$R/policy/1" ] && ok "restored: sync wrote the URL policy files from the registry" || not_ok "restored: sync wrote the URL policy files from the registry" "$(ls -la "$R" 2>&1)"
if python3 - "$T/audit.before" "$T/audit.after" <<'PY'
import json, sys
before = [json.loads(l) for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if before and after[:len(before)] == before else 1)
PY
then ok "restored: the same audit trail"; else not_ok "restored: the same audit trail" "$(diff "$T/audit.before" "$T/audit.after" | head -n 5)"; fi
[ -n "${team_pid:-}" ] && { kill "$team_pid"; wait "$team_pid" 2>/dev/null; }
if serve_start restored "$R"; then
  expect_eq "restored: bob's token still works" 200 "$(http "$restored_port" GET /api/v1/me -H "Authorization: Bearer $tok")"
  expect_eq "restored: carol's revoked token stays revoked" 401 "$(http "$restored_port" GET /api/v1/me -H "Authorization: Bearer $carol_tok")"
  expect_eq "restored: alice's password still works" 200 "$(sign_in "$restored_port" alice "$alice_pw")"
else
  not_ok "the server starts on the restored directory" "$(cat "$T/restored.log")"
fi

# --- repo remove takes the repository's grants with it -------------------------------------------
check "repo remove alpha" "$TRAWL" repo remove alpha --data "$D"
expect_out "access no longer lists alpha or its grants" "beta	private	users: -	groups: -" "$TRAWL" access --data "$D"
"$TRAWL" audit --json --data "$D" >"$T/j.json"; json_check "the removal is audited" \
  'any(e["target"] == "alpha" and "remove" in e["event"] for e in L)'
check "repo add alpha again" "$TRAWL" repo add --data "$D" --allow-local "$T/src/alpha"
expect_out "a new repository of the same name starts without the old grants" "alpha	private	users: -	groups: -
beta	private	users: -	groups: -" "$TRAWL" access --data "$D"
"$TRAWL" audit --json --data "$D" >"$T/j.json"; json_check "repo add is audited" \
  'any(e["target"] == "alpha" and "add" in e["event"] for e in L)'

# --- user link: single sign-on reaches an existing account only when an administrator says so ----
printf '%s\n' "lantern-quiver-basalt-88" | "$TRAWL" user add dave --password-stdin --data "$D" >/dev/null
expect_out "user list shows a local account's source" "*dave	*source: local" "$TRAWL" user list --data "$D"
expect_status "user link without --oidc, --proxy or --local is a usage error" 2 "$TRAWL" user link dave --data "$D"
expect_status "user link --oidc without a subject is a usage error" 2 "$TRAWL" user link dave --oidc https://idp.example.com --data "$D"
expect_status "user link with two kinds is a usage error" 2 "$TRAWL" user link dave --proxy --local --data "$D"
expect_err "user link of an unknown user names it" "*no user*nobody*" "$TRAWL" user link nobody --proxy --data "$D"
expect_err "user link refuses an issuer with a control character" "*issuer*" "$TRAWL" user link dave --oidc "$(printf 'https://i\001')" sub --data "$D"
expect_out "user link dave --oidc" "dave is now linked to the OpenID Connect identity*" "$TRAWL" user link dave --oidc https://idp.example.com sub-d --data "$D"
expect_out "... user list shows the link" "*dave	*source: oidc https://idp.example.com sub-d" "$TRAWL" user list --data "$D"
"$TRAWL" user list --json --data "$D" >"$T/j.json"; json_check "user list --json shows sources and links" \
  '[(u["source"], u["issuer"], u["subject"]) for u in L if u["name"] in ("alice", "dave")] == [("local", None, None), ("oidc", "https://idp.example.com", "sub-d")]'
"$TRAWL" audit --json --data "$D" >"$T/j.json"; json_check "the link is audited" \
  'any(e["event"] == "user_linked" and e["target"] == "dave" for e in L)'
expect_out "user link dave --local undoes it" "dave is now a local account*" "$TRAWL" user link dave --local --data "$D"

finish
