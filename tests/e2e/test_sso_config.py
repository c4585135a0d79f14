#!/usr/bin/env python3
"""Single sign-on's configuration (docs/sso.md, docs/operations.md "trawl.conf"): the real
`trawl serve` refusing to start on each mistake with a message that names it (the client
secret's file mode, owner and kind, a missing --external-url, --client-id or accounts, the
proxy header without a trusted proxy, trawl.conf's unknown keys, malformed and repeated lines),
a flag overriding the file, password sign-in turned off, and a server whose provider is down
still serving, its login failing with a reason word that the audit trail keeps."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from serverlib import TRAWL, ok, done  # noqa: E402
from teamlib import user_add  # noqa: E402

# Nothing listens on port 9 of loopback: discovery fails at once.
ISSUER = "https://127.0.0.1:9"
OIDC = ["--oidc-issuer", ISSUER, "--oidc-client-id", "trawl"]
SECRET = "client-secret-CANARY-4711"


def serve(data, *args):
    """A start that must fail: (exit status, stderr); (-1, ...) when the server started."""
    try:
        p = subprocess.run([TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0",
                            "--sync-interval", "0"] + list(args),
                           capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return -1, "the server started"
    return p.returncode, p.stderr


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def refused(data, args, want, desc):
    st, err = serve(data, *args)
    ok(st == 2 and want in err, desc, "exit %d" % st, err)
    ok(SECRET not in err, desc + ": the secret is not printed", err)


def secret_file_checks(tmp, data, sec):
    ext = ["--external-url", "https://code.example.com"]
    loose = os.path.join(tmp, "loose")
    write(loose, SECRET, 0o640)
    refused(data, OIDC + ext + ["--oidc-client-secret-file", loose], "chmod 600",
            "a secret file group may read is refused")
    other = os.path.join(tmp, "other")
    write(other, SECRET)
    if os.geteuid() == 0:
        os.chown(other, 65534, 65534)
        refused(data, OIDC + ext + ["--oidc-client-secret-file", other], "another user",
                "a secret file of another user is refused")
    link = os.path.join(tmp, "link")
    os.symlink(sec, link)
    st, err = serve(data, *(OIDC + ext + ["--oidc-client-secret-file", link]))
    ok(st == 2 and "--oidc-client-secret-file" in err, "a symlinked secret file is refused",
       err)
    refused(data, OIDC + ext + ["--oidc-client-secret-file", tmp], "--oidc-client-secret-file",
            "a directory as the secret file is refused")
    refused(data, OIDC + ext + ["--oidc-client-secret-file", os.path.join(tmp, "none")],
            "--oidc-client-secret-file", "a missing secret file is refused")


def missing_settings(tmp, data, sec):
    refused(data, OIDC + ["--oidc-client-secret-file", sec], "needs --external-url",
            "OIDC without --external-url is refused, naming it")
    refused(data, ["--oidc-issuer", ISSUER, "--external-url", "https://code.example.com"],
            "needs --oidc-client-id", "OIDC without a client id is refused")
    refused(data, ["--oidc-client-id", "trawl"], "need --oidc-issuer",
            "an --oidc-* flag without the issuer is refused")
    laptop = os.path.join(tmp, "laptop")
    os.makedirs(laptop)
    refused(laptop, OIDC + ["--oidc-client-secret-file", sec, "--external-url",
                            "https://code.example.com"],
            "needs accounts", "OIDC in laptop mode (no account) is refused")
    refused(data, ["--auth-proxy-header", "X-Forwarded-User"], "needs --trusted-proxy",
            "the proxy header without --trusted-proxy is refused")
    refused(data, ["--auth-proxy-header", "Authorization", "--trusted-proxy", "127.0.0.2"],
            "header names", "a header trawl reads itself is refused as the proxy header")
    refused(data, ["--password-sign-in", "off"], "no way to sign in",
            "password sign-in off without SSO is refused")
    refused(data, ["--password-sign-in", "maybe"], "expected on or off",
            "--password-sign-in takes on or off")


def conf_errors(data):
    conf = os.path.join(data, "trawl.conf")
    write(conf, "# comment\nrate-signin = 10\nbogus-key = 1\n", 0o644)
    refused(data, [], "trawl.conf:3: unknown key \"bogus-key\"",
            "an unknown key in trawl.conf is refused with its file and line")
    write(conf, "rate-signin = 10\njust words\n", 0o644)
    refused(data, [], "trawl.conf:2: expected '='", "a malformed line is refused with its line")
    write(conf, "oidc-issuer = a\noidc-issuer = b\n", 0o644)
    refused(data, [], "trawl.conf:2: oidc-issuer is set twice", "a key set twice is refused")
    write(conf, "data = /elsewhere\n", 0o644)
    refused(data, [], "trawl.conf:1: unknown key \"data\"", "trawl.conf cannot move DATA")
    write(conf, "rate-signin = lots\n", 0o644)
    refused(data, [], "trawl.conf:1: the value of rate-signin", "a bad value names its line")
    os.unlink(conf)


def methods(s):
    st, _, body, _ = serverlib.request(s.port, "GET", "/api/v1/auth/methods")
    return json.loads(body) if st == 200 else {"status": st}


def sign_in(s):
    body = json.dumps({"user": "root", "password": "whatever it is 1"}).encode()
    return serverlib.request(s.port, "POST", "/api/v1/session", body,
                             {"Content-Type": "application/json"})


def flag_overrides_file(data, sec):
    conf = os.path.join(data, "trawl.conf")
    write(conf, "\n".join(["oidc-issuer = " + ISSUER, "oidc-client-id = trawl",
                           "oidc-client-secret-file = " + sec,
                           "external-url = https://code.example.com",
                           "password-sign-in = off", ""]), 0o644)
    s = serverlib.Server(data, "--sync-interval", "0")
    try:
        m = methods(s)
        ok(m == {"password": False, "oidc": True, "oidc_login_url": "/auth/oidc/login"},
           "trawl.conf alone: OIDC on, password sign-in off", m)
        st, _, body, _ = sign_in(s)
        ok(st == 403 and b"single sign-on" in body,
           "password sign-in off: POST /api/v1/session is a 403 saying to use SSO", st, body)
        login_without_provider(s)
        serverlib.stop_clean(s, [SECRET])
        reasons = audit_reasons(data)
        ok("unknown_state" in reasons, "the audit trail keeps the refusal's reason", reasons)
        ok(SECRET not in open(os.path.join(data, "audit", "audit.log")).read(),
           "neither the client secret nor the code is in the audit trail")
    finally:
        if s.p.poll() is None:
            s.stop()
    s = serverlib.Server(data, "--sync-interval", "0", "--password-sign-in", "on")
    try:
        m = methods(s)
        ok(m.get("password") is True and m.get("oidc") is True,
           "--password-sign-in on overrides the file's off", m)
        st, _, _, _ = sign_in(s)
        ok(st == 401, "password sign-in on again: a wrong password is a 401", st)
    finally:
        s.stop()
    os.unlink(conf)


def audit_reasons(data):
    reasons = []
    with open(os.path.join(data, "audit", "audit.log")) as f:
        for line in f:
            e = json.loads(line)
            if e.get("event") == "sso_refused":
                reasons.append(e.get("detail", {}).get("reason"))
    return reasons


def login_without_provider(s):
    """The provider is down: the server serves; the login explains itself."""
    st, h, body, _ = serverlib.request(s.port, "GET", "/auth/oidc/login?return_to=/search")
    ok(st == 502 and b"discovery_failed" in body and h.get("content-type", "").startswith(
        "text/html"), "provider down: the login is a 502 page with its reason word", st, body)
    ok("set-cookie" not in h, "a failed login sets no cookie", h)
    st, _, body, _ = serverlib.request(s.port, "GET", "/auth/oidc/login?return_to=//evil.example")
    ok(st == 400 and b"bad_return_to" in body, "a return_to off this server is a 400", st, body)
    st, h, body, _ = serverlib.request(s.port, "GET",
                                       "/auth/oidc/callback?state=forged&code=" + SECRET)
    ok(st == 401 and b"unknown_state" in body, "a forged callback is a 401: unknown_state",
       st, body)
    ok(SECRET.encode() not in body, "the code is not echoed", body)
    ok("__Host-trawl_session" not in h.get("set-cookie", ""), "a refused callback sets no session",
       h)
    st, _, body, _ = serverlib.request(s.port, "GET", "/auth/oidc/callback?error=access_denied")
    ok(st in (400, 401) and b"<code>" in body, "the provider's refusal is a page", st, body)


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-ssoconf-")
    try:
        data = os.path.join(tmp, "data")
        user_add(data, "root", admin=True)
        sec = os.path.join(tmp, "secret")
        write(sec, SECRET + "\n")
        secret_file_checks(tmp, data, sec)
        missing_settings(tmp, data, sec)
        conf_errors(data)
        flag_overrides_file(data, sec)
    finally:
        serverlib.cleanup(None, tmp)
    done()


if __name__ == "__main__":
    main()
