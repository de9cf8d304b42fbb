#!/usr/bin/python
"""Enable and start systemd units (restarting some), then make sure they stay up, in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: units_running
author: flaskops.deploy maintainers (@flaskops)
short_description: Enables, starts or restarts systemd units, then checks that they stay up
description:
  - Enables every unit of O(units) that is not enabled, restarts those in O(restart) (a stop with the unit's own
    C(KillSignal) and C(TimeoutStopSec), so that a worker finishes the job in hand) and starts the others that are
    not active, with one C(systemctl) call each.
  - Then watches them for O(settle) seconds - a service must stay active and not be restarted by systemd, a timer
    must be waiting - and fails naming each that did not, with the exception its journal ends with and the journal's
    last lines; a write into the read-only release gets a hint to write below the app's C(shared/) directory.
  - Stops with O(stop) (disabled, stopped) what should no longer run.
options:
  units:
    description: Units that must be enabled and running (services) or waiting (timers).
    type: list
    elements: str
    default: []
  restart:
    description: Units of O(units) to restart even when they run (a new release, a changed unit).
    type: list
    elements: str
    default: []
  stop:
    description: Units to stop and disable.
    type: list
    elements: str
    default: []
  settle:
    description: Seconds the units must stay up after a start or restart.
    type: int
    default: 5
  daemon_reload:
    description: Reload systemd's unit files first (a unit file was written).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Says what it would enable, start, restart or stop, and does none of it.
"""

EXAMPLES = r"""
- name: Run the app's worker on the new release
  flaskops.deploy.units_running:
    units: [shop.worker@1.service, shop.worker@2.service, shop.nightly.timer]
    restart: [shop.worker@1.service, shop.worker@2.service]
"""

RETURN = r"""
started:
  description: The units this call started or restarted.
  type: list
  elements: str
  returned: always
stopped:
  description: The units this call stopped.
  type: list
  elements: str
  returned: always
"""

import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.systemd import (
    UnitState,
    journal_summary,
    read_journal,
    restarts,
    shared_dir,
    show,
    up,
)

UNIT_PROPERTIES = ("ActiveState", "SubState", "UnitFileState", "NRestarts", "WorkingDirectory")


def systemctl(module: AnsibleModule, *args: str) -> None:
    rc, out, err = module.run_command(["systemctl", *args])
    if rc != 0:
        module.fail_json(msg=f"systemctl {' '.join(args)} failed: {(out + err).strip()}")


def why_down(module: AnsibleModule, unit: str, state: UnitState) -> str:
    """The unit, how it ended and its journal, the exception first (a Celery beat's banner says nothing)."""
    summary = journal_summary(
        read_journal(module.run_command, unit), tail=8, shared=shared_dir(state.get("WorkingDirectory", ""))
    )
    return f"{unit} is {state.get('ActiveState', 'gone')}: {' | '.join(summary)}"


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "units": {"type": "list", "elements": "str", "default": []},
            "restart": {"type": "list", "elements": "str", "default": []},
            "stop": {"type": "list", "elements": "str", "default": []},
            "settle": {"type": "int", "default": 5},
            "daemon_reload": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    units, stop = params["units"], params["stop"]
    if params["daemon_reload"] and not module.check_mode:
        systemctl(module, "daemon-reload")
    before = show(module.run_command, units + stop, UNIT_PROPERTIES)
    to_stop = [u for u in stop if before.get(u, {}).get("ActiveState") in ("active", "activating", "reloading")]
    to_stop += [u for u in stop if before.get(u, {}).get("UnitFileState") == "enabled" and u not in to_stop]
    to_enable = [u for u in units if before.get(u, {}).get("UnitFileState") not in ("enabled", "static")]
    to_restart = [u for u in params["restart"] if u in units]
    to_start = [u for u in units if u not in to_restart and before.get(u, {}).get("ActiveState") != "active"]
    result: dict[str, Any] = {
        "changed": bool(to_stop or to_enable or to_restart or to_start or params["daemon_reload"]),
        "started": to_restart + to_start,
        "stopped": to_stop,
    }
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)
    if to_stop:
        systemctl(module, "disable", "--now", "--", *to_stop)
    if to_enable:
        systemctl(module, "enable", "--", *to_enable)
    if to_restart:
        systemctl(module, "restart", "--", *to_restart)
    if to_start:
        systemctl(module, "start", "--", *to_start)
    watched = to_restart + to_start
    deadline = time.monotonic() + params["settle"]
    while watched and time.monotonic() < deadline:
        time.sleep(1)
        states = show(module.run_command, watched, UNIT_PROPERTIES)
        down = [u for u in watched if not up(states.get(u, {}), restarts(before.get(u, {})))]
        if down:
            reasons = [why_down(module, unit, states.get(unit, {})) for unit in down]
            module.fail_json(msg="; ".join(reasons), failed_units=down, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
