"""Each app's figures from Prometheus's HTTP API, as a table and a chart (playbooks/status.yml).

The inputs are the API's own answers: ``instant`` maps a figure's name to the result vector of an instant query
(``[{"metric": {...}, "value": [t, "v"]}]``), ``ranges`` maps a name to the result matrix of a range query
(``[{"metric": {...}, "values": [[t, "v"], ...]}]``). matplotlib is optional (the chart is skipped without it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

# Figure name -> column title, in the table's order.
COLUMNS = {
    "release": "live release",
    "rate": "req/s",
    "errors": "5xx",
    "p99": "p99 ms",
    "workers": "workers",
    "memory": "RSS MiB",
}


def _key(metric: dict[str, str]) -> tuple[str, str]:
    return metric.get("app", ""), metric.get("host", "")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def rows(instant: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per app and host: its live release and the figures, None where Prometheus has none."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for series in instant.get("release", []):
        row = table.setdefault(_key(series["metric"]), {})
        row["release"] = series["metric"].get("release", "")
        row["source"] = series["metric"].get("source", "")
    for name in ("rate", "errors", "p99", "alive", "configured", "memory"):
        for series in instant.get(name, []):
            table.setdefault(_key(series["metric"]), {})[name] = _number(series["value"][1])
    return [
        {
            "app": app,
            "host": host,
            **{
                name: figures.get(name)
                for name in ("release", "source", "rate", "errors", "p99", "alive", "configured", "memory")
            },
        }
        for (app, host), figures in sorted(table.items())
        if app
    ]


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "release":
        return str(row.get("release") or "-")
    if column == "workers":
        alive, configured = row.get("alive"), row.get("configured")
        return f"{'-' if alive is None else int(alive)}/{'-' if configured is None else int(configured)}"
    value = row.get(column)
    if value is None:
        return "-"
    if column == "errors":
        return f"{value:.1%}"
    if column == "p99":
        return f"{value * 1000:.0f}"
    if column == "memory":
        return f"{value / 2**20:.0f}"
    return f"{value:.2f}"


def text_table(table: list[dict[str, Any]], minutes: int) -> list[str]:
    """The table as aligned lines, a title first."""
    head = ["app", "host", *COLUMNS.values()]
    body = [[row["app"], row["host"], *(_cell(row, column) for column in COLUMNS)] for row in table]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = [f"Each app over the last {minutes} minutes (workers: alive/configured)"]
    for line in [head, *body]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    if not body:
        lines.append("(no app reports to Prometheus yet)")
    return lines


def markers(release_ranges: list[dict[str, Any]], start: float) -> list[tuple[float, str]]:
    """(time, "app@host release") for each release that went live inside the window.

    Each series' values are the times its app's live release went live (flaskops_release_live_since_timestamp_seconds
    with the release as a label), so a deploy, a switch back or a rollback is one distinct value.
    """
    found = set()
    for series in release_ranges:
        metric = series["metric"]
        for point in series.get("values") or []:
            when = _number(point[1])
            if when is not None and when > start:
                found.add((when, f"{metric.get('app', '')}@{metric.get('host', '')} {metric.get('release', '')[:7]}"))
    return sorted(found)


def chart(ranges: dict[str, list[dict[str, Any]]], start: float, path: Path, title: str) -> str | None:
    """A PNG of each app's req/s and p99 over the window, with the releases that went live; why not, if not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed on the controller (pip install matplotlib): no chart"
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    for axis, name, scale, label in ((top, "rate", 1.0, "req/s"), (bottom, "p99", 1000.0, "p99 ms")):
        for series in ranges.get(name, []):
            points = [(float(t) - start, _number(v)) for t, v in series.get("values", [])]
            points = [(t / 60, v * scale) for t, v in points if v is not None]
            if points:
                app, host = _key(series["metric"])
                axis.plot(*zip(*points, strict=True), label=f"{app}@{host}")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    for when, text in markers(ranges.get("release", []), start):
        for axis in (top, bottom):
            axis.axvline((when - start) / 60, color="grey", linestyle="--", linewidth=1)
        top.annotate(
            text,
            xy=((when - start) / 60, 1),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
        )
    if top.get_legend_handles_labels()[0]:
        top.legend(fontsize=8, loc="upper left")
    bottom.set_xlabel("minutes")
    top.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return None
