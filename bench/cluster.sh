#!/usr/bin/env bash
# The cluster benchmark (issue 18): the same content served by one process (role all) and by
# frontends over searchers, on this one machine, side by side in one run.
#
#   bench/cluster.sh [--repos N] [--searchers K] [--equal-only]
#
#   --repos N      split the corpus into N repositories of consecutive files (default 40)
#   --searchers K  searchers of the sharded cluster (default 4)
#   --equal-only   only compare the answers (below), print them, write nothing
#   CORPUS=DIR     corpus to use instead of the Linux source from ../shared/bench/corpus.sh
#   TRAWL=BIN      trawl binary (default: $repo/build/release/trawl)
#   ROUNDS=N       rounds of the latency queries (default 200)
#   QUERY_MEMORY=MIB  every server's --query-memory (default 1024: below)
#   EQUAL_QUERIES=TSV the queries compared (default bench/queries.tsv)
#   DURATION=10s   each wrk run           CONNS=16   wrk connections (2 threads)
#
# Measures, over the same N repositories:
#   1. fan-out overhead: /api/v1/search latency (p50, p99) of a frontend over ONE searcher that
#      holds every repository, against the one process (role all) over the same index, each
#      query sent to the servers in turn (so all see the same machine load);
#   2. the same for the frontend over K searchers (each holding its rendezvous share);
#   3. queries/s (wrk, the selective keyword queries of bench/queries.tsv as users type them)
#      of the one process against the K-searcher cluster, on the same 2 cores;
#   4. each searcher's resident memory against the content and index it holds;
#   and that the frontend's answers to every query of queries.tsv equal the one process's.
# Writes bench/cluster.md; the split, indexes and data directories go to bench/work/cluster/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
n_repos=40
n_searchers=4
equal_only=0
while (($#)); do
  case $1 in
    --repos) n_repos=${2:?--repos needs a number}; shift 2 ;;
    --searchers) n_searchers=${2:?--searchers needs a number}; shift 2 ;;
    --equal-only) equal_only=1; shift ;;
    -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $n_repos =~ ^[1-9][0-9]*$ && $n_searchers =~ ^[1-9][0-9]*$ ]] ||
  { echo "cluster.sh: --repos and --searchers take positive numbers" >&2; exit 2; }
trawl=${TRAWL:-$repo/build/release/trawl}
corpus=${CORPUS:-$("$repo/../shared/bench/corpus.sh" | tail -1)}
rounds=${ROUNDS:-200}
duration=${DURATION:-10s}
conns=${CONNS:-16}
[[ -x $trawl ]] || { echo "cluster.sh: no trawl binary at $trawl (make first)" >&2; exit 2; }
[[ -d $corpus ]] || { echo "cluster.sh: no corpus at $corpus" >&2; exit 2; }
command -v wrk >/dev/null || { echo "cluster.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }

work=$here/work/cluster
mkdir -p "$work"
split=$here/work/split-$n_repos
if [[ ! -e $split.complete ]]; then
  rm -rf "$split"
  python3 "$here/split_corpus.py" "$corpus" "$split" "$n_repos"
  touch "$split.complete"
fi
mapfile -t repos < <(cd "$split" && printf '%s\n' r*)
names=()
for ((i = 0; i < n_searchers; i++)); do names+=("s$i"); done

# The repositories rendezvous hashing gives each searcher (the addresses do not matter).
listed=$(for n in "${names[@]}"; do printf '%s=127.0.0.1:1,' "$n"; done)
"$trawl" cluster assign --searchers "${listed%,}" "${repos[@]}" > "$work/assign"

# One index of every repository (the one process, and the lone searcher), and one per searcher.
index_of() { # OUT_DATA REPO...: an index of those repositories in OUT_DATA/index, made once
  local data=$1; shift
  if [[ ! -e $data.complete ]]; then
    rm -rf "$data"; mkdir -p "$data"
    printf "$split/%s\n" "$@" > "$data.list"
    "$trawl" index -q --worktree -o "$data/index" --paths-from "$data.list"
    touch "$data.complete"
  fi
}
index_of "$work/all-$n_repos" "${repos[@]}"
for n in "${names[@]}"; do
  mapfile -t mine < <(awk -v s="$n" '$2 == s {print $1}' "$work/assign")
  index_of "$work/$n-$n_repos-of-$n_searchers" "${mine[@]}"
done

secret=$work/cluster.secret
[[ -s $secret ]] || (umask 077 && head -c 32 /dev/urandom > "$secret")
# Every server started is stopped on the way out (their pids in run-NAME.pid).
stop_all() { local f; for f in "$work"/run-*.pid; do [[ -e $f ]] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done; }
trap stop_all EXIT
serve() { # NAME DATA_OF_INDEX ARGS...: a server on a free port; prints the port
  local name=$1 ix=$2; shift 2
  local data=$work/run-$name port=
  rm -rf "$data"; mkdir -p "$data"
  [[ -n $ix ]] && ln -s "$ix/index" "$data/index"
  "$trawl" serve --data "$data" --listen 127.0.0.1:0 --sync-interval 0 "$@" \
    > "$data.out" 2> "$data.log" &
  echo $! > "$data.pid"
  for _ in $(seq 600); do
    port=$(grep -ho '127.0.0.1:[0-9]*' "$data.out" "$data.log" 2>/dev/null | head -1 | sed 's/.*://' || true)
    [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  [[ -n $port ]] || { echo "cluster.sh: $name did not start (see $data.log)" >&2; exit 1; }
  echo "$port"
}
# wrk is one caller: the per-user search slots (half of --max-searches) would turn a frontend's
# searches, which wait on the network, into 429s long before the machine is busy. Every server
# gets the same room, as many users would have.
# --query-memory: the count:all answers compared below (two of them over 2 million lines) are
# compared whole; with the default 128 MiB one process stops at its limit where searchers, each
# holding a share, do not, and the two answers are cut at different places (both flagged).
# The latency and throughput queries are selective: far below either limit.
room=(--max-searches 64 --user-max-searches 64 --query-memory "${QUERY_MEMORY:-1024}")
one_port=$(serve one "$work/all-$n_repos" "${room[@]}")
lone_port=$(serve lone "$work/all-$n_repos" --role searcher --self s0 --cluster-secret-file "$secret" "${room[@]}")
fe1_port=$(serve fe1 "" --role frontend --cluster-secret-file "$secret" "${room[@]}" \
  --searchers "s0=127.0.0.1:$lone_port")
addrs=
for n in "${names[@]}"; do
  p=$(serve "$n" "$work/$n-$n_repos-of-$n_searchers" --role searcher --self "$n" --cluster-secret-file "$secret" "${room[@]}")
  addrs+="$n=127.0.0.1:$p,"
done
fek_port=$(serve fek "" --role frontend --cluster-secret-file "$secret" "${room[@]}" --searchers "${addrs%,}")

# The selective queries of bench/queries.tsv as a user types them (load.sh's keyword mix).
python3 - "$here/queries.tsv" "$work/paths" <<'PY'
import csv, re, sys, urllib.parse
out = open(sys.argv[2], "w")
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    if r.get("target") != "selective" and r.get("kind") != "rare":
        continue
    p = r["pattern"]
    if r.get("query"):
        q = r["query"]
    elif re.search(r"\\[A-Za-z0-9]|(?<!\\)[.^$*+?()\[\]{}|]", p):
        q = "/%s/" % p.replace("/", "\\/")
    else:
        q = re.sub(r"\\(.)", r"\1", p)
    out.write("/api/v1/search?q=%s\n" % urllib.parse.quote(q))
PY

# The answers to every query of queries.tsv, default count: and count:all, whole, against the
# one process's (cluster_equal.py); a difference fails the run once the report is written. Run
# after the memory is read (its count:all answers hold gigabytes), or alone with --equal-only.
equal_status=0
run_equal() {
  equal=$(python3 "$here/cluster_equal.py" "${EQUAL_QUERIES:-$here/queries.tsv}" "$one_port" "$fek_port") ||
    equal_status=$?
}
if ((equal_only)); then
  run_equal
  echo "$equal"
  exit "$equal_status"
fi

# 1, 2: latency, each query sent to the three user-facing servers in turn; the answers must
# agree (the cluster test proves it in detail; here a wrong answer would make the numbers moot).
latency=$(python3 - "$work/paths" "$rounds" "$one_port" "$fe1_port" "$fek_port" <<'PY'
import http.client, json, sys, time, urllib.parse
paths = [l.strip() for l in open(sys.argv[1]) if l.strip()]
rounds, ports = int(sys.argv[2]), sys.argv[3:]
conns = {p: http.client.HTTPConnection("127.0.0.1", int(p)) for p in ports}
lat = {(p, q): [] for p in ports for q in paths}
def get(p, q):
    c = conns[p]
    c.request("GET", q)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("cluster.sh: %s on port %s: %d %s" % (q, p, r.status, body[:200]))
    return json.loads(body)
for q in paths:  # warm up, and compare the answers once
    ans = [get(p, q) for p in ports]
    res = [[(f["repo"], f["path"], [l["line"] for l in f.get("lines", [])]) for f in a["results"]] for a in ans]
    if res[1] != res[0] or res[2] != res[0]:
        sys.exit("cluster.sh: %s: the cluster's results differ from the one process's" % q)
for _ in range(rounds):
    for q in paths:
        for p in ports:
            t = time.perf_counter()
            get(p, q)
            lat[(p, q)].append((time.perf_counter() - t) * 1000)
def pct(v, f):
    v = sorted(v)
    return v[min(len(v) - 1, int(f * len(v)))]
one, fe1, fek = ports
allv = {p: [x for q in paths for x in lat[(p, q)]] for p in ports}
for q in paths + [None]:
    a, b, c = (allv[p] if q is None else lat[(p, q)] for p in ports)
    label = "all queries" if q is None else "`%s`" % urllib.parse.unquote(q.split("q=", 1)[1])
    print("| %s | %.2f / %.2f | %.2f / %.2f | %+.2f / %+.2f | %.2f / %.2f | %+.2f / %+.2f |" % (
        label, pct(a, .5), pct(a, .99), pct(b, .5), pct(b, .99), pct(b, .5) - pct(a, .5),
        pct(b, .99) - pct(a, .99), pct(c, .5), pct(c, .99), pct(c, .5) - pct(a, .5),
        pct(c, .99) - pct(a, .99)))
PY
)

# 3: throughput, one wrk run per configuration.
throughput() { # PORT: "queries/s p50 p99 non-2xx"
  TRAWL_LOAD_PATHS=$work/paths wrk -t2 -c"$conns" -d"$duration" --latency \
    -s "$here/load.lua" "http://127.0.0.1:$1" > "$work/wrk.out"
  awk '/Requests\/sec/ {r=$2} $1 == "50%" {p50=$2} $1 == "99%" {p99=$2} /Non-2xx/ {bad=$5}
       END {printf "%s %s %s %s\n", r, p50, p99, bad ? bad : 0}' "$work/wrk.out"
}
read -r one_qps one_p50 one_p99 one_bad < <(throughput "$one_port")
read -r fek_qps fek_p50 fek_p99 fek_bad < <(throughput "$fek_port")

# 4: memory. The searchers' resident sets after the queries, against what each holds: the
# whole, and its anonymous part (what the process allocated). The rest is the index's pages
# mapped from the page cache, which the kernel can take back, and which depend on what was in
# the cache (fault-around maps a hot file's neighbouring pages too).
rss_mib() { awk -v k="${2:-VmRSS}:" '$1 == k {printf "%d", $2 / 1024}' "/proc/$1/status"; }
mem_rows=
for n in one lone "${names[@]}"; do
  case $n in
    one|lone) ix=$work/all-$n_repos ;;
    *) ix=$work/$n-$n_repos-of-$n_searchers ;;
  esac
  content=$(xargs -d "\n" du -sbL --apparent-size < "$ix.list" | awk '{s += $1} END {print s}')
  isize=$(du -sb "$ix/index" | cut -f1)
  rss=$(rss_mib "$(cat "$work/run-$n.pid")")
  anon=$(rss_mib "$(cat "$work/run-$n.pid")" RssAnon)
  held=$(awk -v s="$n" '$2 == s' "$work/assign" | wc -l)
  [[ $n == one || $n == lone ]] && held=${#repos[@]}
  mem_rows+=$(printf '| %s | %s | %s | %s | %d | %d | %.0f |' "$n" "$held" "$(numfmt --to=iec "$content")" \
    "$(numfmt --to=iec "$isize")" "$rss" "$anon" "$(bc -l <<<"$rss / ($content / 1073741824)")")$'\n'
done
fek_pid=$(cat "$work/run-fek.pid")
mem_rows+=$(printf '| frontend over %d | | | | %d | %d | |' "$n_searchers" "$(rss_mib "$fek_pid")" \
  "$(rss_mib "$fek_pid" RssAnon)")
run_equal

{
  echo "# The cluster on one machine: fan-out overhead, throughput, memory"
  echo
  echo "\`bench/cluster.sh --repos $n_repos --searchers $n_searchers\` on $(date -u +%Y-%m-%d),"
  echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), trawl $(git -C "$repo" rev-parse --short HEAD),"
  echo "the corpus ($corpus) split into $n_repos repositories; every process on this machine,"
  echo "each with \`--max-searches 64 --user-max-searches 64 --query-memory ${QUERY_MEMORY:-1024}\`"
  echo "(wrk is one caller; the memory for the whole count:all answers compared at the end)."
  echo
  echo "## Latency of /api/v1/search (ms, p50 / p99; $rounds rounds, the servers in turn)"
  echo
  echo "| query | one process | frontend + 1 searcher | overhead | frontend + $n_searchers searchers | overhead |"
  echo "|---|---|---|---|---|---|"
  echo "$latency"
  echo
  echo "## Throughput (wrk: 2 threads, $conns connections, $duration, the same queries in rotation)"
  echo
  echo "| server | queries/s | p50 | p99 | non-2xx |"
  echo "|---|---|---|---|---|"
  echo "| one process | $one_qps | $one_p50 | $one_p99 | $one_bad |"
  echo "| frontend + $n_searchers searchers | $fek_qps | $fek_p50 | $fek_p99 | $fek_bad |"
  echo "| ratio cluster / one | $(bc -l <<<"scale=2; $fek_qps / $one_qps") | | | |"
  echo
  echo "## Memory (resident, after the queries)"
  echo
  echo "| process | repositories | content | index | RSS MiB | of it anonymous | RSS MiB per GiB of content |"
  echo "|---|---|---|---|---|---|---|"
  echo "$mem_rows"
  echo
  echo "## Answers equal to the one process's (bench/cluster_equal.py)"
  echo
  echo "Every query of bench/queries.tsv through /api/v1/search, as a user types it, with the"
  echo "default count: and with count:all: the frontend over $n_searchers searchers against the one"
  echo "process, the whole answers compared (results, lines, ranges, order, alerts, summary but"
  echo "timings and index statistics)."
  echo
  echo "$equal"
} > "$here/cluster.md"
cat "$here/cluster.md"
[[ $equal_status == 0 ]] || { echo "cluster.sh: the cluster's answers differ from the one process's" >&2; exit 1; }
