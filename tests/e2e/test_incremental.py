#!/usr/bin/env python3
"""End-to-end test of incremental re-indexing (docs/git.md): random commits on two branches
(edits, additions, deletions, renames, a file made identical on both branches, a symlink), an
incremental `trawl index` after each, and after each the `trawl search --json` results of several
queries must equal those of a full index of the same commits made in another directory. Old
shards must never be rewritten, and an unchanged repository must not be touched. Last, an index
of version 2 shards (before posting masks) must answer the same and take incremental version 3
shards (the current version) beside them."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

TRAWL = os.environ.get("TRAWL", "build/release/trawl")
ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
n = 0
fails = 0


def ok(cond, what, detail=""):
    global n, fails
    n += 1
    if cond:
        print(f"ok {n} - {what}")
    else:
        fails += 1
        print(f"not ok {n} - {what}")
        for line in str(detail).splitlines()[:40]:
            print(f"# {line}")


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                    "init.defaultBranch=main", "-C", repo, *args], check=True, env=ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def index(ix, repo):
    p = subprocess.run([TRAWL, "index", "-q", "-o", ix, "--branch", "main", "--branch", "dev",
                        "--name", "r", repo], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


QUERIES = ["alpha", "beta rev:dev", "gamma repo:r@main:dev", "delta rev:*", "type:path f",
           "/alpha|omega/ rev:main", "shared_text rev:*", "omega count:all"]


def results(ix):
    out = {}
    for q in QUERIES:
        p = subprocess.run([TRAWL, "search", "-d", ix, "--json", q], capture_output=True,
                           text=True)
        lines = [json.loads(l) for l in p.stdout.splitlines() if l]
        rows = sorted(json.dumps(x, sort_keys=True) for x in lines if x.get("type") != "summary")
        out[q] = (p.returncode, rows)
    return out


WORDS = ["alpha", "beta", "gamma", "delta", "omega", "zeta", "eta"]


def content(rng):
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
                     for _ in range(rng.randint(1, 5))) + "\n"


def mutate(repo, rng, step):
    files = [f for f in os.listdir(repo) if f.startswith("f")]
    op = rng.choice(["edit", "add", "delete", "rename", "edit", "add", "shared", "link"])
    if op == "edit" and files:
        with open(os.path.join(repo, rng.choice(files)), "w") as fh:
            fh.write(content(rng))
    elif op == "delete" and len(files) > 1:
        git(repo, "rm", "-q", rng.choice(files))
    elif op == "rename" and files and not os.path.lexists(os.path.join(repo, f"f{step}_renamed.txt")):
        git(repo, "mv", rng.choice(files), f"f{step}_renamed.txt")
    elif op == "shared":
        # The same bytes on both branches: one document once both have it.
        with open(os.path.join(repo, "f_shared.txt"), "w") as fh:
            fh.write("shared_text alpha\n")
    elif op == "link":
        target = os.path.join(repo, f"f{step}_link")
        if not os.path.lexists(target):
            os.symlink(rng.choice(files) if files else "x", target)
    else:
        with open(os.path.join(repo, f"f{step}.txt"), "w") as fh:
            fh.write(content(rng))
    git(repo, "add", "-A", ".")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"step {step} {op}")


def shard_stats(ix):
    m = json.load(open(os.path.join(ix, "MANIFEST")))
    shards = m["repos"][0]["shards"]
    return {s: (os.stat(os.path.join(ix, s)).st_ino, os.stat(os.path.join(ix, s)).st_mtime_ns)
            for s in shards}, m["repos"][0]


def make_repo(repo, rng, n_files):
    """A repository of n_files random text files on main, with a branch dev at the same commit."""
    os.makedirs(repo)
    git(repo, "init", "-q")
    for i in range(n_files):
        with open(os.path.join(repo, f"f{i}.txt"), "w") as fh:
            fh.write(content(rng))
    git(repo, "add", "-A", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "branch", "dev")


def shard_to_v2(path):
    """Rewrites a version 3 or 4 shard (the same layout, eight required sections) as a version 2
    writer would have written it: the posting lists without their mask bytes (one per id), the
    sections after POSTINGS moved up, the checksums redone (docs/index-format.md). Used to test
    an index made before the upgrade."""
    import struct
    import zlib
    b = bytearray(open(path, "rb").read())
    version, n_sec = struct.unpack_from("<I", b, 8)[0], struct.unpack_from("<I", b, 16)[0]
    assert version in (3, 4) and n_sec == 8, (version, n_sec)
    toc = {}
    for i in range(8):
        sid, _, off, ln, _, cnt = struct.unpack_from("<IIQQII", b, 64 + 32 * i)
        toc[sid] = [i, off, ln, cnt]
    _, p_off, p_len, _ = toc[6]
    _, t_off, t_len, _ = toc[5]
    n_tri = t_len // 16
    entries = [struct.unpack_from("<IIQ", b, t_off + 16 * k) for k in range(n_tri)]
    lists = bytearray()
    new_offs = []
    for k, (_, count, off) in enumerate(entries):
        end = entries[k + 1][2] if k + 1 < n_tri else p_len
        new_offs.append(len(lists))
        lists += b[p_off + off:p_off + end - count]
    shrink = p_len - len(lists)
    out = bytearray(b[:p_off]) + lists + b[p_off + p_len:]
    for sid, (i, off, ln, cnt) in toc.items():
        if sid == 6:
            ln = len(lists)
        elif off > p_off:
            off -= shrink
        toc[sid] = [i, off, ln, cnt]
    t_new = toc[5][1]
    for k, (tri, count, _) in enumerate(entries):
        struct.pack_into("<IIQ", out, t_new + 16 * k, tri, count, new_offs[k])
    for sid, (i, off, ln, cnt) in toc.items():
        crc = zlib.crc32(bytes(out[off:off + ln])) & 0xffffffff
        struct.pack_into("<IIQQII", out, 64 + 32 * i, sid, 0, off, ln, crc, cnt)
    struct.pack_into("<I", out, 8, 2)
    struct.pack_into("<Q", out, 24, len(out))
    struct.pack_into("<I", out, 20, 0)
    struct.pack_into("<I", out, 20, zlib.crc32(bytes(out[:320])) & 0xffffffff)
    tmp = path + ".v2"
    with open(tmp, "wb") as fh:
        fh.write(out)
    os.replace(tmp, path)


def shard_version(path):
    with open(path, "rb") as fh:
        return int.from_bytes(fh.read(12)[8:12], "little")


def upgrade(tmp, rng):
    """An index of version 2 shards (made before posting masks) keeps answering the same, and
    incremental re-indexes add shards of the current version (4) beside the old ones."""
    repo = os.path.join(tmp, "up-repo")
    ix = os.path.join(tmp, "up-ix")
    # Enough files that three small commits stay under the 10% that triggers compaction.
    make_repo(repo, rng, 60)
    rc, out = index(ix, repo)
    old = [f for f in os.listdir(ix) if f.endswith(".shard")]
    for f in old:
        shard_to_v2(os.path.join(ix, f))
    v = subprocess.run([TRAWL, "verify", ix], capture_output=True, text=True)
    ok(rc == 0 and old and all(shard_version(os.path.join(ix, f)) == 2 for f in old) and
       v.returncode == 0, "an index rewritten as version 2 shards passes trawl verify",
       out + v.stdout + v.stderr)
    full = os.path.join(tmp, "up-full")
    rc, out = index(full, repo)
    ok(rc == 0 and results(ix) == results(full),
       "version 2 shards answer every query as a version 4 index does", out)
    shutil.rmtree(full)
    mismatches = []
    for step in range(3):
        git(repo, "checkout", "-q", "main")
        mutate(repo, rng, 5000 + step)
        rc, out = index(ix, repo)
        full = os.path.join(tmp, f"up-full{step}")
        rc2, out2 = index(full, repo)
        if rc != 0 or rc2 != 0 or results(ix) != results(full):
            mismatches.append(f"step {step}: {out} {out2}")
        shutil.rmtree(full, ignore_errors=True)
    now = [f for f in os.listdir(ix) if f.endswith(".shard")]
    kept = [f for f in old if f in now]
    added = [f for f in now if f not in old]
    ok(not mismatches and kept and added and
       all(shard_version(os.path.join(ix, f)) == 2 for f in kept) and
       all(shard_version(os.path.join(ix, f)) == 4 for f in added),
       "incremental re-indexes over version 2 shards add version 4 shards and answer as a full "
       "index", "\n".join(mismatches) + f" kept {kept} added {added}")


def main():
    seed = int(os.environ.get("TRAWL_TEST_SEED", "4242"))
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="trawl-incr.")
    try:
        repo = os.path.join(tmp, "repo")
        inc = os.path.join(tmp, "inc")
        make_repo(repo, rng, 6)
        rc, out = index(inc, repo)
        ok(rc == 0, "the first index of two branches", out)
        incremental_runs = 0
        compactions = 0
        mismatches = []
        rewritten = []
        for step in range(30):
            branch = rng.choice(["main", "dev"])
            git(repo, "checkout", "-q", branch)
            for _ in range(rng.randint(1, 2)):
                mutate(repo, rng, step)
            if rng.random() < 0.2:  # sometimes both branches move before a re-index
                other = "dev" if branch == "main" else "main"
                git(repo, "checkout", "-q", other)
                mutate(repo, rng, step + 1000)
            git(repo, "checkout", "-q", "main")
            before, _ = shard_stats(inc)
            rc, out = index(inc, repo)
            if rc != 0:
                mismatches.append(f"step {step}: index failed: {out}")
                break
            after, entry = shard_stats(inc)
            kept = [s for s in before if s in after]
            if kept:
                incremental_runs += 1
            else:
                compactions += 1
            rewritten += [f"step {step}: {s}" for s in kept if before[s] != after[s]]
            full = os.path.join(tmp, f"full{step}")
            rc, out = index(full, repo)
            if rc != 0:
                mismatches.append(f"step {step}: full index failed: {out}")
                break
            a, b = results(inc), results(full)
            for q in QUERIES:
                if a[q] != b[q]:
                    mismatches.append(f"step {step} query {q!r}:\n incremental {a[q]}\n full {b[q]}")
            shutil.rmtree(full)
        ok(not mismatches, f"30 rounds of random commits: incremental results equal a full index (seed {seed})",
           "\n".join(mismatches[:3]))
        ok(incremental_runs > 5, f"most re-indexes were incremental ({incremental_runs} of 30)")
        ok(compactions >= 1, f"deltas were compacted into a full rebuild ({compactions} times)")
        ok(not rewritten, "kept shards were never rewritten", "\n".join(rewritten[:5]))
        before, _ = shard_stats(inc)
        mtime = os.stat(os.path.join(inc, "MANIFEST")).st_mtime_ns
        rc, out = index(inc, repo)
        after, _ = shard_stats(inc)
        ok(rc == 0 and before == after and
           os.stat(os.path.join(inc, "MANIFEST")).st_mtime_ns == mtime,
           "a re-index with no branch moved touches nothing", out)
        # A branch whose old commit is gone (rewritten history) falls back to a full run.
        git(repo, "checkout", "-q", "dev")
        git(repo, "reset", "-q", "--hard", "main")
        with open(os.path.join(repo, "f_new.txt"), "w") as fh:
            fh.write("omega after reset\n")
        git(repo, "add", "-A", ".")
        git(repo, "commit", "-q", "-m", "after reset")
        git(repo, "checkout", "-q", "main")
        git(repo, "reflog", "expire", "--expire=now", "--all")
        git(repo, "gc", "-q", "--prune=now")
        rc, out = index(inc, repo)
        full = os.path.join(tmp, "full-reset")
        rc2, out2 = index(full, repo)
        ok(rc == 0 and rc2 == 0 and results(inc) == results(full),
           "after a rewritten branch (old commit gone) the results still equal a full index",
           out + out2)
        upgrade(tmp, rng)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{n}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
