#!/usr/bin/python
"""Documentation of the status_report action plugin, which runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: status_report
author: flaskops.deploy maintainers (@flaskops)
short_description: Each app's figures from Prometheus, as a table and a chart on the controller
description:
  - Runs on the controller only (an action plugin), for C(playbooks/status.yml). From answers of Prometheus's HTTP
    API (C(ansible.builtin.uri) results, looped over a dict of queries, each answer's C(item.key) the figure's name)
    it returns a table per app and host - live release, req/s, 5xx ratio, p99, workers alive against configured,
    RSS - and writes into O(dest) C(status.txt), C(status.json) and, from range queries, C(status.png), req/s and p99
    per app over the window with a dashed line where a release went live (drawn with matplotlib).
  - Without matplotlib on the controller it writes everything but the chart and warns.
options:
  instant:
    description:
      - Answers of instant queries; keys C(release) (C(flaskops_release_info)), C(rate), C(errors), C(p99), C(alive),
        C(configured) and C(memory), each a vector with C(app) and C(host) labels.
    type: list
    elements: dict
    required: true
  ranges:
    description:
      - Answers of range queries over the window; keys C(rate), C(p99) and C(release) (the time each live release went
        live, C(flaskops_release_live_since_timestamp_seconds), with its C(release) label).
    type: list
    elements: dict
    default: []
  start:
    description: The window's start, in seconds since the epoch.
    type: float
    default: 0
  minutes:
    description: The length of the window of the instant figures, for the table's title.
    type: int
    default: 15
  dest:
    description: Directory on the controller; created when missing.
    type: path
    required: true
  title:
    description: The chart's title.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Print and draw what Prometheus says of each app
  flaskops.deploy.status_report:
    instant: "{{ status_instant_result.results }}"
    ranges: "{{ status_range_result.results }}"
    start: "{{ status_start }}"
    dest: ./status
"""

RETURN = r"""
rows:
  description:
    - One dict per app and host with release, source, rate, errors, p99 (seconds), alive, configured and memory
      (bytes).
  returned: always
  type: list
  elements: dict
table:
  description: The table as lines of text.
  returned: always
  type: list
  elements: str
files:
  description: The files written.
  returned: always
  type: list
  elements: str
"""
