#!/usr/bin/env bash
# The long runs, each through a local stack of its own, too slow for `make test`:
# - `make soak` (local/long-run.sh soak): 10,000 events × 10 subscriptions = 100,000 deliveries
#   (bench/src/soak.rs), progress every 10 s, results in bench/results/soak.json; fails when a
#   delivery is lost. About 5-8 minutes on 2 cores. SOAK_EVENTS=N sends N events instead.
# - `make chaos` (local/long-run.sh chaos): faults injected while events flow (bench/src/chaos):
#   deliver killed mid-batch, receivers failing (500, timeout, reset, 410), the SQS emulator
#   frozen 10 s, DynamoDB Local stopped 10 s and started again on its data directory; each ends
#   with every delivery made or dead-lettered, then redriven. Results in bench/results/chaos.json;
#   fails when a delivery is lost. About 5 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

name=${1:-}
case "$name" in
  soak) args=(--events "${SOAK_EVENTS:-10000}") ;;
  chaos) args=() ;;
  *) echo "usage: local/long-run.sh soak|chaos" >&2; exit 2 ;;
esac
state=.local/run/$name
step() { printf '[%s] %-6s %s\n' "$name" "$1" "$2"; }

local/install.sh >/dev/null
mkdir -p "$state"
step build "cargo build --release -p bench (log: $state/cargo-build.log)"
cargo build --release --locked -p bench > "$state/cargo-build.log" 2>&1 || { tail -n 30 "$state/cargo-build.log" >&2; exit 1; }

trap 'local/stack.sh down "$name" >/dev/null 2>&1 || true' EXIT
local/stack.sh down "$name" >/dev/null 2>&1 || true
if [ "$name" = chaos ]; then
  # DynamoDB Local keeps its data on disk, so that a restart loses nothing (as DynamoDB never does).
  rm -rf "$state/dynamodb-data"
  export DYNAMODB_DATA_DIR="$root/$state/dynamodb-data"
fi
local/stack.sh up "$name" >/dev/null
set -a
# shellcheck disable=SC1091
. "$state/stack.env"
set +a
step run "bench $name (stack state: $state)"
target/release/bench "$name" --stack-state "$state" --out "bench/results/$name.json" "${args[@]}"
