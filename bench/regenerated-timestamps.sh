#!/usr/bin/env bash
# Re-import of a corpus regenerated with only new timestamps (issue 20 item 12), on SQLite.
#
#   bench/regenerated-timestamps.sh CORPUS_DIR      # e.g. /tmp/senda-bench/corpus-200m
#
# Copies CORPUS_DIR (following links) to a temporary folder, imports it into a fresh database
# (timed), rewrites every last-updated-datetime and generated-datetime (sed), imports again
# (timed: nothing but timestamps should be written, "0 updated"), then once more unchanged.
# SENDA_BIN: default target/release/senda.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${SENDA_BIN:-$REPO/target/release/senda}"
SRC="${1:?usage: bench/regenerated-timestamps.sh CORPUS_DIR}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -rL "$SRC" "$WORK/corpus"
C="$WORK/corpus"; DB="$WORK/r.db"
/usr/bin/time -f "first import: %e s, %M KiB" "$BIN" --db "$DB" import --no-progress "$C" 2>&1 | grep -E "first import|^activities"
find "$C" -name "*.xml" -exec sed -i -E 's/(last-updated-datetime|generated-datetime)="[^"]*"/\1="2026-12-07T06:00:00+00:00"/g' {} +
/usr/bin/time -f "re-import, timestamps regenerated: %e s, %M KiB" "$BIN" --db "$DB" import --no-progress "$C" 2>&1 | grep -E "re-import|^activities"
/usr/bin/time -f "re-import, unchanged: %e s, %M KiB" "$BIN" --db "$DB" import --no-progress "$C" 2>&1 | grep -E "re-import|^activities"
