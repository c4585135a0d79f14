#!/usr/bin/env python3
"""The permission matrix (test_access_matrix.py) through a cluster's fan-out: the server under
test is a frontend over two searchers that hold the three repositories between them
(rendezvous hashing), the baselines one process each. Every route, every principal, the
canary nowhere for those without access, the searches equal to an index of only what the caller
may read, a hidden repository answering as a missing one, grants taking effect at once: as one
process (issue 18: "the permission matrix of the teams issue holds through the fan-out").

    python3 tests/e2e/test_access_matrix_cluster.py

asan: no (its server code runs under ASan in test_access_matrix.py, test_cluster.py and
test_cluster_attack.py: CI's 30 minutes)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_access_matrix  # noqa: E402

if __name__ == "__main__":
    test_access_matrix.main(cluster=True)
