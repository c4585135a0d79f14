#!/usr/bin/env bash
# trawl as PID 1 of its PID namespace, as a container's entry point started without an init
# (src/util/pid1.h): a sync's workers used to refuse to run ("the worker's parent is gone": a
# child of PID 1 cannot tell its parent's death); now PID 1 stays a small reaper that forwards
# signals, and trawl runs as its child. `unshare --pid --fork --mount-proc` makes the namespace
# (root only: skipped otherwise).
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }
command -v unshare >/dev/null || { echo "1..0 # SKIP unshare is not installed"; exit 0; }
unshare --pid --fork --mount-proc true 2>/dev/null ||
  { echo "1..0 # SKIP no PID namespace here (needs root)"; exit 0; }
ns() { unshare --pid --fork --mount-proc "$@"; }

sync_fixture
check "repo add" "$TRAWL" repo add --data "$D" --allow-local src
check "trawl sync as PID 1: its fetch and index workers run" ns "$TRAWL" sync --data "$D"
expect_eq "... and the repository is searchable" "src/a.txt:1:first version" "$(search version)"
expect_eq "a PID namespace's first process is PID 1 (the test's premise)" "1" \
  "$(ns sh -c 'echo $$')"

# serve as PID 1: answers, and a SIGTERM sent to PID 1 (what `docker stop` and Kubernetes send)
# reaches the server, which stops as it does outside a container, with its status.
unshare --pid --fork --mount-proc "$TRAWL" serve --data "$D" --listen 127.0.0.1:0 \
  --sync-interval 0 > "$T/serve.out" 2> "$T/serve.log" &
outer=$! # unshare; its child is the namespace's PID 1
# Killing PID 1 ends the namespace (and every process in it), whatever the test's outcome.
trap 'kill -9 $(pgrep -P "$outer") 2>/dev/null' EXIT
url=
for _ in $(seq 300); do
  url=$(grep -o 'http://[^ ]*' "$T/serve.out" 2>/dev/null | head -1)
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -n "$url" ] && curl -sf "${url%/}/api/v1/search?q=version" | grep -q '"first version"'; then
  ok "trawl serve as PID 1 answers a search"
else
  not_ok "trawl serve as PID 1 answers a search" "url: $url" "$(tail -5 "$T/serve.log")"
fi
pid1=$(pgrep -P "$outer" | head -1)
server=$(pgrep -P "$pid1" | head -1)
if [ -n "$pid1" ] && [ -n "$server" ] && grep -q "^NSpid:.*[[:space:]]1$" "/proc/$pid1/status" &&
  grep -q "^NSpid:.*[[:space:]]2$" "/proc/$server/status"; then
  ok "PID 1 is a reaper; the server is its child, PID 2"
else
  not_ok "PID 1 is a reaper; the server is its child, PID 2" "pid1=$pid1 server=$server"
fi
kill -TERM "$pid1"
status=timeout
for _ in $(seq 100); do
  if ! kill -0 "$outer" 2>/dev/null; then wait "$outer"; status=$?; break; fi
  sleep 0.1
done
expect_eq "SIGTERM to PID 1: the server stops within 10 s, status 0" "0" "$status"
if grep -q '"stopping"\|stopping\|stopped' "$T/serve.log"; then
  ok "... having stopped as a server does (its log says so)"
else
  not_ok "... having stopped as a server does (its log says so)" "$(tail -5 "$T/serve.log")"
fi
finish
