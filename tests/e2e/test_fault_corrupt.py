#!/usr/bin/env python3
"""Fault test (docs/security.md, "Faults"; docs/operations.md, "When the index is damaged"): a
shard or the MANIFEST damaged on disk. Two repositories are synced; then, each time on a fresh
copy of that data directory, one of: a byte flipped in a shard's header, its CONTENT or its
POSTINGS section, the shard truncated to half or to 10 bytes, the MANIFEST replaced by garbage
or cut in the middle of its JSON. Then:
- `trawl verify` fails and names the damaged file;
- `trawl search` refuses damage it can see without reading every byte (header, table of
  contents, length, MANIFEST) with an error naming the file, and never crashes (it does not
  checksum: docs/index-format.md);
- a server started on it serves no damaged shard: it logs the error naming the file and answers
  "no index yet";
- the next `trawl sync` re-indexes the damaged repository in full (for a MANIFEST: sets it
  aside and re-indexes every repository, even when asked for one), whether or not the source
  moved: afterwards `trawl verify` passes, results equal ripgrep's on the source and nothing
  is left behind.
Output: TAP.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
from serverlib import Server, ok, done  # noqa: E402

NAMES = ["r0", "r1"]
SECTIONS = {"CONTENT": 4, "POSTINGS": 6}


def section(b, name):
    for i in range(8):
        sid, _, off, length, _, _ = struct.unpack_from("<IIQQII", b, 64 + 32 * i)
        if sid == SECTIONS[name]:
            return off, length
    raise RuntimeError("no section " + name)


def flip_at(where):
    def damage(path):
        with open(path, "rb") as f:
            b = bytearray(f.read())
        if where == "header":
            off = 4
        else:
            o, length = section(b, where)
            off = o + length // 2
        b[off] ^= 0x5a
        with open(path, "wb") as f:
            f.write(b)
    return damage


def truncate_to(size):
    def damage(path):
        n = os.path.getsize(path)
        os.truncate(path, n // 2 if size == "half" else size)
    return damage


def garbage(path):
    with open(path, "wb") as f:
        f.write(b"\x00\xffgarbage, not JSON\n")


def cut_json(path):
    with open(path, "rb") as f:
        b = f.read()
    with open(path, "wb") as f:
        f.write(b[:len(b) // 2])


# (name, target: "shard" or "MANIFEST", damage, whether trawl search must refuse it)
CASES = [
    ("a flipped header byte", "shard", flip_at("header"), True),
    ("a flipped CONTENT byte", "shard", flip_at("CONTENT"), False),
    ("a flipped POSTINGS byte", "shard", flip_at("POSTINGS"), False),
    ("a shard truncated to half", "shard", truncate_to("half"), True),
    ("a shard truncated to 10 bytes", "shard", truncate_to(10), True),
    ("a MANIFEST of garbage", "MANIFEST", garbage, True),
    ("a MANIFEST cut in the middle", "MANIFEST", cut_json, True),
]


def first_shard(data, repo):
    with open(os.path.join(data, "index", "MANIFEST")) as f:
        for r in json.load(f)["repos"]:
            if r["name"] == repo:
                return os.path.join(data, "index", r["shards"][0])
    raise RuntimeError("no shard of " + repo)


def server_refuses(data, tmp, target):
    """Whether a server started on data serves no index and logs the damaged file's name."""
    s = Server(data, "--sync-interval", "0", log_dir=tmp)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and target not in s.logtext():
            time.sleep(0.1)
        st, _, body, _ = fl.request(s.port, "GET", "/api/v1/search?q=generationmark")
        return st != 200 and target in s.logtext(), (st, body[:300], s.logtext()[-1500:])
    finally:
        s.stop()


def main():
    rnd = fl.seeded_random("test_fault_corrupt")
    tmp = tempfile.mkdtemp(prefix="trawl-faultcorrupt.")
    try:
        src, pristine = os.path.join(tmp, "src"), os.path.join(tmp, "pristine")
        os.makedirs(src)
        for n in NAMES:
            fl.write_generation(os.path.join(src, n), 0, rnd, n_files=20, pad=300)
            subprocess.run([fl.TRAWL, "repo", "add", "--data", pristine, "--allow-local",
                            os.path.join(src, n)], check=True, capture_output=True)
        p = subprocess.run([fl.TRAWL, "sync", "--data", pristine], capture_output=True,
                           text=True)
        ok(p.returncode == 0, "the first sync completes", p.stderr)
        for i, (what, kind, damage, cli_sees) in enumerate(CASES):
            data = os.path.join(tmp, "case%d" % i, "data")
            shutil.copytree(pristine, data, symlinks=True)
            target = first_shard(data, "r0") if kind == "shard" else \
                os.path.join(data, "index", "MANIFEST")
            damage(target)

            v = subprocess.run([fl.TRAWL, "verify", os.path.join(data, "index")],
                               capture_output=True, text=True)
            ok(v.returncode != 0 and target in v.stdout + v.stderr,
               "%s: trawl verify fails naming the file" % what, v.stdout + v.stderr)
            p = subprocess.run([fl.TRAWL, "search", "--data", data, "generationmark"],
                               capture_output=True, text=True)
            if cli_sees:
                ok(p.returncode == 2 and target in p.stderr,
                   "%s: trawl search refuses it naming the file" % what, p.returncode, p.stderr)
            else:
                ok(p.returncode in (0, 1, 2) and "Sanitizer" not in p.stderr,
                   "%s: trawl search does not crash" % what, p.returncode, p.stderr)
            refused, detail = server_refuses(data, os.path.dirname(data), target)
            ok(refused, "%s: a server started on it serves nothing and logs the file" % what,
               detail)

            # Every other case the source moves too: damage is found either way.
            if i % 2:
                for n in NAMES:
                    fl.write_generation(os.path.join(src, n), i + 1, rnd, n_files=20, pad=300)
            argv = [fl.TRAWL, "sync", "--data", data] + (["r0"] if kind == "MANIFEST" else [])
            p = subprocess.run(argv, capture_output=True, text=True)
            said = "MANIFEST.damaged, re-indexing every repository" if kind == "MANIFEST" \
                else "re-indexing the repository in full"
            ok(p.returncode == 0 and said in p.stderr and target in p.stderr,
               "%s: the next sync%s re-indexes, saying why" %
               (what, " r0" if kind == "MANIFEST" else ""), p.returncode, p.stderr)
            v = subprocess.run([fl.TRAWL, "verify", os.path.join(data, "index")],
                               capture_output=True, text=True)
            good, res, err = fl.cli_results(data)
            cons, bad = fl.consistent(fl.split_by_repo(res, NAMES), fl.expected(src, NAMES))
            ok(v.returncode == 0 and good and cons,
               "%s: then the index verifies and every repository's results equal ripgrep's"
               % what, v.stdout + v.stderr, err, bad)
            states = fl.repo_states(data)
            left = fl.leftovers(data)
            ok(all(states[n]["state"] == "indexed" for n in NAMES) and not left,
               "%s: every repository is indexed and nothing is left behind" % what,
               states, left)
            shutil.rmtree(os.path.dirname(data), ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
