#!/usr/bin/env bash
# The deploy artifacts, checked offline (docs/deploy.md): the kustomize base renders (as
# `kubectl kustomize` does, when kubectl is here) and every object passes the Kubernetes schema
# and trawl's policy, and a broken base fails with the finding named; the Containerfile follows
# its rules; the image's file tree (deploy/container/rootfs.sh) runs trawl in a chroot: version,
# index with symbols (trawl-git.so, ctags), search, serve (trawl-serve.so), sandbox-check; the
# Pod's security settings (uid 10001, no capability, no_new_privs) keep trawl's sandbox whole;
# the systemd unit verifies and its system call filter holds what trawl's sandbox calls.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$TRAWL")
K=$ROOT/deploy/kubernetes
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# ---- Kubernetes: the validator's packages (kubernetes-models, yaml), installed from its lock
# into the build directory; `npm ci` only when they are missing or not the locked versions.
mods=$BUILD/deploy-validate
setup_validator() {
  command -v node >/dev/null && command -v npm >/dev/null || return 1
  mkdir -p "$mods" || return 1
  (
    flock 9
    if ! cmp -s "$K/validate/package-lock.json" "$mods/package-lock.json" ||
       [ ! -f "$mods/node_modules/kubernetes-models/package.json" ] ||
       [ ! -f "$mods/node_modules/yaml/package.json" ]; then
      cp "$K/validate/package.json" "$K/validate/package-lock.json" "$mods/" &&
        (cd "$mods" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >"$mods/npm-ci.log" 2>&1
    fi
  ) 9>"$mods.lock"
}
validate() { node "$K/validate/validate.mjs" --modules "$mods" "$@"; }

if ! setup_validator; then
  if command -v node >/dev/null; then
    not_ok "npm ci installed the validator's packages" "$(tail -n 20 "$mods/npm-ci.log" 2>/dev/null)"
  else
    skip "the Kubernetes manifests" "node and npm are not installed (scripts/deps.sh installs them)"
  fi
else
  out=$(validate "$K" 2>"$T/err"); st=$?
  expect_eq "the base renders and every object passes the schema and the policy" "0:" "$st:$out"
  expect_eq "... all 13 objects" "13 objects, 0 findings" "$(cat "$T/err")"

  # The renderer is kustomize's for what the base uses: same objects, same generated name.
  if command -v kubectl >/dev/null && kubectl kustomize "$K" >"$T/kubectl.yaml" 2>"$T/err"; then
    validate --render "$K" >"$T/ours.json"
    res=$(node --input-type=module - "$mods" "$T/kubectl.yaml" "$T/ours.json" <<'JS'
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [mods, theirs, ours] = process.argv.slice(2);
const YAML = await import(pathToFileURL(`${mods}/node_modules/yaml/dist/index.js`).href);
const key = (o) => `${o.kind}/${o.metadata.name}`;
const canon = (v) => Array.isArray(v) ? v.map(canon) : v && typeof v === "object"
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
const a = new Map(YAML.parseAllDocuments(readFileSync(theirs, "utf8"), { version: "1.1" }).map((d) => d.toJS()).map((o) => [key(o), JSON.stringify(canon(o))]));
const b = new Map(JSON.parse(readFileSync(ours, "utf8")).map((o) => [key(o), JSON.stringify(canon(o))]));
const diff = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
console.log(diff.length ? "differ: " + diff.join(" ") : `same ${a.size}`);
JS
)
    expect_eq "the offline render equals kubectl kustomize's ($(kubectl version --client 2>/dev/null | grep -o 'Kustomize Version: v[0-9.]*'))" "same 13" "$res"
  else
    skip "the offline render equals kubectl kustomize's" "kubectl is not installed"
  fi

  # docs/deploy.md's network flows table lists each policy's ports, no more and no fewer.
  validate --render "$K" >"$T/render.json"
  res=$(python3 - "$T/render.json" "$ROOT/docs/deploy.md" <<'PY'
import json, re, sys
objs = json.load(open(sys.argv[1]))
have = set()
for p in objs:
    if p["kind"] != "NetworkPolicy": continue
    for rule in p["spec"].get("ingress", []) + p["spec"].get("egress", []):
        for port in rule.get("ports", []):
            have.add((p["metadata"]["name"], "%s/%s" % (port["port"], port.get("protocol", "TCP"))))
doc = open(sys.argv[2]).read()
table = doc[doc.index("| from", doc.index("### Network flows")):]
table = table[:table.index("\n\n")]
said = set()
for row in table.splitlines()[2:]:
    cells = [c.strip() for c in row.strip("|").split("|")]
    ports, policy = cells[2], cells[3].strip("`")
    for part in ports.split(","):
        m = re.match(r"\s*(\d+)?/?(UDP|TCP)", part)
        num = m.group(1) or last
        last = num
        said.add((policy, "%s/%s" % (num, m.group(2))))
print(" ".join(sorted("missing from the table: %s %s" % x for x in have - said) +
               sorted("not in the manifests: %s %s" % x for x in said - have)) or "same")
PY
)
  expect_eq "docs/deploy.md's network flows table is the NetworkPolicies' flows" same "$res"

  # broken DESC FILE OLD NEW FINDING: the base with OLD replaced by NEW in FILE fails, naming
  # FINDING. Each case proves one check can fail.
  broken() {
    local desc=$1 file=$2 old=$3 new=$4 want=$5 d
    d=$(mktemp -d "$T/broken.XXXXXX")
    cp -r "$K/." "$d/"
    python3 - "$d/$file" "$old" "$new" <<'PY' || { not_ok "$desc" "the mutation did not apply"; return; }
import sys
p, old, new = sys.argv[1:]
s = open(p).read()
assert old in s, old
open(p, "w").write(s.replace(old, new, 1))
PY
    out=$(validate "$d" 2>/dev/null); st=$?
    case "$st:$out" in 1:*"$want"*) ok "$desc";; *) not_ok "$desc" "exit $st, expected 1 and: $want" "$out";; esac
  }
  broken "a port that is not a number fails the schema" frontend.yaml "containerPort: 8080" 'containerPort: "http"' \
    "Deployment/trawl-frontend: schema: /spec/template/spec/containers/0/ports/0/containerPort must be integer"
  broken "a Deployment without its selector fails the schema" frontend.yaml "  selector:
    matchLabels:
      app.kubernetes.io/name: trawl
      app.kubernetes.io/component: frontend
  strategy:" "  strategy:" "Deployment/trawl-frontend: schema: /spec must have required property selector"
  broken "an unknown enum value fails the schema" searcher.yaml "podManagementPolicy: Parallel" "podManagementPolicy: AllAtOnce" \
    "StatefulSet/trawl-searcher: schema: /spec/podManagementPolicy must be equal to one of the allowed values"
  broken "a misspelt field is refused (unknown to its type)" frontend.yaml "readOnlyRootFilesystem: true" "readOnlyRootFileSystem: true" \
    "Deployment/trawl-frontend: schema: /spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem: unknown field"
  broken "... in an inline type (a claim template)" searcher.yaml "accessModes:" "accessMode:" \
    "StatefulSet/trawl-searcher: schema: /spec/volumeClaimTemplates/0/spec/accessMode: unknown field"
  broken "... deep in a NetworkPolicy" networkpolicy.yaml "              app.kubernetes.io/component: searcher
      ports:
        - protocol: TCP
          port: 7070" "              app.kubernetes.io/component: searcher
      ports:
        - protocol: TCP
          prot: 7070" "NetworkPolicy/trawl-frontend-egress: schema: /spec/egress/0/ports/0/prot: unknown field"
  broken "a writable root file system is refused" searcher.yaml "readOnlyRootFilesystem: true" "readOnlyRootFilesystem: false" \
    "StatefulSet/trawl-searcher: container searcher: readOnlyRootFilesystem is not true"
  broken "capabilities not dropped are refused" frontend.yaml 'drop: ["ALL"]' 'drop: ["NET_RAW"]' \
    "Deployment/trawl-frontend: container frontend: capabilities do not drop ALL"
  broken "root is refused" frontend.yaml "runAsUser: 10001" "runAsUser: 0" \
    "Deployment/trawl-frontend: pod securityContext.runAsUser is not 10001"
  broken "an image :latest is refused" searcher.yaml "image: registry.example.com/trawl:0.1.0" "image: registry.example.com/trawl:latest" \
    "StatefulSet/trawl-searcher: container searcher: image registry.example.com/trawl:latest is :latest"
  broken "an image without a tag is refused" frontend.yaml "image: registry.example.com/trawl:0.1.0" "image: registry.example.com/trawl" \
    "container frontend: image registry.example.com/trawl has no tag or digest"
  broken "a container without resources is refused" searcher.yaml "              memory: 1Gi
            limits:
              memory: 2Gi" "              memory: 1Gi" "container indexer: resources.limits.memory is not set"
  broken "a container without a readiness probe is refused" frontend.yaml "          readinessProbe:" "          x-readinessProbe:" \
    "container frontend: no readinessProbe GET /readyz"
  broken "a probe on an undeclared port is refused" searcher.yaml "              port: health
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:" "              port: healthz
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:" "a probe names port healthz, which the container does not declare"
  broken "no default-deny NetworkPolicy is refused" networkpolicy.yaml 'policyTypes: ["Ingress", "Egress"]
---' 'policyTypes: ["Ingress"]
---' "NetworkPolicy: no default deny (ingress and egress) for app.kubernetes.io/name=trawl"
  broken "a NetworkPolicy rule open on every port is refused" networkpolicy.yaml "    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: trawl
              app.kubernetes.io/component: frontend
      ports:
        - protocol: TCP
          port: 7070" "    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: trawl
              app.kubernetes.io/component: frontend" "NetworkPolicy/trawl-searcher-ingress: a rule allows every port"
  broken "a searcher-count other than the StatefulSet's replicas is refused" config/indexer.conf "searchers-dns = trawl-searcher:7070" "searcher-count = 3
searcher-pattern = trawl-searcher-%d.trawl-searcher:7070" \
    "indexer.conf: searcher-count 3 is not the StatefulSet's 4 replicas"
  broken "searchers-dns over a Service hiding not-ready searchers is refused" searcher.yaml "publishNotReadyAddresses: true" "publishNotReadyAddresses: false" \
    "frontend.conf: searchers-dns: Service trawl-searcher does not publish not-ready addresses"
  broken "searchers-dns naming no Service is refused" config/frontend.conf "searchers-dns = trawl-searcher:7070" "searchers-dns = trawl-searchers.trawl.svc:7070" \
    "frontend.conf: searchers-dns: no Service trawl-searchers"
  broken "searchers-dns on a port the Service lacks is refused" config/indexer.conf "searchers-dns = trawl-searcher:7070" "searchers-dns = trawl-searcher:7071" \
    "indexer.conf: searchers-dns: Service trawl-searcher has no port 7071"
  broken "a secret passed as an argument is refused" frontend.yaml "            - --role=frontend" "            - --role=frontend
            - --database-password=hunter2" "argument --database-password=hunter2 passes a secret by value"
  broken "a pod whose containers share their processes is refused" searcher.yaml "      enableServiceLinks: false" "      enableServiceLinks: false
      shareProcessNamespace: true" \
    "StatefulSet/trawl-searcher: shareProcessNamespace is set (containers would see each other's processes)"
  broken "a secret file argument that no volume provides is refused" searcher.yaml "            - --cluster-secret-file=/run/secrets/trawl/cluster-secret" \
    "            - --cluster-secret-file=/run/secrets/trawl/cluster-key" \
    "container searcher: --cluster-secret-file names /run/secrets/trawl/cluster-key, which no volumeMount provides"
  broken "a settings file the ConfigMap does not hold is refused" searcher.yaml "subPath: indexer.conf" "subPath: index.conf" \
    "container indexer: mounts key index.conf of trawl-config-"
  broken "a Service selecting no pod is refused" searcher.yaml "  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    app.kubernetes.io/name: trawl
    app.kubernetes.io/component: searcher" "  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    app.kubernetes.io/name: trawl
    app.kubernetes.io/component: searchers" "Service/trawl-searcher: its selector matches no pod template"
  broken "a kustomization field the renderer does not know is refused" kustomization.yaml "resources:" "namePrefix: x-
resources:" "kustomization.yaml: field namePrefix is not understood by this renderer"
  broken "a malformed trawl.conf line is refused" config/searcher.conf "max-searches = 8" "max-searches 8" \
    'searcher.conf: not a "key = value" line: max-searches 8'
fi

# ---- Every flag the manifests pass and every trawl.conf key they set is a flag of this build's
# `trawl serve`, or one of the scale-out flags agreed for issue 18 (docs/deploy.md, "The roles'
# flags"), which a comment lists while this build lacks them.
planned=" "
known=" $("$TRAWL" serve --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sed 's/^--//' | sort -u | tr '\n' ' ') "
used=$( (sed -n 's/^ *- --\([a-z][a-z-]*\)=.*/\1/p' "$K"/*.yaml; sed -n 's/^\([a-z][a-z-]*\) *=.*/\1/p' "$K"/config/*.conf) | sort -u)
bad='' pending=''
for f in $used; do
  case $known in *" $f "*) continue;; esac
  case $planned in *" $f "*) pending="$pending $f";; *) bad="$bad $f";; esac
done
expect_eq "every flag and trawl.conf key of the manifests is one trawl serve has, or a planned one" "" "$bad"
[ -z "$pending" ] || echo "# planned for issue 18, not in this build's trawl serve yet:$pending"

# ---- The Containerfile's rules (no linter for it in Debian): every stage FROM a tagged
# image, never :latest; the last stage runs as 10001 with the binary as its entry point; no
# package manager or shell command after USER; every COPY source in the repository.
cat > "$T/containerfile_check.py" <<'PY'
import json, os, re, sys
root, path = sys.argv[1:]
text = open(path).read()
lines = re.sub(r"\\\n", " ", text).splitlines()
ins = [(l.split(None, 1)[0].upper(), (l.split(None, 1) + [""])[1].strip())
       for l in lines if l.strip() and not l.lstrip().startswith("#")]
args = {}
errs = []
stages = []
for op, rest in ins:
    if op == "ARG" and "=" in rest and not stages:
        k, v = rest.split("=", 1); args[k] = v
    if op == "FROM":
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), rest.split()[0])
        if image != "scratch" and not re.search(r"(:[\w.-]+|@sha256:[0-9a-f]{64})$", image.split("/")[-1]):
            errs.append(f"FROM {image}: no tag or digest")
        if image.endswith(":latest"):
            errs.append(f"FROM {image}: latest")
        stages.append([])
    if stages:
        stages[-1].append((op, rest))
    if op in ("COPY", "ADD"):
        parts = [p for p in rest.split() if not p.startswith("--")]
        if op == "ADD": errs.append("ADD: use COPY (ADD fetches URLs and unpacks archives)")
        if not any(p.startswith("--from") for p in rest.split()):
            for src in parts[:-1]:
                if not os.path.exists(os.path.join(root, src)):
                    errs.append(f"COPY {src}: not in the repository")
last = stages[-1]
ops = [op for op, _ in last]
user = [r for op, r in last if op == "USER"]
if user != ["10001:10001"] and user != ["10001"]: errs.append(f"last stage USER is {user}, not 10001")
if ops.index("USER") < max(i for i, op in enumerate(ops) if op in ("COPY", "RUN", "FROM", "ENV", "WORKDIR")):
    errs.append("the last stage changes the image after USER")
if any(op == "RUN" for op in ops): errs.append("the last stage runs a command (it has no shell)")
ep = [r for op, r in last if op == "ENTRYPOINT"]
if ep != ['["/usr/local/bin/trawl"]']: errs.append(f"ENTRYPOINT is {ep}")
if not any(op == "VOLUME" and "/var/lib/trawl" in r for op, r in last): errs.append("no VOLUME for /var/lib/trawl")
for op, r in ins:
    if op == "RUN" and re.search(r"curl|wget", r): errs.append(f"RUN downloads outside Debian's packages: {r[:60]}")
print("; ".join(errs) or "ok")
PY
containerfile_check() { python3 "$T/containerfile_check.py" "$ROOT" "$1" 2>&1; }
res=$(containerfile_check "$ROOT/deploy/container/Containerfile")
expect_eq "the Containerfile: tagged bases, no :latest, USER 10001 last, no RUN in the runtime stage, COPY sources exist" ok "$res"
# broken_cf DESC OLD NEW FINDING: the Containerfile with OLD replaced by NEW fails so.
broken_cf() {
  python3 - "$ROOT/deploy/container/Containerfile" "$T/Containerfile" "$2" "$3" <<'PY' || { not_ok "$1" "the mutation did not apply"; return; }
import sys
src, dst, old, new = sys.argv[1:]
s = open(src).read()
assert old in s, old
open(dst, "w").write(s.replace(old, new, 1))
PY
  res=$(containerfile_check "$T/Containerfile")
  case $res in *"$4"*) ok "$1";; *) not_ok "$1" "expected: $4" "actual: $res";; esac
}
broken_cf "... a base :latest is refused" "ARG BUILD_IMAGE=debian:bookworm" "ARG BUILD_IMAGE=debian:latest" "FROM debian:latest: latest"
broken_cf "... a base without a tag is refused" "ARG BUILD_IMAGE=debian:bookworm" "ARG BUILD_IMAGE=debian" "FROM debian: no tag or digest"
broken_cf "... root in the runtime stage is refused" "USER 10001:10001" "USER root" "last stage USER is ['root'], not 10001"
broken_cf "... a command in the runtime stage is refused" "USER 10001:10001" "USER 10001:10001
RUN apt-get install -y curl" "the last stage runs a command"
broken_cf "... a COPY of a file not in the repository is refused" "COPY scripts/deps.sh scripts/deps.sh" "COPY scripts/deps-all.sh scripts/deps.sh" "COPY scripts/deps-all.sh: not in the repository"
broken_cf "... another entry point is refused" 'ENTRYPOINT ["/usr/local/bin/trawl"]' 'ENTRYPOINT ["/bin/sh", "-c"]' "ENTRYPOINT is"

# ---- The image's file tree, run with chroot: user 10001, /proc mounted, /dev with null and
# urandom (what a container runtime provides). No file of the host is reachable from it.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
  skip "the image's file tree runs trawl" "needs root and unshare (util-linux) to chroot"
elif ! command -v ctags >/dev/null || ! ctags --version 2>/dev/null | grep -q '^Universal Ctags'; then
  skip "the image's file tree runs trawl" "universal-ctags is not installed (rootfs.sh copies it)"
else
  R=$T/rootfs
  SOURCE_DATE_EPOCH=1 "$ROOT/deploy/container/rootfs.sh" "$BUILD" "$R" >"$T/rootfs.log" 2>&1; st=$?
  expect_eq "rootfs.sh assembles the tree" "0" "$st"
  expect_eq "... with no shell and no package manager in it" "" \
    "$(cd "$R" && ls usr/bin/sh usr/bin/bash usr/bin/dash usr/bin/apt usr/bin/dpkg 2>/dev/null)"
  expect_eq "... every file dated SOURCE_DATE_EPOCH" "" "$(find "$R" -newermt @1 -print -quit 2>/dev/null)"
  # tree DIR: every entry's name, mode, size, date and link target, and every file's hash.
  tree() { (cd "$1" && find . -printf '%p %m %s %T@ %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
  SOURCE_DATE_EPOCH=1 "$ROOT/deploy/container/rootfs.sh" "$BUILD" "$T/rootfs2" >/dev/null 2>&1
  expect_eq "... and a second run gives the same tree, byte for byte (reproducible)" "" \
    "$(diff <(tree "$R") <(tree "$T/rootfs2") | head -n 5)"
  rm -rf "$T/rootfs2"
  # A fixture repository, owned by the image's user, in the tree.
  g init -q "$T/src" && printf 'int chroot_needle(void) { return 42; }\n' > "$T/src/a.c" &&
    g -C "$T/src" add a.c && g -C "$T/src" commit -qm one
  mkdir -p "$R/src" && cp -r "$T/src" "$R/src/r" && chown -R 10001:10001 "$R/src"
  : > "$R/dev/null"; : > "$R/dev/urandom"
  # in_image ARGS...: trawl ARGS inside the tree as uid 10001 (setuid from root leaves no
  # capability), with /proc and the two devices a container runtime provides. bash is PID 1 of
  # the namespace here; trawl as PID 1 (its own init) is tests/e2e/test_pid1.sh's and
  # deploy/container/smoke.sh's.
  in_image() {
    # shellcheck disable=SC2016  # the inner shell's variables
    UNSHARE=$(command -v unshare) unshare --mount --pid --fork --kill-child bash -c '
      r=$1; shift
      mount --bind /dev/null "$r/dev/null" && mount --bind /dev/urandom "$r/dev/urandom" &&
      env -i HOME=/var/lib/trawl TMPDIR=/tmp TRAWL_CACHE_DIR=/var/cache/trawl/hs \
        "$UNSHARE" --root="$r" --mount-proc --setuid 10001 --setgid 10001 \
        /usr/local/bin/trawl "$@"
      exit $?  # a command after it: bash does not exec trawl in its place' _ "$R" "$@"
  }
  expect_eq "trawl --version in the image" "trawl $("$TRAWL" --version | cut -d' ' -f2)" "$(in_image --version 2>&1)"
  out=$(in_image index --symbols -o /var/lib/trawl/index /src/r 2>&1); st=$?
  expect_eq "trawl index --symbols of a git repository in the image (trawl-git.so, ctags)" 0 "$st"
  case $out in *"symbols r: 1 symbols; 0 files without symbols"*) ok "... ctags ran confined in the image and found the symbol";;
    *) not_ok "... ctags ran confined in the image and found the symbol" "$out";; esac
  expect_eq "trawl search in the image" "r/a.c:1:int chroot_needle(void) { return 42; }" \
    "$(in_image search -d /var/lib/trawl/index --color never chroot_needle 2>&1)"
  out=$(in_image sandbox-check 2>&1); st=$?
  expect_eq "trawl sandbox-check in the image, as uid 10001 without capabilities: every rule enforced" \
    "0:ok: every rule this kernel offers is enforced" "$st:$(tail -n 1 <<<"$out")"
  # trawl serve (trawl-serve.so) answers /healthz from inside the tree.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  in_image serve --data /var/lib/trawl --listen "127.0.0.1:$port" --sync-interval 0 \
    >"$T/serve.log" 2>&1 &
  spid=$!
  health=
  for _ in $(seq 100); do
    health=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' \
      "http://127.0.0.1:$port/healthz" 2>/dev/null) && break
    sleep 0.1
  done
  # The outer unshare first, with SIGKILL (unshare --fork ignores SIGTERM): its --kill-child
  # then ends the namespace with the server in it. The function's subshell alone would leave
  # both running (every run of this test left a server behind).
  kill -9 $(pgrep -P "$spid") 2>/dev/null; kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
  case $health in *'"status":"ok"'*'"seccomp":true'*) ok "trawl serve in the image answers /healthz, confined";;
    *) not_ok "trawl serve in the image answers /healthz, confined" "$health" "$(tail -n 5 "$T/serve.log")";; esac
fi

# ---- The Pod's security context on this machine: uid 10001, every capability dropped,
# no_new_privs (allowPrivilegeEscalation: false). trawl needs no privilege and no namespace
# for its own sandbox, so every rule still holds.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod 711 "$T" && mkdir -p "$T/pod" && chown 10001:10001 "$T/pod"
  out=$(TMPDIR=$T/pod setpriv --reuid 10001 --regid 10001 --clear-groups --inh-caps=-all \
    --bounding-set=-all --no-new-privs "$TRAWL" sandbox-check 2>&1); st=$?
  expect_eq "sandbox-check as the Pod runs trawl (uid 10001, no capability, no_new_privs)" \
    "0:ok: every rule this kernel offers is enforced" "$st:$(tail -n 1 <<<"$out")"
else
  skip "sandbox-check as the Pod runs trawl" "needs root and setpriv to become uid 10001"
fi

# ---- A container runtime whose default seccomp profile predates Landlock answers its three
# calls EPERM: trawl then runs without Landlock, says so, and keeps the rest (docs/deploy.md,
# "Seccomp, user namespaces, Landlock in a container"). A filter of that kind, here in BPF.
if [ "$(uname -m)" = x86_64 ]; then
  out=$(python3 - "$TRAWL" sandbox-check <<'PY' 2>&1
import ctypes, os, sys
class F(ctypes.Structure): _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]
class P(ctypes.Structure): _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(F))]
# arch x86_64, else allow; landlock_create_ruleset/add_rule/restrict_self (444-446): EPERM
prog = [(0x20, 0, 0, 4), (0x15, 0, 4, 0xC000003E), (0x20, 0, 0, 0), (0x15, 3, 0, 444),
        (0x15, 2, 0, 445), (0x15, 1, 0, 446), (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050001)]
arr = (F * len(prog))(*[F(*p) for p in prog])
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
fp = P(len(prog), arr)
if libc.prctl(38, 1, None, 0, 0) or libc.prctl(22, 2, ctypes.addressof(fp), 0, 0):
    sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
PY
); st=$?
  expect_eq "Landlock refused by the runtime's profile: trawl runs without it, says so in every role, and keeps seccomp" \
    "0:5:5" "$st:$(grep -c '^  landlock     not available$' <<<"$out"):$(grep -c '^  seccomp      enforced' <<<"$out")"
else
  skip "Landlock refused by the runtime's profile" "the test's BPF filter is for x86_64"
fi

# ---- systemd: the unit verifies (with ExecStart pointed at this build), and its system call
# filter allows what trawl's sandbox calls to confine itself.
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/trawl|$TRAWL|" "$ROOT/deploy/systemd/trawl.service" > "$T/trawl.service"
  check "systemd-analyze verify trawl.service" systemd-analyze verify "$T/trawl.service"
  filter=$(sed -n 's/^SystemCallFilter=//p' "$T/trawl.service")
  # expand NAME...: the system calls of each group, its nested groups' included.
  # shellcheck disable=SC2046  # one system call or group a line
  expand() {
    local f
    for f in "$@"; do
      case $f in
        @*) expand $(systemd-analyze syscall-filter "$f" 2>/dev/null | sed -n '2,$s/^ *\([@a-z_0-9-]*\)$/\1/p');;
        *) echo "$f";;
      esac
    done
  }
  # shellcheck disable=SC2086  # the directive's words
  allowed=$(expand $filter | sort -u)
  missing=
  for c in seccomp landlock_create_ruleset landlock_add_rule landlock_restrict_self prctl capset \
           setrlimit prlimit64 close_range socketpair clone execve wait4 pidfd_send_signal getrandom; do
    grep -qx "$c" <<<"$allowed" || missing="$missing $c"
  done
  expect_eq "SystemCallFilter allows every call trawl's sandbox makes" "" "$missing"
  score=$(systemd-analyze security --offline=true "$T/trawl.service" 2>/dev/null | sed -n 's/.*Overall exposure level for trawl.service: \([0-9.]*\).*/\1/p')
  case $score in [01].*) ok "systemd-analyze security: exposure $score (OK is below 2)";; *) not_ok "systemd-analyze security: exposure below 2" "$score";; esac
else
  skip "the systemd unit" "systemd-analyze is not installed (Debian's systemd package)"
fi
finish
