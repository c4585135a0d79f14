#!/usr/bin/env bash
# End-to-end tests of the query language on a fixture of several repositories: every filter,
# boolean combinations, keyword vs regexp vs literal, count: and timeout:, select:, type:,
# ranking, errors with columns, and queries that map onto rg giving rg's lines.
. "$(dirname "$0")/lib.sh"

q() { "$TRAWL" search -d "$IX" --color never "$@" 2>/dev/null; }
qs() { q "$@" | sort; }

# Three repositories.
A=$T/alpha B=$T/beta C=$T/gamma
mkdir -p "$A/src" "$A/tests" "$A/vendor/lib" "$B/cmd" "$B/docs" "$C"
printf 'func parseConfig() error {\n\treturn nil // parse the config\n}\n' > "$A/src/config.go"
printf 'package src\n\nfunc TestParseConfig(t *testing.T) { parseConfig() }\n' > "$A/src/config_test.go"
printf 'def parse_config():\n    return ParseConfig\n' > "$A/tests/test_config.py"
printf 'function parseConfig() {}\n' > "$A/vendor/lib/config.js"
printf 'int main(void) { return parse(); }\n/* TODO: fix parse */\n' > "$B/cmd/main.c"
printf '# Parsing\n\nparse config files\n' > "$B/docs/parsing.md"
printf 'fn parse() {}\nfn config() {}\n' > "$C/lib.rs"
printf 'parse\n' > "$C/parse.rs"
printf 'README for gamma with the word configuration\n' > "$C/README.md"
IX=$T/ix
check "index three repositories" "$TRAWL" index -q -o "$IX" "$A" "$B" "$C"

# Keyword terms: all must occur in the file (any lines); every matching line is a result.
expect_eq "one term, case-insensitive by default" "4" "$(q parseconfig | wc -l | tr -d ' ')"
expect_eq "terms must all occur in the same file" \
  "$(printf 'beta/cmd/main.c:1:int main(void) { return parse(); }\nbeta/cmd/main.c:2:/* TODO: fix parse */')" \
  "$(qs 'todo parse')"
expect_eq "a quoted phrase is one term" "beta/docs/parsing.md:3:parse config files" "$(q '"parse config"')"
expect_eq "/regex/ inside a keyword query" "gamma/lib.rs:1:fn parse() {}" "$(q '/^fn p\w+\(\)/')"
expect_eq "patterntype:regexp" "gamma/lib.rs:1:fn parse() {}" "$(q 'patterntype:regexp ^fn\sp')"
expect_eq "patterntype:literal keeps metacharacters" "beta/cmd/main.c:1:int main(void) { return parse(); }" "$(q 'patterntype:literal parse();')"
# Under patterntype:regexp, "(?" is the regexp's own group, not a query parenthesis.
expect_eq "patterntype:regexp (?i)FLAG is an inline flag group" "alpha/tests/test_config.py:2:    return ParseConfig" \
  "$(q 'case:yes patterntype:regexp (?i)return\sPARSECONFIG')"
expect_eq "patterntype:regexp (?s)a.b is a pattern" "gamma/lib.rs:1:fn parse() {}" "$(q 'patterntype:regexp (?s)fn.parse')"
expect_eq "... (?:...) too, inside a query group" "gamma/lib.rs:1:fn parse() {}" "$(q 'patterntype:regexp ((?:fn|zz)\spar OR nomatchzz)')"
expect_eq "... the same lines as the -e form" "$(q -e '(?i)RETURN\sPARSECONFIG')" "$(q 'case:yes patterntype:regexp (?i)RETURN\sPARSECONFIG')"
expect_eq "case:yes is case-sensitive" "alpha/tests/test_config.py:2:    return ParseConfig" "$(q 'case:yes ParseConfig -file:_test')"

# Filters.
expect_eq "repo: restricts repositories" "gamma" "$(q 'repo:^gam parse' | cut -d/ -f1 | sort -u)"
expect_eq "-repo: excludes" "alpha beta" "$(q -- '-repo:gamma parse' | cut -d/ -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "file: restricts paths" "alpha/src/config.go" "$(q 'file:\.go$ -file:_test parseconfig' | cut -d: -f1 | sort -u)"
expect_eq "f: is file:" "$(q 'file:\.go$ parse' | sort)" "$(q 'f:\.go$ parse' | sort)"
expect_eq "lang: uses the language of the file" "gamma/lib.rs gamma/parse.rs" "$(q 'lang:rust parse' | cut -d: -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "-lang: excludes a language" "0" "$(q -- '-lang:go -lang:rust -lang:python -lang:javascript -lang:c -lang:markdown parse' | wc -l | tr -d ' ')"
expect_eq "content: is a literal pattern" "beta/cmd/main.c:2:/* TODO: fix parse */" "$(q 'content:"TODO: fix"')"

# Boolean operators.
expect_eq "OR" "$(printf 'alpha/vendor/lib/config.js\nbeta/cmd/main.c')" "$(q 'todo OR function' | cut -d: -f1 | sort -u)"
expect_eq "AND binds tighter than OR" "$(printf 'beta/cmd/main.c\ngamma/lib.rs')" "$(q 'todo fix OR fn config' | cut -d: -f1 | sort -u)"
expect_eq "parentheses" "gamma/lib.rs" "$(q '(todo OR fn) config' | cut -d: -f1 | sort -u)"
expect_eq "NOT excludes files holding the term" "gamma/parse.rs" "$(q 'repo:gamma parse NOT fn NOT configuration' | cut -d: -f1 | sort -u)"

# Result types and select.
expect_eq "type:path matches file names" "$(printf 'beta/docs/parsing.md\ngamma/parse.rs')" "$(qs 'type:path pars')"
expect_eq "type:repo matches repository names" "gamma" "$(q 'type:repo gam')"
expect_eq "select:repo projects onto repositories" "$(printf 'alpha\nbeta\ngamma')" "$(qs 'select:repo parse')"
expect_eq "select:file projects onto files, once each" "4" "$(q 'repo:alpha select:file config' | wc -l | tr -d ' ')"
expect_eq "select:file count:N counts files, not lines" "2" "$(q 'repo:alpha select:file config count:2' | wc -l | tr -d ' ')"
expect_eq "select:repo count:N counts repositories" "2" "$(q 'select:repo parse count:2' | wc -l | tr -d ' ')"
expect_eq "filters only: the files that pass them" "$(printf 'alpha/src/config.go\nalpha/src/config_test.go')" "$(qs 'file:\.go$')"

# Limits.
out=$("$TRAWL" search -d "$IX" 'count:2 parse' 2>"$T/err")
expect_eq "count:N stops after N matching lines" "2" "$(printf '%s\n' "$out" | wc -l | tr -d ' ')"
case $(cat "$T/err") in *"count:"*) ok "count: says it stopped";; *) not_ok "count: says it stopped" "$(cat "$T/err")";; esac
expect_eq "count:all is exhaustive" "$(q 'count:all parse' | wc -l)" "$(q 'count:1000 parse' | wc -l)"
json=$(q --json 'count:1 parse' | tail -1)
case $json in *'"limit_hit":true'*'"timeout_hit":false'*) ok "the JSON summary says which limit was hit";; *) not_ok "the JSON summary says which limit was hit" "$json";; esac
expect_status "timeout: is accepted and bounded" 0 "$TRAWL" search -d "$IX" 'timeout:90s parse'
# 40,000 matching lines take longer than 1 ms to find; the message names the timeout as given.
# Compiling can take the millisecond too (a different message): then it is tried again.
mkdir -p "$T/many"
for i in $(seq 1000); do printf 'needle line %d\n' $(seq 40) > "$T/many/f$i.txt"; done
"$TRAWL" index -q -o "$T/manyix" "$T/many"
for _ in 1 2 3 4 5; do
  "$TRAWL" search -d "$T/manyix" 'count:all timeout:1ms needle' >/dev/null 2>"$T/err"
  grep -q 'compiled' "$T/err" || break
done
expect_eq "a timeout:1ms that stops the search is reported as timeout:1ms" \
  "trawl: stopped by the time limit (timeout:1ms); results so far shown" "$(cat "$T/err")"

# Ranking (docs/results.md): a definition first, then a file-name match, source before tests
# and vendored code.
expect_eq "a line defining the match ranks first" "gamma/lib.rs" "$(q 'config' | head -1 | cut -d: -f1)"
first=$(q -- '-repo:gamma config' | head -1 | cut -d: -f1)
expect_eq "without a definition, a match in the file name ranks first" "alpha/src/config.go" "$first"
order=$(q 'repo:alpha parseconfig' | cut -d: -f1 | awk '!s[$0]++' | tr '\n' ' ')
expect_eq "definitions (source, then vendored) before the tests' mentions" \
  "alpha/src/config.go alpha/vendor/lib/config.js alpha/src/config_test.go alpha/tests/test_config.py " "$order"
order=$(q -- 'repo:alpha -file:\.go$ -file:\.js$ config' | cut -d: -f1 | awk '!s[$0]++' | tr '\n' ' ')
expect_eq "count: shows what count:all ranks first" \
  "$(q 'count:all repo:alpha -file:\.go$ -file:\.js$ config' | head -1 | cut -d: -f1)" "${order%% *}"
expect_eq "ties are broken deterministically" "$(q parse)" "$(q parse)"

# Errors point at the column.
"$TRAWL" search -d "$IX" 'foo filx:bar' 2>"$T/err" >/dev/null; st=$?
expect_eq "unknown filter: exit 2" "2" "$st"
case $(cat "$T/err") in *file*) ok "unknown filter suggests the closest";; *) not_ok "unknown filter suggests the closest" "$(cat "$T/err")";; esac
if grep -q '^      \^' "$T/err"; then ok "the caret points at the filter"; else not_ok "the caret points at the filter" "$(cat "$T/err")"; fi
expect_status "a bad regex in file: is an error" 2 "$TRAWL" search -d "$IX" 'file:( parse'
expect_status "an unknown select:symbol kind is an error" 2 "$TRAWL" search -d "$IX" 'select:symbol.func parse'
expect_status "NOT alone is an error" 2 "$TRAWL" search -d "$IX" 'NOT parse'

# Predicates: repo:has.* keeps repositories with a matching file, file:has.content files.
expect_eq "repo:has.path keeps repositories with a matching path" "gamma" "$(q 'repo:has.path(\.rs$) parse' | cut -d/ -f1 | sort -u)"
expect_eq "-repo:has.path drops them" "alpha beta" "$(q -- '-repo:has.path(\.rs$) parse' | cut -d/ -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "repo:has.content keeps repositories with a matching file" "beta" "$(q 'repo:has.content(TODO) parse' | cut -d/ -f1 | sort -u)"
expect_eq "repo:has.file needs path and content in one file" "beta" "$(q 'repo:has.file(path:\.md$ content:config\sfiles) parse' | cut -d/ -f1 | sort -u)"
expect_eq "repo:has.file: path and content in different files do not count" "" "$(q 'repo:has.file(path:\.md$ content:TODO) parse')"
expect_eq "file:has.content keeps files whose content matches" "beta/cmd/main.c" "$(q 'file:has.content(TODO) parse' | cut -d: -f1 | sort -u)"
expect_eq "type:repo with repo:has.path" "gamma" "$(q 'type:repo repo:has.path(^README)')"
"$TRAWL" search -d "$IX" 'repo:has.commit.after(1 month ago) parse' 2>"$T/err" >/dev/null; st=$?
expect_eq "repo:has.commit.after is refused: exit 2" "2" "$st"
case $(cat "$T/err") in *"not supported"*"commit dates"*) ok "repo:has.commit.after says why";; *) not_ok "repo:has.commit.after says why" "$(cat "$T/err")";; esac

# Differential: a query that maps onto rg gives rg's lines.
set -f
for spec in "case:yes|parse||" "case:no|parse|-i|" "case:yes file:\.rs$|fn|-g *.rs|" \
            "case:no file:\.c$|TODO|-i -g *.c|" "case:yes file:\.go$|func|-g *.go|" \
            "case:no file:^src/|config|-i -g */src/**|" "case:yes file:\.md$|parse|-g *.md|" \
            "case:no|RETURN|-i|" "case:yes|Parse|| " "case:yes file:\.py$|return|-g *.py|"; do
  IFS='|' read -r filters pat rgflags _ <<<"$spec"
  want=$(cd "$T" && rg --no-config -n --no-heading -uu $rgflags -e "$pat" alpha beta gamma | sort)
  got=$(q "count:all $filters $pat" | sort)
  expect_eq "as rg $rgflags -e $pat: $filters" "$want" "$got"
done
# repo: filters that match no repository: a warning on stderr, not just silence.
qerr() { "$TRAWL" search -d "$IX" --color never "$@" 2>&1 >/dev/null; }
expect_eq "repo: matching no repository warns on stderr" \
  "trawl: warning: repo: matches no repository you can read: no results" "$(qerr 'parse repo:nosuch')"
expect_eq "... also when every repository is excluded" \
  "trawl: warning: repo: matches no repository you can read: no results" "$(qerr 'parse -repo:. ')"
expect_eq "... not when one matches, even without results" "" "$(qerr 'zzznomatch repo:alpha')"
expect_eq "... not when an OR branch needs no repository" "" "$(qerr 'parse (repo:nosuch OR file:\.rs$)')"

set +f
finish
