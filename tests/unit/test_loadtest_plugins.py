"""The loadtest plugins: parsing wrk and hey, planning a sweep, recommending, reporting."""

from __future__ import annotations

import builtins
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.flaskops.deploy.plugins.action.loadtest_report import normalise
from ansible_collections.flaskops.deploy.plugins.filter.loadtest import (
    loadtest_conf_settings,
    loadtest_plan,
    loadtest_rows,
)
from ansible_collections.flaskops.deploy.plugins.module_utils import loadtest_report as report
from ansible_collections.flaskops.deploy.plugins.modules import loadtest_run as run

KNOWN_GOOD = {
    "workload": "mixed",
    "worker_class": "",
    "workers": None,
    "threads": 0,
    "worker_connections": 0,
    "max_requests": 1000,
    "max_requests_jitter": 100,
}

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1/health
  1 threads and 32 connections
  20531 requests in 5.00s, 3.21MB read
  Non-2xx or 3xx responses: 3
FLASKOPS_WRK {"requests": 20531, "duration_us": 5000000, "connect": 0, "read": 1, "write": 0, \
"status": 3, "timeout": 0, "p50_us": 1450, "p95_us": 3900, "p99_us": 11200, "max_us": 35000}
"""

HEY_OUTPUT = """
Summary:
  Total:\t2.1434 secs
  Slowest:\t0.2985 secs
  Fastest:\t0.0006 secs
  Requests/sec:\t439.4823

Latency distribution:
  10% in 0.0013 secs
  50% in 0.0057 secs
  95% in 0.0893 secs
  99% in 0.1849 secs

Status code distribution:
  [200]\t938 responses
  [502]\t2 responses

Error distribution:
  [3]\tGet "http://127.0.0.1/health": dial tcp 127.0.0.1:80: connect: connection refused
"""


def test_wrk_figures_come_from_its_done_hook() -> None:
    figures = run.parse_wrk(WRK_OUTPUT)
    assert figures["requests"] == 20531
    assert figures["rps"] == pytest.approx(4106.2)
    assert figures["latency_ms"] == {"p50": 1.45, "p95": 3.9, "p99": 11.2, "max": 35.0}
    assert figures["failures"] == 4  # 3 bad statuses + 1 read error
    assert figures["error_rate"] == pytest.approx(4 / 20532)


def test_wrk_output_without_the_hook_line_is_an_error() -> None:
    with pytest.raises(run.ParseError, match="FLASKOPS_WRK"):
        run.parse_wrk("Running 5s test @ http://127.0.0.1/\n  0 requests in 5.00s\n")


def test_hey_figures_come_from_its_summary() -> None:
    figures = run.parse_hey(HEY_OUTPUT)
    assert figures["rps"] == pytest.approx(439.4823)
    assert figures["requests"] == 940
    assert figures["failures"] == 5  # two 502s and three refused connections
    assert figures["latency_ms"]["p50"] == pytest.approx(5.7)
    assert figures["latency_ms"]["p99"] == pytest.approx(184.9)
    assert figures["latency_ms"]["max"] == pytest.approx(298.5)


def test_hey_output_without_a_rate_is_an_error() -> None:
    with pytest.raises(run.ParseError):
        run.parse_hey("Error: connection refused\n")


def test_every_run_is_bounded_in_time() -> None:
    wrk = run.tool_command("wrk", "http://127.0.0.1/io", 7, 32, 4, 10, "/tmp/x.lua")
    assert "-d7s" in wrk and "--timeout=10s" in wrk and wrk[-1] == "http://127.0.0.1/io"
    hey = run.tool_command("hey", "http://127.0.0.1/io", 7, 32, 1, 10, "/tmp/x.lua")
    assert hey[:3] == ["hey", "-z", "7s"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1/health", "http://127.0.0.1:80/health"),
        ("https://web1", "https://web1:443/"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/"),
    ],
)
def test_urls_get_an_explicit_port(url: str, expected: str) -> None:
    assert run.with_port(url) == expected


def test_cpu_ticks_count_reaped_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stat = "123 (gunicorn: master) S 1 123 123 0 -1 4194560 1 2 0 0 50 7 30 3 20 0 1 0 100 0 0"
    real_path = run.Path
    monkeypatch.setattr(run, "Path", lambda p: tmp_path / "stat" if p == "/proc/123/stat" else real_path(p))
    (tmp_path / "stat").write_text(stat)
    assert run.cpu_ticks([123]) == 50 + 7 + 30 + 3
    assert run.cpu_ticks([999999999]) == 0


def test_plan_puts_known_good_first_and_expands_the_matrix() -> None:
    plan = loadtest_plan({"worker_class": ["sync", "gthread"], "workers": [3, 5], "threads": [4, 8]}, [], KNOWN_GOOD)
    assert plan[0] == {"name": "known-good", "known_good": True, "settings": KNOWN_GOOD}
    names = [c["name"] for c in plan[1:]]
    # Class by class, one setting changing at a time; sync ignores threads.
    assert names == ["3 sync", "5 sync", "3 gthread x 4", "3 gthread x 8", "5 gthread x 4", "5 gthread x 8"]


def test_a_candidate_changes_only_what_it_names() -> None:
    plan = loadtest_plan({}, [{"max_requests": 0}, {"name": "io", "workload": "io"}], KNOWN_GOOD)
    assert plan[1]["settings"] == {**KNOWN_GOOD, "max_requests": 0}
    assert plan[1]["name"] == "mixed profile, max_requests 0/100"
    assert plan[2]["name"] == "io"
    assert plan[2]["settings"]["workload"] == "io"


def test_duplicates_of_the_known_good_config_are_dropped() -> None:
    plan = loadtest_plan({}, [{"max_requests": 1000}, {"workers": 0}], KNOWN_GOOD)
    assert [c["name"] for c in plan] == ["known-good"]


@pytest.mark.parametrize(
    ("matrix", "candidates", "message"),
    [
        ({"worker": ["sync"]}, [], "loadtest_matrix"),
        ({}, [{"workers": -1}], r"loadtest_candidates\[0\]: workers=-1"),
        ({}, [{"colour": "red"}], r"'colour' is not a candidate setting"),
        ({}, ["sync"], r"loadtest_candidates\[0\]='sync' must be a dict"),
    ],
)
def test_bad_sweeps_name_the_entry(matrix: dict[str, Any], candidates: list[Any], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        loadtest_plan(matrix, candidates, KNOWN_GOOD)


def test_conf_settings_read_what_gunicorn_runs() -> None:
    text = "# comment\nworkers = 5\nworker_class = 'sync'\nthreads = 1\nworker_connections = 1000\nmax_requests = 0\n"
    assert loadtest_conf_settings(text) == {
        "workers": 5,
        "worker_class": "sync",
        "threads": 1,
        "worker_connections": 1000,
        "max_requests": 0,
    }


def _result(rps: float, p99: float, failures: int = 0) -> dict[str, Any]:
    return {
        "rps": rps,
        "latency_ms": {"p50": p99 / 4, "p95": p99 / 2, "p99": p99, "max": p99 * 2},
        "failures": failures,
        "requests": int(rps * 5),
        "error_rate": failures / max(1, rps * 5),
        "cpu_percent": {"gunicorn-x": 90.0, "nginx": 20.0},
        "rss_mb": {"gunicorn-x": 120.0, "nginx": 15.0},
    }


def _measurements() -> list[dict[str, Any]]:
    candidates = [{"worker_class": "sync", "workers": 5}, {"worker_class": "gevent", "workers": 3}]
    plan = loadtest_plan({}, candidates, KNOWN_GOOD)
    applied = [
        {"worker_class": "gthread", "workers": 3, "threads": 4, "max_requests": 1000, "max_requests_jitter": 100},
        {"worker_class": "sync", "workers": 5, "threads": 1, "max_requests": 1000, "max_requests_jitter": 100},
        {"worker_class": "gevent", "workers": 3, "threads": 1, "worker_connections": 1000, "max_requests": 1000},
    ]
    figures = [
        {"/health": _result(3000, 20), "/io": _result(230, 80)},
        {"/health": _result(3500, 15), "/io": _result(95, 400)},
        {"/health": _result(2900, 25), "/io": _result(580, 70, failures=2)},
    ]
    rows = []
    for candidate, conf, by_endpoint in zip(plan, applied, figures, strict=True):
        loop = [{"item": ep, **res} for ep, res in by_endpoint.items()]
        rows += loadtest_rows(loop, candidate, conf)
    return rows


def test_rows_label_each_endpoint_with_its_candidate() -> None:
    rows = _measurements()
    assert [(r["candidate"], r["endpoint"]) for r in rows[:2]] == [("known-good", "/health"), ("known-good", "/io")]
    assert rows[2]["applied"]["worker_class"] == "sync"


def test_recommendation_skips_candidates_that_failed_requests() -> None:
    rows = normalise(_measurements(), "gunicorn-x")
    best = report.recommend(rows)
    # gevent is fastest on /io but failed 2 requests; gthread beats sync all round.
    assert best["candidate"] == "known-good"
    assert best["variables"] == {
        "gunicorn_worker_class": "gthread",
        "gunicorn_workers": 3,
        "gunicorn_threads": 4,
        "gunicorn_max_requests": 1000,
        "gunicorn_max_requests_jitter": 100,
    }
    assert report.scores(rows)["3 gevent"] == 0.0


def test_no_recommendation_when_everything_failed() -> None:
    rows = normalise(_measurements(), "gunicorn-x")
    for row in rows:
        row["failures"] = 1
    assert report.recommend(rows)["candidate"] is None
    assert "None: no candidate" in report.markdown(rows, {"host": "h"}, "")


def test_markdown_report_has_one_row_per_run_and_pasteable_variables() -> None:
    rows = normalise(_measurements(), "gunicorn-x")
    text = report.markdown(rows, {"host": "web1", "date": "2026-11-22"}, "![chart](report.png)")
    table = [line for line in text.splitlines() if re.match(r"^\| (known-good|5 sync|3 gevent) \|", line)]
    assert len(table) == 6
    assert "| 5 sync | 5 sync, max_requests 1000/100 | /io | 95 | 0.41 |" in text
    block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert block and yaml.safe_load(block.group(1))["gunicorn_threads"] == 4


def test_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "report.png"
    assert report.chart(normalise(_measurements(), "gunicorn-x"), path, "test") is None
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_degrades_with_a_message_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    message = report.chart(normalise(_measurements(), "gunicorn-x"), tmp_path / "report.png", "test")
    assert message and "matplotlib is not installed" in message
    assert not (tmp_path / "report.png").exists()


def test_normalise_rejects_something_that_is_not_a_result() -> None:
    from ansible.errors import AnsibleActionFail

    with pytest.raises(AnsibleActionFail, match=r"measurements\[0\]"):
        normalise([{"candidate": "x", "endpoint": "/", "result": {"rps": 1}}], "svc")


def test_results_survive_json() -> None:
    rows = normalise(_measurements(), "gunicorn-x")
    assert json.loads(json.dumps(rows)) == rows
