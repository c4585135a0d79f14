#!/usr/bin/env python3
"""End-to-end test of shard sections this trawl does not know (docs/index-format.md, "Section
flags"): a shard that a later trawl wrote with an extra optional section is searched as if the
section were not there, `trawl verify` lists it and checks its checksum, the server verifies it
before a swap; an extra required section makes the shard refused, naming the section id.
Output: TAP.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serve as ts  # noqa: E402  (Server, ok, metric, TRAWL)
import test_swap_verify as sv  # noqa: E402  (publish, wait_for, lines_of, manifest_shards)

FUTURE_ID = 1000
OPTIONAL = 0x1
DATA = b"symbols of a later trawl"


def add_section(path, sid, flags, data):
    """Rewrites the shard at path as a writer that knows section sid would: one more TOC entry
    (the sections after it move down by 32 bytes), the data appended, the checksums redone."""
    b = open(path, "rb").read()
    n = struct.unpack_from("<I", b, 16)[0]
    toc_end = 64 + 32 * n
    out = bytearray(b[:64])
    for i in range(n):
        e = bytearray(b[64 + 32 * i:96 + 32 * i])
        struct.pack_into("<Q", e, 8, struct.unpack_from("<Q", e, 8)[0] + 32)
        out += e
    out += struct.pack("<IIQQII", sid, flags, len(b) + 32, len(data),
                       zlib.crc32(data) & 0xffffffff, 0)
    out += b[toc_end:] + data
    struct.pack_into("<I", out, 16, n + 1)
    struct.pack_into("<Q", out, 24, len(out))
    struct.pack_into("<I", out, 20, 0)
    struct.pack_into("<I", out, 20, zlib.crc32(bytes(out[:toc_end + 32])) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(out)


def trawl(*args):
    return subprocess.run([ts.TRAWL, *args], capture_output=True, text=True)


def index_with(tmp, name, text, flags):
    """A one-file index at tmp/name whose shard has a FUTURE_ID section tagged flags."""
    src = os.path.join(tmp, name + "-src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write(text)
    ix = os.path.join(tmp, name)
    subprocess.run([ts.TRAWL, "index", "-q", "-o", ix, "--name", "proj", src], check=True)
    shard = sv.manifest_shards(ix)[0]
    add_section(os.path.join(ix, shard), FUTURE_ID, flags, DATA)
    return ix, shard


def cli(tmp):
    ix, shard = index_with(tmp, "optional", "alpha marker\n", OPTIONAL)
    p = trawl("search", "-d", ix, "-e", "marker")
    ts.ok(p.returncode == 0 and p.stdout == "proj/a.txt:1:alpha marker\n",
          "a shard with an unknown optional section is searched", p.returncode, p.stdout,
          p.stderr)
    p = trawl("verify", ix)
    ts.ok(p.returncode == 0 and ("ok %s/%s" % (ix, shard)) in p.stdout and
          "unknown optional section id 1000 (%d bytes): checksum ok, skipped" % len(DATA)
          in p.stdout, "trawl verify lists the unknown optional section", p.stdout, p.stderr)
    path = os.path.join(ix, shard)
    sv.flip(path, os.path.getsize(path) - 2)
    p = trawl("search", "-d", ix, "-e", "marker")
    ts.ok(p.returncode == 0 and "alpha marker" in p.stdout,
          "a damaged unknown optional section does not stop a search (it is skipped)",
          p.returncode, p.stderr)
    p = trawl("verify", ix)
    ts.ok(p.returncode == 2 and shard in p.stderr and
          "section id 1000 checksum mismatch" in p.stderr,
          "trawl verify catches a damaged unknown section, naming the shard and the id",
          p.returncode, p.stdout, p.stderr)

    ix, shard = index_with(tmp, "required", "alpha marker\n", 0)
    p = trawl("search", "-d", ix, "-e", "marker")
    ts.ok(p.returncode == 2 and shard in p.stderr and
          "unknown section id 1000 is marked required" in p.stderr,
          "a shard with an unknown required section is refused, naming the shard and the id",
          p.returncode, p.stdout, p.stderr)
    p = trawl("verify", ix)
    ts.ok(p.returncode == 2 and "unknown section id 1000" in p.stderr,
          "trawl verify refuses it too", p.returncode, p.stderr)


def server(tmp):
    """The server serves a shard with an unknown optional section, and refuses a new index
    whose unknown section is damaged before swapping it in (its verification checksums it)."""
    data = os.path.join(tmp, "data")
    ix = os.path.join(data, "index")
    src = os.path.join(tmp, "srv-src")
    os.makedirs(src)
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write("first marker\n")
    subprocess.run([ts.TRAWL, "index", "-q", "-o", ix, "--name", "proj", src], check=True)
    add_section(os.path.join(ix, sv.manifest_shards(ix)[0]), FUTURE_ID, OPTIONAL, DATA)
    s = ts.Server(data, "--sync-interval", "0")
    try:
        st, got = sv.lines_of(s, "marker")
        ts.ok(st == 200 and got == ["first marker"],
              "the server serves a shard with an unknown optional section", st, got)
        stage = os.path.join(tmp, "stage")
        shutil.copytree(ix, stage)
        with open(os.path.join(src, "a.txt"), "w") as f:
            f.write("second marker\n")
        subprocess.run([ts.TRAWL, "index", "-q", "-o", stage, "--name", "proj", src],
                       check=True)
        new = sv.manifest_shards(stage)[0]
        path = os.path.join(stage, new)
        add_section(path, FUTURE_ID, OPTIONAL, DATA)
        sv.flip(path, os.path.getsize(path) - 1)
        swaps0 = ts.metric(s, "trawl_index_swaps_total")
        log0 = len(s.logtext())
        sv.publish(stage, ix)
        refused = sv.wait_for(lambda: "cannot open the index" in s.logtext()[log0:])
        log = s.logtext()[log0:]
        st, got = sv.lines_of(s, "marker")
        ts.ok(refused and new in log and "section id 1000" in log and got == ["first marker"]
              and ts.metric(s, "trawl_index_swaps_total") == swaps0,
              "a damaged unknown section: the server refuses the new index and keeps the old",
              log[-2000:], got)
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-sections.")
    try:
        cli(tmp)
        server(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % ts.n)
    sys.exit(1 if ts.fails else 0)


if __name__ == "__main__":
    main()
