#!/usr/bin/env bash
# TypeScript client check: generates types from the OpenAPI documents with
# openapi-typescript, type-checks the flow in clients/typescript with
# `tsc --strict --noEmit` (no casts allowed), then runs it through
# openapi-fetch against the real binary on a fresh SQLite file.
#
#   SESSIOND_BIN  server binary (default target/debug/sessiond, built if missing)
#   OPENAPI_DIR   folder with the *.json documents (default openapi)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${SESSIOND_BIN:-target/debug/sessiond}"
OPENAPI_DIR="${OPENAPI_DIR:-openapi}"
OPENAPI_DIR="$(cd "$OPENAPI_DIR" && pwd)"
client=clients/typescript
docs=(admin-v1 oam-session-v1 zitadel-session-v2alpha)

echo "== npm ci"
(cd "$client" && npm ci --no-audit --no-fund --loglevel=error)

echo "== openapi-typescript ($OPENAPI_DIR)"
rm -rf "$client/generated" "$client/dist"
mkdir -p "$client/generated"
for doc in "${docs[@]}"; do
  "$client/node_modules/.bin/openapi-typescript" "$OPENAPI_DIR/$doc.json" \
    --output "$client/generated/$doc.d.ts"
done

echo "== no casts"
(cd "$client" && node tools/no-casts.mjs src/*.ts)

echo "== tsc --strict --noEmit"
(cd "$client" && node_modules/.bin/tsc -p tsconfig.json --strict --noEmit)

echo "== tsc (emit)"
(cd "$client" && node_modules/.bin/tsc -p tsconfig.json --strict)

[ -x "$BIN" ] || cargo build --quiet --bin sessiond

work=$(mktemp -d)
port=$(node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
key="ts-admin-key-$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64url"))')"
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
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if ! curl -fsS "$base/readyz" >/dev/null; then
  echo "sessiond did not become ready; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

echo "== flow against $BIN"
status=0
(cd "$client" && SESSIOND_URL="$base" SESSIOND_ADMIN_KEY="$key" node dist/src/flow.js) || status=$?
if [ "$status" -ne 0 ]; then
  echo "server log:" >&2
  cat "$work/server.log" >&2
fi
exit "$status"
