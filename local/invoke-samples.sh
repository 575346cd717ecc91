#!/usr/bin/env bash
# Every file in events/ through `cargo lambda watch` + `cargo lambda invoke <function> --data-file`,
# the way a user tries a function, against a local stack of its own; each answer is checked
# against tests/sample-events.json (HTTP status, the authorizer's decision, or the number of
# batchItemFailures).
#   local/invoke-samples.sh            (make test runs it; needs make install and a built workspace)
# Before each file, `devstack seed` puts back the data the samples refer to (local/src/samples.rs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.local/venv/bin:$PATH"

name=samples
state=.local/run/$name
die() { echo "invoke-samples: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cargo build --workspace --locked --bins --quiet
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  local/stack.sh down "$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT

local/stack.sh up "$name" >/dev/null
set -a
# shellcheck disable=SC1091
. "$state/stack.env"
set +a

# A receiver for the sample subscription: answers 204 to every POST, counts them in a file.
receiver_port=$(free_port)
: > "$state/received"
python3 local/receiver.py 127.0.0.1 "$receiver_port" "$state/received" > "$state/receiver.log" 2>&1 &
pids+=($!)
receiver="http://127.0.0.1:$receiver_port/webhook"

prefix="$name-"
admin_key=$(target/debug/devstack sample-admin-key)
target/debug/devstack provision --prefix "$prefix" --param "AdminApiKeySecret=$admin_key" \
  --env ALLOW_HTTP_TARGETS=true --env ALLOWED_TARGET_CIDRS=127.0.0.0/8,::1/128 \
  --env-file "$state/functions.env" >/dev/null
cat "$state/stack.env" >> "$state/functions.env"

lambda_port=$(free_port)
setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
  --env-file "$state/functions.env" > "$state/watch.log" 2>&1 < /dev/null &
pids+=($!)

invoke() { # FUNCTION FILE
  cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
    --output-format json --data-file "$2" "$1" 2>>"$state/invoke.log"
}

# cargo lambda watch compiles a function on its first invocation; wait for the first answer.
for i in $(seq 300); do
  invoke resources events/resources/get-health.json >/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -n 20 "$state/watch.log" >&2; die "cargo lambda watch exited"; }
  [ "$i" -lt 300 ] || { tail -n 20 "$state/watch.log" >&2; die "cargo lambda watch did not answer within 300 s"; }
  sleep 1
done

checked=0 failed=0
for file in $(cd events && ls -d */*.json | sort); do
  function=${file%%/*}
  target/debug/devstack seed --prefix "$prefix" --receiver-url "$receiver" >/dev/null
  answer=$(invoke "$function" "events/$file") || { echo "FAIL $file: cargo lambda invoke failed (see $state/invoke.log)"; failed=$((failed + 1)); continue; }
  verdict=$(python3 local/check_sample.py "$file" "$answer")
  echo "$verdict"
  checked=$((checked + 1))
  case $verdict in FAIL*) failed=$((failed + 1)) ;; esac
done
deliveries=$(grep -c . "$state/received" || true)
echo "invoke-samples: $checked files through cargo lambda invoke, $failed failed; the receiver got $deliveries signed POSTs"
[ "$deliveries" -ge 1 ] || die "the deliver sample reached no receiver"
[ "$failed" -eq 0 ] || die "$failed sample events did not answer as tests/sample-events.json expects"
