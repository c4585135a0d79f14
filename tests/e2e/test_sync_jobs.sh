#!/usr/bin/env bash
# trawl sync --jobs N (docs/operations.md, "Syncing many repositories"): many small local
# repositories synced one at a time and four at a time give the same index (the same search
# results) and the same registry; a repository that fails among them fails alone; every line
# is whole; the workers that run at once hold only their own descriptors; sync --due syncs
# only what is due (store/due.h); the progress line shows on a terminal only.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE TRAWL_TEST_WORKER_PAUSE
cd "$T" || exit 1
N=24
for i in $(seq "$N"); do
  g init -q "src/r$i"
  echo "marker_$i in a text file" > "src/r$i/a.txt"
  printf 'int function_%s(void) { return %s; }\n' "$i" "$i" > "src/r$i/b.c"
  g -C "src/r$i" add . && g -C "src/r$i" commit -qm one
done

mkdir src/missing # not a git repository: its fetch fails
# add DATA: the same repositories, in the same order, and one whose fetch fails.
add() {
  for i in $(seq "$N"); do
    "$TRAWL" repo add --data "$1" --allow-local "$T/src/r$i" --name "r$i" >/dev/null || return 1
    if [ "$i" = 12 ]; then
      "$TRAWL" repo add --data "$1" --allow-local "$T/src/missing" --name broken >/dev/null || return 1
    fi
  done
}
# The registry without its times: name, state, counts, branches and commits, error.
registry() {
  "$TRAWL" repo list --json --data "$1" | python3 -c '
import json, sys
for r in sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["name"]):
    print(r["name"], r["state"], r["files"], r["skipped_count"], r["index_bytes"],
          sorted((b["name"], b["commit"]) for b in r["branches"]),
          (r["last_error"] or "").split(":")[0])'
}
searches() {
  for q in marker_1 marker_17 function_ 'lang:c return' 'repo:r2 file'; do
    "$TRAWL" search --data "$1" "$q" 2>&1 | sort
  done
}

if add "$T/d1" && add "$T/d4"; then ok "24 repositories and a broken one are registered twice"
else not_ok "24 repositories and a broken one are registered twice"; fi
expect_status "sync --jobs 1: the broken one fails the sync" 2 "$TRAWL" sync --data "$T/d1" --jobs 1
cp "$T/.out" "$T/out1"; cp "$T/.err" "$T/err1"
expect_status "sync --jobs 4: the same" 2 "$TRAWL" sync --data "$T/d4" --jobs 4
cp "$T/.out" "$T/out4"; cp "$T/.err" "$T/err4"

expect_eq "--jobs 4 says synced for every good one" "$N" "$(grep -c '^synced ' "$T/out4")"
bad=$(grep -Evc -e '^synced r[0-9]+: main at [0-9a-f]{12} \(2 files, 0 skipped\), new mirror$' \
  -e '^packed 24 repositories into 1 shared shard file \(they had 24\)$' "$T/out4")
expect_eq "... every line whole" 0 "$bad"
expect_eq "... the broken one is the one error" "trawl: broken: fetch" \
  "$(grep -v -e '^$' -e 'under a sanitizer' "$T/err4" | sed 's/: [^:]*$//' | cut -d: -f1-3 | sort -u)"
expect_eq "the same lines as --jobs 1, in another order" "$(sort "$T/out1")" "$(sort "$T/out4")"
reg1=$(registry "$T/d1"); reg4=$(registry "$T/d4")
expect_eq "the same registry" "$reg1" "$reg4"
expect_eq "... every good one indexed, the broken one in error" "$N indexed, 1 error" \
  "$(grep -c ' indexed ' <<<"$reg4") indexed, $(grep -c ' error ' <<<"$reg4") error"
s1=$(searches "$T/d1"); s4=$(searches "$T/d4")
expect_eq "the same search results" "$s1" "$s4"
expect_eq "... which find every repository" "$N" "$("$TRAWL" search --data "$T/d4" -l function_ | wc -l)"

# Changes in three of them: the next sync re-indexes those and leaves the rest.
for i in 3 9 20; do echo "changed_$i" > "src/r$i/a.txt"; g -C "src/r$i" commit -qam two; done
expect_status "a second sync --jobs 4 (the broken one waits out its backoff)" 0 "$TRAWL" sync --data "$T/d4" --jobs 4
expect_eq "the three changed are re-indexed" "r20 r3 r9" \
  "$(grep '^synced' "$T/.out" | grep -v ', unchanged$' | cut -d: -f1 | cut -c8- | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "... the others unchanged" "$((N - 3))" "$(grep -c ', unchanged$' "$T/.out")"
expect_eq "... the broken one skipped" 1 "$(grep -c '^skipped broken: ' "$T/.out")"
expect_eq "... the new text is found" "r9/a.txt:1:changed_9" "$("$TRAWL" search --data "$T/d4" changed_9 2>/dev/null)"
check "the same sync --jobs 1" "$TRAWL" sync --data "$T/d1" --jobs 1
expect_eq "the same search results again" "$(searches "$T/d1")" "$(searches "$T/d4")"
expect_eq "the same registry again" "$(registry "$T/d1")" "$(registry "$T/d4")"

# --due: nothing is due right after a sync; a new repository is.
expect_status "sync --due right after a sync" 0 "$TRAWL" sync --data "$T/d4" --due
expect_eq "... syncs nothing" "0 of $((N + 1)) repositories due" "$(grep -v '^skipped broken' "$T/.out")"
g init -q src/new && echo "new_marker" > src/new/a.txt && g -C src/new add . && g -C src/new commit -qm one
check "a repository added" "$TRAWL" repo add --data "$T/d4" --allow-local "$T/src/new" --name new
expect_status "sync --due" 0 "$TRAWL" sync --data "$T/d4" --due
expect_eq "... syncs the new one only (and packs it with the others)" \
  "1 of $((N + 2)) repositories due|synced new|packed $((N + 1)) repositories into 1 shared shard file (they had 2)" \
  "$(grep -v '^skipped broken' "$T/.out" | cut -d: -f1 | tr '\n' '|' | sed 's/|$//')"
expect_status "--due with a name is refused" 2 "$TRAWL" sync --data "$T/d4" --due new
expect_status "--jobs 0 is refused" 2 "$TRAWL" sync --data "$T/d4" --jobs 0
expect_status "a minimum above the maximum is refused" 2 "$TRAWL" sync --data "$T/d4" --due --min-interval 2h --max-interval 1h

# Progress: on a terminal, counts on standard error; never in a pipe or a file.
python3 - "$TRAWL" "$T/d1" > "$T/pty.out" 2>&1 <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "sync", "--data", sys.argv[2], "--retry", "--jobs", "2"])
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
PY
if grep -q "sync: $((N + 1))/$((N + 1)) done, 1 failed, $N unchanged" "$T/pty.out" ||
   grep -Eq "sync: [0-9]+/$((N + 1)) done, [01] failed, [0-9]+ unchanged, [0-9]+ running" "$T/pty.out"; then
  ok "on a terminal sync shows its progress"
else
  not_ok "on a terminal sync shows its progress" "$(head -c 1500 "$T/pty.out" | cat -v)"
fi
expect_eq "... and erased at the end" "" \
  "$(python3 -c 'import sys; print(open(sys.argv[1]).read().split("\x1b[K")[-1].count("done,") or "")' "$T/pty.out")"
"$TRAWL" sync --data "$T/d1" --retry --jobs 2 >"$T/np.out" 2>"$T/np.err"
expect_eq "without a terminal no progress" "" "$(grep -l 'done,\|ETA' "$T/np.out" "$T/np.err")"
script -qc "$TRAWL sync --data $T/d1 --retry --jobs 2 --no-progress" /dev/null >"$T/nq.out" 2>&1 </dev/null
expect_eq "--no-progress on a terminal: none" "" "$(grep -l 'done,' "$T/nq.out")"

# Workers running at once: each holds its standard descriptors and its two pipes, nothing of
# another's (the test binary's TRAWL_TEST_WORKER_PAUSE stops every fetch worker once confined).
if [ -x "$TRAWL_TEST" ]; then
  TRAWL_TEST_WORKER_PAUSE=fetch "$TRAWL_TEST" sync --data "$T/d1" --jobs 3 >"$T/p.out" 2>"$T/p.err" &
  sync_pid=$!
  pids=""
  for _ in $(seq 200); do
    pids=$(for p in $(cat /proc/"$sync_pid"/task/*/children 2>/dev/null); do
      tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q "^trawl worker fetch " && echo "$p"; done)
    [ "$(wc -w <<<"$pids")" = 3 ] && [ "$(grep -c paused "$T/p.err")" = 3 ] && break
    sleep 0.1
  done
  expect_eq "--jobs 3 runs three fetch workers at once" 3 "$(wc -w <<<"$pids")"
  fds="" pipes=""
  for p in $pids; do
    fds="$fds$(ls /proc/"$p"/fd | sort -n | tr '\n' ' ')|"
    pipes="$pipes $(for f in 2 3; do readlink /proc/"$p"/fd/$f; done)"
  done
  expect_eq "... each with descriptors 0 to 3 only" "0 1 2 3 |0 1 2 3 |0 1 2 3 |" "$fds"
  expect_eq "... and pipes of its own" 6 "$(tr ' ' '\n' <<<"$pipes" | grep -c 'pipe:' )"
  expect_eq "... no pipe shared" 6 "$(tr ' ' '\n' <<<"$pipes" | grep 'pipe:' | sort -u | wc -l)"
  kill -9 "$sync_pid"; wait "$sync_pid" 2>/dev/null
  for p in $pids; do for _ in $(seq 50); do [ -e /proc/"$p" ] || break; sleep 0.1; done; done
  gone=0; for p in $pids; do [ -e /proc/"$p" ] || gone=$((gone + 1)); done
  expect_eq "... and they end with the sync" 3 "$gone"
fi
finish
