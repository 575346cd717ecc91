#!/usr/bin/env bash
# `make dev`: the whole platform on this machine, no Docker, no AWS account.
#   DynamoDB Local + SQS emulator  (local/stack.sh, stack "dev")
#   tables and queues              created from template.yaml (prefix dev-)
#   every function                 cargo lambda watch (hot reload), Lambda Invoke API on LAMBDA_PORT
#   event source mappings + API    devstack serve: stream -> fanout, queue -> deliver, and one
#                                  HTTP API on API_PORT routed like API Gateway
# Ctrl-C stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.local/venv/bin:$PATH"

API_PORT=${API_PORT:-3000}
LAMBDA_PORT=${LAMBDA_PORT:-9000}
# Fixed emulator ports, so that events/env.json (sam local invoke --env-vars) stays true.
export DYNAMODB_PORT=${DYNAMODB_PORT:-8042} SQS_PORT=${SQS_PORT:-8043}
state=.local/run/dev

die() { echo "dev: $*" >&2; exit 1; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
port_free "$API_PORT" || die "port $API_PORT (API_PORT) is taken: stop what uses it, or run API_PORT=3001 make dev"
port_free "$LAMBDA_PORT" || die "port $LAMBDA_PORT (LAMBDA_PORT) is taken: stop what uses it, or run LAMBDA_PORT=9001 make dev"

local/install.sh
echo "dev: building the workspace"
cargo build --workspace --locked --bins

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "dev: stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  local/stack.sh down dev
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

local/stack.sh up dev
set -a
# shellcheck disable=SC1091
. "$state/stack.env"
set +a

# The admin key the sample events in events/ carry (public: local development only).
admin_key=$(target/debug/devstack sample-admin-key)

# Local development may deliver to receivers on this machine, and nowhere else non-public.
target/debug/devstack provision --prefix dev- --param "AdminApiKeySecret=$admin_key" \
  --env ALLOW_HTTP_TARGETS=true --env ALLOWED_TARGET_CIDRS=127.0.0.0/8,::1/128 \
  --env-file "$state/functions.env" >/dev/null
# The functions reach the emulators through the same AWS_* variables.
cat "$state/stack.env" >> "$state/functions.env"
# The same stack as `sam local invoke --env-vars events/env.json` sees it from a container, where
# the host is host.docker.internal (and webhooks to the host's private addresses are allowed).
target/debug/devstack sam-env --prefix dev- --param "AdminApiKeySecret=$admin_key" \
  --container-host host.docker.internal --env ALLOW_HTTP_TARGETS=true \
  --env ALLOWED_TARGET_CIDRS=127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16 \
  --out events/env.json >/dev/null
# The account, user, photo, subscription and event the sample events in events/ refer to.
target/debug/devstack seed --prefix dev- --receiver-url "${SAMPLE_RECEIVER_URL:-http://127.0.0.1:8080/webhook}"

setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" --concurrency 4 \
  --env-file "$state/functions.env" > "$state/watch.log" 2>&1 < /dev/null &
pids+=($!)
# SAMPLE_EVENTS=on make dev: the sample event generator's schedule runs (once a minute), as the
# template's SampleEvents parameter turns it on when deployed.
setsid target/debug/devstack serve --prefix dev- --param "SampleEvents=${SAMPLE_EVENTS:-off}" \
  --invoke-url "http://127.0.0.1:$LAMBDA_PORT" --port "$API_PORT" > "$state/devstack.log" 2>&1 < /dev/null &
pids+=($!)

base="http://127.0.0.1:$API_PORT"
for i in $(seq 1200); do
  curl -sf -o /dev/null "$base/api/v1/health" && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "a process exited during start-up; logs: $root/$state/watch.log, $root/$state/devstack.log"
  done
  [ "$i" -lt 1200 ] || die "the API did not answer within 120 s; logs: $root/$state/watch.log, $root/$state/devstack.log"
  sleep 0.1
done

account=$(curl -sf -X POST "$base/api/v1/accounts" -H "Authorization: Bearer $admin_key" \
  -H 'Content-Type: application/json' -d '{"name":"dev"}') || die "could not create the first account; logs: $state/watch.log"
api_key=$(printf '%s' "$account" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')

cat <<BANNER

  rusthook is running locally.

  API base URL   $base
  admin key      $admin_key      (fixed and public: the samples' key, local only; admin routes)
  API key        $api_key      (account "dev")

  Try it:
    export API=$base KEY=$api_key
    curl -s \$API/api/v1/health
    curl -s -X POST \$API/api/v1/subscriptions -H "Authorization: Bearer \$KEY" -H 'Content-Type: application/json' \\
      -d '{"url":"http://127.0.0.1:8080/hooks","event_types":["user.*","photo.liked"]}'
    curl -s -X POST \$API/api/v1/users -H "Authorization: Bearer \$KEY" -H 'Content-Type: application/json' \\
      -d '{"username":"adam12","password":"abc123"}'
    curl -s -X POST \$API/api/v1/photos/p1/likes -H "Authorization: Bearer \$KEY"
    curl -s \$API/api/v1/events -H "Authorization: Bearer \$KEY"

  functions      cargo lambda watch on http://127.0.0.1:$LAMBDA_PORT (hot reload); try one with a sample event:
                   cargo lambda invoke -A 127.0.0.1 -P $LAMBDA_PORT --data-file events/resources/get-users.json resources
                 (the samples use the seeded account "samples"; its subscription posts to
                  ${SAMPLE_RECEIVER_URL:-http://127.0.0.1:8080/webhook})
  sam local      sam build --parameter-overrides Architecture=x86_64, then for example
                   sam local invoke ResourcesFunction -e events/resources/get-users.json --env-vars events/env.json \\
                     --parameter-overrides Architecture=x86_64
                 (events/env.json reaches these emulators at host.docker.internal; README "sam local invoke")
  logs           $state/watch.log (functions), $state/devstack.log (gateway + event source mappings)
  emulators      $(grep -E 'DYNAMODB=|SQS=' "$state/stack.env" | tr '\n' ' ')

  Ctrl-C stops everything.
BANNER

wait -n "${pids[@]}" || true
die "a process stopped unexpectedly; logs: $state/watch.log, $state/devstack.log"
