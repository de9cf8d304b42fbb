"""Every list of gunicorn worker classes in YAML names exactly the classes of module_utils/worker_classes.py.

YAML cannot import Python, so the lists stay where the roles read them and this test fails on drift: a class
one of them names that the Python list does not, or a class of the Python list it misses. The lists: the
gunicorn role's gunicorn_worker_class choices (every entry point), the gunicorn_capacity filter's documented
choices, and the maps of what each class needs in the gunicorn role's vars/main.yml (found as the variables
keyed by worker class, since the private names stay inside the role: tests/unit/test_private_vars.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.flaskops.deploy.plugins.module_utils.worker_classes import (
    BUILT_IN_CLASSES,
    CONNECTION_CLASSES,
    WORKER_CLASSES,
)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / "roles" / "gunicorn"
# The empty choice is not a class: it picks one from gunicorn_workload.
FROM_WORKLOAD = ""


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _spec_choices() -> dict[str, list[str]]:
    """gunicorn_worker_class's choices in each entry point of the gunicorn role."""
    specs = _load(GUNICORN / "meta" / "argument_specs.yml")["argument_specs"]
    return {entry: spec["options"]["gunicorn_worker_class"]["choices"] for entry, spec in specs.items()}


def _filter_choices() -> list[str]:
    documentation = _load(ROOT / "plugins" / "filter" / "gunicorn_capacity.yml")["DOCUMENTATION"]
    return documentation["options"]["worker_class"]["choices"]


def _class_maps() -> dict[str, dict[str, Any]]:
    """The gunicorn role's variables that map worker classes to what they install (a pip extra, packages)."""
    role_vars = _load(GUNICORN / "vars" / "main.yml")
    return {
        name: value for name, value in role_vars.items() if isinstance(value, dict) and set(value) & set(WORKER_CLASSES)
    }


def _drift(named: list[str], where: str) -> list[str]:
    unknown = sorted(set(named) - set(WORKER_CLASSES))
    missing = [name for name in WORKER_CLASSES if name not in named]
    problems = [f"{where} names {name!r}, which WORKER_CLASSES does not" for name in unknown]
    problems += [f"{where} misses {name!r} of WORKER_CLASSES" for name in missing]
    return problems


def _needs(maps: dict[str, dict[str, Any]]) -> list[str]:
    """The rule for the maps: a class gunicorn ships (BUILT_IN_CLASSES) is in none, every other in exactly one."""
    problems = [
        f"{map_name} names {name!r}, which WORKER_CLASSES does not"
        for map_name, table in sorted(maps.items())
        for name in sorted(set(table) - set(WORKER_CLASSES))
    ]
    problems += [
        f"{map_name}[{name!r}] installs nothing"
        for map_name, table in maps.items()
        for name in table
        if not table[name]
    ]
    for name in WORKER_CLASSES:
        found = sorted(map_name for map_name, table in maps.items() if name in table)
        if name in BUILT_IN_CLASSES and found:
            problems.append(f"{name!r} ships with gunicorn (BUILT_IN_CLASSES) but {found} install something for it")
        elif name not in BUILT_IN_CLASSES and len(found) != 1:
            problems.append(f"{name!r} needs what it installs named in exactly one map, found in {found or 'none'}")
    return problems


def test_the_python_lists_are_consistent() -> None:
    assert len(set(WORKER_CLASSES)) == len(WORKER_CLASSES)
    assert set(CONNECTION_CLASSES) < set(WORKER_CLASSES)
    assert set(BUILT_IN_CLASSES) < set(WORKER_CLASSES)


@pytest.mark.parametrize("entry", sorted(_spec_choices()))
def test_argument_spec_choices_are_the_worker_classes(entry: str) -> None:
    choices = _spec_choices()[entry]
    assert FROM_WORKLOAD in choices, f"gunicorn {entry}: the empty choice (from the workload) is gone"
    classes = [choice for choice in choices if choice != FROM_WORKLOAD]
    assert len(classes) == len(set(classes)), f"gunicorn {entry}: a class is listed twice"
    assert not _drift(classes, f"gunicorn {entry}: gunicorn_worker_class choices")


def test_filter_documented_choices_are_the_worker_classes() -> None:
    choices = _filter_choices()
    assert FROM_WORKLOAD in choices
    assert not _drift([c for c in choices if c != FROM_WORKLOAD], "gunicorn_capacity.yml: worker_class choices")


def test_what_each_class_installs_is_mapped_once() -> None:
    maps = _class_maps()
    assert len(maps) == 2, f"expected the pip-extras map and the packages map, found {sorted(maps)}"
    problems = _needs(maps)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        (list(WORKER_CLASSES), []),
        ([*WORKER_CLASSES, "meinheld"], ["X names 'meinheld', which WORKER_CLASSES does not"]),
        (list(WORKER_CLASSES[1:]), ["X misses 'sync' of WORKER_CLASSES"]),
    ],
)
def test_the_list_check_can_fail(named: list[str], expected: list[str]) -> None:
    assert _drift(named, "X") == expected


def test_the_map_check_can_fail() -> None:
    extras, packages = ({**table} for table in _class_maps().values())
    moved = next(name for name in WORKER_CLASSES if name in extras)
    dropped = next(name for name in WORKER_CLASSES if name in packages)
    packages[moved] = ["again"]
    del packages[dropped]
    extras.update({"sync": "[sync]", "meinheld": "[meinheld]"})
    problems = "\n".join(_needs({"extras": extras, "packages": packages}))
    assert "extras names 'meinheld', which WORKER_CLASSES does not" in problems
    assert "'sync' ships with gunicorn" in problems
    assert f"{moved!r} needs what it installs named in exactly one map, found in ['extras', 'packages']" in problems
    assert f"{dropped!r} needs what it installs named in exactly one map, found in none" in problems
