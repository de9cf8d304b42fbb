"""Take an app's deploy lock for this play, taking over one left by a play of this controller that is gone.

A lock whose lease has run out (whoever held it, wherever) is taken over by the module itself.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

MODULE = "flaskops.deploy.deploy_lock"


def this_play() -> dict[str, Any]:
    """The ansible-playbook process this task runs for (the parent of the worker), on this controller."""
    pid = os.getppid()
    return {
        "by": f"{getpass.getuser()}@{socket.gethostname()}",
        "controller": socket.gethostname(),
        "pid": pid,
        "started": _started(pid),
    }


def _started(pid: int) -> str:
    """The process's start time, so that a pid used again by another process is not taken for it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _utc(epoch: Any) -> str:
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(epoch)))
    except (TypeError, ValueError, OverflowError):
        return str(epoch)


def gone(holder: dict[str, Any]) -> bool:
    """Whether the holder was a play of this controller that no longer runs."""
    if holder.get("controller") != socket.gethostname():
        return False
    try:
        pid = int(holder.get("pid", 0))
    except (TypeError, ValueError):
        return True
    return pid <= 0 or _started(pid) != str(holder.get("started", ""))


class ActionModule(ActionBase):
    """Tries once; takes over a stale lock of this controller; then waits on the host for the rest."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "state", "timeout", "lease", "unchanged_since"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = {**self._task.args, "holder": this_play()}
        if self._task.check_mode:
            result.update(changed=False, held=False, skipped_reason="a dry run takes no lock")
            return result
        if args.get("state", "held") == "free":
            result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
            return result
        timeout = int(args.pop("timeout", 300))
        answer = self._execute_module(MODULE, module_args={**args, "timeout": 0}, task_vars=task_vars)
        # Only a lock taken at the first try can say that nothing changed since unchanged_since.
        args.pop("unchanged_since", None)
        if not answer.get("held") and gone(answer.get("holder") or {}):
            answer = self._execute_module(
                MODULE, module_args={**args, "timeout": 0, "take_over": answer["holder"]}, task_vars=task_vars
            )
        if not answer.get("held") and not answer.get("failed"):
            answer = self._execute_module(MODULE, module_args={**args, "timeout": timeout}, task_vars=task_vars)
        if answer.get("failed"):
            raise AnsibleActionFail(f"deploy_lock: {answer.get('msg', '')}")
        if not answer.get("held"):
            holder = answer.get("holder") or {}
            lease = (
                f"; its lease (app_lock_lease) runs until {_utc(holder['expires'])} unless it renews it"
                if holder.get("expires")
                else ""
            )
            raise AnsibleActionFail(
                f"another deploy holds {args['path']}: {holder.get('by', 'someone')} since {holder.get('since', '?')}"
                f" (play pid {holder.get('pid', '?')} on {holder.get('controller', '?')}); waited {timeout} s"
                f" (app_lock_timeout){lease}. If that run is gone, remove the file."
            )
        result.update(answer)
        return result
