#!/usr/bin/env python3
"""The soak test's driver (bench/soak.sh runs it): a server under mixed search load while its
repositories are re-synced continuously and one sync process in ten is killed.

    bench/soak.py TRAWL WORKDIR OUT.md DURATION_S

In WORKDIR: N_REPOS local git repositories (generated files), registered in a data directory
and synced once; then `trawl serve --sync-interval 1s` on a loopback port and, for DURATION_S:
- CLIENTS client processes sending a mix of queries (literal, regex, filters, count:all, the
  stream API) back to back, each request on its own connection; a request fails when its
  status is not 200 (a 429 busy counts apart: the server's admission control, not a failure);
- a committer adding a commit to a random repository every second;
- a killer looking every 200 ms for descendants of the server whose command line is
  `trawl sync` or `trawl worker ...` and sending SIGKILL to one in ten of those it sees;
- a sampler recording the server's open descriptors (/proc/PID/fd) and VmRSS/RssAnon every 5 s.
The report: requests, failures (target 0), syncs completed and failed (/metrics), processes
seen and killed by kind (`trawl sync`, `trawl worker fetch|index`), descriptors and memory over
time (flat after warm-up). Exits 0 when no request failed and the server is still up, 1
otherwise. Only python3's standard library.
"""
import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.parse

N_REPOS = 3
FILES_PER_REPO = 300
CLIENTS = 4
KILL_ONE_IN = 10
QUERIES = [
    "spin_lock", "return", "struct soak_%d", "/soak_[0-9]+_fn\\(/", "lang:c return",
    "file:\\.c$ soak", "count:all soak_1", "repo:r1 return", "case:yes Soak", "/(a|b)+c/",
    "timeout:1s count:all /./", "select:repo soak", "type:path soak",
]

GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="soak", GIT_AUTHOR_EMAIL="soak@localhost",
               GIT_COMMITTER_NAME="soak", GIT_COMMITTER_EMAIL="soak@localhost",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")


def git(repo, *args):
    subprocess.run(["git", "-C", repo] + list(args), check=True, env=GIT_ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_repos(work):
    repos = []
    for r in range(N_REPOS):
        path = os.path.join(work, "src", "r%d" % r)
        os.makedirs(path)
        subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q", path], check=True,
                       env=GIT_ENV)
        for i in range(FILES_PER_REPO):
            with open(os.path.join(path, "f%03d.c" % i), "w") as f:
                for j in range(40):
                    f.write("static int soak_%d_fn(struct soak_%d *s) { spin_lock(&s->l); "
                            "return %d; }\n" % (i, j, r * 1000 + j))
        git(path, "add", "-A")
        git(path, "commit", "-qm", "initial")
        repos.append(path)
    return repos


def client(port, stop_at, seed, out):
    """Sends queries until stop_at; writes its counts as JSON to out."""
    rnd = random.Random(seed)
    n = failed = busy = 0
    errors = []
    while time.time() < stop_at:
        q = rnd.choice(QUERIES)
        if "%d" in q:
            q = q % rnd.randrange(40)
        path = ("/api/v1/search/stream?q=" if rnd.random() < 0.2 else "/api/v1/search?q=") + \
            urllib.parse.quote(q, safe="")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            c.close()
            st = r.status
        except OSError as e:
            st, body = None, str(e).encode()
        n += 1
        if st == 429:
            busy += 1
        elif st != 200:
            failed += 1
            if len(errors) < 10:
                errors.append("%s %s: %s" % (st, q, body[:200]))
    with open(out, "w") as f:
        json.dump({"requests": n, "failed": failed, "busy": busy, "errors": errors}, f)


def descendants(pid):
    """Every descendant of pid, from /proc/*/stat's parent links."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            parent[int(d)] = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def is_sync_process(argv):
    """`trawl sync ...` or `trawl worker ...`, whatever path the binary was started by."""
    return len(argv) >= 2 and os.path.basename(argv[0]) in (b"trawl", b"trawl-asan") and \
        argv[1] in (b"sync", b"worker")


def kind(argv):
    """"sync", "worker fetch", "worker index", ...: what a sync process is."""
    return " ".join(a.decode(errors="replace") for a in argv[1:3 if argv[1] == b"worker" else 2])


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon"):
                out[k] = int(v.split()[0])
    out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    return out


def metrics(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
    except OSError:
        return {}
    return {m.group(1): int(float(m.group(2)))
            for m in re.finditer(r"^(trawl_sync\w*) (\S+)$", text, re.M)}


def main():
    trawl, work, out_path, duration = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    repos = make_repos(work)
    data = os.path.join(work, "data")
    for i, path in enumerate(repos):
        subprocess.run([trawl, "repo", "add", "--data", data, "--allow-local", path, "--name",
                        "r%d" % i],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run([trawl, "sync", "--data", data], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    log = open(os.path.join(work, "server.log"), "wb")
    srv = subprocess.Popen([trawl, "serve", "--data", data, "--listen", "127.0.0.1:0",
                            "--sync-interval", "1s"], stdout=subprocess.PIPE, stderr=log)
    m = re.search(r":(\d+)/", srv.stdout.readline().decode())
    if not m:
        srv.kill()
        sys.exit("soak.py: the server did not start")
    port = int(m.group(1))
    t_start = time.time()
    stop_at = t_start + duration
    clients = [multiprocessing.Process(target=client, args=(port, stop_at, k,
                                                             os.path.join(work, "c%d.json" % k)))
               for k in range(CLIENTS)]
    for c in clients:
        c.start()
    rnd = random.Random(1)
    seen, commits, samples = set(), 0, []
    seen_kinds, killed = {}, {}  # {kind: count}
    next_commit = next_sample = time.time()
    while time.time() < stop_at and srv.poll() is None:
        now = time.time()
        if now >= next_commit:
            r = rnd.choice(repos)
            with open(os.path.join(r, "f%03d.c" % rnd.randrange(FILES_PER_REPO)), "a") as f:
                f.write("int soak_commit_%d(void) { return %d; }\n" % (commits, commits))
            git(r, "commit", "-qam", "soak %d" % commits)
            commits += 1
            next_commit = now + 1
        if now >= next_sample:
            s = status(srv.pid)
            s["t"] = now - t_start
            s.update(metrics(port))
            samples.append(s)
            next_sample = now + 5
        for pid in descendants(srv.pid):
            argv = cmdline(pid)
            if pid in seen or not is_sync_process(argv):
                continue
            seen.add(pid)
            k = kind(argv)
            seen_kinds[k] = seen_kinds.get(k, 0) + 1
            if rnd.randrange(KILL_ONE_IN) == 0:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed[k] = killed.get(k, 0) + 1
                except OSError:
                    pass
        time.sleep(0.2)
    for c in clients:
        c.join(60)
    alive = srv.poll() is None
    final = status(srv.pid) if alive else {}
    final.update(metrics(port) if alive else {})
    final["t"] = time.time() - t_start
    samples.append(final)
    srv.terminate()
    srv.wait(30)
    log.close()
    counts = {"requests": 0, "failed": 0, "busy": 0, "errors": []}
    for k in range(CLIENTS):
        try:
            with open(os.path.join(work, "c%d.json" % k)) as f:
                c = json.load(f)
        except (OSError, ValueError):
            counts["failed"] += 1
            counts["errors"].append("client %d did not report" % k)
            continue
        for key in ("requests", "failed", "busy"):
            counts[key] += c[key]
        counts["errors"] += c["errors"]
    warm = [s for s in samples if s["t"] >= min(60, duration / 4)] or samples
    out = ["# Soak", "",
           "%.0f s of %d clients' mixed search load against `trawl serve --sync-interval 1s` "
           "over %d local git repositories (%d files each), a commit every second, one in %d "
           "`trawl sync`/`trawl worker` processes of the server killed with SIGKILL." % (
               duration, CLIENTS, N_REPOS, FILES_PER_REPO, KILL_ONE_IN), "",
           "- requests: %d, failed: **%d** (target 0), 429 busy: %d" % (
               counts["requests"], counts["failed"], counts["busy"]),
           "- sync processes seen: %d, killed: %d; commits made: %d" % (
               len(seen), sum(killed.values()), commits),
           "- by kind, seen (alive at one of the killer's looks, every 200 ms) / killed: %s" % ", ".join(
               "`trawl %s` %d/%d" % (k, seen_kinds[k], killed.get(k, 0))
               for k in sorted(seen_kinds)),
           "- sync runs (trawl_syncs_total): %s, of which failed (trawl_sync_failures_total, the "
           "killed ones among them): %s" % (
               final.get("trawl_syncs_total", "?"), final.get("trawl_sync_failures_total", "?")),
           "- server still up at the end: %s" % ("yes" if alive else "**no**"),
           "- after warm-up: descriptors %d..%d, VmRSS %.0f..%.0f MB, RssAnon %.0f..%.0f MB" % (
               min(s.get("fds", 0) for s in warm), max(s.get("fds", 0) for s in warm),
               min(s.get("VmRSS", 0) for s in warm) / 1024,
               max(s.get("VmRSS", 0) for s in warm) / 1024,
               min(s.get("RssAnon", 0) for s in warm) / 1024,
               max(s.get("RssAnon", 0) for s in warm) / 1024), "",
           "| t s | fds | VmRSS MB | RssAnon MB | syncs | sync failures |", "|---|---|---|---|---|---|"]
    step = max(1, len(samples) // 30)
    for s in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        out.append("| %.0f | %s | %.0f | %.0f | %s | %s |" % (
            s["t"], s.get("fds", "-"), s.get("VmRSS", 0) / 1024, s.get("RssAnon", 0) / 1024,
            s.get("trawl_syncs_total", "?"), s.get("trawl_sync_failures_total", "?")))
    if counts["errors"]:
        out += ["", "First errors:", ""] + ["    " + e for e in counts["errors"][:10]]
    text = "\n".join(out) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    sys.exit(0 if counts["failed"] == 0 and alive else 1)


if __name__ == "__main__":
    main()
