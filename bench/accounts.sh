#!/usr/bin/env bash
# Senda accounts benchmark (issue 17): what signing in costs, with wrk (Debian package `wrk`).
#
#   bench/accounts.sh DB       # DB: a senda SQLite database (copied first: the copy gets a
#                              # partner editor, its organisation and an API token)
#
# 1. Read pages and API at CONNECTIONS clients, anonymous and signed in side by side: for each
#    endpoint, REPS pairs of wrk runs, each pair anonymously then as a partner editor (pages
#    with the session cookie, API with a bearer token), so a machine whose speed drifts slows
#    both runs of a pair alike; prints the medians of p50 and p99 of each side, the p99 ratio
#    (signed in / anonymous) of every pair and their median.
# 2. Login: the time of one sign-in (Argon2id verification included), 20 in a row, median and
#    worst; then 20 sign-ins at once, repeated for DURATION, while wrk measures the report API
#    (10 clients): its p50/p99 without and with the logins beside it, and the logins' own
#    times. Verification runs on the blocking pool, at most auth::PARALLEL_HASHES at once, so
#    the other requests should not wait for it.
#
# Environment: SENDA_BIN (default target/release/senda), PORT (8189), CONNECTIONS (50),
# DURATION (10s), REPS (3).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:?usage: bench/accounts.sh DB}"
BIN="${SENDA_BIN:-$REPO/target/release/senda}"
PORT="${PORT:-8189}"
C="${CONNECTIONS:-50}"
D="${DURATION:-10s}"
REPS="${REPS:-3}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

DB="$WORK/bench.db"
cp "$SRC" "$DB"
PW="a benchmark passphrase that is long"
"$BIN" --db "$DB" organisation add --name "Benchmark partner" --country HN 2>/dev/null
ORG=$("$BIN" --db "$DB" organisation list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
printf '%s\n' "$PW" | "$BIN" --db "$DB" user add editor@example.org --role partner_editor --organisation "$ORG" 2>/dev/null
for i in $(seq 1 20); do printf '%s\n' "$PW" | "$BIN" --db "$DB" user add "p$i@example.org" --role viewer 2>/dev/null; done
TOKEN=$("$BIN" --db "$DB" token add --user editor@example.org --name bench --days 2 | grep -o 'senda_[A-Za-z0-9_-]*' | head -1)

"$BIN" --db "$DB" serve --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
until curl -sf -o /dev/null "$BASE/"; do sleep 0.5; done

# One sign-in: the login form's CSRF cookie and field, then the POST; prints the session id.
login() { # email
  local jar="$WORK/jar.$BASHPID" csrf cookie sid
  curl -s -D "$jar.h" -o "$jar.b" "$BASE/login"
  csrf=$(grep -o 'name="csrf" value="[^"]*"' "$jar.b" | head -1 | sed 's/.*value="//; s/"$//')
  cookie=$(grep -io 'senda_login_csrf=[^;]*' "$jar.h" | head -1)
  sid=$(curl -s -D - -o /dev/null -H "Cookie: $cookie" --data-urlencode "email=$1" \
    --data-urlencode "password=$PW" --data-urlencode "csrf=$csrf" "$BASE/login" |
    grep -io 'senda_session=[^;]*' | head -1)
  rm -f "$jar.h" "$jar.b"
  echo "$sid"
}
SESSION=$(login editor@example.org)
[[ -n "$SESSION" ]] || { echo "could not sign in" >&2; exit 1; }

# wrk's latency in milliseconds (it prints us, ms or s).
ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
wrk_run() { # path conns [header]
  if [[ -n "${3:-}" ]]; then wrk -t1 -c"$2" -d"$D" --latency -H "$3" "$BASE$1"; else wrk -t1 -c"$2" -d"$D" --latency "$BASE$1"; fi
}
p() { awk -v q="$1" '$1 == q"%" {print $2}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "database $SRC, wrk -t1 -c$C -d$D, $REPS A/B pairs, signed in as a partner editor (medians)"
printf '%-40s %-22s %-22s %-8s %s\n' "endpoint" "anonymous p50 / p99" "signed in p50 / p99" "median" "p99 ratio of each A/B pair"
for spec in "overview page|/|cookie" "list page LOE5+GT|/activities?line_of_effort=LOE5&country=GT|cookie" \
  "activity list API LOE5+GT|/api/v1/activities?line_of_effort=LOE5&country=GT&limit=50|token" \
  "report API loe,country,fy|/api/v1/report?by=line_of_effort,country,fiscal_year|token" \
  "interventions API|/api/v1/interventions|token"; do
  IFS='|' read -r name path how <<<"$spec"
  if [[ "$how" == cookie ]]; then h="Cookie: $SESSION"; else h="Authorization: Bearer $TOKEN"; fi
  curl -s -o /dev/null "$BASE$path"
  a50s=(); a99s=(); s50s=(); s99s=(); ratios=()
  for rep in $(seq 1 "$REPS"); do
    out=$(wrk_run "$path" "$C")
    grep -q 'Non-2xx' <<<"$out" && { echo "$name anonymous: non-2xx answers" >&2; exit 1; }
    a50s+=("$(ms "$(p 50 <<<"$out")")"); a99=$(ms "$(p 99 <<<"$out")"); a99s+=("$a99")
    out=$(wrk_run "$path" "$C" "$h")
    grep -q 'Non-2xx' <<<"$out" && { echo "$name signed in: non-2xx answers" >&2; exit 1; }
    s50s+=("$(ms "$(p 50 <<<"$out")")"); s99=$(ms "$(p 99 <<<"$out")"); s99s+=("$s99")
    ratios+=("$(awk -v s="$s99" -v a="$a99" 'BEGIN{printf "%.2f", s/a}')")
  done
  printf '%-40s %-22s %-22s %-8s %s\n' "$name" "$(median "${a50s[@]}") / $(median "${a99s[@]}") ms" \
    "$(median "${s50s[@]}") / $(median "${s99s[@]}") ms" "$(median "${ratios[@]}")x" "${ratios[*]}"
done

echo
echo "one sign-in at a time (Argon2id verification included), 20 in a row:"
times=()
for i in $(seq 1 20); do
  t0=$(date +%s%N); s=$(login editor@example.org); t1=$(date +%s%N)
  [[ -n "$s" ]] || { echo "sign-in failed" >&2; exit 1; }
  times+=("$(( (t1 - t0) / 1000000 ))")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "  median %d ms, worst %d ms (each is two requests: the form, then the POST)\n", a[int((NR+1)/2)], a[NR]}'

echo "report API at 10 clients, without and with 20 sign-ins at a time beside it:"
out=$(wrk_run "/api/v1/report?by=line_of_effort,country,fiscal_year" 10)
echo "  alone:        p50 $(ms "$(p 50 <<<"$out")") ms, p99 $(ms "$(p 99 <<<"$out")") ms, $(awk '/^Requests\/sec/{print $2}' <<<"$out") req/s"
export -f login; export BASE PW WORK
(
  end=$(( $(date +%s) + ${D%s} ))
  while (( $(date +%s) < end )); do
    seq 1 20 | xargs -P 20 -I{} bash -c 't0=$(date +%s%N); s=$(login p{}@example.org); t1=$(date +%s%N); [[ -n "$s" ]] && echo $(( (t1 - t0) / 1000000 ))' >> "$WORK/logins.txt"
  done
) &
LOGINS=$!
out=$(wrk_run "/api/v1/report?by=line_of_effort,country,fiscal_year" 10)
wait "$LOGINS"
echo "  with logins:  p50 $(ms "$(p 50 <<<"$out")") ms, p99 $(ms "$(p 99 <<<"$out")") ms, $(awk '/^Requests\/sec/{print $2}' <<<"$out") req/s"
sort -n "$WORK/logins.txt" | awk '{a[NR]=$1} END {printf "  the sign-ins meanwhile: %d done, median %d ms, p90 %d ms, worst %d ms (20 at a time, %s)\n", NR, a[int((NR+1)/2)], a[int(NR*0.9)], a[NR], "'"$D"'"}'
grep -c 'signed in' "$WORK/server.log" | awk '{print "  server log: " $1 " sign-ins"}'
