"""defaults/main.yml is each role's API; meta/argument_specs.yml must describe it exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").exists())
PUBLIC_ROLES = {"python", "app", "gunicorn", "nginx"}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _spec(role: str) -> dict[str, Any]:
    return _load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]


def _defaults(role: str) -> dict[str, Any]:
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (_load(path) or {}) if path.exists() else {}


def test_public_roles_exist() -> None:
    assert PUBLIC_ROLES <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_spec_and_defaults_name_the_same_variables(role: str) -> None:
    assert set(_spec(role)["options"]) == set(_defaults(role))


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_match_defaults_file(role: str) -> None:
    options = _spec(role)["options"]
    for name, value in _defaults(role).items():
        assert "default" in options[name], f"{role}: {name} has no default in the spec"
        assert options[name]["default"] == value, f"{role}: {name} drifts between spec and defaults/main.yml"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_typed_and_described(role: str) -> None:
    spec = _spec(role)
    assert spec.get("short_description")
    for name, option in spec["options"].items():
        assert name.startswith(f"{role}_"), f"{name} lacks the {role}_ prefix"
        assert option.get("type"), f"{role}: {name} has no type"
        assert option.get("description"), f"{role}: {name} has no description"
        if option["type"] == "list":
            assert option.get("elements"), f"{role}: {name} is a list without elements"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_carries_a_comment(role: str) -> None:
    lines = (ROOT / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{role}_"):
            previous = next((prev for prev in reversed(lines[:i]) if prev.strip()), "")
            assert previous.startswith("#"), f"{role}: {line.split(':')[0]} has no comment of its own"
