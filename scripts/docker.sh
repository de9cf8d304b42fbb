#!/usr/bin/env bash
# Makes sure a Docker engine answers. Reuses the one that answers; installs and
# starts one only when none runs (Debian/Ubuntu, as root). Never starts a second
# dockerd: a second daemon deletes the shared docker0 bridge of the first.
set -euo pipefail
log=${DOCKERD_LOG:-/var/log/flaskops-dockerd.log}

answers() { docker info >/dev/null 2>&1; }
wait_for_engine() {
  local i
  for i in $(seq 1 60); do answers && return 0; sleep 1; done
  echo "docker: the engine did not answer within 60 s; see $log" >&2
  return 1
}

if command -v docker >/dev/null 2>&1 && answers; then exit 0; fi

if pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker: a dockerd is already running; waiting for it instead of starting another"
  wait_for_engine
  exit
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "docker: no engine answers and none is installed; install Docker (or run this as root on Debian/Ubuntu)" >&2
    exit 1
  fi
  echo "docker: installing docker.io from the distribution"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl start docker
else
  echo "docker: starting dockerd in the background (log: $log)"
  nohup dockerd >"$log" 2>&1 &
fi
wait_for_engine
