#!/usr/bin/env bash
# End-to-end tests of symbols at index time (docs/internals/symbols.md): `trawl index
# --symbols` runs confined ctags over nine languages, `trawl verify` checks the SYMBOLS
# section, `trawl ls --symbols` looks names up; a repository's .ctags.d/ is ignored; names
# with control characters and HTML come back as bytes; a ctags that hangs or dies costs a file
# its symbols, never its content (`ls --skipped` says why); an incremental git run extracts
# only the changed files; a 50 MB file fails alone; an index without symbols is as before.
. "$(dirname "$0")/lib.sh"

R=$T/repo
mkdir -p "$R/src" "$R/geo" "$R/cmd" "$R/app" "$R/web" "$R/lib" "$R/.ctags.d"
printf '#define MAX 10\nstruct point { int x; };\nint add(int a, int b) { return a + b; }\nEVIL_LINE\n' >"$R/src/point.c"
printf 'namespace geo {\nclass Shape {\npublic:\n  double area() const { return 0; }\n};\n}\n' >"$R/geo/shape.cpp"
printf 'package main\n\nfunc Hello() string { return "hi" }\n' >"$R/cmd/main.go"
printf 'class Greeter:\n    def greet(self, who):\n        pass\n' >"$R/app/greet.py"
printf 'function hello() {}\nclass Widget {\n  render() {}\n}\n' >"$R/web/widget.js"
printf 'interface Shape {\n  area(): number;\n}\nexport function total(): number { return 0; }\n' >"$R/web/shape.ts"
printf 'public class App {\n  public static void main(String[] a) {}\n}\n' >"$R/src/App.java"
printf 'pub struct Config {\n    pub name: String,\n}\nfn parse() -> Config {\n    todo!()\n}\n' >"$R/src/config.rs"
printf 'class Account\n  def deposit(x)\n  end\nend\n' >"$R/lib/account.rb"
printf '# <img src=x onerror=alert(1)>\n\ntext\n\n## a\001b\n\nmore\n' >"$R/README.md"
printf 'plain text, no language\n' >"$R/notes.txt"
printf 'bin\000ary' >"$R/blob.bin"
# A repository's own ctags options: they must never be read.
printf -- '--regex-C=/^(EVIL_[A-Z]+)/\\1/e,evil/\n' >"$R/.ctags.d/evil.ctags"
cp "$R/.ctags.d/evil.ctags" "$R/.ctags"

IX=$T/ix
check "index --symbols succeeds" "$TRAWL" index --symbols -o "$IX" --name repo "$R"
expect_eq "summary counts symbols, no ctags failure" 1 \
  "$(grep -c '^symbols repo: [1-9][0-9]* symbols; 0 files without symbols because ctags failed$' "$T/.out")"
check "verify passes" "$TRAWL" verify "$IX"
expect_eq "verify reports the symbols" 1 "$(grep -c '^  symbols: [1-9][0-9]* in 11 files; failed: 0 timed out' "$T/.out")"

# The index of the names (GRAMS, docs/index-format.md) is written, and checked by verify: its
# keys put out of order under good checksums make verify fail naming the file and the index.
cp -r "$IX" "$T/ix-badgrams"
expect_eq "the names' trigram index is written and then damaged" "damaged" "$(python3 - "$T/ix-badgrams" <<'PY'
import glob, struct, sys, zlib
for path in glob.glob(sys.argv[1] + "/*.shard"):
    b = bytearray(open(path, "rb").read())
    n = struct.unpack_from("<I", b, 16)[0]
    for i in range(n):
        e = 64 + 32 * i
        sid, _, off, ln = struct.unpack_from("<IIQQ", b, e)
        if sid != 9:
            continue
        flags, nd, ns, nn, nk, nl, sl = struct.unpack_from("<7I", b, off)
        g = off + 32 + 8 * nd + 24 * ns + 8 * nn + 4 * (nk + nl) + sl
        ng = struct.unpack_from("<I", b, g)[0]
        if not flags & 1 or ng < 2:
            sys.exit("no GRAMS")
        last = struct.unpack_from("<I", b, g + 16 + 12 * (ng - 1))[0]
        struct.pack_into("<I", b, g + 16, last)
        struct.pack_into("<I", b, e + 24, zlib.crc32(b[off:off + ln]))
    struct.pack_into("<I", b, 20, 0)
    struct.pack_into("<I", b, 20, zlib.crc32(b[0:64 + 32 * n]))
    open(path, "wb").write(b)
print("damaged")
PY
)"
expect_status "verify refuses the damaged name index" 2 "$TRAWL" verify "$T/ix-badgrams"
expect_eq "verify names the shard and the name index" 1 \
  "$(grep -c 'ix-badgrams/.*SYMBOLS: name index keys not sorted' "$T/.out" "$T/.err" | awk -F: '{s += $NF} END {print s}')"

ls_sym() { "$TRAWL" ls -d "$IX" --symbols "$@"; }
expect_eq "C function with line, language and signature" \
  "$(printf 'repo/src/point.c:3\tfunction\tadd\t\tC\t(int a,int b)')" "$(ls_sym add)"
expect_eq "Python method with its scope" \
  "$(printf 'repo/app/greet.py:2\tmember\tgreet\tGreeter\tPython\t(self, who)')" "$(ls_sym greet)"
for want in "geo/shape.cpp	class	Shape" "cmd/main.go	func	Hello" "web/widget.js	method	render" \
  "web/shape.ts	interface	Shape" "src/App.java	method	main" "src/config.rs	struct	Config" \
  "lib/account.rb	method	deposit"; do
  path=${want%%	*} rest=${want#*	} kind=${rest%%	*} name=${rest#*	}
  expect_eq "$path: $kind $name" 1 \
    "$(ls_sym "$name" | grep -c "^repo/$path:[0-9]*	$kind	$name	")"
done
expect_eq "exact lookup is case-sensitive" "" "$(ls_sym HELLO)"
expect_eq "-i ignores case" 2 "$(ls_sym -i HELLO | wc -l)"
expect_eq "--prefix" "Shape Shape" "$(ls_sym --prefix Sha | cut -f3 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the repository's .ctags.d/ and .ctags are ignored" "" "$(ls_sym EVIL_LINE)"
expect_eq "no symbol of the repository's regex kind" 0 "$(ls_sym | cut -f2 | grep -c '^evil$')"
expect_eq "HTML in a name comes back as it was" 1 \
  "$(ls_sym '<img src=x onerror=alert(1)>' | grep -c $'\tchapter\t<img src=x onerror=alert(1)>\t')"
expect_eq "a control character in a name comes back as a byte" \
  "$(printf 'a\001b')" "$(ls_sym --prefix 'a' | grep $'\tsection\t' | cut -f3)"
expect_eq "nothing skipped" "" "$("$TRAWL" ls -d "$IX" --skipped | grep -v blob.bin)"

# A fake ctags (TRAWL_TEST_CTAGS, a hook of the test binary trawl-test only, run under the same
# confinement) that hangs on every file.
cat >"$T/spin.sh" <<'EOF'
#!/bin/sh
echo '{"_type": "program", "name": "fake"}'
read req
while :; do :; done
EOF
cat >"$T/die.sh" <<'EOF'
#!/bin/sh
echo '{"_type": "program", "name": "fake"}'
read req
printf '{"_type": "tag", "name": "half'
kill -9 $$
EOF
chmod +x "$T/spin.sh" "$T/die.sh"
for fake in spin die; do
  IXF=$T/ix-$fake
  reason=$([ $fake = spin ] && echo "ctags timed out" || echo "ctags crashed")
  check "$fake: index succeeds" env TRAWL_TEST_CTAGS="$T/$fake.sh" "$TRAWL_TEST" index --symbols \
    --symbols-timeout 200 -j1 -o "$IXF" --name repo "$R"
  expect_eq "$fake: summary counts the failed files" 1 \
    "$(grep -c '^symbols repo: 0 symbols; [1-9][0-9]* files without symbols because ctags failed$' "$T/.out")"
  check "$fake: verify passes" "$TRAWL" verify "$IXF"
  expect_eq "$fake: ls --skipped says why" \
    "$(printf 'repo/src/point.c\t%s\tindexed, no symbols: %s' "$(stat -c %s "$R/src/point.c")" "$reason")" \
    "$("$TRAWL" ls -d "$IXF" --skipped | grep point.c)"
  expect_eq "$fake: the file's content is still searched" 1 \
    "$("$TRAWL" search -d "$IXF" -l 'return a + b' | grep -c 'src/point.c')"
  expect_eq "$fake: no symbols" "" "$("$TRAWL" ls -d "$IXF" --symbols add)"
done

# The release binary has no such hook: with the variable set it runs the real ctags.
check "release: TRAWL_TEST_CTAGS is ignored" env TRAWL_TEST_CTAGS="$T/die.sh" "$TRAWL" index \
  --symbols -j1 -o "$T/ix-release" --name repo "$R"
expect_eq "release: the real ctags made the symbols" 1 \
  "$("$TRAWL" ls -d "$T/ix-release" --symbols add | grep -c 'src/point.c')"

# A killed indexer leaves no ctags behind (PR_SET_PDEATHSIG): wait until its ctags (the
# hanging fake, past its exec) runs, kill -9 the indexer, and see the fake go too.
env TRAWL_TEST_CTAGS="$T/spin.sh" "$TRAWL_TEST" index --symbols --symbols-timeout 600000 -j1 \
  -o "$T/ix-kill" --name repo "$R" >/dev/null 2>&1 &
tpid=$! cpid=
for _ in $(seq 300); do
  for c in $(pgrep -P "$tpid"); do
    [ "$(readlink "/proc/$c/exe")" = "$(readlink -f /bin/sh)" ] && cpid=$c
  done
  [ -n "$cpid" ] && break
  sleep 0.1
done
expect_eq "kill: the indexer's ctags was seen running" yes "$([ -n "$cpid" ] && echo yes)"
kill -9 "$tpid"; wait "$tpid" 2>/dev/null
for _ in $(seq 100); do [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
expect_eq "kill: its ctags died with it" gone "$( [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null && echo alive || echo gone)"

# A 50 MB file: indexed; its symbols fail alone (too much output or too long).
B=$T/big
mkdir -p "$B"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    i = 0
    while f.tell() < 50 << 20:
        f.write("int v%d;\n" % i); i += 1
' "$B/huge.c"
printf 'int small_one(void) { return 1; }\n' >"$B/small.c"
check "50 MB: index succeeds" "$TRAWL" index --symbols --symbols-timeout 3000 -j1 \
  --max-file-size 64M -o "$T/ix-big" --name big "$B"
# Which limit ends ctags depends on the machine: the output cap, the deadline, or its 2 GiB of
# address space (it keeps the file's millions of tags until the end and dies: "crashed").
expect_eq "50 MB: its symbols failed alone" 1 \
  "$("$TRAWL" ls -d "$T/ix-big" --skipped | grep -cE '^big/huge\.c	[0-9]+	indexed, no symbols: (too many symbols|ctags timed out|ctags crashed)$')"
expect_eq "50 MB: the next file has its symbols" 1 "$("$TRAWL" ls -d "$T/ix-big" --symbols small_one | wc -l)"
expect_eq "50 MB: its content is searched" 1 "$("$TRAWL" search -d "$T/ix-big" -l 'int v1234567;' | wc -l)"

# Git: an incremental run extracts symbols only for the changed file.
G=$T/git
mkdir -p "$G"
git -C "$G" init -q
printf 'int kept_fn(void) { return 0; }\n' >"$G/kept.c"
printf 'int old_name(void) { return 0; }\n' >"$G/changed.c"
git -C "$G" add -A && git -C "$G" -c user.name=t -c user.email=t@t commit -q -m base
IXG=$T/ix-git
check "git: index --symbols" "$TRAWL" index --symbols -o "$IXG" --name g "$G"
printf 'int new_name(void) { return 0; }\n' >"$G/changed.c"
git -C "$G" -c user.name=t -c user.email=t@t commit -q -am change
check "git: incremental run" "$TRAWL" index --symbols -o "$IXG" --name g "$G"
expect_eq "git: the run was incremental" 1 "$(grep -c '^incremental g: ' "$T/.out")"
expect_eq "git: it extracted one file's symbols" 1 "$(grep -c '^symbols g: 1 symbols;' "$T/.out")"
expect_eq "git: the new name is found" 1 "$("$TRAWL" ls -d "$IXG" --symbols new_name | wc -l)"
expect_eq "git: the old name is gone" "" "$("$TRAWL" ls -d "$IXG" --symbols old_name)"
expect_eq "git: the kept file's symbols stay" 1 "$("$TRAWL" ls -d "$IXG" --symbols kept_fn | wc -l)"
check "git: verify passes" "$TRAWL" verify "$IXG"
# An index made without symbols and a run with them (or the other way round): a full run, so
# that no kept shard lacks the symbols the others have.
IXM=$T/ix-git-mixed
check "git: index without symbols" "$TRAWL" index -o "$IXM" --name g "$G"
check "git: then with --symbols" "$TRAWL" index --symbols -o "$IXM" --name g "$G"
expect_eq "git: that run was not incremental" 0 "$(grep -c '^incremental g: ' "$T/.out")"
expect_eq "git: the unchanged file has its symbols" 1 "$("$TRAWL" ls -d "$IXM" --symbols kept_fn | wc -l)"
check "git: then without again" "$TRAWL" index -o "$IXM" --name g "$G"
expect_eq "git: no symbols are left" "" "$("$TRAWL" ls -d "$IXM" --symbols)"

# trawl repo status lists them too (the repository's index here comes from trawl index
# --symbols, with a ctags that dies; test_sync_symbols.sh has the same through trawl sync).
D=$T/data
check "status: repo add" "$TRAWL" repo add --data "$D" --allow-local --name g "$G"
check "status: index with a dying ctags" env TRAWL_TEST_CTAGS="$T/die.sh" "$TRAWL_TEST" index \
  --symbols -o "$D/index" --name g "$G"
expect_eq "status: the file without symbols and why" \
  "$(printf '  skipped g/kept.c\t%s\tindexed, no symbols: ctags crashed' "$(stat -c %s "$G/kept.c")")" \
  "$("$TRAWL" repo status --data "$D" g | grep 'kept.c')"
expect_eq "status --json: the same" "indexed, no symbols: ctags crashed" \
  "$("$TRAWL" repo status --data "$D" --json g | python3 -c 'import json,sys; print([s["reason"] for s in json.load(sys.stdin)["skipped"] if s["path"] == "kept.c"][0])')"

# Without --symbols nothing changes.
check "plain index" "$TRAWL" index -o "$T/ix-plain" --name repo "$R"
expect_eq "plain: no symbols line in the summary" 0 "$(grep -c '^symbols ' "$T/.out")"
check "plain: verify" "$TRAWL" verify "$T/ix-plain"
expect_eq "plain: verify says nothing of symbols" 0 "$(grep -c 'symbols:' "$T/.out")"
expect_eq "plain: ls --symbols lists nothing" "" "$("$TRAWL" ls -d "$T/ix-plain" --symbols)"
expect_status "--symbols-timeout needs --symbols" 2 "$TRAWL" index --symbols-timeout 10 -o "$T/x" "$R"

finish
