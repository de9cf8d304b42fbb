"""What a user of the default stack would notice on the host."""

from __future__ import annotations

import json
import math

import pytest
from testinfra.host import Host

APP = "flaskapp"
SERVICE = f"gunicorn-{APP}"
SOCKET = f"/run/gunicorn/{APP}.sock"


@pytest.mark.parametrize("unit", ["nginx.service", f"{SERVICE}.service", f"{SERVICE}.socket"])
def test_units_are_running_and_enabled(host: Host, unit: str) -> None:
    service = host.service(unit)
    assert service.is_running
    assert service.is_enabled


def test_socket_lets_only_nginx_group_in(host: Host) -> None:
    sock = host.file(SOCKET)
    assert sock.is_socket
    assert sock.user == APP
    assert sock.group == "www-data"
    assert sock.mode == 0o660


def _get(host: Host, *curl_args: str, user: str = "root") -> dict[str, str]:
    placeholders = " ".join(["%s"] * len(curl_args))
    cmd = host.run(f"runuser -u %s -- curl -sS --fail --max-time 5 {placeholders}", user, *curl_args)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_app_answers_on_its_socket_for_nginx_user(host: Host) -> None:
    body = _get(host, "--unix-socket", SOCKET, "http://localhost/health", user="www-data")
    assert body == {"status": "ok"}


def test_a_stranger_cannot_open_the_socket(host: Host) -> None:
    cmd = host.run("runuser -u nobody -- curl -sS --max-time 5 --unix-socket %s http://localhost/health", SOCKET)
    assert cmd.rc == 7, (cmd.rc, cmd.stdout, cmd.stderr)  # 7: could not connect
    # curl 7.88 (Debian 12) says "Couldn't connect", curl 8 (Debian 13) "Could not connect".
    assert any(words in cmd.stderr for words in ("Permission denied", "Couldn't connect", "Could not connect"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/health", {"status": "ok"}), ("/data", {"message": "Microservice response"})],
)
def test_nginx_proxies_to_the_app(host: Host, path: str, expected: dict[str, str]) -> None:
    # converge.yml serves this app over TLS with a self-signed certificate for the host's names.
    assert _get(host, "-4", "--cacert", f"/etc/nginx/tls/{APP}.crt", f"https://localhost{path}") == expected


def test_nginx_passes_the_forwarding_headers(host: Host) -> None:
    site = host.file(f"/etc/nginx/sites-enabled/{APP}.conf").content_string
    for header in ("Host $host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"):
        assert f"proxy_set_header {header}" in site
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_worker_count_follows_the_formula_on_the_apps_share(host: Host) -> None:
    """The default (mixed workload) runs gthread: vCPUs + 1 processes - here on half the host, which it shares.

    Two apps: flaskapp's workers are computed on its half of the vCPUs (rounded, at least 1), and on the memory
    storefront's two explicit sync workers (2 x 128 MiB) leave; not as if it had the host alone.
    """
    facts = host.ansible("setup", "gather_subset=hardware")["ansible_facts"]
    vcpus, memory_mb = facts["ansible_processor_vcpus"], facts["ansible_memtotal_mb"]
    assert "Using worker: gthread" in host.check_output("journalctl -u %s.service -o cat --no-pager", SERVICE)
    master = host.run("systemctl show -P MainPID %s.service", SERVICE).stdout.strip()
    workers = host.run("pgrep -P %s", master).stdout.split()
    by_cpu = max(1, math.floor(vcpus * 0.5 + 1.5))
    by_memory = max(1, (memory_mb - 512 - 2 * 128) // 128)
    assert len(workers) == min(by_cpu, by_memory)
    alone = min(max(2, vcpus + 1), max(1, (memory_mb - 512) // 128))
    if vcpus > 1:
        assert len(workers) < alone, "flaskapp sized itself as if it had the host alone"


def test_gunicorn_runs_as_the_app_user(host: Host) -> None:
    users = set(host.run("ps -o user= -C gunicorn").stdout.split())
    assert users == {APP, "storefront"}  # each app's workers run as that app's user
