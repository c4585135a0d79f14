#!/usr/bin/env bash
# trawl sync verifies a repository's shards before indexing it, but reads a shard file in full
# only when it is not the file it verified before (build/shardcheck.h, DATA/shards-verified):
# a sync trusts a record that matches the file, and a shard damaged since (its modification
# time put back) is still caught and re-indexed.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset TRAWL_DATA TRAWL_ALLOW_LOCAL TRAWL_ALLOW_PRIVATE TRAWL_ALLOW_INSECURE
cd "$T" || exit 1
D=$T/data
g init -q src
for i in $(seq 20); do head -c 75000 /dev/urandom | base64 -w 100 > "src/f$i.txt"; done
echo "needle in the repository" > src/a.txt
g -C src add . && g -C src commit -qm one
search() { "$TRAWL" search -d "$D/index" "$1" 2>/dev/null; }
shards() { python3 -c 'import json,sys; print(" ".join(s for r in json.load(open(sys.argv[1]))["repos"] for s in r["shards"]))' "$D/index/MANIFEST"; }

check "repo add" "$TRAWL" repo add --data "$D" --allow-local "$T/src" --name r1
check "first sync" "$TRAWL" sync --data "$D"
expect_eq "the repository is indexed" "r1/a.txt:1:needle in the repository" "$(search needle)"
# A file is recorded only once its times are 2 s old (a write in the same clock tick would
# leave them equal): wait that out, then a sync verifies it in full and records it.
sleep 3
check "a sync verifies the shard" "$TRAWL" sync --data "$D"
shard=$(shards)
expect_eq "one shard" 1 "$(wc -w <<<"$shard")"
expect_eq "the record holds it" "$shard" \
  "$(awk 'NR > 1 {print $1}' "$D/shards-verified" | tr '\n' ' ' | sed 's/ $//')"

f=$D/index/$shard
# Damage past what opening a shard checks, then a record forged to name the damaged file as
# verified: a sync that trusts its record does not read the file, so does not see the damage.
# (The page cache cannot show it: read-ahead brings in a small shard whole on its first page.)
flip() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDWR); n=os.fstat(fd).st_size; b=os.pread(fd,1,n//2); os.pwrite(fd, bytes([b[0]^0x55]), n//2)' "$1"; }
forge() {
  python3 - "$D/shards-verified" "$f" <<'PY'
import os, sys
rec, path = sys.argv[1], sys.argv[2]
lines = open(rec).read().splitlines()
name, crc = lines[1].split()[0], lines[1].split()[-1]
st = os.stat(path)
lines[1] = " ".join(str(v) for v in (name, st.st_dev, st.st_ino, st.st_size,
                                     st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9,
                                     st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9)) + " " + crc
open(rec, "w").write("\n".join(lines) + "\n")
PY
}
flip "$f"
forge
expect_status "a sync with a record naming the damaged file as verified completes" 0 \
  "$TRAWL" sync --data "$D"
expect_eq "without reading it (it did not see the damage)" 0 \
  "$(grep -c 're-indexing' "$T/.err")"
expect_status "which trawl verify does see" 2 "$TRAWL" verify "$D/index"
flip "$f" # repaired: the same bytes again, with a new change time
check "the index verifies again" "$TRAWL" verify "$D/index"

# Damage past what opening a shard checks, with the modification time put back.
sleep 3 # the repair settles, so that the next sync verifies and records the file
check "a sync after the repair" "$TRAWL" sync --data "$D"
check "records the file again" grep -q "^$shard " "$D/shards-verified"
ref=$T/ref
touch -r "$f" "$ref"
flip "$f"
touch -r "$ref" "$f"
expect_status "a sync after the damage completes" 0 "$TRAWL" sync --data "$D"
expect_eq "having caught the damage" 1 "$(grep -c 're-indexing the repository in full' "$T/.err")"
expect_eq "and re-indexed" "r1/a.txt:1:needle in the repository" "$(search needle)"
check "the index verifies" "$TRAWL" verify "$D/index"
finish
