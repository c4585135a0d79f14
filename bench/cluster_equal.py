#!/usr/bin/env python3
"""The cluster's answers against the one process's, for every query of bench/queries.tsv
(called by bench/cluster.sh; issue 18: "the cluster's results for the benchmark queries equal
the single process's, line for line and in the same order").

    cluster_equal.py QUERIES.TSV ONE_PORT FRONTEND_PORT

Each query is sent as a user of the API types it (docs/query-syntax.md): the row's trawl query
when it has one, else its pattern as a regex (`-F` escaped, `-w` in \\b...\\b), `case:no` for
`-i` and `case:yes` otherwise, `file:` for its path; once with the default `count:` and once
with `count:all`. Both answers are compared whole: every result (repository, path, branches,
score, every line's number, text and match ranges, in order), the alerts, and the summary but
its timings and its index statistics (a cluster sums its searchers'). Prints a Markdown table;
exits 1 if any answer differs.
"""
import csv
import http.client
import json
import re
import sys
import urllib.parse

IGNORED = ("elapsed_ms", "plan_ms", "shards_total", "shards_searched", "candidates",
           "bytes_scanned")


def user_query(row):
    if row.get("query"):
        return row["query"]
    flags = row["flags"].split()
    pat = row["pattern"]
    if "-F" in flags:
        pat = re.sub(r"([^A-Za-z0-9_])", r"\\\1", pat)
    if "-w" in flags:
        pat = r"\b(?:%s)\b" % pat
    q = "/%s/ case:%s" % (pat.replace("/", "\\/"), "no" if "-i" in flags else "yes")
    if row.get("path"):
        q += " file:%s" % row["path"]
    return q


def get(port, q):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": q}))
    r = c.getresponse()
    body = r.read()
    c.close()
    try:
        j = json.loads(body)
    except ValueError:
        j = {"raw": body[:200].decode("utf-8", "replace")}
    for k in IGNORED:
        j.get("summary", {}).pop(k, None)
    return r.status, j


def report(q, a, b):
    """Where two answers part: status, summary, alerts, the first result that differs."""
    ra, rb = a[1].get("results", []), b[1].get("results", [])
    k = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), min(len(ra), len(rb)))
    print("cluster_equal.py: %s\n  status %d / %d\n  summary %s\n      vs %s\n  alerts %s\n"
          "     vs %s\n  results %d / %d, the first difference at %d: %s\n  vs %s" % (
              q, a[0], b[0], json.dumps(a[1].get("summary")), json.dumps(b[1].get("summary")),
              json.dumps(a[1].get("alerts")), json.dumps(b[1].get("alerts")), len(ra), len(rb),
              k, json.dumps(ra[k] if k < len(ra) else None)[:300],
              json.dumps(rb[k] if k < len(rb) else None)[:300]), file=sys.stderr)


def main():
    tsv, one, fe = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rows = [r for r in csv.DictReader(open(tsv, newline=""), delimiter="\t",
                                      quoting=csv.QUOTE_NONE) if not r["id"].startswith("#")]
    print("| query | count | status | results | lines | limit | equal |")
    print("|---|---|---|---|---|---|---|")
    bad = 0
    for row in rows:
        for count in ("", "count:all "):
            q = count + user_query(row)
            a, b = get(one, q), get(fe, q)
            same = a == b
            bad += not same
            s = a[1].get("summary", {})
            alerts = [x.get("kind", x.get("reason", "?")) for x in a[1].get("alerts", [])]
            print("| %s `%s` | %s | %d | %d | %s | %s | %s |" % (
                row["id"], q.replace("|", "\\|"), count.strip() or "default", a[0],
                len(a[1].get("results", [])), s.get("matching_lines", "-"),
                ",".join(alerts) or "-", "yes" if same else "**no**"))
            if not same:
                report(q, a, b)
    print()
    print("%d of %d answers equal." % (2 * len(rows) - bad, 2 * len(rows)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
