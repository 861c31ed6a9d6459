#!/usr/bin/env bash
# Every test of Senda: the Rust tests (unit, integration, real data, OpenAPI snapshot), then
# the browser tests (Playwright from npm driving Debian's chromium; screenshots in
# target/e2e-screenshots/). The Rust tests run beside a throw-away PostgreSQL server
# (scripts/with-postgres.sh; without PostgreSQL installed its tests are skipped, and say so,
# except on CI, where CI=true makes that an error).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/with-postgres.sh cargo test --workspace

# The browser tests serve the debug binary (already built by the tests above).
cargo build -p senda
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update && apt-get install -y --no-install-recommends chromium
  else
    echo "error: the browser tests need Debian's chromium: sudo apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)" >&2
    exit 1
  fi
fi
(cd e2e && npm ci --no-audit --no-fund && npm test)
