"""execution-environment.yml (ansible-builder 3) carries what galaxy.yml and meta/runtime.yml promise."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text())


def _ee_collections() -> dict[str, str]:
    collections = _load("execution-environment.yml")["dependencies"]["galaxy"]["collections"]
    return {c["name"]: c.get("version", "*") for c in collections}


def test_schema_version_3() -> None:
    ee = _load("execution-environment.yml")
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    assert {"ansible_core", "ansible_runner", "galaxy"} <= set(ee["dependencies"])


def test_every_collection_dependency_is_in_the_image_with_the_same_range() -> None:
    wanted = _load("galaxy.yml").get("dependencies") or {}
    present = _ee_collections()
    for name, version in wanted.items():
        assert name in present, f"{name} (galaxy.yml) is missing from execution-environment.yml"
        assert present[name] == version, f"{name}: {present[name]} in the image, {version} in galaxy.yml"


def test_ansible_core_starts_where_runtime_yml_does() -> None:
    required = _load("meta/runtime.yml")["requires_ansible"]
    lower = re.search(r">=\s*([\d.]+)", required)
    assert lower, required
    core = _load("execution-environment.yml")["dependencies"]["ansible_core"]["package_pip"]
    floor = re.search(r">=\s*([\d.]+)", core)
    assert floor, core
    assert tuple(map(int, floor.group(1).split("."))) >= tuple(map(int, lower.group(1).split(".")[:2]))


def test_galaxy_dependencies_are_the_collections_the_content_calls() -> None:
    called: set[str] = set()
    for path in [*ROOT.glob("roles/*/*/*.yml"), *ROOT.glob("playbooks/*.yml"), ROOT / "site.yml"]:
        for match in re.finditer(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(), re.MULTILINE):
            called.add(match.group(1))
    called -= {"ansible.builtin", "flaskops.deploy"}
    assert called == set(_load("galaxy.yml")["dependencies"])
