#!/usr/bin/env bash
# The test bed's download cache, filled once and shared by every test container:
#  - Debian packages through apt-cacher-ng on this machine (port FLASKOPS_APT_CACHE_PORT,
#    default 3142); resources/tasks/package_cache.yml points each container's apt at it;
#  - Python packages through the hosts' own wheelhouse (/var/cache/flaskops/wheels,
#    where flaskops.deploy.release_venv keeps every file pip downloaded): one directory
#    of this machine (FLASKOPS_CACHE_DIR/wheels) mounted there in every container, so a
#    wheel fetched by one is found by all (the module locks it while pip writes).
#    pip's HTTP cache cannot do this here: the TLS-inspecting proxy drops the
#    Cache-Control headers pip would need to keep a file.
# Reuses a cache that answers already; installs and starts apt-cacher-ng only when
# none does (Debian/Ubuntu, as root). The tests work without it: a cache that cannot
# start is reported and skipped, never a reason to fail.
# Usage: cache.sh          make sure the cache runs
#        cache.sh report   what it fetched and what it served (for the end of a run)
set -uo pipefail
dir=${FLASKOPS_CACHE_DIR:-/var/cache/flaskops-test}
port=${FLASKOPS_APT_CACHE_PORT:-3142}
acng=$dir/apt-cacher-ng

answers() { curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$port/acng-report.html"; }

report() {
  local log=$acng/log/apt-cacher.log
  [ -s "$log" ] || { echo "cache: apt-cacher-ng logged nothing (not used in this run)"; return 0; }
  # I: fetched from the mirror, O: served to a test host.
  awk -F'|' '
    $2 == "I" { fetched += $3; nf++; if ($5 ~ /\.deb$/) { seen[$5]++; if (seen[$5] == 2) twice++ } }
    $2 == "O" { served += $3; ns++ }
    END {
      printf "cache: apt fetched %d files (%.1f MB) from the mirror, served %d (%.1f MB) to the test hosts;", \
        nf, fetched / 1e6, ns, served / 1e6
      printf " packages fetched twice: %d\n", twice
    }' "$log"
  echo "cache: the shared wheelhouse holds $(find "$dir/wheels" -type f \( -name '*.whl' -o -name '*.tar.gz' \) 2>/dev/null | wc -l) files ($(du -sh "$dir/wheels" 2>/dev/null | cut -f1), $dir/wheels)"
}

[ "${1:-}" = report ] && { report; exit 0; }

mkdir -p "$dir/wheels" "$acng/cache" "$acng/log"
answers && exit 0

if ! command -v apt-cacher-ng >/dev/null 2>&1 && [ ! -x /usr/sbin/apt-cacher-ng ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "cache: no apt-cacher-ng here (install it, or set FLASKOPS_APT_PROXY); each test host downloads its own packages" >&2
    exit 0
  fi
  echo "cache: installing apt-cacher-ng from the distribution"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apt-cacher-ng >/dev/null 2>&1 ||
    { echo "cache: apt-cacher-ng did not install; each test host downloads its own packages" >&2; exit 0; }
fi

# Its own configuration: no remapping to a mirror list (it would ask mirrors
# this network may not reach), just the URLs the hosts ask for, cached.
cat >"$acng/acng.conf" <<EOF
CacheDir: $acng/cache
LogDir: $acng/log
Port: $port
SupportDir: /usr/lib/apt-cacher-ng
ReportPage: acng-report.html
PidFile: $acng/pid
SocketPath: $acng/socket
ExThreshold: 4
EOF
echo "cache: starting apt-cacher-ng on port $port (cache: $acng)"
/usr/sbin/apt-cacher-ng -c "$acng" >"$acng/log/start.log" 2>&1
for _ in $(seq 1 20); do answers && exit 0; sleep 0.5; done
echo "cache: apt-cacher-ng did not answer on port $port (see $acng/log); each test host downloads its own packages" >&2
exit 0
