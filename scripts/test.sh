#!/usr/bin/env bash
# Runs the whole test suite on SQLite, then on PostgreSQL.
#
# PostgreSQL comes from TEST_DATABASE_URL (default: the local server's
# `test` database). Under CI an unreachable PostgreSQL fails the run;
# elsewhere it is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== tests on SQLite"
env -u TEST_DATABASE_URL cargo test --workspace

pg_reachable() {
  python3 - "$PG_URL" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
try:
    socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=3).close()
except OSError:
    sys.exit(1)
PY
}

if pg_reachable; then
  echo "== tests on PostgreSQL"
  TEST_DATABASE_URL="$PG_URL" cargo test --workspace --test api
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL" >&2
  exit 1
else
  echo "!! PostgreSQL not reachable at $PG_URL: PostgreSQL tests skipped (CI fails here)" >&2
fi
