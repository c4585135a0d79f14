#!/usr/bin/env bash
# Soak test of `trawl serve` (bench/soak.py does the work): mixed search load through
# /api/v1/search and /api/v1/search/stream while the server re-syncs its repositories every
# second (local git repositories that get a commit every second) and one in ten of its
# `trawl sync` / `trawl worker ...` descendant processes is killed with SIGKILL. Reports failed
# requests (target 0), syncs completed, and the server's open descriptors and memory over time
# (flat after warm-up). docs/security.md, "Hostile queries".
#
#   bench/soak.sh
#
#   DURATION=600   seconds of load (default 10 minutes)
#   TRAWL=BIN      trawl binary (default build/release/trawl, built if missing)
#
# Works in a temporary directory (removed at the end; KEEP=1 keeps it); writes
# bench/work/soak.md; exits 1 when a request failed or the server died.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
trawl=${TRAWL:-$repo/build/release/trawl}
[ -x "$trawl" ] || make -C "$repo" -j2 >&2
mkdir -p "$here/work"
work=$(mktemp -d "${TMPDIR:-/tmp}/trawl-soak.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
python3 "$here/soak.py" "$trawl" "$work" "$here/work/soak.md" "${DURATION:-600}"
