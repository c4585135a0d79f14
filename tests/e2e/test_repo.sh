#!/usr/bin/env bash
# End-to-end tests of the repository registry and sync (docs/operations.md): trawl repo
# add/list/status/remove, trawl sync over git:// (git daemon) and smart HTTP (git http-backend
# behind tests/e2e/git_http_server.py) on loopback, new commits picked up, failures isolated and
# previous results kept, corrupt mirrors re-cloned, the URL policy (P1) enforced before any
# connection, redirects not followed, hostile branch names handled as data (V2), credentials
# never shown.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }
[ -x /usr/lib/git-core/git-http-backend ] || { echo "1..0 # SKIP git-http-backend missing"; exit 0; }
HERE=$(cd "$(dirname "$0")" && pwd)

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE
g() { git -c user.name=t -c user.email=t@t -c init.defaultBranch=main "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
pwned_before=no; [ -e /tmp/pwned ] && pwned_before=yes
cd "$T" || exit 1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# http_server NAME ARGS...: starts git_http_server.py; sets ${NAME}_port, ${NAME}_pid, log $T/NAME.log.
http_server() {
  local name=$1; shift
  rm -f "$T/$name.port"; : > "$T/$name.log"
  python3 "$HERE/git_http_server.py" --root "$T/srv" --port-file "$T/$name.port" --log "$T/$name.log" "$@" &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
  printf -v "${name}_port" '%s' "$(cat "$T/$name.port")"
  printf -v "${name}_pid" '%s' "$pid"
}

daemon_start() {
  git daemon --reuseaddr --export-all --base-path="$T/srv" --listen=127.0.0.1 --port="$gd_port" "$T/srv" 2>"$T/daemon.log" &
  gd_pid=$!; pids+=("$gd_pid")
  wait_port "$gd_port"
}

# --- repositories served over loopback --------------------------------------------------------
mkdir -p "$T/srv" "$T/work"
mkrepo() { # NAME MARKER: a work repository and its bare copy served as srv/NAME.git
  g init -q "$T/work/$1"
  printf '%s\n' "$2" > "$T/work/$1/file.txt"
  mkdir -p "$T/work/$1/sub"; printf 'binary\0data\n' > "$T/work/$1/sub/blob.bin"
  g -C "$T/work/$1" add -A && g -C "$T/work/$1" commit -q -m one
  g clone -q --bare "$T/work/$1" "$T/srv/$1.git"
}
mkrepo alpha alpha_marker_one
mkrepo beta beta_marker_one
gd_port=$(free_port)
daemon_start || { echo "not ok 1 - git daemon did not start"; cat "$T/daemon.log"; exit 1; }
http_server web
D=$T/data
OPEN=(--allow-insecure --allow-private)

# --- add, list ----------------------------------------------------------------------------------
out=$("$TRAWL" repo add --data "$D" "git://127.0.0.1:$gd_port/alpha.git" "${OPEN[@]}" 2>&1); st=$?
expect_eq "repo add over git:// succeeds" 0 "$st"
case $out in "added alpha (id 1)"*) ok "add names the repository after the URL, without .git";; *) not_ok "add names the repository after the URL, without .git" "$out";; esac
expect_eq "the data directory is private (0700)" 700 "$(stat -c %a "$D")"
expect_eq "repos/ and index/ are private" "700 700" "$(stat -c %a "$D/repos") $(stat -c %a "$D/index")"
check "repo add over http with a name" "$TRAWL" repo add --data "$D" --name web-beta "http://127.0.0.1:$web_port/beta.git" "${OPEN[@]}"
expect_status "a taken name is refused" 2 "$TRAWL" repo add --data "$D" --name web-beta "http://127.0.0.1:$web_port/alpha.git" "${OPEN[@]}"
case $(cat "$T/.err") in *'already exists'*) ok "... saying it exists";; *) not_ok "... saying it exists" "$(cat "$T/.err")";; esac
expect_status "a name with '/' is refused" 2 "$TRAWL" repo add --data "$D" --name a/b "git://127.0.0.1:$gd_port/alpha.git" "${OPEN[@]}"
expect_status "a name with '@' is refused" 2 "$TRAWL" repo add --data "$D" --name a@b "git://127.0.0.1:$gd_port/alpha.git" "${OPEN[@]}"
expect_status "a branch pattern starting with '-' is refused" 2 "$TRAWL" repo add --data "$D" --name x --branch=-h "git://127.0.0.1:$gd_port/alpha.git" "${OPEN[@]}"
out=$("$TRAWL" repo list --data "$D")
case $out in *"alpha	new	last sync never"*"web-beta	new	last sync never"*) ok "list shows both, new and never synced";; *) not_ok "list shows both, new and never synced" "$out";; esac
expect_status "list without a data directory is an error" 2 "$TRAWL" repo list --data "$T/nowhere"
[ ! -e "$T/nowhere" ] && ok "... and creates nothing" || not_ok "... and creates nothing"

# --- sync over git:// and http ----------------------------------------------------------------
out=$("$TRAWL" sync --data "$D" "${OPEN[@]}" 2>&1); st=$?
expect_eq "sync of both succeeds" 0 "$st"
alpha_head=$(g -C "$T/srv/alpha.git" rev-parse main)
case $out in *"synced alpha: main at ${alpha_head:0:12}"*"synced web-beta: main at "*) ok "sync reports the commit per branch";; *) not_ok "sync reports the commit per branch" "$out";; esac
expect_eq "git:// content is searchable with --data" "alpha/file.txt:1:alpha_marker_one" "$("$TRAWL" search --data "$D" -e alpha_marker_one)"
expect_eq "http content is searchable" "web-beta/file.txt:1:beta_marker_one" "$("$TRAWL" search --data "$D" -e beta_marker_one)"
[ -d "$D/repos/1/mirror.git" ] && [ -d "$D/repos/2/mirror.git" ] && [ ! -e "$D/repos/alpha" ] && ok "mirrors are named by id" || not_ok "mirrors are named by id" "$(ls "$D/repos")"
[ -f "$D/repos/1/mirror.git/HEAD" ] && [ ! -e "$D/repos/1/mirror.git/file.txt" ] && [ ! -e "$D/repos/1/mirror.git/.git" ] && ok "mirrors are bare, nothing checked out" || not_ok "mirrors are bare, nothing checked out"
expect_eq "a repository's directory holds its mirror only" "mirror.git" "$(ls "$D/repos/1")"
"$TRAWL" repo list --data "$D" --json > "$T/list.json"
if python3 - "$T/list.json" "$alpha_head" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
a = [r for r in rows if r["name"] == "alpha"][0]
assert a["state"] == "indexed" and a["last_error"] is None and a["last_sync"], a
assert a["branches"] == [{"name": "main", "commit": sys.argv[2], "default": True}], a
assert a["files"] == 2 and a["skipped_count"] == 1 and a["index_bytes"] > 0, a
assert a["url"].startswith("git://127.0.0.1:"), a
PY
then ok "list --json: state, branch commit, sizes, skipped count"; else not_ok "list --json: state, branch commit, sizes, skipped count" "$(cat "$T/list.json")"; fi
expect_eq "list --json: the URL policy alpha was added under" '["insecure", "private"]' "$(python3 -c 'import json,sys; print(json.dumps([r for r in map(json.loads, open(sys.argv[1])) if r["name"]=="alpha"][0]["allow"]))' "$T/list.json")"
expect_eq "... and list says it" "  added with --allow-insecure --allow-private" "$("$TRAWL" repo list --data "$D" | grep -m1 'added with')"
out=$("$TRAWL" repo status --data "$D" alpha)
case $out in *"alpha	indexed"*"branch main at $alpha_head (default)"*"skipped alpha/sub/blob.bin	12	binary"*) ok "status lists every skipped file with its reason";; *) not_ok "status lists every skipped file with its reason" "$out";; esac
"$TRAWL" repo status --data "$D" --json alpha > "$T/st.json"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["skipped"]==[{"repo":"alpha","path":"sub/blob.bin","size":12,"reason":"binary"}], d' "$T/st.json"; then ok "status --json lists skipped files"; else not_ok "status --json lists skipped files" "$(cat "$T/st.json")"; fi
expect_status "status of an unknown repository is an error" 2 "$TRAWL" repo status --data "$D" nosuch

# --- a new commit is picked up -----------------------------------------------------------------
printf 'alpha_marker_two\n' > "$T/work/alpha/file.txt"
g -C "$T/work/alpha" commit -q -am two && g -C "$T/work/alpha" push -q "$T/srv/alpha.git" main
check "sync of one repository by name" "$TRAWL" sync --data "$D" alpha "${OPEN[@]}"
expect_eq "the pushed commit is indexed" "alpha/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$D" -e 'alpha_marker_(one|two)')"
expect_eq "list shows the new commit" "$(g -C "$T/srv/alpha.git" rev-parse main)" "$("$TRAWL" repo list --data "$D" --json | python3 -c 'import json,sys; print([r for r in map(json.loads, sys.stdin) if r["name"]=="alpha"][0]["branches"][0]["commit"])')"

# --- a failed fetch is isolated; previous results stay ------------------------------------------
kill "$gd_pid"; wait "$gd_pid" 2>/dev/null
printf 'beta_marker_two\n' > "$T/work/beta/file.txt"
g -C "$T/work/beta" commit -q -am two && g -C "$T/work/beta" push -q "$T/srv/beta.git" main
out=$("$TRAWL" sync --data "$D" "${OPEN[@]}" 2>&1); st=$?
expect_eq "sync exits 2 when one repository fails" 2 "$st"
case $out in *"alpha: fetch: "*) ok "the failure is reported with its repository";; *) not_ok "the failure is reported with its repository" "$out";; esac
expect_eq "the other repository still synced" "web-beta/file.txt:1:beta_marker_two" "$("$TRAWL" search --data "$D" -e 'beta_marker_(one|two)')"
expect_eq "the failed repository's previous results stay searchable" "alpha/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$D" -e alpha_marker_two)"
"$TRAWL" repo list --data "$D" --json > "$T/list.json"
if python3 -c '
import json,sys
a=[r for r in map(json.loads, open(sys.argv[1])) if r["name"]=="alpha"][0]
assert a["state"]=="error" and "fetch" in a["last_error"] and a["branches"], a' "$T/list.json"; then ok "the failed repository is marked error with the reason"; else not_ok "the failed repository is marked error with the reason" "$(cat "$T/list.json")"; fi
daemon_start
check "after the server is back, sync succeeds" "$TRAWL" sync --data "$D" alpha "${OPEN[@]}"
expect_eq "... and the error is cleared" "indexed" "$("$TRAWL" repo list --data "$D" --json | python3 -c 'import json,sys; print([r for r in map(json.loads, sys.stdin) if r["name"]=="alpha"][0]["state"])')"

# --- corrupt mirrors are re-cloned ---------------------------------------------------------------
printf 'garbage\n' > "$D/repos/1/mirror.git/refs/heads/main"
out=$("$TRAWL" sync --data "$D" alpha "${OPEN[@]}" 2>&1); st=$?
expect_eq "a garbage ref: sync succeeds" 0 "$st"
case $out in *"alpha: the mirror was corrupt ("*"deleted it and cloned again"*) ok "... saying the mirror was re-cloned";; *) not_ok "... saying the mirror was re-cloned" "$out";; esac
expect_eq "... and the content is right" "alpha/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$D" -e alpha_marker_two)"
pack=$(ls "$D"/repos/1/mirror.git/objects/pack/*.pack 2>/dev/null | head -n1)
if [ -n "$pack" ]; then
  truncate -s 40 "$pack"
  out=$("$TRAWL" sync --data "$D" alpha "${OPEN[@]}" 2>&1); st=$?
  case "$st:$out" in "0:"*"the mirror was corrupt"*) ok "a truncated pack is detected and re-cloned";; *) not_ok "a truncated pack is detected and re-cloned" "$out";; esac
else
  not_ok "the mirror has a pack to truncate" "$(find "$D/repos/1/mirror.git/objects" | head)"
fi

# --- remove ------------------------------------------------------------------------------------
check "repo remove" "$TRAWL" repo remove --data "$D" web-beta
expect_eq "its results are gone" "" "$("$TRAWL" search --data "$D" -e beta_marker_two)"
[ ! -e "$D/repos/2" ] && ok "its mirror is deleted" || not_ok "its mirror is deleted"
case $("$TRAWL" repo list --data "$D") in *web-beta*) not_ok "its row is deleted";; *) ok "its row is deleted";; esac
expect_eq "other repositories stay" "alpha/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$D" -e alpha_marker_two)"
expect_status "removing it again is an error" 2 "$TRAWL" repo remove --data "$D" web-beta

# --- URL policy (P1): refused before any connection -----------------------------------------------
http_server canary
P=$T/policy
refused() { # DESC TEXT-EXPECTED ARGS...
  local d=$1 want=$2; shift 2
  "$TRAWL" repo add --data "$P" "$@" >"$T/.out" 2>"$T/.err"; local st=$?
  if [ "$st" = 2 ] && grep -q -- "$want" "$T/.err"; then ok "$d"; else not_ok "$d" "status $st: $(cat "$T/.err")"; fi
}
refused "ext:: is refused" "transport helper syntax" 'ext::sh -c touch% '"$T"'/pwned-ext' --name e --allow-local --allow-private --allow-insecure
refused "fd:: is refused" "transport helper syntax" 'fd::3' --name f --allow-local --allow-private --allow-insecure
[ ! -e "$T/pwned-ext" ] && ok "ext:: ran nothing" || not_ok "ext:: ran nothing"
refused "file:// without --allow-local" "allow-local" "file://$T/srv/alpha.git"
refused "a local path without --allow-local" "allow-local" "$T/srv/alpha.git"
refused "an unknown scheme" "allowed: https" "foo://example.com/x.git"
refused "a URL starting with '-'" "starts with '-'" --name u -- "--upload-pack=touch $T/pwned-url"
refused "an ssh host starting with '-'" "invalid host" "ssh://-oProxyCommand=touch%20x/y.git"
refused "http without --allow-insecure" "allow-insecure" "http://example.com/x.git"
refused "http://127.0.0.1 without --allow-private" "allow-private" "http://127.0.0.1:$canary_port/alpha.git" --allow-insecure
refused "http://[::1] without --allow-private" "allow-private" "http://[::1]:$canary_port/alpha.git" --allow-insecure
refused "http://169.254.169.254 without --allow-private" "allow-private" "http://169.254.169.254/latest/meta-data" --allow-insecure
refused "http://10.0.0.1 without --allow-private" "allow-private" "http://10.0.0.1/x.git" --allow-insecure
refused "git://localhost without --allow-private" "allow-private" "git://localhost:$gd_port/alpha.git"
refused "an IPv4-mapped IPv6 loopback" "allow-private" "https://[::ffff:127.0.0.1]:$canary_port/x.git"
refused "a password in the URL" "DATA/credentials" "https://alice:s3cr3t-canary@example.com/x.git"
if grep -q 's3cr3t-canary' "$T/.err" "$T/.out"; then not_ok "... and the password is not echoed" "$(cat "$T/.err")"; else ok "... and the password is not echoed"; fi
# Anything else that can carry a secret: user information (libgit2 sends a user name or an
# encoded user:password as Basic authentication), a query, a fragment, an ssh password.
secret_urls=("http://alice%3aPW-canary-7@127.0.0.1:$canary_port/y.git"
             "http://ghp_PW-canary-7@127.0.0.1:$canary_port/z.git"
             "http://127.0.0.1:$canary_port/x.git?access_token=PW-canary-7"
             "http://127.0.0.1:$canary_port/x.git#PW-canary-7"
             "ssh://git:PW-canary-7@127.0.0.1:$canary_port/x.git"
             "ssh://git%3aPW-canary-7@127.0.0.1:$canary_port/x.git"
             "127.0.0.1:PW-canary-7@127.0.0.1:x.git"
             "ghpPWcanary7tok:x-oauth-basic@github.com:o/r.git")
secret_what=("an encoded user:password" "a token as user name" "a query string" "a fragment"
             "an ssh password" "an encoded ssh password" "an '@' in an scp-like path"
             "a token before an scp-like host")
for i in "${!secret_urls[@]}"; do
  refused "${secret_what[$i]} in the URL is refused, pointing to DATA/credentials" "DATA/credentials" "${secret_urls[$i]}" "${OPEN[@]}"
  if grep -q 'PW-canary-7\|PWcanary7' "$T/.err" "$T/.out"; then not_ok "... and not echoed" "$(cat "$T/.err")"; else ok "... and not echoed"; fi
done
"$TRAWL" repo list --json --data "$P" >"$T/.out" 2>&1
if grep -q 'canary-7' "$T/.out"; then not_ok "no refused URL was stored or named" "$(cat "$T/.out")"; else ok "no refused URL was stored or named"; fi
check "an ssh login name alone is still accepted" "$TRAWL" repo add --data "$P" --name sshuser "ssh://git@127.0.0.1:$canary_port/x.git" "${OPEN[@]}"
"$TRAWL" repo remove --data "$P" sshuser >/dev/null 2>&1
# Allowed at add time, then refused at sync time once its stored policy no longer allows it:
# the URL is checked again before every fetch.
check "a loopback URL is accepted with --allow-private" "$TRAWL" repo add --data "$P" --name late "http://127.0.0.1:$canary_port/alpha.git" --allow-insecure --allow-private
repo_id() { "$TRAWL" repo list --data "$1" --json | python3 -c 'import json,sys; print([r for r in map(json.loads, sys.stdin) if r["name"]==sys.argv[1]][0]["id"])' "$2"; }
late_id=$(repo_id "$P" late)
expect_eq "its URL and policy are in DATA/policy/ID, mode 0600 in a 0700 directory" "600 700 http://127.0.0.1:$canary_port/alpha.git insecure,private" \
  "$(stat -c %a "$P/policy/$late_id") $(stat -c %a "$P/policy") $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["url"], ",".join(d["allow"]))' "$P/policy/$late_id")"
# The policy sync obeys is the file's: narrowed there, the URL is refused before any connection.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["allow"]=["insecure"]; open(sys.argv[1],"w").write(json.dumps(d))' "$P/policy/$late_id"
expect_status "... and refused at sync when its stored policy no longer allows it" 2 "$TRAWL" sync --data "$P" --allow-insecure
case $(cat "$T/.err") in *"late: fetch: "*"allow-private"*) ok "... saying why";; *) not_ok "... saying why" "$(cat "$T/.err")";; esac
expect_eq "the listener saw no connection at all" "" "$(cat "$T/canary.log")"
"$TRAWL" repo remove --data "$P" late >/dev/null 2>&1
[ ! -e "$P/policy/$late_id" ] && ok "repo remove deletes its policy file" || not_ok "repo remove deletes its policy file" "$(ls -la "$P/policy")"

# Finding 5 of the outside attack: a registry changed alone (as a server that was taken over
# can change trawl.db) cannot make sync fetch a local repository: the policy file wins.
mkrepo secret secret_marker_five
check "a loopback http repository is added" "$TRAWL" repo add --data "$P" --name tricked "http://127.0.0.1:$web_port/alpha.git" --allow-insecure --allow-private
python3 -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute("UPDATE repos SET url = ?, allow_local = 1 WHERE name = ?", ("file://" + sys.argv[2], "tricked")); db.commit()' "$P/trawl.db" "$T/srv/secret.git"
out=$("$TRAWL" sync --data "$P" tricked 2>&1); st=$?
expect_eq "a file:// URL and --allow-local set in trawl.db alone: sync still fetches the file's URL" 0 "$st"
case $out in *"tricked: the registry's URL or URL policy differs from $P/policy/"*"the file's is used"*) ok "... warning that the registry differs";; *) not_ok "... warning that the registry differs" "$out";; esac
expect_eq "... the local repository was not fetched" "" "$("$TRAWL" search --data "$P" -e secret_marker_five)"
expect_eq "... the file's repository was" "tricked/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$P" -e 'alpha_marker_(one|two)')"
# A registry from before the policy files: the first sync writes them from trawl.db; a
# repository whose file is missing afterwards is refused, saying what to do.
rm -rf "$P/policy"
python3 -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute("UPDATE repos SET url = ?, allow_local = 0 WHERE name = ?", (sys.argv[2], "tricked")); db.commit()' "$P/trawl.db" "http://127.0.0.1:$web_port/alpha.git"
out=$("$TRAWL" sync --data "$P" tricked 2>&1); st=$?
case "$st:$out" in "0:"*"wrote the URL policy of "*" from the registry to $P/policy"*) ok "an older registry: sync writes the policy files first, saying so";; *) not_ok "an older registry: sync writes the policy files first, saying so" "$st: $out";; esac
[ -s "$P/policy/$(repo_id "$P" tricked)" ] && ok "... the file is there" || not_ok "... the file is there" "$(ls -la "$P/policy" 2>&1)"
rm -f "$P/policy/$(repo_id "$P" tricked)"
expect_status "a repository whose policy file is missing is refused at sync" 2 "$TRAWL" sync --data "$P" tricked
case $(cat "$T/.err") in *"tricked: fetch: no URL policy file $P/policy/"*"add it again"*) ok "... saying what to do";; *) not_ok "... saying what to do" "$(cat "$T/.err")";; esac
"$TRAWL" repo remove --data "$P" tricked >/dev/null 2>&1

# --- redirects are not followed --------------------------------------------------------------------
http_server redir --redirect "http://127.0.0.1:$web_port"
before=$(grep -c . "$T/web.log")
check "a redirecting server can be added" "$TRAWL" repo add --data "$P" --name redirected "http://127.0.0.1:$redir_port/alpha.git" "${OPEN[@]}"
expect_status "sync through a 302 fails" 2 "$TRAWL" sync --data "$P" redirected "${OPEN[@]}"
case $(cat "$T/.err") in *"redirected: fetch: "*"redirects are not followed"*) ok "... refused by the connection check";; *) not_ok "... refused by the connection check" "$(cat "$T/.err")";; esac
case $(cat "$T/redir.log") in *"GET /alpha.git/info/refs"*) ok "the redirecting server was asked";; *) not_ok "the redirecting server was asked" "$(cat "$T/redir.log")";; esac
expect_eq "the redirect target saw no request" "$before" "$(grep -c . "$T/web.log")"

# --- hostile branch names are data (V2) --------------------------------------------------------------
H=$T/work/hostile
g init -q "$H"; printf 'hostile_main\n' > "$H/f.txt"; g -C "$H" add -A; g -C "$H" commit -q -m main
c=$(g -C "$H" rev-parse HEAD)
g clone -q --bare "$H" "$T/srv/hostile.git"
g -C "$T/srv/hostile.git" update-ref 'refs/heads/-h' "$c"
g -C "$T/srv/hostile.git" update-ref 'refs/heads/--upload-pack=touch_pwned' "$c"
g -C "$T/srv/hostile.git" update-ref 'refs/heads/--output=x' "$c"
printf '%s\n' "$c" > "$T/srv/hostile.git/refs/heads/--upload-pack=touch \/tmp\/pwned" 2>/dev/null || true
printf '%s\n' "$c" > "$T/srv/hostile.git/refs/heads/ok-branch"
check "a repository with hostile branch names is added with --branch '*'" "$TRAWL" repo add --data "$D" --name hostile --branch '*' "git://127.0.0.1:$gd_port/hostile.git" "${OPEN[@]}"
(cd "$T/work" && "$TRAWL" sync --data "$D" hostile "${OPEN[@]}") >"$T/.out" 2>&1; st=$?
expect_eq "sync of hostile branch names succeeds" 0 "$st"
case $(cat "$T/.out") in *"left out"*) ok "branches starting with '-' are left out, with a warning";; *) not_ok "branches starting with '-' are left out, with a warning" "$(cat "$T/.out")";; esac
expect_eq "the default branch is searched without rev:" "hostile/f.txt:1:hostile_main" "$("$TRAWL" search --data "$D" -e hostile_main)"
expect_eq "valid branches are indexed, as one document with both branches" "hostile@main,ok-branch/f.txt:1:hostile_main" "$("$TRAWL" search --data "$D" 'rev:main:ok-branch hostile_main')"
hid=$("$TRAWL" repo list --data "$D" --json | python3 -c 'import json,sys; print([r for r in map(json.loads, sys.stdin) if r["name"]=="hostile"][0]["id"])')
expect_eq "the '-h' branch is mirrored as data" "$c" "$(git -C "$D/repos/$hid/mirror.git" for-each-ref --format='%(objectname)' refs/heads/-h 2>&1)"
created=$(find "$T" / -maxdepth 1 \( -name touch_pwned -o -name 'x' -o -name pwned \) 2>/dev/null; find "$T/work" "$D" -name 'x' -o -name 'touch_pwned' 2>/dev/null)
expect_eq "no file was created by a branch name" "" "$created"
if [ "$pwned_before" = no ]; then [ ! -e /tmp/pwned ] && ok "/tmp/pwned was not created" || not_ok "/tmp/pwned was not created"; fi

# --- credentials ----------------------------------------------------------------------------------
http_server auth --auth "alice:cred-canary-42"
C=$T/creds
check "a repository behind authentication is added" "$TRAWL" repo add --data "$C" --name private "http://127.0.0.1:$auth_port/alpha.git" "${OPEN[@]}"
expect_status "without credentials, sync fails" 2 "$TRAWL" sync --data "$C" "${OPEN[@]}"
case $(cat "$T/.err") in *"private: fetch: "*"authentication"*) ok "... saying authentication is needed";; *) not_ok "... saying authentication is needed" "$(cat "$T/.err")";; esac
printf '# prefix user secret\nhttp://127.0.0.1:%s/ alice cred-canary-42\n' "$auth_port" > "$C/credentials"
chmod 0644 "$C/credentials"
expect_status "a credentials file readable by others is refused" 2 "$TRAWL" sync --retry --data "$C" "${OPEN[@]}"
case $(cat "$T/.err") in *"mode 0600"*) ok "... saying so";; *) not_ok "... saying so" "$(cat "$T/.err")";; esac
chmod 0600 "$C/credentials"
"$TRAWL" sync --retry --data "$C" "${OPEN[@]}" >"$T/sync.out" 2>&1; st=$?
expect_eq "with the credentials file, sync succeeds" 0 "$st"
expect_eq "... and the content is searchable" "private/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$C" -e alpha_marker_two)"
"$TRAWL" repo list --data "$C" > "$T/list.out" 2>&1; "$TRAWL" repo list --json --data "$C" >> "$T/list.out" 2>&1
"$TRAWL" repo status --data "$C" private >> "$T/list.out" 2>&1
if grep -rqa 'cred-canary-42' "$T/sync.out" "$T/list.out" "$T/.err" "$C/trawl.db" "$C/repos" "$C/index" 2>/dev/null; then
  not_ok "the secret appears in no output, database, mirror or index"
else
  ok "the secret appears in no output, database, mirror or index"
fi
printf 'http://127.0.0.1:%s/ alice wrong-secret\n' "$auth_port" > "$C/credentials"
expect_status "a wrong secret fails (once, no retry loop)" 2 "$TRAWL" sync --retry --data "$C" "${OPEN[@]}"
expect_eq "... and the previous results stay" "private/file.txt:1:alpha_marker_two" "$("$TRAWL" search --data "$C" -e alpha_marker_two)"
# Entries match on parsed scheme, host, port and whole path segments, never as text prefixes.
printf 'http://127.0.0.1:%s alice cred-canary-42\nhttp://127.0.0.1:%s/alp alice cred-canary-42\n' "${auth_port%?}" "$auth_port" > "$C/credentials"
expect_status "an entry for a port the server's begins with, or for part of a path segment, is not used" 2 "$TRAWL" sync --retry --data "$C" "${OPEN[@]}"
case $(cat "$T/.err") in *"no entry for this repository"*) ok "... saying no entry matches";; *) not_ok "... saying no entry matches" "$(cat "$T/.err")";; esac
printf 'http://127.0.0.1:%s alice cred-canary-42\n' "$auth_port" > "$C/credentials"
expect_status "an entry for the host and port, without a path or slash, is used" 0 "$TRAWL" sync --data "$C" "${OPEN[@]}"

# --- secrets a registry of an older trawl holds are removed when it is opened -------------------
check "a repository with a hostile name is added" "$TRAWL" repo add --data "$C" --name 'beta.git?access_token=Q-canary-9' "http://127.0.0.1:$web_port/beta.git" "${OPEN[@]}"
check "... and synced" "$TRAWL" sync --data "$C" "${OPEN[@]}"
# What trawl with schema 1 stored for "repo add URL" with a token as user name and with a query.
python3 - "$C/trawl.db" "$auth_port" "$web_port" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE repos SET url = ? WHERE name = 'private'",
           ("http://ghp_U-canary-9@127.0.0.1:%s/alpha.git" % sys.argv[2],))
db.execute("UPDATE repos SET url = ? WHERE name LIKE 'beta%'",
           ("http://127.0.0.1:%s/beta.git?access_token=Q-canary-9" % sys.argv[3],))
for col in ("allow_insecure", "allow_local", "allow_private", "failures", "next_attempt", "symbols", "last_changed", "last_success", "sync_requested"):
    db.execute("ALTER TABLE repos DROP COLUMN " + col)
db.execute("DROP TABLE retired_names")
for t in ("TRIGGER repos_ins", "TRIGGER repos_upd", "TRIGGER repos_del", "TABLE notices", "TABLE audit", "TABLE sessions", "TABLE tokens", "TABLE repo_grants", "TABLE repo_public", "TABLE group_members", "TABLE groups", "TABLE users", "TABLE acl_generation", "TABLE acl_changes", "TABLE audit_rows"):
    db.execute("DROP " + t)  # the accounts of schemas 4 to 7
db.execute("PRAGMA user_version = 1")
db.commit()
PY
rm -rf "$C/policy" # an older trawl had no URL policy files: the next sync writes them
"$TRAWL" repo list --data "$C" > "$T/list.out" 2>&1; "$TRAWL" repo list --json --data "$C" >> "$T/list.out" 2>&1
"$TRAWL" repo status --data "$C" private >> "$T/list.out" 2>&1
if grep -q 'canary-9' "$T/list.out"; then not_ok "an old registry's secrets are gone from repo list and status" "$(cat "$T/list.out")"; else ok "an old registry's secrets are gone from repo list and status"; fi
case $(cat "$T/list.out") in *"private	error"*"DATA/credentials"*) ok "... the repository is marked in error saying why";; *) not_ok "... the repository is marked in error saying why" "$(cat "$T/list.out")";; esac
case $(cat "$T/list.out") in *"beta	error"*) ok "... the one named after its query is renamed";; *) not_ok "... the one named after its query is renamed" "$(cat "$T/list.out")";; esac
expect_status "the redacted repositories sync again (credentials from the file)" 0 "$TRAWL" sync --data "$C" "${OPEN[@]}"
expect_eq "... under the new name" "beta/file.txt:1:beta_marker_two" "$("$TRAWL" search --data "$C" -e beta_marker_two)"
expect_eq "... and the old name's shards are gone" "" "$(find "$C/index" -name '*canary*'; grep -l 'canary-9' "$C/index/MANIFEST")"
python3 - "$TRAWL" "$C" > "$T/api.out" 2>&1 <<'PY'
import http.client, re, subprocess, sys
p = subprocess.Popen([sys.argv[1], "serve", "--data", sys.argv[2], "--listen", "127.0.0.1:0",
                      "--sync-interval", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
try:
    port = int(re.search(r"127\.0\.0\.1:(\d+)", p.stdout.readline().decode()).group(1))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/api/v1/repos")
    print(c.getresponse().read().decode())
finally:
    p.kill()
    p.wait()
PY
case $(cat "$T/api.out") in *canary-9*|"") not_ok "/api/v1/repos shows none of the old secrets" "$(cat "$T/api.out")";; *'"name":"beta"'*) ok "/api/v1/repos shows none of the old secrets";; *) not_ok "/api/v1/repos shows none of the old secrets" "$(cat "$T/api.out")";; esac

# --- counts after incremental syncs (a regression: they were the run's, 0 when nothing moved) --
L=$T/counted; LD=$T/counted-data
g init -q "$L"; printf 'one\n' > "$L/a.txt"; printf 'two\n' > "$L/b.txt"; printf '\0bin' > "$L/c.bin"
g -C "$L" add -A; g -C "$L" commit -q -m 1
"$TRAWL" repo add --data "$LD" --name counted --allow-local "$L" >/dev/null 2>&1
counts() { "$TRAWL" repo list --data "$LD" --json | python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(r["files"], r["skipped_count"])'; }
"$TRAWL" sync --data "$LD" --allow-local >/dev/null 2>&1
expect_eq "a first sync counts 3 files, 1 skipped" "3 1" "$(counts)"
"$TRAWL" sync --data "$LD" --allow-local >"$T/.out" 2>&1
case $(cat "$T/.out") in *unchanged*) ok "a sync with nothing new says unchanged";; *) not_ok "a sync with nothing new says unchanged" "$(cat "$T/.out")";; esac
expect_eq "... and keeps the counts" "3 1" "$(counts)"
g -C "$L" rm -q a.txt; printf 'three\n' > "$L/d.txt"; printf 'four\n' > "$L/e.txt"; g -C "$L" add -A; g -C "$L" commit -q -m 2
"$TRAWL" sync --data "$LD" --allow-local >"$T/.out" 2>&1
case $(cat "$T/.out") in *incremental*) ok "a sync after one commit is incremental";; *) not_ok "a sync after one commit is incremental" "$(cat "$T/.out")";; esac
expect_eq "... and counts the live files (a deleted one no longer)" "4 1" "$(counts)"

# --- the URL policy belongs to the repository: every sync uses what it was added with ----------
SD=$T/stored-data
check "a local repository is added with --allow-local" "$TRAWL" repo add --data "$SD" --name stored --allow-local "$L"
expect_status "a plain trawl sync uses the policy it was added with" 0 "$TRAWL" sync --data "$SD"
expect_eq "... and list --json shows it" '["local"]' "$("$TRAWL" repo list --data "$SD" --json | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.readline())["allow"]))')"
expect_eq "... and so does list" "  added with --allow-local" "$("$TRAWL" repo list --data "$SD" | grep 'added with')"
printf 'scheduled_marker\n' > "$L/s.txt"; g -C "$L" add -A; g -C "$L" commit -q -m 3
head3=$(g -C "$L" rev-parse HEAD)
# The server's scheduled sync: plain `trawl serve`, no flag, no TRAWL_ALLOW_* in its environment.
mkdir -p "$T/server-tmp" # the server's own: $T holds DATA
TMPDIR=$T/server-tmp "$TRAWL" serve --data "$SD" --listen 127.0.0.1:0 --sync-interval 1s >"$T/serve.out" 2>&1 &
serve_pid=$!; pids+=("$serve_pid")
state=""
for _ in $(seq 600); do
  state=$("$TRAWL" repo list --data "$SD" --json 2>/dev/null | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
print("error: %s" % r["last_error"] if r["state"] == "error" else
      "synced" if r["branches"] and r["branches"][0]["commit"] == sys.argv[1] else "")' "$head3")
  [ -n "$state" ] && break
  sleep 0.1
done
kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null
expect_eq "the server's scheduled sync uses the stored policy too" "synced" "$state"
expect_eq "... and indexes the new commit" "stored/s.txt:1:scheduled_marker" "$("$TRAWL" search --data "$SD" -e scheduled_marker)"

# A local repository deleted or moved after it was added: sync says so, not libgit2's
# "unsupported URL protocol", for a path and a file:// URL alike, and the registry keeps it.
GD=$T/gone-data
g init -q "$T/gone" && echo gone > "$T/gone/g.txt" && g -C "$T/gone" add g.txt && g -C "$T/gone" commit -qm one
"$TRAWL" repo add --data "$GD" --name gone --allow-local "$T/gone" >/dev/null 2>&1
"$TRAWL" repo add --data "$GD" --name gone-url --allow-local "file://$T/gone" >/dev/null 2>&1
"$TRAWL" sync --data "$GD" --no-progress >/dev/null 2>&1
mv "$T/gone" "$T/moved"
"$TRAWL" sync --data "$GD" --no-progress --retry >/dev/null 2>"$T/gone.err"; st=$?
expect_eq "sync of a moved local repository: exit status 2" 2 "$st"
for name in gone gone-url; do
  expect_eq "$name: says the local repository no longer exists and what to do" 1 \
    "$(grep -c "^trawl: $name: fetch: the local repository $T/gone no longer exists (deleted or moved?): trawl repo remove $name, then trawl repo add NEWPATH" "$T/gone.err")"
done
expect_eq "not as an unsupported URL protocol" 0 "$(grep -c 'unsupported URL protocol' "$T/gone.err")"
expect_eq "trawl repo list shows the reason" 2 \
  "$("$TRAWL" repo list --data "$GD" | grep -c 'error: fetch: the local repository .* no longer exists')"
expect_eq "repo list: the last successful sync apart from the failed attempt" 2 \
  "$("$TRAWL" repo list --data "$GD" | grep -cE '^  last synced OK at [0-9T:-]+Z; last attempt at [0-9T:-]+Z failed$')"
expect_eq "repo list --json: last_success kept, last_sync the attempt" "gone ok; gone-url ok" \
  "$("$TRAWL" repo list --data "$GD" --json | python3 -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
print("; ".join("%s %s" % (r["name"], "ok" if r["last_success"] and r["last_sync"] >= r["last_success"]
                and r["state"] == "error" else r) for r in rs))')"
expect_eq "the last index stays searchable" "gone/g.txt:1:gone" "$("$TRAWL" search --data "$GD" -e '^gone$' | grep '^gone/')"

finish
