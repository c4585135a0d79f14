"""What the fault tests (tests/e2e/test_fault_*.py) share: small git repositories whose content
changes by generation, the results a search must give computed with ripgrep on their working
trees, the results `trawl search` and the server give, and a data directory's leftovers.
Only python3's standard library, ripgrep and git.
"""
import fcntl
import json
import os
import random
import subprocess
import time

from serverlib import TRAWL, request  # noqa: F401  (re-exported for the tests)

GIT_ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
TOKENS = ["tokalpha", "tokbravo", "tokcharlie", "tokdelta", "tokecho"]
# One regular expression finds every token and generation mark: one search per check.
QUERIES = ["tok(alpha|bravo|charlie|delta|echo)|generationmark"]


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                    "init.defaultBranch=main", "-C", repo, *args], check=True, env=GIT_ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_generation(repo, gen, rnd, n_files=60, pad=1500):
    """Rewrites repo's files for generation gen and commits them: every file holds filler and,
    on a line of its own, one token chosen by rnd, and file 0 names the generation. A first call
    creates the repository."""
    if not os.path.isdir(os.path.join(repo, ".git")):
        os.makedirs(repo, exist_ok=True)
        git(repo, "init", "-q")
    for i in range(n_files):
        # Filler lines are lower-case words no query asks for, so results stay small.
        filler = "".join("filler %d %d %s\n" % (i, k, "x" * 40) for k in range(pad // 50))
        tok = rnd.choice(TOKENS) if rnd.random() < 0.3 else None
        with open(os.path.join(repo, "f%03d.txt" % i), "w") as f:
            f.write(filler)
            if tok:
                f.write("%s in file %d of generation %d\n" % (tok, i, gen))
    with open(os.path.join(repo, "f000.txt"), "a") as f:
        f.write("generationmark %d\n" % gen)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "generation %d" % gen)


def expected(src_root, names, queries=QUERIES):
    """{repo: {query: sorted ["repo/path:line:text", ...]}} from ripgrep on the working trees
    (which hold exactly the committed files)."""
    out = {}
    for name in names:
        out[name] = {}
        for q in queries:
            p = subprocess.run(["rg", "-n", "--no-heading", "-i", "-e", q, name],
                               cwd=src_root, capture_output=True, text=True)
            out[name][q] = sorted(l for l in p.stdout.splitlines() if l)
    return out


def cli_results(data, queries=QUERIES):
    """(ok, {query: sorted lines}, error text) of `trawl search --data data /query/`."""
    out, errs, good = {}, [], True
    for q in queries:
        p = subprocess.run([TRAWL, "search", "--data", data, "/%s/" % q], capture_output=True,
                           text=True)
        if p.returncode not in (0, 1):
            good = False
            errs.append("%s: exit %d: %s" % (q, p.returncode, p.stderr.strip()))
        out[q] = sorted(l for l in p.stdout.splitlines() if l)
    return good, out, "\n".join(errs)


def server_results(port, queries=QUERIES):
    """{query: sorted "repo/path:line:text"} from the server's /api/v1/search."""
    import urllib.parse
    out = {}
    for q in queries:
        st, _, body, _ = request(port, "GET",
                                 "/api/v1/search?q=" + urllib.parse.quote("/%s/" % q))
        if st != 200:
            raise RuntimeError("search %s: HTTP %d %r" % (q, st, body[:300]))
        doc = json.loads(body)
        out[q] = sorted("%s/%s:%d:%s" % (r["repo"], r["path"], l["line"], l["text"])
                        for r in doc.get("results", []) for l in r.get("lines", []))
    return out


def split_by_repo(results, names):
    """{repo: {query: lines}} from {query: lines} ("repo/path:..." lines)."""
    return {n: {q: [l for l in v if l.startswith(n + "/")] for q, v in results.items()}
            for n in names}


def consistent(got, *states):
    """Whether each repository's results equal those of one of states (each as expected()
    gives): a repository is wholly at one indexed generation, never a mix or a corruption.
    Returns (ok, the repositories that match none)."""
    bad = []
    for name in states[0]:
        if not any(all(got[name][q] == st[name][q] for q in st[name]) for st in states):
            bad.append(name)
    return not bad, bad


def repo_states(data):
    p = subprocess.run([TRAWL, "repo", "list", "--json", "--data", data], capture_output=True,
                       text=True)
    return {r["name"]: r for r in (json.loads(l) for l in p.stdout.splitlines() if l)}


def leftovers(data):
    """Files in DATA/index the MANIFEST does not account for (temporary shards and MANIFESTs,
    unlisted shards, index workers' work directories in DATA/index/work, which itself stays),
    and first clones left in DATA/repos/ID/clone.tmp (or beside the mirror, as before)."""
    ix = os.path.join(data, "index")
    try:
        with open(os.path.join(ix, "MANIFEST")) as f:
            listed = {s for r in json.load(f)["repos"] for s in r["shards"]}
    except (OSError, ValueError):
        listed = set()
    extra = [f for f in os.listdir(ix)
             if f not in listed and f not in ("LOCK", "MANIFEST", "WRITERS", "MANIFEST.damaged",
                                              "work")]
    work = os.path.join(ix, "work")
    if os.path.isdir(work):
        extra += ["work/" + f for f in os.listdir(work)]
    repos = os.path.join(data, "repos")
    if os.path.isdir(repos):
        extra += ["repos/" + f for f in os.listdir(repos) if f.endswith(".tmp")]
        extra += ["repos/%s/clone.tmp" % f for f in os.listdir(repos)
                  if os.path.lexists(os.path.join(repos, f, "clone.tmp"))]
    return extra


def wait_sync_lock_free(data, seconds=60):
    """Waits until no process holds DATA/sync.lock (a sync orphaned by a killed server ends
    by itself); whether it became free."""
    path = os.path.join(data, "sync.lock")
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.05)
        finally:
            os.close(fd)
    return False


def seeded_random(name):
    """A random.Random from $TRAWL_FAULT_SEED, else from the clock; prints the seed as a TAP
    comment so that a failure can be replayed."""
    seed = int(os.environ.get("TRAWL_FAULT_SEED") or time.time_ns() % 1000000007)
    print("# %s: seed %d (rerun with TRAWL_FAULT_SEED=%d)" % (name, seed, seed), flush=True)
    return random.Random(seed)
