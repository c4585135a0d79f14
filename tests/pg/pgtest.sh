#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 server:
#   bash tests/pg/pgtest.sh COMMAND [ARGS...]
# initdb makes a cluster in a new temporary directory; the server listens only on a unix
# socket in that directory (no TCP); a database "trawl" is created, and COMMAND runs with
# TRAWL_TEST_DATABASE=postgres://USER@/trawl?host=DIR (and TRAWL_TEST_PW_DATABASE, a role
# that signs in with the password pgtest-secret-pw). The server is stopped and the directory
# removed however COMMAND ends; the script exits with COMMAND's status.
#
# initdb and postgres refuse to run as root: as root the cluster belongs to an unprivileged
# user (PGTEST_USER, default nobody), through setpriv, and the directory is made theirs.
# Exit 77 (and a "skipped" line) when PostgreSQL 15 is not installed (scripts/deps.sh does).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
  echo "skipped: postgresql not installed ($PGBIN; scripts/deps.sh installs it)" >&2
  exit 77
fi
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

dir=$(mktemp -d /tmp/trawl-pg.XXXXXX)
as_owner=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  owner=${PGTEST_USER:-nobody}
  chown "$owner" "$dir"
  as_owner=(setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups --)
fi
chmod 700 "$dir"

stop() {
  "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

# The environment postgres sees: no user's PG* settings, a home it may write.
env_clean=(env -i PATH=/usr/bin:/bin HOME="$dir" LANG=C.UTF-8)
"${env_clean[@]}" "${as_owner[@]}" "$PGBIN/initdb" -D "$dir/data" -U "$owner" -A trust \
  -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# One role signs in with a password (scram), for the tests of --database-password-file; the
# owner and every other role are trusted on the socket, which only this user can reach.
{ echo "local all trawl_pw scram-sha-256"; cat "$dir/data/pg_hba.conf"; } >"$dir/hba.new"
cat "$dir/hba.new" >"$dir/data/pg_hba.conf"
"${env_clean[@]}" "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories=$dir -c fsync=off -c full_page_writes=off" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
"${env_clean[@]}" "${as_owner[@]}" "$PGBIN/createdb" -h "$dir" -U "$owner" trawl

"${env_clean[@]}" "${as_owner[@]}" "$PGBIN/psql" -q -h "$dir" -U "$owner" -d trawl -c \
  "CREATE ROLE trawl_pw LOGIN PASSWORD 'pgtest-secret-pw'; GRANT ALL ON SCHEMA public TO trawl_pw"

export TRAWL_TEST_DATABASE="postgres://$owner@/trawl?host=$dir"
# A role that needs a password: trawl_pw, password pgtest-secret-pw.
export TRAWL_TEST_PW_DATABASE="postgres://trawl_pw@/trawl?host=$dir"
# A test runs the server's tools (psql) with these too.
export PGTEST_DIR=$dir PGTEST_OWNER=$owner
set +e
"$@"
rc=$?
set -e
exit $rc
