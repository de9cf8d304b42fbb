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
    automatic restart, or the unit failed) cannot answer, so the module gives up at once and returns the last lines
    of the unit's journal. Requests queued on the socket meanwhile would otherwise wait out the whole
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
  description: Why it is not healthy - the last answer, or how the unit ended and its journal's last lines.
  type: str
  returned: always
seconds:
  description: How long it waited.
  type: float
  returned: always
"""

import re
import select
import socket
import time
from collections.abc import Callable
from typing import Any

from ansible.module_utils.basic import AnsibleModule

UnitState = dict[str, str]


def crashed(state: UnitState, restarts_before: str) -> str:
    """Why a unit in this state will not answer on its own, or '' while it may still answer.

    NRestarts is not reset by every manual restart, so it is compared with its value when the watch began.
    """
    if not state:
        return ""
    if state.get("ActiveState") == "failed":
        return f"the unit failed ({state.get('Result', 'unknown')})"
    if state.get("SubState") == "auto-restart" or state.get("NRestarts", "0") != restarts_before:
        return f"the service exited (status {state.get('ExecMainStatus', '?')}) and systemd is restarting it"
    if state.get("ActiveState") == "inactive":
        return "the service is stopped"
    return ""


def parse_status(answer: bytes) -> int:
    """The status code of an HTTP answer, -1 if it is not one."""
    parts = answer.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return -1


def ask_once(
    path: str, url_path: str, deadline: float, still_up: Callable[[], str], poll: float = 0.25
) -> tuple[int, str, str]:
    """(status, body, why it stopped waiting): one request, waiting for its answer while the unit stays up."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
        try:
            sock.connect(path)
            sock.sendall(f"GET {url_path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        except OSError as error:
            return -1, "", f"the socket refused the request: {error}"
        answer = b""
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([sock], [], [], poll)
            if not ready:
                why = still_up()
                if why:
                    return -1, "", why
                continue
            try:
                chunk = sock.recv(65536)
            except OSError as error:
                return -1, "", f"the connection broke: {error}"
            if not chunk:
                break
            answer += chunk
        else:
            return -1, "", "no answer in time"
        head, _sep, body = answer.partition(b"\r\n\r\n")
        status = parse_status(head)
        return status, body.decode("utf-8", errors="replace"), "" if status != -1 else "the answer was not HTTP"
    finally:
        sock.close()


def watch(
    path: str, url_path: str, timeout: float, still_up: Callable[[], str], retry_pause: float = 0.5
) -> dict[str, Any]:
    """Ask until 200, the deadline, or the unit going down."""
    start = time.monotonic()
    deadline = start + timeout
    status, body, why = -1, "", "no answer in time"
    while time.monotonic() < deadline:
        status, body, why = ask_once(path, url_path, deadline, still_up)
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


def journal_summary(journal: str, tail: int = 4) -> list[str]:
    """The error lines of a crash (an exception's message, gunicorn's reason), then the journal's last lines."""
    lines = [line.strip() for line in journal.splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"^\w*(Error|Exception)\b|Reason:|\[ERROR\]", line)]
    last = lines[-tail:]
    return [line for line in errors[-3:] if line not in last] + last


def unit_state(module: AnsibleModule, unit: str) -> UnitState:
    properties = "ActiveState,SubState,Result,NRestarts,ExecMainStatus"
    rc, out, _err = module.run_command(["systemctl", "show", unit, f"--property={properties}"])
    if rc != 0:
        return {}
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


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
    down = crashed(first, first.get("NRestarts", "0"))
    if down:
        result = {"healthy": False, "status": -1, "reason": down, "seconds": 0.0}
    else:
        result = watch(
            params["socket"],
            params["health_path"],
            params["timeout"],
            lambda: crashed(unit_state(module, params["unit"]), first.get("NRestarts", "0")),
        )
    if not result["healthy"]:
        _rc, journal, _err = module.run_command(
            ["journalctl", "--no-pager", "-o", "cat", "-n", "60", "-u", params["unit"]]
        )
        result["reason"] = " | ".join([result["reason"], *journal_summary(journal)])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
