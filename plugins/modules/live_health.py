#!/usr/bin/python
"""Wait for a just-restarted service to answer healthy on its socket, and give up as soon as it crashes."""

from __future__ import annotations

DOCUMENTATION = r"""
module: live_health
author: flaskops.deploy maintainers (@flaskops)
short_description: Asks a restarted socket-activated service for its health, watching the unit while it waits
description:
  - Sends one GET for O(health_path) over the Unix socket O(socket) and waits for the answer, asking again after
    any answer other than 200, until 200 comes back or O(timeout) runs out.
  - While it waits it reads the state of O(unit). A service that exited since its last start (systemd counts an
    automatic restart, or the unit failed) cannot answer, so the module gives up at once and returns the exception
    in the unit's journal and its last lines. Requests queued on the socket meanwhile would otherwise wait out the whole
    O(timeout), and the clients in front of nginx would give up first.
  - It never fails; RV(healthy) says whether the service answered 200, so that the role can roll back first.
options:
  unit:
    description: The service unit (C(name.service)) that answers on O(socket).
    type: str
    required: true
  socket:
    description: The Unix socket the service listens on.
    type: path
    required: true
  health_path:
    description: The path that answers 200 when the app is healthy.
    type: str
    default: /health
  timeout:
    description: Seconds the service has to answer 200.
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: Only reads; in check mode it asks the service as well.
"""

EXAMPLES = r"""
- name: Check the live app over its socket
  flaskops.deploy.live_health:
    unit: gunicorn-shop.service
    socket: /run/gunicorn-shop.sock
    health_path: /health
    timeout: 30
  register: app_health_result
  failed_when: not app_health_result.healthy
"""

RETURN = r"""
healthy:
  description: Whether the service answered 200.
  type: bool
  returned: always
status:
  description: The status of the last answer; -1 for none.
  type: int
  returned: always
reason:
  description: Why it is not healthy - the last answer, or how the unit ended; then its journal's exception and
    last lines.
  type: str
  returned: always
seconds:
  description: How long it waited.
  type: float
  returned: always
"""

import time
from collections.abc import Callable
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.systemd import (
    UnitState,
    crashed,
    journal_summary,
    read_journal,
    restarts,
    show,
)
from ansible_collections.flaskops.deploy.plugins.module_utils.unix_http import get

UNIT_PROPERTIES = ("ActiveState", "SubState", "Result", "NRestarts", "ExecMainStatus")


def watch(
    path: str, url_path: str, timeout: float, still_up: Callable[[], str], retry_pause: float = 0.5
) -> dict[str, Any]:
    """Ask until 200, the deadline, or the unit going down."""
    start = time.monotonic()
    deadline = start + timeout
    status, body, why = -1, "", "no answer in time"
    while time.monotonic() < deadline:
        status, body, why = get(path, url_path, deadline, still_up)
        if status == 200:
            return {"healthy": True, "status": 200, "reason": "", "seconds": round(time.monotonic() - start, 2)}
        down = still_up()
        if down:
            why = down
            break
        time.sleep(retry_pause)
    if status not in (-1, 200):
        why = f"it answered {status}: {body.strip()[:300]}"
    return {"healthy": False, "status": status, "reason": why, "seconds": round(time.monotonic() - start, 2)}


def unit_state(module: AnsibleModule, unit: str) -> UnitState:
    """The unit's state now; {} when systemctl cannot say, which is no crash."""
    return show(module.run_command, [unit], UNIT_PROPERTIES).get(unit, {})


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "unit": {"type": "str", "required": True},
            "socket": {"type": "path", "required": True},
            "health_path": {"type": "str", "default": "/health"},
            "timeout": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    params = module.params
    first = unit_state(module, params["unit"])
    before = restarts(first)
    down = crashed(first, before)
    if down:
        result = {"healthy": False, "status": -1, "reason": down, "seconds": 0.0}
    else:
        result = watch(
            params["socket"],
            params["health_path"],
            params["timeout"],
            lambda: crashed(unit_state(module, params["unit"]), before),
        )
    if not result["healthy"]:
        journal = read_journal(module.run_command, params["unit"])
        result["reason"] = " | ".join([result["reason"], *journal_summary(journal)])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
