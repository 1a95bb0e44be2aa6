#!/usr/bin/env bash
# Installs the real tools Berth's tests and benchmarks talk to, from Debian's packages:
# skopeo, podman, buildah (clients), docker-registry (the CNCF reference registry),
# debootstrap (a real Debian root filesystem), curl (blob transfers in bench/), zstd, chromium (UI tests),
# rpm + golang-go (scan cataloger fixtures: real rpm databases and a real Go binary).
# postgresql (tests of the PostgreSQL metadata dialect start their own server), shellcheck (lint runs it on RUN),
# radosgw ceph-mon ceph-osd ceph-common (a throwaway Ceph cluster: the S3 engine of the tests and
# bench/, scripts/ceph-rgw.sh), nginx (the load balancer in front of several replicas),
# busybox-static (a tiny static base image for berth build tests), bzip2 + xz-utils (ADD archive fixtures), python3-nacl (an independent NaCl secretbox to check cosign.key files), time (GNU time: peak RSS
# of docker-registry garbage-collect in bench/gc.ts), jq (docs' command blocks),
# qemu-user-static + gcc-aarch64-linux-gnu + libc6-dev-arm64-cross (berth build RUN for linux/arm64: a
# static arm64 test program run through qemu via binfmt_misc).
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=(skopeo podman buildah docker-registry debootstrap curl zstd uidmap fuse-overlayfs busybox-static bzip2 xz-utils
  qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  chromium openssl rpm golang-go postgresql shellcheck python3-nacl time jq
  radosgw ceph-mon ceph-osd ceph-common nginx)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-test-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-test-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The reference registry package starts a system service on install; tests start their own.
# So does nginx (port 80): tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl stop docker-registry 2>/dev/null || true
  $SUDO systemctl stop nginx 2>/dev/null || true
fi
echo "install-test-deps: done"
