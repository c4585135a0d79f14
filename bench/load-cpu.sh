#!/usr/bin/env bash
# Server CPU per query: for each selective query of bench/load.sh (one at a time, then all in
# rotation), wrk sends it for a few seconds and the CPU time the `trawl serve` process used is
# divided by the requests answered. Unlike queries/s, this hardly depends on what else the
# machine runs, so it tells whether a change made a query cheaper.
#
#   bench/load.sh CORPUS_DIR      (first: builds the index and the query list in bench/work/load)
#   bench/load-cpu.sh             (SECONDS_PER=4 CONNS=2 TRAWL=build/trawl; AUTH=token: with the
#                                  API token of AUTH=token bench/load.sh)
#
# Both mixes of load.sh (the regex one, then the keyword one), or PATHS=FILE: /api/v1/search
# paths of one's own, one a line. INDEX=DIR: serve that index, as load.sh's INDEX=.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
work=$here/work/load
per=${SECONDS_PER:-4}
conns=${CONNS:-2}
trawl=${TRAWL:-$repo/build/trawl}
[ -f "$work/paths" ] && { [ -n "${INDEX:-}" ] || [ -f "$work/data/index/MANIFEST" ]; } ||
  { echo "load-cpu.sh: run bench/load.sh CORPUS_DIR first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "load-cpu.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

data=$work/data
if [ -n "${INDEX:-}" ]; then
  data=$work/cpu-data-index
  rm -rf "$data"
  mkdir -p "$data"
  ln -s "$(cd "$INDEX" && pwd)" "$data/index"
fi
args=()
auth_hdr=()
if [ "${AUTH:-}" = token ]; then
  # The DATA with accounts and the token that bench/load.sh AUTH=token made.
  [ -f "$work/token" ] || { echo "load-cpu.sh: run AUTH=token bench/load.sh CORPUS_DIR first" >&2; exit 2; }
  data=$work/data-auth
  TRAWL_LOAD_TOKEN=$(cat "$work/token")
  export TRAWL_LOAD_TOKEN
  auth_hdr=(-H "Authorization: Bearer $TRAWL_LOAD_TOKEN")
  args=(--rate-search 0 --user-max-searches 4096)
fi
"$trawl" serve --data "$data" --listen 127.0.0.1:0 --sync-interval 0 "${args[@]}" \
  > "$work/cpu-server.out" 2> "$work/cpu-server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
# Up to a minute: the server opens (and checks) the whole index first, slow on a busy machine.
for _ in $(seq 600); do grep -q serving "$work/cpu-server.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/cpu-server.out" | head -1)
url=${url%/}
[ -n "$url" ] || { echo "load-cpu.sh: the server did not start" >&2; exit 1; }
if [ -n "${PATHS:-}" ]; then
  lists=("$PATHS")
else
  lists=("$work/paths")
  [ -f "$work/paths-keyword" ] && lists+=("$work/paths-keyword")
fi
for list in "${lists[@]}"; do
  while read -r p; do curl -sf "${auth_hdr[@]}" -o /dev/null "$url$p"; done < "$list"
done

tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
measure() { # paths-file label
  local c0 c1 n
  c0=$(cpu)
  n=$(TRAWL_LOAD_PATHS=$1 wrk -t1 -c"$conns" -d"${per}s" -s "$here/load.lua" "$url" |
    awk '/requests in/ {print $1}')
  c1=$(cpu)
  awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$tck" -v l="$2" \
    'BEGIN { printf "%-40s %7d requests  %.3f ms CPU each\n", l, n, (b - a) * 1000 / t / n }'
}
for list in "${lists[@]}"; do
  i=0
  while read -r p; do
    i=$((i + 1))
    echo "$p" > "$work/cpu-one"
    measure "$work/cpu-one" "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1].split("q=", 1)[1]))' "$p")"
  done < "$list"
  measure "$list" "all $i in rotation"
done
