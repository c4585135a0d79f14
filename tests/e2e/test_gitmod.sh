#!/usr/bin/env bash
# The git support module (build/gitapi.h): `trawl index` loads the trawl-git.so beside its own
# binary through one table, and refuses a module built for another ABI or lacking the table with
# a message that says so, instead of calling through mistyped pointers.
. "$(dirname "$0")/lib.sh"
command -v cc >/dev/null || { echo "1..0 # SKIP no C compiler to build stand-in modules"; exit 0; }

mod=$(dirname "$TRAWL")/trawl-git.so
mkdir -p "$T/src" "$T/good" "$T/abi" "$T/none"
printf 'module_marker\n' > "$T/src/a.txt"
for d in good abi none; do cp "$TRAWL" "$T/$d/trawl"; done
cp "$mod" "$T/good/trawl-git.so"

# A stand-in with the table's first two fields (abi, size) from another version of trawl.
cat > "$T/abi.c" <<'C'
#include <stddef.h>
const struct { unsigned abi; size_t size; } trawl_git_api = { 999, 16 };
C
printf 'int not_trawl_git_api = 1;\n' > "$T/none.c"
cc -shared -fPIC -o "$T/abi/trawl-git.so" "$T/abi.c"
cc -shared -fPIC -o "$T/none/trawl-git.so" "$T/none.c"

check "the module built with this binary loads" "$T/good/trawl" index -q -o "$T/ix" --worktree "$T/src"

expect_status "a module of another ABI is refused" 2 "$T/abi/trawl" index -q -o "$T/ix2" "$T/src"
err=$(cat "$T/.err")
case $err in
  *"$T/abi/trawl-git.so"*"ABI 999"*"needs ABI"*) ok "the refusal names the module and both ABIs" ;;
  *) not_ok "the refusal names the module and both ABIs" "$err" ;;
esac

expect_status "a module without the table is refused" 2 "$T/none/trawl" index -q -o "$T/ix3" "$T/src"
err=$(cat "$T/.err")
case $err in
  *"not a trawl git support module"*) ok "the refusal says it is not the git support module" ;;
  *) not_ok "the refusal says it is not the git support module" "$err" ;;
esac
finish
