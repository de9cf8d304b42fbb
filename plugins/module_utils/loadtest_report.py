"""Turn a tuning sweep's measurements into a recommendation, a markdown report and a chart.

Pure functions, used by the loadtest_report action plugin on the controller and by
scripts/bench.py; matplotlib is optional (the chart is skipped when it is missing).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ansible_collections.flaskops.deploy.plugins.module_utils.worker_classes import CONNECTION_CLASSES


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def candidates_of(rows: list[dict[str, Any]]) -> list[str]:
    return _unique([row["candidate"] for row in rows])


def endpoints_of(rows: list[dict[str, Any]]) -> list[str]:
    return _unique([row["endpoint"] for row in rows])


def _row(rows: list[dict[str, Any]], candidate: str, endpoint: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["candidate"] == candidate and r["endpoint"] == endpoint), None)


def scores(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Geometric mean over endpoints of req/s relative to the best clean candidate; 0 with any failure."""
    endpoints = endpoints_of(rows)
    clean = [
        name
        for name in candidates_of(rows)
        if all((row := _row(rows, name, ep)) is not None and row["failures"] == 0 for ep in endpoints)
    ]
    best = {
        ep: max((_row(rows, name, ep) or {}).get("rps", 0.0) for name in clean) if clean else 0.0 for ep in endpoints
    }
    result: dict[str, float] = {}
    for name in candidates_of(rows):
        if name not in clean or not all(best.values()):
            result[name] = 0.0
            continue
        ratios = [max((_row(rows, name, ep) or {})["rps"], 1e-9) / best[ep] for ep in endpoints]
        result[name] = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    return result


def role_variables(applied: dict[str, Any]) -> dict[str, Any]:
    """Ready-to-paste gunicorn role variables for what a candidate really ran."""
    worker_class = applied.get("worker_class", "")
    variables: dict[str, Any] = {"gunicorn_worker_class": worker_class, "gunicorn_workers": applied.get("workers", 0)}
    if worker_class == "gthread":
        variables["gunicorn_threads"] = applied.get("threads", 0)
    if worker_class in CONNECTION_CLASSES:
        variables["gunicorn_worker_connections"] = applied.get("worker_connections", 0)
    for key in ("max_requests", "max_requests_jitter"):
        if key in applied:
            variables[f"gunicorn_{key}"] = applied[key]
    return variables


def recommend(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate with the best all-round throughput and no failed request; ties go to the lower p99."""
    table = scores(rows)
    endpoints = endpoints_of(rows)

    def rank(name: str) -> tuple[float, float]:
        p99 = sum((_row(rows, name, ep) or {}).get("latency_ms", {}).get("p99", math.inf) for ep in endpoints)
        return (round(table[name], 3), -p99)

    ranked = sorted(candidates_of(rows), key=rank, reverse=True)
    if not ranked or table[ranked[0]] == 0.0:
        return {
            "candidate": None,
            "score": 0.0,
            "variables": {},
            "reason": "no candidate served every endpoint without failures",
        }
    winner = ranked[0]
    applied = next(r.get("applied") or {} for r in rows if r["candidate"] == winner)
    return {
        "candidate": winner,
        "score": round(table[winner], 3),
        "variables": role_variables(applied),
        "reason": "highest geometric mean of req/s relative to the best candidate on each endpoint, no failed request",
    }


def _yaml_block(variables: dict[str, Any]) -> str:
    lines = []
    for key, value in variables.items():
        lines.append(f"{key}: {value}" if isinstance(value, int) else f'{key}: "{value}"')
    return "\n".join(lines)


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any], chart_note: str) -> str:
    """The whole report: context, one table row per candidate and endpoint, the recommendation."""
    endpoints = endpoints_of(rows)
    baseline = {ep: (_row(rows, candidates_of(rows)[0], ep) or {}).get("rps", 0.0) for ep in endpoints} if rows else {}
    table_scores = scores(rows)
    out = [f"# Load test of {meta.get('host', 'the host')}", ""]
    for key in ("date", "host facts", "load", "service"):
        if meta.get(key):
            out.append(f"- {key}: {meta[key]}")
    out += [
        "",
        "| candidate | gunicorn ran | endpoint | req/s | vs known-good | p50 ms | p95 ms | p99 ms | failed "
        "| CPU % | RSS MiB | score |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        applied = row.get("applied") or {}
        ran = f"{applied.get('workers', '?')} {applied.get('worker_class', '?')}"
        if applied.get("worker_class") == "gthread":
            ran += f" x {applied.get('threads')}"
        if applied.get("max_requests") is not None:
            ran += f", max_requests {applied['max_requests']}/{applied.get('max_requests_jitter', 0)}"
        latency = row["latency_ms"]
        base = baseline.get(row["endpoint"]) or 0.0
        ratio = f"{row['rps'] / base:.2f}" if base else "-"
        out.append(
            f"| {row['candidate']} | {ran} | {row['endpoint']} | {row['rps']:.0f} | {ratio} | {latency['p50']:.1f} | "
            f"{latency['p95']:.1f} | {latency['p99']:.1f} | {row['failures']} of {row['requests'] + row['failures']} | "
            f"{row.get('cpu', 0):.0f} | {row.get('rss', 0):.0f} | {table_scores.get(row['candidate'], 0):.2f} |"
        )
    best = recommend(rows)
    out += [
        "",
        "score: geometric mean over the endpoints of req/s relative to the best clean candidate (1.00 = best",
        "everywhere); a candidate with any failed request scores 0. CPU: gunicorn's processes, 100 = one core.",
        "",
    ]
    out += [chart_note, "", "## Recommended settings for this host", ""]
    if best["candidate"] is None:
        out.append(f"None: {best['reason']}.")
    else:
        out += [
            f"`{best['candidate']}` (score {best['score']:.2f}: {best['reason']}).",
            "Paste into the host's or group's vars:",
            "",
            "```yaml",
            _yaml_block(best["variables"]),
            "```",
        ]
    return "\n".join(out) + "\n"


def chart(rows: list[dict[str, Any]], path: Path, title: str) -> str | None:
    """A PNG with req/s and p99 per candidate and endpoint; returns why not when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed on the controller (pip install matplotlib): no chart, markdown only"
    candidates, endpoints = candidates_of(rows), endpoints_of(rows)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(max(8, 1.2 * len(candidates) * max(1, len(endpoints)) / 2), 8))
    width = 0.8 / max(1, len(endpoints))
    for index, endpoint in enumerate(endpoints):
        xs = [c + index * width for c in range(len(candidates))]
        rps = [(_row(rows, c, endpoint) or {}).get("rps", 0.0) for c in candidates]
        p99 = [(_row(rows, c, endpoint) or {}).get("latency_ms", {}).get("p99", 0.0) for c in candidates]
        top.bar(xs, rps, width, label=endpoint)
        bottom.bar(xs, p99, width, label=endpoint)
    for axis, label in ((top, "requests/s (higher is better)"), (bottom, "p99 latency, ms (lower is better)")):
        axis.set_ylabel(label)
        axis.set_xticks([c + 0.4 - width / 2 for c in range(len(candidates))])
        axis.set_xticklabels(candidates, rotation=20, ha="right", fontsize=8)
        axis.legend()
        axis.grid(axis="y", alpha=0.3)
    bottom.set_yscale("log")
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return None
