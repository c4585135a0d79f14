#!/usr/bin/env bash
# Source hygiene and binary hardening (STYLE.md, SECURITY-CHECKLIST V5): no banned functions in
# src/, and the release binary is PIE with full RELRO, a stack protector and fortified calls.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|sscanf|alloca|system|popen)[[:space:]]*\('
hits=$(grep -rnE "$banned" src --include='*.c' --include='*.h' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
if [ -z "$hits" ]; then ok "no banned functions in src/"; else not_ok "no banned functions in src/" "$hits"; fi

vla=$(grep -rnE 'sqlite3_exec' src || true)
if [ -z "$vla" ]; then ok "no sqlite3_exec (V1)"; else not_ok "no sqlite3_exec (V1)" "$vla"; fi

bin=$TRAWL
if [ "${TRAWL_BUILD:-release}" = release ]; then
  hdr=$(readelf -h "$bin" 2>/dev/null | grep 'Type:')
  case $hdr in *DYN*) ok "binary is position independent";; *) not_ok "binary is position independent" "$hdr";; esac
  dyn=$(readelf -d "$bin" 2>/dev/null)
  if echo "$dyn" | grep -q BIND_NOW && readelf -l "$bin" | grep -q GNU_RELRO; then ok "full RELRO"; else not_ok "full RELRO"; fi
  syms=$(readelf -W --dyn-syms "$bin" 2>/dev/null)
  if echo "$syms" | grep -q __stack_chk_fail; then ok "stack protector"; else not_ok "stack protector"; fi
  if echo "$syms" | grep -q '_chk@'; then ok "fortified libc calls"; else not_ok "fortified libc calls"; fi
fi
finish
