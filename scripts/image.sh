#!/usr/bin/env bash
# Ensures a systemd-capable Debian base image exists locally: usage image.sh SUITE NAME.
# No registry is reachable here, so the image is built with debootstrap and
# imported. Where a registry exists, pass any systemd image by name instead
# (FLASKOPS_IMAGE_BOOKWORM, see README.md) and this script only checks it.
set -euo pipefail
suite=$1
name=$2

if docker image inspect "$name" >/dev/null 2>&1; then exit 0; fi
if docker pull -q "$name" >/dev/null 2>&1; then exit 0; fi

if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The host's own Debian mirror (it may be a proxy or snapshot the network allows).
mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | head -n 1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d "${TMPDIR:-/tmp}/flaskops-rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "image: debootstrap $suite from $mirror into $name"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,procps,ca-certificates \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# What a container never needs at boot, and what would stall it there.
rm -f "$root"/var/cache/apt/archives/*.deb
: >"$root/etc/machine-id"
tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$name" >/dev/null
echo "image: $name ready"
