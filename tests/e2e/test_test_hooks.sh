#!/usr/bin/env bash
# The test hooks (TRAWL_TEST_WORKER_PAUSE/SYSCALL/READ, TRAWL_SYNC_CMD, TRAWL_TEST_CTAGS) exist only in the test
# binary trawl-test (docs/internals/testing.md, "The test binary"): the release trawl does not
# hold their names and a sync with each of them set behaves as without it, while the same
# variables change what trawl-test does. tests/e2e/test_serve.py shows the release server
# ignoring TRAWL_SYNC_CMD.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }
[ -x "$TRAWL_TEST" ] || { echo "not ok 1 - the test binary is not at $TRAWL_TEST (run make)"; exit 1; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE
unset TRAWL_TEST_WORKER_PAUSE TRAWL_TEST_WORKER_SYSCALL TRAWL_TEST_WORKER_READ TRAWL_SYNC_CMD
sync_fixture

# The release binary and its server module hold none of the names; the test binary and its
# server module (trawl-serve-test.so, which trawl-test loads) hold each.
release_files=("$TRAWL" "$(dirname "$TRAWL")/trawl-serve.so")
test_files=("$TRAWL_TEST" "$(dirname "$TRAWL_TEST")/trawl-serve-test.so")
for v in TRAWL_TEST_WORKER_PAUSE TRAWL_TEST_WORKER_SYSCALL TRAWL_TEST_WORKER_READ \
  TRAWL_TEST_WORKER_FETCH_READ TRAWL_TEST_WORKER_FETCH_WRITE TRAWL_TEST_WORKER_FETCH_LINK TRAWL_SYNC_CMD \
  TRAWL_TEST_CTAGS; do
  expect_eq "the release binary and server module do not hold the name $v" 0 \
    "$(cat "${release_files[@]}" | grep -c -a "$v")"
  expect_eq "the test binary or its server module does" 1 \
    "$(cat "${test_files[@]}" | grep -c -a -m1 "$v")"
done

check "repo add" "$TRAWL" repo add --data "$D" --allow-local "$T/src" --name r1
check "first sync" "$TRAWL" sync --data "$D"

# A paused worker would never end: the release sync must complete by itself. `timeout` only
# ends a run that failed the test, so that the test itself ends.
commit "second version"
expect_status "release: TRAWL_TEST_WORKER_PAUSE=index has no effect, the sync completes" 0 \
  env TRAWL_TEST_WORKER_PAUSE=index timeout 120 "$TRAWL" sync --data "$D" r1
expect_eq "and indexed the new commit" "r1/a.txt:1:second version" "$(search second)"
expect_eq "no worker said it paused" 0 "$(grep -c paused "$T/.err")"
commit "third version"
expect_status "release: TRAWL_TEST_WORKER_PAUSE=fetch has no effect" 0 \
  env TRAWL_TEST_WORKER_PAUSE=fetch timeout 120 "$TRAWL" sync --data "$D" r1
commit "fourth version"
expect_status "release: TRAWL_TEST_WORKER_SYSCALL=index has no effect (no forbidden call)" 0 \
  env TRAWL_TEST_WORKER_SYSCALL=index "$TRAWL" sync --data "$D" r1
expect_eq "and indexed the new commit" "r1/a.txt:1:fourth version" "$(search fourth)"
commit "fifth version"
expect_status "release: TRAWL_TEST_WORKER_READ has no effect" 0 \
  env TRAWL_TEST_WORKER_READ=/etc/passwd "$TRAWL" sync --data "$D" r1
expect_eq "no test read was made" 0 "$(grep -c 'test read' "$T/.err")"

# The same variables do act in the test binary (so the checks above can fail).
commit "sixth version"
expect_status "trawl-test: TRAWL_TEST_WORKER_SYSCALL=index kills the index worker" 2 \
  env TRAWL_TEST_WORKER_SYSCALL=index "$TRAWL_TEST" sync --data "$D" r1
expect_eq "by the sandbox" 1 "$(grep -c 'killed by the sandbox: denied system call socket' "$T/.err")"
expect_status "trawl-test: TRAWL_TEST_WORKER_READ makes a test read" 0 \
  env TRAWL_TEST_WORKER_READ=/etc/passwd "$TRAWL_TEST" sync --data "$D" r1
expect_eq "said on its standard error" 1 "$(grep -c 'test read /etc/passwd' "$T/.err")"
finish
