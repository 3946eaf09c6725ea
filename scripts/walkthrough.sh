#!/usr/bin/env bash
# Runs the README's walkthrough exactly as written: every ```sh block of the
# sections "Walkthrough with curl" and "OAM dialect", in order, in one shell,
# against a fresh server on a fresh SQLite database. The only change is the
# address: the blocks name 127.0.0.1:8080, and the server here listens on a
# free port instead. Any failing command fails the run, so the README cannot
# drift from what the server does.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v jq >/dev/null || (apt-get update -qq && apt-get install -y -qq jq >/dev/null)
cargo build -q --bin sessiond

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for var in $(compgen -e | grep '^SESSIOND_' || true); do unset "$var"; done
export SESSIOND_DATABASE_URL="sqlite://$work/walkthrough.db?mode=rwc"
SESSIOND_LISTEN="127.0.0.1:$port" SESSIOND_LOG=warn target/debug/sessiond serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# The blocks, in README order.
python3 - "$work/blocks.sh" "$port" <<'PY'
import re, sys
readme = open("README.md").read()
out, port = sys.argv[1], sys.argv[2]
blocks = []
for section in ("Walkthrough with curl", "OAM dialect"):
    m = re.search(r"^## " + re.escape(section) + r"\n(.*?)(?=^## )", readme, re.S | re.M)
    if not m:
        sys.exit(f"README has no section {section!r}")
    found = re.findall(r"^```sh\n(.*?)^```", m.group(1), re.S | re.M)
    if not found:
        sys.exit(f"README section {section!r} has no sh block")
    blocks += found
with open(out, "w") as f:
    f.write("set -euo pipefail\n")
    for i, block in enumerate(blocks, 1):
        f.write(f"echo '--- block {i}'\n")
        f.write(block.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
print(f"{len(blocks)} blocks", file=sys.stderr)
PY
if ! bash "$work/blocks.sh"; then
  echo "walkthrough FAILED; server log:" >&2
  tail -n 40 "$work/server.log" >&2
  exit 1
fi
echo "walkthrough: every README block ran"
