"""Every worker class serving real requests, side by side on one host."""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from testinfra.host import Host

# name: (nginx port, worker class gunicorn reports, worker class to size with)
APPS: dict[str, tuple[int, str, str]] = {
    "flaskapp": (80, "gthread", ""),  # the default: mixed workload -> gthread
    "wsgi-sync": (8001, "sync", "sync"),
    "wsgi-gevent": (8002, "gevent", "gevent"),
    "wsgi-tornado": (8003, "tornado", "tornado"),
    "wsgi-eventlet": (8004, "eventlet", "eventlet"),
    "asgi-native": (8005, "asgi", "asgi"),
    "asgi-uvicorn": (8006, "uvicorn_worker.UvicornWorker", "uvicorn_worker.UvicornWorker"),
}
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))


def _capacity_filter() -> ModuleType:
    """The filter the role runs, imported from the checkout as the collection it is part of."""
    try:
        import ansible_collections  # the ansible package's namespace: the checkout joins it
    except ImportError:  # ansible-core alone: the checkout is the only collection
        sys.path.insert(0, str(PROJECT / "collections"))
    else:
        checkout = str(PROJECT / "collections" / "ansible_collections")
        if checkout not in ansible_collections.__path__:
            ansible_collections.__path__.append(checkout)
    return importlib.import_module("ansible_collections.flaskops.deploy.plugins.filter.gunicorn_capacity")


@pytest.fixture(scope="module")
def facts(host: Host) -> dict[str, int]:
    raw = host.ansible("setup", "gather_subset=hardware")["ansible_facts"]
    return {"vcpus": raw["ansible_processor_vcpus"], "memtotal_mb": raw["ansible_memtotal_mb"]}


@pytest.mark.parametrize("app", APPS)
def test_app_answers_through_nginx(host: Host, app: str) -> None:
    port = APPS[app][0]
    out = host.check_output("curl -sS --fail --max-time 5 http://127.0.0.1:%s/data", str(port))
    assert json.loads(out) == {"message": "Microservice response"}


@pytest.mark.parametrize("app", APPS)
def test_app_runs_the_worker_class_it_was_given(host: Host, app: str) -> None:
    log = host.check_output("journalctl -u gunicorn-%s.service --no-pager -o cat", app)
    assert f"Using worker: {APPS[app][1]}" in log


@pytest.mark.parametrize("app", APPS)
def test_worker_count_matches_the_filter(host: Host, facts: dict[str, int], app: str) -> None:
    expected = _capacity_filter().gunicorn_capacity(
        facts["vcpus"], facts["memtotal_mb"], workload="mixed", worker_class=APPS[app][2]
    )["workers"]
    master = host.check_output("systemctl show -P MainPID gunicorn-%s.service", app)
    assert len(host.check_output("pgrep -P %s", master).split()) == expected


@pytest.mark.parametrize("app", APPS)
def test_each_app_runs_as_its_own_user(host: Host, app: str) -> None:
    master = host.check_output("systemctl show -P MainPID gunicorn-%s.service", app)
    users = set(host.check_output("ps -o user= --ppid %s --pid %s", master, master).split())
    assert users == {app}


@pytest.mark.parametrize("app", APPS)
def test_only_nginx_can_open_the_socket(host: Host, app: str) -> None:
    sock = f"/run/gunicorn/{app}.sock"
    ok = host.run("runuser -u www-data -- curl -sS --fail --max-time 5 --unix-socket %s http://x/health", sock)
    assert ok.rc == 0, ok.stderr
    for stranger in ("nobody", *(other for other in APPS if other != app)):
        denied = host.run("runuser -u %s -- curl -sS --max-time 5 --unix-socket %s http://x/health", stranger, sock)
        assert denied.rc == 7, (stranger, denied.stdout, denied.stderr)


@pytest.mark.parametrize("app", APPS)
def test_unit_exposure_is_at_most_1_5(host: Host, app: str) -> None:
    out = host.check_output("systemd-analyze security --no-pager gunicorn-%s.service", app)
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    assert score <= 1.5, out


@pytest.mark.parametrize("app", APPS)
def test_the_config_is_not_world_readable(host: Host, app: str) -> None:
    config = host.file(f"/etc/gunicorn/{app}.conf.py")
    assert config.mode == 0o640
    assert (config.user, config.group) == ("root", app)


def test_gunicorn_logs_no_errors(host: Host) -> None:
    errors = host.run("journalctl -u 'gunicorn-*' -p err --no-pager -o cat").stdout
    assert "Control server error" not in errors
    assert "Permission denied" not in errors


def test_log_files_are_reopened_after_rotation(host: Host) -> None:
    log = "/var/log/gunicorn/wsgi-sync/access.log"
    host.check_output("curl -sS --fail -o /dev/null http://127.0.0.1:8001/data?before-rotation")
    assert "before-rotation" in host.file(log).content_string
    host.check_output("logrotate -f /etc/logrotate.d/gunicorn-wsgi-sync")
    host.check_output("curl -sS --fail -o /dev/null http://127.0.0.1:8001/data?after-rotation")
    # Awaited, not slept: gunicorn writes the line once the request is done.
    host.run(f"timeout 5 sh -c 'until grep -q after-rotation {log}; do sleep 0.1; done'")
    assert "after-rotation" in host.file(log).content_string  # the new file: USR1 reopened it
    assert "after-rotation" not in host.file(f"{log}.1").content_string
