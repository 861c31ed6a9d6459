#!/usr/bin/env bash
# Cold start, memory and latency at scale on both backends, side by side in one run.
#
#   bench/coldstart-both.sh XML SQLITE_DB
#
# XML: a large IATI file (senda generate --out big.xml --activities 1000000
# --transactions-per-activity 10); SQLITE_DB: that file imported into SQLite (senda --db
# SQLITE_DB import XML). Starts a throw-away PostgreSQL (scripts/with-postgres.sh), imports XML
# into it (timed) and runs VACUUM (ANALYZE) (what autovacuum does after a bulk import; timed),
# then runs bench/coldstart.sh on SQLite and on PostgreSQL, one after the other.
# With DROP_CACHES=1 (root), the kernel's page cache is dropped before each cold start, so the
# first overview reads the database from disk.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
XML="${1:?usage: bench/coldstart-both.sh XML SQLITE_DB}"
SQLITE_DB="${2:?usage: bench/coldstart-both.sh XML SQLITE_DB}"
BIN="${SENDA_BIN:-$REPO/target/release/senda}"
export SENDA_BIN="$BIN"
drop() { if [ "${DROP_CACHES:-}" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; echo "(page cache dropped)"; fi; }
inner() {
  local pg="${SENDA_TEST_POSTGRES_URL%/postgres}/bench"
  # A database for the benchmark (the URL's user is a superuser of the throw-away server).
  psql "$SENDA_TEST_POSTGRES_URL" -qc "CREATE DATABASE bench"
  echo "== PostgreSQL import of $XML"
  /usr/bin/time -f "import: %e s wall, %M KiB peak RSS" "$BIN" --db "$pg" import "$XML" 2>&1 | grep -v '^ INFO' | tail -n 3
  # What autovacuum would do in the minutes after a bulk import, done now so that it does not
  # run during the measurements (timed).
  /usr/bin/time -f "vacuum analyze: %e s" psql "$pg" -qc "VACUUM (ANALYZE)"
  echo "== SQLite: $SQLITE_DB"
  drop
  "$REPO/bench/coldstart.sh" "$SQLITE_DB"
  echo "== PostgreSQL: $pg"
  drop
  PORT=8190 "$REPO/bench/coldstart.sh" "$pg"
}
export -f inner drop
export XML SQLITE_DB BIN REPO
"$REPO/scripts/with-postgres.sh" bash -c inner
