#!/usr/bin/env bash
# Installs the Debian packages trawl needs to build and test. Idempotent: installs only what is
# missing, and uses sudo when not root.
set -euo pipefail

pkgs=(
  build-essential pkg-config clang clang-tidy clang-format
  libvectorscan-dev libjansson-dev zlib1g-dev libgit2-dev libcmocka-dev libsqlite3-dev
  libmicrohttpd-dev libsodium-dev libcjose-dev libcmark-dev libcurl4-openssl-dev libseccomp-dev
  ripgrep python3 python3-jsonschema time git
  universal-ctags    # symbols (trawl index --symbols, the symbol tests)
  systemd            # systemd-analyze verify of deploy/systemd/trawl.service (test_deploy.sh)
  openssh-client python3-paramiko python3-cryptography
  chromium firefox-esr
  libpq-dev
  # The store's PostgreSQL backend is tested against a real server that tests/pg/pgtest.sh
  # starts (tests/e2e/test_pg.sh): Debian bookworm's PostgreSQL 15 (initdb, pg_ctl, postgres).
  postgresql-15 util-linux
)
# The browser tests drive Chromium and Firefox with playwright-core from npm: Debian's npm when
# none is on PATH already (a machine may carry a newer Node.js and npm of its own).
command -v npm >/dev/null || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
echo "deps.sh: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
