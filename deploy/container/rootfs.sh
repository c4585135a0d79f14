#!/usr/bin/env bash
# Assembles the runtime file tree of trawl's container image into OUT from a local build: the
# binary and its two modules, universal-ctags, the shared libraries `ldd` lists for them (and
# nothing else: no shell, no package manager), the CA certificates, and /etc files for user
# 10001. The Containerfile runs it in its build stage and copies OUT into an empty image;
# tests/e2e/test_deploy.sh runs it here and runs trawl inside OUT with chroot, which proves the
# list complete. docs/deploy.md, "The container image".
#
#   deploy/container/rootfs.sh BUILD_DIR OUT
#     BUILD_DIR  holds trawl, trawl-git.so and trawl-serve.so (build/release)
#     OUT        created; must not exist or be empty
#   CTAGS=PATH   universal-ctags to copy (default: the ctags on PATH, which must be universal)
#   SOURCE_DATE_EPOCH  every file's mtime (default 0): the same inputs give the same tree
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 BUILD_DIR OUT" >&2; exit 2; }
build=$1 out=$2
epoch=${SOURCE_DATE_EPOCH:-0}
for f in trawl trawl-git.so trawl-serve.so; do
  [ -f "$build/$f" ] || { echo "rootfs.sh: $build/$f is missing (run make)" >&2; exit 2; }
done
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "rootfs.sh: $out is not empty" >&2; exit 2
fi
ctags=$(readlink -f "${CTAGS:-$(command -v ctags || true)}")
{ [ -x "$ctags" ] && "$ctags" --version 2>/dev/null | grep -q '^Universal Ctags'; } ||
  { echo "rootfs.sh: universal-ctags not found (apt-get install universal-ctags, or CTAGS=PATH)" >&2; exit 2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Debian's merged /usr: /lib, /lib64, /bin and /sbin are links into /usr, as on the host.
mkdir -p "$out"/usr/{lib,lib64,bin,sbin,local/bin} "$out"/etc "$out"/var/lib/trawl \
  "$out"/var/cache/trawl "$out"/tmp "$out"/proc "$out"/dev "$out"/run
for d in lib lib64 bin sbin; do ln -s "usr/$d" "$out/$d"; done
chmod 1777 "$out/tmp"

install -m 0755 "$build/trawl" "$out/usr/local/bin/trawl"
# The modules beside the binary: trawl finds them next to /proc/self/exe (src/cli/module.c).
install -m 0644 "$build/trawl-git.so" "$build/trawl-serve.so" "$out/usr/local/bin/"
# The path trawl runs ctags from (CTAGS_PATH, src/symbols/ctags.h).
install -m 0755 "$ctags" "$out/usr/bin/ctags"

# copy_lib PATH: PATH's file at PATH's name, in the directory PATH's directory resolves to.
copy_lib() {
  local dir
  dir=$(readlink -f "$(dirname "$1")")
  mkdir -p "$out$dir"
  [ -e "$out$dir/${1##*/}" ] || cp -L "$1" "$out$dir/${1##*/}"
}
# ldd lists every library a program needs, its libraries' libraries included, and the loader.
for elf in "$build/trawl" "$build/trawl-git.so" "$build/trawl-serve.so" "$ctags"; do
  ldd "$elf" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do copy_lib "$lib"; done
# Where each library is: the loader's cache for this tree (ld.so reads /etc/ld.so.cache).
printf '/usr/local/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/aarch64-linux-gnu\n' > "$out/etc/ld.so.conf"
ldconfig -r "$out" 2>/dev/null || true
rm -f "$out/etc/ld.so.conf"

# CA certificates: the fetch worker's https (libgit2) and the server's single sign-on (libcurl).
ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || { echo "rootfs.sh: $ca is missing (apt-get install ca-certificates)" >&2; exit 2; }
mkdir -p "$out/etc/ssl/certs"
cp -L "$ca" "$out/etc/ssl/certs/"

# The user: 10001, not root; its home is the data directory.
cat > "$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/nonexistent:/nonexistent
trawl:x:10001:10001:trawl:/var/lib/trawl:/nonexistent
PASSWD
printf 'root:x:0:\ntrawl:x:10001:\n' > "$out/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$out/etc/nsswitch.conf"
chmod 0644 "$out"/etc/passwd "$out"/etc/group "$out"/etc/nsswitch.conf
# The data and cache directories belong to the user (root builds the image; elsewhere the
# ownership is left as it is, and the runtime's fsGroup or a volume's owner decides).
chmod 0700 "$out/var/lib/trawl" "$out/var/cache/trawl"
if [ "$(id -u)" = 0 ]; then chown 10001:10001 "$out/var/lib/trawl" "$out/var/cache/trawl"; fi

rm -rf "$out/var/cache/ldconfig"  # ldconfig's own cache of what it scanned: not needed at run time
find "$out" -exec touch -h -d "@$epoch" {} +
echo "rootfs.sh: $out: $(find "$out" -type f | wc -l) files, $(du -sm "$out" | cut -f1) MB"
