"""The host_facts action: an app's inventory host takes its machine's facts, or fails naming what is missing."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.flaskops.deploy.plugins.action.host_facts import facts_of

MACHINE = {"processor_vcpus": 2, "memtotal_mb": 2048, "distribution": "Debian"}


def test_an_app_takes_its_machines_facts() -> None:
    hostvars = {"web1": {"ansible_facts": MACHINE}, "shop@web1": {}}
    facts = facts_of(hostvars, "web1")
    assert facts == MACHINE
    assert facts is not MACHINE  # a copy: the app's facts are its own from here


def test_an_unknown_host_is_named() -> None:
    with pytest.raises(AnsibleActionFail, match="'web9' is no host of this inventory"):
        facts_of({"web1": {"ansible_facts": MACHINE}}, "web9")


@pytest.mark.parametrize("machine", [{}, {"ansible_facts": {}}, {"ansible_facts": {"distribution": "Debian"}}])
def test_a_machine_without_gathered_facts_is_named(machine: dict[str, object]) -> None:
    with pytest.raises(AnsibleActionFail, match="web1 has gathered no facts in this run"):
        facts_of({"web1": machine}, "web1")
