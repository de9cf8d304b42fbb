"""Monitoring: Prometheus from Debian on flaskops-default scrapes its exporters and probes its two apps.

The host is in group "monitoring" with monitoring_enabled (molecule.yml: scrape and evaluation every 5 s, alerts
after 10 s). Each proof asks Prometheus's HTTP API what an operator would ask it, after doing what an operator
would see in the figures: traffic, errors, a worker gone, a deploy and a rollback, an app stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testinfra.host import Host

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
INVENTORY = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "inventory"
SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1]))
EXPORTER_PORTS = {"node": 9100, "nginx": 9113, "process": 9256, "mtail": 3903, "prometheus": 9090}
# A query can only see what was scraped: 5-second scrapes, a few of them.
WAIT = 60


@pytest.fixture(scope="module")
def prom(host: Host) -> Callable[[str], list[dict[str, Any]]]:
    """query(promql) -> the result vector, from Prometheus on the host's private address."""
    if host.backend.get_hostname() != "flaskops-default":
        pytest.skip("Prometheus runs on flaskops-default")
    address = host.check_output("hostname -I").split()[0]  # monitoring_listen_address (molecule.yml)

    def query(promql: str) -> list[dict[str, Any]]:
        out = host.check_output(
            "curl -sS --fail --get http://%s:9090/api/v1/query --data-urlencode query=%s", address, promql
        )
        return json.loads(out)["data"]["result"]

    query.address = address  # type: ignore[attr-defined]
    return query


def _until(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """check() until it returns something true, else fail saying what did not happen and the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s; last answer {answer!r}")
        time.sleep(2)


def _values(result: list[dict[str, Any]], label: str = "app") -> dict[str, float]:
    return {series["metric"].get(label, ""): float(series["value"][1]) for series in result}


def test_the_exporters_listen_on_the_named_address_only(host: Host, prom: Any) -> None:
    for name, port in EXPORTER_PORTS.items():
        assert host.run("curl -sS --max-time 5 -o /dev/null http://%s:%s/metrics", prom.address, str(port)).rc == 0, (
            name
        )
        # Not on loopback: the address the user named is the only one.
        assert host.run("curl -sS --max-time 5 -o /dev/null http://127.0.0.1:%s/metrics", str(port)).rc != 0, name
    # nginx's status page: on loopback only.
    assert host.run("curl -sS --fail --max-time 5 http://127.0.0.1:8089/stub_status").rc == 0
    assert host.run("curl -sS --max-time 5 http://%s:8089/stub_status", prom.address).rc != 0
    targets = json.loads(host.check_output("curl -sS http://%s:9090/api/v1/targets", prom.address))
    down = [t["scrapeUrl"] for t in targets["data"]["activeTargets"] if t["health"] != "up"]
    assert not down, down


def test_per_app_request_rate_5xx_ratio_and_p99_from_the_front_end(host: Host, prom: Any) -> None:
    host.check_output("hey -n 200 -c 4 -host flaskops-default https://127.0.0.1/health")
    # storefront's rate limit is 20 requests a second (molecule.yml): 10 a second stay below it.
    host.check_output("hey -n 40 -c 1 -q 10 http://127.0.0.1:8080/data")
    # 5xx answers before (a maintenance page of side_effect.yml is a 503): the 20 errors come on top.
    errors_query = 'flaskops_http_requests_total{app="storefront",code="5xx"}'
    before = _values(prom(errors_query)).get("storefront", 0)
    codes = host.check_output(
        "for i in $(seq 20); do curl -sS -o /dev/null -w '%{http_code} ' http://127.0.0.1:8080/error; sleep 0.1; done"
    ).split()
    assert codes == ["500"] * 20, codes
    per_app = 'sum by (app) (rate(flaskops_http_requests_total{tier="app"}[1m]))'
    rate = _until(
        "a request rate for both apps", lambda: len(_values(prom(per_app + " > 0"))) == 2 and _values(prom(per_app))
    )
    # mtail counts each line: exactly the 20 errors.
    _until("storefront's 20 errors counted", lambda: _values(prom(errors_query)).get("storefront", 0) >= before + 20)
    assert _values(prom(errors_query)) == {"storefront": before + 20}, "mtail counts each line once"
    errors = _until(
        "storefront's 5xx ratio",
        lambda: _values(
            prom(
                'sum by (app) (rate(flaskops_http_requests_total{code="5xx"}[2m]))'
                " / sum by (app) (rate(flaskops_http_requests_total[2m]))"
            )
        ).get("storefront"),
    )
    p99 = _values(
        prom("histogram_quantile(0.99, sum by (app, le) (rate(flaskops_http_request_duration_seconds_bucket[1m])))")
    )
    print(f"requests/s {rate}; storefront 5xx ratio {errors:.3f}; p99 {p99}")
    assert 0.1 < errors < 0.5  # 20 errors among 60 requests and the health probes
    assert 0 < p99["flaskapp"] <= 10 and 0 < p99["storefront"] <= 10, p99
    # The request id: made by nginx, in nginx's log and in gunicorn's for the same request.
    host.check_output("curl -sS --fail -o /dev/null -H 'X-Request-ID: flaskops-test-42' http://127.0.0.1:8080/data")
    assert "rid=flaskops-test-42" in host.file("/var/log/nginx/storefront.access.log").content_string
    assert "rid=flaskops-test-42" in host.check_output("journalctl -u gunicorn-storefront.service -o cat --no-pager")
    # A request without one gets nginx's own, the same in both logs.
    host.check_output("curl -sS --fail -o /dev/null -A flaskops-request-id http://127.0.0.1:8080/health")
    made = host.check_output("grep flaskops-request-id /var/log/nginx/storefront.access.log | tail -1").rsplit(
        "rid=", 1
    )[1]
    assert len(made) == 32 and int(made, 16) >= 0, made
    assert f"rid={made}" in host.check_output("journalctl -u gunicorn-storefront.service -o cat --no-pager")


def test_workers_alive_against_configured_and_one_gone(host: Host, prom: Any) -> None:
    alive = '(label_replace(namedprocess_namegroup_num_procs{groupname="flaskapp-web"}, "app", "flaskapp", "", "") - 1)'
    configured = _values(prom('flaskops_gunicorn_workers_configured{app="flaskapp"}'))["flaskapp"]
    assert configured >= 2, "TTOU never takes gunicorn below one worker: this proof needs two"
    assert _values(prom(alive))["flaskapp"] == configured
    master = host.check_output("systemctl show -P MainPID gunicorn-flaskapp.service")
    host.check_output("kill -TTOU %s", master)  # the master stops one worker
    try:
        _until("one worker fewer", lambda: _values(prom(alive)).get("flaskapp") == configured - 1)
        firing = _until(
            "FlaskopsWorkersMissing for flaskapp",
            lambda: [
                a
                for a in prom('ALERTS{alertname="FlaskopsWorkersMissing",alertstate="firing"}')
                if a["metric"]["app"] == "flaskapp"
            ],
        )
        assert firing
    finally:
        host.check_output("kill -TTIN %s", master)
    _until("the worker back", lambda: _values(prom(alive)).get("flaskapp") == configured)


def _playbook(play: str, extra: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections")}
    cmd = [
        "ansible-playbook",
        "-i",
        str(INVENTORY),
        "--limit",
        "~^(.+@)?flaskops-default$",
        str(PROJECT / "playbooks" / play),
        "-e",
        json.dumps(extra),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=600)


def test_the_release_marker_follows_a_deploy_and_a_rollback(prom: Any, tmp_path: Path) -> None:
    def live() -> dict[str, str]:
        result = prom('flaskops_release_info{app="storefront",host="flaskops-default"}')
        return result[0]["metric"] if len(result) == 1 else {}

    before = _until("storefront's release marker", live)
    source = tmp_path / "storefront"
    shutil.copytree(SCENARIO / "apps" / "storefront", source)
    (source / "marker.txt").write_text("a release of its own\n")
    deploy = _playbook("deploy.yml", {"app": "storefront", "app_source_dir": str(source)})
    assert deploy.returncode == 0, deploy.stdout[-3000:]
    deployed = _until(
        "the new release's marker", lambda: live().get("release") not in (None, before["release"]) and live()
    )
    rollback = _playbook("rollback.yml", {"app": "storefront"})
    assert rollback.returncode == 0, rollback.stdout[-3000:]
    back = _until("the rollback's marker", lambda: live().get("release") == before["release"] and live())
    counts = _values(prom('flaskops_deploys_total{app="storefront",host="flaskops-default"}'), "action")
    print(f"release {before['release']} -> {deployed['release']} -> {back['release']}; deploys {counts}")
    assert counts.get("rollback", 0) >= 1


def test_the_certificate_expiry_is_reported(prom: Any) -> None:
    days = _values(prom("(probe_ssl_earliest_cert_expiry - time()) / 86400"))
    assert set(days) == {"flaskapp"}, days  # storefront has no TLS
    assert days["flaskapp"] > 14


def test_an_app_that_stops_fires_its_alert_and_only_its_own(host: Host, prom: Any) -> None:
    rules = json.loads(host.check_output("curl -sS http://%s:9090/api/v1/rules", prom.address))
    names = {rule["name"] for group in rules["data"]["groups"] for rule in group["rules"]}
    assert {
        "FlaskopsAppDown",
        "FlaskopsHigh5xxRatio",
        "FlaskopsSlowP99",
        "FlaskopsWorkersMissing",
        "FlaskopsCrashLoop",
        "FlaskopsCertificateExpiring",
        "FlaskopsDiskAlmostFull",
        "FlaskopsDeployFailed",
    } <= names, names
    host.check_output("systemctl stop gunicorn-storefront.socket gunicorn-storefront.service")
    try:
        started = time.monotonic()
        _until(
            "FlaskopsAppDown for storefront",
            lambda: [
                a
                for a in prom('ALERTS{alertname="FlaskopsAppDown",alertstate="firing"}')
                if a["metric"]["app"] == "storefront"
            ],
        )
        print(f"storefront down: alert firing after {time.monotonic() - started:.0f} s (for: 10s, scrapes every 5 s)")
        others = [
            a["metric"] for a in prom('ALERTS{alertname="FlaskopsAppDown"}') if a["metric"]["app"] != "storefront"
        ]
        assert not others, others
    finally:
        host.check_output("systemctl start gunicorn-storefront.socket")
    _until("storefront healthy again", lambda: _values(prom('probe_success{app="storefront"}')).get("storefront") == 1)
    # The process exporter's next scrape sees its workers again (status.yml reads them after this test).
    alive = 'namedprocess_namegroup_num_procs{groupname="storefront-web"} - 1'
    configured = _values(prom('flaskops_gunicorn_workers_configured{app="storefront"}'))["storefront"]
    _until("storefront's workers back", lambda: [float(s["value"][1]) for s in prom(alive)] == [configured])


def test_status_prints_each_app_and_draws_the_last_hour(tmp_path: Path) -> None:
    status = _playbook("status.yml", {"status_dest": str(tmp_path), "status_minutes": 5})
    assert status.returncode == 0, status.stdout[-3000:]
    table = (tmp_path / "flaskops-default" / "status.txt").read_text()
    print(table)
    rows = {line.split()[0]: line.split() for line in table.splitlines()[2:]}
    assert set(rows) == {"flaskapp", "storefront"}, table
    for row in rows.values():
        assert row[1] == "flaskops-default" and len(row[2]) == 12, row  # host, live release id
        assert float(row[3]) > 0, row  # req/s: at least the probes
        alive, configured = row[6].split("/")
        assert alive == configured != "-", row
    assert (tmp_path / "flaskops-default" / "status.png").read_bytes()[:4] == b"\x89PNG"
    assert "flaskapp" in status.stdout and "storefront" in status.stdout
