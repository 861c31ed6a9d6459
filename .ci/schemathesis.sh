#!/usr/bin/env bash
# Issue 20, item 7: the OpenAPI document says what the server does. Serves a small demo
# database with the debug binary, then runs schemathesis (from PyPI, in a venv) with every
# check on and a bounded number of examples against /api/v1/openapi.json. Fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet schemathesis
cargo build -p senda
bin=${CARGO_TARGET_DIR:-target}/debug/senda
"$bin" --db "$work/demo.db" demo --no-serve --activities 60 >/dev/null
port=$((20000 + RANDOM % 20000))
token=schemathesis-token-0123456789
SENDA_API_TOKEN=$token "$bin" --db "$work/demo.db" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  grep -q "is serving" "$work/serve.log" && break
  sleep 0.2
done
"$work/venv/bin/schemathesis" --config-file .ci/schemathesis.toml run \
  "http://127.0.0.1:$port/api/v1/openapi.json" --url "http://127.0.0.1:$port/api/v1" \
  --checks all --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" --seed 20 \
  -H "Authorization: Bearer $token" --no-color
