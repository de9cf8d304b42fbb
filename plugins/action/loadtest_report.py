"""Write a tuning sweep's report on the controller: markdown, JSON, recommended vars and a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.flaskops.deploy.plugins.module_utils.loadtest_report import chart, markdown, recommend


def normalise(measurements: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    """One flat row per candidate and endpoint from the loadtest_run results."""
    rows = []
    for index, item in enumerate(measurements):
        try:
            result = item["result"]
            rows.append(
                {
                    "candidate": item["candidate"],
                    "endpoint": item["endpoint"],
                    "settings": item.get("settings", {}),
                    "applied": item.get("applied", {}),
                    "rps": float(result["rps"]),
                    "latency_ms": {k: float(v) for k, v in result["latency_ms"].items()},
                    "failures": int(result["failures"]),
                    "requests": int(result["requests"]),
                    "error_rate": float(result["error_rate"]),
                    "cpu": float(result.get("cpu_percent", {}).get(service, 0.0)),
                    "rss": float(result.get("rss_mb", {}).get(service, 0.0)),
                    "stack_rss": float(sum(result.get("rss_mb", {}).values())),
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnsibleActionFail(f"measurements[{index}] is not a loadtest_run result: {exc!r}") from exc
    return rows


class ActionModule(ActionBase):
    """Runs on the controller only; nothing is sent to the target."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("measurements", "dest", "service", "meta", "chart"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        if "dest" not in args or "measurements" not in args:
            raise AnsibleActionFail("loadtest_report needs dest and measurements")
        rows = normalise(list(args["measurements"]), str(args.get("service", "")))
        meta = dict(args.get("meta") or {})
        dest = Path(str(args["dest"])).expanduser()
        best = recommend(rows)
        files: dict[str, str] = {
            "results.json": json.dumps({"meta": meta, "rows": rows, "recommended": best}, indent=2, sort_keys=True)
            + "\n",
            "recommended.yml": "---\n"
            + (f"# {best['candidate']}: {best['reason']}\n" if best["candidate"] else f"# {best['reason']}\n")
            + "".join(f"{k}: {json.dumps(v)}\n" for k, v in best["variables"].items()),
        }
        png = dest / "report.png"
        chart_note = "![req/s and p99 per candidate](report.png)"
        missing = None
        if self._play_context.check_mode:
            result.update(changed=True, msg=f"check mode: the report would be written to {dest}")
            return result
        dest.mkdir(parents=True, exist_ok=True)
        if args.get("chart", True):
            missing = chart(rows, png, f"{meta.get('host', '')}: req/s and p99 per candidate and endpoint")
            if missing:
                chart_note = f"No chart: {missing}."
                self._display.warning(missing)
        else:
            chart_note = "No chart (loadtest_chart: false)."
        files["report.md"] = markdown(rows, meta, chart_note)
        changed = False
        for name, content in files.items():
            path = dest / name
            if not path.exists() or path.read_text() != content:
                path.write_text(content)
                changed = True
        result.update(
            changed=changed,
            report=str(dest / "report.md"),
            chart=None if missing or not args.get("chart", True) else str(png),
            recommended=best,
            rows=len(rows),
            msg=f"report in {dest / 'report.md'}" + (f" ({missing})" if missing else ""),
        )
        return result
