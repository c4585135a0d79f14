#!/usr/bin/env bash
# clang-tidy over trawl's C with a baseline: runs the checks of .clang-tidy on every source in
# compile_commands.json (or only on the files given as arguments), and fails when a finding is
# not in .clang-tidy-baseline. A finding is keyed by file, check and message, not by line, so
# edits elsewhere in a file do not invalidate the baseline; a second identical finding in the
# same file is new.
#
#   scripts/lint-tidy.sh [FILE.c...]     check (all files when none are given)
#   scripts/lint-tidy.sh --changed BASE  check the C files changed since git revision BASE (all
#                                        files when a header changed, as its includers may)
#   scripts/lint-tidy.sh --update        rewrite the baseline from a run over all files
#
# Environment: CLANG_TIDY (default clang-tidy), JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
tidy=${CLANG_TIDY:-clang-tidy}
jobs=${JOBS:-$(nproc)}
baseline=.clang-tidy-baseline
update=no
if [ "${1:-}" = --update ]; then update=yes; shift; fi

command -v "$tidy" >/dev/null || { echo "lint-tidy: $tidy not found (apt-get install clang-tidy)" >&2; exit 2; }
[ -f compile_commands.json ] || { echo "lint-tidy: no compile_commands.json (make compile_commands.json)" >&2; exit 2; }

all=$(python3 -c 'import json; print("\n".join(e["file"] for e in json.load(open("compile_commands.json"))))')
if [ "${1:-}" = --changed ]; then
  base=$(git merge-base HEAD "${2:?--changed needs a git revision}")
  changed=$( (git diff --name-only "$base" -- '*.c' '*.h'; git ls-files -o --exclude-standard -- '*.c' '*.h') | sort -u)
  if printf '%s\n' "$changed" | grep -q '\.h$'; then
    set --
  else
    set -- $(printf '%s\n' "$changed" | grep -xFf <(printf '%s\n' "$all") || true)
    [ $# -gt 0 ] || { echo "lint-tidy: no C file changed since $base"; exit 0; }
  fi
fi
if [ $# -gt 0 ]; then files=$(printf '%s\n' "$@"); else files=$all; fi
[ "$update" = yes ] && files=$all

work=$(mktemp -d "${TMPDIR:-/tmp}/trawl-tidy.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One clang-tidy per file, in parallel. clang-tidy 14's static analyzer crashes on a few inputs
# (an assertion while evaluating a branch); such a file is checked again without the analyzer
# rather than dropped, and the crash is reported.
run_one() {
  local f=$1 out=$work/$(printf '%s' "$1" | tr / _) rc=0
  "$tidy" -p . --quiet "$f" >"$out.out" 2>"$out.err" || rc=$?
  if [ "$rc" -ge 128 ] || grep -q '^Stack dump:' "$out.err"; then
    echo "lint-tidy: clang-tidy crashed on $f; checked without clang-analyzer-*" >&2
    rc=0
    "$tidy" -p . --quiet --checks=-clang-analyzer-* "$f" >"$out.out" 2>"$out.err" || rc=$?
  fi
  if [ "$rc" != 0 ]; then
    echo "lint-tidy: clang-tidy failed on $f (exit $rc):" >&2
    grep -E 'error:' "$out.err" | head -n 5 >&2
    echo "$f" >>"$work/failed"
  fi
}
export -f run_one
export tidy work
printf '%s\n' $files | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}

# "path:line:col: warning: message [check]" -> "path: message [check]", paths relative.
cat "$work"/*.out 2>/dev/null | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' |
  sed -E "s|^$PWD/||; s|^([^:]+):[0-9]+:[0-9]+: |\1: |" | sort >"$work/found" || true

if [ "$update" = yes ]; then
  cp "$work/found" "$baseline"
  echo "lint-tidy: wrote $(wc -l <"$baseline") findings to $baseline"
  exit 0
fi

# Findings of the checked files only: the baseline of the files not run does not count.
printf '%s\n' $files | sed 's|^\./||' | sort -u >"$work/files"
awk -F': ' 'NR == FNR { want[$0] = 1; next } ($1 in want)' "$work/files" "$baseline" |
  sort >"$work/base"
comm -23 "$work/found" "$work/base" >"$work/new"
fixed=$(comm -13 "$work/found" "$work/base" | wc -l)
n_files=$(printf '%s\n' $files | wc -l)
if [ -s "$work/failed" ]; then
  echo "lint-tidy: clang-tidy could not check: $(tr '\n' ' ' <"$work/failed")"
  exit 1
fi
if [ -s "$work/new" ]; then
  echo "lint-tidy: $(wc -l <"$work/new") finding(s) not in $baseline:"
  # Show them with their line numbers again.
  while IFS= read -r key; do
    file=${key%%: *} rest=${key#*: }
    grep -hF -- "$rest" "$work"/*.out | sed -E "s|^$PWD/||" | grep -F -- "$file:" | head -n 1
  done <"$work/new"
  echo "fix them, or if a finding is a false positive, say why in a NOLINT comment at the line"
  exit 1
fi
echo "lint-tidy: $n_files files, no new findings ($(wc -l <"$work/base") in the baseline," \
  "$fixed of them gone: scripts/lint-tidy.sh --update drops them)"
