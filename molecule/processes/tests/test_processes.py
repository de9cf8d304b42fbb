"""What a user of app_processes, app_timers, run.yml, releases.yml and the deploy lock notices on the host."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from testinfra.host import Host

INSTANCE = "/srv/shop/shared/instance"


@pytest.fixture(scope="module")
def side_effect(host: Host) -> dict[str, Any]:
    return json.loads(host.file("/root/side_effect.json").content_string)


def test_no_job_is_lost_or_run_twice_through_a_deploy_and_a_rollback(host: Host, side_effect: dict[str, Any]) -> None:
    assert side_effect["deploy_v2"]["rc"] == 0 and side_effect["rollback_v1"]["rc"] == 0
    produced = host.file("/root/produced.txt").content_string.split()
    ran = [line.split()[0] for line in host.file(f"{INSTANCE}/jobs.log").content_string.splitlines()]
    assert len(produced) > 100, "too few jobs to prove anything"
    twice = [job for job, times in Counter(ran).items() if times > 1]
    assert not twice, f"jobs run twice: {twice[:10]}"
    assert set(produced) <= set(ran), f"jobs lost: {sorted(set(produced) - set(ran))[:10]}"


def test_the_streams_jobs_ran_on_both_releases(host: Host) -> None:
    versions = {line.split()[1] for line in host.file(f"{INSTANCE}/jobs.log").content_string.splitlines()}
    assert {"v1", "v2"} <= versions


def test_a_job_in_progress_at_the_deploy_finished_on_its_release(host: Host) -> None:
    lines = host.file(f"{INSTANCE}/jobs.log").content_string.splitlines()
    assert "long v1" in lines, lines[:5]


@pytest.mark.parametrize("unit", ["shop.worker@1.service", "shop.worker@2.service"])
def test_the_workers_run_on_the_live_release_as_the_app_user(host: Host, unit: str) -> None:
    service = host.service(unit)
    assert service.is_running and service.is_enabled
    pid = host.check_output("systemctl show -P MainPID %s", unit)
    assert host.check_output("ps -o user= -p %s", pid) == "shop"
    # As the app's user: root in these containers lacks CAP_SYS_PTRACE, which another user's /proc/<pid>/cwd needs.
    cwd = host.check_output("runuser -u shop -- readlink /proc/%s/cwd", pid)
    assert cwd == host.check_output("readlink -f /srv/shop/current")


def _exposure(out: str) -> float:
    return float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("unit", ["shop.worker@1.service", "shop.worker@2.service"])
def test_the_processes_share_the_services_sandbox(host: Host, unit: str) -> None:
    out = host.check_output("systemd-analyze security --no-pager %s", unit)
    assert _exposure(out) <= 2.0, out


def test_the_timers_service_shares_it_too(side_effect: dict[str, Any]) -> None:
    assert _exposure(side_effect["timer_exposure"]) <= 2.0, side_effect["timer_exposure"]


def test_the_workers_log_to_the_journal(host: Host) -> None:
    assert "jobs" in host.check_output("journalctl -u shop.worker@1.service --no-pager -o cat")


def test_the_timers_next_run_was_listed_and_a_run_wrote_its_output(host: Host, side_effect: dict[str, Any]) -> None:
    assert re.search(r"\d{4}-\d\d-\d\d 03:0\d:\d\d .*shop\.report\.timer", side_effect["timers"]), side_effect["timers"]
    # The run wrote the release live at the time (side_effect.yml records which).
    report = host.file(f"{INSTANCE}/report.txt").content_string
    assert re.search(rf"^\d\d:\d\d:\d\d {side_effect['live_at_report']}$", report, re.MULTILINE), report


def test_a_timer_taken_off_the_list_is_gone(host: Host) -> None:
    assert not host.file("/etc/systemd/system/shop.report.timer").exists
    assert not host.file("/etc/systemd/system/shop.report.service").exists
    assert host.run("systemctl is-active shop.report.timer").stdout.strip() != "active"


def test_a_process_taken_off_the_list_is_gone(host: Host) -> None:
    assert not host.file("/etc/systemd/system/shop.idler.service").exists
    assert host.run("systemctl is-active shop.idler.service").stdout.strip() != "active"
    assert host.service("shop.worker@1.service").is_running


def test_run_prints_the_commands_output_and_fails_with_its_exit_code(side_effect: dict[str, Any]) -> None:
    ok, failed = side_effect["run_ok"], side_effect["run_failed"]
    assert ok["rc"] == 0 and "flask 3.1.3 /srv/shop/current/.venv" in ok["stdout"], ok["stdout"][-2000:]
    assert failed["rc"] != 0, failed["stdout"][-2000:]
    said = failed["stdout"] + failed["stderr"]
    assert "half way" in said and "exit 3" in said and "exited with 3" in " ".join(said.split()), said[-2000:]


def test_releases_lists_the_deploys_just_made(side_effect: dict[str, Any]) -> None:
    out = side_effect["releases"]["stdout"]
    assert side_effect["releases"]["rc"] == 0, out[-2000:]
    for result in ("live", "switched back"):
        assert f"| {result}" in out, out[-3000:]
    assert "| rollback" in out and "| deploy" in out and " *" in out, out[-3000:]


def test_each_history_line_says_who_ran_it_from_where_and_how_long_it_took(host: Host) -> None:
    entries = [json.loads(line) for line in host.file("/srv/shop/releases.log").content_string.splitlines()]
    assert {"deploy", "rollback"} <= {entry["action"] for entry in entries}
    for entry in entries:
        user, _, controller = entry["by"].partition("@")
        assert user and user != "unknown" and controller, entry
        assert float(entry["seconds"]) > 0, entry
        assert re.fullmatch(r"[0-9a-f]{12}", entry["release"]), entry
        assert entry["source"], entry


def test_a_second_deploy_waits_for_the_lock_then_deploys(side_effect: dict[str, Any]) -> None:
    first, second = side_effect["first_deploy"], side_effect["second_deploy"]
    assert first["rc"] == 0, first["stdout"][-2000:]
    assert second["rc"] == 0, second["stdout"][-2000:]
    # Waited: it could only take the lock once the first (with its 8-second hook) had given it back.
    assert second["end"] > first["end"], (second["end"], first["end"])


def test_a_lock_left_by_a_killed_run_is_taken_over(side_effect: dict[str, Any]) -> None:
    assert side_effect["stale_rollback"]["rc"] == 0, side_effect["stale_rollback"]["stdout"][-2000:]


def test_an_old_pages_asset_survives_the_switch(host: Host) -> None:
    """current is v1 after the last rollback; v2's hashed asset comes from the previous release."""
    live = json.loads(host.check_output("curl -sS --fail http://127.0.0.1/version"))["version"]
    other = "22222222" if live == "v1" else "11111111"
    status = host.check_output("curl -sS -o /dev/null -w '%%{http_code}' http://127.0.0.1/static/app.%s.css", other)
    assert status == "200"
    missing = host.check_output("curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1/static/app.33333333.css")
    assert missing == "404"


def test_the_access_log_names_the_client(host: Host) -> None:
    host.check_output("curl -sS --fail -o /dev/null -H 'User-Agent: flaskops-test' http://127.0.0.1/health")
    log = host.check_output("journalctl -u gunicorn-shop.service --no-pager -o cat")
    assert re.search(r"^127\.0\.0\.1 - - \[.*\] \"GET /health HTTP/1\.[01]\" 200 .*flaskops-test", log, re.MULTILINE), (
        log[-2000:]
    )
