#!/usr/bin/env bash
# trawl sync of many small local git repositories (the "Sync at scale" target: `trawl sync` of
# 5,000 unchanged local repositories in at most 30 s): for each count N, the wall time of the
# first sync and of a sync where nothing changed, with --jobs 1 and with the default (twice the
# online CPUs, at most 16). Results: bench/sync-many.md.
#
#   bench/sync-many.sh [N...]       (default 200 1000; TRAWL=BIN another binary;
#                                    JOBS="1 default" the --jobs values; FIRST=0 skips first syncs
#                                    with --jobs 1 for counts above 1000)
#
# Each repository is a tiny git repository (three files, one commit) made by git plumbing under
# bench/work/sync-many/src/, added with --allow-local; each --jobs value has its own DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
trawl=${TRAWL:-$PWD/build/release/trawl}
[ "${TRAWL:-}" ] || make -j2 >/dev/null
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(200 1000)
jobs_list=${JOBS:-"1 default"}
work=$PWD/bench/work/sync-many
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA

secs() { # command... -> wall seconds of one run (its output dropped; its status ignored)
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

# make_repos N: repositories src/r1..rN (kept between runs: only the missing ones are made).
make_repos() {
  local i
  mkdir -p "$work/src"
  for i in $(seq "$1"); do
    [ -d "$work/src/r$i" ] && continue
    git init -q "$work/src/r$i"
    printf 'repository %s\n' "$i" > "$work/src/r$i/README"
    printf 'int f_%s(int x) { return x + %s; }\n' "$i" "$i" > "$work/src/r$i/f.c"
    printf 'def g_%s():\n    return %s\n' "$i" "$i" > "$work/src/r$i/g.py"
    git -C "$work/src/r$i" add . 
    git -C "$work/src/r$i" -c user.name=b -c user.email=b@b commit -qm one
  done
}

printf '| repositories | --jobs | first sync (s) | unchanged sync (s) | per repository, unchanged (ms) |\n'
printf '|---|---|---|---|---|\n'
for n in "${counts[@]}"; do
  make_repos "$n"
  for j in $jobs_list; do
    data=$work/data-$n-$j
    rm -rf "$data"
    for i in $(seq "$n"); do
      "$trawl" repo add --data "$data" --allow-local "$work/src/r$i" --name "r$i" >/dev/null
    done
    opt=()
    [ "$j" = default ] || opt=(--jobs "$j")
    if [ "$j" = 1 ] && [ "$n" -gt 1000 ] && [ "${FIRST:-1}" = 0 ]; then
      first=-
      "$trawl" sync --data "$data" >/dev/null 2>&1 || true
    else
      first=$(secs "$trawl" sync --data "$data" "${opt[@]}")
    fi
    unchanged=$(secs "$trawl" sync --data "$data" "${opt[@]}")
    printf '| %s | %s | %s | %s | %.1f |\n' "$n" "$j" "$first" "$unchanged" \
      "$(echo "$unchanged * 1000 / $n" | bc -l)"
    rm -rf "$data"
  done
done
