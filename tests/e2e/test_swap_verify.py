#!/usr/bin/env python3
"""End-to-end test of the server's index watcher against shards that open fine but hold wrong
bytes (docs/index-format.md, "What is checked when"): a new index whose CONTENT or POSTINGS
section was changed is refused before it is served, the previous index keeps answering, and the
log names the file and the section; once the shard is sound again, the same MANIFEST is taken.
The one-shot CLI does not verify checksums (its documented choice): `trawl verify` does.
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
import test_serve as ts  # noqa: E402  (Server, ok, q, metric, TRAWL)

SECTIONS = {"CONTENT": 4, "POSTINGS": 6}


def section(path, name):
    """(offset, length) of section name in the shard at path, from its table of contents."""
    with open(path, "rb") as f:
        head = f.read(64 + 8 * 32)
    for i in range(8):
        sid, _, off, length, _, _ = struct.unpack_from("<IIQQII", head, 64 + 32 * i)
        if sid == SECTIONS[name]:
            return off, length
    raise RuntimeError("no section %s in %s" % (name, path))


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))


def manifest_shards(ix):
    with open(os.path.join(ix, "MANIFEST")) as f:
        return [s for r in json.load(f)["repos"] for s in r["shards"]]


def publish(stage, ix):
    """Makes ix list what stage lists: new shard files first, then the MANIFEST, renamed."""
    for s in manifest_shards(stage):
        if not os.path.exists(os.path.join(ix, s)):
            shutil.copy(os.path.join(stage, s), os.path.join(ix, s))
    shutil.copy(os.path.join(stage, "MANIFEST"), os.path.join(ix, "MANIFEST.new"))
    os.rename(os.path.join(ix, "MANIFEST.new"), os.path.join(ix, "MANIFEST"))


def wait_for(cond, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def lines_of(s, word):
    st, _, body = s.json("/api/v1/search?q=" + ts.q(word))
    return st, sorted(l["text"] for r in body.get("results", []) for l in r.get("lines", []))


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-swapverify.")
    try:
        src = os.path.join(tmp, "proj")
        os.makedirs(src)
        with open(os.path.join(src, "a.txt"), "w") as f:
            f.write("alpha marker\n")
        data = os.path.join(tmp, "data")
        ix = os.path.join(data, "index")
        subprocess.run([ts.TRAWL, "index", "-q", "-o", ix, "--name", "proj", src], check=True)
        s = ts.Server(data, "--sync-interval", "0")
        try:
            st, got = lines_of(s, "marker")
            ts.ok(st == 200 and got == ["alpha marker"], "the first index is served", st, got)
            version = 0
            for name in ("CONTENT", "POSTINGS"):
                version += 1
                # The next state of the index, built aside, with one byte of the new shard
                # changed in a section that opening does not checksum.
                stage = os.path.join(tmp, "stage-%s" % name)
                shutil.copytree(ix, stage)
                with open(os.path.join(src, "a.txt"), "w") as f:
                    f.write("version%d marker\n" % version)
                subprocess.run([ts.TRAWL, "index", "-q", "-o", stage, "--name", "proj", src],
                               check=True)
                new = manifest_shards(stage)[0]
                path = os.path.join(stage, new)
                good = open(path, "rb").read()
                off, length = section(path, name)
                flip(path, off + length // 2 if name == "POSTINGS" else off)
                p = subprocess.run([ts.TRAWL, "search", "-d", stage, "-e", "marker"],
                                   capture_output=True)
                ts.ok(p.returncode in (0, 1, 2), "CLI over the %s flip: an answer, no crash "
                      "(checksums are trawl verify's job)" % name, p.returncode)
                p = subprocess.run([ts.TRAWL, "verify", stage], capture_output=True)
                ts.ok(p.returncode == 2 and new.encode() in p.stderr and
                      name.encode() in p.stderr, "trawl verify names the shard and %s" % name,
                      p.stderr)
                swaps0 = ts.metric(s, "trawl_index_swaps_total")
                log0 = len(s.logtext())
                publish(stage, ix)
                refused = wait_for(lambda: "cannot open the index" in s.logtext()[log0:])
                log = s.logtext()[log0:]
                ts.ok(refused and new in log and name in log,
                      "a %s flip: the server refuses the new index, logging file and section"
                      % name, log[-2000:])
                st, got = lines_of(s, "marker")
                ts.ok(st == 200 and got == ["alpha marker" if version == 1 else
                                            "version%d marker" % (version - 1)],
                      "a %s flip: the previous index keeps answering" % name, st, got)
                ts.ok(ts.metric(s, "trawl_index_swaps_total") == swaps0,
                      "a %s flip: no swap happened" % name)
                # The same state with the shard sound again is taken (the refusal was the flip).
                with open(os.path.join(ix, new), "wb") as f:
                    f.write(good)
                publish(stage, ix)
                swapped = wait_for(lambda: ts.metric(s, "trawl_index_swaps_total") > swaps0)
                st, got = lines_of(s, "marker")
                ts.ok(swapped and got == ["version%d marker" % version],
                      "the sound shard under a new MANIFEST is served", got)
                shutil.rmtree(stage)
        finally:
            s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % ts.n)
    sys.exit(1 if ts.fails else 0)


if __name__ == "__main__":
    main()
