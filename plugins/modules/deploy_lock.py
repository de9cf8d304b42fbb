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
    of the same controller that no longer runs (killed, interrupted).
  - With a O(lease), the lock also names when it expires; a lock whose lease has run out is taken over whoever
    held it, on whatever controller or container (an AWX job killed mid-deploy), so nobody waits in vain for a
    job that is gone. The holder renews the lease at each step of its deploy (each call with O(state=held)),
    and M(flaskops.deploy.release_venv) renews it while it builds, so a live deploy is never taken over.
  - The same play taking it again (another entry point of the role) holds it already, and renews the lease.
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
  lease:
    description: Seconds the lock stays held without a renewal; C(0) for no lease (held until given back).
    type: int
    default: 0
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
  description: The stale holder this call replaced (gone from this controller, or its lease run out), if any.
  type: dict
  returned: when a stale lock was taken over
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.deploy_lock import expired, read, replace_if, same, write


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["held", "free"], "default": "held"},
            "timeout": {"type": "int", "default": 300},
            "lease": {"type": "int", "default": 0},
            "holder": {"type": "dict", "required": True},
            "take_over": {"type": "dict"},
        },
        supports_check_mode=False,
    )
    path, holder, lease = module.params["path"], module.params["holder"], module.params["lease"]
    current = read(path)
    if module.params["state"] == "free":
        if same(current, holder):
            os.unlink(path)
            module.exit_json(changed=False, held=False, holder=current)
        module.exit_json(changed=False, held=False, holder=current or {})
    if same(current, holder):
        # Held already: the lease starts again.
        replace_if(path, current, holder, lease, since=str((current or {}).get("since", "")))
        module.exit_json(changed=False, held=True, holder=read(path))
    stale = module.params["take_over"]
    if stale and same(current, stale) and replace_if(path, current, holder, lease):
        module.exit_json(changed=False, held=True, holder=read(path), taken_over=current)
    deadline = time.monotonic() + module.params["timeout"]
    while True:
        if write(path, holder, exclusive=True, lease=lease):
            module.exit_json(changed=False, held=True, holder=read(path))
        current = read(path)
        if current and expired(current) and replace_if(path, current, holder, lease):
            module.exit_json(changed=False, held=True, holder=read(path), taken_over=current)
        if time.monotonic() >= deadline:
            module.exit_json(changed=False, held=False, holder=current or {})
        time.sleep(1)


if __name__ == "__main__":
    main()
