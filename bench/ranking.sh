#!/usr/bin/env bash
# Ranking check: the first files a plain query shows, and what the search read to find them.
#
#   bench/ranking.sh INDEX_DIR [QUERY...]
#
#   TRAWL=BIN   trawl binary (default build/release/trawl)
#   TOP=N       files shown per query (default 5)
#   REPEAT=N    run each query N times (default 1): elapsed is then the median, with the
#               minimum and maximum
#
# Per query: the top N files (each once, in result order) of `trawl search --json QUERY` with
# the default count:500, then the summary's candidates (documents verified), matching lines,
# files, limit_hit and elapsed_ms; and the same summary for `count:all QUERY`. Defaults to the
# identifiers of docs/results.md: task_struct sk_buff kmalloc schedule.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
index=${1:?usage: bench/ranking.sh INDEX_DIR [QUERY...]}
shift
trawl=${TRAWL:-$repo/build/release/trawl}
top=${TOP:-5}
repeat=${REPEAT:-1}
[ $# -gt 0 ] || set -- task_struct sk_buff kmalloc schedule
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for q in "$@"; do
  for form in "$q" "count:all $q"; do
    : > "$out"
    for _ in $(seq "$repeat"); do
      "$trawl" search -d "$index" --json "$form" >> "$out"
      echo '{"type":"run_end"}' >> "$out"
    done
    python3 -c '
import json, statistics, sys
form, top = sys.argv[1], int(sys.argv[2])
seen, summaries, first = [], [], True
for line in open(sys.argv[3]):
    o = json.loads(line)
    if o["type"] == "run_end":
        first = False
    elif o["type"] == "summary":
        summaries.append(o)
    elif first and o.get("path") and o["path"] not in seen:
        seen.append(o["path"])
print("query: %s" % form)
if not form.startswith("count:all"):
    for i, p in enumerate(seen[:top], 1):
        print("  %d. %s" % (i, p))
s = summaries[0]
ms = sorted(x["elapsed_ms"] for x in summaries)
cands = sorted(x["candidates"] for x in summaries)
print("  candidates %s, lines %d, files %d, limit_hit %s, elapsed %.1f ms%s" % (
    cands[0] if cands[0] == cands[-1] else "%d-%d" % (cands[0], cands[-1]),
    s["matching_lines"], s["files"], str(s["limit_hit"]).lower(), statistics.median(ms),
    " (%d runs: %.1f-%.1f)" % (len(ms), ms[0], ms[-1]) if len(ms) > 1 else ""))
' "$form" "$top" "$out"
  done
done
