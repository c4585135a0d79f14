#!/usr/bin/env bash
# Browser tests of the web UI: the security lint and unit tests of web/, then the same browser
# tests in headless Chromium and in Firefox (both driven by playwright-core from npm: Chromium
# over CDP, Firefox over WebDriver BiDi) against the real `trawl serve` on a fixture data
# directory. Prints TAP lines ("ok N - ...", "not ok N - ...", "1..N") as tests/e2e scripts do.
# A browser whose binary is missing is skipped ("# SKIP"); with neither, the whole suite is.
# Screenshots and the server's log go to build/browser-artifacts/.
# asan: no (the server's code the pages call is the API's, which the end-to-end tests drive
# under ASan; this suite checks the pages, in both browsers, in the release pass: CI's 30 min)
#
#   tests/browser/run.sh      (TRAWL=path/to/trawl, CHROMIUM=path/to/chromium, FIREFOX=path/to/firefox)
set -u
cd "$(dirname "$0")/../.."
: "${TRAWL:=$PWD/build/trawl}"
: "${CHROMIUM:=/usr/bin/chromium}"
: "${FIREFOX:=/usr/bin/firefox-esr}"
export TRAWL CHROMIUM FIREFOX
if [ ! -x "$CHROMIUM" ] && [ ! -x "$FIREFOX" ]; then
  echo "1..0 # SKIP no chromium at $CHROMIUM and no firefox at $FIREFOX"
  exit 0
fi
command -v node >/dev/null && command -v npm >/dev/null || { echo "not ok 1 - node and npm are needed (apt-get install nodejs npm)"; exit 1; }
[ -x "$TRAWL" ] || { echo "not ok 1 - trawl binary not found at $TRAWL (run make)"; exit 1; }
# package-lock.json pins the versions (Firefox needs that playwright-core: see docs/ui.md); an
# older, newer or missing package in node_modules is replaced. --prefer-offline uses npm's cache
# when it can.
stale=
for pkg in playwright-core axe-core; do
  locked=$(node -p "require('./package-lock.json').packages['node_modules/$pkg'].version" 2>/dev/null)
  installed=$(node -p "require('./node_modules/$pkg/package.json').version" 2>/dev/null)
  if [ -z "$installed" ] || [ "$installed" != "$locked" ]; then stale=1; fi
done
if [ -n "$stale" ]; then
  npm ci --prefer-offline --no-audit --no-fund >build/npm-ci.log 2>&1 ||
    { echo "not ok 1 - npm ci failed"; sed 's/^/# /' build/npm-ci.log | tail -n 20; exit 1; }
fi
exec node tests/browser/main.mjs
