#!/usr/bin/env bash
# scripts/lint-tidy.sh's baseline logic (docs/internals/style.md, "Lint"), with a stand-in for
# clang-tidy that prints fixed findings: a finding in the baseline passes wherever its line moved
# to, a new one fails and is shown with its line, a second identical finding in a file is new,
# a crash is retried without the static analyzer, and findings that went away are counted.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$T/repo/scripts" "$T/repo/src"
cp "$root/scripts/lint-tidy.sh" "$T/repo/scripts/"
cd "$T/repo" || exit 1
touch src/a.c src/b.c
printf '[{"directory": "%s", "file": "src/a.c", "command": "cc -c src/a.c"},\n' "$PWD" >compile_commands.json
printf ' {"directory": "%s", "file": "src/b.c", "command": "cc -c src/b.c"}]\n' "$PWD" >>compile_commands.json

# The stand-in prints $FINDINGS_<file> (newline-separated "LINE message [check]") for its file,
# and crashes on a file named in $CRASH unless the analyzer is turned off.
cat >"$T/tidy" <<'SH'
#!/usr/bin/env bash
f=${@: -1}
case " $* " in *" --checks=-clang-analyzer-* "*) analyzer=no ;; *) analyzer=yes ;; esac
if [ "$analyzer" = yes ] && [ "$f" = "${CRASH:-}" ]; then echo "Stack dump:" >&2; exit 139; fi
var=FINDINGS_$(basename "$f" .c)
printf '%s\n' "${!var:-}" | while read -r line rest; do
  [ -n "$line" ] && echo "$PWD/$f:$line:3: warning: $rest"
done
exit 0
SH
chmod +x "$T/tidy"
export CLANG_TIDY=$T/tidy JOBS=2

printf '%s\n' 'src/a.c: warning: old finding [bugprone-x]' >.clang-tidy-baseline
export FINDINGS_a='120 old finding [bugprone-x]' FINDINGS_b=''
check "a finding of the baseline passes on another line" scripts/lint-tidy.sh

export FINDINGS_b='7 a new finding [cert-y]'
expect_status "a new finding fails" 1 scripts/lint-tidy.sh
out=$(scripts/lint-tidy.sh 2>&1)
case $out in *"src/b.c:7:3: warning: a new finding [cert-y]"*) ok "the new finding is shown with its line" ;;
  *) not_ok "the new finding is shown with its line" "$out" ;; esac

export FINDINGS_b='' FINDINGS_a=$'120 old finding [bugprone-x]\n200 old finding [bugprone-x]'
expect_status "a second identical finding in a file is new" 1 scripts/lint-tidy.sh

export FINDINGS_a=''
out=$(scripts/lint-tidy.sh 2>&1)
case $out in *"1 of them gone"*) ok "a finding that went away is counted" ;;
  *) not_ok "a finding that went away is counted" "$out" ;; esac

export FINDINGS_a='5 found after the crash [bugprone-z]' CRASH=src/a.c
out=$(scripts/lint-tidy.sh 2>&1); st=$?
case "$st $out" in "1 "*"crashed on src/a.c"*"src/a.c:5:3: warning: found after the crash"*)
  ok "a crash is reported and the file checked again without the analyzer" ;;
  *) not_ok "a crash is reported and the file checked again without the analyzer" "status $st" "$out" ;; esac

unset CRASH
export FINDINGS_a='5 found after the crash [bugprone-z]'
check "--update rewrites the baseline" scripts/lint-tidy.sh --update
expect_eq "the baseline holds the finding without its line" \
  "src/a.c: warning: found after the crash [bugprone-z]" "$(cat .clang-tidy-baseline)"
check "and the run after it passes" scripts/lint-tidy.sh
finish
