"""Plan a tuning sweep (the candidates to try) and read back what gunicorn really runs."""

from __future__ import annotations

import ast
import itertools
import re
from typing import Any

from ansible.errors import AnsibleFilterError

# The short names a candidate may set, and the gunicorn role variable each one stands for.
SETTINGS: dict[str, str] = {
    "workload": "gunicorn_workload",
    "worker_class": "gunicorn_worker_class",
    "workers": "gunicorn_workers",
    "threads": "gunicorn_threads",
    "worker_connections": "gunicorn_worker_connections",
    "max_requests": "gunicorn_max_requests",
    "max_requests_jitter": "gunicorn_max_requests_jitter",
}
MATRIX_KEYS = ("worker_class", "workers", "threads")
INT_SETTINGS = ("workers", "threads", "worker_connections", "max_requests", "max_requests_jitter")
CONF_KEYS = ("worker_class", "workers", "threads", "worker_connections", "max_requests", "max_requests_jitter")


def _setting(name: str, value: Any, where: str) -> Any:
    """A candidate's value, checked; workers None means computed from the host."""
    if name not in SETTINGS:
        raise AnsibleFilterError(f"{where}: {name!r} is not a candidate setting; allowed: {', '.join(SETTINGS)}")
    if name == "workers" and value in (None, "", 0, "0"):
        return None  # computed by the gunicorn role from the host
    if name in INT_SETTINGS:
        if isinstance(value, bool) or not str(value).lstrip("-").isdigit() or int(value) < 0:
            raise AnsibleFilterError(f"{where}: {name}={value!r} must be a whole number, 0 or more")
        return int(value)
    return str(value)


def describe(settings: dict[str, Any], known_good: dict[str, Any]) -> str:
    """A short readable name: what differs from the known-good config."""
    parts = []
    shape = settings["worker_class"] or f"{settings['workload']} profile"
    if settings["workers"]:
        shape = f"{settings['workers']} {shape}"
    if settings["threads"] and settings["worker_class"] in ("gthread", ""):
        shape += f" x {settings['threads']}"
    parts.append(shape)
    if settings["worker_connections"] != known_good["worker_connections"]:
        parts.append(f"{settings['worker_connections']} connections")
    if (settings["max_requests"], settings["max_requests_jitter"]) != (
        known_good["max_requests"],
        known_good["max_requests_jitter"],
    ):
        parts.append(f"max_requests {settings['max_requests']}/{settings['max_requests_jitter']}")
    return ", ".join(parts)


def loadtest_plan(
    matrix: dict[str, list[Any]] | None,
    candidates: list[dict[str, Any]] | None,
    known_good: dict[str, Any],
) -> list[dict[str, Any]]:
    """Known-good first, then the explicit candidates, then the matrix; no settings twice."""
    base = {name: _setting(name, known_good.get(name, ""), "known-good config") for name in SETTINGS}
    wanted: list[tuple[str, dict[str, Any]]] = []
    for index, candidate in enumerate(candidates or []):
        if not isinstance(candidate, dict):
            raise AnsibleFilterError(f"loadtest_candidates[{index}]={candidate!r} must be a dict of settings")
        label = str(candidate.get("name", ""))
        changes = {k: _setting(k, v, f"loadtest_candidates[{index}]") for k, v in candidate.items() if k != "name"}
        wanted.append((label, changes))
    matrix = matrix or {}
    unknown = set(matrix) - set(MATRIX_KEYS)
    if unknown:
        raise AnsibleFilterError(f"loadtest_matrix: {sorted(unknown)} not allowed; keys: {', '.join(MATRIX_KEYS)}")
    if matrix:
        axes = [[None] if not matrix.get(key) else list(matrix[key]) for key in MATRIX_KEYS]
        for worker_class, workers, threads in itertools.product(*axes):
            changes: dict[str, Any] = {}
            if worker_class is not None:
                changes["worker_class"] = _setting("worker_class", worker_class, "loadtest_matrix")
            if workers is not None:
                changes["workers"] = _setting("workers", workers, "loadtest_matrix")
            effective_class = changes.get("worker_class", base["worker_class"])
            if threads is not None and effective_class in ("gthread", ""):
                changes["threads"] = _setting("threads", threads, "loadtest_matrix")
            elif effective_class not in ("gthread", ""):
                changes["threads"] = 0  # threads mean nothing to other classes
            wanted.append(("", changes))

    plan: list[dict[str, Any]] = [{"name": "known-good", "known_good": True, "settings": dict(base)}]
    seen = {tuple(sorted(base.items()))}
    for label, changes in wanted:
        settings = {**base, **changes}
        key = tuple(sorted(settings.items()))
        if key in seen:
            continue
        seen.add(key)
        plan.append({"name": label or describe(settings, base), "known_good": False, "settings": settings})
    return plan


def loadtest_conf_settings(text: str) -> dict[str, Any]:
    """What a rendered gunicorn.conf.py really sets, for the report."""
    found: dict[str, Any] = {}
    for key in CONF_KEYS:
        match = re.search(rf"^{key}\s*=\s*(.+)$", text, re.MULTILINE)
        if match:
            try:
                found[key] = ast.literal_eval(match.group(1).strip())
            except (ValueError, SyntaxError) as exc:
                raise AnsibleFilterError(f"gunicorn.conf.py: cannot read {key} = {match.group(1)!r}") from exc
    return found


def loadtest_rows(
    results: list[dict[str, Any]], candidate: dict[str, Any], applied: dict[str, Any]
) -> list[dict[str, Any]]:
    """One measurement per endpoint from a looped loadtest_run, labelled with its candidate."""
    keys = ("rps", "latency_ms", "failures", "requests", "error_rate", "cpu_percent", "rss_mb")
    return [
        {
            "candidate": candidate["name"],
            "settings": candidate["settings"],
            "applied": applied,
            "endpoint": result["item"],
            "result": {key: result[key] for key in keys},
        }
        for result in results
        if not result.get("skipped")
    ]


class FilterModule:
    """flaskops.deploy load-test filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "loadtest_plan": loadtest_plan,
            "loadtest_conf_settings": loadtest_conf_settings,
            "loadtest_rows": loadtest_rows,
        }
