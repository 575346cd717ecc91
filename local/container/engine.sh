#!/usr/bin/env bash
# The container engine `sam local invoke` needs, on a machine with no Docker engine: rootful
# podman's Docker-compatible API on a socket of this repo, and the Lambda base image SAM expects.
#   local/container/engine.sh up     start the API (idempotent); prints DOCKER_HOST=...
#   local/container/engine.sh down   stop it
# The base image cannot be pulled here (no registry access), so it is made from this machine's
# own files (busybox, the C library the functions link against, CA certificates) and tagged
# public.ecr.aws/lambda/provided:al2023-x86_64; `sam local invoke --skip-pull-image` then adds
# its runtime interface emulator on top, as it does to the real image. It is not Amazon Linux:
# what runs in it is our binaries under SAM's emulator, with the host's glibc.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
die() { echo "container engine: $*" >&2; exit 1; }

state=.local/run/podman
socket="$root/$state/podman.sock"
export CONTAINERS_CONF="$root/local/container/containers.conf"
base_image=public.ecr.aws/lambda/provided:al2023-x86_64

base_image() {
  podman image exists "$base_image" && return 0
  echo "container engine: making $base_image from this machine's files" >&2
  local rootfs
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs"/{bin,etc/ssl/certs,lib64,lib/x86_64-linux-gnu,tmp,var/task,var/runtime,opt}
  cp /bin/busybox "$rootfs/bin/busybox"
  for tool in sh mv chmod cp rm mkdir cat ls env; do ln -s busybox "$rootfs/bin/$tool"; done
  cp -L /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/"
  for library in libc.so.6 libm.so.6 libgcc_s.so.1 libpthread.so.0 libdl.so.2 librt.so.1; do
    cp -L "/lib/x86_64-linux-gnu/$library" "$rootfs/lib/x86_64-linux-gnu/"
  done
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\n' > "$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c . | podman import --quiet - "$base_image" >/dev/null
  rm -rf "$rootfs"
}

case "${1:-}" in
  up)
    command -v podman >/dev/null && command -v runc >/dev/null \
      || die "podman and runc are not installed: run make install as root (or apt-get install podman runc busybox-static)"
    [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 \
      || die "the base image needs a static /bin/busybox: apt-get install busybox-static"
    mkdir -p "$state"
    if ! curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
      rm -f "$socket"
      setsid podman system service --time=0 "unix://$socket" > "$state/service.log" 2>&1 < /dev/null &
      echo $! > "$state/service.pid"
      for _ in $(seq 100); do
        curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1 && break
        sleep 0.1
      done
      curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1 \
        || { tail -n 20 "$state/service.log" >&2; die "podman's API did not start; its log: $state/service.log"; }
    fi
    base_image
    echo "DOCKER_HOST=unix://$socket"
    ;;
  down)
    pid=$(cat "$state/service.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "system service"; then
      kill "$pid" 2>/dev/null || true
    fi
    rm -f "$state/service.pid" "$socket"
    ;;
  *) die "usage: local/container/engine.sh up|down" ;;
esac
