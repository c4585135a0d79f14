#!/usr/bin/env bash
# clang-format (.clang-format) on the lines changed since git revision BASE, in src/ and tests/:
# prints the layout it wants and fails when a changed line differs from it. Only changed lines
# are checked, because the tree is not reformatted (docs/internals/style.md).
#
#   scripts/format-check.sh [BASE]      (default: main)
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(git merge-base HEAD "${1:-main}")
fmt_diff=$(command -v clang-format-diff || command -v clang-format-diff-14 || true)
[ -n "$fmt_diff" ] || { echo "format-check: clang-format-diff not found (apt-get install clang-format)" >&2; exit 2; }
out=$(git diff -U0 --no-color "$base" -- 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' |
  "$fmt_diff" -p1 -regex '.*\.[ch]' || true)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  echo "format-check: changed lines differ from .clang-format (above: what it wants)"
  exit 1
fi
echo "format-check: changed lines follow .clang-format"
