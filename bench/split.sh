#!/usr/bin/env bash
# The split-corpus benchmark (issue 16): the same content as one repository and as many small
# ones, side by side in one run. The Linux source's files are hard-linked (copied when the
# corpus is on another file system) into N directories of consecutive files, each indexed as
# its own repository.
#
#   bench/split.sh [--repos N]
#
#   --repos N     how many repositories to split into (default 5000)
#   CORPUS=DIR    corpus to use instead of the Linux source from ../shared/bench/corpus.sh
#   TRAWL=BIN     trawl binary to use (default: $repo/build/release/trawl)
#   QUERY=WORD    the selective query (default kvm_vcpu_ioctl_set_cpuid2)
#
# Measures `trawl index --worktree` wall and CPU time, the index's size against the content's,
# and a selective `trawl search` (wall time and peak RSS, best of 5) on both indexes; then
# serves both at once and measures each server's RSS when idle (index loaded and verified) and
# after the queries, and the latency of selective queries through /api/v1/search, sent to the
# two servers in turn (ROUNDS rounds, so both see the same machine load): p50 and p99 each.
# Writes bench/split-N.md. The split and the indexes go to bench/work/ (not kept in git).
#
#   ROUNDS=100     rounds of the server queries
#   SERVER_QUERIES="kvm_vcpu_ioctl_set_cpuid2 ..."   the server's selective queries
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
work=$here/work
n_repos=5000
while (($#)); do
  case $1 in
    --repos) n_repos=${2:?--repos needs a number}; shift 2 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "split.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $n_repos =~ ^[1-9][0-9]*$ ]] || { echo "split.sh: --repos must be a positive number" >&2; exit 2; }
trawl=${TRAWL:-$repo/build/release/trawl}
query=${QUERY:-kvm_vcpu_ioctl_set_cpuid2}
corpus=${CORPUS:-$("$repo/../shared/bench/corpus.sh" | tail -1)}
[[ -x $trawl ]] || { echo "split.sh: no trawl binary at $trawl (make first)" >&2; exit 2; }
[[ -d $corpus ]] || { echo "split.sh: no corpus at $corpus" >&2; exit 2; }

mkdir -p "$work"
split=$work/split-$n_repos
if [[ ! -e $split.complete ]]; then
  rm -rf "$split"
  python3 "$here/split_corpus.py" "$corpus" "$split" "$n_repos"
  touch "$split.complete"
fi

content=$(du -sb --apparent-size "$corpus" | cut -f1)
# One row: label, wall s, CPU s, index bytes, query ms, query peak RSS KiB.
measure() {
  local label=$1 ix=$2; shift 2
  rm -rf "$ix"
  local t
  t=$( { /usr/bin/time -f '%e %U %S' "$trawl" index -q --worktree -o "$ix" "$@" >/dev/null; } 2>&1 | tail -1)
  local wall cpu size best=999999 rss=0
  wall=$(awk '{print $1}' <<<"$t")
  cpu=$(awk '{printf "%.1f", $2 + $3}' <<<"$t")
  size=$(du -sb "$ix" | cut -f1)
  for _ in 1 2 3 4 5; do
    local q ms kb
    q=$( { /usr/bin/time -f '%e %M' "$trawl" search -d "$ix" "$query" >/dev/null; } 2>&1 | tail -1)
    ms=$(awk '{printf "%d", $1 * 1000}' <<<"$q")
    kb=$(awk '{print $2}' <<<"$q")
    ((ms < best)) && best=$ms && rss=$kb
  done
  printf '| %s | %s | %s | %s (%.2fx content) | %s | %s |\n' "$label" "$wall" "$cpu" \
    "$(numfmt --to=iec "$size")" "$(bc -l <<<"$size / $content")" "$best" "$((rss / 1024))"
}

rows=$(measure "one repository" "$work/ix-one" "$corpus")
# The directories as a list: 50,000 of them are more than a command line holds.
(cd "$split" && printf "$split/%s\n" r*) > "$split.list"
rows+=$'\n'$(measure "$n_repos repositories" "$work/ix-split-$n_repos" --paths-from "$split.list")

# Both indexes served at once, each from a DATA of its own with the index linked in.
serve_one() { # DATA INDEX: starts a server, prints its port and pid
  local data=$1 ix=$2
  rm -rf "$data"; mkdir -p "$data"; ln -s "$ix" "$data/index"
  "$trawl" serve --data "$data" --listen 127.0.0.1:0 --sync-interval 0 > "$data.out" 2> "$data.log" &
  local pid=$! port=
  for _ in $(seq 600); do
    port=$(grep -ho '127.0.0.1:[0-9]*' "$data.out" "$data.log" 2>/dev/null | head -1 | sed 's/.*://' || true)
    [ -n "$port" ] && { curl -sf "http://127.0.0.1:$port/healthz" || true; } | grep -q '"index":true' && break
    sleep 0.2
  done
  echo "$port $pid"
}
read -r port1 pid1 < <(serve_one "$work/sd-one" "$work/ix-one")
read -r port2 pid2 < <(serve_one "$work/sd-split-$n_repos" "$work/ix-split-$n_repos")
trap 'kill $pid1 $pid2 2>/dev/null' EXIT
server_rows=$(python3 - "$port1" "$pid1" "$port2" "$pid2" "${ROUNDS:-100}" \
  ${SERVER_QUERIES:-kvm_vcpu_ioctl_set_cpuid2 sys_pidfd_open lockdep_assert_held_write CONFIG_DEBUG_ATOMIC_SLEEP} <<'PY'
import sys, time, urllib.parse, urllib.request
p1, pid1, p2, pid2, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
queries = sys.argv[6:]
def rss(pid):
    # The server runs as one process (and its sandboxed children): the main one's resident set.
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0
idle = {p1: rss(pid1), p2: rss(pid2)}
lat = {(p, q): [] for p in (p1, p2) for q in queries}
for _ in range(rounds):
    for q in queries:
        for p in (p1, p2):
            url = "http://127.0.0.1:%s/api/v1/search?q=%s" % (p, urllib.parse.quote(q))
            t = time.perf_counter()
            urllib.request.urlopen(url).read()
            lat[(p, q)].append((time.perf_counter() - t) * 1000)
def pct(v, f):
    v = sorted(v)
    return v[min(len(v) - 1, int(f * len(v)))]
for q in queries:
    a, b = lat[(p1, q)], lat[(p2, q)]
    print("| `%s` | %.2f / %.2f | %.2f / %.2f | %.2fx / %.2fx |" % (
        q, pct(a, .5), pct(a, .99), pct(b, .5), pct(b, .99), pct(b, .5) / pct(a, .5),
        pct(b, .99) / pct(a, .99)))
print("| server RSS MiB, idle / after the queries | %d / %d | %d / %d | %.2fx / %.2fx |" % (
    idle[p1], rss(pid1), idle[p2], rss(pid2), idle[p2] / idle[p1], rss(pid2) / rss(pid1)))
PY
)
kill $pid1 $pid2 2>/dev/null
{
  echo "# Split corpus: one repository against $n_repos"
  echo
  echo "\`bench/split.sh --repos $n_repos\` on $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg),"
  echo "trawl $(git -C "$repo" rev-parse --short HEAD), content $(numfmt --to=iec "$content") ($corpus)."
  echo
  echo "| index | wall s | CPU s | index size | \`trawl search $query\` ms (best of 5) | its peak RSS MiB |"
  echo "|---|---|---|---|---|---|"
  echo "$rows"
  echo
  echo "Both indexes served at once; /api/v1/search latency in ms (p50 / p99), the two servers queried in"
  echo "turn, ${ROUNDS:-100} rounds:"
  echo
  echo "| query | one repository | $n_repos repositories | ratio |"
  echo "|---|---|---|---|"
  echo "$server_rows"
} > "$here/split-$n_repos.md"
cat "$here/split-$n_repos.md"
