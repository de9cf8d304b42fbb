#!/usr/bin/python
"""Prove that a new release loads and answers healthy, beside the live one, before it takes traffic."""

from __future__ import annotations

DOCUMENTATION = r"""
module: release_preflight
author: flaskops.deploy maintainers (@flaskops)
short_description: Loads a new release with gunicorn and asks it for its health, beside the live service
description:
  - Runs C(gunicorn --check-config) in the release as the app's user, which imports the app - an import error
    refuses the release.
  - With O(config) (the live service's C(gunicorn.conf.py)), then starts the release once beside the live
    service - a transient systemd unit, as the app's user with its environment file, one worker on a socket
    of its own - asks O(health_path) over that socket until it answers or O(timeout) runs out, and stops it.
  - It never fails on a refused release; it says why in RV(reason), so that the role can remove the release
    first. The live service is not touched either way.
options:
  release:
    description: The release directory (its C(.venv) holds gunicorn).
    type: path
    required: true
  user:
    description: The app's user.
    type: str
    required: true
  group:
    description: The app's group.
    type: str
    required: true
  env_file:
    description: The environment file of the app (a missing file is ignored).
    type: path
    required: true
  config:
    description: The live service's gunicorn.conf.py; empty on a first deploy, when only loading is checked.
    type: path
  app_module:
    description: The entry point to load when there is no O(config).
    type: str
    required: true
  health_path:
    description: The path that answers 200 when the app is healthy.
    type: str
    default: /health
  timeout:
    description: Seconds the release has to answer.
    type: int
    default: 30
  unit:
    description: The name of the transient unit, and of its runtime directory where its socket lives.
    type: str
    required: true
attributes:
  check_mode:
    support: none
    description: Cannot prove a release without starting it.
"""

EXAMPLES = r"""
- name: Prove the new release loads, and answers healthy beside the live one
  flaskops.deploy.release_preflight:
    release: /srv/shop/releases/3f2a9c1e0b7d
    user: shop
    group: shop
    env_file: /srv/shop/shared/env
    config: /etc/gunicorn/shop.conf.py
    app_module: shop.wsgi:app
    unit: gunicorn-shop-preflight
  register: app_preflight_result
"""

RETURN = r"""
healthy:
  description: Whether the release loads (and, with O(config), answered 200).
  type: bool
  returned: always
reason:
  description: Why the release was refused - gunicorn's error, or the health answer and the log.
  type: str
  returned: always
status:
  description: The status of the health answer; -1 for none.
  type: int
  returned: always
"""

import os
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.unix_http import get

# Seconds one health request may take; a slower one is asked again while the timeout lasts.
REQUEST_TIMEOUT = 5


def run(module: AnsibleModule, command: list[str]) -> tuple[int, str]:
    rc, out, err = module.run_command(command, environ_update={"PYTHONDONTWRITEBYTECODE": "1"})
    return rc, (out + err).strip()


def tail(text: str, lines: int) -> str:
    return " | ".join([line for line in text.splitlines() if line.strip()][-lines:])


def preflight(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    release, unit = params["release"], params["unit"]
    gunicorn = os.path.join(release, ".venv", "bin", "gunicorn")
    target = ["--config", params["config"]] if params["config"] else [params["app_module"]]
    rc, out = run(
        module, ["runuser", "-u", params["user"], "--", gunicorn, "--check-config", "--chdir", release, *target]
    )
    if rc != 0:
        return {"healthy": False, "status": -1, "reason": f"It does not load: {tail(out, 6)}"}
    if not params["config"]:
        return {"healthy": True, "status": -1, "reason": ""}
    sock = f"/run/{unit}/preflight.sock"
    run(module, ["systemctl", "stop", f"{unit}.service"])
    run(module, ["systemctl", "reset-failed", f"{unit}.service"])
    transient = [
        "systemd-run",
        f"--unit={unit}",
        "--collect",
        "--quiet",
        f"--uid={params['user']}",
        f"--gid={params['group']}",
        f"--property=RuntimeDirectory={unit}",
        f"--property=EnvironmentFile=-{params['env_file']}",
        f"--working-directory={release}",
    ]
    server = [gunicorn, f"--config={params['config']}", f"--chdir={release}", f"--bind=unix:{sock}"]
    rc, out = run(module, [*transient, *server, "--workers=1", "--no-control-socket"])
    if rc != 0:
        return {
            "healthy": False,
            "status": -1,
            "reason": f"It could not be started beside the live one: {tail(out, 6)}",
        }
    status, body = -1, ""
    deadline = time.monotonic() + params["timeout"]
    try:
        while time.monotonic() < deadline:
            status, body, _why = get(sock, params["health_path"], time.monotonic() + REQUEST_TIMEOUT)
            if status != -1:
                break
            time.sleep(0.25)
    finally:
        run(module, ["systemctl", "stop", f"{unit}.service"])
    if status == 200:
        return {"healthy": True, "status": status, "reason": ""}
    _rc, journal = run(module, ["journalctl", "--no-pager", "-o", "cat", "-n", "30", "-u", f"{unit}.service"])
    answered = "nothing" if status == -1 else str(status)
    return {
        "healthy": False,
        "status": status,
        "reason": f"Health check {params['health_path']} answered {answered}: {body.strip()[:300]} {tail(journal, 10)}",
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "release": {"type": "path", "required": True},
            "user": {"type": "str", "required": True},
            "group": {"type": "str", "required": True},
            "env_file": {"type": "path", "required": True},
            "config": {"type": "path"},
            "app_module": {"type": "str", "required": True},
            "health_path": {"type": "str", "default": "/health"},
            "timeout": {"type": "int", "default": 30},
            "unit": {"type": "str", "required": True},
        },
        supports_check_mode=False,
    )
    module.exit_json(changed=False, **preflight(module))


if __name__ == "__main__":
    main()
