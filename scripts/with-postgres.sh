#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
#
# Runs COMMAND beside a throw-away PostgreSQL server: initdb in a temporary folder, a superuser
# `senda` with a password made for this run, a free TCP port on 127.0.0.1, and
#   SENDA_TEST_POSTGRES_URL=postgres://senda:PASSWORD@127.0.0.1:PORT/postgres
# exported for COMMAND (the tests create a fresh database per test from it). Afterwards, whatever
# happened (COMMAND failed, Ctrl-C, SIGTERM), the server is stopped and the folder deleted; the
# exit status is COMMAND's (128+N when the script is stopped by signal N).
#
# The server binaries come from `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin
# (Debian puts initdb there, not on PATH), else PATH. As root, the server runs as the
# unprivileged `postgres` user (Debian's postgresql package creates it; PostgreSQL refuses to
# run as root). It does not use, need or touch a cluster the package may have started.
#
# Without PostgreSQL: with CI=true this is an error; otherwise one line on stderr says the
# PostgreSQL tests will be skipped and why, and COMMAND runs without SENDA_TEST_POSTGRES_URL.
set -uo pipefail

me=with-postgres
# A throw-away server needs no crash safety: fsync and its kin are off, which makes the tests
# faster. SENDA_PG_DURABLE=1 keeps PostgreSQL's defaults (benchmarks: bench/backends.sh).
if [ "${SENDA_PG_DURABLE:-}" = 1 ]; then
  durability=""
else
  durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
# More server settings, e.g. SENDA_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements".
durability="$durability ${SENDA_PG_OPTIONS:-}"
if [ $# -eq 0 ]; then
  echo "usage: scripts/with-postgres.sh COMMAND [ARGS...]" >&2
  exit 2
fi

# No PostgreSQL to run: an error on CI, a skip (said once) elsewhere.
unavailable() {
  local why=$1
  shift
  if [ "${CI:-}" = true ]; then
    echo "error: $me: $why; CI needs a PostgreSQL server for the tests (apt-get install -y postgresql)" >&2
    exit 1
  fi
  echo "$me: $why; the PostgreSQL tests will be skipped (install Debian's postgresql package to run them)" >&2
  unset SENDA_TEST_POSTGRES_URL
  exec "$@"
}

# A folder with the server programs (initdb, pg_ctl, postgres).
has_server() { [ -n "$1" ] && [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]; }
bindir=
if command -v pg_config >/dev/null 2>&1; then
  # With only libpq-dev installed this names /usr/bin, which has no server: checked below.
  d=$(pg_config --bindir 2>/dev/null) && has_server "$d" && bindir=$d
fi
if [ -z "$bindir" ]; then
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  has_server "$d" && bindir=$d
fi
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
  d=$(dirname "$(command -v initdb)")
  has_server "$d" && bindir=$d
fi
if [ -z "$bindir" ]; then
  unavailable "PostgreSQL server programs (initdb, pg_ctl, postgres) not found (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH)" "$@"
fi

# Who runs the server: PostgreSQL refuses root.
if [ "$(id -u)" = 0 ]; then
  if ! id -u postgres >/dev/null 2>&1; then
    unavailable "running as root, and there is no unprivileged 'postgres' user to run the server as" "$@"
  fi
  if command -v runuser >/dev/null 2>&1; then
    as_pg() { (cd / && runuser -u postgres -- "$@"); }
  else
    as_pg() { (cd / && setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"); }
  fi
  # Under /tmp unless TMPDIR says otherwise: the postgres user must be able to reach the folder.
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/senda-pg.XXXXXX") || exit 1
  chown postgres: "$tmp" || { rm -rf "$tmp"; exit 1; }
  if ! as_pg test -w "$tmp"; then
    rm -rf "$tmp"
    echo "error: $me: the postgres user cannot write to $tmp (set TMPDIR to a folder it can reach)" >&2
    exit 1
  fi
else
  as_pg() { "$@"; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/senda-pg.XXXXXX") || exit 1
fi
chmod 700 "$tmp"
data=$tmp/data
log=$tmp/server.log
child=

# Stops the server (if it was started) and deletes the folder; safe to call twice.
cleanup() {
  [ -n "$tmp" ] || return 0
  if [ -f "$data/postmaster.pid" ]; then
    if ! as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      echo "$me: the PostgreSQL server had stopped before the command ended; the end of its log:" >&2
      tail -n 20 "$log" >&2 2>/dev/null
    # Immediate: nothing of this server is kept, no need for a shutdown checkpoint.
    elif ! as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1; then
      pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -rf "$tmp"
  tmp=
}
trap cleanup EXIT

# On a signal: pass it on to COMMAND, wait for it, clean up, then die of the same signal (so
# that a calling shell sees the interruption).
on_signal() {
  trap '' INT TERM HUP
  if [ -n "$child" ]; then
    kill -s "$1" "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  cleanup
  trap - "$1" EXIT
  kill -s "$1" $$
  exit 1
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# A free port, chosen by the kernel (python3, else perl, which postgresql-common needs anyway).
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  elif command -v perl >/dev/null 2>&1; then
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport, "\n"'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

# The password: random, hex (safe in a URL as is), given to initdb in a file only it reads.
password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
pwfile=$tmp/pwfile
(umask 077 && printf '%s\n' "$password" >"$pwfile")
[ "$(id -u)" = 0 ] && chown postgres: "$pwfile"

# C.UTF-8: byte order like SQLite's BINARY, Unicode character classes; plain C where the
# system has no C.UTF-8 locale.
pg_locale=C
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
  pg_locale=C.UTF-8
fi
if ! as_pg "$bindir/initdb" -D "$data" -U senda --pwfile="$pwfile" --auth-local=trust \
  --auth-host=scram-sha-256 --encoding=UTF8 --locale="$pg_locale" --no-sync >"$tmp/initdb.log" 2>&1; then
  echo "error: $me: initdb failed; the end of its output:" >&2
  tail -n 20 "$tmp/initdb.log" >&2
  exit 1
fi
rm -f "$pwfile"
mkdir -p "$tmp/socket"
[ "$(id -u)" = 0 ] && chown postgres: "$tmp/socket"

# TLS: a certificate made for this run (CN localhost, for localhost and 127.0.0.1), so that
# the tests connect with sslmode=require and verify-full too; SENDA_TEST_POSTGRES_CA names it.
# Without the openssl program the server has no TLS (on CI that is an error).
tls=
if command -v openssl >/dev/null 2>&1; then
  mkdir -p "$tmp/tls"
  # A certificate authority of this run, and the server's certificate it signs.
  t=$tmp/tls
  if openssl req -new -x509 -days 2 -nodes -newkey rsa:2048 -subj "/CN=senda-test-ca" \
      -keyout "$t/ca.key" -out "$t/ca.crt" >"$t/openssl.log" 2>&1 &&
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=localhost" \
      -keyout "$t/server.key" -out "$t/server.csr" >>"$t/openssl.log" 2>&1 &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$t/ext.cnf" &&
    openssl x509 -req -days 2 -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
      -extfile "$t/ext.cnf" -out "$t/server.crt" >>"$t/openssl.log" 2>&1; then
    chmod 600 "$tmp/tls/server.key"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$tmp/tls"
    tls="-c ssl=on -c ssl_cert_file=$tmp/tls/server.crt -c ssl_key_file=$tmp/tls/server.key"
    export SENDA_TEST_POSTGRES_CA="$tmp/tls/ca.crt"
  fi
fi
if [ -z "$tls" ] && [ "${CI:-}" = true ]; then
  echo "error: $me: no TLS certificate for the test server (apt-get install -y openssl); CI tests TLS" >&2
  exit 1
fi

# fsync, synchronous_commit and full_page_writes off: this server's data is thrown away at the
# end, so durability against a crash is worth nothing and costs time. Max_connections 200: the
# tests run in parallel, each with its own pool.
started=
for attempt in 1 2 3; do
  port=$(free_port)
  if as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port -k $tmp/socket -c listen_addresses=127.0.0.1 $durability $tls -c max_connections=200" start >/dev/null 2>&1; then
    started=1
    break
  fi
  # Another program took the port between the choice and the start: choose again.
  grep -q 'could not bind\|Address already in use' "$log" 2>/dev/null || break
done
if [ -z "$started" ]; then
  echo "error: $me: the PostgreSQL server did not start; the end of its log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi

export SENDA_TEST_POSTGRES_URL="postgres://senda:$password@127.0.0.1:$port/postgres"
echo "$me: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throw-away, in $tmp)" >&2

# COMMAND runs in the background so that a signal to this script is handled at once (a shell
# waiting for a foreground command runs its traps only after the command ends). Asynchronous
# commands of a script ignore Ctrl-C unless told otherwise (the trap - below), and read
# /dev/null unless stdin is given explicitly (<&0).
(trap - INT QUIT; exec "$@") <&0 &
child=$!
wait "$child"
status=$?
child=
exit "$status"
