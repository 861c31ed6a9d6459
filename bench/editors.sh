#!/usr/bin/env bash
# Issue 18's benchmark: concurrent editors saving intervention forms against one server, with
# anonymous readers meanwhile, on SQLite and on PostgreSQL. A script, not a timed test.
#
#   bench/editors.sh [sqlite|postgres|both]      # default both (PostgreSQL through
#                                                # scripts/with-postgres.sh, a throw-away server)
#
# For each backend: a `senda demo` database (synthetic; ACTIVITIES activities), one synthetic
# partner organisation, EDITORS partner editors, each with an API token and one public-messaging
# intervention of its own (created through POST /api/v1/interventions). Then, against one
# `senda serve`:
#   1. reads alone: READERS anonymous clients (wrk, bench/reads.lua: the overview page, a
#      line-of-effort page, the public interventions list, the interventions and report API);
#   2. saves alone: EDITORS editors at once (wrk -t EDITORS -c EDITORS, bench/editors.lua), each
#      saving its intervention back to back (no think time) with PUT and If-Match of the version
#      its last save returned, as the edit form does;
#   3. saves and reads together (the issue's case).
# Each prints p50/p90/p99/max, the answers by kind (saved, 409, 5xx, "database is locked") and
# the server log's errors. Target (issue 18): p99 of a save at most 100 ms, no "database is
# locked", reads' p99 at most 100 ms.
#
# Environment: SENDA_BIN (default $CARGO_TARGET_DIR/quick/senda, else target/quick/senda: build
# with `cargo build --profile quick -p senda`), EDITORS (50), READERS (50), DURATION (10s),
# ACTIVITIES (2000), PORT (8191), THINK_MS (0: back to back; otherwise each editor pauses this
# long between saves), READ_PATHS (space-separated paths the readers read instead of the five
# above). Needs wrk and, for PostgreSQL, psql.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WHICH="${1:-both}"
BIN="${SENDA_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/quick/senda}"
EDITORS="${EDITORS:-50}"
READERS="${READERS:-50}"
DURATION="${DURATION:-10s}"
ACTIVITIES="${ACTIVITIES:-2000}"
PORT="${PORT:-8191}"
THINK_MS="${THINK_MS:-0}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no senda binary at $BIN: cargo build --profile quick -p senda (or set SENDA_BIN)" >&2; exit 1; }
export BIN EDITORS READERS DURATION ACTIVITIES PORT THINK_MS REPO

one_backend() {
  local name="$1" db="$2" work
  work="$(mktemp -d)"
  local server=""
  # shellcheck disable=SC2064
  trap "[ -n \"\$server\" ] && kill \$server 2>/dev/null; rm -rf '$work'" RETURN
  echo "== $name: $("$BIN" --version 2>/dev/null || echo senda), $EDITORS editors, $READERS readers, $DURATION, think ${THINK_MS} ms, demo of $ACTIVITIES activities"
  "$BIN" --db "$db" demo --no-serve --activities "$ACTIVITIES" >/dev/null 2>"$work/demo.log" || { cat "$work/demo.log" >&2; return 1; }
  "$BIN" --db "$db" organisation add --name "Benchmark partner (synthetic)" --country HN >/dev/null 2>&1
  local org
  org=$("$BIN" --db "$db" organisation list --json | python3 -c 'import json,sys; print(max(o["id"] for o in json.load(sys.stdin)))')
  local pw="a benchmark passphrase that is long" i
  : >"$work/tokens"
  for i in $(seq 1 "$EDITORS"); do
    printf '%s\n' "$pw" | "$BIN" --db "$db" user add "editor$i@example.org" --role partner_editor --organisation "$org" >/dev/null 2>&1
    "$BIN" --db "$db" token add --user "editor$i@example.org" --name bench --days 1 2>/dev/null |
      grep -o 'senda_[A-Za-z0-9_-]*' | head -1 >>"$work/tokens"
  done
  sed "s/@ORG@/$org/" >"$work/body.json" <<'JSON'
{"organisation": @ORG@, "instrument": "public_messaging", "countries": ["HN"], "departments": ["HN-CR"],
 "start": "2024-01-01", "end": "2024-12-31", "status": "active",
 "title": {"en": "Benchmark campaign (synthetic) @N@", "es": "Campaña de prueba (sintética) @N@"},
 "description": {"es": "Guardada por bench/editors.sh: @N@"},
 "lines_of_effort": [{"line_of_effort": "LOE7", "reason": "a benchmark record"}],
 "money": [{"kind": "commitment", "amount": "1000", "currency": "USD", "date": "2024-02-01"}],
 "public_messaging": {"channels": ["radio", "WhatsApp"], "languages": ["es"], "audiences": ["youth"],
   "reach": [{"period": "2024-Q2", "country": "HN", "department": "HN-CR", "people_reached": 1000}]}}
JSON
  "$BIN" --db "$db" serve --listen "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
  server=$!
  local base="http://127.0.0.1:$PORT" tries=0
  until curl -sf -o /dev/null "$base/"; do
    sleep 0.5; tries=$((tries + 1))
    [ "$tries" -lt 240 ] || { echo "server did not start" >&2; tail "$work/server.log" >&2; return 1; }
  done
  : >"$work/editors"
  while read -r token; do
    local id
    id=$(sed 's/@N@/0/' "$work/body.json" | curl -sf -X POST -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' --data-binary @- "$base/api/v1/interventions" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    echo "$id $token" >>"$work/editors"
  done <"$work/tokens"
  [ "$(wc -l <"$work/editors")" = "$EDITORS" ] || { echo "could not create $EDITORS interventions" >&2; return 1; }
  export EDITORS_FILE="$work/editors" BODY_FILE="$work/body.json"
  # Warm-up (caches, connections), not measured.
  wrk -t2 -c"$READERS" -d3s -s "$REPO/bench/reads.lua" "$base" >/dev/null
  echo "-- 1. reads alone"
  wrk -t2 -c"$READERS" -d"$DURATION" --timeout 30s -s "$REPO/bench/reads.lua" "$base" | grep -E '^reads:'
  echo "-- 2. saves alone"
  wrk -t"$EDITORS" -c"$EDITORS" -d"$DURATION" --timeout 30s -s "$REPO/bench/editors.lua" "$base" | grep -E '^(saves|answers):'
  echo "-- 3. saves and reads together"
  wrk -t"$EDITORS" -c"$EDITORS" -d"$DURATION" --timeout 30s -s "$REPO/bench/editors.lua" "$base" >"$work/w.out" &
  local w=$!
  wrk -t2 -c"$READERS" -d"$DURATION" --timeout 30s -s "$REPO/bench/reads.lua" "$base" | grep -E '^reads:'
  wait "$w"
  grep -E '^(saves|answers):' "$work/w.out"
  echo "-- server log: $(grep -c 'database is locked' "$work/server.log" || true) \"database is locked\", $(grep -c ' ERROR ' "$work/server.log" || true) ERROR lines"
  grep ' ERROR ' "$work/server.log" | head -n 3 || true
}
export -f one_backend

pg_inner() {
  local pg="${SENDA_TEST_POSTGRES_URL%/postgres}/editors"
  psql "$SENDA_TEST_POSTGRES_URL" -qc "CREATE DATABASE editors"
  one_backend PostgreSQL "$pg"
}
export -f pg_inner

if [ "$WHICH" = sqlite ] || [ "$WHICH" = both ]; then
  tmp="$(mktemp -d)"
  one_backend SQLite "$tmp/editors.db"
  rm -rf "$tmp"
fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = both ]; then
  "$REPO/scripts/with-postgres.sh" bash -c pg_inner
fi
