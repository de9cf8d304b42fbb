"""Docs follow the code: READMEs from the argument specs, specs complete, ansible-doc renders.

tests/unit/test_argument_specs.py keeps each role's main entry point in step with defaults/main.yml;
this file covers the other entry points, nested options, the README tables and ansible-doc.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").exists())
FQCN = "flaskops.deploy"


def _role_docs() -> Any:
    spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("role_docs", module)
    spec.loader.exec_module(module)
    return module


role_docs = _role_docs()


def _specs(role: str) -> dict[str, Any]:
    return role_docs.load_specs(ROOT / "roles" / role)


def _defaults(role: str) -> dict[str, Any]:
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _options(options: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, option in options.items():
        yield prefix + name, option or {}
        if (option or {}).get("options"):
            yield from _options(option["options"], f"{prefix}{name}.")


def _comments(role: str) -> dict[str, str]:
    """Each public variable's comment block in defaults/main.yml, as one line."""
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    comments: dict[str, str] = {}
    block: list[str] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.startswith("#"):
            block.append(line.lstrip("# "))
        elif match := re.match(rf"({role}_\w+):", line):
            comments[match.group(1)] = " ".join(block)
            block = []
        elif not line.startswith((" ", "-")):
            block = []
    return comments


_PARENTHESES = re.compile(r"\([^()]*\)")
_ALTERNATIVES = re.compile(r"[\w.-]+(?:\s*,\s*[\w.-]+)*,?\s+or\s+[\w.-]+")


def listed_alternatives(comment: str) -> set[str]:
    """Words a comment offers as alternatives: 'debug, info, warning or error', asides in () dropped."""
    while _PARENTHESES.search(comment):
        comment = _PARENTHESES.sub("", comment)
    words: set[str] = set()
    for match in _ALTERNATIVES.finditer(comment):
        words |= {w.strip(".") for w in re.split(r"\s*,\s*|,?\s+or\s+", match.group(0))}
    return words


@pytest.mark.parametrize(
    ("comment", "words"),
    [
        ("Level: debug, info, warning, error or critical.", {"debug", "info", "warning", "error", "critical"}),
        ("Source: example (the app, bundled), dir (a directory) or git.", {"example", "dir", "git"}),
        ("Names the site answers to (any).", set()),
    ],
)
def test_listed_alternatives(comment: str, words: set[str]) -> None:
    assert listed_alternatives(comment) == words


@pytest.mark.parametrize("role", ROLES)
def test_readme_variable_table_matches_the_specs(role: str) -> None:
    readme = ROOT / "roles" / role / "README.md"
    assert readme.exists(), f"roles/{role}/README.md is missing: run `make docs`"
    current = readme.read_text()
    assert role_docs.updated_readme(current, role, _specs(role)) == current, (
        f"roles/{role}/README.md's variable table drifts from meta/argument_specs.yml: run `make docs`"
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_option_of_every_entry_point_is_typed_and_described(role: str) -> None:
    """main's top level is checked in test_argument_specs.py; here the other entry points and nested options."""
    for entry, spec in _specs(role).items():
        assert spec.get("short_description"), f"{role}: entry point {entry} has no short_description"
        for name, option in _options(spec.get("options") or {}):
            if entry == "main" and "." not in name:
                continue
            where = f"{role}: {entry}: {name}"
            assert option.get("type"), f"{where} has no type"
            assert option.get("description"), f"{where} has no description"
            if option["type"] == "list":
                assert option.get("elements"), f"{where} is a list without elements"


@pytest.mark.parametrize("role", ROLES)
def test_other_entry_points_share_the_defaults(role: str) -> None:
    defaults = _defaults(role)
    for entry, spec in _specs(role).items():
        for name, option in (spec.get("options") or {}).items():
            if name in defaults:
                assert option.get("default") == defaults[name], (
                    f"{role}: {entry}: {name} default drifts from defaults/main.yml"
                )


@pytest.mark.parametrize("role", ROLES)
def test_a_closed_set_in_the_defaults_comment_has_choices(role: str) -> None:
    """A comment offering 'a, b or c' with the default among them documents a closed set: the spec enforces it."""
    options = (_specs(role).get("main") or {}).get("options") or {}
    for name, comment in _comments(role).items():
        default = options.get(name, {}).get("default")
        if not isinstance(default, str) or not default or "{{" in default:
            continue
        offered = listed_alternatives(comment)
        if default in offered:
            assert options[name].get("choices"), (
                f"{role}: {name}'s comment lists {sorted(offered)}: give the spec choices to enforce them"
            )


def _ansible_doc(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("ansible-doc") or str(Path(sys.executable).parent / "ansible-doc")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_renders_the_role(role: str) -> None:
    text = _ansible_doc("-t", "role", f"{FQCN}.{role}")
    assert text.returncode == 0, text.stderr
    assert "ERROR" not in text.stderr, text.stderr
    rendered = _ansible_doc("--json", "-t", "role", f"{FQCN}.{role}")
    assert rendered.returncode == 0, rendered.stderr
    entry_points = json.loads(rendered.stdout)[f"{FQCN}.{role}"]["entry_points"]
    specs = _specs(role)
    assert set(entry_points) == set(specs)
    for entry, spec in specs.items():
        assert set(entry_points[entry].get("options") or {}) == set(spec.get("options") or {})
        for name in spec.get("options") or {}:
            assert name in text.stdout, f"{name} missing from ansible-doc's page"


def _filters() -> list[str]:
    names: list[str] = []
    for path in sorted((ROOT / "plugins" / "filter").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_filter_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names += sorted(module.FilterModule().filters())
    return names


def _plugins() -> list[tuple[str, str]]:
    by_file = [
        (kind, path.stem)
        for kind, folder in (("lookup", "lookup"), ("module", "modules"))
        for path in sorted((ROOT / "plugins" / folder).glob("*.py"))
        if path.stem != "__init__"
    ]
    return [("filter", name) for name in _filters()] + by_file


@pytest.mark.parametrize(("kind", "name"), _plugins())
def test_ansible_doc_renders_the_plugin(kind: str, name: str) -> None:
    rendered = _ansible_doc("--json", "-t", kind, f"{FQCN}.{name}")
    assert rendered.returncode == 0, rendered.stderr
    doc = json.loads(rendered.stdout)[f"{FQCN}.{name}"]
    assert doc["doc"].get("short_description"), f"{name}: no short_description"
    assert doc.get("examples"), f"{name}: no EXAMPLES"
    assert doc.get("return"), f"{name}: no RETURN"


def _readme_yaml_blocks() -> list[Any]:
    """Every ```yaml block of the top-level README, parsed (indented ones inside lists too)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^([ \t]*)```yaml\n(.*?)^\1```", text, flags=re.MULTILINE | re.DOTALL)
    return [yaml.safe_load(textwrap.dedent(body)) for _, body in blocks]


def _variables_in(value: Any) -> Iterator[str]:
    """Every mapping key, at any depth: role variables sit at the top or under a play's vars."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _variables_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _variables_in(item)


def test_readme_examples_use_real_variables() -> None:
    known = {
        name for role in ROLES for spec in _specs(role).values() for name, _ in _options(spec.get("options") or {})
    }
    prefixes = tuple(f"{role}_" for role in ROLES)
    blocks = _readme_yaml_blocks()
    assert blocks, "README.md has no YAML examples"
    used = {name for block in blocks for name in _variables_in(block) if name.startswith(prefixes)}
    assert used, "README.md's YAML examples set no role variable"
    assert not used - known, f"README.md's examples use variables no role has: {sorted(used - known)}"


def test_readme_example_playbooks_pass_the_syntax_check(tmp_path: Path) -> None:
    plays = [block for block in _readme_yaml_blocks() if isinstance(block, list) and block and "name" in block[0]]
    assert plays, "README.md has no example playbook"
    binary = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"), "ANSIBLE_NOCOLOR": "1"}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("app_servers:\n  hosts:\n    web1.example.com:\n")
    for index, play in enumerate(plays):
        playbook = tmp_path / f"example-{index}.yml"
        playbook.write_text(yaml.safe_dump(play))
        check = subprocess.run(
            [binary, "--syntax-check", "-i", str(inventory), str(playbook)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
