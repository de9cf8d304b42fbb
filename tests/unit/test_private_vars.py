"""Roles depend one way: what others need is published on purpose, nothing else crosses a role's boundary.

Two checks. A role's private __<role>_* variables never leave the role. And no role reads another role's
public variables (those its defaults/main.yml or meta/argument_specs.yml define, the results it registers,
the facts it sets) except the facts a role publishes for the others, PUBLISHED below. Passing a role its own
variables when including one of its entry points (the keys under `vars:`) is calling it, not reading it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

# The facts roles publish for each other and the playbooks, on purpose (each documented where it is set),
# as "<the role that sets it>: what it is".
PUBLISHED: dict[str, str] = {
    "app_identity": "app: the app's names and paths (roles/app/README.md, 'What it publishes')",
    "app_deploy": "app: the release this run makes live and the one live before (roles/app/README.md)",
    "gunicorn_runtime": "gunicorn: the service's names and capacity (roles/gunicorn/README.md)",
    "nginx_acme_certificate": "nginx: the certificate its acme entry point got, which other balancers copy (its spec)",
    "nginx_front_conf": "nginx: the server blocks its front entry point renders for another role's site (its spec)",
    "nginx_site": "nginx: the names and ports the site answers, which site.yml compares between apps (its README)",
}

# Reads of another role's variables that exist today and are left for the roles' owners; each entry is
# (file, variable). The test fails when a new one appears, and when one listed here is gone (remove it then).
_BALANCER_HAS_NO_APP = (
    "a balancer runs no app, gunicorn or nginx role, so nothing is published there: it follows the shared inventory"
)
_BALANCER_FOLLOWS_NGINX = "the balancer's ACME/TLS settings follow the nginx role's when the inventory sets those"
KNOWN_CROSSINGS: dict[tuple[str, str], str] = {
    ("roles/loadbalancer/defaults/main.yml", "app_name"): _BALANCER_HAS_NO_APP,
    ("roles/loadbalancer/meta/argument_specs.yml", "app_name"): _BALANCER_HAS_NO_APP,
    ("roles/loadbalancer/defaults/main.yml", "app_health_path"): _BALANCER_HAS_NO_APP,
    ("roles/loadbalancer/meta/argument_specs.yml", "app_health_path"): _BALANCER_HAS_NO_APP,
    ("roles/loadbalancer/defaults/main.yml", "gunicorn_timeout"): _BALANCER_HAS_NO_APP,
    ("roles/loadbalancer/meta/argument_specs.yml", "gunicorn_timeout"): _BALANCER_HAS_NO_APP,
    ("roles/loadbalancer/defaults/main.yml", "nginx_server_names"): "reads the app hosts' inventory through hostvars",
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_server_names"): "reads the app hosts' inventory (hostvars)",
    ("roles/loadbalancer/defaults/main.yml", "nginx_acme_email"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_acme_email"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/defaults/main.yml", "nginx_acme_directory_url"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_acme_directory_url"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/defaults/main.yml", "nginx_acme_eab_kid"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_acme_eab_kid"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/defaults/main.yml", "nginx_acme_eab_hmac_key"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_acme_eab_hmac_key"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/defaults/main.yml", "nginx_tls_protocols"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_tls_protocols"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/defaults/main.yml", "nginx_tls_ciphers"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadbalancer/meta/argument_specs.yml", "nginx_tls_ciphers"): _BALANCER_FOLLOWS_NGINX,
    ("roles/loadtest/defaults/main.yml", "nginx_listen_port"): "nginx publishes no fact with its port, and tune.yml "
    "runs no nginx role: the inventory's nginx_listen_port is the only source",
    ("roles/loadtest/meta/argument_specs.yml", "nginx_listen_port"): "as in defaults/main.yml",
}

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
PRIVATE = re.compile(r"\b__(" + "|".join(ROLES) + r")_[a-z0-9_]+")
SKIP_DIRS = {
    ".git",
    ".venv",
    ".ansible",
    "collections",
    "node_modules",
    "__pycache__",
    ".molecule-logs",
    ".pytest_cache",
    ".ruff_cache",
}
SUFFIXES = {".yml", ".yaml", ".j2", ".py", ".md", ".sh", ".cfg", ".toml"}
ROLE_DIRS = ("tasks", "vars", "defaults", "templates", "handlers", "meta")
# Jinja expressions; text outside them (a task's name, a message's prose, a comment) reads nothing.
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# Task keywords whose values are Jinja expressions without the braces.
BARE_EXPRESSIONS = {"when", "that", "until", "changed_when", "failed_when"}
SET_FACT = {"ansible.builtin.set_fact", "set_fact"}


def _files() -> list[Path]:
    """The project's own files, the virtualenvs and caches not walked at all (a venv holds tens of thousands)."""
    found = []
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIP_DIRS and not d.startswith(".venv"))
        found += [Path(directory) / name for name in sorted(names) if Path(name).suffix in SUFFIXES]
    return found


def test_the_scan_sees_the_roles_and_their_private_variables() -> None:
    assert {"app", "gunicorn", "nginx", "loadbalancer"} <= set(ROLES)
    assert PRIVATE.search((ROOT / "roles" / "app" / "vars" / "main.yml").read_text())


def test_no_private_variable_is_read_or_written_outside_its_role() -> None:
    leaks = []
    for path in _files():
        relative = path.relative_to(ROOT)
        if relative == Path(__file__).relative_to(ROOT):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in PRIVATE.finditer(line):
                owner = match.group(1)
                if relative.parts[:2] != ("roles", owner):
                    leaks.append(f"{relative}:{number}: {match.group(0)}")
    assert not leaks, "private variables used outside their role:\n" + "\n".join(leaks)


# --- No role reads another role's public variables ----------------------------------------------------------


def _role_files(role: str) -> Iterator[Path]:
    for directory in ROLE_DIRS:
        yield from sorted(p for p in (ROOT / "roles" / role / directory).rglob("*") if p.is_file())


def _yaml_nodes(path: Path) -> Iterator[yaml.Node]:
    yield from yaml.compose_all(path.read_text(), Loader=yaml.SafeLoader)


def _walk(node: yaml.Node) -> Iterator[tuple[str, yaml.Node]]:
    """Every (key, value) pair of every mapping under node."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key.value, value
            yield from _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)


def _owned(role: str) -> set[str]:
    """The role's public variables: its API, the results it registers and the facts it sets."""
    base = ROOT / "roles" / role
    names: set[str] = set()
    defaults = base / "defaults" / "main.yml"
    if defaults.exists():
        names |= set(yaml.safe_load(defaults.read_text()) or {})
    for entry in yaml.safe_load((base / "meta" / "argument_specs.yml").read_text())["argument_specs"].values():
        names |= set(entry.get("options") or {})
    for path in _role_files(role):
        if path.suffix != ".yml" or path.parts[-2] not in ("tasks", "handlers"):
            continue
        for document in _yaml_nodes(path):
            for key, value in _walk(document):
                if key == "register" and isinstance(value, yaml.ScalarNode):
                    names.add(value.value)
                elif key in SET_FACT and isinstance(value, yaml.MappingNode):
                    names |= {name.value for name, _ in value.value if name.value != "cacheable"}
    return {name for name in names if not name.startswith("__")}


def _expressions(path: Path) -> Iterator[tuple[int, str]]:
    """(offset in the file, text) of each piece of the file that Jinja evaluates."""
    text = path.read_text()
    if path.suffix != ".yml":  # a template
        yield from ((m.start(), m.group(0)) for m in JINJA.finditer(text))
        return

    def scalars(node: yaml.Node, bare: bool) -> Iterator[tuple[int, str]]:
        if isinstance(node, yaml.ScalarNode):
            start, end = node.start_mark.index, node.end_mark.index
            if bare:
                yield start, text[start:end]
            else:
                yield from ((m.start(), m.group(0)) for m in JINJA.finditer(text, start, end))
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from scalars(item, bare)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:  # keys are names, never read
                yield from scalars(value, bare or key.value in BARE_EXPRESSIONS)

    for document in _yaml_nodes(path):
        yield from scalars(document, False)


def _reads(owner_of: dict[str, str], role: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, variable) of each read in path of a variable another role owns."""
    names = sorted(name for name, owner in owner_of.items() if owner != role)
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, names)) + r")\b")
    text = path.read_text()
    for offset, expression in _expressions(path):
        for match in pattern.finditer(expression):
            yield text.count("\n", 0, offset + match.start()) + 1, match.group(1)


def _owner_of() -> dict[str, str]:
    owner_of: dict[str, str] = {}
    for role in ROLES:
        for name in _owned(role):
            assert owner_of.setdefault(name, role) == role, f"{name} is defined by {owner_of[name]} and {role}"
    return owner_of


def _crossings() -> dict[tuple[str, str], set[int]]:
    owner_of = _owner_of()
    found: dict[tuple[str, str], set[int]] = {}
    for role in ROLES:
        for path in _role_files(role):
            for line, name in _reads(owner_of, role, path):
                if name not in PUBLISHED:
                    found.setdefault((str(path.relative_to(ROOT)), name), set()).add(line)
    return found


def test_the_published_facts_are_set_by_their_roles() -> None:
    owner_of = _owner_of()
    for name, why in PUBLISHED.items():
        assert owner_of.get(name) == why.split(":")[0], f"{name}: not set where PUBLISHED says ({why})"
    assert owner_of["app_name"] == "app" and owner_of["nginx_app_name"] == "nginx"
    assert owner_of["gunicorn_state_result"] == "gunicorn"


def test_no_role_reads_another_roles_variables() -> None:
    new = {key: lines for key, lines in _crossings().items() if key not in KNOWN_CROSSINGS}
    assert not new, (
        "a role reads another role's variables (use what that role publishes, or a variable of its own):\n"
        + (
            "\n".join(
                f"{path}:{','.join(map(str, sorted(lines)))}: {name}" for (path, name), lines in sorted(new.items())
            )
        )
    )


def test_the_known_crossings_are_still_there() -> None:
    gone = sorted(set(KNOWN_CROSSINGS) - set(_crossings()))
    assert not gone, f"no longer read, remove them from KNOWN_CROSSINGS: {gone}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x: \"{{ app_name | default('a') }}\"\n", [(1, "app_name")]),
        ('x: "{{ nginx_app_name }}"\n', []),  # nginx's own: contains app_name, is not app_name
        ('x: "{{ app_identity.name }}"\n', []),  # published
        ('a: 1\nb: >-\n  text\nc: "{{ 1 }} {{ app_name }}"\n', [(4, "app_name")]),
        ("- name: Tell app_name\n  vars:\n    app_name: a\n", []),  # prose, and a parameter passed on
        ("- debug: {}\n  when:\n    - true\n    - app_python is defined\n", [(4, "app_python")]),
        (
            "x: >-\n  {{ groups['g'] | map('extract', hostvars)\n     | map(attribute='app_name') }}\n",
            [(3, "app_name")],
        ),
    ],
)
def test_the_read_scan(tmp_path: Path, text: str, expected: list[tuple[int, str]]) -> None:
    path = tmp_path / "main.yml"
    path.write_text(text)
    owner_of = {name: "app" for name in ("app_name", "app_python", "app_identity")} | {"nginx_app_name": "nginx"}
    reads = [(line, name) for line, name in _reads(owner_of, "nginx", path) if name not in PUBLISHED]
    assert reads == expected
