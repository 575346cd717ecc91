#!/usr/bin/env bash
# `make test`: install what is missing, start a stack of our own on free ports, run every check
# and test against it, and stop the stack again, also when something fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.local/venv/bin:$PATH" SAM_CLI_TELEMETRY=0

local/install.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "sam validate --lint"
AWS_DEFAULT_REGION=us-east-1 sam validate --lint --template template.yaml

step "local stack (DynamoDB Local + SQS emulator)"
stack=test
trap 'local/stack.sh down "$stack" >/dev/null 2>&1 || true' EXIT
local/stack.sh up "$stack"
set -a
# shellcheck disable=SC1091
. ".local/run/$stack/stack.env"
set +a

step "cargo test (unit, handler and integration tests)"
cargo test --workspace --locked --no-fail-fast

step "template.yaml expanded by SAM's translator and deployed into moto's CloudFormation"
# localhost, not 127.0.0.1: SAM/boto build S3 bucket URLs that moto misreads with an IP address.
AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL_SQS/127.0.0.1/localhost}" \
  .local/venv/bin/python tests/deploy/deploy_to_emulator.py

step "every events/ file through cargo lambda watch + cargo lambda invoke"
local/invoke-samples.sh

step "every events/ file through sam build + sam local invoke, in a container (podman)"
local/sam-local-invoke.sh
