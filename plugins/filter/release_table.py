"""playbooks/releases.yml's table, from an app's release history (releases.log, one JSON object a line)."""

from __future__ import annotations

import json
from typing import Any

HEADER = "time                 | release        | action   | result        | seconds | by | source, or why"


def release_table(history: str, live: str = "", last: int = 20) -> list[str]:
    """The last entries as table rows, oldest first; the entry that made the live release live is starred."""
    entries = []
    for line in (history or "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    if not entries:
        return ["no release history on this host yet"]
    current = max(
        (i for i, e in enumerate(entries) if e.get("result") == "live" and e.get("release") == live), default=-1
    )
    rows = [HEADER]
    for index, entry in list(enumerate(entries))[-int(last) :]:
        release = f"{entry.get('release', '')}{' *' if index == current else ''}"
        detail = entry.get("reason") or " ".join(part for part in (entry.get("from"), entry.get("source")) if part)
        rows.append(
            f"{entry.get('time', ''):20} | {release:14} | {entry.get('action', ''):8} | {entry.get('result', ''):13} | "
            f"{entry.get('seconds', ''):>7} | {entry.get('by', '')} | {detail}"
        )
    return rows


class FilterModule:
    """flaskops.deploy filters for the release history."""

    def filters(self) -> dict[str, Any]:
        return {"release_table": release_table}
