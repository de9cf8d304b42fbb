"""Print each app's figures from Prometheus and draw the last hour, on the controller (playbooks/status.yml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.flaskops.deploy.plugins.module_utils.status_report import chart, rows, text_table


def _data(answers: Any, kind: str) -> dict[str, list[dict[str, Any]]]:
    """{figure: result} from uri results of Prometheus's API, each item's loop key the figure's name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for index, answer in enumerate(answers or []):
        try:
            body = answer["json"]
            if body.get("status") != "success":
                raise AnsibleActionFail(f"Prometheus refused the {kind} query {answer['item']['key']}: {body}")
            found[answer["item"]["key"]] = body["data"]["result"]
        except (KeyError, TypeError) as exc:
            raise AnsibleActionFail(f"{kind}[{index}] is no answer of Prometheus's API: {exc!r}") from exc
    return found


class ActionModule(ActionBase):
    """Runs on the controller only; nothing is sent to the target."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("instant", "ranges", "start", "minutes", "dest", "title"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        if "dest" not in args or "instant" not in args:
            raise AnsibleActionFail("status_report needs dest and instant")
        table = rows(_data(args["instant"], "instant"))
        lines = text_table(table, int(args.get("minutes", 15)))
        dest = Path(str(args["dest"])).expanduser()
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "status.json").write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (dest / "status.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        files = [str(dest / "status.txt"), str(dest / "status.json")]
        missing = None
        if args.get("ranges"):
            png = dest / "status.png"
            missing = chart(
                _data(args["ranges"], "range"), float(args.get("start", 0)), png, str(args.get("title", ""))
            )
            if missing is None:
                files.append(str(png))
            else:
                result.setdefault("warnings", []).append(missing)
        result.update(changed=False, rows=table, table=lines, files=files)
        return result
