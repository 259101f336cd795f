#!/bin/sh
# Installs what b2c needs on a Debian host (QEMU, the registry, compressors, kmod) and the npm packages.
set -eu
cd "$(dirname "$0")/.."

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# The host packages b2c uses: QEMU to boot (x86 for amd64, arm for arm64 and armhf,
# misc for riscv64, whose OpenSBI firmware comes with qemu-system-data), docker-registry for the local registry,
# busybox-static for the port forwarder and test images, xz/zstd to compress,
# kmod for depmod, apt/dpkg and the archive keyring to fetch and verify packages,
# fdisk and e2fsprogs for the tests that look at cache disks from the host,
# iproute2 for the tests' network namespace, openssl for their test certificates,
# and what a farm gateway runs for the remote-storage tests: qemu-nbd (qemu-utils), NFS-Ganesha,
# and podman, which fills the gateway's image store (and is the reference the benchmark compares pulls with).
PACKAGES="qemu-system-x86 qemu-system-arm qemu-system-misc docker-registry busybox-static xz-utils zstd kmod apt dpkg debian-archive-keyring ca-certificates fdisk e2fsprogs iproute2 openssl qemu-utils nfs-ganesha nfs-ganesha-vfs podman"

missing=
for package in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $missing
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
