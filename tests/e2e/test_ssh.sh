#!/usr/bin/env bash
# End-to-end tests of SSH host key pinning (T2, docs/operations.md "SSH host keys") against a
# fake SSH server (tests/e2e/fake_sshd.py, paramiko) that logs every authentication attempt and
# refuses them all: an unpinned, mismatched or badly stored key refuses the connection before
# any credential is offered, with the offered fingerprint in the message; a pinned key lets
# libgit2 go on to authenticate (user name step, then the key from the credentials file).
# No real sshd serves git here, so no ssh fetch completes.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=
for p in python3 /usr/bin/python3; do
  command -v "$p" >/dev/null && "$p" -c 'import paramiko' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "1..0 # SKIP python3-paramiko is not installed"; exit 0; }
command -v ssh-keygen >/dev/null || { echo "1..0 # SKIP ssh-keygen is not installed"; exit 0; }
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE
# Under ASan: libgit2 1.5 leaks a few bytes when an ssh connection fails (see the file); the
# slow unwinder sees through libgit2's frames to the git_remote_connect_ext the rule names.
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HERE/lsan-libgit2-ssh.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C host -f "$T/hostkey" </dev/null >/dev/null
ssh-keygen -q -t ed25519 -N '' -C client -f "$T/clientkey" </dev/null >/dev/null
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/otherkey" </dev/null >/dev/null
fp=$(ssh-keygen -lf "$T/hostkey.pub" | cut -d' ' -f2)
other_fp=$(ssh-keygen -lf "$T/otherkey.pub" | cut -d' ' -f2)
# sshd NAME ARGS...: starts fake_sshd.py logging to $T/NAME.log; its port goes to $NAME_port.
sshd() {
  local name=$1; shift
  "$PY" "$HERE/fake_sshd.py" --host-key "$T/hostkey" --port-file "$T/$name.port" \
    --log "$T/$name.log" "$@" 2>"$T/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
  [ -s "$T/$name.port" ] || { echo "not ok 1 - the fake sshd did not start"; cat "$T/$name.err"; exit 1; }
  printf -v "${name}_port" '%s' "$(cat "$T/$name.port")"
}
sshd auth
port=$auth_port

D=$T/data
"$TRAWL" repo add --data "$D" "ssh://127.0.0.1:$port/x.git" --allow-private >/dev/null 2>&1
printf 'ssh://127.0.0.1:%s/ git key:%s\n' "$port" "$T/clientkey" > "$D/credentials"
chmod 0600 "$D/credentials"

# sync_refused DESC WANT: the sync fails, says WANT, and the server saw no authentication.
sync_refused() {
  : > "$T/auth.log"
  "$TRAWL" sync --retry --data "$D" --allow-private >"$T/out" 2>&1; local st=$?
  if [ "$st" = 2 ] && grep -qF -- "$2" "$T/out" && ! grep -q '^auth' "$T/auth.log"; then
    ok "$1"
  else
    not_ok "$1" "status $st" "$(head -c 1500 "$T/out")" "server: $(cat "$T/auth.log")"
  fi
}

sync_refused "no known_hosts file: refused, offered fingerprint named, no credentials sent" \
  "no key is pinned for it in $D/known_hosts; the server offered $fp"
expect_eq "... and the message gives the line to pin" 1 \
  "$(grep -cF "add the line \"127.0.0.1:$port $fp\"" "$T/out")"

printf '# nothing for this host\nexample.com %s\n127.0.0.1 %s\n' "$fp" "$fp" > "$D/known_hosts"
sync_refused "pinned for the host on another port only: refused" "no key is pinned for it"

printf '127.0.0.1:%s %s\n' "$port" "$other_fp" > "$D/known_hosts"
sync_refused "another key pinned (impostor): refused, no credentials sent" \
  "the server offered $fp, which is NOT the key pinned"

printf '127.0.0.1:%s %s\nbroken line here\n' "$port" "$fp" > "$D/known_hosts"
sync_refused "a malformed known_hosts line: refused with its line number" \
  "known_hosts line 2: more than two fields"

printf '127.0.0.1:%s %s\n' "$port" "$fp" > "$D/known_hosts"
chmod 0664 "$D/known_hosts"
sync_refused "a group-writable known_hosts is refused" "must be a regular file owned by this user"
chmod 0644 "$D/known_hosts"
mv "$D/known_hosts" "$T/kh"; ln -s "$T/kh" "$D/known_hosts"
sync_refused "a symlinked known_hosts is refused" "known_hosts file $D/known_hosts:"
rm "$D/known_hosts"; mv "$T/kh" "$D/known_hosts"

# The pinned key: libgit2 goes on to authenticate. The URL has no user name, so it asks for
# one first and then for the key (this second request used to be refused).
: > "$T/auth.log"
"$TRAWL" sync --retry --data "$D" --allow-private >"$T/out" 2>&1; st=$?
expect_eq "pinned key: the fake server refuses the key, sync fails" 2 "$st"
expect_eq "... after the user name step, the key was offered as user git" 1 \
  "$(grep -c '^auth git publickey$' "$T/auth.log")"
expect_eq "... and no password was tried" 0 "$(grep -c 'password' "$T/auth.log")"
expect_eq "... and the failure says the credentials were refused" 1 \
  "$(grep -c 'authentication failed' "$T/out")"

# The bracketed form ssh-keyscan prints is accepted too.
printf '[127.0.0.1]:%s %s\n' "$port" "$fp" > "$D/known_hosts"
: > "$T/auth.log"
"$TRAWL" sync --retry --data "$D" --allow-private >"$T/out" 2>&1
expect_eq "[HOST]:PORT entries pin as well" 1 "$(grep -c '^auth git publickey$' "$T/auth.log")"

# A key: secret is never sent as a password, even to a server that offers only passwords.
sshd pw --auths password
D2=$T/data2
"$TRAWL" repo add --data "$D2" "ssh://127.0.0.1:$pw_port/x.git" --allow-private >/dev/null 2>&1
printf 'ssh://127.0.0.1:%s/ git key:%s\n' "$pw_port" "$T/clientkey" > "$D2/credentials"
printf '127.0.0.1:%s %s\n' "$pw_port" "$fp" > "$D2/known_hosts"
chmod 0600 "$D2/credentials"
"$TRAWL" sync --retry --data "$D2" --allow-private >"$T/out" 2>&1; st=$?
expect_eq "password-only server with a key: entry: sync fails" 2 "$st"
expect_eq "... no password was sent (the key path is not a password)" 0 \
  "$(grep -c 'password' "$T/pw.log")"
expect_eq "... and the message says why" 1 "$(grep -c 'does not accept SSH key' "$T/out")"
finish
