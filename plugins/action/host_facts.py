"""Give an inventory host the facts another host of this run has gathered: the apps of a host share its facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def facts_of(hostvars: Mapping[str, Any], host: str) -> dict[str, Any]:
    """The facts `host` has gathered in this run, or a clear error naming what is missing."""
    if host not in hostvars:
        raise AnsibleActionFail(f"host_facts: {host!r} is no host of this inventory")
    facts = hostvars[host].get("ansible_facts") or {}
    if "processor_vcpus" not in facts:
        raise AnsibleActionFail(
            f"host_facts: {host} has gathered no facts in this run (gather_facts, or ansible.builtin.setup with"
            " gather_subset [min, hardware, network]): there is nothing to share"
        )
    return dict(facts)


class ActionModule(ActionBase):
    """On the controller only: no connection, no module sent."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("host",))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        host = self._task.args.get("host")
        if not isinstance(host, str) or not host:
            raise AnsibleActionFail("host_facts: host must be the name of an inventory host")
        result.update(changed=False, ansible_facts=facts_of((task_vars or {})["hostvars"], host))
        return result
