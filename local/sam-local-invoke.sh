#!/usr/bin/env bash
# Sample events through `sam build` + `sam local invoke` in a container, the way a user tries a
# function with SAM, against emulators on this machine; each answer is checked against
# tests/sample-events.json (local/check_sample.py, as local/invoke-samples.sh does).
#   local/sam-local-invoke.sh                        one succeeding file per function (make test)
#   SAM_LOCAL_INVOKE=all local/sam-local-invoke.sh  every file in events/ (about 10 s each)
# (needs make install, run as root). make test's cargo lambda step answers every file already;
# here what differs is the container, the env-vars file and SAM CLI, which are per function.
# The container engine is rootful podman behind its Docker-compatible API, with a base image made
# from this machine's files (local/container/engine.sh): SAM CLI, its runtime interface emulator
# and our binaries run for real; the image is not Amazon Linux. The functions reach the emulators
# and the sample receiver at host.docker.internal, mapped to podman's bridge gateway (--add-host),
# with the variables of a `devstack sam-env` file, as events/env.json gives them for `make dev`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.local/venv/bin:$PATH" SAM_CLI_TELEMETRY=0

name=samlocal
state=.local/run/$name
die() { echo "sam-local-invoke: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  local/stack.sh down "$name" >/dev/null 2>&1 || true
  local/container/engine.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

engine=$(local/container/engine.sh up | tail -n 1)
export "${engine?}" CONTAINERS_CONF="$root/local/container/containers.conf"
gateway=$(podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}')
[ -n "$gateway" ] || die "podman's default network has no gateway address"

STACK_HOST=0.0.0.0 local/stack.sh up "$name" >/dev/null
set -a
# shellcheck disable=SC1091
. "$state/stack.env"
set +a

# A receiver for the sample subscription, on every interface: answers 204, counts the POSTs.
receiver_port=$(free_port)
: > "$state/received"
python3 local/receiver.py 0.0.0.0 "$receiver_port" "$state/received" > "$state/receiver.log" 2>&1 &
pids+=($!)
receiver="http://host.docker.internal:$receiver_port/webhook"

prefix="$name-"
admin_key=$(target/debug/devstack sample-admin-key)
target/debug/devstack sam-env --prefix "$prefix" --param "AdminApiKeySecret=$admin_key" \
  --container-host host.docker.internal \
  --env ALLOW_HTTP_TARGETS=true --env "ALLOWED_TARGET_CIDRS=127.0.0.0/8,::1/128,$gateway/32" \
  --out "$state/env.json" >/dev/null

# The committed events/env.json (for make dev) must declare what this one does, function by function.
python3 - "$state/env.json" events/env.json <<'PY' || die "events/env.json is stale: run make dev (it rewrites the file) and commit it"
import json, sys
here, committed = (json.load(open(p)) for p in sys.argv[1:3])
shape = lambda f: {k: sorted(v) for k, v in f.items()}
if shape(here) != shape(committed):
    print(f"events/env.json declares {shape(committed)}\n      the template needs {shape(here)}", file=sys.stderr)
    sys.exit(1)
PY

# Debug binaries without debug info (SAM_BUILD_MODE=debug): the same code, minutes faster to
# build than release + LTO (measured: 2m40s for all five from nothing, on 2 cores).
build="$state/build"
echo "sam-local-invoke: sam build (debug, x86_64) into $build"
CARGO_PROFILE_DEV_DEBUG=0 SAM_BUILD_MODE=debug sam build --parameter-overrides Architecture=x86_64 --build-dir "$build" \
  > "$state/build.log" 2>&1 || { tail -n 30 "$state/build.log" >&2; die "sam build failed; log: $state/build.log"; }

# events/<binary>/ -> the function's logical id, from the template.
declare -A logical_ids
while read -r binary logical_id; do logical_ids[$binary]=$logical_id; done < <(
  python3 - <<'PY'
from samcli.yamlhelper import yaml_parse
template = yaml_parse(open("template.yaml").read())
for logical_id, resource in template["Resources"].items():
    if resource["Type"] == "AWS::Serverless::Function":
        print(resource["Metadata"]["BuildProperties"]["Binary"], logical_id)
PY
)

checked=0 failed=0
: > "$state/invoke.log"
# Every file, or per function the first (by name) that tests/sample-events.json expects to succeed.
files=$(SAM_LOCAL_INVOKE=${SAM_LOCAL_INVOKE:-} python3 - <<'PY'
import json, os, pathlib
expected = json.load(open("tests/sample-events.json"))
files = sorted(str(p.relative_to("events")) for p in pathlib.Path("events").glob("*/*.json"))
def succeeds(e):
    return e.get("authorized") is True or e.get("failures") == 0 or "answer" in e \
        or 200 <= e.get("status", 0) < 300
chosen = {}
for f in files:
    if os.environ["SAM_LOCAL_INVOKE"] == "all" or (f.split("/")[0] not in chosen and succeeds(expected.get(f, {}))):
        chosen.setdefault(f.split("/")[0], []).append(f)
print("\n".join(f for fs in chosen.values() for f in fs))
PY
)
for file in $files; do
  function=${file%%/*}
  logical_id=${logical_ids[$function]:-}
  [ -n "$logical_id" ] || { echo "FAIL $file: no function builds the binary $function"; failed=$((failed + 1)); continue; }
  target/debug/devstack seed --prefix "$prefix" --receiver-url "$receiver" >/dev/null
  # stdout is the function's answer; SAM's and the function's logs go to stderr.
  answer=$(sam local invoke "$logical_id" --template "$build/template.yaml" --event "events/$file" \
    --env-vars "$state/env.json" --parameter-overrides Architecture=x86_64 --region us-east-1 \
    --skip-pull-image --add-host "host.docker.internal:$gateway" 2>>"$state/invoke.log") \
    || { echo "FAIL $file: sam local invoke failed (see $state/invoke.log)"; failed=$((failed + 1)); continue; }
  verdict=$(python3 local/check_sample.py "$file" "$(printf '%s' "$answer" | tail -n 1)")
  echo "$verdict"
  checked=$((checked + 1))
  case $verdict in FAIL*) failed=$((failed + 1)) ;; esac
done
deliveries=$(grep -c . "$state/received" || true)
echo "sam-local-invoke: $checked files through sam local invoke, $failed failed; the receiver got $deliveries signed POSTs"
[ "$deliveries" -ge 1 ] || die "the deliver sample reached no receiver"
[ "$failed" -eq 0 ] || die "$failed sample events did not answer as tests/sample-events.json expects"
