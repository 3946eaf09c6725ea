#!/usr/bin/env bash
# Contract check: starts the real binary on a fresh SQLite file and runs
# schemathesis, with all checks, against every document under openapi/.
# Exclusions, each with its reason, are listed in openapi/EXCLUSIONS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_TIME="${CONTRACT_MAX_TIME:-45}"
BIN="${SESSIOND_BIN:-target/debug/sessiond}"

if [ ! -x .venv/bin/schemathesis ] || [ ! -x .venv/bin/openapi-spec-validator ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-contract.txt
fi
[ -x "$BIN" ] || cargo build --quiet --bin sessiond

# Every document must be valid for the OpenAPI version it declares.
for doc in openapi/*.json openapi/*.yaml; do
  .venv/bin/openapi-spec-validator "$doc"
done

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="contract-admin-key-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
base="http://127.0.0.1:$port"

SESSIOND_LISTEN="127.0.0.1:$port" \
SESSIOND_DATABASE_URL="sqlite://$work/contract.db?mode=rwc" \
SESSIOND_BOOTSTRAP_ADMIN_KEY="$key" \
SESSIOND_LOG=warn \
  "$BIN" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null

# A user for checks to find (the examples name it). Fuzzing the admin API
# may delete it, so it is created again before each document.
seed_user() {
  curl -sS -o /dev/null -X POST "$base/admin/v1/users" -H "Authorization: Bearer $key" \
    -H 'content-type: application/json' \
    -d '{"loginName":"alice@example.com","password":"correct horse battery staple","displayName":"Alice"}'
}

status=0
for doc in openapi/*.json; do
  name=$(basename "$doc" .json)
  seed_user
  echo "== schemathesis: $name"
  .venv/bin/schemathesis --no-color run "$base/openapi/$name.json" \
    --url "$base" \
    --checks all \
    --max-time "$MAX_TIME" \
    --generation-deterministic \
    --suppress-health-check all \
    -H "Authorization: Bearer $key" \
    || status=1
done
exit $status
