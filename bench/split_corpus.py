#!/usr/bin/env python3
"""Splits a corpus into N repositories of consecutive files (bench/split.sh, bench/cluster.sh):
SPLIT/r00000 ... each holding its share of the corpus's files, hard-linked (copied when the
corpus is on another file system), in sorted order.

    python3 bench/split_corpus.py CORPUS SPLIT N
"""
import os
import shutil
import sys


def main():
    corpus, split, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = []
    for root, dirs, names in os.walk(corpus):
        dirs.sort()
        for name in sorted(names):
            p = os.path.join(root, name)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(os.path.relpath(p, corpus))
    per = -(-len(files) // n)
    for i in range(n):
        dest = os.path.join(split, "r%05d" % i)
        os.makedirs(dest, exist_ok=True)
        for rel in files[i * per:(i + 1) * per]:
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            try:
                os.link(os.path.join(corpus, rel), out)
            except OSError:
                shutil.copy2(os.path.join(corpus, rel), out)
    print("split %d files into %d repositories of up to %d" % (len(files), n, per))


if __name__ == "__main__":
    main()
