"""What a user of playbooks/tune.yml notices: a report with real figures, and the known-good config back."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from testinfra.host import Host

REPORTS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "reports"
CONFIG = "/etc/gunicorn/flaskapp.conf.py"
MARKER = "/var/lib/flaskops/loadtest-gunicorn-flaskapp.in-progress"


def _host_reports(name: str) -> Path:
    """The one host's report directory of a sweep (<report dir>/<inventory host>/)."""
    hosts = sorted(path for path in (REPORTS / name).iterdir() if path.is_dir())
    assert len(hosts) == 1, f"one host's reports expected in {REPORTS / name}: {hosts}"
    return hosts[0]


def _results(name: str) -> dict[str, Any]:
    return json.loads((_host_reports(name) / "results.json").read_text())


def _report(name: str) -> str:
    return (_host_reports(name) / "report.md").read_text()


def _row(results: dict[str, Any], candidate: str) -> dict[str, Any]:
    return next(row for row in results["rows"] if row["candidate"] == candidate)


@pytest.mark.parametrize("candidate", ["known-good", "2 sync"])
def test_every_candidate_served_real_requests_without_failures(candidate: str) -> None:
    row = _row(_results("sweep"), candidate)
    assert row["endpoint"] == "/health"
    assert row["rps"] > 10
    assert row["requests"] > 20
    assert row["failures"] == 0
    assert 0 < row["latency_ms"]["p50"] <= row["latency_ms"]["p95"] <= row["latency_ms"]["p99"]
    assert row["cpu"] > 0
    assert row["rss"] > 10
    assert row["stack_rss"] > row["rss"]  # nginx is measured too


def test_each_candidate_ran_what_it_asked_for() -> None:
    results = _results("sweep")
    assert _row(results, "known-good")["applied"]["worker_class"] == "gthread"
    applied = _row(results, "2 sync")["applied"]
    assert (applied["worker_class"], applied["workers"]) == ("sync", 2)


def test_report_has_a_table_a_chart_and_a_recommendation_that_parses() -> None:
    report = _report("sweep")
    assert "| candidate | gunicorn ran | endpoint | req/s |" in report
    assert re.search(r"^\| 2 sync \| 2 sync, max_requests \d+/\d+ \| /health \| [1-9]\d* \|", report, re.MULTILINE)
    chart = _host_reports("sweep") / "report.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![req/s and p99 per candidate](report.png)" in report
    block = re.search(r"```yaml\n(.*?)```", report, re.DOTALL)
    assert block, report
    recommended = yaml.safe_load(block.group(1))
    assert recommended["gunicorn_worker_class"] in ("gthread", "sync")
    assert recommended["gunicorn_workers"] >= 1
    assert yaml.safe_load((_host_reports("sweep") / "recommended.yml").read_text()) == recommended


def test_the_host_keeps_the_report_for_jobs_that_leave_nothing_behind(host: Host) -> None:
    """An AWX job's controller is thrown away: the newest sweep's report is on the host under latest/."""
    kept = "/var/lib/flaskops/tune/flaskapp/latest"
    assert host.file(kept).is_symlink
    for name in ("report.md", "results.json", "recommended.yml"):
        assert host.file(f"{kept}/{name}").content_string.strip(), name
    assert yaml.safe_load(host.file(f"{kept}/recommended.yml").content_string)["gunicorn_workers"] >= 1


def test_known_good_config_is_back_and_serving(host: Host) -> None:
    assert host.file(CONFIG).content_string == host.file("/root/known-good.conf.py").content_string
    known_good_workers = int(re.search(r"^workers = (\d+)$", host.file(CONFIG).content_string, re.MULTILINE).group(1))
    master = host.check_output("systemctl show -P MainPID gunicorn-flaskapp.service")
    assert int(host.check_output(f"pgrep -c -P {master}")) == known_good_workers
    answer = host.check_output("curl -sS --fail --max-time 5 http://127.0.0.1/health")
    assert json.loads(answer) == {"status": "ok"}
    assert not host.file(MARKER).exists


def test_a_failed_step_still_restores_the_known_good_config(host: Host) -> None:
    failure = json.loads(host.file("/root/failed-sweep.json").content_string)
    assert "no-such-class" in failure["msg"]
    known_good = host.file("/root/known-good.conf.py").content_string
    assert host.file("/root/after-failure.conf.py").content_string == known_good
    # What was measured before the failure is still reported.
    results = _results("failed")
    assert {row["candidate"] for row in results["rows"]} == {"known-good", "2 sync"}


def test_an_interrupted_sweep_is_undone_before_the_next_one_measures() -> None:
    # The marker made the next run restore first: its known-good row ran the
    # known-good config, not the 2 sync workers left behind.
    row = _row(_results("after-interruption"), "known-good")
    assert row["applied"] == _row(_results("sweep"), "known-good")["applied"]
    assert (row["applied"]["worker_class"], row["applied"]["workers"]) != ("sync", 2)
    assert row["failures"] == 0
