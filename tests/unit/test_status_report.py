"""playbooks/status.yml's report: Prometheus's answers to a table, the release markers and the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.flaskops.deploy.plugins.action.status_report import _data
from ansible_collections.flaskops.deploy.plugins.module_utils import status_report as report


def _vector(value: str, **labels: str) -> dict[str, Any]:
    return {"metric": labels, "value": [1796600000.0, value]}


INSTANT = {
    "release": [
        _vector("1", app="shop", host="web1", release="abcdef123456", source="git v1.2"),
        _vector("1", app="blog", host="web1", release="0123456789ab", source="dir"),
    ],
    "rate": [_vector("12.5", app="shop", host="web1"), _vector("0.2", app="blog", host="web1")],
    "errors": [_vector("0.0125", app="shop", host="web1"), _vector("NaN", app="blog", host="web1")],
    "p99": [_vector("0.2345", app="shop", host="web1")],
    "alive": [_vector("3", app="shop", host="web1"), _vector("1", app="blog", host="web1")],
    "configured": [_vector("4", app="shop", host="web1"), _vector("1", app="blog", host="web1")],
    "memory": [_vector(str(180 * 2**20), app="shop", host="web1")],
}


def test_one_row_per_app_and_host_with_what_prometheus_knows() -> None:
    rows = report.rows(INSTANT)
    assert [(row["app"], row["host"]) for row in rows] == [("blog", "web1"), ("shop", "web1")]
    shop = rows[1]
    assert shop["release"] == "abcdef123456" and shop["source"] == "git v1.2"
    assert shop["rate"] == 12.5 and shop["errors"] == 0.0125 and shop["alive"] == 3 and shop["configured"] == 4
    assert rows[0]["errors"] is None and rows[0]["p99"] is None  # NaN and missing alike


def test_the_table_reads_as_an_operator_expects() -> None:
    lines = report.text_table(report.rows(INSTANT), 15)
    assert lines[0] == "Each app over the last 15 minutes (workers: alive/configured)"
    assert lines[1].split() == ["app", "host", "live", "release", "req/s", "5xx", "p99", "ms", "workers", "RSS", "MiB"]
    assert lines[3].split() == ["shop", "web1", "abcdef123456", "12.50", "1.2%", "234", "3/4", "180"]
    assert lines[2].split() == ["blog", "web1", "0123456789ab", "0.20", "-", "-", "1/1", "-"]
    assert report.text_table([], 5)[-1] == "(no app reports to Prometheus yet)"


def test_a_marker_for_each_release_that_went_live_inside_the_window() -> None:
    start = 1000.0
    ranges = [
        {
            "metric": {"app": "shop", "host": "web1", "release": "aaaaaaaaaaaa"},
            "values": [[1000, "900"], [1015, "900"]],
        },
        {
            "metric": {"app": "shop", "host": "web1", "release": "bbbbbbbbbbbb"},
            "values": [[1030, "1020"], [1045, "1020"]],
        },
        {"metric": {"app": "shop", "host": "web1", "release": "aaaaaaaaaaaa"}, "values": [[1060, "1050"]]},
    ]
    assert report.markers(ranges, start) == [(1020.0, "shop@web1 bbbbbbb"), (1050.0, "shop@web1 aaaaaaa")]


def test_the_chart_is_drawn(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    series = {"metric": {"app": "shop", "host": "web1"}, "values": [[1000 + 15 * i, str(i)] for i in range(10)]}
    ranges = {"rate": [series], "p99": [series], "release": []}
    png = tmp_path / "status.png"
    assert report.chart(ranges, 1000.0, png, "web1") is None
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_answer_that_is_not_prometheus_s_is_refused() -> None:
    good = {"item": {"key": "rate"}, "json": {"status": "success", "data": {"result": []}}}
    assert _data([good], "instant") == {"rate": []}
    with pytest.raises(AnsibleActionFail, match="refused the instant query rate"):
        _data([{"item": {"key": "rate"}, "json": {"status": "error", "error": "parse error"}}], "instant")
    with pytest.raises(AnsibleActionFail, match=r"instant\[0\] is no answer"):
        _data([{"status": 404}], "instant")
