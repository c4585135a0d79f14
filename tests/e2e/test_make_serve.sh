#!/usr/bin/env bash
# `make serve`'s script (scripts/serve.sh) as a new user runs it: in a git checkout, with the
# data directory inside it (./trawl-data, the Makefile's default). The checkout must be synced
# and searchable: sync refuses a local path above its data directory (the fetch worker could
# read DATA through it), so the script registers such a work tree by its git directory.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$T/checkout" && cd "$T/checkout" || exit 1
g init -q . && printf 'make_serve_marker_word\n' > notes.txt && printf 'trawl-data/\n' > .gitignore
g add notes.txt .gitignore && g commit -qm first
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$here/scripts/serve.sh" "$TRAWL" trawl-data "127.0.0.1:$port" > "$T/serve.out" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"index":true' && break
  sleep 0.1
done
expect_eq "the checkout holding its data directory is synced" "indexed" \
  "$("$TRAWL" repo list --data trawl-data --json 2>/dev/null |
     python3 -c 'import json,sys; print(" ".join(json.loads(l)["state"] for l in sys.stdin if l.strip()))')"
expect_eq "its files are searched" "notes.txt" \
  "$(curl -s "http://127.0.0.1:$port/api/v1/search?q=make_serve_marker_word" |
     python3 -c 'import json,sys; print(" ".join(f["path"] for f in json.load(sys.stdin)["results"]))')"
expect_eq "sync reported no failure" "0" "$(grep -c 'failed to sync' "$T/serve.out")"

# A second `make serve` on the same address: refused at once, naming the address and the way out.
rc=0; timeout 20 bash "$here/scripts/serve.sh" "$TRAWL" trawl-data "127.0.0.1:$port" > "$T/busy.out" 2>&1 || rc=$?
expect_eq "make serve on a busy address: exit status 2" 2 "$rc"
expect_eq "it names the address and SERVE_LISTEN" 1 \
  "$(grep -c "127.0.0.1:$port is in use (another trawl serve?).*make serve SERVE_LISTEN=" "$T/busy.out")"
expect_eq "before syncing anything" 0 "$(grep -c 'sync' "$T/busy.out")"
# trawl serve itself, when the address is taken: the address, and --listen to choose another.
rc=0; timeout 20 "$TRAWL" serve --data trawl-data --listen "127.0.0.1:$port" > "$T/busy2.out" 2>&1 || rc=$?
expect_eq "trawl serve on a busy address: exit status 2" 2 "$rc"
expect_eq "it says the address is in use and how to choose another" 1 \
  "$(grep -c "^trawl: 127.0.0.1:$port is in use (another trawl serve?): stop it or choose another address with --listen" "$T/busy2.out")"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
finish
