#!/usr/bin/env bash
# The store's tests against PostgreSQL (issue 18): tests/pg/pgtest.sh starts a throwaway
# PostgreSQL 15 on a unix socket and each store and auth unit test program runs again with
# TRAWL_TEST_DATABASE set, which adds its PostgreSQL pass after its SQLite one, and
# TRAWL_TEST_PG_ONLY, which leaves the SQLite one out (the unit section runs it). One TAP line
# per program, with cmocka's counts.
# Skipped, with a TAP SKIP line, only when PostgreSQL 15 is not installed (scripts/deps.sh
# installs it, so CI runs it).
set -u
cd "$(dirname "$0")/../.."
build=${TRAWL_BUILD:-release}
unit=build/$build/tests/unit
progs=(store/test_store store/test_accounts store/test_acl store/test_rows store/test_policy
       store/test_schema store/test_copy auth/test_auth auth/test_external auth/test_readable auth/test_notice
       auth/test_audit)

if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "1..1"
  echo "ok 1 # SKIP skipped: postgresql not installed (scripts/deps.sh installs postgresql-15)"
  exit 0
fi

run_all() {
  local n=0 p out st passed failed pg
  echo "1..${#progs[@]}"
  for p in "${progs[@]}"; do
    n=$((n + 1))
    out=$("$unit/$p" 2>&1)
    st=$?
    passed=$(grep -ao '\[  PASSED  \] [0-9]*' <<<"$out" | awk '{s+=$4} END {print s+0}')
    failed=$(grep -ao '\[  FAILED  \] [0-9]* test' <<<"$out" | awk '{s+=$4} END {print s+0}')
    if [ "$st" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]; then
      echo "ok $n - $p on PostgreSQL ($passed passed)"
    else
      echo "not ok $n - $p on PostgreSQL ($passed passed, $failed failed, exit $st)"
      grep -a 'FAILED\|ERROR\|Failure\|error:' <<<"$out" | head -n 20 | sed 's/^/# /'
    fi
  done
}
export -f run_all
export TRAWL_TEST_PG_ONLY=1
export unit
export progs_list="${progs[*]}"
bash tests/pg/pgtest.sh bash -c 'progs=($progs_list); run_all'
