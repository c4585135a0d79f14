#!/usr/bin/env bash
# Ranking check: the first files a plain query shows, and what the search read to find them.
#
#   bench/ranking.sh INDEX_DIR [QUERY...]
#
#   TRAWL=BIN   trawl binary (default build/release/trawl)
#   TOP=N       files shown per query (default 5)
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
[ $# -gt 0 ] || set -- task_struct sk_buff kmalloc schedule

for q in "$@"; do
  for form in "$q" "count:all $q"; do
    "$trawl" search -d "$index" --json "$form" | python3 -c '
import json, sys
form, top = sys.argv[1], int(sys.argv[2])
seen, summary = [], None
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "summary":
        summary = o
    elif o.get("path") and o["path"] not in seen:
        seen.append(o["path"])
print("query: %s" % form)
if not form.startswith("count:all"):
    for i, p in enumerate(seen[:top], 1):
        print("  %d. %s" % (i, p))
print("  candidates %d, lines %d, files %d, limit_hit %s, elapsed %.1f ms" % (
    summary["candidates"], summary["matching_lines"], summary["files"],
    str(summary["limit_hit"]).lower(), summary["elapsed_ms"]))
' "$form" "$top"
  done
done
