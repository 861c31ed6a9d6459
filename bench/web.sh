#!/usr/bin/env bash
# Senda web benchmark: latency under load on loopback, with wrk (Debian package `wrk`).
#
#   bench/web.sh DB            # DB: a senda database; build the reference one with
#                              #   senda generate --out big.xml --activities 1000000 --transactions-per-activity 10
#                              #   senda --db big.db import big.xml
#
# Runs `senda serve` on the database, waits until the overview's reports are warm, then for each
# endpoint runs wrk (1 thread, CONNECTIONS connections, DURATION) and prints its latency
# percentiles (p50/p75/p90/p99) and requests/s:
#   overview page, report API, filtered activity list (first page and a deep page, page and API),
#   one activity (page and API, one of 2,000 identifiers drawn from the database per request).
# Then a MEMORY_SECONDS mixed run over all of them while the server's RSS is sampled every 10 s.
#
# Environment: SENDA_BIN (default target/release/senda), PORT (8188), CONNECTIONS (50),
# DURATION (20s), MEMORY_SECONDS (300).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB="${1:?usage: bench/web.sh DB}"
BIN="${SENDA_BIN:-$REPO/target/release/senda}"
PORT="${PORT:-8188}"
C="${CONNECTIONS:-50}"
D="${DURATION:-20s}"
MEM_S="${MEMORY_SECONDS:-300}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
"$BIN" --db "$DB" serve --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
t0=$(date +%s.%N)
until curl -sf -o /dev/null "$BASE/"; do sleep 0.5; done
t1=$(date +%s.%N)
echo "server up, first overview answered after $(echo "$t1 - $t0" | bc) s (cold reports)"
echo "server RSS after warm-up: $(ps -o rss= -p "$SERVER") KiB"

# A cursor deep in the filtered list: the identifier 90% of the way through the activities
# (identifier order), and 2,000 identifiers drawn at random for the one-activity runs.
read -r DEEP STALE IDS_LUA < <(python3 - "$DB" "$WORK/ids.lua" <<'PY'
import json, random, sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
n = c.execute("SELECT count(*) FROM activity").fetchone()[0]
# The LOE5 + GT list (as the server filters it), and the row 90% of the way through it.
hits = [r[0] for r in c.execute("SELECT a.iati_identifier FROM activity a JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = 'cmms-2021' WHERE a.countries LIKE '%;GT;%' AND (';' || m.lines || ';') LIKE '%;LOE5;%' ORDER BY a.iati_identifier")]
deep = hits[len(hits) * 9 // 10]
# A cursor that is not a row of that list (the row 90% through all activities): the server
# must place it with the keyset query instead of its cached list.
stale = c.execute("SELECT iati_identifier FROM activity ORDER BY iati_identifier LIMIT 1 OFFSET ?", (n * 9 // 10,)).fetchone()[0]
random.seed(42)
ids = [c.execute("SELECT iati_identifier FROM activity WHERE id = ?", (random.randint(1, n),)).fetchone() for _ in range(2000)]
ids = [i[0] for i in ids if i]
with open(sys.argv[2], "w") as f:
    f.write("ids = {" + ",".join(json.dumps(i) for i in ids) + "}\n")
cur = lambda i: json.dumps({"sort_value": "", "iati_identifier": i}, separators=(",", ":")).encode().hex()
print(cur(deep), cur(stale), sys.argv[2])
PY
)

cat > "$WORK/random.lua" <<LUA
dofile("$IDS_LUA")
math.randomseed(42)
local prefix = os.getenv("PREFIX")
request = function()
  return wrk.format("GET", prefix .. ids[math.random(1, #ids)])
end
LUA

run() { # name path [lua] [connections]
  local name="$1" path="$2" lua="${3:-}" conns="${4:-$C}"
  local out
  if [[ -n "$lua" ]]; then
    out=$(PREFIX="$path" wrk -t1 -c"$conns" -d"$D" --latency -s "$lua" "$BASE/")
  else
    out=$(wrk -t1 -c"$conns" -d"$D" --latency "$BASE$path")
  fi
  local p50 p75 p90 p99 rps errs
  p50=$(awk '/^ +50%/{print $2}' <<<"$out"); p75=$(awk '/^ +75%/{print $2}' <<<"$out")
  p90=$(awk '/^ +90%/{print $2}' <<<"$out"); p99=$(awk '/^ +99%/{print $2}' <<<"$out")
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)
  printf '%-34s p50 %-9s p75 %-9s p90 %-9s p99 %-9s %8s req/s %s\n' "$name" "$p50" "$p75" "$p90" "$p99" "$rps" "$errs"
}

# Each endpoint is asked once before it is measured: a report's first computation (cold, once
# per data generation) is timed here and reported apart.
for p in "/api/v1/report?by=line_of_effort,country,fiscal_year" "/activities?line_of_effort=LOE5&country=GT" "/loe/LOE6" "/country/GT"; do
  printf 'cold first request %-55s %s s\n' "$p" "$(curl -s -o /dev/null -w '%{time_total}' "$BASE$p")"
done
echo "wrk -t1 -c$C -d$D, database $DB"
run "overview page /" "/"
run "report API loe,country,fy" "/api/v1/report?by=line_of_effort,country,fiscal_year"
run "list page LOE5+GT, first" "/activities?line_of_effort=LOE5&country=GT"
run "list API LOE5+GT, first" "/api/v1/activities?line_of_effort=LOE5&country=GT&limit=50"
run "list page LOE5+GT, deep (90%)" "/activities?line_of_effort=LOE5&country=GT&cursor=$DEEP"
run "list API LOE5+GT, deep (90%)" "/api/v1/activities?line_of_effort=LOE5&country=GT&limit=50&cursor=$DEEP"
run "list API, cursor off the list" "/api/v1/activities?line_of_effort=LOE5&country=GT&limit=50&cursor=$STALE"
run "one activity page (random)" "/activity/" "$WORK/random.lua"
run "one activity API (random)" "/api/v1/activities/" "$WORK/random.lua"
run "one activity page, 10 clients" "/activity/" "$WORK/random.lua" 10
run "one activity API, 10 clients" "/api/v1/activities/" "$WORK/random.lua" 10

echo "memory over a ${MEM_S}s mixed run (RSS KiB every 10 s):"
cat > "$WORK/mixed.lua" <<LUA
dofile("$IDS_LUA")
math.randomseed(7)
local paths = { "/", "/api/v1/report?by=line_of_effort,country,fiscal_year",
  "/activities?line_of_effort=LOE5&country=GT", "/api/v1/activities?line_of_effort=LOE5&country=GT&limit=50&cursor=$DEEP",
  "/loe/LOE6", "/country/GT" }
request = function()
  local r = math.random(1, 10)
  if r <= 6 then return wrk.format("GET", paths[r]) end
  return wrk.format("GET", "/activity/" .. ids[math.random(1, #ids)])
end
LUA
wrk -t1 -c"$C" -d"${MEM_S}s" --latency -s "$WORK/mixed.lua" "$BASE/" > "$WORK/mixed.out" &
WRK=$!
samples=()
while kill -0 "$WRK" 2>/dev/null; do samples+=("$(ps -o rss= -p "$SERVER" | tr -d ' ')"); sleep 10; done
echo "  ${samples[*]}"
awk '/^ +(50|99)%/{printf "  mixed %s %s\n", $1, $2} /^Requests\/sec/{print "  mixed req/s " $2}' "$WORK/mixed.out"
