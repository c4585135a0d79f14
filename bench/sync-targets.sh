#!/usr/bin/env bash
# Issue 16's sync targets for N small local repositories (bench/sync-many.md), in one run:
#   - clone time: `git clone --mirror` of the N repositories one after another;
#   - one repository: the first `trawl sync` of one repository holding the same files (N
#     directories of the three files each), and `trawl index` of it (the index time alone);
#   - N repositories: the first `trawl sync` (default --jobs), then one where nothing changed,
#     and the index's shard files after each.
# Targets: unchanged <= 30 s for 5,000; first sync <= 2 x the one-repository index time + the
# clone time.
#
#   bench/sync-targets.sh [N]    (default 5000; TRAWL=BIN another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
trawl=${TRAWL:-$PWD/build/release/trawl}
[ "${TRAWL:-}" ] || make -j2 >/dev/null
n=${1:-5000}
work=$PWD/bench/work/sync-many
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA

secs() { # command... -> wall seconds of one run (its output dropped; it must succeed)
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
g() { git -c user.name=b -c user.email=b@b "$@"; }

mkdir -p "$work/src"
for i in $(seq "$n"); do # the repositories of bench/sync-many.sh
  [ -d "$work/src/r$i" ] && continue
  g init -q "$work/src/r$i"
  printf 'repository %s\n' "$i" > "$work/src/r$i/README"
  printf 'int f_%s(int x) { return x + %s; }\n' "$i" "$i" > "$work/src/r$i/f.c"
  printf 'def g_%s():\n    return %s\n' "$i" "$i" > "$work/src/r$i/g.py"
  g -C "$work/src/r$i" add . && g -C "$work/src/r$i" commit -qm one
done
one=$work/one-$n # the same files as one repository
if [ ! -d "$one" ]; then
  mkdir -p "$one"
  for i in $(seq "$n"); do
    mkdir -p "$one/r$i" && cp "$work/src/r$i/README" "$work/src/r$i/f.c" "$work/src/r$i/g.py" "$one/r$i/"
  done
  g init -q "$one" && g -C "$one" add . && g -C "$one" commit -qm one
fi

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$work/clones" && mkdir -p "$work/clones"
clone=$(secs bash -c "for i in \$(seq $n); do git clone -q --mirror '$work/src/r'\$i '$work/clones/r'\$i.git || exit 1; done")
rm -rf "$work/clones"

d1=$work/data-one-$n; rm -rf "$d1"
"$trawl" repo add --data "$d1" --allow-local "$one" --name one >/dev/null
one_sync=$(secs "$trawl" sync --data "$d1")
rm -rf "$work/ix-one"
one_index=$(secs "$trawl" index -o "$work/ix-one" "$one")
rm -rf "$d1" "$work/ix-one"

dn=$work/data-$n; rm -rf "$dn"
ls "$work/src" | sort -V | head -n "$n" | sed "s|^|$work/src/|" > "$work/list-$n"
while read -r p; do "$trawl" repo add --data "$dn" --allow-local "$p" --name "${p##*/}" >/dev/null; done < "$work/list-$n"
first=$(secs "$trawl" sync --data "$dn")
files_first=$(find "$dn/index" -maxdepth 1 -name '*.shard' | wc -l)
unchanged=$(secs "$trawl" sync --data "$dn")
files_after=$(find "$dn/index" -maxdepth 1 -name '*.shard' | wc -l)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '| | seconds |\n|---|---|\n'
printf '| git clone --mirror of the %s repositories, one after another | %.1f |\n' "$n" "$clone"
printf '| one repository of the same files: first trawl sync | %.1f |\n' "$one_sync"
printf '| one repository: trawl index | %.1f |\n' "$one_index"
printf '| %s repositories: first trawl sync (%s shard files after) | %.1f |\n' "$n" "$files_first" "$first"
printf '| %s repositories: unchanged trawl sync (%s shard files) | %.1f |\n' "$n" "$files_after" "$unchanged"
printf '| first-sync target: 2 x %.1f + %.1f | %.1f |\n' "$one_index" "$clone" "$(echo "2 * $one_index + $clone" | bc)"
rm -rf "$dn"
