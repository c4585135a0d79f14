#!/usr/bin/env python3
"""A frontend's searcher set from DNS (--searchers-dns HOST:PORT; docs/operations.md, "Running
a cluster"), with glibc resolving from a hosts file of the test's own: the frontend runs in a
private mount namespace where that file is bind-mounted on /etc/hosts (and an nsswitch.conf
that reads files only, so nothing waits on a name server). Searchers s0, s1, s2 listen on
127.0.0.2, .3, .4 at one port; the hosts file names each address sN.trawl-searcher.test and
gives them all the Service's name trawl-searcher.test, as a headless Service's DNS does. Proves:

- the frontend finds s0 and s1 and answers as one process over all the repositories;
- s2 written into the hosts file joins within the 10 s re-resolution (no signal): the
  repositories rendezvous hashing now gives it are sent to it, and the answers stay one
  process's;
- an address named by itself (127-0-0-9..., what the Service gives a pod without a hostname)
  refuses the whole resolution on SIGHUP: the set stays as it was, with an error logged;
- `trawl cluster assign --searchers-dns` assigns as the frontend does; a name without an
  address refuses to start, with the message naming it.

Needs root (unshare -m, mount --bind): without it a "# SKIP" line says so.

    python3 tests/e2e/test_cluster_dns.py
"""
import base64
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import git  # noqa: E402
from teamlib import Server, TRAWL, done, index_repo, ok, trawl, write_tree  # noqa: E402
from test_cluster import assign, compare, get, repo_files, urlq  # noqa: E402

N_REPOS = 10
SERVICE = "trawl-searcher.test"
ADDRS = {"s0": "127.0.0.2", "s1": "127.0.0.3", "s2": "127.0.0.4"}
WRAPPER = """#!/bin/sh
# trawl with the test's /etc/hosts and /etc/nsswitch.conf, in a mount namespace of its own.
exec unshare -m sh -c 'mount --bind "$DNS_HOSTS" /etc/hosts &&
  mount --bind "$DNS_NSS" /etc/nsswitch.conf && exec "$DNS_TRAWL" "$@"' sh "$@"
"""


def can_unshare():
    if os.geteuid() != 0:
        return "unshare -m and mount --bind need root (this test runs as uid %d)" % os.geteuid()
    p = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /etc/hosts /etc/hosts"],
                       capture_output=True, text=True)
    return None if p.returncode == 0 else "unshare -m fails here: " + p.stderr.strip()


def common_port():
    """A port free on every searcher's address: a Service has one port for all its pods."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((ADDRS["s0"], 0))
            port = s.getsockname()[1]
        try:
            for a in ADDRS.values():
                with socket.socket() as s:
                    s.bind((a, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on all of " + ", ".join(ADDRS.values()))


def hosts_text(names, extra=""):
    lines = ["127.0.0.1 localhost"]
    lines += ["%s %s.%s %s" % (ADDRS[n], n, SERVICE, SERVICE) for n in names]
    return "\n".join(lines) + "\n" + extra


def indexer_dns(tmp, spec, env, wrapper, repos):
    """An indexer resolves before each sync and syncs what its --self owns among the searchers
    DNS gives (s0, s1, s2 now); one whose --self is not among them skips, logged."""
    data = os.path.join(tmp, "data-indexer")
    for r in repos:
        src = os.path.join(tmp, "git", r)
        write_tree(src, {"a.txt": "hello from %s\n" % r})
        for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "x"]):
            git(src, *args)
        trawl("repo", "add", "file://" + src, "--name", r, "--allow-local", data=data)
    mine = sorted(r for r, o in assign(["s0", "s1", "s2"], repos).items() if o == "s1")
    for self, words in (("s9", "--self is not among the searchers"), ("s1", "sync finished")):
        ix = Server(data, "--role", "indexer", "--self", self, "--searchers-dns", spec,
                    "--sync-interval", "1s", env=env, binary=wrapper)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and words not in ix.logtext():
                time.sleep(0.2)
            _, out, _ = trawl("ls", "-d", os.path.join(data, "index"), check=False)
            got = sorted({line.split("/")[0] for line in out.splitlines() if line})
            if self == "s9":
                ok(words in ix.logtext() and not got,
                   "an indexer whose --self DNS does not give skips its sync, logged",
                   got, ix.logtext()[-1500:])
            else:
                ok(mine and got == mine, "the indexer synced what s1 owns among s0, s1, s2: "
                   + " ".join(mine), got, ix.logtext()[-1500:])
        finally:
            ix.stop()


def main():
    why = can_unshare()
    if why:
        print("1..0 # SKIP " + why)
        return
    tmp = tempfile.mkdtemp(prefix="trawl-cluster-dns-")
    servers = []
    try:
        rng = random.Random(31)
        repos = ["repo%02d" % i for i in range(N_REPOS)]
        for i, r in enumerate(repos):
            write_tree(os.path.join(tmp, "src", r), repo_files(rng, i))
        secret = os.path.join(tmp, "cluster.secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(base64.b64encode(os.urandom(32)) + b"\n")
        owner2, owner3 = assign(["s0", "s1"], repos), assign(["s0", "s1", "s2"], repos)
        moved = sorted(r for r in repos if owner2[r] != owner3[r])
        ok(moved and all(owner3[r] == "s2" for r in moved),
           "s2 takes %d of %d repositories, all from the others" % (len(moved), len(repos)))

        one = os.path.join(tmp, "data-one")
        for r in repos:
            index_repo(one, r, os.path.join(tmp, "src", r))
        servers.append(Server(one))
        port = common_port()
        searchers = {}
        for n, share in (("s0", owner2), ("s1", owner2), ("s2", owner3)):
            d = os.path.join(tmp, "data-" + n)
            os.makedirs(d)
            for r in repos:
                if share[r] == n:
                    index_repo(d, r, os.path.join(tmp, "src", r))
            searchers[n] = Server(d, "--role", "searcher", "--self", n,
                                  "--cluster-secret-file", secret,
                                  listen="%s:%d" % (ADDRS[n], port),
                                  env={"TRAWL_TEST_CLUSTER_LOG": "1"})
            servers.append(searchers[n])

        hosts, nss, wrapper = (os.path.join(tmp, x) for x in ("hosts", "nsswitch.conf",
                                                               "trawl-ns"))
        with open(nss, "w") as f:
            f.write("hosts: files\n")
        with open(wrapper, "w") as f:
            f.write(WRAPPER)
        os.chmod(wrapper, stat.S_IRWXU)

        def write_hosts(text):
            # In place: the bind mount (and the sandbox's rule) hold this inode.
            with open(hosts, "w") as f:
                f.write(text)

        env = {"DNS_HOSTS": hosts, "DNS_NSS": nss, "DNS_TRAWL": TRAWL}
        spec = "%s:%d" % (SERVICE, port)
        write_hosts(hosts_text(["s0", "s1"]))
        p = subprocess.run([wrapper, "cluster", "assign", "--searchers-dns", spec] + repos,
                           capture_output=True, text=True, env=dict(os.environ, **env))
        ok(p.returncode == 0 and p.stdout == "".join("%s\t%s\n" % (r, owner2[r])
                                                     for r in repos),
           "trawl cluster assign --searchers-dns assigns as --searchers over s0, s1",
           p.returncode, p.stdout, p.stderr)

        data_fe = os.path.join(tmp, "data-fe")
        os.makedirs(data_fe)
        fe = Server(data_fe, "--role", "frontend", "--searchers-dns", spec,
                    "--cluster-secret-file", secret, env=env, binary=wrapper)
        servers.append(fe)
        qs = [("shared_word count:all", {}), ("lock", {}), ("/kmalloc.*GFP/ count:3", {}),
              ("type:repo repo", {})]
        compare(fe, servers[0], qs, "over s0 and s1 from DNS")
        ok("internal search" not in searchers["s2"].logtext(),
           "s2, not in the hosts file, is sent nothing")

        # s2 joins: no signal, the frontend's own re-resolution (every 10 s) finds it.
        write_hosts(hosts_text(["s0", "s1", "s2"]))
        t0 = time.time()
        while "internal search" not in searchers["s2"].logtext() and time.time() - t0 < 15:
            get(fe, urlq("shared_word count:all"))
            time.sleep(0.25)
        log2 = searchers["s2"].logtext()
        ok("internal search" in log2, "s2 written into the hosts file joins within %.1f s" %
           (time.time() - t0), fe.logtext()[-1500:])
        ok("--searchers-dns: the searchers changed" in fe.logtext(),
           "the frontend logs the new set", fe.logtext()[-1500:])
        compare(fe, servers[0], qs, "over s0, s1 and s2 from DNS")
        st, body = get(fe, urlq("shared_word count:all"))
        hits = sorted({r["repo"] for r in json.loads(body)["results"]} & set(moved))
        ok(hits and "partial" not in json.loads(body)["summary"],
           "the repositories moved to s2 are found there: %s" % " ".join(hits), body[:500])

        indexer_dns(tmp, spec, env, wrapper, repos)

        # An address named by itself: the resolution is refused, the three stay.
        write_hosts(hosts_text(["s0", "s1", "s2"],
                               "127.0.0.9 127-0-0-9.%s %s\n" % (SERVICE, SERVICE)))
        os.kill(fe.p.pid, signal.SIGHUP)
        t0 = time.time()
        while "not resolved again" not in fe.logtext() and time.time() - t0 < 5:
            time.sleep(0.1)
        log = fe.logtext()
        ok("not resolved again" in log and "address 127.0.0.9" in log,
           "SIGHUP: an address without a pod's name refuses the resolution, logged",
           log[-1500:])
        compare(fe, servers[0], qs, "the set refused: still s0, s1 and s2")

        # Refused at start: a name without an address.
        p = subprocess.run([wrapper, "serve", "--data", data_fe, "--role", "frontend",
                            "--searchers-dns", "nosuch.test:%d" % port,
                            "--cluster-secret-file", secret, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, **env))
        ok(p.returncode != 0 and "--searchers-dns nosuch.test:%d: nosuch.test has no address"
           % port in p.stderr, "a Service name without an address refuses to start",
           p.returncode, p.stderr[-500:])
        p = subprocess.run([TRAWL, "serve", "--data", data_fe, "--role", "frontend",
                            "--searchers-dns", spec, "--searchers", "s0=127.0.0.2:1",
                            "--cluster-secret-file", secret, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        ok(p.returncode == 2 and "--searchers-dns replaces --searchers" in p.stderr,
           "--searchers-dns with --searchers is refused", p.returncode, p.stderr[-300:])

        bad = [s.logtext()[-3000:] for s in servers if s.p.poll() is None and s.stop() != 0]
        ok(not bad, "every process stops cleanly (no sanitizer report)", *bad[:2])
    finally:
        for s in servers:
            if s.p.poll() is None:
                s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
