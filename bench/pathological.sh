#!/usr/bin/env bash
# The pathological-query suite: hostile query shapes (catastrophic backtracking, nested and huge
# counted repetitions, 10,000-way alternations, big Unicode classes under case folding, deep
# nesting, many OR terms, count:all on the commonest words), each with timeout:5s and with the
# default timeout, through the server's /api/v1/search and through `trawl search`, while
# /healthz is polled every 100 ms and the server's memory is sampled (bench/pathological.py).
# Each must be refused at parse time with a clear error or end within its timeout (+ 2 s) with
# partial results flagged; /healthz must answer in under 50 ms throughout and the server's
# anonymous memory stay under its baseline + RSS_CAP_MB. docs/security.md, "Hostile queries".
#
#   bench/pathological.sh [CORPUS_DIR]    (default: the Linux source, ../shared/bench/corpus.sh)
#
#   TRAWL=BIN        trawl binary (default build/release/trawl, built if missing)
#   CACHE=DIR        where the index is kept between runs (default ~/.cache/trawl-bench)
#   RSS_CAP_MB=256   the memory cap over the baseline
#
# Writes bench/work/pathological.md (the table) and exits 1 when a query failed its bound.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
corpus=${1:-$(bash "$repo/../shared/bench/corpus.sh")}
corpus=$(cd "$corpus" && pwd)
trawl=${TRAWL:-$repo/build/release/trawl}
cache=${CACHE:-$HOME/.cache/trawl-bench}/pathological
[ -x "$trawl" ] || make -C "$repo" -j2 >&2
mkdir -p "$cache" "$here/work"

# Index once per corpus (again when this trawl cannot read the kept index).
index_ok() {
  local st=0
  "$trawl" search -d "$cache/data/index" -c -e trawl_index_probe >/dev/null 2>&1 || st=$?
  [ "$st" -le 1 ]
}
if [ "$(cat "$cache/corpus" 2>/dev/null)" != "$corpus" ] || [ ! -f "$cache/data/index/MANIFEST" ] ||
   ! index_ok; then
  rm -rf "$cache/data"
  echo "pathological.sh: indexing $corpus into $cache (once)" >&2
  "$trawl" index -q -o "$cache/data/index" --name corpus --worktree "$corpus" 2>/dev/null ||
    "$trawl" index -q -o "$cache/data/index" --name corpus "$corpus"
  echo "$corpus" > "$cache/corpus"
fi

exec python3 "$here/pathological.py" "$trawl" "$cache/data" "$here/work/pathological.md" \
  "${RSS_CAP_MB:-256}"
