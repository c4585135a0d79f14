#!/usr/bin/env bash
# Load benchmark of `trawl serve` (issue 5): selective queries through /api/v1/search with wrk,
# reporting queries per second, p50/p99 latency and the server's RSS; then the time to the first
# streamed result (and to the end) of an exhaustive query through /api/v1/search/stream.
#
# Two mixes of the same selective queries, one wrk run each: `regex`, each sent as a /regex/ with
# the case bench/queries.tsv gives it (case:yes unless -i), and `keyword`, each sent as a user
# types it: a plain term, case-insensitive as every query is by default (a pattern with regex
# syntax beyond escaped punctuation stays a /regex/, without case:yes).
#
#   bench/load.sh CORPUS_DIR
#
#   DURATION=20s   wrk run length (each mix) CONNS=32    concurrent connections
#   MIXES='regex keyword'                  the mixes to run, in this order
#   WRK_THREADS=2  wrk threads             THREADS=N     server HTTP threads (default: its own)
#   EXHAUSTIVE='count:all return'          the streamed query
#   TRAWL=BIN      trawl binary (default build/trawl, built if missing)
#   INDEX=DIR      serve this index (e.g. one made with `trawl index --symbols --name corpus`)
#                  instead of indexing the corpus into bench/work/load/
#   AUTH=token     team mode: the queries carry an API token of a user granted the corpus
#                  (a separate DATA beside the index; its search rate limits lifted, since
#                  they exist to stop one caller from doing this)
#
# The corpus is indexed into bench/work/load/ (kept between runs when the corpus is the same).
# Targets on 2 cores: >= 2,000 queries/s with p99 < 20 ms. Needs wrk (Debian package `wrk`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
corpus=${1:?usage: bench/load.sh CORPUS_DIR}
corpus=$(cd "$corpus" && pwd)
work=$here/work/load
duration=${DURATION:-20s}
conns=${CONNS:-32}
wthreads=${WRK_THREADS:-2}
exhaustive=${EXHAUSTIVE:-count:all return}
trawl=${TRAWL:-$repo/build/trawl}
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$trawl" ] || make -C "$repo" -j2 >&2
mkdir -p "$work"

# Index once per corpus.
# Also when this trawl cannot read the kept index (an older shard format version): a search
# exits 0 or 1 (matches or none) on a good index, 2 on an error.
index_ok() {
  local st=0
  "$trawl" search -d "$1" -c -e trawl_index_probe >/dev/null 2>&1 || st=$?
  [ "$st" -le 1 ]
}
data=$work/data
if [ -n "${INDEX:-}" ]; then
  index=$(cd "$INDEX" && pwd)
  index_ok "$index" || { echo "load.sh: $INDEX is not an index this trawl reads" >&2; exit 2; }
  # A DATA of its own, the index linked in (the server keeps its state beside the index).
  data=$work/data-index
  rm -rf "$data"
  mkdir -p "$data"
  ln -s "$index" "$data/index"
else
  index=$work/data/index
  if [ "$(cat "$work/corpus" 2>/dev/null)" != "$corpus" ] || [ ! -f "$index/MANIFEST" ] ||
     ! index_ok "$index"; then
    rm -rf "$work/data"
    echo "load.sh: indexing $corpus" >&2
    "$trawl" index -o "$index" --name corpus --worktree "$corpus" >&2 2>/dev/null ||
      "$trawl" index -o "$index" --name corpus "$corpus" >&2
    echo "$corpus" > "$work/corpus"
  fi
fi

# The selective queries of bench/queries.tsv, as /api/v1/search paths: $work/paths (the regex
# mix, which load-cpu.sh reads too) and $work/paths-keyword.
python3 - "$here/queries.tsv" "$work/paths" "$work/paths-keyword" <<'PY'
import csv, re, sys, urllib.parse
rows = csv.DictReader(open(sys.argv[1]), delimiter="\t")
regex_out, keyword_out = open(sys.argv[2], "w"), open(sys.argv[3], "w")

def keyword(pattern):
    """The query a user types for pattern: a bare term when the pattern is a literal once its
    escaped punctuation is unescaped, else the /regex/ with the default case."""
    if re.search(r"\\[A-Za-z0-9]|(?<!\\)[.^$*+?()\[\]{}|]", pattern):
        return "/%s/" % pattern.replace("/", "\\/")
    term = re.sub(r"\\(.)", r"\1", pattern)
    if re.search(r"[\s\"']", term) or term[:1] in "(-":
        return '"%s"' % term.replace("\\", "\\\\").replace('"', '\\"')
    return term

for r in rows:
    if r.get("target") != "selective" and r.get("kind") != "rare":
        continue
    q = r.get("query") or ""
    k = q
    if not q:
        flags = r.get("flags") or ""
        q = "/%s/" % r["pattern"].replace("/", "\\/")
        if "-i" in flags:
            q += " case:no"
        else:
            q += " case:yes"
        k = keyword(r["pattern"])
    print("/api/v1/search?q=" + urllib.parse.quote(q, safe=""), file=regex_out)
    print("/api/v1/search?q=" + urllib.parse.quote(k, safe=""), file=keyword_out)
PY
echo "load.sh: $(wc -l < "$work/paths") selective queries, mixes: ${MIXES:-regex keyword}" >&2

auth_hdr=()
if [ "${AUTH:-}" = token ]; then
  # Accounts live in DATA/trawl.db: a DATA of their own, reading the same index.
  data=$work/data-auth
  rm -rf "$data"
  head -c 24 /dev/urandom | base64 | "$trawl" user add loadbench --password-stdin --data "$data" >&2
  rmdir "$data/index"
  ln -s "$index" "$data/index"
  "$trawl" grant corpus --user loadbench --data "$data" >&2
  token=$("$trawl" token create loadbench --data "$data")
  export TRAWL_LOAD_TOKEN=$token
  (umask 077 && printf '%s\n' "$token" > "$work/token") # for load-cpu.sh AUTH=token
  auth_hdr=(-H "Authorization: Bearer $token")
fi
# One client measuring throughput: no rate limit, and its own searches capped only by the server's.
args=(serve --data "$data" --listen 127.0.0.1:0 --sync-interval 0)
# (Binaries older than the limits have none to lift.)
"$trawl" serve --help 2>&1 | grep -q -- --rate-search && args+=(--rate-search 0 --user-max-searches 4096)
[ -n "${THREADS:-}" ] && args+=(--threads "$THREADS")
"$trawl" "${args[@]}" > "$work/server.out" 2> "$work/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
# Up to a minute: the server opens (and checks) the whole index first, slow on a busy machine.
for _ in $(seq 600); do grep -q serving "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/server.out" | head -1)
url=${url%/}
[ -n "$url" ] || { echo "load.sh: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# Per mix: warm the page cache and the pattern cache, then measure.
mix_report=""
for mix in ${MIXES:-regex keyword}; do
  case $mix in
    regex) paths=$work/paths ;;
    keyword) paths=$work/paths-keyword ;;
    *) echo "load.sh: unknown mix '$mix' (regex, keyword)" >&2; exit 2 ;;
  esac
  while read -r p; do curl -sf "${auth_hdr[@]}" -o /dev/null "$url$p"; done < "$paths"
  TRAWL_LOAD_PATHS=$paths wrk -t"$wthreads" -c"$conns" -d"$duration" --latency \
    -s "$here/load.lua" "$url" > "$work/wrk-$mix.out"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$mix.out")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-$mix.out")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$mix.out")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk-$mix.out")
  errs=$(grep -o 'Socket errors:.*' "$work/wrk-$mix.out" || true)
  queries=$(python3 -c 'import sys, urllib.parse
print("  ".join(urllib.parse.unquote(l.split("q=", 1)[1].strip()) for l in open(sys.argv[1])))' "$paths")
  mix_report+="  $mix: $queries
    queries/s: $rps   p50: $p50   p99: $p99   non-2xx: ${non2xx:-0}   ${errs}
"
done
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

stream=$(python3 - "$url" "$exhaustive" <<'PY'
import http.client, sys, time, urllib.parse
url, q = sys.argv[1], sys.argv[2]
host, port = url.split("//")[1].split(":")
c = http.client.HTTPConnection(host, int(port), timeout=600)
t0 = time.monotonic()
import os
tok = os.environ.get("TRAWL_LOAD_TOKEN")
c.request("GET", "/api/v1/search/stream?q=" + urllib.parse.quote(q, safe=""),
          headers={"Authorization": "Bearer " + tok} if tok else {})
r = c.getresponse()
first = None
files = 0
buf = b""
while True:
    chunk = r.read1(65536)
    if not chunk:
        break
    if first is None and b"event: matches" in buf + chunk:
        first = time.monotonic() - t0
    buf = (buf + chunk)[-64:]
end = time.monotonic() - t0
print("%.1f %.1f" % ((first or end) * 1000, end * 1000))
PY
)

cat <<REPORT
trawl serve load test ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores${AUTH:+, AUTH=$AUTH})
corpus: $corpus ($(du -sh "$index" | cut -f1) of index${INDEX:+ $index})
trawl: $trawl
selective queries: $(wc -l < "$work/paths") from bench/queries.tsv through /api/v1/search
wrk: $wthreads threads, $conns connections, $duration per mix
${mix_report}server RSS: $((rss_kb / 1024)) MB (peak $((hwm_kb / 1024)) MB)
exhaustive stream '$exhaustive': first matches after ${stream% *} ms, done after ${stream#* } ms
REPORT
