#!/usr/bin/env bash
# trawl's modules (build/gitapi.h, server/serveapi.h): `trawl index` loads the trawl-git.so and
# `trawl serve` the trawl-serve.so beside its own binary, each through one table, and refuses a
# module built for another ABI or lacking the table with a message that says so, instead of
# calling through mistyped pointers. Every other command loads neither: the binary itself needs
# none of libgit2's, the HTTP server's, TLS's or single sign-on's libraries.
. "$(dirname "$0")/lib.sh"
command -v cc >/dev/null || { echo "1..0 # SKIP no C compiler to build stand-in modules"; exit 0; }

dir=$(dirname "$TRAWL")
mkdir -p "$T/src" "$T/good" "$T/abi" "$T/none"
printf 'module_marker\n' > "$T/src/a.txt"
for d in good abi none; do cp "$TRAWL" "$T/$d/trawl"; done
cp "$dir/trawl-git.so" "$dir/trawl-serve.so" "$T/good/"

# Stand-ins with the tables' first two fields (abi, size) from another version of trawl.
for m in git serve; do
  printf '#include <stddef.h>\nconst struct { unsigned abi; size_t size; } trawl_%s_api = { 999, 16 };\n' \
    "$m" > "$T/abi-$m.c"
  cc -shared -fPIC -o "$T/abi/trawl-$m.so" "$T/abi-$m.c"
done
printf 'int not_a_trawl_table = 1;\n' > "$T/none.c"
cc -shared -fPIC -o "$T/none/trawl-git.so" "$T/none.c"
cc -shared -fPIC -o "$T/none/trawl-serve.so" "$T/none.c"

# abi_refused DESC MODULE-FILE CMD...: CMD exits 2 naming the stand-in module and both ABIs.
abi_refused() {
  local d=$1 file=$2; shift 2
  expect_status "$d: a module of another ABI is refused" 2 "$@"
  case $(cat "$T/.err") in
    *"$T/abi/$file"*"ABI 999"*"needs ABI"*) ok "$d: the refusal names the module and both ABIs" ;;
    *) not_ok "$d: the refusal names the module and both ABIs" "$(cat "$T/.err")" ;;
  esac
}

check "git: the module built with this binary loads" "$T/good/trawl" index -q -o "$T/ix" --worktree "$T/src"
abi_refused "git" trawl-git.so "$T/abi/trawl" index -q -o "$T/ix2" "$T/src"
expect_status "git: a module without the table is refused" 2 "$T/none/trawl" index -q -o "$T/ix3" "$T/src"
case $(cat "$T/.err") in
  *"not a trawl git support module"*) ok "git: the refusal says it is not the git support module" ;;
  *) not_ok "git: the refusal says it is not the git support module" "$(cat "$T/.err")" ;;
esac

check "serve: the module built with this binary loads" "$T/good/trawl" serve --help
abi_refused "serve" trawl-serve.so "$T/abi/trawl" serve --data "$T/d" --listen 127.0.0.1:0
expect_status "serve: a module without the table is refused" 2 "$T/none/trawl" serve --data "$T/d"
case $(cat "$T/.err") in
  *"not a trawl server module"*) ok "serve: the refusal says it is not the server module" ;;
  *) not_ok "serve: the refusal says it is not the server module" "$(cat "$T/.err")" ;;
esac
rm "$T/none/trawl-serve.so"
expect_status "serve: a missing module is an error naming it" 2 "$T/none/trawl" serve --data "$T/d"
case $(cat "$T/.err") in
  *"cannot load the server module $T/none/trawl-serve.so"*) ok "serve: the error names the missing file" ;;
  *) not_ok "serve: the error names the missing file" "$(cat "$T/.err")" ;;
esac
[ ! -e "$T/d" ] && ok "serve: nothing was created without the module" || not_ok "serve: nothing was created without the module"

# Searching (and every command but index, sync, repo and serve) maps none of the modules'
# libraries: the dynamic loader lists what it loads.
"$T/good/trawl" index -q -o "$T/ix4" --worktree "$T/src" >/dev/null 2>&1
libs=$(LD_DEBUG=libs "$T/good/trawl" search -d "$T/ix4" module_marker 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u)
for lib in libmicrohttpd libgnutls libcurl libcjose libgit2 trawl-serve.so trawl-git.so; do
  case $libs in
    *"$lib"*) not_ok "trawl search does not load $lib" "$libs" ;;
    *) ok "trawl search does not load $lib" ;;
  esac
done
case $libs in
  *libhs*) ok "the loader listing is real (it names Vectorscan's libhs)" ;;
  *) not_ok "the loader listing is real (it names Vectorscan's libhs)" "$libs" ;;
esac
finish
