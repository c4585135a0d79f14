#!/usr/bin/env bash
# End-to-end tests of `trawl index`, `trawl search`, `trawl ls` and `trawl verify` on small trees.
. "$(dirname "$0")/lib.sh"

R=$T/proj
mkdir -p "$R/src/sub" "$R/.git/objects" "$R/docs"
printf 'int main(void)\n{\n\treturn helper(42);\n}\n' > "$R/src/main.c"
printf 'int helper(int x)\n{\n\treturn x + 1; /* helper */\n}\n' > "$R/src/sub/helper.c"
printf 'HELPER in caps\nhelpers plural\n' > "$R/docs/notes.txt"
printf 'helper inside git\n' > "$R/.git/objects/x"
printf 'helper\0binary\n' > "$R/bin.dat"
head -c 2000000 /dev/zero | tr '\0' 'a' > "$R/big.txt"; echo helper >> "$R/big.txt"
ln -s /etc/passwd "$R/passwd-link"
ln -s src "$R/dir-link"
: > "$R/empty.txt"

IX=$T/ix
check "index a tree" "$TRAWL" index -q -o "$IX" "$R"
out=$("$TRAWL" index -o "$T/ix2" "$R" 2>/dev/null)
case $out in
  *"indexed proj: 4 files"*"skipped 1 binary, 1 too large, 0 unreadable; 2 symlinks not followed"*) ok "index summary counts indexed and skipped files";;
  *) not_ok "index summary counts indexed and skipped files" "$out";;
esac

# An index holds private code: this user's alone, whatever the shell's umask.
(umask 022 && "$TRAWL" index -q -o "$T/ix-umask" "$R")
modes=$(stat -c %a "$T/ix-umask" "$T"/ix-umask/*.shard "$T/ix-umask/MANIFEST" | sort -u | tr '\n' ' ')
expect_eq "under umask 022 the index directory is 0700 and its files 0600" "600 700 " "$modes"

got=$("$TRAWL" search -d "$IX" -e helper | sort)
want=$(printf '%s\n' "proj/docs/notes.txt:2:helpers plural" "proj/src/main.c:3:	return helper(42);" "proj/src/sub/helper.c:1:int helper(int x)" "proj/src/sub/helper.c:3:	return x + 1; /* helper */")
expect_eq "search prints REPO/PATH:LINE:TEXT like rg" "$want" "$got"
expect_eq "-i finds upper case" "proj/docs/notes.txt:1:HELPER in caps" "$("$TRAWL" search -d "$IX" -i -e 'helper in' )"
expect_eq "-w excludes helpers" "" "$("$TRAWL" search -d "$IX" -w -e helpers2)"
expect_eq "-w matches whole word only" "3" "$("$TRAWL" search -d "$IX" -w -e helper | wc -l | tr -d ' ')"
expect_eq "-l lists files" "$(printf 'proj/docs/notes.txt\nproj/src/main.c\nproj/src/sub/helper.c')" "$("$TRAWL" search -d "$IX" -l -e helper | sort)"
expect_eq "-c counts lines per file" "proj/src/sub/helper.c:2" "$("$TRAWL" search -d "$IX" -c -e helper | grep sub/)"
expect_eq "-m 1 stops after one line per file" "1" "$("$TRAWL" search -d "$IX" -m 1 -e helper | grep -c sub/helper.c)"
expect_eq "--path restricts to matching paths" "proj/docs/notes.txt:2:helpers plural" "$("$TRAWL" search -d "$IX" --path '^docs/' -e helper)"
expect_eq "-F treats metacharacters literally" "proj/src/sub/helper.c:3:	return x + 1; /* helper */" "$("$TRAWL" search -d "$IX" -F -e 'x + 1')"
expect_eq "binary, .git, symlink targets and big files are not searched" "" "$("$TRAWL" search -d "$IX" -e 'binary|inside git|root:')"

# Nested repetitions multiply: refused by the parser before any compilation. The memory and time
# caps only keep a regression from taking the machine down (it used 18.7 GB and 100 s).
vmem=4000000; [ "${TRAWL_BUILD:-}" = asan ] && vmem=unlimited # ASan reserves terabytes of shadow
rc=0; (ulimit -v $vmem; exec timeout 60 "$TRAWL" search -d "$IX" -e '((((a{1000}){1000}){1000}){1000})') \
  > "$T/nest.out" 2> "$T/nest.err" || rc=$?
expect_eq "nested repetitions: exit status 2" "2" "$rc"
expect_eq "nested repetitions: refused with the limit and the column" \
  "trawl: pattern too large once its repetitions are written out (nested counts multiply; the limit is 5000 characters) (column 13)" \
  "$(head -n 1 "$T/nest.err")"
# Compilation counts against timeout: (about 2 s for this pattern, in the helper process).
rc=0; "$TRAWL" search -d "$IX" 'case:yes timeout:100ms /((ab|cd)[a-z]{46}){100}/' > "$T/to.out" 2> "$T/to.err" || rc=$?
expect_eq "a compilation longer than timeout: exit status 2" "2" "$rc"
expect_eq "a compilation longer than timeout: ends with a timeout error" \
  "trawl: the query's timeout ran out while its pattern was being compiled" "$(cat "$T/to.err")"
"$TRAWL" search -d "$IX" --limit 2 -e helper > "$T/lim.out" 2> "$T/lim.err"
expect_eq "--limit N prints N lines" "2" "$(wc -l < "$T/lim.out" | tr -d ' ')"
expect_eq "--limit says it stopped" "trawl: stopped after 2 matching lines (--limit)" "$(cat "$T/lim.err")"

expect_status "exit 0 on a match" 0 "$TRAWL" search -d "$IX" -e helper
expect_status "exit 1 without a match" 1 "$TRAWL" search -d "$IX" -e no_such_thing_anywhere
expect_status "exit 2 on a bad pattern" 2 "$TRAWL" search -d "$IX" -e 'foo('
expect_status "exit 2 on a missing index" 2 "$TRAWL" search -d "$T/nope" -e helper
"$TRAWL" search -d "$IX" -e 'ab\1' 2> "$T/err" >/dev/null
if grep -q 'backreference' "$T/err" && grep -q '^    \^' "$T/err"; then ok "pattern error names the construct and points at it"; else not_ok "pattern error names the construct and points at it" "$(cat "$T/err")"; fi

json=$("$TRAWL" search -d "$IX" --json -e 'return helper')
if python3 - "$json" <<'PY'
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines()]
f, s = lines[0], lines[-1]
assert f["type"] == "file" and f["repo"] == "proj" and f["path"] == "src/main.c", f
assert f["lines"] == [{"line": 3, "text": "\treturn helper(42);", "ranges": [[1, 14]]}], f["lines"]
assert s["type"] == "summary" and s["matching_lines"] == 1 and s["files"] == 1, s
assert s["limit_hit"] is False and s["shards_searched"] == 1 and s["candidates"] >= 1, s
PY
then ok "--json writes file objects with ranges and a summary"; else not_ok "--json writes file objects with ranges and a summary" "$json"; fi

expect_eq "ls --skipped lists skipped files with reasons" "$(printf 'proj/big.txt\t2000007\ttoo large\nproj/bin.dat\t14\tbinary')" "$("$TRAWL" ls -d "$IX" --skipped | sort)"
check "verify passes on a fresh index" "$TRAWL" verify "$IX"

# Re-indexing replaces the repository's shards; a second repository is kept.
printf 'fresh content\n' > "$R/src/main.c"
mkdir -p "$T/other"; printf 'helper in other\n' > "$T/other/o.txt"
"$TRAWL" index -q -o "$IX" "$R" "$T/other"
expect_eq "re-index replaces old content" "" "$("$TRAWL" search -d "$IX" -e 'helper\(42')"
expect_eq "re-index sees new content" "proj/src/main.c:1:fresh content" "$("$TRAWL" search -d "$IX" -e fresh)"
expect_eq "two repositories in one index" "other/o.txt:1:helper in other" "$("$TRAWL" search -d "$IX" -e 'in other')"
# The two small repositories of one run share a compound shard; the old files are gone.
expect_eq "old shard files are removed, the new run's two repositories share one" "1" "$(ls "$IX" | grep -c '\.shard$')"
expect_eq "verify names the compound shard" "1" "$("$TRAWL" verify "$IX" | grep -c 'compound: 2 repositories')"
"$TRAWL" index -q -o "$IX" --name renamed "$T/other"
expect_eq "--name names the repository" "renamed/o.txt:1:helper in other" "$("$TRAWL" search -d "$IX" --path o.txt -e 'in other' | grep renamed)"
expect_status "a bad repository name is refused" 2 "$TRAWL" index -o "$IX" --name 'a/b' "$T/other"

# A corrupt shard is refused with a message naming the file, never a crash.
shard=$(ls "$IX"/*.shard | head -n 1)
cp "$shard" "$T/backup"
head -c 100 "$T/backup" > "$shard"
"$TRAWL" search -d "$IX" -e helper > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q "$(basename "$shard")" "$T/err"; then ok "truncated shard is refused naming the file"; else not_ok "truncated shard is refused naming the file" "status $st" "$(cat "$T/err")"; fi
cp "$T/backup" "$shard"
printf '\xff' | dd of="$shard" bs=1 seek=$(( $(stat -c %s "$shard") / 2 )) conv=notrunc 2>/dev/null
expect_status "verify detects a flipped byte" 2 "$TRAWL" verify "$IX"

# Help: every subcommand answers --help, -h and `trawl help NAME` with its complete usage on
# stdout (exit 0); `trawl help` lists every subcommand with every form and flag.
SRC=$(cd "$(dirname "$0")/../.." && pwd)/src/cli
all_help=$("$TRAWL" help 2>/dev/null); st=$?
expect_eq "trawl help: exit 0" 0 "$st"
# The commands as trawl help lists them, so a new one cannot escape these checks.
commands=$(printf '%s\n' "$all_help" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
expect_eq "trawl help lists at least the 18 commands of the time of writing" 1 \
  "$([ "$(printf '%s\n' "$commands" | wc -l)" -ge 18 ] && echo 1)"
for c in $commands; do
  out=$("$TRAWL" "$c" --help 2>"$T/err"); st=$?
  case "$st:$out" in "0:usage: trawl $c"*) ok "$c --help: its usage on stdout, exit 0";; *) not_ok "$c --help: its usage on stdout, exit 0" "status $st" "$out" "$(cat "$T/err")";; esac
  expect_eq "$c -h is $c --help" "$out" "$("$TRAWL" "$c" -h 2>&1)"
  expect_eq "help $c is $c --help" "$out" "$("$TRAWL" help "$c" 2>&1)"
  case $all_help in *"
  $c "*"trawl $c"*) ok "trawl help lists $c";; *) not_ok "trawl help lists $c" "$all_help";; esac
done
# Every form of every command (trawl repo add, trawl group member add, trawl audit prune ...), as
# its synopsis lines in trawl help spell it: --help and -h after its words, and after an argument,
# print the command's usage on stdout, exit 0.
forms=$(printf '%s\n' "$all_help" | grep -oE '^ +trawl [a-z-]+( [a-z][a-z-]*)*' | sed 's/^ *trawl //' | sort -u)
expect_eq "trawl help has at least 30 forms" 1 "$([ "$(printf '%s\n' "$forms" | wc -l)" -ge 30 ] && echo 1)"
while read -r form; do
  c=${form%% *}
  for h in --help -h; do
    # shellcheck disable=SC2086
    out=$("$TRAWL" $form $h 2>"$T/err"); st=$?
    if [ "$st" = 0 ] && [[ $out == "usage: trawl $c"* && $out == *"trawl $form"* ]]; then
      ok "trawl $form $h: usage naming it, exit 0"
    else not_ok "trawl $form $h: usage naming it, exit 0" "status $st" "$out" "$(cat "$T/err")"; fi
  done
  # shellcheck disable=SC2086
  expect_eq "trawl help $form is trawl $form --help" "$("$TRAWL" $form --help 2>&1)" "$("$TRAWL" help $form 2>&1)"
done <<< "$forms"
for args in "verify $T/nope --help" "sandbox-check --json --help" "repo add $T/other --help" \
    "user add bob -h" "ls -d $T/nope --help" "search -d $T/nope -i --help"; do
  # shellcheck disable=SC2086
  out=$("$TRAWL" $args 2>"$T/err"); st=$?
  case "$st:$out" in "0:usage: trawl ${args%% *}"*) ok "trawl $args: usage, exit 0";;
    *) not_ok "trawl $args: usage, exit 0" "status $st" "$out" "$(cat "$T/err")";; esac
done
expect_status "help of an unknown subcommand is an error" 2 "$TRAWL" help repo nosuch
expect_eq "which names it" 1 "$(grep -c 'trawl repo has no subcommand "nosuch"' "$T/.err")"
for f in -e --branch --worktree --max-file-size --json --allow-local --sync-interval --skipped; do
  case $all_help in *"$f"*) ok "trawl help lists $f";; *) not_ok "trawl help lists $f" "$all_help";; esac
done
# Each long option a subcommand parses (its getopt table, or repo's own loop) is in its usage
# (commands that share a file: in one of their usages).
for pair in index:cmd_index.c search:cmd_search.c ls:cmd_verify.c repo:cmd_repo.c sync:cmd_sync.c serve:cmd_serve.c \
    user:cmd_user.c group:cmd_group.c grant,revoke,access:cmd_access.c token:cmd_token.c audit:cmd_audit.c backup:cmd_backup.c db:cmd_db.c \
    sandbox-check:cmd_sandbox.c; do
  c=${pair%%:*}; usage=""; for x in ${c//,/ }; do usage+=$("$TRAWL" help "$x" 2>&1); done
  missing=""
  for o in $(grep -oE '\{ "[a-z-]+", (no|required)_argument|strn?cmp\(a, "--[a-z-]+' "$SRC/${pair#*:}" | grep -oE '"-*[a-z-]+' | tr -d '"' | sed 's/^-*//' | sort -u); do
    case $usage in *"--$o"*) ;; *) missing="$missing --$o";; esac
  done
  expect_eq "trawl help $c names every option it takes" "" "$missing"
done
"$TRAWL" repo add --name x --branch -h --data "$T/nodata" "$T/other" >/dev/null 2>"$T/err"; st=$?
case "$st:$(cat "$T/err")" in "2:"*"--branch: not a valid branch name"*) ok "repo add --branch -h is a branch value, not help";; *) not_ok "repo add --branch -h is a branch value, not help" "status $st" "$(cat "$T/err")";; esac
expect_status "help of an unknown command is an error" 2 "$TRAWL" help nosuch
expect_status "no command at all is an error" 2 "$TRAWL"

finish
