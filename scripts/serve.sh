#!/usr/bin/env bash
# `make serve`: registers this repository (and any REPOS paths) in the data directory, syncs
# them, and serves the UI. Idempotent: a second run re-syncs (only what changed is re-indexed)
# and serves again.
#
#   scripts/serve.sh TRAWL DATA LISTEN [PATH...]
#
# Local paths are sources only because the operator, running this on their own machine, allows
# them: they are added with --allow-local, which the registry keeps with each repository, so
# every sync (the server's scheduled ones included) may re-read them (docs/operations.md, URL
# policy).
set -euo pipefail
trawl=$1 data=$2 listen=$3
shift 3

# A busy address fails now, not after a sync: bash connects to it (something answering is a
# server already there). trawl serve says the same if it is taken in between.
host=${listen%:*} port=${listen##*:}
host=${host#[}; host=${host%]}
if (exec 3<>"/dev/tcp/${host:-127.0.0.1}/$port") 2>/dev/null; then
  echo "serve.sh: $listen is in use (another trawl serve?): stop it (Ctrl-C where it runs," \
       "or kill its PID), or serve on another address: make serve SERVE_LISTEN=127.0.0.1:8081" >&2
  exit 2
fi

mkdir -p "$data"
data_real=$(cd "$data" && pwd -P)

add() { # PATH [NAME]
  local path name gitdir
  path=$(cd "$1" && pwd -P)
  name=${2:-$(basename "$path")}
  if "$trawl" repo status --data "$data" "$name" >/dev/null 2>&1; then
    return 0
  fi
  # A work tree holding the data directory (this checkout and its ./trawl-data) is registered by
  # its git directory: the confined fetch worker may read the path it is given, so sync refuses
  # a path above DATA (docs/security.md), and the git directory is all a fetch reads.
  case "$data_real/" in
    "$path"/*) gitdir=$(git -C "$path" rev-parse --absolute-git-dir 2>/dev/null) && path=$gitdir ;;
  esac
  "$trawl" repo add --data "$data" --name "$name" --allow-local "$path"
}

add . trawl
for r in "$@"; do
  add "$r"
done
# A repository that fails to sync is marked with its reason (trawl repo list) and the others are
# still served: a failed sync does not stop the server from starting.
"$trawl" sync --data "$data" || echo "serve.sh: some repositories failed to sync; see: $trawl repo list --data $data" >&2
exec "$trawl" serve --data "$data" --listen "$listen"
