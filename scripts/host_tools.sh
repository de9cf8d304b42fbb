#!/usr/bin/env bash
# The controller's own tools the test bed needs beyond Python: the OpenSSH
# client (the cluster scenario and make bench reach their hosts over SSH, as
# users do), and promtool (make lint checks and tests the monitoring role's
# alert rules with it: Debian's prometheus package, unpacked into the test
# bed's tools directory rather than installed, so no Prometheus runs here).
# Installs what is missing from the distribution (Debian/Ubuntu, as root).
set -euo pipefail
tools=${FLASKOPS_CACHE_DIR:-/var/cache/flaskops-test}/tools
missing=()
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
need_promtool=false
[ -x "$tools/bin/promtool" ] || need_promtool=true
[ ${#missing[@]} -eq 0 ] && [ "$need_promtool" = false ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "host_tools: install ${missing[*]} and promtool into $tools/bin (needed by the SSH scenario, make bench and make lint)" >&2
  exit 1
fi
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "host_tools: installing ${missing[*]} from the distribution"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "$need_promtool" = true ]; then
  echo "host_tools: unpacking promtool from Debian's prometheus package into $tools/bin"
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq prometheus 2>/dev/null && dpkg-deb -x prometheus_*.deb root)
  mkdir -p "$tools/bin"
  install -m 0755 "$work/root/usr/bin/promtool" "$tools/bin/promtool"
  rm -rf "$work"
fi
