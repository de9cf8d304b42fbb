#!/usr/bin/python
"""Give an inventory host the facts another host of this run has gathered (action plugin only)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host_facts
author: flaskops.deploy maintainers (@flaskops)
short_description: Gives an inventory host the facts another host of the run has gathered
description:
  - An app among several on a machine is an inventory host of its own (C(<app>@<host>)) on the same machine.
    Instead of gathering the machine's facts again for every app, it takes those its machine gathered in this
    run. Runs on the controller only; nothing is sent to the host.
  - Fails, naming the host, when that host is not in the inventory or has gathered no facts in this run.
options:
  host:
    description: The inventory host whose facts to take (it has gathered them in an earlier task or play).
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Changes nothing on any host, so a dry run does the same.
  diff_mode:
    support: none
    description: Writes nothing to show.
"""

EXAMPLES = r"""
- name: Take the facts of the machine this app runs on
  flaskops.deploy.host_facts:
    host: "{{ flaskops_host }}"
"""

RETURN = r"""
ansible_facts:
  description: The facts of O(host), now this host's too.
  returned: success
  type: dict
"""
