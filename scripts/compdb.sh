#!/usr/bin/env bash
# Writes a compile_commands.json for the given sources to stdout: $1 is the compile command.
set -eu
cmd=$1; shift
dir=$(pwd)
printf '[\n'
sep=''
for f in "$@"; do
  printf '%s  {"directory": "%s", "file": "%s", "command": "%s -c %s"}' "$sep" "$dir" "$f" "$cmd" "$f"
  sep=$',\n'
done
printf '\n]\n'
