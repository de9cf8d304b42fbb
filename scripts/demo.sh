#!/usr/bin/env bash
# A throwaway local Debian 12 host with systemd, deployed by site.yml and
# published on 127.0.0.1:8080. `demo.sh --clean` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${FLASKOPS_DEMO_NAME:-flaskops-demo}
image=${FLASKOPS_IMAGE_BOOKWORM:-flaskops/debian:bookworm}
port=${FLASKOPS_DEMO_PORT:-8080}

if [ "${1:-}" = "--clean" ]; then
  docker rm -f "$name" >/dev/null 2>&1 || true
  echo "demo: $name removed"
  exit 0
fi

if [ -z "$(docker ps -q --filter "name=^${name}$")" ]; then
  docker rm -f "$name" >/dev/null 2>&1 || true
  echo "demo: starting $name from $image"
  docker run -d --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    -p "127.0.0.1:${port}:80" \
    "$image" /lib/systemd/systemd >/dev/null
fi

for _ in $(seq 1 30); do
  state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 1
done

ansible-playbook -i inventories/demo site.yml "$@"

if python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
     "http://127.0.0.1:${port}/health"; then
  echo "demo: the app answers on http://127.0.0.1:${port}/ (remove it with: make demo-clean)"
else
  echo "demo: nothing answers on http://127.0.0.1:${port}/health" >&2
  exit 1
fi
