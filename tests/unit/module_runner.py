"""Runs a module's main() as Ansible runs it - its argument spec, its JSON answer - for the unit tests."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


def run_module(
    module: ModuleType, args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False
) -> dict[str, Any]:
    """The module's JSON answer for these arguments (in check mode with check, always with diff)."""
    payload = {"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check, "_ansible_diff": True}}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps(payload)))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())


# systemctl and journalctl as a module calls them, for hosts (and test runners) where systemd is not PID 1:
# `show` prints each unit's properties from units.json, "before" until a start or restart, "after" since.
FAKE_SYSTEMCTL = """#!{python}
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
with open(os.path.join(here, "calls"), "a") as log:
    log.write(" ".join(args) + "\\n")
started = os.path.join(here, "started")
if args[0] in ("start", "restart"):
    open(started, "w").close()
if args[0] == "show":
    with open(os.path.join(here, "units.json")) as handle:
        units = json.load(handle)
    phase = "after" if os.path.exists(started) else "before"
    blocks = []
    for name in args[args.index("--") + 1:]:
        state = units.get(name, {{}}).get(phase, {{"LoadState": "not-found", "ActiveState": "inactive"}})
        blocks.append("\\n".join(f"{{k}}={{v}}" for k, v in {{"Id": name, "Names": name, **state}}.items()))
    print("\\n\\n".join(blocks))
"""
FAKE_JOURNALCTL = """#!/bin/sh
for last; do :; done
cat "$(dirname "$0")/journal-$last" 2>/dev/null
"""


# {unit: {"before": {property: value}, "after": {...}}}
FakeUnits = dict[str, dict[str, dict[str, str]]]


def fake_systemd(bin_dir: Path, monkeypatch: pytest.MonkeyPatch, units: FakeUnits, journals: dict[str, str]) -> Path:
    """systemctl and journalctl first on the PATH; the file `calls` in bin_dir lists systemctl's calls."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "units.json").write_text(json.dumps(units))
    for unit, journal in journals.items():
        (bin_dir / f"journal-{unit}").write_text(journal)
    for name, script in (("systemctl", FAKE_SYSTEMCTL.format(python=sys.executable)), ("journalctl", FAKE_JOURNALCTL)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir / "calls"
