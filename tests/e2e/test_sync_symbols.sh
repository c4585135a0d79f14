#!/usr/bin/env bash
# End-to-end tests of symbols in `trawl sync` (docs/internals/symbols.md, "In trawl sync"): the
# confined index worker gets its ctags from a launcher it forked before confining itself. A
# synced repository has symbols by default when universal-ctags is installed; a second sync
# extracts the changed file's only; `repo set --no-symbols|--symbols` re-indexes in full; a
# ctags that crashes (a fake, TRAWL_TEST_CTAGS, in trawl-test only) is started again and the
# files it failed on are listed, up to the give-up limit; the worker keeps its seccomp filter
# (no execve) while its ctags runs under the launcher, and all three die with the sync.
. "$(dirname "$0")/lib.sh"

sync_fixture
ls_sym() { "$TRAWL" ls -d "$D/index" --symbols "$@"; }
printf 'int alpha(void) { return 1; }\n' >src/alpha.c
printf 'int beta(void) { return 2; }\n' >src/beta.c
g -C src add -A && g -C src commit -qm code

check "repo add" "$TRAWL" repo add --data "$D" --allow-local src
expect_eq "status: on by default, ctags being installed" \
  "  symbols: on (the default: universal-ctags is installed)" \
  "$("$TRAWL" repo status --data "$D" src | grep '^  symbols:')"
expect_eq "status --json: the setting" "True default" \
  "$("$TRAWL" repo status --data "$D" --json src | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["symbols"], r["symbols_setting"])')"
check "sync" "$TRAWL" sync --data "$D"
expect_eq "the synced repository has symbols" \
  "$(printf 'src/alpha.c:1\tfunction\talpha\t\tC\t(void)')" "$(ls_sym alpha)"
expect_eq "every C file's" 1 "$(ls_sym beta | wc -l)"
expect_eq "nothing skipped" "" "$("$TRAWL" ls -d "$D/index" --skipped)"

# A change to one file: the incremental sync's new shard holds that file's symbols only.
printf 'int beta(void) { return 2; }\nint gamma(void) { return 3; }\n' >src/beta.c
g -C src commit -qam "beta grows"
check "second sync" "$TRAWL" sync --data "$D"
expect_eq "it was incremental" 1 "$(grep -c ', incremental$' "$T/.out")"
check "verify" "$TRAWL" verify "$D/index"
expect_eq "the new shard has the changed file's symbols only" 1 \
  "$(grep -c '^  symbols: 2 in 1 files; failed: 0' "$T/.out")"
expect_eq "the kept shard's stay" 1 "$(grep -c '^  symbols: 2 in 3 files; failed: 0' "$T/.out")"
expect_eq "the new symbol is found" 1 "$(ls_sym gamma | wc -l)"
expect_eq "the unchanged file's symbol is found once" 1 "$(ls_sym alpha | wc -l)"
expect_eq "the changed file's older symbol once" 1 "$(ls_sym beta | wc -l)"

# The setting: off, then on again, each time re-indexed in full (one shard).
check "repo set --no-symbols" "$TRAWL" repo set --data "$D" src --no-symbols
expect_eq "status: off" "  symbols: off" "$("$TRAWL" repo status --data "$D" src | grep '^  symbols:')"
check "sync without symbols" "$TRAWL" sync --data "$D"
expect_eq "no symbols left" "" "$(ls_sym)"
expect_eq "one shard: indexed again in full" 1 "$(ls "$D/index" | grep -c '^src-.*\.shard$')"
check "repo set --symbols" "$TRAWL" repo set --data "$D" src --symbols
check "sync with symbols" "$TRAWL" sync --data "$D"
expect_eq "the symbols are back, from a full run" "1 1 1" \
  "$(ls_sym alpha | wc -l) $(ls_sym gamma | wc -l) $(ls "$D/index" | grep -c '^src-.*\.shard$')"
expect_status "repo set with both --symbols and --no-symbols" 2 \
  "$TRAWL" repo set --data "$D" src --symbols --no-symbols
expect_status "repo list takes no --symbols" 2 "$TRAWL" repo list --data "$D" --symbols
check "repo add --no-symbols" "$TRAWL" repo add --data "$D" --allow-local --name quiet --no-symbols "$T/src"
expect_eq "its status says off" "  symbols: off" \
  "$("$TRAWL" repo status --data "$D" quiet | grep '^  symbols:')"

# Without universal-ctags (trawl-test: TRAWL_TEST_CTAGS naming a missing program) the default
# is off, and the status says why.
check "repo add with the default" "$TRAWL" repo add --data "$D" --allow-local --name plain "$T/src"
expect_eq "status: the default is off without ctags" \
  "  symbols: off (the default: universal-ctags is not installed at /usr/bin/ctags)" \
  "$(TRAWL_TEST_CTAGS=/nonexistent "$TRAWL_TEST" repo status --data "$D" plain | grep '^  symbols:')"
check "repo remove" "$TRAWL" repo remove --data "$D" plain

# A fake ctags (builtins of /bin/sh only: it may not start a program) that answers a tag named
# after each file and dies on a file whose name holds "crash".
cat >"$T/fake.sh" <<'EOF'
#!/bin/sh
echo '{"_type": "program", "name": "fake"}'
while read -r req; do
  size=${req##*\"size\":}; size=${size%\}}
  case "$req" in *crash*) kill -9 $$;; esac
  name=${req#*\"filename\":\"}; name=${name%%.*}
  got=0
  while [ "$got" -lt "$size" ] && IFS= read -r line; do got=$((got + ${#line} + 1)); done
  echo "{\"_type\": \"tag\", \"name\": \"fake_$name\", \"kind\": \"function\", \"line\": 1, \"language\": \"C\"}"
  echo '{"_type": "completed", "command": "generate-tags"}'
done
EOF
chmod +x "$T/fake.sh"
C=$T/crashy D2=$T/data2
mkdir -p "$C"
for f in a_one b_crash c_two d_three; do printf 'int %s;\n' "$f" >"$C/$f.c"; done
g -C "$C" init -q && g -C "$C" add -A && g -C "$C" commit -qm crashy
check "crash: repo add" "$TRAWL" repo add --data "$D2" --allow-local --name crashy "$C"
TRAWL_TEST_CTAGS=$T/fake.sh "$TRAWL_TEST" sync --data "$D2" >"$T/.out" 2>"$T/.err"
expect_eq "crash: the sync succeeds" 0 "$?"
expect_eq "crash: it says a file has no symbols" 1 \
  "$(grep -c '1 files without symbols because ctags failed' "$T/.err")"
expect_eq "crash: the files after the crash have theirs (ctags started again)" \
  "fake_a_one fake_c_two fake_d_three" \
  "$("$TRAWL" ls -d "$D2/index" --symbols | cut -f3 | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "crash: ls --skipped lists the file and why" \
  "$(printf 'crashy/b_crash.c\t%s\tindexed, no symbols: ctags crashed' "$(stat -c %s "$C/b_crash.c")")" \
  "$("$TRAWL" ls -d "$D2/index" --skipped)"
expect_eq "crash: repo status too" 1 \
  "$("$TRAWL" repo status --data "$D2" crashy | grep -c $'^  skipped crashy/b_crash.c\t[0-9]*\tindexed, no symbols: ctags crashed$')"
expect_eq "crash: its content is searched" 1 \
  "$("$TRAWL" search -d "$D2/index" -l 'int b_crash' | wc -l)"

# The give-up limit (CTAGS_MAX_FAILURES, 16 per indexing thread): then no more restarts. The
# incremental run's one new shard (one thread) holds 20 files that crash it.
for i in $(seq -w 1 20); do printf 'int x%s;\n' "$i" >"$C/crash$i.c"; done
g -C "$C" add -A && g -C "$C" commit -qm "more crashes"
TRAWL_TEST_CTAGS=$T/fake.sh "$TRAWL_TEST" sync --data "$D2" >"$T/.out" 2>"$T/.err"
expect_eq "limit: the sync succeeds" 0 "$?"
expect_eq "limit: 16 crashes (and the earlier one), then ctags given up for the other 4" "17 4" \
  "$("$TRAWL" ls -d "$D2/index" --skipped | grep -c 'ctags crashed$') $("$TRAWL" ls -d "$D2/index" --skipped | grep -c 'ctags unavailable$')"

# The processes: the worker under seccomp and no_new_privs, its launcher a child of it, ctags
# a child of the launcher; a kill -9 of the sync takes all three.
cat >"$T/spin.sh" <<'EOF'
#!/bin/sh
echo '{"_type": "program", "name": "fake"}'
read req
while :; do :; done
EOF
chmod +x "$T/spin.sh"
D3=$T/data3
check "tree: repo add" "$TRAWL" repo add --data "$D3" --allow-local --name spin "$T/src"
TRAWL_TEST_CTAGS=$T/spin.sh "$TRAWL_TEST" sync --data "$D3" >/dev/null 2>&1 &
spid=$! cp= lp= wp=
sh_exe=$(readlink -f /bin/sh)
for _ in $(seq 600); do
  for p in $(pgrep -f 'worker index'); do
    [ "$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = "$spid" ] || continue
    for l in $(pgrep -P "$p"); do
      for c in $(pgrep -P "$l"); do
        [ "$(readlink "/proc/$c/exe")" = "$sh_exe" ] && { cp=$c lp=$l wp=$p; }
      done
    done
  done
  [ -n "$cp" ] && break
  sleep 0.1
done
expect_eq "tree: worker -> launcher -> ctags seen" yes "$([ -n "$cp" ] && echo yes)"
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
expect_eq "tree: the worker runs under its seccomp filter" 2 "$(status_of "$wp" Seccomp)"
expect_eq "tree: the worker has no_new_privs" 1 "$(status_of "$wp" NoNewPrivs)"
expect_eq "tree: the launcher has no_new_privs" 1 "$(status_of "$lp" NoNewPrivs)"
expect_eq "tree: ctags runs under seccomp" 2 "$(status_of "$cp" Seccomp)"
# Beyond 0-2: its socket (3) and one pidfd per live ctags (how it signals them; never by pid).
lfds=$(for f in $(ls "/proc/$lp/fd" | sort -n); do
  case $f in 0|1|2) ;; 3) echo -n "socket " ;; *) t=$(readlink "/proc/$lp/fd/$f")
    [ "$t" = "anon_inode:[pidfd]" ] && echo -n "pidfd " || echo -n "$t " ;; esac; done)
expect_eq "tree: the launcher holds only its socket and its ctags' pidfds beyond 0-2" "ok" \
  "$(grep -Eq '^socket (pidfd )+$' <<<"$lfds" && echo ok || echo "$lfds")"
expect_eq "tree: the launcher and ctags keep no capability" "0000000000000000 0000000000000000" \
  "$(status_of "$lp" CapEff) $(status_of "$cp" CapEff)"
kill -9 "$spid"; wait "$spid" 2>/dev/null
gone() { ! [ -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
for _ in $(seq 100); do gone "$wp" && gone "$lp" && gone "$cp" && break; sleep 0.1; done
expect_eq "tree: worker, launcher and ctags die with the sync" "gone gone gone" \
  "$(for p in "$wp" "$lp" "$cp"; do gone "$p" && echo gone || echo alive; done | tr '\n' ' ' | sed 's/ $//')"

# The worker still may not execve, its launcher notwithstanding (a test hook of trawl-test).
TRAWL_TEST_WORKER_SYSCALL=index-execve "$TRAWL_TEST" sync --data "$D3" --retry >"$T/.out" 2>"$T/.err"
expect_eq "execve: the sync of the repository fails" 1 "$([ $? != 0 ] && echo 1)"
expect_eq "execve: the worker was killed by its filter" 1 \
  "$(grep -c 'index worker killed by the sandbox: denied system call execve' "$T/.err")"

# The release binary has no such hooks: its sync uses the real ctags.
check "release: sync with TRAWL_TEST_CTAGS set" env TRAWL_TEST_CTAGS="$T/spin.sh" "$TRAWL" sync --data "$D3" --retry
expect_eq "release: the real ctags made the symbols" 1 "$("$TRAWL" ls -d "$D3/index" --symbols alpha | wc -l)"

finish
