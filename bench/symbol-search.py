#!/usr/bin/env python3
"""Latency of symbol search through the server (bench/symbol-search.md): `trawl serve` over an
index built with `trawl index --symbols` (a data directory of its own whose index/ is a symlink
to INDEX), then each query of QUERIES through /api/v1/symbols?count=8 on one connection at a
time, 2 warm-up requests and N timed ones, the median and 90th percentile printed with the
server's CPU time per request (user + system, from /proc: less swayed than the wall clock by
the other work of a busy machine), the number of symbols and the first names. Only loopback;
the server is stopped at the end.

    python3 bench/symbol-search.py INDEX [N [QUERY...]]
    (TRAWL=build/release/trawl by default; the queries of QUERIES unless some are given)
"""
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

QUERIES = ["^kmalloc$", "^task_struct$", "^TASK_STRUCT$", "^sk_buff$", "^kma", "^kmall", "^sk_b",
           "^task_", "^dev_", "^de", "^a", "/^sk_buff_[a-z]+$/", "task_struct", "/skb_.*_len/"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    index = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    queries = sys.argv[3:] or QUERIES
    trawl = os.environ.get("TRAWL", "build/release/trawl")
    tmp = tempfile.mkdtemp(prefix="trawl-symbench-")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    os.symlink(index, os.path.join(data, "index"))
    p = subprocess.Popen([trawl, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        m = re.search(r":(\d+)/", p.stdout.readline().decode())
        if not m:
            sys.exit("the server did not start")
        port = int(m.group(1))

        def get(path):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            t = time.perf_counter()
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            c.close()
            return r.status, (time.perf_counter() - t) * 1e3, body

        def cpu_ms():
            f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) * 1e3 / os.sysconf("SC_CLK_TCK")

        print("| query | median ms | p90 ms | CPU ms | symbols | first names |")
        print("| --- | --- | --- | --- | --- | --- |")
        for q in queries:
            path = "/api/v1/symbols?count=8&q=" + urllib.parse.quote(q, safe="")
            for _ in range(2):
                get(path)
            times = []
            cpu0 = cpu_ms()
            for _ in range(n):
                status, ms, body = get(path)
                if status != 200:
                    sys.exit("%s: HTTP %d %s" % (q, status, body[:200]))
                times.append(ms)
            cpu = (cpu_ms() - cpu0) / n
            times.sort()
            syms = json.loads(body)["symbols"]
            names = []
            for s in syms:
                if s["name"] not in names:
                    names.append(s["name"])
            print("| `%s` | %.2f | %.2f | %.1f | %d | %s |" % (
                q, statistics.median(times), times[int(0.9 * (n - 1))], cpu, len(syms),
                ", ".join(names[:4])))
        print("\nload average at the end: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
