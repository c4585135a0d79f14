#!/usr/bin/env bash
# Incremental re-indexing benchmark (issue 4): the full index time of the Linux source as a git
# repository, then the re-index time after a commit that changes one file. Target: the re-index
# takes at most 5% of the full index.
#
#   bench/incremental.sh            (TRAWL=BIN to measure another binary; RUNS=N full runs)
#
# The cached corpus (../shared/bench/corpus.sh --git) is never modified: the commit is made in a
# scratch bare clone under bench/work/incremental/ (a local clone, objects hard-linked, no
# alternates), with git plumbing (no work tree, no checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
trawl=${TRAWL:-build/trawl}
runs=${RUNS:-2}
[ "${TRAWL:-}" ] || make -j2 >/dev/null
corpus=$(../shared/bench/corpus.sh --git)
work=bench/work/incremental
rm -rf "$work"
mkdir -p "$work"
scratch=$work/linux.git
git clone -q --bare "$corpus" "$scratch"
ref=$(git --git-dir="$scratch" symbolic-ref HEAD)

secs() { # command... -> wall seconds of one run
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

best_full=
for ((i = 0; i < runs; i++)); do
  rm -rf "$work/ix"
  t=$(secs "$trawl" index -q -o "$work/ix" "$scratch")
  echo "full index, run $((i + 1)): ${t}s" >&2
  if [ -z "$best_full" ] || [ "$(echo "$t < $best_full" | bc)" = 1 ]; then best_full=$t; fi
done

# One commit changing one file (kernel/pid.c), made with plumbing in the scratch clone.
export GIT_INDEX_FILE=$PWD/$work/index GIT_DIR=$PWD/$scratch
git read-tree HEAD
git cat-file blob HEAD:kernel/pid.c > "$work/pid.c"
printf '/* trawl incremental benchmark %s */\n' "$(date +%s)" >> "$work/pid.c"
blob=$(git hash-object -w "$work/pid.c")
git update-index --cacheinfo "100644,$blob,kernel/pid.c"
tree=$(git write-tree)
commit=$(git -c user.name=bench -c user.email=bench@localhost commit-tree "$tree" -p HEAD -m "one file")
git update-ref "$ref" "$commit"
unset GIT_INDEX_FILE GIT_DIR

out=$work/reindex.out
t0=$(date +%s.%N); "$trawl" index -o "$work/ix" "$scratch" > "$out"; t1=$(date +%s.%N)
reindex=$(echo "$t1 - $t0" | bc)
cat "$out" >&2
grep -q '^incremental ' "$out" || { echo "incremental.sh: the re-index was not incremental" >&2; exit 1; }
found=$("$trawl" search -d "$work/ix" -F -e 'trawl incremental benchmark' | wc -l)
[ "$found" = 1 ] || { echo "incremental.sh: the changed line is not found ($found)" >&2; exit 1; }
ratio=$(echo "scale=2; 100 * $reindex / $best_full" | bc)
printf 'full index (best of %d): %.2f s\nre-index after a one-file commit: %.3f s\nratio: %s%% (target <= 5%%)\n' \
  "$runs" "$best_full" "$reindex" "$ratio"
