#!/usr/bin/env bash
# End-to-end tests of ranking with a symbol index (docs/results.md, "Definitions"): with
# `trawl index --symbols`, a plain search shows first the file whose symbols define the name,
# even where the line does not look like a definition (a Python module variable); a struct's
# member of that name earns less than a function; without symbols the heuristics rank.
. "$(dirname "$0")/lib.sh"

R=$T/repo
mkdir -p "$R/app" "$R/drivers"
printf 'HANDLER_TABLE = build_table()\n' >"$R/app/handlers.py"
for f in a b; do
  for _ in 1 2 3 4 5; do printf 'x = HANDLER_TABLE\n'; done >"$R/app/$f.py"
done
# A struct member named like a function: the function's file first, though the member's file
# also matches by name (+100).
printf 'struct engine {\n\tvoid (*reset_engine)(int);\n};\n' >"$R/drivers/reset_engine.h"
printf 'static int helper(void)\n{\n\treturn 0;\n}\n\nvoid\nreset_engine(int x)\n{\n}\n' >"$R/drivers/core.c"

first() { "$TRAWL" search -d "$1" --json "$2" | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    if o.get("path"):
        print(o["path"])
        break'; }

check "index --symbols" "$TRAWL" index -q --symbols -o "$T/sym" --name repo "$R"
check "index without symbols" "$TRAWL" index -q -o "$T/plain" --name repo "$R"
expect_eq "with symbols: the variable's definition first" "app/handlers.py" \
  "$(first "$T/sym" HANDLER_TABLE)"
expect_eq "without symbols: not a definition's shape, more matching lines first" "app/a.py" \
  "$(first "$T/plain" HANDLER_TABLE)"
expect_eq "case-insensitive by default: the definition still first" "app/handlers.py" \
  "$(first "$T/sym" handler_table)"
expect_eq "case:yes with another case: no definition" "" \
  "$(first "$T/sym" 'case:yes handler_table')"
expect_eq "a regex is not a name: no definition points" "app/a.py" \
  "$(first "$T/sym" '/HANDLER_TABL[E]/')"
expect_eq "the function before a member of the same name" "drivers/core.c" \
  "$(first "$T/sym" reset_engine)"
expect_eq "count:all ranks the same" "drivers/core.c" "$(first "$T/sym" 'count:all reset_engine')"
finish
