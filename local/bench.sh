#!/usr/bin/env bash
# `make bench`: build what is deployed (sam build, x86_64 here), build the bench in release, start
# a local stack of its own, run every phase (bench/src/), write bench/results/latest.{json,md},
# and put latest.md into the README between its bench markers. Stops everything it started.
#   make bench                      every phase
#   BENCH_ONLY=core,fanout make bench   some phases (core, fanout, e2e, footprint), into bench/results/tmp
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.local/venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

name=bench
state=.local/run/$name
step() { printf '[bench] %-10s %s\n' "$1" "$2"; }

local/install.sh >/dev/null
mkdir -p "$state" bench/results/tmp

cold=false
[ -d target/lambda ] || cold=true
build_command="sam build --parameter-overrides Architecture=x86_64"
step build "$build_command (log: $state/sam-build.log)"
started=$(date +%s.%N)
$build_command > "$state/sam-build.log" 2>&1 || { tail -n 30 "$state/sam-build.log" >&2; exit 1; }
seconds=$(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))")
printf '{"command": "%s", "seconds": %s, "cold": %s}\n' "$build_command" "$seconds" "$cold" > bench/results/tmp/build.json
step build "sam build: $seconds s"

step build "cargo build --release -p bench (log: $state/cargo-build.log)"
cargo build --release --locked -p bench > "$state/cargo-build.log" 2>&1 || { tail -n 30 "$state/cargo-build.log" >&2; exit 1; }

trap 'local/stack.sh down "$name" >/dev/null 2>&1 || true' EXIT
local/stack.sh up "$name" >/dev/null
set -a
# shellcheck disable=SC1091
. "$state/stack.env"
set +a

args=(run --stack-state "$state" --binaries .aws-sam/build --build-info bench/results/tmp/build.json)
if [ -n "${BENCH_ONLY:-}" ]; then
  # Some phases only: results go to bench/results/tmp, the README keeps the last full run's.
  target/release/bench "${args[@]}" --out bench/results/tmp --only "$BENCH_ONLY"
  exit 0
fi
target/release/bench "${args[@]}" --out bench/results

# The README shows latest.md between its markers, so every figure there comes from bench/results.
python3 - <<'PY'
import re
readme = open("README.md").read()
table = open("bench/results/latest.md").read().strip()
begin, end = "<!-- bench:begin (make bench writes this) -->", "<!-- bench:end -->"
if begin not in readme or end not in readme:
    raise SystemExit("README.md has no bench markers")
head, rest = readme.split(begin, 1)
_, tail = rest.split(end, 1)
open("README.md", "w").write(f"{head}{begin}\n{table}\n{end}{tail}")
PY
step done "README.md updated from bench/results/latest.md"
