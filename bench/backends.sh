#!/usr/bin/env bash
# SQLite and PostgreSQL side by side, interleaved, on one corpus. Builds nothing: run
# `cargo build --release` first. Needs a PostgreSQL server:
#
#   SENDA_PG_DURABLE=1 scripts/with-postgres.sh bench/backends.sh CORPUS_DIR
#
# (with-postgres starts a throw-away server and exports SENDA_TEST_POSTGRES_URL; with
# SENDA_PG_DURABLE=1 it keeps PostgreSQL's default durability: fsync on.) Or point
# SENDA_TEST_POSTGRES_URL at a server of yours (a role that may CREATE DATABASE).
#
# For each repetition (REPS, default 3), for SQLite then PostgreSQL:
#   import   senda import into a fresh database          (wall s, MB/s, peak RSS)
#   reimport senda import again, corpus unchanged          (wall s; speed-up import/reimport)
#   report   senda report --by line_of_effort,country,fiscal_year --format csv
# then checks the two reports are byte-identical. Medians and ratios at the end.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPUS="${1:?usage: bench/backends.sh CORPUS_DIR}"
CORPUS="$(cd "$CORPUS" && pwd)"
: "${SENDA_TEST_POSTGRES_URL:?needs a PostgreSQL server: run under scripts/with-postgres.sh}"
W="${SENDA_BENCH_DIR:-/tmp/senda-bench}/backends"
REPS="${REPS:-3}"
SENDA="${SENDA_BIN:-$REPO/target/release/senda}"
mkdir -p "$W"
MB=$(du -sb "$CORPUS" | cut -f1)
cat "$(find "$CORPUS" -name '*.xml' | head -1)" >/dev/null
find "$CORPUS" -name '*.xml' -exec cat {} + >/dev/null   # warm page cache
base="${SENDA_TEST_POSTGRES_URL%/*}"
results="$W/results.tsv"
: >"$results"
measure() { # label command... -> appends "label wall rss"
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$W/time.txt" "$@" >"$W/$label.out" 2>"$W/$label.err" || {
    echo "failed: $label (see $W/$label.err)" >&2
    tail -3 "$W/$label.err" >&2
    exit 1
  }
  read -r wall rss <"$W/time.txt"
  echo -e "$label\t$wall\t$rss" >>"$results"
  echo "  $label: ${wall} s, $((rss / 1024)) MB"
}
for rep in $(seq 1 "$REPS"); do
  echo "repetition $rep"
  rm -f "$W"/senda.db*
  psql -q "$SENDA_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS senda_bench" -c "CREATE DATABASE senda_bench"
  pg="$base/senda_bench"
  measure sqlite-import "$SENDA" --db "$W/senda.db" import --no-progress "$CORPUS"
  measure pg-import "$SENDA" --db "$pg" import --no-progress "$CORPUS"
  measure sqlite-reimport "$SENDA" --db "$W/senda.db" import --no-progress "$CORPUS"
  measure pg-reimport "$SENDA" --db "$pg" import --no-progress "$CORPUS"
  measure sqlite-report "$SENDA" --db "$W/senda.db" report --by line_of_effort,country,fiscal_year --format csv
  measure pg-report "$SENDA" --db "$pg" report --by line_of_effort,country,fiscal_year --format csv
  cmp -s "$W/sqlite-report.out" "$W/pg-report.out" && echo "  reports byte-identical" || { echo "REPORTS DIFFER" >&2; exit 1; }
done
python3 - "$results" "$MB" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, wall, rss = line.split("\t")
    rows[label].append((float(wall), int(rss)))
mb = int(sys.argv[2]) / 1e6
med = {k: (statistics.median(w for w, _ in v), max(r for _, r in v)) for k, v in rows.items()}
print(f"\ncorpus {mb:.1f} MB; median of {len(next(iter(rows.values())))} runs")
print(f"{'step':<18}{'wall s':>9}{'MB/s':>9}{'peak RSS MB':>13}")
for k in ["sqlite-import", "pg-import", "sqlite-reimport", "pg-reimport", "sqlite-report", "pg-report"]:
    w, r = med[k]
    rate = f"{mb / w:.1f}" if k.endswith("import") and "re" not in k else ""
    print(f"{k:<18}{w:>9.2f}{rate:>9}{r / 1024:>13.0f}")
print(f"pg/sqlite import time: {med['pg-import'][0] / med['sqlite-import'][0]:.2f}x")
print(f"re-import speed-up: sqlite {med['sqlite-import'][0] / med['sqlite-reimport'][0]:.1f}x, pg {med['pg-import'][0] / med['pg-reimport'][0]:.1f}x")
PY
