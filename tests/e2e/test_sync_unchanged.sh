#!/usr/bin/env bash
# trawl sync of a repository whose fetch moved nothing (docs/git.md, "What sync skips"): no
# index worker starts when the mirror's references are what they were and the index holds
# what the last sync recorded; it does start after a new commit, a change of the remote's
# default branch, a failed index step, a changed symbols setting or a damaged shard, and then
# indexes what the mirror holds. trawl-test's TRAWL_TEST_WORKER_SYSCALL=index makes any index
# worker that starts break its sandbox's rule (and the sync fail): a sync that passes under it
# started none.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

sync_fixture
unset TRAWL_TEST_WORKER_PAUSE TRAWL_TEST_WORKER_SYSCALL
no_index() { TRAWL_TEST_WORKER_SYSCALL=index "$TRAWL_TEST" sync --data "$D" "$@"; }
killed() { grep -c 'index worker killed by the sandbox' "$T/.err"; }

check "repo add" "$TRAWL" repo add --data "$D" --allow-local src
check "first sync" "$TRAWL" sync --data "$D"
expect_status "unchanged: no index worker" 0 no_index
expect_eq "... said unchanged" 1 "$(grep -c '^synced src: main at [0-9a-f]\{12\} (1 files, 0 skipped), unchanged$' "$T/.out")"
expect_eq "... the registry's counts and state stay" "indexed 1" \
  "$("$TRAWL" repo list --json --data "$D" | python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(r["state"], r["files"])')"

# The hook is no test of anything unless a worker that does start breaks it.
commit "second version"
expect_status "a new commit: the index worker starts" 2 no_index
expect_eq "... and is killed by the hook" 1 "$(killed)"
expect_eq "... the old version is still served" "src/a.txt:1:first version" "$(search version)"
# The fetch of the failed sync brought the commit: this fetch moves nothing, but the last
# index step failed, so the index worker runs.
check "after a failed index step: indexed although the fetch moves nothing" \
  "$TRAWL" sync --data "$D" --retry
expect_eq "... the new commit is searched" "src/a.txt:1:second version" "$(search version)"
expect_status "... then unchanged again" 0 no_index

# The remote's default branch changes without any branch moving: HEAD is a reference too.
g -C src branch other
expect_status "a new branch (not indexed, but a reference)" 2 no_index
check "its sync" "$TRAWL" sync --data "$D" --retry
expect_status "unchanged again" 0 no_index
g -C src symbolic-ref HEAD refs/heads/other
expect_status "the default branch changes: the index worker starts" 2 no_index
expect_eq "... and is killed by the hook" 1 "$(killed)"
check "its sync" "$TRAWL" sync --data "$D" --retry
expect_eq "... the branch indexed is the new default" 1 "$(grep -c '^synced src: other at ' "$T/.out")"
expect_status "unchanged again" 0 no_index

# What the index holds must be what the last sync recorded.
if command -v ctags >/dev/null; then
  check "repo set --no-symbols" "$TRAWL" repo set src --no-symbols --data "$D"
  expect_status "a changed symbols setting: the index worker starts" 2 no_index --retry
  check "its sync" "$TRAWL" sync --data "$D" --retry
  expect_status "unchanged again" 0 no_index
else
  ok "# SKIP universal-ctags is not installed"; ok "# SKIP"; ok "# SKIP"; ok "# SKIP"
fi
shard=$(find "$D/index" -name "*.shard" | head -1)
printf 'x' | dd of="$shard" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_status "a damaged shard: the repository is indexed again in full" 2 no_index --retry
expect_eq "... by an index worker (killed by the hook)" 1 "$(killed)"
check "its sync" "$TRAWL" sync --data "$D" --retry
expect_eq "... searched again" "src/a.txt:1:second version" "$(search version)"
check "verify" "$TRAWL" verify "$D/index"
expect_status "unchanged again" 0 no_index
finish
