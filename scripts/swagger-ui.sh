#!/usr/bin/env bash
# Swagger UI check: starts the real binary on a fresh SQLite file, seeds what
# the documents' default examples need, and drives Swagger UI in headless
# Chromium (tests/browser/swagger-ui.test.js): for every document it
# authorizes every offered scheme, executes every operation with its default
# example and parameters, and fails on any 401, any validation 400, any
# operation Swagger UI refuses to send, on OAM calls that do not carry Basic,
# on authorization leaking between documents, and on authorization that does
# not survive a reload.
#
# Needs Node >= 20 and Debian's chromium (installed here when missing).
# SESSIOND_BIN picks the binary (default target/debug/sessiond, built when
# missing); CHROMIUM overrides /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${SESSIOND_BIN:-target/debug/sessiond}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
[ -x "$BIN" ] || cargo build --quiet --bin sessiond

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="swagger-ui-admin-key-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
base="http://127.0.0.1:$port"

SESSIOND_LISTEN="127.0.0.1:$port" \
SESSIOND_DATABASE_URL="sqlite://$work/x.db?mode=rwc" \
SESSIOND_BOOTSTRAP_ADMIN_KEY="$key" \
SESSIOND_LOG=warn \
  "$BIN" serve >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fsS "$base/readyz" >/dev/null; then
  cat "$work/server.log" >&2
  exit 1
fi

# The user the examples name (checks.user.loginName, OAM userId).
curl -fsS -o /dev/null -X POST "$base/admin/v1/users" -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' \
  -d '{"loginName":"alice@example.com","password":"correct horse battery staple","displayName":"Alice"}'

# A key for HTTP Basic (key id as user name, secret as password).
created=$(curl -fsS -X POST "$base/admin/v1/keys" -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' \
  -d '{"name":"swagger-ui-basic","permissions":["session.read","session.write","session.delete"]}')
basic_id=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keyId"])')
basic_secret=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

status=0
SWAGGER_BASE="$base" \
SWAGGER_ADMIN_KEY="$key" \
SWAGGER_BASIC_ID="$basic_id" \
SWAGGER_BASIC_SECRET="$basic_secret" \
  node tests/browser/swagger-ui.test.js || status=$?

if [ "$status" -ne 0 ] && [ -s "$work/server.log" ]; then
  echo "== server log" >&2
  cat "$work/server.log" >&2
fi
exit "$status"
