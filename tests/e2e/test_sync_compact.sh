#!/usr/bin/env bash
# trawl sync packs small repositories into shared (compound) shards (build/compact.h,
# docs/operations.md "Shared shards"): after a sync that changed the index, the repositories
# are one file, searched as before (each one's files, its branches, its symbols); a repository
# that changes leaves the file (indexed in full into a shard of its own, never reading the
# others' text), a removed one's documents are never found again, and once at most half of a
# file is still listed its repositories are packed again and the file is deleted.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_TEST_WORKER_PAUSE TRAWL_TEST_WORKER_SYSCALL
cd "$T" || exit 1
D=$T/data
N=12
mk() { # mk I VERSION: repository src/rI's files at VERSION
  printf 'marker_%s_v%s in a text file\n' "$1" "$2" > "src/r$1/a.txt"
  printf 'int function_%s(void) { return %s; }\n' "$1" "$2" > "src/r$1/b.c"
}
for i in $(seq "$N"); do
  g init -q "src/r$i" && mk "$i" 1
  g -C "src/r$i" add . && g -C "src/r$i" commit -qm one
done
# r7 has a second branch, indexed too.
g -C src/r7 checkout -qb dev && echo "only_on_dev_7" > src/r7/dev.txt
g -C src/r7 add . && g -C src/r7 commit -qm dev && g -C src/r7 checkout -q main
shards() { find "$D/index" -maxdepth 1 -name '*.shard' | wc -l; }
markers() { "$TRAWL" search --data "$D" 'marker_' 2>&1 | sort; }
want() { for i in "$@"; do echo "r$i/a.txt:1:marker_${i}_v$(cat "$T/v$i") in a text file"; done | sort; }
for i in $(seq "$N"); do echo 1 > "$T/v$i"; done

ok_add=1
for i in $(seq "$N"); do
  if [ "$i" = 7 ]; then br=(--branch main --branch dev); else br=(); fi
  "$TRAWL" repo add --data "$D" --allow-local "$T/src/r$i" --name "r$i" "${br[@]}" >/dev/null || ok_add=0
done
expect_eq "12 repositories registered" 1 "$ok_add"
check "first sync" "$TRAWL" sync --data "$D"
expect_eq "... packs them into one file" 1 "$(grep -c '^packed 12 repositories into 1 shared shard file (they had 12)$' "$T/.out")"
expect_eq "one shard file in the index" 1 "$(shards)"
check "verify" "$TRAWL" verify "$D/index"
expect_eq "... names it compound" 1 "$(grep -c '(compound: 12 repositories' "$T/.out")"
expect_eq "every repository's files are found, each once" "$(want $(seq "$N"))" "$(markers)"
expect_eq "repo: filters" "r4/b.c:1:int function_4(void) { return 1; }" \
  "$("$TRAWL" search --data "$D" 'repo:^r4$ function_')"
expect_eq "a second branch stays searchable" "r7@dev/dev.txt:1:only_on_dev_7" \
  "$("$TRAWL" search --data "$D" 'repo:r7@dev only_on_dev')"
expect_eq "... and off the default branch" "" "$("$TRAWL" search --data "$D" 'only_on_dev' 2>/dev/null)"
if command -v ctags >/dev/null; then
  expect_eq "symbols are kept" 1 "$("$TRAWL" ls -d "$D/index" --symbols function_9 | grep -c '^r9/b.c:1')"
else
  ok "# SKIP universal-ctags is not installed"
fi
expect_status "unchanged: no index worker, nothing packed" 0 \
  env TRAWL_TEST_WORKER_SYSCALL=index "$TRAWL_TEST" sync --data "$D"
expect_eq "... nothing packed" 0 "$(grep -c '^packed' "$T/.out")"

# A change: the repository is indexed in full into a shard of its own.
# SECURITY: its index worker may not read the shared file (the others' text).
shared=$(ls "$D/index"/*.shard)
mk 3 2 && g -C src/r3 commit -qam two && echo 2 > "$T/v3"
TRAWL_TEST_WORKER_READ=$shared "$TRAWL_TEST" sync --data "$D" >"$T/.out" 2>"$T/.err"
expect_eq "a repository changes: synced" 0 "$?"
expect_eq "... its index worker cannot read the shared file" 1 \
  "$(grep -c "^trawl: index worker: test read $shared: Permission denied$" "$T/.err")"
expect_eq "... indexed in full (not incrementally over the shared file)" 1 \
  "$(grep -c '^synced r3: main at [0-9a-f]* (2 files, 0 skipped)$' "$T/.out")"
expect_eq "... then packed again with the others (the shared file is small)" 1 \
  "$(grep -c '^packed 12 repositories into 1 shared shard file (they had 2)$' "$T/.out")"
expect_eq "... one file" 1 "$(shards)"
expect_eq "its new text is found, its old text not" "$(want $(seq "$N"))" "$(markers)"
check "verify" "$TRAWL" verify "$D/index"

# A removal: its documents stay in the file, never found.
check "repo remove r8" "$TRAWL" repo remove --data "$D" r8
expect_eq "its files are no longer found" "$(want 1 2 3 4 5 6 7 9 10 11 12)" "$(markers)"
expect_eq "... not even by name" "" "$("$TRAWL" search --data "$D" 'repo:r8 marker' 2>/dev/null)"

# Several change: packed again with the others, the files before deleted.
for i in 1 2 4 5 6; do mk "$i" 2 && g -C "src/r$i" commit -qam two && echo 2 > "$T/v$i"; done
first=$(ls "$D/index"/*.shard)
check "five more change" "$TRAWL" sync --data "$D"
expect_eq "... all packed again into one file" 1 "$(grep -c '^packed 11 repositories into 1 shared shard file (they had 6)$' "$T/.out")"
expect_eq "one shard file in the index" 1 "$(shards)"
gone=0; for f in $first; do [ -e "$f" ] || gone=$((gone + 1)); done
expect_eq "the files before are all deleted" "$(echo "$first" | wc -l)" "$gone"
expect_eq "every repository's text is found" "$(want 1 2 3 4 5 6 7 9 10 11 12)" "$(markers)"
expect_eq "the second branch still" "r7@dev/dev.txt:1:only_on_dev_7" \
  "$("$TRAWL" search --data "$D" 'repo:r7@dev only_on_dev')"
check "verify" "$TRAWL" verify "$D/index"
finish
