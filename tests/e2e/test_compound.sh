#!/usr/bin/env bash
# End-to-end tests of compound shards (docs/index-format.md, "REPOS"): `trawl index` of many
# small directories packs them into shared shards, and every search, listing and re-index
# answers as if each repository had shards of its own. Results are compared with ripgrep's.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
# 40 small repositories of generated text (shared words, so most queries hit many of them), one
# holding a canary, one empty.
python3 - <<'PY'
import os, random
rnd = random.Random(16)
words = ["alpha", "beta", "Gamma", "delta", "spin_lock", "mutex", "buffer", "Index", "shard"]
for r in range(40):
    d = "r%02d" % r
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    for f in range(rnd.randrange(1, 6)):
        with open(os.path.join(d, "src", "f%d.txt" % f), "w") as out:
            for _ in range(rnd.randrange(1, 30)):
                out.write(" ".join(rnd.choice(words) + str(rnd.randrange(50))
                                   for _ in range(6)) + "\n")
with open("r17/src/secret.txt", "w") as out:
    out.write("token CANARY_c0mp0und here\n")
os.makedirs("empty", exist_ok=True)
PY
repos=(r?? empty)

check "index 41 directories in one run" "$TRAWL" index -q -o ix "${repos[@]}"
expect_eq "they share one compound shard" "1" "$(ls ix | grep -c '\.shard$')"
expect_eq "verify checks it once, naming its repositories" \
  "1" "$("$TRAWL" verify ix | grep -c 'compound: 41 repositories')"

# Search results equal ripgrep's over the same directories (REPO/PATH:LINE:TEXT), whatever the
# repository of each line in the shared file.
same_as_rg() {
  local desc=$1; shift
  local want got
  want=$(rg --no-heading -n "$@" "${repos[@]}" | sort)
  got=$("$TRAWL" search -d ix "$@" | sort)
  if [ -n "$want" ] && [ "$want" == "$got" ]; then ok "$desc"; else
    not_ok "$desc" "rg $*: $(wc -l <<<"$want") lines, trawl: $(wc -l <<<"$got")" \
      "$(diff <(echo "$want") <(echo "$got") | head -5)"; fi
}
same_as_rg "a literal: the same lines as rg" -e 'spin_lock1'
same_as_rg "a regex: the same lines as rg" -e 'Gamma[0-9]+ mutex4[0-9]'
same_as_rg "case-insensitive: the same lines as rg" -i -e 'index3'
same_as_rg "the canary in its one repository" -e 'CANARY_c0mp0und'

expect_eq "repo: keeps one repository of the compound shard" \
  "$(rg --no-heading -n -e 'delta1' r05 | sort)" \
  "$("$TRAWL" search -d ix 'repo:^r05$ delta1' | sort)"
expect_eq "a repository is listed with its files only" \
  "$(cd r09 && find . -type f | sed 's|^\./|r09/|' | sort)" \
  "$("$TRAWL" search -d ix 'repo:^r09$ type:path .' | sort)"
expect_eq "type:repo finds each repository once" "$(printf 'r1%d\n' 0 1 2 3 4 5 6 7 8 9)" \
  "$("$TRAWL" search -d ix --color never 'type:repo r1' | sort)"

# Re-indexing some repositories replaces their documents; the others keep the shared file.
old=$(ls ix/*.shard)
printf 'fresh words in r00\n' > r00/src/f0.txt
check "re-index two of the repositories" "$TRAWL" index -q -o ix r00 r01
expect_eq "the old compound shard stays: 39 repositories still list it" "yes" \
  "$([ -e "$old" ] && echo yes)"
expect_eq "the new content is found" "r00/src/f0.txt:1:fresh words in r00" \
  "$("$TRAWL" search -d ix -e 'fresh words')"
same_as_rg "after the re-index, still the same lines as rg" -e 'spin_lock1'
check "verify passes after the re-index" "$TRAWL" verify ix

# A directory that cannot be read is reported; the others of the run are indexed.
mkdir -p more/m1 more/m2
echo "more one" > more/m1/a.txt; echo "more two" > more/m2/a.txt
expect_status "a missing directory fails the run's exit status" 2 \
  "$TRAWL" index -q -o ix more/m1 more/missing more/m2
expect_eq "it is named" "1" "$(grep -c 'more/missing: cannot open directory' "$T/.err")"
expect_eq "the readable ones are indexed" "m1/a.txt:1:more one
m2/a.txt:1:more two" "$("$TRAWL" search -d ix -e '^more' | sort)"

# --paths-from: the directories listed in a file or on standard input (more than a command
# line holds), in one run with the command line's.
printf 'more/m2\n\nmore/m1\n' | "$TRAWL" index -q -o ix2 --paths-from - r05 > "$T/.out" 2>&1
expect_eq "--paths-from - adds standard input's paths to the command line's" "1 m1 m2 r05" \
  "$(ls ix2 | grep -c '\.shard$') $("$TRAWL" search -d ix2 --color never 'type:repo /^(r05|m[12])$/' | sort | xargs)"
printf 'more/m1\0x\n' > list0
expect_status "a NUL byte in --paths-from is refused" 2 "$TRAWL" index -q -o ix3 --paths-from list0
expect_eq "naming the file" "1" "$(grep -c 'list0: a NUL byte' "$T/.err")"

# Two directories of one name: the last one is indexed, with a warning; a bad name is left out.
mkdir -p x/lib y/lib ./-bad; echo "in x" > x/lib/a; echo "in y" > y/lib/b; echo z > ./-bad/c
expect_status "a bad directory name fails the run's exit status" 2 \
  "$TRAWL" index -q -o ix4 x/lib y/lib ./-bad x/lib
expect_eq "the repeated name is warned of, the bad one named" "2 1" \
  "$(grep -c 'both named "lib"' "$T/.err") $(grep -c 'invalid repository name "-bad"' "$T/.err")"
expect_eq "the last of the repeated ones is indexed" "lib/a:1:in x" \
  "$("$TRAWL" search -d ix4 -e '^in')"

# The server reads the compound index as any other: each repository, its tree and its files.
mkdir -p data && mv ix data/index
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TRAWL" serve --data data --sync-interval 0 --listen "127.0.0.1:$port" > server.log 2>&1 &
spid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
expect_eq "the server lists every repository" "43" \
  "$(curl -s "http://127.0.0.1:$port/api/v1/repos" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["repos"]))')"
expect_eq "a repository's file comes from its part of the compound shard" \
  "token CANARY_c0mp0und here" \
  "$(curl -s "http://127.0.0.1:$port/api/v1/repos/r17/raw?path=src/secret.txt")"
expect_eq "another repository has no such file" "404" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/repos/r16/raw?path=src/secret.txt")"
expect_eq "a search through the server names the canary's repository" "r17" \
  "$(curl -s "http://127.0.0.1:$port/api/v1/search?q=CANARY_c0mp0und" |
     python3 -c 'import json,sys; print(" ".join(sorted({f["repo"] for f in json.load(sys.stdin)["results"]})))')"
kill "$spid"; wait "$spid" 2>/dev/null

finish
