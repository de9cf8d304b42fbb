#!/usr/bin/env bash
# The controller's own tools the test bed needs beyond Python: the OpenSSH
# client (the cluster scenario and make bench reach their hosts over SSH, as
# users do). Installs what is missing from the distribution (Debian/Ubuntu, as root).
set -euo pipefail
missing=()
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "host_tools: install ${missing[*]} (needed by the SSH scenario and make bench)" >&2
  exit 1
fi
echo "host_tools: installing ${missing[*]} from the distribution"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
