#!/usr/bin/env python3
# serial: A8 compares sign-in times, and F2 fills the sign-in bound with argon2id hashes (256 MiB each)
"""The timing-sensitive half of test_auth_serve.py's team-mode tests (docs/security.md, A8 and
F2), kept apart so that only these run alone (tests/run.sh's "serial"): user enumeration by
answer and time (A8: 15 sign-ins a side, unknown user against wrong password, medians
compared), and sign-ins hashing on their own threads within a server-wide bound (F2: with the
bound full, /healthz and a token search still answer and one sign-in more is a 503). The rest
of the accounts' end-to-end tests, which compare no times, are in test_auth_serve.py and run
beside other tests. Output: TAP.

    python3 tests/e2e/test_auth_timing.py
"""
import os
import shutil
import sys
import tempfile

import test_auth_serve as tas
import test_serve as ts
from test_serve import ok, Server, TRAWL


def main():
    if not os.access(TRAWL, os.X_OK):
        print("not ok 1 - no trawl binary at " + TRAWL)
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="trawl-auth-timing.")
    try:
        data = tas.make_data(tmp, "team")
        # A8 spreads its wrong passwords over these three accounts (the account throttle).
        for name, admin in (("root", True), ("alice", False), ("bob", False)):
            tas.cli("user", "add", name, "--password-stdin", "--data", data,
                    *(["--admin"] if admin else []), stdin=(tas.PW + "\n").encode())
        admin_tok = tas.cli("token", "create", "root", "--scope", "admin",
                            "--data", data).strip()
        s = Server(data, "--sync-interval", "0")
        try:
            tas.test_a8(s)
            tas.test_signin_threads(s, admin_tok)
            log = s.logtext()
            ok(tas.PW not in log and "trawl_" not in log and tas.COOKIE + "=" not in log,
               "no password, token or session id in the server's log")
            ok(s.stop() == 0, "team: SIGTERM stops the server cleanly")
        finally:
            if s.p.poll() is None:
                s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % ts.n)
    sys.exit(1 if ts.fails else 0)


if __name__ == "__main__":
    main()
