#!/usr/bin/env bash
# trawl search's context (-A, -B, -C) and --heading print byte for byte what ripgrep prints
# with the same flags (rg -n --no-heading, or rg -n --heading), over files whose matches are
# adjacent, overlapping, apart, at the edges of a file, and in a file without a final newline.
# Not compared: -m N with context, where rg prints a line matching inside the last counted
# match's after-context as a match, and trawl as context (docs/exactness.md).
. "$(dirname "$0")/lib.sh"
RG=${RG:-/usr/bin/rg}
[ -x "$RG" ] || { echo "1..0 # SKIP ripgrep not found at $RG"; exit 0; }

mkdir -p "$T/ctx/sub" && cd "$T" || exit 1
printf 'a\nfoo\nb\nc\nd\ne\nfoo\nfoo\nx\ny\nz\nw\nfoo\n' > ctx/a.txt
printf 'foo\nq\n' > ctx/b.txt
printf 'one\ntwo\nfoo three\n\n\nfour\nfive foo' > ctx/c_nonl.txt
printf 'foo\r\nbar\r\n\r\nbaz foo\r\n' > ctx/d_crlf.txt
printf '1\n2\n3\n4\n5\n6\n7\n8\nfoo\n' > ctx/sub/e.txt
printf 'nothing here\n' > ctx/sub/f.txt
check "trawl index" "$TRAWL" index -q -o "$T/ix" ctx

# same FLAGS...: rg and trawl search -e foo with FLAGS, outputs and exit statuses equal.
same() {
  local rg_out tr_out rg_rc tr_rc
  rg_out=$(cd "$T" && "$RG" --no-config -uu -j1 --sort path -n --color never "$@" -e foo ctx; echo "rc=$?")
  tr_out=$("$TRAWL" search -d "$T/ix" -j1 --color never "$@" -e foo; echo "rc=$?")
  if [ "$rg_out" == "$tr_out" ]; then ok "as rg -n $*"
  else not_ok "as rg -n $*" "rg:" "$rg_out" "trawl:" "$tr_out"; fi
}

for heading in --no-heading --heading; do
  same "$heading"
  for flags in "-A1" "-B1" "-C1" "-C2" "-A3" "-B4" "-C0" "-A2 -B1" "-m1 -A2" \
               "-C100"; do
    # shellcheck disable=SC2086
    same $heading $flags
  done
done
same --heading -i -C1

expect_status "-C with --json is refused" 2 "$TRAWL" search -d "$T/ix" -C1 --json -e foo
expect_eq "with a reason naming the API" 1 "$(grep -c 'context=N' "$T/.err")"
expect_status "-A with -l is refused" 2 "$TRAWL" search -d "$T/ix" -A1 -l -e foo
expect_status "-C not a number" 2 "$TRAWL" search -d "$T/ix" -C x -e foo
expect_eq "says which flag" 1 "$(grep -c -- '-C: expected a number of lines' "$T/.err")"
# rg 13 drops -C when -A or -B follows it; trawl keeps -C for the side not given, as rg 14.
expect_eq "-C2 -A0: two lines before, none after" "ctx/sub/e.txt-7-7
ctx/sub/e.txt-8-8
ctx/sub/e.txt:9:foo" "$("$TRAWL" search -d "$T/ix" -C2 -A0 --path 'e\.txt' -e foo)"
out=$("$TRAWL" search -d "$T/ix" --heading -C1 foo 2>&1)
expect_eq "a query (not -e) gets context too" "ctx/sub/e.txt
8-8
9:foo" "$(printf '%s\n' "$out" | grep -A2 '^ctx/sub/e.txt$')"
finish
