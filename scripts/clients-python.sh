#!/usr/bin/env bash
# Generated-client check: generates a Python client with openapi-python-client
# from every document under openapi/ (pinned in clients/python/requirements.txt),
# fails on any generator warning or on any operation or schema it left out,
# then starts the real binary on a fresh SQLite file and runs
# clients/python/flow.py, which uses only the generated clients, unmodified.
#
# OPENAPI_DIR (default openapi) and SESSIOND_BIN (default target/debug/sessiond)
# point it at other documents and another binary.
set -euo pipefail
cd "$(dirname "$0")/.."

OPENAPI_DIR="${OPENAPI_DIR:-openapi}"
BIN="${SESSIOND_BIN:-target/debug/sessiond}"
here=clients/python
venv="$here/.venv"
gen="$here/generated"
start=$SECONDS

# The generated clients use typing.Self and enum.StrEnum.
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "FAILED: python3 3.11 or newer is needed, found $(python3 --version)" >&2; exit 1; }

# The venv is rebuilt whenever the pinned requirements change.
if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt" 2>/dev/null; then
  echo "== venv: $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
# The generator runs ruff on its output; ruff must come from the venv.
export PATH="$PWD/$venv/bin:$PATH"
echo "== $(openapi-python-client --version), ruff $(ruff --version | cut -d' ' -f2)"

rm -rf "$gen"
mkdir -p "$gen"
status=0
shopt -s nullglob
docs=("$OPENAPI_DIR"/*.json)
[ ${#docs[@]} -gt 0 ] || { echo "no documents in $OPENAPI_DIR" >&2; exit 1; }
for doc in "${docs[@]}"; do
  name=$(basename "$doc" .json)
  pkg="$gen/${name//-/_}"
  echo "== generate: $doc -> $pkg"
  # It exits 0 even when it drops operations, so any line besides
  # "Generating <dir>" (a warning, an error, a ruff message) fails.
  if ! out=$(openapi-python-client generate --path "$doc" --meta none --output-path "$pkg" --overwrite 2>&1); then
    printf '%s\n' "$out"
    echo "FAILED: openapi-python-client exited non-zero for $doc" >&2
    status=1
    continue
  fi
  extra=$(printf '%s\n' "$out" | grep -v -e '^Generating ' -e '^[[:space:]]*$' || true)
  if [ -n "$extra" ] || printf '%s\n' "$out" | grep -qiE 'warn|error|not in PATH'; then
    printf '%s\n' "$out"
    echo "FAILED: openapi-python-client printed warnings or errors for $doc" >&2
    status=1
  fi
  python "$here/check_generated.py" "$doc" "$pkg" || status=1
done
if [ $status -ne 0 ]; then
  echo "FAILED: the generated clients are incomplete; the flow needs them whole" >&2
  exit $status
fi

[ -x "$BIN" ] || cargo build --quiet --bin sessiond

work=$(mktemp -d)
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="clients-admin-key-$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
base="http://127.0.0.1:$port"

# The flow asserts the defaults (e.g. OAM lifetime): no SESSIOND_* setting
# from the caller's environment reaches the server.
for var in $(compgen -e | grep '^SESSIOND_' || true); do unset "$var"; done
SESSIOND_LISTEN="127.0.0.1:$port" \
SESSIOND_DATABASE_URL="sqlite://$work/x.db?mode=rwc" \
SESSIOND_BOOTSTRAP_ADMIN_KEY="$key" \
SESSIOND_LOG=warn \
  "$BIN" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

ready=0
for _ in $(seq 1 100); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 $server 2>/dev/null || break
  sleep 0.1
done
if [ $ready -ne 1 ]; then
  echo "FAILED: $BIN did not become ready on $base" >&2
  cat "$work/server.log" >&2
  exit 1
fi

echo "== flow: $here/flow.py against $BIN"
if ! SESSIOND_BASE_URL="$base" SESSIOND_ADMIN_KEY="$key" PYTHONPATH="$gen" PYTHONDONTWRITEBYTECODE=1 \
    python "$here/flow.py"; then
  echo "-- server log:" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
echo "== clients-python: ok in $((SECONDS - start))s"
