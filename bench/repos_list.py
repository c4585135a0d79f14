#!/usr/bin/env python3
"""The server's per-request costs that follow the number of repositories outside the search
(bench/repos-list.md): N tiny repositories (one file each) indexed with `trawl index --worktree`
and registered with `trawl repo add`, an administrator and a user granted every tenth of them,
then the median and 90th percentile of each request, over one kept-alive connection.

    python3 bench/repos_list.py DIR N [TRAWL...]

DIR is made once (N repositories, the index, the registry and the accounts) and reused by later
runs; each TRAWL binary (default build/release/trawl) serves it in turn, so two builds compare on
the same data. Prints a Markdown table: a column per binary.
"""
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = 30


def run(trawl, *args, data=None):
    argv = [trawl] + list(args) + (["--data", data] if data else [])
    return subprocess.run(argv, check=True, capture_output=True, text=True)


def make(d, n, trawl):
    data = os.path.join(d, "data")
    if os.path.exists(os.path.join(d, "tokens.json")):
        return data, json.load(open(os.path.join(d, "tokens.json")))
    names = ["r%05d" % i for i in range(n)]
    dirs = []
    for name in names:
        p = os.path.join(d, "src", name)
        os.makedirs(p, exist_ok=True)
        with open(os.path.join(p, "main.c"), "w") as f:
            f.write("int %s_main(void) { return %d; }\n" % (name, len(name)))
        dirs.append(p)
    os.makedirs(data, exist_ok=True)
    t = time.monotonic()
    subprocess.run([trawl, "index", "--worktree", "-q", "-o", os.path.join(data, "index")] + dirs,
                   check=True)
    print("# indexed %d repositories in %.1f s" % (n, time.monotonic() - t), file=sys.stderr)
    t = time.monotonic()
    for name, p in zip(names, dirs):
        run(trawl, "repo", "add", "--allow-local", "--name", name, p, data=data)
    print("# registered them in %.1f s" % (time.monotonic() - t), file=sys.stderr)
    run(trawl, "user", "add", "root", "--admin", data=data)
    run(trawl, "user", "add", "u", data=data)
    for name in names[::10]:
        run(trawl, "grant", name, "--user", "u", data=data)
    tok = {}
    for user, scope in (("root", "admin"), ("u", "search")):
        out = run(trawl, "token", "create", user, "--scope", scope, data=data).stdout
        tok[user] = re.search(r"trawl_[A-Za-z0-9]+", out).group(0)
    json.dump(tok, open(os.path.join(d, "tokens.json"), "w"))
    return data, tok


def timed(conn, path, token, runs=RUNS):
    """Median and 90th percentile in ms, and the last body's size."""
    ts, size = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        body = r.read()
        ts.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            raise RuntimeError("%s: %d %s" % (path, r.status, body[:200]))
        size = len(body)
    ts.sort()
    return statistics.median(ts), ts[int(len(ts) * 0.9) - 1], size


def all_pages(conn, token):
    """Every page of 1000 (the paged API), or the one answer (the old one); ms and bodies."""
    t, n, cur, first = time.perf_counter(), 0, None, "/api/v1/repos?limit=1000"
    while True:
        conn.request("GET", first + ("&cursor=" + cur if cur else ""),
                     headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        body = json.loads(r.read())
        if r.status == 400 and n == 0:  # a server without pages: the whole list at once
            first = "/api/v1/repos"
            continue
        n += 1
        cur = body.get("next")
        if not cur:
            return (time.perf_counter() - t) * 1000, n


def serve(trawl, data, tok):
    t = time.monotonic()
    p = subprocess.Popen([trawl, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = int(re.search(r":(\d+)/", p.stdout.readline().decode()).group(1))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        # Only a signed-in caller learns whether the index is served.
        conn.request("GET", "/healthz", headers={"Authorization": "Bearer " + tok["root"]})
        r = conn.getresponse()
        if json.loads(r.read()).get("index"):
            break
        time.sleep(0.05)
    ready = (time.monotonic() - t) * 1000
    res = {"serving the index after start (ms)": (ready, ready, 0)}
    cases = [
        ("admin: /api/v1/repos", "/api/v1/repos", "root"),
        ("admin: /api/v1/repos?limit=1000", "/api/v1/repos?limit=1000", "root"),
        ("admin: /api/v1/repos?q=r0150", "/api/v1/repos?q=r0150", "root"),
        ("user (1/10 granted): /api/v1/repos", "/api/v1/repos", "u"),
        ("admin: /api/v1/repos/{name}", "/api/v1/repos/r01500", "root"),
        ("user: /api/v1/repos/{name}/tree", "/api/v1/repos/r01500/tree", "u"),
        ("admin: /metrics", "/metrics", "root"),
        ("admin: /api/v1/access", "/api/v1/access", "root"),
    ]
    for label, path, who in cases:
        try:
            res[label] = timed(conn, path, tok[who])
        except RuntimeError as e:
            res[label] = None
            print("# %s: %s" % (label, e), file=sys.stderr)
    ms, pages = all_pages(conn, tok["root"])
    res["admin: every repository, 1000 a page (ms, requests)"] = (ms, pages, 0)
    p.terminate()
    p.wait()
    return res


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    trawls = sys.argv[3:] or [os.path.join(ROOT, "build", "release", "trawl")]
    data, tok = make(d, n, trawls[0])
    cols = [serve(t, data, tok) for t in trawls]
    print("| %d repositories | %s |" % (n, " | ".join(trawls)))
    print("|---|%s" % ("---|" * len(trawls)))
    for label in cols[0]:
        cells = []
        for c in cols:
            v = c.get(label)
            cells.append("—" if v is None else "%.1f / %.1f ms, %d B" % v if v[2] else
                         "%.1f / %d" % (v[0], v[1]) if "requests" in label else "%.0f" % v[0])
        print("| %s | %s |" % (label, " | ".join(cells)))


if __name__ == "__main__":
    main()
