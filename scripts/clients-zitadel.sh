#!/usr/bin/env bash
# ZITADEL client check: drives ZITADEL's official clients, pinned, against the
# real binary on a fresh SQLite file, each through the same eight-step session
# flow (create, get, set, list with paging, delete, and the error codes for a
# wrong password, an unknown login name and a bad bearer token):
#
#   clients/zitadel-python  zitadel-client (PyPI), Connect JSON, v2 and v2beta
#   clients/zitadel-node    @zitadel/client + @zitadel/proto (gRPC h2c, gRPC-Web
#                           over fetch), @connectrpc/connect-node (Connect
#                           binary, Connect JSON, gRPC-Web) and @zitadel/node
#                           (nice-grpc, gRPC), each on v2 and v2beta; and, in
#                           grpcurl's place, gRPC server reflection (v1 and
#                           v1alpha) with the flow on clients built only from
#                           the descriptors it serves (v2, v2beta, v2alpha)
#
# grpcurl itself is not packaged by Debian 12 (the registries reachable here
# are PyPI, npm, crates.io and Debian's), so it is reported as skipped.
#
#   SESSIOND_BIN  server binary (default target/debug/sessiond, built if missing)
#   ONLY          run only the Node clients whose name contains this (e.g. v2beta)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${SESSIOND_BIN:-target/debug/sessiond}"
py=clients/zitadel-python
node=clients/zitadel-node
venv="$py/.venv"
start=$SECONDS

# ---- pinned clients
if ! cmp -s "$py/requirements.txt" "$venv/requirements.txt" 2>/dev/null; then
  echo "== venv: $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$py/requirements.txt"
  cp "$py/requirements.txt" "$venv/requirements.txt"
fi
echo "== $("$venv/bin/pip" --disable-pip-version-check show zitadel-client | sed -n 's/^Version: /zitadel-client /p')"

echo "== npm ci ($node)"
(cd "$node" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$node" && npm ls --depth=0 --omit=dev | tail -n +2)

grpcurl_bin=$(command -v grpcurl || true)
if [ -z "$grpcurl_bin" ] && [ -n "$(apt-cache policy grpcurl 2>/dev/null | grep -v 'Candidate: (none)' | grep Candidate || true)" ]; then
  echo "== apt-get install grpcurl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq grpcurl >/dev/null
  grpcurl_bin=$(command -v grpcurl || true)
fi

# ---- server
[ -x "$BIN" ] || cargo build --quiet --bin sessiond

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="zitadel-admin-key-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
base="http://127.0.0.1:$port"

# The flows assume the defaults: no SESSIOND_* setting from the caller's
# environment reaches the server.
for var in $(compgen -e | grep '^SESSIOND_' || true); do unset "$var"; done
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

ready=0
for _ in $(seq 1 100); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ $ready -ne 1 ]; then
  echo "FAILED: $BIN did not become ready on $base" >&2
  cat "$work/server.log" >&2
  exit 1
fi

# ---- flows
status=0
failed=()

echo "== flow: zitadel-client (python) against $BIN"
if ! SESSIOND_URL="$base" SESSIOND_ADMIN_KEY="$key" PYTHONDONTWRITEBYTECODE=1 \
    "$venv/bin/python" "$py/flow.py"; then
  status=1; failed+=(zitadel-python)
fi

echo "== flow: node clients against $BIN"
if ! (cd "$node" && SESSIOND_URL="$base" SESSIOND_ADMIN_KEY="$key" ONLY="${ONLY:-}" node flow.mjs); then
  status=1; failed+=(zitadel-node)
fi

if [ -n "$grpcurl_bin" ]; then
  echo "SKIP grpcurl: found $grpcurl_bin, but no grpcurl flow is written yet"
else
  echo "SKIP grpcurl: not on PATH and not packaged by Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
fi

if [ $status -ne 0 ]; then
  echo "-- server log (last 80 lines):" >&2
  tail -n 80 "$work/server.log" >&2
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "== clients-zitadel: ok in $((SECONDS - start))s"
