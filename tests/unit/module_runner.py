"""Runs a module's main() as Ansible runs it - its argument spec, its JSON answer - for the unit tests."""

from __future__ import annotations

import io
import json
import sys
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
