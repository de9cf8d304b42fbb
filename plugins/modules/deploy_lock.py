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
  unchanged_since:
    description:
      - The host's time of an earlier read of what the lock guards (M(flaskops.deploy.host_state)'s C(read_at)).
        The answer's RV(unchanged) says whether that read still holds - no deploy took or gave back the lock since.
    type: float
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
unchanged:
  description:
    - With O(unchanged_since) - true when this call took a free lock at once and nobody had taken it since that
      time, so what was read then still holds; false when it waited, took over a stale lock, held it already
      or someone took or gave it back since (each leaves its time beside the lock file, in C(<path>.taken)).
  type: bool
  returned: always
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.deploy_lock import (
    expired,
    last_taken,
    mark_taken,
    read,
    replace_if,
    same,
    write,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["held", "free"], "default": "held"},
            "timeout": {"type": "int", "default": 300},
            "lease": {"type": "int", "default": 0},
            "holder": {"type": "dict", "required": True},
            "take_over": {"type": "dict"},
            "unchanged_since": {"type": "float"},
        },
        supports_check_mode=False,
    )
    path, holder, lease = module.params["path"], module.params["holder"], module.params["lease"]
    since = module.params["unchanged_since"]
    current = read(path)
    if module.params["state"] == "free":
        if same(current, holder):
            mark_taken(path)  # before the lock goes: whoever takes it next sees the mark
            os.unlink(path)
            module.exit_json(changed=False, held=False, holder=current, unchanged=False)
        module.exit_json(changed=False, held=False, holder=current or {}, unchanged=False)
    if same(current, holder):
        # Held already: the lease starts again.
        replace_if(path, current, holder, lease, since=str((current or {}).get("since", "")))
        module.exit_json(changed=False, held=True, holder=read(path), unchanged=False)
    stale = module.params["take_over"]
    if stale and same(current, stale) and replace_if(path, current, holder, lease):
        mark_taken(path)
        module.exit_json(changed=False, held=True, holder=read(path), taken_over=current, unchanged=False)
    deadline = time.monotonic() + module.params["timeout"]
    at_once = True
    while True:
        if write(path, holder, exclusive=True, lease=lease):
            before = last_taken(path)
            mark_taken(path)
            quiet = at_once and since is not None and (before is None or before < since)
            module.exit_json(changed=False, held=True, holder=read(path), unchanged=quiet)
        at_once = False
        current = read(path)
        if current and expired(current) and replace_if(path, current, holder, lease):
            mark_taken(path)
            module.exit_json(changed=False, held=True, holder=read(path), taken_over=current, unchanged=False)
        if time.monotonic() >= deadline:
            module.exit_json(changed=False, held=False, holder=current or {}, unchanged=False)
        time.sleep(1)


if __name__ == "__main__":
    main()
