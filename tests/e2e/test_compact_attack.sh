#!/usr/bin/env bash
# Attacks on compaction (docs/internals/compaction.md) as a repository's index worker would see
# them. SECURITY: the worker of a repository packed into a shared (compound) shard must never
# be allowed to read that file, which holds the other repositories' text: drop_if_shared
# (cmd_worker.c) drops the old entry, and so the file's Landlock rule, when a file holds
# another repository. A file it cannot open (damaged, or shard_open failing for any reason)
# must count as shared: it was kept, and the confined worker could read the others' text
# (trawl-test's TRAWL_TEST_WORKER_READ says whether its read is allowed).
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_TEST_WORKER_PAUSE TRAWL_TEST_WORKER_SYSCALL
cd "$T" || exit 1
D=$T/data
for r in mine other; do
  g init -q "src/$r"
  echo "text of $r: ${r}_CANARY_7731" > "src/$r/a.txt"
  g -C "src/$r" add . && g -C "src/$r" commit -qm one
done
id=$("$TRAWL" repo add --data "$D" --allow-local "$T/src/mine" --name mine | sed -n 's/.*(id \([0-9]*\)).*/\1/p')
check "repo add other" "$TRAWL" repo add --data "$D" --allow-local "$T/src/other" --name other
check "sync" "$TRAWL" sync --data "$D"
expect_eq "both packed into one shared file" 1 "$(grep -c '^packed 2 repositories into 1 shared shard file' "$T/.out")"
shared=$(ls "$D"/index/*.shard)
expect_eq "... the only shard file" 1 "$(echo "$shared" | wc -l)"

# mine's index worker, as trawl sync starts it (its entry on descriptor 4, its messages on a
# pipe at 3), with the test read of the shared file.
worker() {
  rm -rf "$D/index/work/attack" && mkdir -p "$D/index/work/attack"
  TRAWL_TEST_WORKER_READ=$shared "$TRAWL_TEST" worker index --mirror "$D/repos/$id" \
    --index "$D/index" --work "$D/index/work/attack" --name mine --entry-fd \
    4<"$D/index/MANIFEST" 3> >(cat >/dev/null) 2>"$T/.err"
  grep -o "test read $shared: .*" "$T/.err"
}
expect_eq "the worker of a packed repository cannot read the shared file" \
  "test read $shared: Permission denied" "$(worker)"
cp "$shared" "$T/shared.bak"
printf 'XXXXXXXX' | dd of="$shared" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_eq "... nor when the shared file does not open (damaged)" \
  "test read $shared: Permission denied" "$(worker)"
cp "$T/shared.bak" "$shared"
rm -rf "$D/index/work/attack"
check "the index verifies again" "$TRAWL" verify "$D/index"

# A shared file damaged in other's text, then a sync of mine alone: mine's shard check finds
# the damage and indexes it again; other was not checked in this run. Compaction must not copy
# other's damaged text into a new file with good checksums, where no check finds it again.
off=$(grep -boa 'other_CANARY_7731' "$shared" | head -1 | cut -d: -f1)
printf 'X' | dd of="$shared" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect_status "the damage is found by verify" 2 "$TRAWL" verify "$D/index"
echo "text of mine: changed" > src/mine/a.txt && g -C src/mine commit -qam two
check "sync mine alone" "$TRAWL" sync --data "$D" mine
expect_eq "... mine is indexed again in full" 1 "$(grep -c '^synced mine: main at [0-9a-f]* (1 files, 0 skipped)$' "$T/.out")"
expect_status "the damage is still found by verify (not copied into a good file)" 2 \
  "$TRAWL" verify "$D/index"
expect_eq "other's damaged text is not packed into a new file" "" \
  "$("$TRAWL" search --data "$D" 'Xther_CANARY' 2>/dev/null)"
check "sync other" "$TRAWL" sync --data "$D" other
expect_eq "... its damage found and indexed again" "other/a.txt:1:text of other: other_CANARY_7731" \
  "$("$TRAWL" search --data "$D" 'other_CANARY' 2>/dev/null)"
check "the index verifies" "$TRAWL" verify "$D/index"
finish
