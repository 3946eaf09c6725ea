#!/usr/bin/env bash
# Memory soak: sessiond on a fresh SQLite file under mixed writes (half
# creates with metadata, half token rotations with new metadata) for 10
# minutes at concurrency 32, reading the server's RSS every 30 s. Prints the
# curve and writes it to bench/results/soak-<date>.csv.
#
#   bench/soak.sh                      600 s, a reading every 30 s (release build)
#   bench/soak.sh --duration 60 --interval 10
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
profile="${BENCH_PROFILE:-release}"
case "$profile" in dev) out_dir=debug ;; *) out_dir="$profile" ;; esac
target_dir="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --profile "$profile" -p sessiond --bin sessiond -p sessiond-bench --bin sessiond-bench

work=$(mktemp -d "${TMPDIR:-/tmp}/sessiond-soak.XXXXXX")
port=$("$target_dir/$out_dir/sessiond-bench" free-port)
key="soak-admin-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
SESSIOND_LISTEN="127.0.0.1:$port" \
SESSIOND_DATABASE_URL="sqlite://$work/soak.db?mode=rwc" \
SESSIOND_BOOTSTRAP_ADMIN_KEY="$key" \
SESSIOND_LOG=warn \
  "$target_dir/$out_dir/sessiond" serve >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

mkdir -p bench/results
out="bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ).csv"
echo "== soak: pid $server_pid, writing $out" >&2
BENCH_ADMIN_KEY="$key" "$target_dir/$out_dir/sessiond-bench" soak \
  --addr "127.0.0.1:$port" --server-pid "$server_pid" --out "$out" "$@"
cat "$out"
