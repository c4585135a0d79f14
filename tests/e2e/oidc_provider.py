#!/usr/bin/env python3
"""A small OpenID provider for the single sign-on tests (tests/e2e/test_oidc.py,
tests/browser/sso.mjs, test_access_matrix.py): HTTPS on 127.0.0.1 with a CA and a server
certificate it makes at start (the CA's PEM goes where the test says: trawl's --oidc-ca-file).

Routes: /.well-known/openid-configuration, /jwks, /authorize (a login form with a user name
field; or, with direct_user set, a redirect at once), /token (client_secret_basic, the code,
its redirect_uri and the PKCE verifier against the S256 challenge: a wrong one is refused),
and /admin (POST a JSON object of settings: {"switch": ..., "direct_user": ..., "users": ...,
"rotate": true}; loopback only, so a browser test can change the provider between sign-ins).

One switch at a time changes one thing in the next ID tokens (see SWITCHES). Tokens are made
here by hand (base64url JSON and a signature from cryptography), not with a JWT library: the
broken ones (alg none, HS256 keyed with the RSA public key) are what a library refuses to make.
Only Debian's python3-cryptography besides the standard library.

    python3 tests/e2e/oidc_provider.py --port 8443 --ca-out /tmp/ca.pem \\
        --client-id trawl --client-secret-file /tmp/secret --user alice@example.com:eng,ops
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import html
import ipaddress
import json
import os
import secrets
import shutil
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

# Each switch and the one thing it changes in the ID token (or the token response).
SWITCHES = {
    "none": "alg none, no signature",
    "wrong_issuer": "iss is another issuer",
    "wrong_audience": "aud is another client",
    "aud_array_no_azp": "aud is [client, other] and there is no azp",
    "expired": "exp an hour ago",
    "future_nbf": "nbf an hour ahead",
    "bad_signature": "a signature byte flipped",
    "hmac_public_key": "HS256 keyed with the RSA public key's PEM",
    "unknown_kid": "signed by a key /jwks does not serve",
    "missing_nonce": "no nonce",
    "wrong_nonce": "another nonce",
    "email_unverified": "email_verified false",
    "outside_domain": "the email's domain is elsewhere.example",
    "es256": "signed ES256 with the P-256 key",
    "no_groups": "no groups claim",
}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_json(obj):
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def uint_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def make_cert(ca_out):
    """A CA and a certificate for 127.0.0.1 and localhost signed by it: (cert PEM path, key PEM
    path) in a temporary directory; the CA's PEM written to ca_out."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trawl test IdP CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    with open(ca_out, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    d = tempfile.mkdtemp(prefix="oidc-provider-")
    cert_path, key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path, d


class Key:
    """A signing key with its kid: RSA (RS256) or P-256 (ES256)."""

    def __init__(self, kid, kind="RSA"):
        self.kid, self.kind = kid, kind
        if kind == "RSA":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.priv = ec.generate_private_key(ec.SECP256R1())
        self.alg = "RS256" if kind == "RSA" else "ES256"

    def jwk(self):
        pub = self.priv.public_key().public_numbers()
        if self.kind == "RSA":
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": uint_b64u(pub.n), "e": uint_b64u(pub.e)}
        return {"kty": "EC", "kid": self.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
                "x": b64u(pub.x.to_bytes(32, "big")), "y": b64u(pub.y.to_bytes(32, "big"))}

    def sign(self, data):
        if self.kind == "RSA":
            return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        r, s = decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def public_pem(self):
        return self.priv.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def pkce_challenge(verifier):
    return b64u(hashlib.sha256(verifier.encode()).digest())


class Provider:
    """The provider, served from a thread. users: name -> {"email", "email_verified", "groups",
    "name", "sub"}; direct_user: the user /authorize signs in at once (None: the form);
    switch: one of SWITCHES or None. token_requests: what each /token call was answered
    ((status, error or None)), so a test sees trawl's exchange."""

    def __init__(self, ca_out, client_id="trawl-test", client_secret=None, port=0):
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.users = {}
        self.direct_user = None
        self.switch = None
        self.token_delay = 0  # seconds /token waits before answering (a slow provider)
        self.lock = threading.Lock()
        self.codes = {}
        self.token_requests = []
        self.issued = []  # every code, access token and ID token handed out (the secrets)
        self.verifiers = []  # every PKCE verifier received
        self.rsa = Key("rsa-1")
        self.ec = Key("ec-1", "EC")
        self.stray = Key("stray-1")  # the unknown_kid switch's key, never served
        self.old_keys = []
        cert, key, self.tmpdir = make_cert(ca_out)
        self.cert_path, self.key_path = cert, key  # also good for a trawl on localhost
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.provider = self
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.issuer = "https://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        """Stops serving and closes the port (a provider never started: closes it only)."""
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def add_user(self, name, email=None, groups=None, email_verified=True, display=None):
        with self.lock:
            self.users[name] = {"sub": "sub-" + hashlib.sha256(name.encode()).hexdigest()[:16],
                                "email": email or name, "email_verified": email_verified,
                                "groups": list(groups) if groups is not None else [],
                                "name": display or name}

    def set_groups(self, name, groups):
        with self.lock:
            self.users[name]["groups"] = list(groups)

    def rotate(self):
        """A new RSA key signs from now on; /jwks serves it beside the old one."""
        with self.lock:
            self.old_keys.append(self.rsa)
            self.rsa = Key("rsa-%d" % (len(self.old_keys) + 1))

    def settings(self, j):
        """The admin endpoint's changes: switch, direct_user, users {name: {...}}, rotate,
        token_delay (seconds)."""
        if "token_delay" in j:
            self.token_delay = float(j["token_delay"])
        if "switch" in j:
            if j["switch"] is not None and j["switch"] not in SWITCHES:
                raise ValueError("unknown switch %r" % j["switch"])
            self.switch = j["switch"]
        if "direct_user" in j:
            self.direct_user = j["direct_user"]
        for name, u in (j.get("users") or {}).items():
            self.add_user(name, u.get("email"), u.get("groups"), u.get("email_verified", True),
                          u.get("name"))
        if j.get("rotate"):
            self.rotate()

    def discovery(self):
        i = self.issuer
        return {"issuer": i, "authorization_endpoint": i + "/authorize",
                "token_endpoint": i + "/token", "jwks_uri": i + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"]}

    def jwks(self):
        with self.lock:
            keys = [k.jwk() for k in [self.rsa] + self.old_keys + [self.ec]]
        return {"keys": keys}

    def grant_code(self, user, q):
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = {"user": user, "client_id": q.get("client_id"),
                                "redirect_uri": q.get("redirect_uri"), "nonce": q.get("nonce"),
                                "challenge": q.get("code_challenge"),
                                "method": q.get("code_challenge_method"), "used": False}
            self.issued.append(code)
        return code

    def id_token(self, entry):
        """The ID token of a code's entry, changed by the switch."""
        sw = self.switch
        u = self.users[entry["user"]]
        now = int(time.time())
        email = u["email"]
        if sw == "outside_domain":
            email = email.split("@")[0] + "@elsewhere.example"
        claims = {"iss": self.issuer, "sub": u["sub"], "aud": self.client_id, "iat": now,
                  "exp": now + 300, "nonce": entry["nonce"], "email": email,
                  "email_verified": u["email_verified"] and sw != "email_unverified",
                  "name": u["name"], "groups": u["groups"]}
        changes = {
            "wrong_issuer": {"iss": self.issuer + "/other"},
            "wrong_audience": {"aud": "another-client"},
            "aud_array_no_azp": {"aud": [self.client_id, "another-client"]},
            "expired": {"exp": now - 3600, "iat": now - 7200},
            "future_nbf": {"nbf": now + 3600},
            "wrong_nonce": {"nonce": secrets.token_urlsafe(32)},
        }
        claims.update(changes.get(sw, {}))
        if sw == "missing_nonce":
            del claims["nonce"]
        if sw == "no_groups":
            del claims["groups"]
        key = {"es256": self.ec, "unknown_kid": self.stray}.get(sw, self.rsa)
        header = {"alg": key.alg, "typ": "JWT", "kid": key.kid}
        if sw == "none":
            return b64u_json({"alg": "none", "typ": "JWT"}) + "." + b64u_json(claims) + "."
        if sw == "hmac_public_key":
            header = {"alg": "HS256", "typ": "JWT", "kid": self.rsa.kid}
            signing = (b64u_json(header) + "." + b64u_json(claims)).encode()
            mac = hmac.new(self.rsa.public_pem(), signing, hashlib.sha256).digest()
            return signing.decode() + "." + b64u(mac)
        signing = (b64u_json(header) + "." + b64u_json(claims)).encode()
        sig = bytearray(key.sign(signing))
        if sw == "bad_signature":
            sig[len(sig) // 2] ^= 0x01
        return signing.decode() + "." + b64u(bytes(sig))

    def exchange(self, auth, form):
        """The token endpoint: (status, JSON body)."""
        def refuse(error, desc):
            return 400 if error != "invalid_client" else 401, {"error": error,
                                                                 "error_description": desc}
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (urllib.parse.quote(self.client_id, safe=""),
                        urllib.parse.quote(self.client_secret, safe=""))).encode()).decode()
        if not auth or not hmac.compare_digest(auth, want):
            return refuse("invalid_client", "client_secret_basic authentication failed")
        if form.get("grant_type") != "authorization_code":
            return refuse("unsupported_grant_type", "only authorization_code")
        with self.lock:
            entry = self.codes.get(form.get("code") or "")
            if not entry or entry["used"]:
                return refuse("invalid_grant", "unknown or used code")
            entry["used"] = True
        if entry["redirect_uri"] != form.get("redirect_uri"):
            return refuse("invalid_grant", "redirect_uri differs from the authorization's")
        if entry["method"] != "S256" or not entry["challenge"]:
            return refuse("invalid_request", "no S256 code challenge")
        verifier = form.get("code_verifier") or ""
        with self.lock:
            self.verifiers.append(verifier)
        if not hmac.compare_digest(pkce_challenge(verifier), entry["challenge"]):
            return refuse("invalid_grant", "code_verifier does not match the challenge")
        tok = self.id_token(entry)
        access = secrets.token_urlsafe(32)
        with self.lock:
            self.issued += [access, tok]
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                     "id_token": tok}


FORM = """<!doctype html><html><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body><h1>Test IdP</h1><form method="post" action="/authorize">%s
<label>User name <input name="username" id="username"></label>
<button type="submit" id="idp-submit">Sign in</button></form></body></html>"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="application/json", headers=None):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode() if ctype == "application/json" else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def form(self):
        if self.headers.get("Transfer-Encoding"):
            raise ValueError("send a Content-Length, not a Transfer-Encoding")
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        return raw, dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))

    def do_GET(self):
        p = self.server.provider
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/.well-known/openid-configuration":
            return self.send(200, p.discovery())
        if url.path == "/jwks":
            return self.send(200, p.jwks())
        if url.path == "/authorize":
            return self.authorize(q, p.direct_user)
        self.send(404, {"error": "not found"})

    def authorize(self, q, user):
        """The authorization request: a redirect with a code for user, or the form (the
        request's parameters kept in hidden fields) when user is None."""
        p = self.server.provider
        if q.get("client_id") != p.client_id or q.get("response_type") != "code":
            return self.send(400, "bad client_id or response_type", "text/plain")
        if not (q.get("redirect_uri") or "").startswith("http"):
            return self.send(400, "bad redirect_uri", "text/plain")
        if user is None:
            hidden = "".join('<input type="hidden" name="%s" value="%s">'
                             % (html.escape(k), html.escape(v)) for k, v in q.items())
            return self.send(200, FORM % hidden, "text/html; charset=utf-8")
        if user not in p.users:
            return self.send(403, "no such user at the test IdP: %s" % user, "text/plain")
        code = p.grant_code(user, q)
        sep = "&" if "?" in q["redirect_uri"] else "?"
        loc = q["redirect_uri"] + sep + urllib.parse.urlencode(
            {"code": code, "state": q.get("state", "")})
        self.send(302, b"", "text/plain", {"Location": loc})

    def do_POST(self):
        p = self.server.provider
        url = urllib.parse.urlsplit(self.path)
        raw, f = self.form()
        if url.path == "/authorize":
            user = f.pop("username", "")
            return self.authorize(f, user)
        if url.path == "/token":
            if p.token_delay:
                time.sleep(p.token_delay)
            st, body = p.exchange(self.headers.get("Authorization"), f)
            with p.lock:
                p.token_requests.append((st, body.get("error")))
            return self.send(st, body)
        if url.path == "/admin":
            try:
                p.settings(json.loads(raw or "{}"))
            except (ValueError, KeyError, TypeError) as e:
                return self.send(400, {"error": str(e)})
            return self.send(200, {"ok": True, "issuer": p.issuer})
        self.send(404, {"error": "not found"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ca-out", required=True, help="where to write the CA's PEM")
    ap.add_argument("--client-id", default="trawl-test")
    ap.add_argument("--client-secret-file", help="read the client secret from here")
    ap.add_argument("--user", action="append", default=[],
                    help="NAME[:GROUP,GROUP...] (an email address as NAME)")
    ap.add_argument("--direct-user", help="sign this user in at once, without the form")
    ap.add_argument("--tls-out", help="a directory to copy the server certificate (cert.pem, for "
                    "127.0.0.1 and localhost, signed by the CA) and its key (key.pem) to")
    a = ap.parse_args()
    secret = None
    if a.client_secret_file:
        with open(a.client_secret_file) as f:
            secret = f.read().strip()
    p = Provider(a.ca_out, a.client_id, secret, a.port)
    for spec in a.user:
        name, _, groups = spec.partition(":")
        p.add_user(name, groups=[g for g in groups.split(",") if g])
    p.direct_user = a.direct_user
    if a.tls_out:
        for src, name in ((p.cert_path, "cert.pem"), (p.key_path, "key.pem")):
            shutil.copy(src, os.path.join(a.tls_out, name))
    p.start()
    print(p.issuer, flush=True)
    try:
        p.thread.join()
    except KeyboardInterrupt:
        p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
