"""What every Python end-to-end test shares: TAP output (one counter per process, whichever
module's `ok` a test calls), the binary under test, a real `trawl serve` on a free loopback
port, and one HTTP request on its own connection. Only python3's standard library.

Tests build on Server: test_serve.Server, teamlib.Server and test_listen.Server add their own
request helpers; test_tls starts it with --tls-cert and --tls-key.
"""
import http.client
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAWL = os.environ.get("TRAWL", os.path.join(ROOT, "build", "release", "trawl"))
# The same build with its test hooks (TRAWL_SYNC_CMD, TRAWL_TEST_WORKER_*): docs/internals/testing.md.
TRAWL_TEST = os.environ.get("TRAWL_TEST", os.path.join(os.path.dirname(TRAWL), "trawl-test"))

n = 0
fails = 0


def ok(cond, desc, *detail):
    """One TAP line; on failure, each detail's first 3000 characters as comment lines."""
    global n, fails
    n += 1
    if cond:
        print("ok %d - %s" % (n, desc))
    else:
        fails += 1
        print("not ok %d - %s" % (n, desc))
        for d in detail:
            for line in str(d)[:3000].splitlines():
                print("# " + line)
    sys.stdout.flush()
    return cond


def done():
    """The TAP plan, then exit: non-zero if any test failed."""
    print("1..%d" % n)
    sys.exit(1 if fails else 0)


def joined_headers(r):
    """A response's headers with lower-case names, a repeated header joined with ", " (as HTTP
    allows)."""
    h = {}
    for k, v in r.getheaders():
        k = k.lower()
        h[k] = h[k] + ", " + v if k in h else v
    return h


def request(port, method, path, body=None, headers=None, source=None, timeout=30):
    """One request on its own connection to 127.0.0.1:port, from the loopback address source if
    given: (status, headers as joined_headers gives them, body bytes, the header message)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=(source, 0) if source else None)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, joined_headers(r), data, r.msg


class Server:
    """`trawl serve` on a port the kernel picks (--listen HOST:0), so tests running side by side
    never collide. Its stdout carries only the URL line, read here (self.line) for the port;
    its log (stderr) goes to a file beside the data directory, read back with logtext().

    data: the data directory, or None to leave --data out (cwd and env then say where it is);
    args: more flags, after --data and --listen; env: variables added to the environment;
    binary: the program (TRAWL_TEST for the test hooks), TRAWL by default."""

    def __init__(self, data, *args, listen="127.0.0.1:0", env=None, cwd=None, log_dir=None,
                 binary=None):
        self.data = data
        log_dir = log_dir or os.path.join(data, "..")
        self.log_path = os.path.join(log_dir, "server-%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "wb")
        e = dict(os.environ)
        # The server may write its temporary directory: one of its own beside DATA (the
        # test's, which holds DATA, would give it all of DATA), so that every test runs it
        # with the file rights it has in production (docs/operations.md).
        if data is not None and "TMPDIR" not in (env or {}):
            e["TMPDIR"] = os.path.join(os.path.dirname(os.path.abspath(data)), "server-tmp")
            os.makedirs(e["TMPDIR"], exist_ok=True)
        e.update(env or {})
        argv = [binary or TRAWL, "serve"] + (["--data", data] if data is not None else [])
        self.p = subprocess.Popen(argv + ["--listen", listen] + list(args),
                                  stdout=subprocess.PIPE, stderr=self.log, env=e, cwd=cwd)
        self.line = self.p.stdout.readline().decode()
        m = re.search(r"https?://[^/ ]*:(\d+)/", self.line)
        if not m:
            self.p.kill()
            self.p.wait()
            raise RuntimeError("server did not start: %r %s" % (self.line, self.logtext()))
        self.port = int(m.group(1))

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()
        return self.p.returncode


def stop_clean(s, secrets):
    """Stops s, checking it exits cleanly (a sanitizer report would make it fail) and that none
    of secrets (passwords, tokens) is anywhere in its log."""
    ok(s.stop() == 0, "the server stops cleanly (no sanitizer report)")
    log = s.logtext()
    ok(all(x not in log for x in secrets), "no password or token in the server's log")


def cleanup(s, tmp):
    """The end of a test's main, whatever happened: stops s (if any) when it still runs and
    removes the temporary directory tmp."""
    if s and s.p.poll() is None:
        s.stop()
    shutil.rmtree(tmp, ignore_errors=True)
