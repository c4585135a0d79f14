#!/usr/bin/env bash
# Browser tests of the web UI: the security lint and unit tests of web/, then headless Chromium
# (playwright-core from npm) against the real `trawl serve` on a fixture data directory.
# Prints TAP lines ("ok N - ...", "not ok N - ...", "1..N") as tests/e2e scripts do.
# Screenshots and the server's log go to build/browser-artifacts/.
#
#   tests/browser/run.sh                   (TRAWL=path/to/trawl, CHROMIUM=path/to/chromium)
set -u
cd "$(dirname "$0")/../.."
: "${TRAWL:=$PWD/build/trawl}"
: "${CHROMIUM:=/usr/bin/chromium}"
export TRAWL CHROMIUM
if [ ! -x "$CHROMIUM" ]; then
  echo "1..0 # SKIP no chromium at $CHROMIUM"
  exit 0
fi
command -v node >/dev/null && command -v npm >/dev/null || { echo "not ok 1 - node and npm are needed (apt-get install nodejs npm)"; exit 1; }
[ -x "$TRAWL" ] || { echo "not ok 1 - trawl binary not found at $TRAWL (run make)"; exit 1; }
if [ ! -f node_modules/playwright-core/package.json ]; then
  # package-lock.json pins the version; --prefer-offline uses npm's cache when it can.
  npm ci --prefer-offline --no-audit --no-fund >build/npm-ci.log 2>&1 ||
    { echo "not ok 1 - npm ci failed"; sed 's/^/# /' build/npm-ci.log | tail -n 20; exit 1; }
fi
exec node tests/browser/main.mjs
