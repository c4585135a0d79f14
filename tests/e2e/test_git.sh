#!/usr/bin/env bash
# End-to-end tests of `trawl index` on git repositories (docs/git.md): only committed trees are
# indexed, bare repositories and branches work, and hostile repositories (symlinks, submodules,
# odd file names, large blobs, hostile branch names, a broken .git) are handled safely and say
# what they skipped. Repositories are made here with the git CLI.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

# git as the tests run it: no user or system configuration, a fixed identity and branch name.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
g() { git -c user.name=t -c user.email=t@t -c init.defaultBranch=main "$@"; }
commit() { g -C "$1" add -A . && g -C "$1" commit -q -m "${2:-commit}"; }

# The canary of every hostile-name test: nothing may create it, wherever trawl runs.
pwned_before=no; [ -e /tmp/pwned ] && pwned_before=yes
cd "$T" || exit 1

# --- committed content only -----------------------------------------------------------------
R=$T/proj
g init -q "$R"
mkdir -p "$R/src"
printf 'int main(void) { return committed_marker; }\n' > "$R/src/main.c"
printf 'read me\n' > "$R/README"
commit "$R" one
printf 'second_commit_marker\n' > "$R/second.txt"
commit "$R" two
printf 'uncommitted_marker\n' >> "$R/src/main.c"          # changed in the work tree
printf 'staged_marker\n' > "$R/staged.txt"; g -C "$R" add staged.txt  # staged, not committed
printf 'untracked_marker\n' > "$R/untracked.txt"           # never added
rm "$R/README"                                             # deleted in the work tree only
head=$(g -C "$R" rev-parse HEAD)

IX=$T/ix
out=$("$TRAWL" index -o "$IX" "$R" 2>&1); st=$?
expect_eq "a work tree indexes without error" 0 "$st"
case $out in
  "indexed proj@main at ${head:0:12} (default)"*"indexed proj at ${head:0:12}: 3 files"*"0 unreadable; 0 symlinks not followed, 0 submodules not followed") ok "summary names the commit and counts git entries";;
  *) not_ok "summary names the commit and counts git entries" "$out";;
esac
expect_eq "committed content is found" "proj/src/main.c:1:int main(void) { return committed_marker; }" "$("$TRAWL" search -d "$IX" -e committed_marker)"
expect_eq "the latest commit is indexed" "proj/second.txt:1:second_commit_marker" "$("$TRAWL" search -d "$IX" -e second_commit_marker)"
expect_eq "uncommitted, staged and untracked changes are not indexed" "" "$("$TRAWL" search -d "$IX" -e 'uncommitted_marker|staged_marker|untracked_marker')"
expect_eq "a file deleted only in the work tree is still indexed" "proj/README:1:read me" "$("$TRAWL" search -d "$IX" -e 'read me')"
expect_eq "ls lists the committed tree" "$(printf 'proj/README\nproj/second.txt\nproj/src/main.c')" "$("$TRAWL" ls -d "$IX" | cut -f1 | sort)"
check "verify passes on a git index" "$TRAWL" verify "$IX"
out=$("$TRAWL" index -o "$T/ixw" --worktree "$R" 2>&1)
expect_eq "--worktree walks the directory instead" "proj/untracked.txt:1:untracked_marker" "$("$TRAWL" search -d "$T/ixw" -e untracked_marker)"

# --- a bare clone indexes the same ----------------------------------------------------------
g clone -q --bare "$R" "$T/proj.git"
check "a bare repository indexes" "$TRAWL" index -q -o "$T/ixb" --name proj "$T/proj.git"
expect_eq "a bare clone gives the same documents" "$("$TRAWL" ls -d "$IX" | sort)" "$("$TRAWL" ls -d "$T/ixb" | sort)"
expect_eq "a bare clone gives the same matches" "$("$TRAWL" search -d "$IX" -e 'marker|read')" "$("$TRAWL" search -d "$T/ixb" -e 'marker|read')"
mkdir "$T/plain"; printf 'plain_marker\n' > "$T/plain/p.txt"
check "a directory that is not a repository is walked as before" "$TRAWL" index -q -o "$T/ixp" "$T/plain"
expect_eq "... and searched" "plain/p.txt:1:plain_marker" "$("$TRAWL" search -d "$T/ixp" -e plain_marker)"

# --- branches -------------------------------------------------------------------------------
B=$T/br
g init -q "$B"
printf 'on main\n' > "$B/f.txt"; commit "$B" main
for br in dev release/1.0 release/2.0; do
  g -C "$B" checkout -q -b "$br" main
  printf 'branch_marker %s\n' "$br" > "$B/f.txt"; commit "$B" "$br"
done
g -C "$B" checkout -q main
check "--branch NAME indexes that branch" "$TRAWL" index -q -o "$T/ixbr" --branch dev "$B"
expect_eq "... as the repository, with that branch as its default" "br/f.txt:1:branch_marker dev" "$("$TRAWL" search -d "$T/ixbr" -e branch_marker)"
check "--branch with a glob" "$TRAWL" index -q -o "$T/ixbr" --branch main --branch 'release/*' "$B"
expect_eq "without rev:, only the default branch (HEAD's) is searched" "br/f.txt:1:on main" "$("$TRAWL" search -d "$T/ixbr" '/on main|branch_marker/')"
expect_eq "rev:*GLOB searches the matching branches, each result naming its branches" \
  "$(printf 'br@release/1.0/f.txt:1:branch_marker release/1.0\nbr@release/2.0/f.txt:1:branch_marker release/2.0')" \
  "$("$TRAWL" search -d "$T/ixbr" 'branch_marker rev:*release/*' | sort)"
expect_eq "repo:NAME@A:B searches two branches" \
  "$(printf 'br@main/f.txt:1:on main\nbr@release/2.0/f.txt:1:branch_marker release/2.0')" \
  "$("$TRAWL" search -d "$T/ixbr" 'repo:br@main:release/2.0 /on main|marker/' | sort)"
expect_eq "a branch not selected is not indexed (dev)" "" "$("$TRAWL" search -d "$T/ixbr" 'branch_marker rev:dev' 2>/dev/null)"
if "$TRAWL" search -d "$T/ixbr" 'branch_marker rev:dev' 2>&1 >/dev/null | grep -q 'revision "dev" is not indexed in repository br'; then ok "an unknown revision is a warning naming it"; else not_ok "an unknown revision is a warning naming it"; fi
"$TRAWL" search -d "$T/ixbr" --json 'branch_marker rev:release/1.0' > "$T/br.json"
if python3 - "$T/br.json" <<'PY'
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])][0]
assert f["repo"] == "br" and f["path"] == "f.txt" and f["branches"] == ["release/1.0"], f
PY
then ok "--json names the branches apart from the repository and the path"; else not_ok "--json names the branches apart from the repository and the path" "$(cat "$T/br.json")"; fi
# A file identical on several branches is one document listing them all.
g -C "$B" checkout -q -b same main; printf 'shared_marker\n' > "$B/shared.txt"; commit "$B" same
g -C "$B" checkout -q -b same2 same; g -C "$B" checkout -q main
check "index two branches sharing a file" "$TRAWL" index -q -o "$T/ixsame" --branch 'same*' "$B"
expect_eq "... one result naming both branches" '["same","same2"]' "$("$TRAWL" search -d "$T/ixsame" --json 'shared_marker rev:*same*' | python3 -c 'import json,sys; print(json.dumps([json.loads(l)["branches"] for l in sys.stdin if "branches" in l][0], separators=(",",":")))')"
expect_eq "... stored once" "1" "$("$TRAWL" ls -d "$T/ixsame" | grep -c shared.txt)"
branches_of() { "$TRAWL" search -d "$T/ixsame" --json "$1" | python3 -c 'import json,sys; print(json.dumps([json.loads(l)["branches"] for l in sys.stdin if "branches" in l], separators=(",",":")))'; }
expect_eq "without rev: (the default branch searched) a result lists every branch it is on" '[["same","same2"]]' "$(branches_of 'shared_marker')"
expect_eq "rev:same2 alone: the result still lists both branches" '[["same","same2"]]' "$(branches_of 'shared_marker rev:same2')"
expect_eq "the text output prefixes branches only with rev:" "br/shared.txt:1:shared_marker" "$("$TRAWL" search -d "$T/ixsame" shared_marker)"
"$TRAWL" index -o "$T/ixbr" --branch nosuch "$B" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'no branch "nosuch"' "$T/err"; then ok "a missing branch is an error naming it"; else not_ok "a missing branch is an error naming it" "status $st" "$(cat "$T/err")"; fi
expect_status "a glob matching nothing is an error" 2 "$TRAWL" index -o "$T/ixbr" --branch 'nomatch/*' "$B"
expect_status "--branch on a directory that is not a repository is an error" 2 "$TRAWL" index -o "$T/ixbr" --branch dev "$T/plain"
expect_status "--branch with --worktree is an error" 2 "$TRAWL" index -o "$T/ixbr" --worktree --branch dev "$B"
expect_status "an invalid branch name is refused (..)" 2 "$TRAWL" index -o "$T/ixbr" --branch 'a..b' "$B"

# --- hostile branch names: never options, never run -----------------------------------------
# SECURITY-CHECKLIST V2. trawl never runs git, but a name must not even reach an argv.
expect_status "--branch '--upload-pack=touch /tmp/pwned' is refused" 2 "$TRAWL" index -o "$T/ixh" --branch "--upload-pack=touch$IFS/tmp/pwned" "$B"
expect_status "--branch=--output=x is refused" 2 "$TRAWL" index -o "$T/ixh" "--branch=--output=$T/out-x" "$B"
expect_status "--branch -h is refused, not taken as help" 2 "$TRAWL" index -o "$T/ixh" --branch -h "$B"
g -C "$B" update-ref "refs/heads/-h" main
g -C "$B" update-ref "refs/heads/--output=out-y" main
g -C "$B" update-ref "refs/heads/--upload-pack=touch" main
"$TRAWL" index -o "$T/ixh" --branch '*' "$B" > "$T/out" 2> "$T/err"; st=$?
expect_eq "a glob over hostile branch names still indexes the others" 0 "$st"
if grep -q '3 matching branches left out' "$T/err"; then ok "branches named like options are left out with a warning"; else not_ok "branches named like options are left out with a warning" "$(cat "$T/err")"; fi
expect_eq "the hostile branches are not in the index" "dev main release/1.0 release/2.0 same same2" "$(python3 -c 'import json,sys; print(" ".join(b["name"] for b in json.load(open(sys.argv[1]))["repos"][0]["branches"]))' "$T/ixh/MANIFEST")"
expect_eq "no file was created from a branch name" "" "$(ls -A "$T" | grep -e '^-' -e '^out-' -e pwned)"
if [ "$pwned_before" = no ] && [ -e /tmp/pwned ]; then not_ok "/tmp/pwned was not created"; else ok "/tmp/pwned was not created"; fi

# --- symlinks and submodules ----------------------------------------------------------------
H=$T/hostile
g init -q "$H"
mkdir -p "$H/dir"
printf 'normal_marker\n' > "$H/dir/normal.txt"
ln -s /etc/passwd "$H/passwd-link"
ln -s ../.. "$H/dir/up-link"
ln -s ../proj "$H/other-repo-link"
printf '[submodule "evil"]\n\tpath = evil\n\turl = ext::sh -c touch%% /tmp/pwned\n' > "$H/.gitmodules"
commit "$H" links
g -C "$H" update-index --add --cacheinfo "160000,$head,evil"
g -C "$H" commit -q -m submodule
check "a repository with symlinks and a submodule indexes" "$TRAWL" index -q -o "$T/ixs" "$H"
expect_eq "symlinks and the submodule are recorded as skipped, with reasons" \
  "$(printf 'hostile/dir/up-link\t5\tsymlink\nhostile/evil\t0\tsubmodule\nhostile/other-repo-link\t7\tsymlink\nhostile/passwd-link\t11\tsymlink')" \
  "$("$TRAWL" ls -d "$T/ixs" --skipped | sort)"
expect_eq "symlinks are never followed (no root: from /etc/passwd, nothing from ../proj)" "" "$("$TRAWL" search -d "$T/ixs" -e 'root:|committed_marker|^/etc/passwd$')"
expect_eq ".gitmodules is indexed as a plain file" "hostile/.gitmodules:3:	url = ext::sh -c touch% /tmp/pwned" "$("$TRAWL" search -d "$T/ixs" -F -e 'ext::')"
expect_eq "path search finds a skipped symlink by name" "hostile/passwd-link" "$("$TRAWL" search -d "$T/ixs" 'type:path passwd-link' | head -n 1)"
out=$("$TRAWL" index -o "$T/ixs2" "$H" 2>&1)
case $out in
  *"3 symlinks not followed, 1 submodules not followed") ok "summary counts symlinks and submodules";;
  *) not_ok "summary counts symlinks and submodules" "$out";;
esac
if [ "$pwned_before" = no ] && [ -e /tmp/pwned ]; then not_ok "a submodule URL is never used"; else ok "a submodule URL is never used"; fi

# --- odd file names are data ----------------------------------------------------------------
N=$T/names
g init -q "$N"
long=$(printf 'x%.0s' {1..200})
deep=$(printf 'd/%.0s' {1..100})
mkdir -p "$N/$long/$long" "$N/$deep"
printf 'oddname_marker\n' > "$N/new"$'\n'"line.txt"
printf 'oddname_marker\n' > "$N/-leading-dash.txt"
printf 'oddname_marker\n' > "$N/ctl"$'\x01\x1b'"[31m.txt"
printf 'oddname_marker\n' > "$N/$long/$long/$long.txt"
printf 'oddname_marker\n' > "$N/$deep/bottom.txt"
printf 'oddname_marker\n' > "$N/ sp ace .txt"
commit "$N" names
check "a repository with odd file names indexes" "$TRAWL" index -q -o "$T/ixn" "$N"
"$TRAWL" search -d "$T/ixn" --json -e oddname_marker > "$T/names.json"
if python3 - "$T/names.json" "$long" "$deep" <<'PY'
import json, sys
long, deep = sys.argv[2], sys.argv[3]
raw = open(sys.argv[1], encoding="utf-8").read()
got = sorted(o["path"] for o in map(json.loads, raw.splitlines()) if o["type"] == "file")
want = sorted(["new\nline.txt", "-leading-dash.txt", "ctl\x01\x1b[31m.txt", " sp ace .txt",
               f"{long}/{long}/{long}.txt", f"{deep}bottom.txt"])
assert got == want, (got, want)
assert '"path":"new\\nline.txt"' in raw and '"path":"ctl\\u0001\\u001b[31m.txt"' in raw, raw[:400]
assert "\x1b" not in raw and "\x01" not in raw
PY
then ok "every odd name is searchable and --json escapes it"; else not_ok "every odd name is searchable and --json escapes it" "$(head -c 1500 "$T/names.json")"; fi
"$TRAWL" search -d "$T/ixn" -l -e oddname_marker > "$T/names.txt"
if grep -q '^names/-leading-dash.txt$' "$T/names.txt" && grep -q "^names/$long/$long/$long.txt\$" "$T/names.txt" && grep -q '^names/new$' "$T/names.txt"; then ok "names are printed as they are (like rg)"; else not_ok "names are printed as they are (like rg)" "$(cat -v "$T/names.txt")"; fi
expect_eq "no file named after a path was created" "" "$(ls -A "$T" | grep -e '^-' -e '^new' -e '^ctl')"

# --- sizes: LFS pointers, binaries, large blobs ---------------------------------------------
S=$T/sizes
g init -q "$S"
printf '*.bin filter=lfs diff=lfs merge=lfs -text\n' > "$S/.gitattributes"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n' > "$S/model.bin"
head -c 3145728 /dev/zero | tr '\0' 'a' > "$S/big.txt"
printf 'bin\0ary_marker\n' > "$S/blob.dat"
printf 'small_marker\n' > "$S/small.txt"
commit "$S" sizes
check "index with a small --max-file-size" "$TRAWL" index -q -o "$T/ixz" --max-file-size 1M "$S"
expect_eq "an LFS pointer is indexed as the small text it is" "sizes/model.bin:1:version https://git-lfs.github.com/spec/v1" "$("$TRAWL" search -d "$T/ixz" -F -e 'git-lfs.github.com/spec')"
expect_eq "a 3 MB blob over the limit and a binary blob are skipped with reasons" \
  "$(printf 'sizes/big.txt\t3145728\ttoo large\nsizes/blob.dat\t15\tbinary')" "$("$TRAWL" ls -d "$T/ixz" --skipped | sort)"
expect_eq "small files next to them are indexed" "sizes/small.txt:1:small_marker" "$("$TRAWL" search -d "$T/ixz" -e 'small_marker|ary_marker|aaaa')"

# --- limits and errors ----------------------------------------------------------------------
"$TRAWL" index -o "$IX" --max-files 2 "$R" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'more than 2 files' "$T/err"; then ok "--max-files: a larger repository is an error saying so"; else not_ok "--max-files: a larger repository is an error saying so" "status $st" "$(cat "$T/err")"; fi
expect_eq "... and its previous index is untouched" "proj/second.txt:1:second_commit_marker" "$("$TRAWL" search -d "$IX" -e second_commit_marker)"
expect_status "--max-files 0 is refused" 2 "$TRAWL" index -o "$IX" --max-files 0 "$R"

# --- per-repository limits and hostile sizes --------------------------------------------------
L=$T/limits
g init -q "$L"
printf 'limit_marker\n' > "$L/a.txt"; head -c 5000 /dev/zero | tr '\0' 'b' > "$L/b.txt"
commit "$L" limits
"$TRAWL" index -o "$T/ixl" --max-bytes 4K "$L" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'limit: more than 4096 bytes to index' "$T/err"; then ok "--max-bytes: too much content is an error saying so"; else not_ok "--max-bytes: too much content is an error saying so" "status $st" "$(cat "$T/err")"; fi
check "--max-bytes above the content indexes" "$TRAWL" index -q -o "$T/ixl" --max-bytes 1M --max-seconds 600 "$L"
expect_status "--max-seconds 0 is refused" 2 "$TRAWL" index -o "$T/ixl" --max-seconds 0 "$L"
expect_status "--max-bytes x is refused" 2 "$TRAWL" index -o "$T/ixl" --max-bytes x "$L"
"$TRAWL" index -o "$T/ixl" --max-files 1 "$L" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'more than 1 files' "$T/err"; then ok "--max-files on a re-index of an unchanged repository still applies"; else not_ok "--max-files on a re-index of an unchanged repository still applies" "status $st" "$(cat "$T/err")"; fi

# .gitattributes tricks: no filter, no eol conversion, export-ignore means nothing to an indexer.
A=$T/attrs
g init -q "$A"
printf '*.txt text eol=crlf\nsecret.txt export-ignore\n*.dat filter=lfs diff=lfs merge=lfs -text\n*.c filter=evil\n' > "$A/.gitattributes"
printf 'lf_only_marker\n' > "$A/unix.txt"
printf 'exported_anyway_marker\n' > "$A/secret.txt"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:0000000000000000000000000000000000000000000000000000000000000000\nsize 999999999\n' > "$A/huge.dat"
printf 'int filtered_marker;\n' > "$A/x.c"
g -C "$A" config filter.evil.smudge "touch $T/filter-ran"
g -C "$A" config filter.evil.clean cat
commit "$A" attrs
check "a repository with .gitattributes tricks indexes" "$TRAWL" index -q -o "$T/ixa" "$A"
expect_eq "text eol=crlf: the blob is indexed as stored (LF, no CR added)" "attrs/unix.txt:1:lf_only_marker" "$("$TRAWL" search -d "$T/ixa" -e 'lf_only_marker$')"
expect_eq "export-ignore: the file is indexed all the same" "attrs/secret.txt:1:exported_anyway_marker" "$("$TRAWL" search -d "$T/ixa" -e exported_anyway_marker)"
expect_eq "an LFS pointer claiming 1 GB is indexed as its small text" "attrs/huge.dat:3:size 999999999" "$("$TRAWL" search -d "$T/ixa" -F -e 'size 999999999')"
if [ ! -e "$T/filter-ran" ] && [ "$("$TRAWL" search -d "$T/ixa" -e filtered_marker)" = "attrs/x.c:1:int filtered_marker;" ]; then ok "no filter ever runs"; else not_ok "no filter ever runs"; fi

# Hostile sizes: a 200 MB blob is never loaded; a 50 MB single line; 50,000 small files.
Z=$T/huge
g init -q "$Z"
head -c 209715200 /dev/zero | tr '\0' 'z' > "$Z/huge.txt"
head -c 52428800 /dev/zero | tr '\0' 'y' > "$Z/oneline.txt"
printf 'tiny_marker\n' > "$Z/tiny.txt"
commit "$Z" huge
rm -f "$Z/huge.txt" "$Z/oneline.txt"   # the objects stay; the work tree is not read anyway
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f %M -o "$T/rss" "$TRAWL" index -q -o "$T/ixhuge" "$Z" > /dev/null 2> "$T/err"; st=$?
  rss=$(tail -n 1 "$T/rss")
  # ASan builds carry a large shadow; the bound is for the release build.
  lim=$([ "${TRAWL_BUILD:-release}" = asan ] && echo 600000 || echo 120000)
  if [ $st = 0 ] && [ "$rss" -lt "$lim" ]; then ok "a 200 MB blob is skipped without being loaded (peak RSS ${rss} KB)"; else not_ok "a 200 MB blob is skipped without being loaded" "status $st rss $rss KB" "$(cat "$T/err")"; fi
else
  check "a 200 MB blob is skipped" "$TRAWL" index -q -o "$T/ixhuge" "$Z"
fi
expect_eq "... with reasons (and the 50 MB line too, over --max-file-size)" \
  "$(printf 'huge/huge.txt\t209715200\ttoo large\nhuge/oneline.txt\t52428800\ttoo large')" "$("$TRAWL" ls -d "$T/ixhuge" --skipped | sort)"
check "a 50 MB single line is indexed with --max-file-size 64M" "$TRAWL" index -q -o "$T/ixline" --max-file-size 64M "$Z"
expect_eq "... and searched (one line, no crash)" "huge/oneline.txt:1" "$("$TRAWL" search -d "$T/ixline" -l -e 'y{100}$' | sed 's/$/:1/')"
M=$T/many
g init -q "$M"
python3 - "$M" <<'PY'
import os, sys
for d in range(50):
    os.makedirs(os.path.join(sys.argv[1], f"d{d}"))
    for f in range(1000):
        with open(os.path.join(sys.argv[1], f"d{d}", f"f{f}.txt"), "w") as fh:
            fh.write(f"many_marker {d} {f}\n")
PY
commit "$M" many
"$TRAWL" index -o "$T/ixmany" --max-files 10000 "$M" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'more than 10000 files' "$T/err"; then ok "50,000 files over --max-files 10000 is an error saying so"; else not_ok "50,000 files over --max-files 10000 is an error saying so" "status $st" "$(cat "$T/err")"; fi
check "50,000 small files index within the default limit" "$TRAWL" index -q -o "$T/ixmany" "$M"
expect_eq "... all of them" "50000" "$("$TRAWL" search -d "$T/ixmany" -c -e many_marker | awk -F: '{s+=$NF} END {print s}')"

g init -q "$T/empty"
"$TRAWL" index -o "$T/ixe" "$T/empty" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'no commit yet' "$T/err"; then ok "a repository without commits is a clear error"; else not_ok "a repository without commits is a clear error" "status $st" "$(cat "$T/err")"; fi

# A stray .git (not a repository libgit2 can open) falls back to the directory walk, with a warning.
mkdir -p "$T/stray/.git/objects"; printf 'stray_marker\n' > "$T/stray/s.txt"; printf 'inside_git\n' > "$T/stray/.git/objects/x"
"$TRAWL" index -q -o "$T/ixf" "$T/stray" > /dev/null 2> "$T/err"; st=$?
if [ $st = 0 ] && grep -q 'indexing the directory instead' "$T/err"; then ok "a stray .git falls back to the directory walk with a warning"; else not_ok "a stray .git falls back to the directory walk with a warning" "status $st" "$(cat "$T/err")"; fi
expect_eq "... which indexes the files but not .git" "stray/s.txt:1:stray_marker" "$("$TRAWL" search -d "$T/ixf" -e 'stray_marker|inside_git')"

# A .git whose HEAD is garbage: libgit2 opens it, HEAD cannot be read: a clear error.
cp -r "$R" "$T/badhead"; printf 'garbage\n' > "$T/badhead/.git/HEAD"
"$TRAWL" index -o "$T/ixg" "$T/badhead" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && [ -s "$T/err" ]; then ok "a corrupt HEAD is reported ($(head -c 120 "$T/err"))"; else not_ok "a corrupt HEAD is reported" "status $st" "$(cat "$T/err")"; fi

# A repository whose objects live elsewhere (alternates) is not read through them.
g clone -q --shared "$R" "$T/shared"
"$TRAWL" index -o "$T/ixa" "$T/shared" > /dev/null 2> "$T/err"; st=$?
if [ $st = 2 ] && grep -q 'alternates' "$T/err"; then ok "alternates are not followed: a shared clone is a clear error"; else not_ok "alternates are not followed: a shared clone is a clear error" "status $st" "$(cat "$T/err")"; fi

# A missing object (a corrupt repository) is a skip reason for that file, not an error.
C=$T/corrupt
g init -q "$C"; printf 'keep_marker\n' > "$C/keep.txt"; printf 'lost_marker\n' > "$C/lost.txt"; commit "$C" c
lost=$(g -C "$C" rev-parse HEAD:lost.txt)
rm -f "$C/.git/objects/${lost:0:2}/${lost:2}"
check "a repository missing a blob still indexes" "$TRAWL" index -q -o "$T/ixc" "$C"
expect_eq "the missing blob is recorded as unreadable" "$(printf 'corrupt/lost.txt\t0\tunreadable')" "$("$TRAWL" ls -d "$T/ixc" --skipped)"
expect_eq "the other file is searchable" "corrupt/keep.txt:1:keep_marker" "$("$TRAWL" search -d "$T/ixc" -e '_marker')"

finish
