#!/usr/bin/env bash
# Builds trawl's image from deploy/container/Containerfile with podman and runs it as the
# Kubernetes manifests run it: user 10001, read-only root, every capability dropped, no new
# privileges, no init (trawl is PID 1: src/util/pid1.h). Checks: the image's size, no shell, a
# sync of a local repository (fetch and index workers in their sandbox, ctags), a search and a
# symbol search, then `trawl serve` answering /healthz and a search, stopped by `podman stop`
# (SIGTERM to PID 1) with status 0. Prints TAP; exits 1 if a check failed.
#
#   deploy/container/smoke.sh [--base IMAGE] [--keep]
#
#   --base IMAGE  the build stage's image (default debian:bookworm). Without a registry, make
#                 one from the Debian archive:
#                   debootstrap --variant=minbase bookworm DIR http://deb.debian.org/debian
#                   tar -C DIR -c . | podman import - localhost/debian:bookworm
#   --keep        keep the image (localhost/trawl:smoke) and the work directory
#   PODMAN="podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs"
#                 podman with options (a machine without overlayfs or a cgroup v2 hierarchy);
#   RUN_OPTS="--ulimit nofile=20000:20000 --ulimit nproc=1000:1000"
#                 more `podman run` options (a runtime that may not raise the limits it copies).
#
# Not part of `make test`: it builds the whole image (~10 minutes on 2 cores) and needs
# podman (apt-get install podman runc). docs/deploy.md, "The container image", has its last run.
set -uo pipefail
cd "$(dirname "$0")/../.."
base=debian:bookworm
keep=0
while (($#)); do
  case $1 in
    --base) base=${2:?--base needs an image}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "smoke.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
read -ra podman <<< "${PODMAN:-podman}"
read -ra run_opts <<< "${RUN_OPTS:-}"
command -v "${podman[0]}" >/dev/null || { echo "smoke.sh: needs podman (apt-get install podman runc)" >&2; exit 2; }
image=localhost/trawl:smoke
work=$(mktemp -d "${TMPDIR:-/tmp}/trawl-smoke.XXXXXX")
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; printf '# %s\n' "$@"; }
cleanup() {
  "${podman[@]}" rm -f trawl-smoke >/dev/null 2>&1
  if ((keep)); then echo "# kept $image and $work"; else
    "${podman[@]}" rmi -f "$image" >/dev/null 2>&1
    rm -rf "$work"
  fi
}
trap cleanup EXIT

t0=$SECONDS
if "${podman[@]}" build --network host "${run_opts[@]}" --build-arg BUILD_IMAGE="$base" \
    --build-arg SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" \
    -f deploy/container/Containerfile -t "$image" . > "$work/build.log" 2>&1; then
  ok "the image builds from $base ($((SECONDS - t0)) s)"
else
  not_ok "the image builds from $base" "$(tail -20 "$work/build.log")"
  echo "1..$n"; exit 1
fi
size=$("${podman[@]}" image inspect "$image" --format '{{.Size}}')
echo "# image size: $((size / 1000000)) MB"

# As the manifests run it (deploy/kubernetes: runAsUser 10001, readOnlyRootFilesystem, drop ALL,
# allowPrivilegeEscalation false), with the data directory and the pattern cache as volumes.
mkdir -p "$work/data" "$work/cache" "$work/src"
cp -r src/util "$work/src/"
git -C "$work/src" init -q -b main
git -C "$work/src" add -A
git -C "$work/src" -c user.name=t -c user.email=t@t commit -qm fixture
chown -R 10001:10001 "$work/data" "$work/cache" "$work/src"
confined=(--read-only --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp
          -v "$work/data:/var/lib/trawl" -v "$work/cache:/var/cache/trawl" -v "$work/src:/src:ro"
          "${run_opts[@]}")
run() { "${podman[@]}" run --rm --network none "${confined[@]}" "$image" "$@"; }
check() { # DESCRIPTION EXPECTED-SUBSTRING COMMAND...
  local d=$1 want=$2 out
  shift 2
  if out=$("$@" 2>&1) && [[ $out == *"$want"* ]]; then ok "$d"; else not_ok "$d" "${out:0:1500}"; fi
}

check "trawl --version runs as user 10001 on a read-only root with no capability" "trawl " \
  run --version
check "trawl sandbox-check: the workers' sandbox holds in the container (seccomp, Landlock)" \
  "landlock     enforced" run sandbox-check
if "${podman[@]}" run --rm --network none "${run_opts[@]}" --entrypoint /bin/sh "$image" -c true \
    > "$work/sh.log" 2>&1; then
  not_ok "the image has no shell" "/bin/sh ran"
else
  ok "the image has no shell"
fi
check "repo add" "added util" run repo add /src --allow-local --name util
owner=$(stat -c %u "$work/data/trawl.db" 2>&1)
if [[ $owner == 10001 ]]; then ok "... written by user 10001"; else not_ok "... written by user 10001" "owner: $owner"; fi
check "trawl sync as PID 1 (no init): fetch and index workers in their sandbox" "synced util" \
  run sync util
check "a search" "util/util/buf.c:11:void buf_init" run search 'buf_init count:1'
check "a symbol search (ctags in the image)" "function buf_init" run search 'type:symbol buf_init'

port=$((20000 + RANDOM % 20000))
"${podman[@]}" run -d --name trawl-smoke --network host "${confined[@]}" "$image" \
  serve --data /var/lib/trawl --listen "127.0.0.1:$port" > "$work/serve.id" 2>&1
up=
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && { up=1; break; }; sleep 0.2; done
if [[ -n $up ]] && curl -sf "http://127.0.0.1:$port/api/v1/search?q=buf_init+count:1" | grep -q '"util/buf.c"'; then
  ok "trawl serve in the container answers a search"
else
  not_ok "trawl serve in the container answers a search" "$("${podman[@]}" logs trawl-smoke 2>&1 | tail -5)"
fi
t0=$SECONDS
"${podman[@]}" stop -t 10 trawl-smoke > /dev/null 2>&1
code=$("${podman[@]}" inspect trawl-smoke --format '{{.State.ExitCode}}' 2>&1)
if [[ $code == 0 ]] && ((SECONDS - t0 < 10)); then
  ok "podman stop (SIGTERM to PID 1) stops it at once, status 0 ($((SECONDS - t0)) s)"
else
  not_ok "podman stop (SIGTERM to PID 1) stops it at once, status 0" "status $code after $((SECONDS - t0)) s"
fi
echo "1..$n"
((fails == 0))
