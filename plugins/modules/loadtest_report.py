#!/usr/bin/python
"""Documentation of the loadtest_report action plugin, which runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: loadtest_report
author: flaskops.deploy maintainers (@flaskops)
short_description: Write a tuning sweep's report on the controller
description:
  - Runs on the controller only (an action plugin). From the results of
    M(flaskops.deploy.loadtest_run), one per candidate and endpoint, it writes into O(dest)
    C(report.md) (a table of req/s, p50/p95/p99, failed requests, CPU and RSS per candidate, and the
    recommended settings as ready-to-paste variables), C(report.png) (req/s and p99 per candidate,
    drawn with matplotlib), C(results.json) and C(recommended.yml).
  - Without matplotlib on the controller it writes everything but the chart and warns.
options:
  measurements:
    description:
      - One dict per run with C(candidate), C(endpoint), C(settings), C(applied) (what gunicorn.conf.py
        set) and C(result) (what M(flaskops.deploy.loadtest_run) returned).
    type: list
    elements: dict
    required: true
  dest:
    description: Directory on the controller; created when missing.
    type: path
    required: true
  service:
    description: The gunicorn service whose CPU and RSS go into the table.
    type: str
    default: ""
  meta:
    description: Context printed at the top of the report (host, date, host facts, load).
    type: dict
    default: {}
  chart:
    description: Draw the PNG chart.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Write the report
  flaskops.deploy.loadtest_report:
    measurements: "{{ loadtest_measurements }}"
    dest: "{{ playbook_dir }}/tune-report/{{ inventory_hostname }}"
    service: gunicorn-flaskapp
"""

RETURN = r"""
report:
  description: Path of report.md.
  type: str
  returned: success
chart:
  description: Path of report.png, or null without matplotlib.
  type: str
  returned: success
recommended:
  description: The winning candidate, its score and its ready-to-paste gunicorn variables.
  type: dict
  returned: success
"""
