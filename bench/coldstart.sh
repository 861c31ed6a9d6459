#!/usr/bin/env bash
# Senda cold start, memory and latency at scale, on one database of either backend.
#
#   bench/coldstart.sh DB            # DB: a path, sqlite://PATH or postgres://... URL
#
# Starts `senda serve` on DB and measures: seconds from the start until the first overview
# answers (the server loads the fact segments and the activity classes, and computes the
# overview's reports); the server's RSS then; the first answer of a report API grouping the
# overview did not compute (by sector and implementing organisation); then, for the overview
# page and the report API (`by=line_of_effort,country,fiscal_year`, and `by=line_of_effort`):
# the first answer, timed apart (a grouping not asked before is computed then, and cached for
# the data generation), then CONNECTIONS clients for DURATION with wrk (Debian package `wrk`):
# p50, p90, p99 and requests/s; and the highest RSS sampled every second over the whole run.
#
# Both backends side by side at 1,000,000 activities: bench/coldstart-both.sh.
# Environment: SENDA_BIN (default target/release/senda), PORT (8189), CONNECTIONS (50),
# DURATION (20s).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB="${1:?usage: bench/coldstart.sh DB}"
BIN="${SENDA_BIN:-$REPO/target/release/senda}"
PORT="${PORT:-8189}"
C="${CONNECTIONS:-50}"
D="${DURATION:-20s}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

"$BIN" --db "$DB" serve --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; kill "$SAMPLER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
t0=$(date +%s.%N)
( while kill -0 "$SERVER" 2>/dev/null; do ps -o rss= -p "$SERVER" >> "$WORK/rss" || true; sleep 1; done ) &
SAMPLER=$!
until curl -sf -o /dev/null "$BASE/"; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.05
done
t1=$(date +%s.%N)
printf 'first overview answered %.2f s after start\n' "$(echo "$t1 - $t0" | bc)"
echo "server RSS after the first overview: $(( $(ps -o rss= -p "$SERVER") / 1024 )) MiB"
grep -o 'facts loaded into memory.*' "$WORK/server.log" | head -n 1 | sed 's/^/  /' || true
t2=$(date +%s.%N)
curl -sf -o /dev/null "$BASE/api/v1/report?by=sector,implementing_org"
t3=$(date +%s.%N)
printf 'first report by sector and implementing organisation: %.2f s\n' "$(echo "$t3 - $t2" | bc)"

run() { # name path
  local out t0 t1
  # The first answer computes the report (cold, timed apart); wrk measures the answers after it.
  t0=$(date +%s.%N); curl -sf -o /dev/null "$BASE$2"; t1=$(date +%s.%N)
  printf '%-28s first answer %.3f s\n' "$1" "$(echo "$t1 - $t0" | bc)"
  out=$(wrk -t1 -c"$C" -d"$D" --latency "$BASE$2")
  printf '%-28s p50 %8s  p90 %8s  p99 %8s  %8s req/s  non-2xx: %s\n' "$1" \
    "$(awk '/^ +50%/{print $2}' <<<"$out")" "$(awk '/^ +90%/{print $2}' <<<"$out")" \
    "$(awk '/^ +99%/{print $2}' <<<"$out")" "$(awk '/^Requests\/sec/{print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/{print $NF}' <<<"$out" | grep . || echo 0)"
}
run "overview /" "/"
run "report API (LoE, country, FY)" "/api/v1/report?by=line_of_effort,country,fiscal_year"
run "report API (LoE), small" "/api/v1/report?by=line_of_effort"
echo "highest server RSS over the run: $(( $(sort -n "$WORK/rss" | tail -n 1) / 1024 )) MiB"
