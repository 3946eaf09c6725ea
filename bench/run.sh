#!/usr/bin/env bash
# The sessiond benchmark, end to end: build, start sessiond on a fresh
# database, seed, measure every ceiling and scenario, write the results, and
# stop everything it started. See bench/README.md.
#
#   bench/run.sh                       full run on SQLite (about 8-10 minutes + build)
#   bench/run.sh --postgres URL        the same on PostgreSQL (URL of any database the
#                                      user may CREATE DATABASE from; also BENCH_DATABASE_URL)
#   bench/run.sh --smoke               every scenario for ~1.5 s at low load; asserts no
#                                      figures, fails only when something is broken
#
# Any other argument goes to `sessiond-bench run`, e.g. `--duration 5`,
# `--scale-sessions 100000`, `--concurrency 16` (`sessiond-bench run --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

smoke=0
pg_url="${BENCH_DATABASE_URL:-}"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --postgres) [ $# -ge 2 ] || { echo "--postgres needs a URL" >&2; exit 2; }; pg_url="$2"; shift ;;
    --postgres=*) pg_url="${1#*=}" ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) extra+=("$1") ;;
  esac
  shift
done

# Smoke runs reuse the debug build CI already has; full runs measure release.
if [ "$smoke" = 1 ]; then profile="${BENCH_PROFILE:-dev}"; else profile="${BENCH_PROFILE:-release}"; fi
case "$profile" in dev) out_dir=debug ;; *) out_dir="$profile" ;; esac
target_dir="${CARGO_TARGET_DIR:-$root/target}"
server_bin="$target_dir/$out_dir/sessiond"
bench_bin="$target_dir/$out_dir/sessiond-bench"
stamp() { stat -c %Y "$server_bin" "$bench_bin" 2>/dev/null || true; }
before=$(stamp)
echo "== build ($profile)" >&2
cargo build --quiet --profile "$profile" -p sessiond --bin sessiond -p sessiond-bench --bin sessiond-bench
# A full run right after compiling would start on cores still busy with the
# build's tail and a high load average: give it up to 90 s to settle.
if [ "$smoke" = 0 ] && [ "$(stamp)" != "$before" ]; then
  echo "== waiting for the build's load to settle" >&2
  for _ in $(seq 1 18); do
    awk '{ exit !($1 < 0.8) }' /proc/loadavg && break
    sleep 5
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sessiond-bench.XXXXXX")
server_pid=""
pg_dbs=()
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  for db in "${pg_dbs[@]}"; do
    "$bench_bin" db-drop --admin-url "$pg_url" --name "$db" || echo "could not drop database $db" >&2
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Random secrets and names: letters and digits only.
random() { LC_ALL=C tr -dc 'a-z0-9' </dev/urandom | head -c "$1" || true; }
admin_key="bench-admin-$(random 40)"

if [ -n "$pg_url" ]; then
  backend=postgres
  name="bench_$(random 12)"
  pg_dbs=("$name" "${name}_store")
  server_db=$("$bench_bin" db-create --admin-url "$pg_url" --name "$name")
  storage_db=$("$bench_bin" db-create --admin-url "$pg_url" --name "${name}_store")
else
  backend=sqlite
  server_db="sqlite://$work/bench.db?mode=rwc"
  storage_db="sqlite://$work/storage.db?mode=rwc"
fi

port=$("$bench_bin" free-port)
SESSIOND_LISTEN="127.0.0.1:$port" \
SESSIOND_DATABASE_URL="$server_db" \
SESSIOND_BOOTSTRAP_ADMIN_KEY="$admin_key" \
SESSIOND_LOG=warn \
SESSIOND_LOCKOUT_THRESHOLD=0 \
  "$server_bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
echo "== sessiond on 127.0.0.1:$port, pid $server_pid ($backend, log in $work/server.log)" >&2

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && ! git diff --quiet HEAD -- . ':!bench/results' ':!bench/RESULTS.md' 2>/dev/null; then
  commit="$commit+changes"
fi
# Smoke and partial (--only) runs keep their results out of bench/results.
partial=0
for arg in "${extra[@]}"; do case "$arg" in --only|--only=*) partial=1 ;; esac; done
if [ "$smoke" = 1 ] || [ "$partial" = 1 ]; then
  out="$work/results.json"
  mode=()
  [ "$smoke" = 1 ] && mode=(--smoke)
else
  mkdir -p bench/results
  out="bench/results/$backend-$(date -u +%Y%m%dT%H%M%SZ).json"
  mode=()
fi

status=0
BENCH_ADMIN_KEY="$admin_key" BENCH_SERVER_DB_URL="$server_db" BENCH_STORAGE_DB_URL="$storage_db" \
  "$bench_bin" run --addr "127.0.0.1:$port" --server-pid "$server_pid" --commit "$commit" \
  --out "$out" "${mode[@]}" "${extra[@]}" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "sessiond exited during the benchmark; its log:" >&2
  tail -n 40 "$work/server.log" >&2
  status=1
elif [ "$status" != 0 ]; then
  echo "== last lines of the server log" >&2
  tail -n 20 "$work/server.log" >&2
fi
if [ "$partial" = 1 ] && [ -f "$out" ]; then
  kept="${TMPDIR:-/tmp}/sessiond-bench-partial-$backend-$(date -u +%Y%m%dT%H%M%SZ).json"
  cp "$out" "$kept" && echo "partial results: $kept" >&2
fi
if [ "$smoke" = 0 ] && [ "$partial" = 0 ] && [ -f "$out" ]; then
  "$bench_bin" report --results bench/results --out bench/RESULTS.md
fi
exit "$status"
