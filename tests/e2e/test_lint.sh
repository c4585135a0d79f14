#!/usr/bin/env bash
# Source hygiene and binary hardening (STYLE.md, SECURITY-CHECKLIST V5): no banned functions in
# src/, and the release binary is PIE with full RELRO, a stack protector, fortified calls and
# stack-clash and CET (-fcf-protection) code.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|sscanf|alloca|system|popen)[[:space:]]*\('
hits=$(grep -rnE "$banned" src --include='*.c' --include='*.h' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
if [ -z "$hits" ]; then ok "no banned functions in src/"; else not_ok "no banned functions in src/" "$hits"; fi

# V1: SQL only through prepared statements with bound parameters. sqlite3_exec and SQLite's
# printf family are not used at all; no printf-style call formats text that looks like SQL; SQLite
# is used in src/store/ only, where every statement is prepared from a string literal.
vla=$(grep -rnE 'sqlite3_exec' src | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
if [ -z "$vla" ]; then ok "no sqlite3_exec (V1)"; else not_ok "no sqlite3_exec (V1)" "$vla"; fi
hits=$(grep -rnE 'sqlite3_(v?mprintf|v?snprintf|str_appendf)' src || true)
if [ -z "$hits" ]; then ok "no SQLite printf functions (V1)"; else not_ok "no SQLite printf functions (V1)" "$hits"; fi
hits=$(grep -rnE 'printf[[:space:]]*\([^"]*"[^"]*\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|REPLACE INTO|WHERE)\b' src || true)
if [ -z "$hits" ]; then ok "no SQL built with printf (V1)"; else not_ok "no SQL built with printf (V1)" "$hits"; fi
hits=$(grep -rlE 'sqlite3_' src --include='*.c' --include='*.h' | grep -v '^src/store/' || true)
if [ -z "$hits" ]; then ok "SQLite used in src/store only (V1)"; else not_ok "SQLite used in src/store only (V1)" "$hits"; fi
# Every statement goes through prep(&st, s, "literal") or run_const(s, "literal", ...); the one
# call passing a variable is run_const's own, whose callers are checked here.
# store/copy.c prepares the members of its table of literals (tables[]: t->select, ...).
hits=$( (grep -nE '\bprep\(' src/store/*.c | grep -vE '\bprep\([^,]+,[^,]+, *"' | grep -vE 'static int prep\(|prep\(&st, s, sql\)\) == 0\)' |
           grep -vE '^src/store/copy\.c:[0-9]+:.*\bprep\(&[a-z]+, (to|from), t->(select|insert|any|reset)\)';
         grep -nE '\brun_const\(' src/store/*.c | grep -vE '\brun_const\([^,]+, *"' | grep -vE 'static int run_const\(') || true)
if [ -z "$hits" ]; then ok "store statements are string literals (V1)"; else not_ok "store statements are string literals (V1)" "$hits"; fi
expect_eq "prep() with a variable only inside run_const (V1)" 1 "$(grep -cE 'prep\(&st, s, sql\)' src/store/store.c)"
# The database layer's backends (src/store/db_*.c) are the only callers of the engines' own
# prepare and execute calls: SQLite's in its prepare, script runner and PRAGMA reader; libpq's
# in db_pg.c, whose statements are the store's literals rewritten by its dialect table.
n_prep=$(grep -cE 'sqlite3_prepare' src/store/db_sqlite.c)
expect_eq "raw sqlite3_prepare only in the SQLite backend's prepare, script and PRAGMA reader (V1)" 3 "$n_prep"
hits=$(grep -lE 'sqlite3_prepare|PQexec|PQprepare' src/store/*.c | grep -vE '^src/store/db_(sqlite|pg)\.c$' || true)
if [ -z "$hits" ]; then ok "engines' prepare/exec calls only in the backends (V1)"; else not_ok "engines' prepare/exec calls only in the backends (V1)" "$hits"; fi

bin=$TRAWL
if [ "${TRAWL_BUILD:-release}" = release ]; then
  hdr=$(readelf -h "$bin" 2>/dev/null | grep 'Type:')
  case $hdr in *DYN*) ok "binary is position independent";; *) not_ok "binary is position independent" "$hdr";; esac
  dyn=$(readelf -d "$bin" 2>/dev/null)
  if echo "$dyn" | grep -q BIND_NOW && readelf -l "$bin" | grep -q GNU_RELRO; then ok "full RELRO"; else not_ok "full RELRO"; fi
  syms=$(readelf -W --dyn-syms "$bin" 2>/dev/null)
  if echo "$syms" | grep -q __stack_chk_fail; then ok "stack protector"; else not_ok "stack protector"; fi
  if echo "$syms" | grep -q '_chk@'; then ok "fortified libc calls"; else not_ok "fortified libc calls"; fi
  # gcc records its options in each compile unit's DW_AT_producer (one string per distinct set).
  cus=$(readelf -p .debug_str "$bin" 2>/dev/null | grep -o 'GNU C17 .*' || true)
  bad=$(echo "$cus" | grep -v -e '-fstack-clash-protection' -e '^$' || true)
  bad+=$(echo "$cus" | grep -v -e '-fcf-protection=full' -e '^$' || true)
  if [ -n "$cus" ] && [ -z "$bad" ]; then ok "compiled with stack-clash and CET protection"
  else not_ok "compiled with stack-clash and CET protection" "${bad:-no compile unit found}"; fi
fi
finish
