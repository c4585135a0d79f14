#!/usr/bin/env bash
# trawl sandbox-check (docs/operations.md, "Checking the sandbox"): per role, a child confined as
# that role is killed with SIGSYS for its forbidden system call and says which, cannot open a file
# outside its trees, runs under the role's limits and has its inherited descriptors closed; the
# JSON form follows its schema (tests/e2e/schemas/cli/sandbox_check.json, docs/cli-json.md).
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$T/tmp"
export TMPDIR=$T/tmp

out=$("$TRAWL" sandbox-check 2>"$T/err"); st=$?
expect_eq "sandbox-check exits 0 on this machine" 0 "$st"
case $out in *"ok: every rule this kernel offers is enforced") ok "it ends with its verdict";; *) not_ok "it ends with its verdict" "$out" "$(cat "$T/err")";; esac
for role in fetch index compile launcher server; do
  case $out in *"
$role
  seccomp      enforced ("*) ok "$role: seccomp enforced";; *) not_ok "$role: seccomp enforced" "$out";; esac
done
case $out in *"(socket: sandbox: denied system call socket ("[0-9]*"))"*) ok "index names the denied socket call";; *) not_ok "index names the denied socket call" "$out";; esac
case $out in *"(execve: sandbox: denied system call execve ("[0-9]*"))"*) ok "fetch names the denied execve call";; *) not_ok "fetch names the denied execve call" "$out";; esac
expect_eq "no temporary directory is left behind" "" "$(ls -A "$T/tmp")"

abi=$(python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(max(0, l.syscall(444, None, 0, 1)))')
if [ "$abi" -gt 0 ]; then
  n=$(grep -c "^  landlock     enforced (ABI $abi)$" <<<"$out")
  expect_eq "Landlock enforced in every role, with the kernel's ABI $abi" 5 "$n"
else
  expect_eq "Landlock not available on this kernel" 5 "$(grep -c '^  landlock     not available' <<<"$out")"
fi
expect_eq "no capability left in any role but the server's" 4 \
  "$(grep -c '^  capabilities none (all dropped)$' <<<"$out")"

"$TRAWL" sandbox-check --json > "$T/out.json" 2>"$T/err"; st=$?
expect_eq "--json exits 0" 0 "$st"
res=$(python3 - "$HERE/schemas/cli/sandbox_check.json" "$T/out.json" <<'PY'
import json, re, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
assert doc["ok"] is True, doc
roles = {r["role"]: r for r in doc["roles"]}
assert sorted(roles) == ["compile", "fetch", "index", "launcher", "server"], roles
for name, r in roles.items():
    assert r["applied"] and r["seccomp"]["enforced"] and r["rlimits"]["enforced"], r
    assert re.fullmatch(r"sandbox: denied system call %s \(\d+\)" % r["seccomp"]["forbidden"],
                        r["seccomp"]["report"]), r
    assert r["landlock"]["abi"] == doc["kernel"]["landlock_abi"], r
    assert r["landlock"]["enforced"] == (doc["kernel"]["landlock_abi"] > 0), r
assert roles["index"]["seccomp"]["forbidden"] == "socket"
assert roles["launcher"]["seccomp"]["forbidden"] == "socket"
assert roles["fetch"]["seccomp"]["forbidden"] == "execve"
assert roles["index"]["rlimits"]["nofile"] == 1024 and roles["index"]["rlimits"]["cpu_s"] == 3600
assert roles["server"]["rlimits"]["cpu_s"] is None and roles["server"]["descriptors"]["closed"] is False
assert all(roles[n]["descriptors"]["closed"] for n in ("fetch", "index", "compile", "launcher"))
assert all(roles[n]["capabilities"]["dropped"] for n in ("fetch", "index", "compile", "launcher"))
assert roles["server"]["capabilities"]["dropped"] is False
print("valid")
PY
)
expect_eq "--json follows its schema and says what was proved" valid "$res"

# Inherited descriptors: the workers' children close one the shell leaves open.
out=$(exec 7</dev/null; "$TRAWL" sandbox-check --json)
res=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(min(r["descriptors"]["n_closed"] for r in d["roles"] if r["role"] != "server"))' "$out")
case $res in [1-9]*) ok "inherited descriptors are closed and counted ($res)";; *) not_ok "inherited descriptors are closed and counted" "$out";; esac

# A lower inherited hard limit is kept (stricter than the role's) and still counts as enforced.
out=$(ulimit -n 200 && "$TRAWL" sandbox-check); st=$?
expect_eq "a lower inherited limit is kept and enforced" 0 "$st"

# The pattern compiler helper confines itself (compile role) before it reads its request.
mkfifo "$T/in"
"$TRAWL" __compile < "$T/in" > /dev/null 2>&1 &
cpid=$!
exec 8>"$T/in"
for _ in $(seq 50); do grep -q '^Seccomp:.2' "/proc/$cpid/status" 2>/dev/null && break; sleep 0.1; done
expect_eq "the compiler helper runs under its seccomp filter" "2" "$(awk '/^Seccomp:/ {print $2}' "/proc/$cpid/status")"
expect_eq "with only its standard descriptors" "0 1 2" "$(ls "/proc/$cpid/fd" | sort -n | tr '\n' ' ' | sed 's/ $//')"
exec 8>&-
wait "$cpid"

expect_status "an unknown option is a usage error" 2 "$TRAWL" sandbox-check --nope
out=$("$TRAWL" sandbox-check --help); st=$?
case "$st:$out" in "0:usage: trawl sandbox-check [--json]"*) ok "--help prints the usage";; *) not_ok "--help prints the usage" "$out";; esac
finish
