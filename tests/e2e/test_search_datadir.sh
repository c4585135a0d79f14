#!/usr/bin/env bash
# `trawl search` finds the data directory as `repo`, `sync` and `serve` do (issue 17): without
# -d or --data it searches $TRAWL_DATA's index, else ./trawl-data's; with neither there, it says
# how to give one; -d pointed at a data directory suggests --data.
. "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "1..0 # SKIP git is not installed"; exit 0; }

sync_fixture
unset TRAWL_DATA
mkdir -p "$T/empty"
cd "$T/empty" || exit 1
expect_status "no data directory here: an error" 2 "$TRAWL" search version
expect_eq "... that says how to give an index" \
  "trawl: no index to search: give -d INDEXDIR or --data DATADIR (./trawl-data does not exist)" \
  "$(cat "$T/.err")"
cd "$T" || exit 1
check "repo add" "$TRAWL" repo add --data "$T/trawl-data" --allow-local src
check "sync" "$TRAWL" sync --data "$T/trawl-data"
expect_eq "./trawl-data's index without -d" "src/a.txt:1:first version" "$("$TRAWL" search version)"
expect_eq "... with -e too" "src/a.txt:1:first version" "$("$TRAWL" search -e 'first')"
cd "$T/empty" || exit 1
expect_eq "\$TRAWL_DATA's index" "src/a.txt:1:first version" \
  "$(TRAWL_DATA=$T/trawl-data "$TRAWL" search version)"
expect_status "\$TRAWL_DATA naming nothing: an error" 2 env TRAWL_DATA="$T/nothing" "$TRAWL" search version
expect_eq "... naming it" \
  "trawl: no index to search: give -d INDEXDIR or --data DATADIR (\$TRAWL_DATA=$T/nothing does not exist)" \
  "$(cat "$T/.err")"
cd "$T" || exit 1
expect_status "-d at a data directory: an error" 2 "$TRAWL" search -d trawl-data version
expect_eq "... that suggests --data" \
  "trawl: trawl-data is a data directory, not an index: --data trawl-data searches its index (trawl-data/index)" \
  "$(cat "$T/.err")"
expect_eq "-d at its index still works" "src/a.txt:1:first version" \
  "$("$TRAWL" search -d trawl-data/index version)"
finish
