"""Each app's live release and its deploy history as metrics, for the node exporter's textfile collector.

Usage: python3 release-metrics APPS_JSON OUTPUT.prom. APPS_JSON lists the host's apps ({name, history, current,
service, workers}, the paths from the app role's app_identity): each app's history file holds one JSON line per
deploy, refusal and rollback (flaskops.deploy.app), and its current link points at the live release. Started by
flaskops-release-metrics.path whenever a history changes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HEADER = """\
# HELP flaskops_release_info The live release of an app on this host (release id and source as labels).
# TYPE flaskops_release_info gauge
# HELP flaskops_release_live_since_timestamp_seconds When the live release went live (its last deploy or rollback).
# TYPE flaskops_release_live_since_timestamp_seconds gauge
# HELP flaskops_deploys_total Deploys and rollbacks of an app on this host, by action and result, from its history.
# TYPE flaskops_deploys_total counter
# HELP flaskops_last_deploy_timestamp_seconds When an app's last deploy or rollback of each result ended.
# TYPE flaskops_last_deploy_timestamp_seconds gauge
# HELP flaskops_gunicorn_workers_configured The gunicorn workers an app's web service is configured with.
# TYPE flaskops_gunicorn_workers_configured gauge
"""


def label(value: Any) -> str:
    """A label value in the text format's escaping."""
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def timestamp(text: str) -> float:
    """Seconds since the epoch of a history line's time (UTC, %Y-%m-%dT%H:%M:%SZ); 0 if unreadable."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except (TypeError, ValueError):
        return 0.0


def history(path: Path) -> list[dict[str, Any]]:
    """The app's release history, its unreadable lines left out."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def app_metrics(app: dict[str, Any]) -> list[str]:
    """The metric lines of one app."""
    name = label(app["name"])
    try:
        live = os.path.basename(os.readlink(app["current"]))
    except OSError:
        live = ""
    entries = history(Path(app["history"]))
    went_live = [e for e in entries if e.get("release") == live and e.get("result") == "live"]
    last = went_live[-1] if went_live else {}
    lines = [
        f'flaskops_release_info{{app="{name}",release="{label(live)}",source="{label(last.get("source", ""))}"}} 1',
        f'flaskops_release_live_since_timestamp_seconds{{app="{name}"}} {timestamp(last.get("time", ""))}',
        f'flaskops_gunicorn_workers_configured{{app="{name}"}} {int(app.get("workers", 0))}',
    ]
    counts = Counter((str(e.get("action", "deploy")), str(e.get("result", ""))) for e in entries)
    ended: dict[str, float] = {}
    for entry in entries:
        ended[str(entry.get("result", ""))] = timestamp(entry.get("time", ""))
    for (action, result), count in sorted(counts.items()):
        labels = f'app="{name}",action="{label(action)}",result="{label(result)}"'
        lines.append(f"flaskops_deploys_total{{{labels}}} {count}")
    for result, when in sorted(ended.items()):
        lines.append(f'flaskops_last_deploy_timestamp_seconds{{app="{name}",result="{label(result)}"}} {when}')
    return lines


def main(apps_file: str, output: str) -> int:
    """Write every app's metrics to OUTPUT atomically (the collector never reads half a file)."""
    apps = json.loads(Path(apps_file).read_text(encoding="utf-8"))
    text = HEADER + "".join(line + "\n" for app in apps for line in app_metrics(app))
    target = Path(output)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".flaskops-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
