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
finish
