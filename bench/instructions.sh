#!/usr/bin/env bash
# Deterministic companion to bench/run.sh: the number of instructions `senda import` executes
# per MB of input, counted by valgrind (callgrind), for one or more builds side by side.
#
# Wall and CPU times on a shared 2-core virtual machine vary by up to 1.6x for the same build
# (other guests share the cores and caches: docs/benchmarks.md); instruction counts do not, so
# they tell whether a change made the import do less work, even when timings cannot.
#
# usage: bench/instructions.sh CORPUS_DIR [LABEL=BINARY ...]
#   CORPUS_DIR: a corpus made by bench/make_corpus.py; its first two copy-NNN folders are used.
#   LABEL=BINARY: builds to compare (default: this=target/release/senda).
# Each build imports copy 1, then copies 1 and 2, into fresh databases under valgrind; the
# difference is the cost of one copy without the fixed start-up cost (strategy automata,
# migrations). Takes about a minute per build (both imports run at once, one per core).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPUS="${1:-}"
if [[ -z "$CORPUS" || ! -d "$CORPUS/copy-001" || ! -d "$CORPUS/copy-002" ]]; then
  echo "usage: bench/instructions.sh CORPUS_DIR [LABEL=BINARY ...] (CORPUS_DIR from bench/make_corpus.py)" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 2; }
shift
builds=("$@")
[[ ${#builds[@]} -eq 0 ]] && builds=("this=$REPO/target/release/senda")

W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/one" "$W/two"
ln -s "$(cd "$CORPUS/copy-001" && pwd)" "$W/one/a"
ln -s "$(cd "$CORPUS/copy-001" && pwd)" "$W/two/a"
ln -s "$(cd "$CORPUS/copy-002" && pwd)" "$W/two/b"
mb=$(du -L -s -m "$W/one/a" | cut -f1)

count() { # BINARY CORPUS OUT
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" --db "$3.db" import "$2" --no-progress 2>&1 \
    | sed -n 's/.*refs: *//p' | tr -d , >"$3"
}

printf '%-12s %16s %16s %16s %12s\n' build "one copy" "two copies" "per copy" "per MB"
for b in "${builds[@]}"; do
  label="${b%%=*}"
  bin="${b#*=}"
  count "$bin" "$W/one" "$W/$label.one" &
  count "$bin" "$W/two" "$W/$label.two" &
  wait
  one=$(cat "$W/$label.one")
  two=$(cat "$W/$label.two")
  per=$((two - one))
  printf '%-12s %16d %16d %16d %12d\n' "$label" "$one" "$two" "$per" $((per / mb))
done
echo "(copy-001 is $mb MB; instructions counted by valgrind --tool=callgrind)"
