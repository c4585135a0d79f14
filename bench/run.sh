#!/usr/bin/env bash
# Side-by-side benchmark of trawl, codesearch (cindex/csearch) and ripgrep. See bench/README.md.
#
#   bench/run.sh [--quick]
#
#   --quick       1 run per tool and query, no warmup, a subset of the queries
#   CORPUS=DIR    corpus to use instead of the Linux source from ../shared/bench/corpus.sh
#   TRAWL=BIN     trawl binary to use (default: build $repo/build/trawl); TRAWL=none leaves trawl out
#   RUNS=N        timed runs per tool and query (default 5; 1 with --quick)
#   WARMUP=N      hyperfine warmup runs (default 1; 0 with --quick)
#   QUERIES=IDS   query ids to run, e.g. "v01 v05 v16" (default: all; a subset with --quick)
#   RG_JOBS=N     ripgrep threads (default 2)
#
# Writes bench/results.md; intermediate files go to bench/work/. Exits 1 if trawl failed or
# disagreed with ripgrep on any query (the report is written anyway).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
work=$here/work
quick_ids="v01 v02 v04 v05 v11 v13 v16 v18 v22 v25"

# The command line as given, with the environment overrides that were set, for the report.
invocation=""
for v in CORPUS TRAWL RUNS WARMUP QUERIES RG_JOBS; do
  [[ -n ${!v:-} ]] && invocation+="$v=$(printf %q "${!v}") "
done
invocation+="bench/run.sh${*:+ $*}"

quick=0
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
if ((quick)); then
  runs=${RUNS:-1} warmup=${WARMUP:-0} queries=${QUERIES:-$quick_ids}
else
  runs=${RUNS:-5} warmup=${WARMUP:-1} queries=${QUERIES:-}
fi
rg_jobs=${RG_JOBS:-2}

say() { printf '\n== %s\n' "$*" >&2; }

# Corpus and peers. corpus.sh installs rg, codesearch and hyperfine; with CORPUS set it is only
# run when a peer is missing (it would otherwise unpack the kernel source for nothing).
corpus_sh=$repo/../shared/bench/corpus.sh
[[ -x $corpus_sh ]] || corpus_sh=/work/shared/bench/corpus.sh
if [[ -n ${CORPUS:-} ]]; then
  for tool in rg cindex csearch hyperfine; do
    command -v "$tool" >/dev/null || { "$corpus_sh" >/dev/null; break; }
  done
  corpus=$CORPUS
else
  say "corpus (corpus.sh; the first run installs the peers and unpacks the source)"
  corpus=$("$corpus_sh")
fi
[[ -d $corpus ]] || { echo "run.sh: corpus $corpus is not a directory" >&2; exit 2; }
corpus=$(realpath "$corpus")
command -v /usr/bin/time >/dev/null || { echo "run.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

# trawl.
if [[ -z ${TRAWL:-} ]]; then
  say "building trawl"
  make -C "$repo" -j2 >&2
  trawl=$repo/build/trawl
elif [[ $TRAWL == none ]]; then
  trawl=none
else
  trawl=$(command -v "$TRAWL" || true)
  [[ -n $trawl && -x $trawl ]] || { echo "run.sh: TRAWL=$TRAWL is not executable" >&2; exit 2; }
  trawl=$(realpath "$trawl")
fi

mkdir -p "$work"
rm -rf "$work/trawl-index" "$work/csearchindex" "$work/hyperfine" "$work/diff" \
  "$work/queries.json" "$work/hyperfine.log" "$work"/*.time "$work"/*.log "$work"/*.status \
  "$work/trawl-build"
# The source trawl was built from, for the report (the tree may move on during the run).
if [[ -z ${TRAWL:-} ]]; then
  { git -C "$repo" rev-parse --short=10 HEAD
    [[ -z $(git -C "$repo" status --porcelain -- src Makefile) ]] || echo "-dirty"
  } 2>/dev/null | tr -d '\n' > "$work/trawl-build" || true
fi
date -u '+%Y-%m-%d %H:%M:%S UTC' > "$work/started"
cat /proc/loadavg > "$work/loadavg"

say "corpus statistics ($corpus)"
python3 "$here/queries.py" corpus --corpus "$corpus" --out "$work/corpus.json"

# timed NAME CMD...: runs CMD under /usr/bin/time -v; stdout+stderr to work/NAME.log, the
# resource report to work/NAME.time and the exit status to work/NAME.status.
timed() {
  local name=$1 status=0
  shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || status=$?
  echo "$status" > "$work/$name.status"
  if ((status)); then
    echo "run.sh: $name failed (exit $status); last lines of $work/$name.log:" >&2
    tail -n 20 "$work/$name.log" >&2
  fi
  grep -E 'Elapsed|Maximum resident' "$work/$name.time" | sed 's/^\s*/  /' >&2
  return 0
}

failed=0
if [[ $trawl != none ]]; then
  say "indexing with trawl"
  timed trawl-index "$trawl" index -q --worktree -o "$work/trawl-index" "$corpus"
  if [[ $(cat "$work/trawl-index.status") != 0 ]]; then
    echo "run.sh: trawl index failed: the queries run without trawl" >&2
    failed=1
  fi
  du -sb "$work/trawl-index" 2>/dev/null | cut -f1 > "$work/trawl-index.size" || true
fi

say "indexing with cindex"
export CSEARCHINDEX=$work/csearchindex
timed cindex cindex -reset "$corpus"
du -sb "$CSEARCHINDEX" 2>/dev/null | cut -f1 > "$work/cindex.size" || true

say "queries (runs $runs, warmup $warmup)"
query_trawl=$trawl
((failed)) && query_trawl=none
status=0
python3 "$here/queries.py" run --tsv "$here/queries.tsv" --corpus "$corpus" --work "$work" \
  --trawl "$query_trawl" --runs "$runs" --warmup "$warmup" --ids "$queries" \
  --rg-jobs "$rg_jobs" || status=$?
((status == 1)) && failed=1
((status > 1)) && { echo "run.sh: queries.py failed (exit $status)" >&2; exit "$status"; }

say "report"
python3 "$here/report.py" --work "$work" --repo "$repo" --trawl "$trawl" \
  --command "$invocation" --out "$here/results.md"
echo "wrote $here/results.md" >&2
if ((failed)); then
  echo "run.sh: FAILED: trawl failed or disagreed with ripgrep; see bench/results.md" >&2
  exit 1
fi
