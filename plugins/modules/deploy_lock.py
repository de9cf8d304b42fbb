#!/usr/bin/python
"""One deploy of an app on a host at a time: a lock file naming who holds it since when."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
author: flaskops.deploy maintainers (@flaskops)
short_description: Takes or gives back an app's deploy lock on a host
description:
  - A lock file naming its holder - who ran the play from which controller, the play's process there, since when.
    Taking it waits up to O(timeout) seconds for another holder to give it back, then fails naming that holder.
  - The action plugin of the same name knows the play it runs in, and takes over a lock whose holder was a play
    of the same controller that no longer runs (killed, interrupted); a holder on another controller is waited for.
  - The same play taking it again (another entry point of the role) holds it already.
  - Taking or giving back the lock is bookkeeping, not a change of the host's configuration - it never reports
    a change, so a deploy that changes nothing stays C(changed=0).
options:
  path:
    description: The lock file.
    type: path
    required: true
  state:
    description: C(held) takes the lock, C(free) gives it back (only if this play holds it).
    type: str
    choices: [held, free]
    default: held
  timeout:
    description: Seconds to wait for another holder.
    type: int
    default: 300
  holder:
    description: Who takes it (set by the action plugin) - by, controller, pid, started.
    type: dict
    required: true
  take_over:
    description: The holder of a stale lock to replace (set by the action plugin).
    type: dict
attributes:
  check_mode:
    support: none
    description: A dry run takes no lock.
"""

EXAMPLES = r"""
- name: Take the app's deploy lock
  flaskops.deploy.deploy_lock:
    path: /run/lock/flaskops-shop.lock
    timeout: 300
"""

RETURN = r"""
held:
  description: Whether this play holds the lock after the call.
  type: bool
  returned: always
holder:
  description: Who holds the lock (this play, or the one waited for in vain).
  type: dict
  returned: always
taken_over:
  description: The stale holder this call replaced, if any.
  type: dict
  returned: when a stale lock was taken over
"""

import json
import os
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule


def read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    keys = ("controller", "pid", "started")
    return bool(a) and bool(b) and all(a.get(k) == b.get(k) for k in keys)  # type: ignore[union-attr]


def write(path: str, holder: dict[str, Any], exclusive: bool) -> bool:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    data = json.dumps({**holder, "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n"
    if not exclusive:
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(temporary, path)
        return True
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(data)
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["held", "free"], "default": "held"},
            "timeout": {"type": "int", "default": 300},
            "holder": {"type": "dict", "required": True},
            "take_over": {"type": "dict"},
        },
        supports_check_mode=False,
    )
    path, holder = module.params["path"], module.params["holder"]
    current = read(path)
    if module.params["state"] == "free":
        if same(current, holder):
            os.unlink(path)
            module.exit_json(changed=False, held=False, holder=current)
        module.exit_json(changed=False, held=False, holder=current or {})
    if same(current, holder):
        module.exit_json(changed=False, held=True, holder=current)
    stale = module.params["take_over"]
    if stale and same(current, stale):
        write(path, holder, exclusive=False)
        module.exit_json(changed=False, held=True, holder=read(path), taken_over=current)
    deadline = time.monotonic() + module.params["timeout"]
    while True:
        if write(path, holder, exclusive=True):
            module.exit_json(changed=False, held=True, holder=read(path))
        current = read(path)
        if time.monotonic() >= deadline:
            module.exit_json(changed=False, held=False, holder=current or {})
        time.sleep(1)


if __name__ == "__main__":
    main()
