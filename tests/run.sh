#!/usr/bin/env bash
# Runs every test of one build: the cmocka unit tests, the fuzz corpus replays, and the
# end-to-end tests (tests/e2e/test_*.sh and test_*.py, which print TAP lines). Ends with the line
# "N passed, N failed" and exits non-zero if anything failed.
#
#   BUILD=release|asan tests/run.sh [FILTER]   (FILTER: run only tests whose path contains it)
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-release}
out=build/$build
filter=${1:-}
export TRAWL=$PWD/$out/trawl
export TRAWL_BUILD=$build
# Tests use their own compiled-pattern cache, created empty, so they also exercise filling it.
export TRAWL_CACHE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trawl-cache.XXXXXX")
trap 'rm -rf "$TRAWL_CACHE_DIR"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$out/test-logs
mkdir -p "$log"

passed=0 failed=0
failures=()

record() { # name status count_pass count_fail
  passed=$((passed + $3)); failed=$((failed + $4))
  if [ "$2" != 0 ] || [ "$4" != 0 ]; then
    failures+=("$1")
    [ "$4" = 0 ] && failed=$((failed + 1))
  fi
}

run_unit() {
  local bin=$1 name f p n
  name=${bin#"$out"/}
  "$bin" >"$log/${name//\//_}.log" 2>&1
  local st=$?
  # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:".
  p=$(grep -ao '\[  PASSED  \] [0-9]*' "$log/${name//\//_}.log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -ao '\[  FAILED  \] [0-9]* test' "$log/${name//\//_}.log" | awk '{s+=$4} END {print s+0}')
  printf '%-50s %s passed, %s failed\n' "$name" "$p" "$f"
  [ "$st" != 0 ] && [ "$f" = 0 ] && { echo "  exit status $st; see $log/${name//\//_}.log"; tail -n 20 "$log/${name//\//_}.log"; }
  [ "$f" != 0 ] && grep -a 'FAILED\|ERROR\|Failure\|error:' "$log/${name//\//_}.log" | head -n 20
  record "$name" "$st" "$p" "$f"
}

run_replay() {
  local bin=$1 target corpus
  target=${bin##*/replay_}
  corpus=tests/fuzz/corpus/$target
  [ -d "$corpus" ] || { printf '%-50s no corpus\n' "fuzz/$target"; return; }
  if "$bin" "$corpus" >"$log/replay_$target.log" 2>&1; then
    printf '%-50s %s inputs replayed\n' "fuzz/$target" "$(find "$corpus" -type f | wc -l)"
    record "fuzz/$target" 0 1 0
  else
    printf '%-50s FAILED\n' "fuzz/$target"; tail -n 20 "$log/replay_$target.log"
    record "fuzz/$target" 1 0 1
  fi
}

run_e2e() {
  local t=$1 name p f st
  name=${t#tests/}
  case $t in
    *.py) python3 "$t" >"$log/${name//\//_}.log" 2>&1 ;;
    *) bash "$t" >"$log/${name//\//_}.log" 2>&1 ;;
  esac
  st=$?
  p=$(grep -ac '^ok ' "$log/${name//\//_}.log")
  f=$(grep -a '^not ok ' "$log/${name//\//_}.log" | grep -vc '# TODO')
  printf '%-50s %s passed, %s failed\n' "$name" "$p" "$f"
  if [ "$f" != 0 ] || [ "$st" != 0 ]; then
    grep -a -A6 '^not ok ' "$log/${name//\//_}.log" | head -n 60
    [ "$f" = 0 ] && tail -n 20 "$log/${name//\//_}.log"
  fi
  record "$name" "$st" "$p" "$f"
}

echo "== unit tests ($build)"
for bin in $(find "$out/tests/unit" -type f -perm -u+x 2>/dev/null | sort); do
  [[ -z $filter || $bin == *"$filter"* ]] && run_unit "$bin"
done
echo "== fuzz corpus replay ($build)"
for bin in $(find "$out/tests/fuzz" -type f -name 'replay_*' -perm -u+x 2>/dev/null | sort); do
  [[ -z $filter || $bin == *"$filter"* ]] && run_replay "$bin"
done
echo "== end-to-end tests ($build)"
for t in $(ls tests/e2e/test_*.sh tests/e2e/test_*.py 2>/dev/null | sort); do
  [[ -z $filter || $t == *"$filter"* ]] && run_e2e "$t"
done

echo "== browser tests ($build)"
[[ -z $filter || tests/browser/run.sh == *"$filter"* ]] && TRAWL=$PWD/$out/trawl run_e2e tests/browser/run.sh

echo
if ((${#failures[@]})); then
  echo "failing: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
