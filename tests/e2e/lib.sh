# Helpers for end-to-end tests written in bash: TAP output and temporary directories.
# Source it; $TRAWL is the binary under test (tests/run.sh sets it).
set -u
: "${TRAWL:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/release/trawl}"
[ -x "$TRAWL" ] || { echo "not ok 1 - trawl binary not found at $TRAWL (run make)"; exit 1; }
# $TRAWL_TEST: the same build with its test hooks (TRAWL_TEST_WORKER_*, TRAWL_SYNC_CMD).
: "${TRAWL_TEST:=${TRAWL%/*}/trawl-test}"
T=$(mktemp -d "${TMPDIR:-/tmp}/trawl-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# check DESC CMD...: passes when CMD exits 0.
check() { local d=$1; shift; if "$@" >"$T/.out" 2>&1; then ok "$d"; else not_ok "$d" "command: $*" "$(head -c 2000 "$T/.out")"; fi; }

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected: $(printf '%q' "$2")" "actual:   $(printf '%q' "$3")"; fi
}

# expect_status DESC STATUS CMD...: passes when CMD exits with STATUS.
expect_status() {
  local d=$1 want=$2 got; shift 2
  "$@" >"$T/.out" 2>"$T/.err"; got=$?
  if [ "$got" = "$want" ]; then ok "$d"; else not_ok "$d" "exit status $got, expected $want: $*" "$(head -c 1000 "$T/.err")"; fi
}

finish() { echo "1..$n"; [ "$fails" = 0 ]; exit $?; }

# git with a fixed identity and default branch, for fixture repositories.
g() { git -c user.name=t -c user.email=t@t -c init.defaultBranch=main "$@"; }

# The sync tests' fixture: the working directory $T, the data directory D=$T/data, a local
# repository $T/src with a.txt ("first version") committed; commit TEXT replaces a.txt and
# commits it, search QUERY searches D's index.
sync_fixture() {
  cd "$T" || exit 1
  D=$T/data
  g init -q src
  echo "first version" > src/a.txt
  g -C src add a.txt && g -C src commit -qm one
  commit() { echo "$1" > src/a.txt; g -C src commit -qam "$1"; }
  search() { "$TRAWL" search -d "$D/index" "$1" 2>/dev/null; }
}
