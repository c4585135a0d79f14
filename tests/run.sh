#!/usr/bin/env bash
# Runs every test of one build: the cmocka unit tests, the fuzz corpus replays, and the
# end-to-end tests (tests/e2e/test_*.sh and test_*.py, which print TAP lines). Runs JOBS tests
# at a time, each with its output in its own log in build/BUILD/test-logs/, and prints one
# result line a test with its duration, in a fixed order whatever finishes first (unit, fuzz,
# end-to-end, browser; by name within each). Then the ten slowest tests and the failing ones
# with their logs, and last the line "N passed, N failed"; exits non-zero if anything failed.
#
#   BUILD=release|asan|tsan JOBS=N tests/run.sh [FILTER...]
#       (FILTER: run only tests whose path contains one of them)
#   TRAWL_TEST_CACHE_DIR=DIR tests/run.sh   the compiled-pattern cache DIR (kept) rather than
#       a new empty one (removed at the end): how CI's ASan run reuses its release run's.
#   VALGRIND=1 tests/run.sh tests/unit/   every unit test under Valgrind memcheck (unit tests
#       only: a wrapped end-to-end test would check its Python, not trawl). A unit test whose
#       source has a line "valgrind: no (WHY)" among its first 20 lines is left out there.
#   BUILD=asan: an end-to-end or browser test whose first 20 lines hold "asan: no (WHY)" is
#       left out of a run without FILTER (CI's 30 minutes: docs/internals/testing-ci.md); named
#       by a FILTER, it runs.
#
# BUILD=tsan: every process's ThreadSanitizer report goes to test-logs/tsan.PID (a server's
# stderr is a file its test may never show), and any such report fails the run, whatever the
# exit status of the process that wrote it; tests/tsan.supp lists the third-party ones ignored.
#
# JOBS: the number of processors by default, at most 4 (every end-to-end test runs a server
# and its clients: more would only queue them behind one another). JOBS=1 runs one test at a
# time, in the order of the results. A test file with a line "# serial: WHY" among its first 20
# lines runs alone once the others are done: one that compares timings, or that loads the
# machine on purpose. Tests side by side share only the compiled-pattern cache (made to be
# shared): servers listen on ports the kernel picks, and each test makes its own directories.
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-release}
out=build/$build
filters=("$@")
valgrind=${VALGRIND:-0}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: JOBS must be a number from 1 up, not '$jobs'" >&2; exit 2; }
((jobs > 4)) && jobs=4
export TRAWL=$PWD/$out/trawl
# The test binary: trawl with the test hooks the release one lacks (docs/internals/testing.md).
export TRAWL_TEST=$PWD/$out/trawl-test
export TRAWL_BUILD=$build
# Tests use their own compiled-pattern cache, created empty, so they also exercise filling it;
# TRAWL_TEST_CACHE_DIR names one to use instead, left in place: CI's ASan run reuses the one
# its release run filled (docs/internals/testing-ci.md). A test that needs a cold cache makes
# its own (test_server_sandbox.py) or turns it off (test_matcher.c).
if [ -n "${TRAWL_TEST_CACHE_DIR:-}" ]; then
  export TRAWL_CACHE_DIR=$TRAWL_TEST_CACHE_DIR
  # A cap the release run cannot outgrow (it stores about 111 MB today, under the default 256
  # MiB): a sweep would remove its oldest entries, and the ASan run compile those again.
  export TRAWL_CACHE_MAX_MB=${TRAWL_CACHE_MAX_MB:-8192}
  mkdir -p "$TRAWL_CACHE_DIR" || exit 2
  own_cache=
else
  export TRAWL_CACHE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trawl-cache.XXXXXX")
  own_cache=$TRAWL_CACHE_DIR
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
# The ASan pass of test_diff_rg.py runs the hard-case corpus (made to reach the search core's
# edge cases) and not /usr/include (the release pass compares both with rg): /usr/include's
# cases are most of its ~250 s under ASan, and CI's 30 minutes (docs/internals/testing-ci.md).
# TRAWL_DIFF_INCLUDE=/usr/include brings them back.
if [ "$build" = asan ]; then
  export TRAWL_DIFF_INCLUDE=${TRAWL_DIFF_INCLUDE-}
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Python tests import each other's modules: no __pycache__ left in tests/e2e.
export PYTHONDONTWRITEBYTECODE=1
log=$out/test-logs
# Valgrind's durations are not the build's: its own logs, so that they do not reorder a run.
((valgrind)) && log=$out/test-logs-valgrind
mkdir -p "$log"
if [ "$build" = tsan ]; then
  rm -f "$log"/tsan.*
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$PWD/$log/tsan:suppressions=$PWD/tests/tsan.supp}
fi
# --error-exitcode: an invalid read, use of an uninitialised value or a definite leak fails the
# test; reachable and possibly-lost blocks (libraries' global state) do not.
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes --suppressions=tests/valgrind.supp)
# Test I leaves its result lines in $res/I.out, "status passed failed" in $res/I.counts (none
# for a fuzz target without a corpus) and its duration in ms in $res/I.ms, written last.
res=$(mktemp -d "${TMPDIR:-/tmp}/trawl-results.XXXXXX")

# Each test runs in a process group of its own, so that a stopped run can end the servers and
# browsers its tests started.
set -m
stop_all() {
  local pid pids
  pids=$(jobs -p)
  set +m  # no job notices from here on
  for pid in $pids; do kill -TERM -- "-$pid" 2>/dev/null; done
  wait
  rm -rf ${own_cache:+"$own_cache"} "$res"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the list: kind[I] (unit, replay, e2e), path[I], name[I], logf[I], serial[I]; items
# holds the section headers ("h:TEXT") and tests ("t:I") in the order they are printed.
kind=() path=() name=() logf=() serial=() items=()
add() { # KIND PATH NAME LOG
  local i=${#kind[@]}
  kind+=("$1") path+=("$2") name+=("$3") logf+=("$4") serial+=(0)
  [ "$1" = e2e ] && head -n 20 "$2" | grep -q '^# serial' && serial[i]=1
  items+=("t:$i")
}
wanted() {
  local f
  ((${#filters[@]})) || return 0
  for f in "${filters[@]}"; do [[ $1 == *"$f"* ]] && return 0; done
  return 1
}

items+=("h:== unit tests ($build)")
for bin in $(find "$out/tests/unit" -type f -perm -u+x 2>/dev/null | sort); do
  n=${bin#"$out"/}
  wanted "$bin" || continue
  # Under Valgrind: not a test that runs this program again as a helper (see the header).
  ((valgrind)) && head -n 20 "$n.c" 2>/dev/null | grep -q 'valgrind: no' && continue
  add unit "$bin" "$n" "$log/${n//\//_}.log"
done
items+=("h:== fuzz corpus replay ($build)")
for bin in $(find "$out/tests/fuzz" -type f -name 'replay_*' -perm -u+x 2>/dev/null | sort); do
  n=${bin##*/replay_}
  wanted "$bin" && add replay "$bin" "fuzz/$n" "$log/replay_$n.log"
done
items+=("h:== end-to-end tests ($build)")
# Whether test t stays out of this run: under ASan without FILTER, an "asan: no" line says so.
asan_skips() {
  [ "$build" = asan ] && ((${#filters[@]} == 0)) && head -n 20 "$1" | grep -q 'asan: no'
}
for t in $(ls tests/e2e/test_*.sh tests/e2e/test_*.py 2>/dev/null | sort); do
  n=${t#tests/}
  wanted "$t" && ! asan_skips "$t" && add e2e "$t" "$n" "$log/${n//\//_}.log"
done
items+=("h:== browser tests ($build)")
wanted tests/browser/run.sh && ! asan_skips tests/browser/run.sh &&
  add e2e tests/browser/run.sh browser/run.sh "$log/browser_run.sh.log"

# ---- one test: run_KIND I prints the result line and, on failure, the lines that say why.
run_unit() {
  local i=$1 l=${logf[$1]} f p st
  if ((valgrind)); then
    "${vg[@]}" "${path[i]}" >"$l" 2>&1
  else
    "${path[i]}" >"$l" 2>&1
  fi
  st=$?
  # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:".
  p=$(grep -ao '\[  PASSED  \] [0-9]*' "$l" | awk '{s+=$4} END {print s+0}')
  f=$(grep -ao '\[  FAILED  \] [0-9]* test' "$l" | awk '{s+=$4} END {print s+0}')
  printf '%-50s %s passed, %s failed\n' "${name[i]}" "$p" "$f"
  echo "$st $p $f" >"$res/$i.counts"
  [ "$st" != 0 ] && [ "$f" = 0 ] && { echo "  exit status $st; see $l"; tail -n 20 "$l"; }
  [ "$f" != 0 ] && grep -a 'FAILED\|ERROR\|Failure\|error:' "$l" | head -n 20
}

run_replay() {
  local i=$1 l=${logf[$1]} corpus=tests/fuzz/corpus/${name[$1]#fuzz/}
  [ -d "$corpus" ] || { printf '%-50s no corpus\n' "${name[i]}"; return; }
  if "${path[i]}" "$corpus" >"$l" 2>&1; then
    printf '%-50s %s inputs replayed\n' "${name[i]}" "$(find "$corpus" -type f | wc -l)"
    echo "0 1 0" >"$res/$i.counts"
  else
    printf '%-50s FAILED\n' "${name[i]}"; tail -n 20 "$l"
    echo "1 0 1" >"$res/$i.counts"
  fi
}

run_e2e() {
  local i=$1 l=${logf[$1]} p f st
  case ${path[i]} in
    *.py) python3 "${path[i]}" >"$l" 2>&1 ;;
    *) bash "${path[i]}" >"$l" 2>&1 ;;
  esac
  st=$?
  p=$(grep -ac '^ok ' "$l")
  f=$(grep -a '^not ok ' "$l" | grep -vc '# TODO')
  printf '%-50s %s passed, %s failed\n' "${name[i]}" "$p" "$f"
  echo "$st $p $f" >"$res/$i.counts"
  if [ "$f" != 0 ] || [ "$st" != 0 ]; then
    grep -a -A6 '^not ok ' "$l" | head -n 60
    [ "$f" = 0 ] && tail -n 20 "$l"
  fi
}

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
seconds() { printf '%d.%ds' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# Starts test I in the background; its duration is added to the end of its result line.
running=0
start() {
  local i=$1
  (
    t0=$(now_ms)
    "run_${kind[i]}" "$i" </dev/null >"$res/$i.body"
    ms=$(($(now_ms) - t0))
    sed "1s/\$/ ($(seconds "$ms"))/" "$res/$i.body" >"$res/$i.out"
    echo "$ms" >"$res/$i.ms"
  ) &
  running=$((running + 1))
}

# Waits until fewer than $1 tests run.
wait_below() {
  while ((running >= $1)); do
    wait -n
    running=$((running - 1))
    flush
  done
}

passed=0 failed=0 failures=() took=() printed=0
record() { # I status count_pass count_fail
  passed=$((passed + $3)); failed=$((failed + $4))
  if [ "$2" != 0 ] || [ "$4" != 0 ]; then
    failures+=("$1")
    [ "$4" = 0 ] && failed=$((failed + 1))
  fi
}

# Prints the results of finished tests in list order, up to the first test still running.
flush() {
  local it i st p f
  while ((printed < ${#items[@]})); do
    it=${items[printed]}
    if [[ $it == h:* ]]; then
      echo "${it#h:}"
    else
      i=${it#t:}
      [ -e "$res/$i.ms" ] || return 0
      cat "$res/$i.out"
      if [ -e "$res/$i.counts" ]; then
        read -r st p f <"$res/$i.counts"
        record "$i" "$st" "$p" "$f"
      fi
      took+=("$(cat "$res/$i.ms") ${name[i]}")
    fi
    printed=$((printed + 1))
  done
}

# ---- the run. With JOBS > 1 the tests that took longest last time start first, so that
# none of them is left running alone at the end. The times are kept in test-logs/durations of
# this build, else of another (the asan run of CI then follows the release run's). A test
# without a time counts as slow if it runs a browser, then if it is an end-to-end test.
durations=$log/durations
declare -A last=()
for f in "$durations" build/*/test-logs/durations; do
  [ -r "$f" ] || continue
  while read -r ms n; do [[ $ms =~ ^[0-9]+$ ]] && last[$n]=$ms; done <"$f"
  break
done
order() {
  local i ms
  for i in "${!kind[@]}"; do
    ((serial[i])) && continue
    ms=${last[${name[i]}]:-}
    if [ -z "$ms" ]; then
      case ${name[i]} in browser/*) ms=2000000000 ;; e2e/*) ms=1000000000 ;; *) ms=0 ;; esac
    fi
    echo "$ms $i"
  done | sort -k1,1nr -k2,2n | cut -d' ' -f2
}

if ((jobs == 1)); then
  for i in "${!kind[@]}"; do start "$i"; wait_below 1; done
else
  for i in $(order); do wait_below "$jobs"; start "$i"; done
  wait_below 1
  for i in "${!kind[@]}"; do ((serial[i])) && { start "$i"; wait_below 1; }; done
fi
# A test whose runner was killed left no result: it counts as a failure, not as nothing.
for i in "${!kind[@]}"; do
  [ -e "$res/$i.ms" ] && continue
  printf '%-50s no result (its runner was killed)\n' "${name[i]}" >"$res/$i.out"
  echo "1 0 0" >"$res/$i.counts"
  echo 0 >"$res/$i.ms"
done
flush

for t in "${took[@]}"; do last[${t#* }]=${t%% *}; done
for n in "${!last[@]}"; do echo "${last[$n]} $n"; done | sort -k2 >"$durations"

echo
if ((${#took[@]})); then
  echo "slowest:"
  printf '%s\n' "${took[@]}" | sort -k1,1nr | head -n 10 | while read -r ms n; do
    printf '  %8s  %s\n' "$(seconds "$ms")" "$n"
  done
fi
if ((${#failures[@]})); then
  echo "failing:"
  for i in "${failures[@]}"; do printf '  %-50s %s\n' "${name[i]}" "${logf[i]}"; done
fi
# A ThreadSanitizer report fails the run even when the process that wrote it exited 0 or was
# a server whose exit status no test checks.
reports=()
[ "$build" = tsan ] && for f in "$log"/tsan.*; do [ -e "$f" ] && reports+=("$f"); done
if ((${#reports[@]})); then
  echo "ThreadSanitizer reports (${#reports[@]}):"
  for f in "${reports[@]}"; do echo "== $f"; head -n 60 "$f"; done
  failed=$((failed + ${#reports[@]}))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
