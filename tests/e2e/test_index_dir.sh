#!/usr/bin/env bash
# End-to-end tests of what killed `trawl index` runs leave in an index directory: temporary
# files and shards no MANIFEST lists are removed by the next successful run, never while another
# run may still commit them, and never a listed shard.
. "$(dirname "$0")/lib.sh"

# A tree big enough that indexing it takes a while (about 40 MB of text in 160 files).
gen_tree() {
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root, tag = sys.argv[1], sys.argv[2]
rnd = random.Random(7)
words = ["alpha", "beta", "gamma", "delta", "spin_lock", "mutex", "buffer", "index", "shard"]
for d in range(8):
    os.makedirs(os.path.join(root, "d%d" % d), exist_ok=True)
    for f in range(20):
        with open(os.path.join(root, "d%d" % d, "f%02d.txt" % f), "w") as out:
            line = " ".join(rnd.choice(words) + str(rnd.randrange(100000)) for _ in range(12))
            out.write((line + "\n") * 3000)
    with open(os.path.join(root, "d%d" % d, "marker.txt"), "w") as out:
        out.write("marker of %s\n" % tag)
PY
}

# Starts `trawl index -o IX --name NAME TREE` in the background and waits until it has a
# temporary shard file open; sets $pid. Retries when a run finished before it was seen.
start_until_tmp() {
  local name=$1 tree=$2 try before
  before=$(compgen -G "$IX/$name-*.shard.tmp.*" | wc -l)
  for try in 1 2 3 4 5; do
    "$TRAWL" index -q -j1 --max-file-size 4M -o "$IX" --name "$name" "$tree" 2>/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      [ "$(compgen -G "$IX/$name-*.shard.tmp.*" | wc -l)" -gt "$before" ] && return 0
    done
    wait "$pid"
  done
  return 1
}

IX=$T/ix
gen_tree "$T/big" big
mkdir -p "$T/small"; echo "small marker" > "$T/small/s.txt"
check "index a small repository" "$TRAWL" index -q -o "$IX" "$T/small"

# Killed runs: each leaves its temporary file behind.
for i in 1 2 3; do
  if start_until_tmp big "$T/big"; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    ok "kill -9 of trawl index #$i while it writes a shard"
  else
    not_ok "kill -9 of trawl index #$i while it writes a shard" "the run never showed a temporary file"
  fi
done
n_tmp=$(compgen -G "$IX/*.tmp.*" | wc -l)
expect_eq "the killed runs left their temporary files" 3 "$n_tmp"
# A run killed between renaming its shard and committing it leaves an unlisted shard.
stray=$IX/big-0123456789abcdef-0.shard
cp "$(compgen -G "$IX/small-*.shard")" "$stray"
printf 'x' > "$IX/MANIFEST.tmp.Ab12Cd"
printf 'keep me\n' > "$IX/notes.txt"

check "a successful run after the kills" "$TRAWL" index -q -o "$IX" "$T/small"
expect_eq "it removed every temporary file" "" "$(compgen -G "$IX/*.tmp.*")"
if [ ! -e "$stray" ]; then ok "it removed the shard no MANIFEST lists"; else not_ok "it removed the shard no MANIFEST lists"; fi
expect_eq "it kept files that are not the index's" "keep me" "$(cat "$IX/notes.txt")"
expect_eq "every remaining shard is listed" "$(ls "$IX" | grep '\.shard$' | sort)" \
  "$(python3 -c 'import json,sys; print("\n".join(sorted(s for r in json.load(open(sys.argv[1]))["repos"] for s in r["shards"])))' "$IX/MANIFEST")"
check "the index verifies" "$TRAWL" verify "$IX"
expect_eq "and answers" "small/s.txt:1:small marker" "$("$TRAWL" search -d "$IX" -e 'small marker')"

# A run in progress (stopped while it writes) keeps its files through another run's sweep,
# then commits them.
if start_until_tmp big "$T/big"; then
  kill -STOP "$pid"
  tmp=$(compgen -G "$IX/big-*.shard.tmp.*" | head -n 1)
  check "another run succeeds while one is in progress" "$TRAWL" index -q -o "$IX" "$T/small"
  if [ -n "$tmp" ] && [ -e "$tmp" ]; then ok "the running writer's temporary file was kept"
  else not_ok "the running writer's temporary file was kept" "$tmp"; fi
  kill -CONT "$pid"
  wait "$pid"; st=$?
  expect_eq "the stopped run completes" 0 "$st"
  expect_eq "its repository is searchable" "big/d3/marker.txt:1:marker of big" \
    "$("$TRAWL" search -d "$IX" --path d3/ -e 'marker of')"
  check "the index verifies after both" "$TRAWL" verify "$IX"
else
  not_ok "a run in progress is seen" "the run never showed a temporary file"
fi

finish
