#!/usr/bin/env python3
"""Field-level minimisation of the HTTP API (docs/security.md, Z6), on the real server.

Every route of the route table (tests/unit/server/route_matrix.expected) is called as an
administrator, a user, an anonymous caller (--allow-anonymous), a browser session and laptop
mode's local user where their answers differ, and every JSON body (success, error, each event
of the stream) is validated against a schema of tests/e2e/schemas/, one file per response
type, with "additionalProperties": false on every object: a field added to an answer fails
here until its schema is changed on purpose. The route table and the schemas must cover each
other. Also: what no one but an administrator gets (remote URLs, sync errors, DATA's paths),
what no one gets (password hashes, other users' secrets), and that every route with a body
refuses a field it does not list (400 naming the field; mass assignment) before doing anything.

    python3 tests/e2e/test_api_schema.py
    DUMP=1 python3 tests/e2e/test_api_schema.py   # also prints every body checked
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teamlib import ROOT, Server, done, ok, token_create, trawl, user_add  # noqa: E402

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
MATRIX = os.path.join(ROOT, "tests", "unit", "server", "route_matrix.expected")
ROOT_PW = "root's password for the schema test"
BOB_PW = "bob's password for the schema test"
CAROL_PW = "carol's password for the schema test"
CAROL_PW2 = "carol's second password, longer"
DUMP = os.environ.get("DUMP") == "1"

# Every route name of the table, and every kind of answer it gives: a schema of
# tests/e2e/schemas/ ("repos_reader" is schemas/repos_reader.json), "empty" (204, no body) or
# "text:TYPE" (a body that is not JSON, by its Content-Type). Each is exercised below.
ROUTES = {
    "search": ["search", "error"],
    "search_stream": ["stream_matches", "stream_progress", "search_alert", "search_summary",
                      "error"],
    "symbols": ["symbols", "error"],
    "repos": ["repos_admin", "repos_reader", "error"],
    "repo": ["repo_admin", "repo_reader", "error"],
    "tree": ["tree", "error"],
    "paths": ["paths", "error"],
    "file": ["file", "error"],
    "raw": ["text:text/plain", "error"],
    "definition": ["definition", "error"],
    "references": ["references", "error"],
    "outline": ["outline", "error"],
    "readme": ["readme", "error"],
    "filters": ["filters", "error"],
    "session_create": ["session", "error"],
    "session_delete": ["empty", "error"],
    "me": ["me", "me_session", "error"],
    "password": ["empty", "error"],
    "notices_read": ["empty", "error"],
    "tokens_list": ["tokens", "error"],
    "token_create": ["token_created", "error"],
    "token_revoke": ["empty", "error"],
    "auth_methods": ["auth_methods"],
    "healthz": ["healthz_admin", "healthz"],
    "readyz": ["readyz"],
    "metrics": ["text:text/plain", "error"],
    "admin_users": ["users", "error"],
    "admin_user_add": ["user_created", "error"],
    "admin_user_set": ["user", "error"],
    "admin_user_password": ["empty", "error"],
    "admin_groups": ["groups", "error"],
    "admin_group_add": ["group", "error"],
    "admin_group_remove": ["empty", "error"],
    "admin_members": ["group", "error"],
    "admin_access": ["access", "error"],
    "admin_repo_access": ["repo_access", "error"],
    "admin_audit": ["audit", "error"],
    "admin_repo_sync": ["repo_sync", "error"],
    "api_unknown": ["error"],
    "sso_login": ["error"],
    "sso_callback": ["error"],
    "ui": ["text:text/html"],
    "asset": ["text:text/javascript", "error"],
}
# The stream's events: each one's data is checked against a schema ("error" also answers a
# query that does not parse, before the stream starts).
STREAM_EVENTS = {"matches": "stream_matches", "progress": "stream_progress",
                 "alert": "search_alert", "done": "search_summary", "error": "error"}


# ---- schemas ----

def load_schema(name):
    with open(os.path.join(SCHEMAS, name + ".json")) as f:
        return json.load(f)


def inline_refs(node, stack=()):
    """{"$ref": "NAME.json"} replaced by that schema file: one self-contained schema, whatever
    the version of the jsonschema module resolves."""
    if isinstance(node, list):
        return [inline_refs(x, stack) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.endswith(".json"):
        name = ref[:-5]
        if name in stack:
            raise ValueError("a $ref cycle through " + name)
        sub = inline_refs(load_schema(name), stack + (name,))
        sub.pop("$schema", None)
        return sub
    return {k: inline_refs(v, stack) for k, v in node.items()}


_validators = {}


def validator(name):
    if name not in _validators:
        s = inline_refs(load_schema(name), (name,))
        jsonschema.Draft7Validator.check_schema(s)
        _validators[name] = jsonschema.Draft7Validator(s)
    return _validators[name]


def schema_errors(name, doc):
    try:
        v = validator(name)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        return ["schema %s: %s" % (name, e)]
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
            for e in v.iter_errors(doc)]


def open_objects(node, where="(top)"):
    """The places of a schema where an object may carry fields it does not list."""
    found = []
    if isinstance(node, dict):
        if (node.get("type") == "object" or "properties" in node) and \
                node.get("additionalProperties") is not False:
            found.append(where)
        for k, v in node.items():
            found += open_objects(v, where + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += open_objects(v, "%s/%d" % (where, i))
    return found


# ---- checking answers ----

class Checker:
    def __init__(self, tmp):
        self.seen = {}        # route -> the kinds of answer checked
        self.tmp = tmp.encode()

    def check(self, route, who, r, status, kind, desc=""):
        """r answered status with a body of kind (a schema, "empty" or "text:TYPE")."""
        assert kind in ROUTES[route], (route, kind)
        label = "%s as %s%s: %d %s" % (route, who, " (" + desc + ")" if desc else "", status,
                                       kind)
        if DUMP:
            print("# %s\n#   %s" % (label, r.body[:2000].decode("utf-8", "replace")))
        problems = [] if r.status == status else ["status %d" % r.status]
        ctype = r.headers.get("content-type", "")
        if kind == "empty":
            problems += ["a body"] if r.body else []
        elif kind.startswith("text:"):
            problems += [] if ctype.startswith(kind[5:]) else ["content-type " + ctype]
        else:
            problems += self.json_problems(kind, r.body, ctype)
        problems += self.leaks(who, r.body)
        if ok(not problems, label, *(problems + [r.body[:600]])):
            self.seen.setdefault(route, set()).add(kind)
        return r

    def json_problems(self, kind, body, ctype="application/json"):
        if not ctype.startswith("application/json"):
            return ["content-type " + ctype]
        try:
            doc = json.loads(body)
        except ValueError as e:
            return ["not JSON: %s" % e]
        return schema_errors(kind, doc)

    def leaks(self, who, body):
        """What no answer holds: a password hash, and, but for an administrator, any path
        of this machine (DATA, the mirrors, the sources: all under tmp)."""
        found = []
        if b"$argon2" in body:
            found.append("a password hash")
        if who not in ("admin", "local", "session") and self.tmp in body:
            found.append("a path of this machine")
        return found

    def stream(self, route, who, r, want_events):
        """An SSE answer: every event's data against its schema; want_events must all occur."""
        events = []
        for block in r.body.decode("utf-8", "replace").split("\n\n"):
            name = data = None
            for line in block.split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
            if name:
                events.append((name, data))
        ok(r.status == 200 and r.headers.get("content-type", "").startswith("text/event-stream")
           and set(want_events) <= {n for n, _ in events},
           "%s as %s: events %s" % (route, who, sorted(want_events)), r.status, events[:8])
        for name, data in events:
            kind = STREAM_EVENTS.get(name)
            problems = ["unknown event"] if not kind else \
                self.json_problems(kind, (data or "").encode())
            problems += self.leaks(who, (data or "").encode())
            if ok(not problems, "%s as %s: event %s is %s" % (route, who, name, kind),
                  *(problems + [data])):
                self.seen.setdefault(route, set()).add(kind)


# ---- the fixture ----

def git(*args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com"] + list(args),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def git_repo(path, files):
    os.makedirs(path)
    git("init", "-q", "-b", "main", path)
    for p, t in files.items():
        full = os.path.join(path, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(t if isinstance(t, bytes) else t.encode())
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "c")


def make_data(tmp, with_accounts):
    """DATA with three synced repositories of the registry: app (private, a tree, a binary
    file), broken (its last sync failed: state error, last_error), pub (public)."""
    data = os.path.join(tmp, "data")
    src = os.path.join(tmp, "src")
    git_repo(os.path.join(src, "app"), {"README.md": "hello schema world\n",
                                        "src/main.c": "int main(void) { return 0; } /* hello */\n",
                                        "bin.dat": b"\x00\x01\x02hello\x00"})
    git_repo(os.path.join(src, "broken"), {"b.txt": "hello from broken\n"})
    git_repo(os.path.join(src, "pub"), {"p.txt": "hello from pub\n"})
    for name in ("app", "broken", "pub"):
        trawl("repo", "add", "--allow-local", os.path.join(src, name), data=data)
    trawl("sync", data=data)
    shutil.rmtree(os.path.join(src, "broken"))
    trawl("sync", "broken", data=data, check=False)
    trawl("repo", "set", "pub", "--public", data=data)
    if with_accounts:
        user_add(data, "root", admin=True, password=ROOT_PW)
        user_add(data, "bob", password=BOB_PW)
        trawl("group", "add", "dev", data=data)
        trawl("group", "member", "add", "dev", "bob", data=data)
        trawl("grant", "app", "--user", "bob", data=data)
        trawl("grant", "broken", "--group", "dev", data=data)
    return data


# ---- the routes ----

def reads(c, s, t):
    """The routes that read repository data, as admin, user (granted app and broken) and
    anonymous (pub only)."""
    for who in ("admin", "user", "anon"):
        tok = t.get(who)
        c.check("search", who, s.request("GET", "/api/v1/search?q=hello&context=1", token=tok),
                200, "search")
        c.check("search", who, s.request("GET", "/api/v1/search?q=type:path+p", token=tok),
                200, "search", "path results")
        c.check("search", who, s.request("GET", "/api/v1/search?q=select:repo+hello",
                                         token=tok), 200, "search", "repo results")
        c.check("search", who, s.request("GET", "/api/v1/search?q=hello+count:1", token=tok),
                200, "search", "a limit alert")
        c.stream("search_stream", who,
                 s.request("GET", "/api/v1/search/stream?q=hello+count:1&context=1", token=tok),
                 ["matches", "progress", "done"] + (["alert"] if tok else []))
        c.check("symbols", who, s.request("GET", "/api/v1/symbols?q=main&count=5", token=tok),
                200, "symbols", "an alert: synced repositories have no symbols")
        c.check("filters", who, s.request("GET", "/api/v1/filters", token=tok), 200, "filters")
        c.check("me", who, s.request("GET", "/api/v1/me", token=tok), 200, "me")
    c.check("search", "user", s.request("GET", "/api/v1/search?q=(", token=t["user"]), 400,
            "error", "a query that does not parse")
    c.check("search_stream", "user",
            s.request("GET", "/api/v1/search/stream?q=(", token=t["user"]), 400, "error")
    c.check("symbols", "user", s.request("GET", "/api/v1/symbols?q=(", token=t["user"]), 400,
            "error", "a symbol query that does not parse")
    c.check("search", "user", s.request("GET", "/api/v1/search?q=x&token=y", token=t["user"]),
            400, "error", "an unknown parameter")

    body = c.check("repos", "admin", s.request("GET", "/api/v1/repos", token=t["admin"]), 200,
                   "repos_admin").json()
    by = {r["name"]: r for r in body.get("repos", [])}
    ok(sorted(by) == ["app", "broken", "pub"] and by["broken"]["state"] == "error" and
       by["broken"]["last_error"] and by["app"]["url"].endswith("/src/app"),
       "repos: an administrator sees each repository's url and last_error", body)
    for who in ("user", "anon"):
        body = c.check("repos", who, s.request("GET", "/api/v1/repos", token=t.get(who)), 200,
                       "repos_reader").json()
        names = [r["name"] for r in body.get("repos", [])]
        ok(names == (["app", "broken", "pub"] if who == "user" else ["pub"]),
           "repos as %s: its readable repositories" % who, names)
        neg = copy.deepcopy(body)
        neg["repos"][0]["url"] = "https://alice@git.internal/app.git"
        ok(schema_errors("repos_reader", neg),
           "the validator refuses a field the schema does not list (url in repos_reader)")

    c.check("repos", "user", s.request("POST", "/api/v1/repos", {}, token=t["user"]), 405,
            "error", "a method it does not take")
    c.check("repo", "admin", s.request("GET", "/api/v1/repos/broken", token=t["admin"]), 200,
            "repo_admin")
    c.check("repo", "user", s.request("GET", "/api/v1/repos/broken", token=t["user"]), 200,
            "repo_reader")
    c.check("repo", "user", s.request("GET", "/api/v1/repos/app", token=t["user"]), 200,
            "repo_reader")
    c.check("repo", "anon", s.request("GET", "/api/v1/repos/app"), 404, "error",
            "a private repository")
    c.check("repo", "user", s.request("GET", "/api/v1/repos/nope", token=t["user"]), 404,
            "error", "an unknown repository")
    for who in ("user", "admin"):
        c.check("tree", who, s.request("GET", "/api/v1/repos/app/tree", token=t[who]), 200,
                "tree")
    c.check("tree", "user", s.request("GET", "/api/v1/repos/app/tree?path=src", token=t["user"]),
            200, "tree", "a subdirectory")
    c.check("tree", "user", s.request("GET", "/api/v1/repos/app/tree?path=../x",
                                      token=t["user"]), 400, "error", "a path that climbs")
    for who in ("user", "admin"):
        c.check("paths", who, s.request("GET", "/api/v1/repos/app/paths", token=t[who]), 200,
                "paths")
    c.check("paths", "anon", s.request("GET", "/api/v1/repos/app/paths"), 404, "error",
            "a private repository")
    c.check("file", "user", s.request("GET", "/api/v1/repos/app/file?path=README.md",
                                      token=t["user"]), 200, "file")
    c.check("file", "user", s.request("GET", "/api/v1/repos/app/file?path=bin.dat",
                                      token=t["user"]), 200, "file", "binary")
    c.check("file", "anon", s.request("GET", "/api/v1/repos/pub/file?path=p.txt"), 200, "file")
    c.check("file", "user", s.request("GET", "/api/v1/repos/app/file?path=nope",
                                      token=t["user"]), 404, "error")
    c.check("raw", "user", s.request("GET", "/api/v1/repos/app/raw?path=README.md",
                                     token=t["user"]), 200, "text:text/plain")
    c.check("raw", "user", s.request("GET", "/api/v1/repos/app/raw?path=bin.dat",
                                     token=t["user"]), 404, "error", "skipped")
    nav = "/api/v1/repos/%s/%s?path=src/main.c&line=1&col=6"
    for who in ("admin", "user"):
        c.check("definition", who, s.request("GET", nav % ("app", "definition"), token=t[who]),
                200, "definition")
        c.check("references", who, s.request("GET", nav % ("app", "references"), token=t[who]),
                200, "references")
        c.check("outline", who, s.request("GET", "/api/v1/repos/app/outline?path=src/main.c",
                                          token=t[who]), 200, "outline")
    for route in ("definition", "references"):
        c.check(route, "anon", s.request("GET", nav % ("app", route)), 404, "error",
                "a private repository")
        none_there = (nav % ("app", route)).replace("col=6", "col=16")
        c.check(route, "user", s.request("GET", none_there, token=t["user"]), 400, "error",
                "no identifier there")
    c.check("outline", "user", s.request("GET", "/api/v1/repos/app/outline?path=nope",
                                         token=t["user"]), 404, "error")
    c.check("readme", "user", s.request("GET", "/api/v1/repos/app/readme", token=t["user"]),
            200, "readme")
    c.check("readme", "user", s.request("GET", "/api/v1/repos/app/readme?path=src",
                                        token=t["user"]), 200, "readme", "a directory without one")
    c.check("readme", "user", s.request("GET", "/api/v1/repos/app/readme?path=nope",
                                        token=t["user"]), 404, "error")
    c.check("filters", "none", s.request("GET", "/api/v1/filters", token="trawl_" + "x" * 49),
            401, "error", "an unknown token")


def health(c, s, t):
    c.check("healthz", "admin", s.request("GET", "/healthz", token=t["admin"]), 200,
            "healthz_admin")
    for who in ("user", "anon"):
        c.check("healthz", who, s.request("GET", "/healthz", token=t.get(who)), 200, "healthz")
        c.check("readyz", who, s.request("GET", "/readyz", token=t.get(who)), 200, "readyz")
    c.check("metrics", "admin", s.request("GET", "/metrics", token=t["admin"]), 200,
            "text:text/plain")
    c.check("metrics", "user", s.request("GET", "/metrics", token=t["user"]), 403, "error")
    c.check("metrics", "anon", s.request("GET", "/metrics"), 401, "error")
    c.check("api_unknown", "user", s.request("GET", "/api/v1/nope", token=t["user"]), 404,
            "error")
    c.check("auth_methods", "anon", s.request("GET", "/api/v1/auth/methods"), 200,
            "auth_methods")
    # Without --oidc-issuer the single sign-on routes are missing (test_oidc.py has the rest).
    c.check("sso_login", "anon", s.request("GET", "/auth/oidc/login"), 404, "error")
    c.check("sso_callback", "anon", s.request("GET", "/auth/oidc/callback"), 404, "error")
    c.check("ui", "anon", s.request("GET", "/"), 200, "text:text/html")
    c.check("ui", "anon", s.request("GET", "/admin/users"), 200, "text:text/html")
    c.check("asset", "anon", s.request("GET", "/app.js"), 200, "text:text/javascript")
    c.check("asset", "anon", s.request("GET", "/nope.js"), 404, "error")


def sessions(c, s, t):
    """A browser session of root: sign-in, me, a refused sign-in, sign-out."""
    r = c.check("session_create", "anon",
                s.request("POST", "/api/v1/session", {"user": "root", "password": ROOT_PW}),
                200, "session")
    cookie = {"Cookie": r.headers.get("set-cookie", "").split(";")[0]}
    csrf = r.json().get("csrf_token", "")
    c.check("me", "session", s.request("GET", "/api/v1/me", headers=cookie), 200, "me_session")
    c.check("session_create", "anon",
            s.request("POST", "/api/v1/session", {"user": "root", "password": "wrong" * 3}),
            401, "error", "a wrong password")
    c.check("session_delete", "anon", s.request("DELETE", "/api/v1/session"), 401, "error")
    c.check("session_delete", "session",
            s.request("DELETE", "/api/v1/session", headers=dict(cookie, **{"X-CSRF-Token": csrf})),
            204, "empty")
    c.check("me", "none", s.request("GET", "/api/v1/me", headers=cookie), 401, "error",
            "an ended session")


def tokens(c, s, t):
    c.check("tokens_list", "user", s.request("GET", "/api/v1/tokens", token=t["user"]), 200,
            "tokens")
    c.check("tokens_list", "admin", s.request("GET", "/api/v1/tokens?user=bob",
                                              token=t["admin"]), 200, "tokens")
    c.check("tokens_list", "user", s.request("GET", "/api/v1/tokens?user=root",
                                             token=t["user"]), 403, "error", "someone else's")
    c.check("tokens_list", "anon", s.request("GET", "/api/v1/tokens"), 401, "error")
    r = c.check("token_create", "admin", s.request("POST", "/api/v1/tokens",
                                                   {"name": "ci", "user": "bob"},
                                                   token=t["admin"]), 201, "token_created")
    tid = r.json().get("token", {}).get("id", 0)
    c.check("token_create", "user", s.request("POST", "/api/v1/tokens", {"name": "x"},
                                              token=t["user"]), 403, "error",
            "a search token cannot make tokens")
    c.check("token_revoke", "user", s.request("DELETE", "/api/v1/tokens/%d" % tid,
                                              token=t["user"]), 204, "empty")
    c.check("token_revoke", "user", s.request("DELETE", "/api/v1/tokens/999999",
                                              token=t["user"]), 404, "error")


def admin(c, s, t):
    a = t["admin"]
    c.check("admin_users", "admin", s.request("GET", "/api/v1/users", token=a), 200, "users")
    c.check("admin_users", "user", s.request("GET", "/api/v1/users", token=t["user"]), 403,
            "error")
    c.check("admin_user_add", "admin",
            s.request("POST", "/api/v1/users", {"name": "carol", "password": CAROL_PW}, token=a),
            201, "user_created", "with a password")
    r = c.check("admin_user_add", "admin", s.request("POST", "/api/v1/users", {"name": "dave"},
                                                     token=a), 201, "user_created", "generated")
    ok(isinstance(r.json().get("password"), str), "a generated password is shown once", r.body)
    c.check("admin_user_add", "admin", s.request("POST", "/api/v1/users", {"name": "dave"},
                                                 token=a), 400, "error", "a taken name")
    c.check("admin_user_set", "admin", s.request("PUT", "/api/v1/users/dave",
                                                 {"display_name": "Dave"}, token=a), 200, "user")
    c.check("admin_user_set", "admin", s.request("PUT", "/api/v1/users/nobody",
                                                 {"display_name": "N"}, token=a), 404, "error")
    c.check("admin_user_password", "admin",
            s.request("PUT", "/api/v1/users/dave/password", {"password": CAROL_PW2}, token=a),
            204, "empty")
    c.check("admin_user_password", "admin",
            s.request("PUT", "/api/v1/users/dave/password", {"password": "short"}, token=a),
            400, "error", "a password the policy refuses")
    c.check("admin_groups", "admin", s.request("GET", "/api/v1/groups", token=a), 200, "groups")
    c.check("admin_groups", "anon", s.request("GET", "/api/v1/groups"), 401, "error")
    c.check("admin_group_add", "admin",
            s.request("POST", "/api/v1/groups", b'{"name":"ops"}', token=a,
                      headers={"Content-Type": "text/plain"}), 415, "error", "not JSON")
    c.check("admin_group_add", "admin",
            s.request("POST", "/api/v1/groups", {"name": "x" * 5000}, token=a), 413, "error",
            "a body over the limit")
    c.check("admin_group_add", "admin", s.request("POST", "/api/v1/groups", {"name": "ops"},
                                                  token=a), 201, "group")
    c.check("admin_members", "admin", s.request("PUT", "/api/v1/groups/ops/members",
                                                {"add": ["carol", "dave"]}, token=a), 200, "group")
    c.check("admin_members", "admin", s.request("PUT", "/api/v1/groups/ops/members",
                                                {"add": ["nobody"]}, token=a), 404, "error")
    c.check("admin_group_remove", "admin", s.request("DELETE", "/api/v1/groups/ops", token=a),
            204, "empty")
    c.check("admin_group_remove", "admin", s.request("DELETE", "/api/v1/groups/ops", token=a),
            404, "error")
    c.check("admin_access", "admin", s.request("GET", "/api/v1/access", token=a), 200, "access")
    c.check("admin_access", "user", s.request("GET", "/api/v1/access", token=t["user"]), 403,
            "error")
    c.check("admin_repo_access", "admin",
            s.request("PUT", "/api/v1/repos/app/access", {"grant": {"groups": ["dev"]}},
                      token=a), 200, "repo_access")
    c.check("admin_repo_access", "admin",
            s.request("PUT", "/api/v1/repos/nope/access", {"public": True}, token=a), 404,
            "error")
    c.check("admin_repo_sync", "admin", s.request("POST", "/api/v1/repos/app/sync", token=a),
            409, "error", "a server without a sync interval")
    c.check("admin_repo_sync", "user", s.request("POST", "/api/v1/repos/app/sync",
                                                 token=t["user"]), 403, "error")
    c.check("admin_repo_sync", "anon", s.request("POST", "/api/v1/repos/app/sync"), 401, "error")
    c.check("admin_audit", "admin", s.request("GET", "/api/v1/audit?limit=200", token=a), 200,
            "audit")
    c.check("admin_audit", "admin", s.request("GET", "/api/v1/audit?since=yesterday", token=a),
            400, "error")


def own_password(c, s, t):
    """carol changes her password with a token of hers (an administrator made it)."""
    r = s.request("POST", "/api/v1/tokens", {"user": "carol", "name": "own"}, token=t["admin"])
    tok = r.json()["secret"] if r.status == 201 else None
    c.check("password", "user", s.request("PUT", "/api/v1/me/password",
                                          {"current": "wrong" * 3, "password": CAROL_PW2},
                                          token=tok), 403, "error", "a wrong current password")
    c.check("password", "user", s.request("PUT", "/api/v1/me/password",
                                          {"current": CAROL_PW, "password": CAROL_PW2},
                                          token=tok), 204, "empty")
    c.check("password", "anon", s.request("PUT", "/api/v1/me/password",
                                          {"current": "a", "password": "b"}), 401, "error")


def notices(c, s, t):
    """dave's password was set by an administrator (admin()): his session shows the notice,
    and dismisses it; a token cannot."""
    r = c.check("session_create", "anon",
                s.request("POST", "/api/v1/session", {"user": "dave", "password": CAROL_PW2}),
                200, "session", "a user with a notice")
    cookie = {"Cookie": r.headers.get("set-cookie", "").split(";")[0]}
    csrf = {"X-CSRF-Token": r.json().get("csrf_token", "")}
    r = c.check("me", "session", s.request("GET", "/api/v1/me", headers=cookie), 200,
                "me_session", "with a notice")
    ok([n.get("event") for n in r.json().get("notices", [])] == ["password_changed"],
       "the notice of the password an administrator set", r.body)
    c.check("notices_read", "user", s.request("POST", "/api/v1/me/notices/read", {},
                                              token=t["user"]), 403, "error", "a token")
    c.check("notices_read", "anon", s.request("POST", "/api/v1/me/notices/read", {}), 401,
            "error")
    c.check("notices_read", "session", s.request("POST", "/api/v1/me/notices/read",
                                                 {"through": "x"}, headers=dict(cookie, **csrf)),
            400, "error", "a bad id")
    c.check("notices_read", "session", s.request("POST", "/api/v1/me/notices/read", {},
                                                 headers=dict(cookie, **csrf)), 204, "empty")
    r = c.check("me", "session", s.request("GET", "/api/v1/me", headers=cookie), 200,
                "me_session", "notices read")
    ok(r.json().get("notices") == [], "no notice once read", r.body)


# Every route that takes a body, a body it accepts (but for the field added), and the field
# (or a nested one) it must refuse: a response's field name, or one it never heard of.
BODIES = [
    ("session_create", "POST", "/api/v1/session", {"user": "root", "password": "x"}, "admin",
     None),
    ("password", "PUT", "/api/v1/me/password", {"current": "x", "password": "y"}, "is_admin",
     "user"),
    ("token_create", "POST", "/api/v1/tokens", {"name": "n"}, "id", "admin"),
    ("token_create", "POST", "/api/v1/tokens", {"name": "n"}, "secret", "admin"),
    ("admin_user_add", "POST", "/api/v1/users", {"name": "eve"}, "is_admin", "admin"),
    ("admin_user_add", "POST", "/api/v1/users", {"name": "eve"}, "id", "admin"),
    ("admin_user_set", "PUT", "/api/v1/users/bob", {"display_name": "B"}, "is_admin", "admin"),
    ("admin_user_set", "PUT", "/api/v1/users/bob", {"display_name": "B"}, "password_hash",
     "admin"),
    ("admin_user_password", "PUT", "/api/v1/users/bob/password", {"password": BOB_PW},
     "current", "admin"),
    ("admin_group_add", "POST", "/api/v1/groups", {"name": "eve"}, "members", "admin"),
    ("admin_members", "PUT", "/api/v1/groups/dev/members", {"add": ["root"]}, "members",
     "admin"),
    ("admin_repo_access", "PUT", "/api/v1/repos/pub/access", {"public": False}, "users",
     "admin"),
]


def unknown_fields(c, s, t):
    """Point 3 of Z6: each route with a body refuses a field it does not list, with a 400
    that names it, and nothing of the request is applied."""
    for route, method, path, body, extra, who in BODIES:
        r = c.check(route, who or "anon",
                    s.request(method, path, dict(body, **{extra: True}), token=t.get(who)),
                    400, "error", "unknown field " + extra)
        msg = r.json().get("error", {}).get("message", "") if r.status == 400 else ""
        ok('"%s"' % extra in msg, "%s: the 400 names the field %s" % (route, extra), msg)
    r = c.check("admin_repo_access", "admin",
                s.request("PUT", "/api/v1/repos/pub/access",
                          {"public": False, "grant": {"users": ["bob"], "admin": True}},
                          token=t["admin"]), 400, "error", "an unknown nested field")
    ok(r.status == 400 and '"grant.admin"' in r.json()["error"]["message"],
       "admin_repo_access: the 400 names the nested field", r.body)
    users = s.request("GET", "/api/v1/users", token=t["admin"]).json()["users"]
    access = s.request("GET", "/api/v1/access", token=t["admin"]).json()["repos"]
    pub = [a for a in access if a["repo"] == "pub"]
    ok("eve" not in [u["name"] for u in users] and
       not [u for u in users if u["name"] == "bob" and (u["is_admin"] or
                                                        u["display_name"] == "B")] and
       pub and pub[0]["public"] is True,
       "a refused body changed nothing (no eve, bob unchanged, pub still public)", users, pub)
    groups = s.request("GET", "/api/v1/groups", token=t["admin"]).json()["groups"]
    ok([g["members"] for g in groups if g["name"] == "dev"] == [["bob"]],
       "a refused member list changed nothing", groups)
    for route, path in (("session_delete", "/api/v1/session"),
                        ("token_revoke", "/api/v1/tokens/1"),
                        ("admin_group_remove", "/api/v1/groups/dev")):
        c.check(route, "admin", s.request("DELETE", path, {}, token=t["admin"]), 400, "error",
                "a body on a route that takes none")


def laptop(c, tmp):
    """Laptop mode (no account): the local user has every right and sees what an
    administrator sees."""
    data = make_data(os.path.join(tmp, "laptop"), with_accounts=False)
    s = Server(data, "--sync-interval", "0")
    try:
        c.check("me", "local", s.request("GET", "/api/v1/me"), 200, "me")
        c.check("healthz", "local", s.request("GET", "/healthz"), 200, "healthz_admin")
        c.check("repos", "local", s.request("GET", "/api/v1/repos"), 200, "repos_admin")
        c.check("repo", "local", s.request("GET", "/api/v1/repos/app"), 200, "repo_admin")
        c.check("tokens_list", "local", s.request("GET", "/api/v1/tokens"), 200, "tokens")
    finally:
        s.stop()
    # Sync now needs the scheduler: a sync interval (an hour: the request alone makes it run).
    s = Server(data, "--sync-interval", "1h")
    try:
        c.check("admin_repo_sync", "local", s.request("POST", "/api/v1/repos/pub/sync"), 202,
                "repo_sync")
        c.check("admin_repo_sync", "local", s.request("POST", "/api/v1/repos/nope/sync"), 404,
                "error")
    finally:
        s.stop()


def coverage():
    """The route table, ROUTES and the schema files cover each other."""
    with open(MATRIX) as f:
        names = {ln.split()[1] for ln in f if ln.strip() and not ln.startswith("#")}
    ok(names == set(ROUTES), "ROUTES names every route of the table, and no other",
       "without an entry: %s" % sorted(names - set(ROUTES)),
       "not in the table: %s" % sorted(set(ROUTES) - names))
    files = {n[:-5] for n in os.listdir(SCHEMAS) if n.endswith(".json")}
    used = {k for v in ROUTES.values() for k in v if k != "empty" and ":" not in k}
    refs = set()
    for n in files:
        refs |= set(re.findall(r'"\$ref":\s*"([a-z_]+)\.json"',
                               open(os.path.join(SCHEMAS, n + ".json")).read()))
    ok(used <= files, "every schema ROUTES names exists", sorted(used - files))
    ok(files <= used | refs, "every schema file is used", sorted(files - used - refs))
    for n in sorted(files):
        try:
            validator(n)
            opened = open_objects(load_schema(n))
        except Exception as e:  # noqa: BLE001 - a broken schema file is a failure to report
            opened = ["invalid: %s" % e]
        ok(not opened, "schema %s: every object has additionalProperties false" % n, opened)
    ok(open_objects({"type": "object", "properties": {"a": {"type": "object"}},
                     "additionalProperties": False}) == ["(top)/properties/a"],
       "the additionalProperties check finds an open object")


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-schema-")
    c = Checker(tmp)
    try:
        coverage()
        data = make_data(tmp, with_accounts=True)
        t = {"admin": token_create(data, "root", scope="admin")[0],
             "user": token_create(data, "bob")[0], "anon": None}
        s = Server(data, "--sync-interval", "0", "--allow-anonymous")
        try:
            reads(c, s, t)
            health(c, s, t)
            sessions(c, s, t)
            tokens(c, s, t)
            admin(c, s, t)
            own_password(c, s, t)
            notices(c, s, t)
            unknown_fields(c, s, t)
        finally:
            s.stop()
        laptop(c, tmp)
        for route in sorted(ROUTES):
            missing = set(ROUTES[route]) - c.seen.get(route, set())
            ok(not missing, "%s: every kind of answer was checked" % route, sorted(missing))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
