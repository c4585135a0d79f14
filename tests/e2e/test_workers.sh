#!/usr/bin/env bash
# End-to-end tests of trawl sync's workers (docs/internals/sandbox.md, "Workers"): the fetch and
# the index step run as separate confined processes (`trawl worker fetch|index`, children of
# sync, no_new_privs and a seccomp filter on); a worker killed with SIGKILL mid-run (the test
# hook TRAWL_TEST_WORKER_PAUSE stops it where it is) leaves the previous index served and
# nothing in the work directories, and the next sync completes; a worker that breaks a sandbox
# rule (the hook TRAWL_TEST_WORKER_SYSCALL makes the index worker call socket()) is recorded
# with the system call's name; a failed repository waits out its backoff in a plain sync; a
# sync killed mid-run takes its worker with it and its leftovers are swept by the next sync.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
# The hooks exist only in the test binary (docs/internals/testing.md): every step runs it.
TRAWL=$TRAWL_TEST
[ -x "$TRAWL" ] || { echo "not ok 1 - the test binary is not at $TRAWL (run make)"; exit 1; }
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE
unset TRAWL_TEST_WORKER_PAUSE TRAWL_TEST_WORKER_SYSCALL TRAWL_TEST_WORKER_READ \
  TRAWL_TEST_WORKER_FETCH_READ TRAWL_TEST_WORKER_FETCH_WRITE TRAWL_TEST_WORKER_FETCH_LINK
sync_fixture
status_error() { "$TRAWL" repo status --data "$D" r1 2>/dev/null | sed -n 's/.*error: //p'; }

check "repo add" "$TRAWL" repo add --data "$D" --allow-local "$T/src" --name r1
expect_status "sync through the workers" 0 "$TRAWL" sync --data "$D"
expect_eq "the index holds the repository" "r1/a.txt:1:first version" "$(search first)"

# worker_pid ROLE: the pid of the running `trawl worker ROLE` started by $sync_pid (waits up
# to 20 s for it; other tests on the machine may run workers of their own).
worker_pid() {
  local role=$1 p c
  for _ in $(seq 200); do
    for p in $(cat /proc/"$sync_pid"/task/*/children 2>/dev/null); do
      if { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q "^trawl worker $role "; then
        echo "$p"; return 0
      fi
    done
    sleep 0.1
  done
  return 1
}

# The fetch worker: a child of sync, confined.
TRAWL_TEST_WORKER_PAUSE=fetch "$TRAWL" sync --data "$D" r1 >"$T/s1.out" 2>"$T/s1.err" &
sync_pid=$!
if fp=$(worker_pid fetch "$sync_pid"); then
  ok "the fetch worker runs as its own process"
  # It confines itself after it starts: paused, it is confined.
  for _ in $(seq 100); do grep -q paused "$T/s1.err" && break; sleep 0.1; done
  expect_eq "it is a child of trawl sync" "$sync_pid" "$(awk '/^PPid:/ {print $2}' "/proc/$fp/status")"
  expect_eq "it runs with no_new_privs" "1" "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$fp/status")"
  expect_eq "it runs under a seccomp filter" "2" "$(awk '/^Seccomp:/ {print $2}' "/proc/$fp/status")"
  kill -9 "$fp"
else
  not_ok "the fetch worker runs as its own process" "$(cat "$T/s1.err")"
fi
wait "$sync_pid"; rc=$?
expect_eq "a killed fetch worker fails the sync" "2" "$rc"
expect_eq "the reason is recorded" "fetch: fetch worker killed by signal 9 (SIGKILL)" "$(status_error)"
expect_eq "the previous index is still served" "r1/a.txt:1:first version" "$(search first)"

# The index worker, killed after writing its shards, before reporting them.
commit "second version"
before=$(cat "$D/index/MANIFEST")
TRAWL_TEST_WORKER_PAUSE=index "$TRAWL" sync --data "$D" r1 >"$T/s2.out" 2>"$T/s2.err" &
sync_pid=$!
if ip=$(worker_pid index "$sync_pid"); then
  ok "the index worker runs as its own process"
  for _ in $(seq 100); do grep -q paused "$T/s2.err" && break; sleep 0.1; done
  expect_eq "it runs under a seccomp filter" "2" "$(awk '/^Seccomp:/ {print $2}' "/proc/$ip/status")"
  expect_eq "its shards are in its work directory only" "1" \
    "$(find "$D/index/work" -name '*.shard' | wc -l)"
  # sync itself runs under a soft address-space limit (not under a sanitizer's shadow memory).
  as=$(awk '/^Max address space/ {print $4}' "/proc/$sync_pid/limits")
  if [ "${TRAWL_BUILD:-release}" = release ]; then
    expect_eq "sync has a soft address-space limit of 512 MiB and more" "yes" \
      "$( [[ $as =~ ^[0-9]+$ ]] && ((as >= 536870912)) && echo yes || echo "no: $as")"
  fi
  kill -9 "$ip"
else
  not_ok "the index worker runs as its own process" "$(cat "$T/s2.err")"
fi
wait "$sync_pid"; rc=$?
expect_eq "a killed index worker fails the sync" "2" "$rc"
expect_eq "the reason is recorded" "index: index worker killed by signal 9 (SIGKILL)" "$(status_error)"
expect_eq "the MANIFEST is unchanged" "$before" "$(cat "$D/index/MANIFEST")"
expect_eq "the previous index is still served" "r1/a.txt:1:first version" "$(search version)"
expect_eq "nothing is left in the work directories" "" "$(find "$D/index/work" -mindepth 1)"
check "the index verifies" "$TRAWL" verify "$D/index"

expect_status "the next sync completes" 0 "$TRAWL" sync --data "$D" r1
expect_eq "with the new commit" "r1/a.txt:1:second version" "$(search version)"
expect_eq "and no error" "" "$(status_error)"

# A forbidden system call in the index worker: killed by the kernel, recorded by name.
commit "third version"
expect_status "a worker breaking a sandbox rule fails the sync" 2 \
  env TRAWL_TEST_WORKER_SYSCALL=index "$TRAWL" sync --data "$D" r1
expect_eq "the reason names the system call" \
  "index: index worker killed by the sandbox: denied system call socket (41)" "$(status_error)"
expect_eq "the previous index is still served" "r1/a.txt:1:second version" "$(search version)"

# Backoff: a plain sync leaves the repository until it has passed; sync NAME tries now.
expect_status "a plain sync waits out the backoff" 0 "$TRAWL" sync --data "$D"
if grep -q "^skipped r1: 1 failed attempt in a row; next one in" "$T/.out"; then
  ok "and says so"
else
  not_ok "and says so" "$(cat "$T/.out")"
fi
expect_status "sync NAME tries at once" 0 "$TRAWL" sync --data "$D" r1
expect_eq "and indexes the new commit" "r1/a.txt:1:third version" "$(search version)"

# The sync itself killed while its index worker runs: the worker dies with it, and the work
# directory it leaves is swept by the next sync.
commit "fourth version"
TRAWL_TEST_WORKER_PAUSE=index "$TRAWL" sync --data "$D" r1 >"$T/s3.out" 2>"$T/s3.err" &
sync_pid=$!
if ip=$(worker_pid index "$sync_pid"); then
  for _ in $(seq 100); do grep -q paused "$T/s3.err" && break; sleep 0.1; done
  kill -9 "$sync_pid"; wait "$sync_pid" 2>/dev/null
  # Dead once gone or a zombie: its new parent (init, or a container's) reaps it when it will.
  alive() { [ -e "/proc/$ip" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$ip/status" 2>/dev/null; }
  for _ in $(seq 100); do alive || break; sleep 0.1; done
  if alive; then not_ok "the worker dies with its sync"; kill -9 "$ip"; else ok "the worker dies with its sync"; fi
  expect_eq "it leaves its work directory" "1" "$(find "$D/index/work" -mindepth 1 -maxdepth 1 | wc -l)"
else
  not_ok "the index worker runs again" "$(cat "$T/s3.err")"
fi
expect_eq "the previous index is still served" "r1/a.txt:1:third version" "$(search version)"
expect_status "the next sync completes" 0 "$TRAWL" sync --data "$D" r1
expect_eq "and sweeps the work directory" "" "$(find "$D/index/work" -mindepth 1)"
expect_eq "with the new commit" "r1/a.txt:1:fourth version" "$(search version)"

# The index worker reads only its own repository's shards (Landlock file rules): another
# repository's shard is out of its reach, so it cannot copy that text into its own shards.
g init -q src2
echo "TOPSECRET_TOKEN_4242" > src2/s.txt
g -C src2 add s.txt && g -C src2 commit -qm secret
check "repo add r2" "$TRAWL" repo add --data "$D" --allow-local "$T/src2" --name r2
expect_status "sync r2" 0 "$TRAWL" sync --data "$D" r2
mine=$(ls "$D"/index/r1*.shard | head -n 1)
theirs=$(ls "$D"/index/r2*.shard | head -n 1)
abi=$(python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(max(0, l.syscall(444, None, 0, 1)))')
if [ "$abi" -gt 0 ] && [ -n "$mine" ] && [ -n "$theirs" ]; then
  commit "fifth version"
  expect_status "a sync of r1 whose worker tries another repository's shard" 0 \
    env TRAWL_TEST_WORKER_READ="$theirs" "$TRAWL" sync --data "$D" r1
  expect_eq "the index worker cannot open r2's shard" "1" \
    "$(grep -c "test read $theirs: Permission denied" "$T/.err")"
  commit "sixth version"
  expect_status "a sync of r1 whose worker opens its own shard" 0 \
    env TRAWL_TEST_WORKER_READ="$mine" "$TRAWL" sync --data "$D" r1
  expect_eq "its own current shard it can" "1" "$(grep -c "test read $mine: ok" "$T/.err")"
  expect_eq "and the incremental run indexed" "r1/a.txt:1:sixth version" "$(search version)"
else
  ok "# SKIP Landlock not available or no shards: $mine $theirs"
  ok "# SKIP Landlock not available"
  ok "# SKIP Landlock not available"
  ok "# SKIP Landlock not available"
  ok "# SKIP Landlock not available"
fi

# The fetch worker writes and reads its own repository's directory only (Landlock): not another
# repository's mirror, not the credentials file, not an SSH key another entry names. The
# worker tries each (TRAWL_TEST_WORKER_FETCH_READ, _FETCH_WRITE: appends nothing) and says.
printf 'not a key\n' > "$T/other_key"; chmod 600 "$T/other_key"
printf '# prefix user secret\nhttps://elsewhere.example.org/ bob OTHER_HOST_CANARY_77\nssh://elsewhere.example.org/ git key:%s\n' \
  "$T/other_key" > "$D/credentials"
chmod 600 "$D/credentials"
if [ "$abi" -gt 0 ]; then
  commit "fetch reach version"
  theirs_git=$D/repos/2/mirror.git mine_git=$D/repos/1/mirror.git
  expect_status "a sync of r1 whose fetch worker tries other trees" 0 \
    env TRAWL_TEST_WORKER_FETCH_READ="$theirs_git/HEAD:$theirs_git/config:$D/credentials:$T/other_key:$mine_git/HEAD" \
    TRAWL_TEST_WORKER_FETCH_WRITE="$theirs_git/HEAD:$theirs_git/config:$D/credentials:$mine_git/config" \
    "$TRAWL" sync --data "$D" r1
  for f in "$theirs_git/HEAD" "$theirs_git/config"; do
    expect_eq "the fetch worker cannot read r2's mirror (${f##*/})" "1" \
      "$(grep -c "fetch worker: test read $f: Permission denied" "$T/.err")"
    expect_eq "nor write it (${f##*/})" "1" \
      "$(grep -c "fetch worker: test write $f: Permission denied" "$T/.err")"
  done
  expect_eq "nor read the credentials file" "1" \
    "$(grep -c "fetch worker: test read $D/credentials: Permission denied" "$T/.err")"
  expect_eq "nor write it" "1" \
    "$(grep -c "fetch worker: test write $D/credentials: Permission denied" "$T/.err")"
  expect_eq "nor read the key file another host's entry names" "1" \
    "$(grep -c "fetch worker: test read $T/other_key: Permission denied" "$T/.err")"
  expect_eq "its own mirror it reads and writes" "2" \
    "$(grep -c -e "fetch worker: test read $mine_git/HEAD: ok" -e "fetch worker: test write $mine_git/config: ok" "$T/.err")"
  expect_eq "and the fetch went on" "r1/a.txt:1:fetch reach version" "$(search reach)"
else
  for i in $(seq 10); do ok "# SKIP Landlock not available"; done
fi

# A fetch worker taken over that points its mirror at another repository's (a symlink in its
# own directory): the index worker's read rule would follow it, and r2's text would be indexed
# as r1's. trawl sync refuses a mirror that is not a directory itself after the fetch.
commit "link version"
expect_status "a fetch worker that points r1's mirror at r2's fails the sync" 2 \
  env TRAWL_TEST_WORKER_FETCH_LINK="$D/repos/2/mirror.git" "$TRAWL" sync --data "$D" r1
expect_eq "the reason is recorded" \
  "fetch: the mirror $D/repos/1/mirror.git is not a directory after the fetch" "$(status_error)"
expect_eq "r2's text is not indexed as r1's" "" "$(search TOPSECRET_TOKEN_4242 | grep -v '^r2/')"
rm -rf "$D/repos/1/mirror.git.aside"
"$TRAWL" sync --data "$D" r1 >"$T/s9.out" 2>&1; rc=$?
expect_eq "the next sync replaces the link with a new clone" "0:1" \
  "$rc:$(grep -c "synced r1:.*new mirror" "$T/s9.out")"
expect_eq "and indexes r1's commit" "r1/a.txt:1:link version" "$(search 'link version')"

# Only the entry for the repository's URL reaches the fetch worker: its memory holds that
# secret, not another host's (read from /proc/PID/mem while it is paused, confined).
mkdir -p "$T/srv"
g clone -q --bare "$T/src" "$T/srv/h.git"
python3 "$HERE/git_http_server.py" --root "$T/srv" --port-file "$T/h.port" --log "$T/h.log" \
  --auth alice:OWN_CANARY_4321 &
http_pid=$!
for _ in $(seq 100); do [ -s "$T/h.port" ] && break; sleep 0.1; done
h_port=$(cat "$T/h.port")
printf '# prefix user secret\nhttps://elsewhere.example.org/ bob OTHER_HOST_CANARY_77\nhttp://127.0.0.1:%s/ alice OWN_CANARY_4321\nhttp://127.0.0.1:1/ carol OTHER_PORT_CANARY_78\n' \
  "$h_port" > "$D/credentials"
check "repo add of an http repository" "$TRAWL" repo add --data "$D" --allow-insecure --allow-private \
  "http://127.0.0.1:$h_port/h.git" --name h
TRAWL_TEST_WORKER_PAUSE=fetch "$TRAWL" sync --data "$D" h >"$T/s5.out" 2>"$T/s5.err" &
sync_pid=$!
if fp=$(worker_pid fetch); then
  for _ in $(seq 100); do grep -q paused "$T/s5.err" && break; sleep 0.1; done
  # mem_has PID WORD: whether WORD is anywhere in the process's readable memory (regions up to
  # 1 GiB, read in pieces: a sanitizer build maps terabytes of shadow it never touches).
  mem_has() {
    python3 - "$1" "$2" <<'PY'
import re, sys
pid, word = sys.argv[1], sys.argv[2].encode()
found, step = False, 4 << 20
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m or found:
            continue
        a, b = int(m.group(1), 16), int(m.group(2), 16)
        if b - a > 1 << 30:
            continue
        tail = b""
        for off in range(a, b, step):
            try:
                mem.seek(off)
                chunk = tail + mem.read(min(step, b - off))
            except (OSError, ValueError, OverflowError):
                break
            if word in chunk:
                found = True
                break
            tail = chunk[-len(word):]
print("yes" if found else "no")
PY
  }
  expect_eq "its own host's secret is in the fetch worker's memory" "yes" "$(mem_has "$fp" OWN_CANARY_4321)"
  expect_eq "another host's is not" "no" "$(mem_has "$fp" OTHER_HOST_CANARY_77)"
  expect_eq "nor another port's" "no" "$(mem_has "$fp" OTHER_PORT_CANARY_78)"
  expect_eq "nor is the credential on its command line" "0" \
    "$(tr '\0' ' ' < "/proc/$fp/cmdline" | grep -c CANARY)"
  kill -9 "$fp"
else
  not_ok "the fetch worker of h runs" "$(cat "$T/s5.err")"
fi
wait "$sync_pid"
expect_status "with its entry the authenticated fetch completes" 0 "$TRAWL" sync --data "$D" h
expect_eq "and h is searchable" "h/a.txt:1:link version" "$(search 'link version' | grep '^h/')"
kill "$http_pid" 2>/dev/null; wait "$http_pid" 2>/dev/null

# A first clone killed half-way (SIGKILL once objects arrived): no mirror, nothing left, and
# the next sync clones. The clone is written in the repository's directory under a temporary
# name, and only trawl sync renames it, after its worker has ended.
check "repo add r3" "$TRAWL" repo add --data "$D" --allow-local "$T/src" --name r3
TRAWL_TEST_WORKER_PAUSE=fetch-objects "$TRAWL" sync --data "$D" r3 >"$T/s6.out" 2>"$T/s6.err" &
sync_pid=$!
r3dir=
if fp=$(worker_pid fetch); then
  for _ in $(seq 100); do grep -q paused "$T/s6.err" && break; sleep 0.1; done
  r3dir=$(dirname "$(ls -d "$D"/repos/*/clone.tmp 2>/dev/null | head -n 1)")
  [ -d "$r3dir/clone.tmp/objects" ] && [ ! -e "$r3dir/mirror.git" ] && ok "the clone is half-written under its temporary name" \
    || not_ok "the clone is half-written under its temporary name" "$(find "$D/repos" -maxdepth 2)"
  kill -9 "$fp"
else
  not_ok "the fetch worker of r3 runs" "$(cat "$T/s6.err")"
fi
wait "$sync_pid"; rc=$?
expect_eq "a first clone killed half-way fails the sync" "2" "$rc"
expect_eq "it leaves no mirror and nothing else" "" "$(find "${r3dir:-$D/repos/none}" -mindepth 1 2>&1)"
"$TRAWL" sync --data "$D" r3 >"$T/s7.out" 2>&1; rc=$?
expect_eq "the next sync clones" "0" "$rc"
case $(cat "$T/s7.out") in *"synced r3:"*"new mirror"*) ok "... a new mirror";; *) not_ok "... a new mirror" "$(cat "$T/s7.out")";; esac
expect_eq "its directory holds the mirror only" "mirror.git" "$(ls "${r3dir:-$D/repos/none}" 2>&1)"

# A data directory of an older trawl (mirrors at DATA/repos/ID.git, a first clone's leftover
# at ID.git.tmp): the sync moves the mirror into the repository's directory and fetches into it.
mv "$D/repos/1/mirror.git" "$D/repos/1.git" && rmdir "$D/repos/1" && mkdir -p "$D/repos/1.git.tmp/objects"
commit "migrated version"
"$TRAWL" sync --data "$D" r1 >"$T/s8.out" 2>"$T/s8.err"; rc=$?
expect_eq "a sync over the old layout completes" "0" "$rc"
expect_eq "it says it moved the mirror" "1" "$(grep -c "r1: moved its mirror $D/repos/1.git to $D/repos/1/mirror.git" "$T/s8.err")"
case $(cat "$T/s8.out") in *"new mirror"*) not_ok "the moved mirror is fetched into, not cloned again" "$(cat "$T/s8.out")";; *"synced r1:"*) ok "the moved mirror is fetched into, not cloned again";; *) not_ok "the moved mirror is fetched into, not cloned again" "$(cat "$T/s8.out")";; esac
expect_eq "the old names are gone" "" "$(ls -d "$D/repos/1.git" "$D/repos/1.git.tmp" 2>/dev/null)"
expect_eq "and the new commit is indexed" "r1/a.txt:1:migrated version" "$(search migrated)"

# A local repository whose git data lives outside its tree, read by the confined fetch worker
# through its links: a worktree (`.git` is a file naming the git directory, whose commondir is
# the main repository's) and a --shared clone (objects/info/alternates).
g -C src worktree add -q "$T/wt" -b side 2>/dev/null
g clone -q --shared "$T/src" "$T/shared"
check "repo add of a worktree" "$TRAWL" repo add --data "$D" --allow-local "$T/wt" --name wt
check "repo add of a --shared clone" "$TRAWL" repo add --data "$D" --allow-local "$T/shared" --name shared
expect_status "the worktree syncs" 0 "$TRAWL" sync --data "$D" wt
expect_status "the --shared clone syncs" 0 "$TRAWL" sync --data "$D" shared
expect_eq "both are searchable" "shared/a.txt:1:migrated version
wt/a.txt:1:migrated version" "$("$TRAWL" search -d "$D/index" 'migrated version' 2>/dev/null | grep -v '^r1/' | sort)"

# Those links are written by the local repository's owner, not the operator: one naming another
# repository's mirror (here r1's) or a tree that holds DATA is refused, the fetch fails saying
# which file names what, and nothing of r1 is ever searchable under the attacker's name.
g init -q atk && echo "harmless" > atk/e.txt && g -C atk add e.txt && g -C atk commit -qm e
check "repo add of the attacker's repository" "$TRAWL" repo add --data "$D" --allow-local "$T/atk" --name atk
expect_status "it syncs" 0 "$TRAWL" sync --data "$D" atk
mv atk/.git "$T/atk.git" && echo "gitdir: $D/repos/1/mirror.git" > atk/.git
"$TRAWL" sync --data "$D" atk >"$T/a1.out" 2>"$T/a1.err"; rc=$?
expect_eq "a .git file naming another mirror: the fetch fails" "2" "$rc"
expect_eq "... naming the file and the target" "1" \
  "$(grep -c "atk: fetch: local repository $T/atk: .git names $D/repos/1/mirror.git, .*refused" "$T/a1.err")"
expect_eq "... and r1's text is not searchable as atk" "" "$(search 'migrated version' | grep '^atk/')"
rm atk/.git && ln -s "$D/repos/1/mirror.git" atk/.git
expect_status "a .git symlink to another mirror: refused too" 2 "$TRAWL" sync --data "$D" atk
expect_eq "... and r1's text is still not searchable as atk" "" "$(search 'version' | grep '^atk/')"
rm atk/.git && mv "$T/atk.git" atk/.git
expect_status "the repository restored, it syncs" 0 "$TRAWL" sync --data "$D" atk
echo / > atk/.git/objects/info/alternates
TRAWL_TEST_WORKER_FETCH_READ="$D/credentials:$D/repos/1/mirror.git/HEAD" \
  "$TRAWL" sync --data "$D" atk >"$T/a2.out" 2>"$T/a2.err"; rc=$?
expect_eq "alternates naming /: the fetch fails" "2" "$rc"
expect_eq "... naming the file and the target" "1" \
  "$(grep -c "local repository $T/atk: objects/info/alternates names /, .*refused" "$T/a2.err")"
expect_eq "... before the worker could read DATA" "0" "$(grep -c 'test read.*: ok' "$T/a2.err")"
echo "$T" > atk/.git/objects/info/alternates
expect_status "alternates naming a directory above DATA: refused" 2 "$TRAWL" sync --data "$D" atk
echo "$T/atk" > atk/.git/objects/info/alternates
expect_status "alternates naming a directory that is no object directory: refused" 2 \
  "$TRAWL" sync --data "$D" atk
rm atk/.git/objects/info/alternates
ln -s / "$T/root"
check "repo add of a path that links to /" "$TRAWL" repo add --data "$D" --allow-local "$T/root" --name rootlink
expect_status "... its fetch is refused" 2 "$TRAWL" sync --data "$D" rootlink

# A worker gets a built environment, not its sync's: a secret there does not reach it.
commit "seventh version"
TRAWL_TEST_SECRET=hunter2 LD_PRELOAD= TZ=UTC TRAWL_TEST_WORKER_PAUSE=index \
  "$TRAWL" sync --data "$D" r1 >"$T/s4.out" 2>"$T/s4.err" &
sync_pid=$!
if ip=$(worker_pid index); then
  for _ in $(seq 100); do grep -q paused "$T/s4.err" && break; sleep 0.1; done
  env_of() { tr '\0' '\n' < "/proc/$1/environ" 2>/dev/null; }
  expect_eq "the sync has the secret in its environment" "TRAWL_TEST_SECRET=hunter2" \
    "$(env_of "$sync_pid" | grep '^TRAWL_TEST_SECRET=')"
  expect_eq "its worker does not" "0" "$(env_of "$ip" | grep -c '^TRAWL_TEST_SECRET=')"
  expect_eq "nor LD_PRELOAD" "0" "$(env_of "$ip" | grep -c '^LD_PRELOAD=')"
  expect_eq "the worker's PATH is fixed" "PATH=/usr/bin:/bin" "$(env_of "$ip" | grep '^PATH=')"
  expect_eq "TZ and the test hook are kept" "TRAWL_TEST_WORKER_PAUSE=index TZ=UTC" \
    "$(env_of "$ip" | grep -E '^(TZ|TRAWL_TEST_WORKER_PAUSE)=' | sort | tr '\n' ' ' | sed 's/ $//')"
  kill -9 "$ip"
else
  not_ok "the index worker runs again" "$(cat "$T/s4.err")"
fi
wait "$sync_pid"
expect_status "the next sync completes" 0 "$TRAWL" sync --data "$D" r1

# The workers are internal: documented, not listed, and refusing to run by hand.
expect_eq "trawl help does not list them" "0" "$("$TRAWL" help | grep -c worker)"

# The workers are internal: documented, not listed, and refusing to run by hand.
expect_eq "trawl help does not list them" "0" "$("$TRAWL" help | grep -c worker)"
check "trawl worker --help" "$TRAWL" worker --help
expect_status "a worker without its pipe refuses to run" 2 \
  "$TRAWL" worker index --mirror "$D/repos/1/mirror.git" --index "$D/index" --work "$T" --name r1
finish
