"""unknown_variables: a setting with a role's prefix that no role declares is refused, naming the nearest one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.flaskops.deploy.plugins.filter.unknown_variables import (
    PUBLISHED,
    known_variables,
    unknown_variables,
)

ROOT = Path(__file__).resolve().parents[2]
PREFIXED = re.compile(r"^#?\s*((?:app|gunicorn|nginx|loadbalancer|loadtest|python)_[a-z0-9_]+):", re.MULTILINE)


def test_every_role_is_read_from_its_argument_spec() -> None:
    known = known_variables()
    assert set(known) == {p.parent.parent.name for p in ROOT.glob("roles/*/meta/argument_specs.yml")}
    assert "nginx_server_names" in known["nginx"]
    assert "app_release" in known["app"]  # an option of the rollback entry point only


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("nginx_server_name", "nginx_server_names"),
        ("gunicorn_worker", "gunicorn_workers"),
        ("app_sourc", "app_source"),
        ("loadbalancer_health_pth", "loadbalancer_health_path"),
    ],
)
def test_a_misspelt_variable_is_named_with_the_nearest_known_one(name: str, nearest: str) -> None:
    assert unknown_variables([name, "app_name"]) == [
        f"{name} is no variable of the collection; did you mean {nearest}?"
    ]


def test_known_names_published_facts_registered_results_and_other_prefixes_pass() -> None:
    names = ["app_name", "nginx_tls_enabled", "app_state_result", "fixtures", "deploy_serial", *PUBLISHED]
    assert unknown_variables(names) == []


def test_a_name_close_to_nothing_points_to_the_roles_readme() -> None:
    assert unknown_variables(["python_zzzzzzzz"]) == [
        "python_zzzzzzzz is no variable of the collection; the python role's variables are in its README"
    ]


@pytest.mark.parametrize("path", sorted(ROOT.glob("inventories/*/group_vars/*.yml")), ids=lambda p: str(p.parts[-3:]))
def test_the_inventories_suggest_only_known_variables_commented_or_not(path: Path) -> None:
    """What the README's quick start copies: a user who uncomments a line must get a known variable."""
    names = PREFIXED.findall(path.read_text())
    assert unknown_variables(names) == []


def test_site_yml_refuses_a_misspelt_variable_before_it_reaches_a_host(tmp_path: Path) -> None:
    """The real playbook, on the controller as its only host: the check stops it before any role runs."""
    inventory = tmp_path / "hosts.yml"
    here = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"app_servers": {"hosts": {"here": here}}}))
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory),
            str(ROOT / "playbooks" / "site.yml"),
            "-e",
            "nginx_server_name=shop.example.com",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "nginx_server_name is no variable of the collection; did you mean nginx_server_names?" in result.stdout


# --- failed_checks: each role's table of checks in one assert ------------------------------------


def test_the_failed_checks_are_the_rules_that_do_not_hold_in_order() -> None:
    from ansible_collections.flaskops.deploy.plugins.filter.failed_checks import failed_checks

    rules = [
        {"valid": True, "msg": "a holds"},
        {"valid": False, "msg": "b must be 1 or more.\n"},
        {"valid": "False", "msg": "c must be a list."},  # a template's text (Jinja without native types)
        {"valid": "True", "msg": "d holds"},
        {"valid": None, "msg": "e is missing."},
    ]
    assert failed_checks(rules) == ["b must be 1 or more.", "c must be a list.", "e is missing."]
    assert failed_checks([]) == []
