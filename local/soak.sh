#!/usr/bin/env bash
# `make soak`: 10,000 events × 10 subscriptions = 100,000 deliveries through a local stack of its
# own (bench/src/soak.rs), progress every 10 s, results in bench/results/soak.json; fails when a
# delivery is lost. About 5-8 minutes on 2 cores. SOAK_EVENTS=N sends N events instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

name=soak
state=.local/run/$name
step() { printf '[soak] %-6s %s\n' "$1" "$2"; }

local/install.sh >/dev/null
mkdir -p "$state"
step build "cargo build --release -p bench (log: $state/cargo-build.log)"
cargo build --release --locked -p bench > "$state/cargo-build.log" 2>&1 || { tail -n 30 "$state/cargo-build.log" >&2; exit 1; }

trap 'local/stack.sh down "$name" >/dev/null 2>&1 || true' EXIT
local/stack.sh up "$name" >/dev/null
set -a
# shellcheck disable=SC1091
. "$state/stack.env"
set +a
step run "bench soak (stack state: $state)"
target/release/bench soak --stack-state "$state" --out bench/results/soak.json --events "${SOAK_EVENTS:-10000}"
