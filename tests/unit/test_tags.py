"""Tags, one per concern: `site.yml --tags nginx` configures nginx and nothing else, after every check.

Ansible filters every task by its tags, dynamic includes' tasks included: a task that carries no tag runs
only when no --tags is given. So every task of site.yml must carry the tag of its concern (from its play,
or its own), the checks and the plays that work out the apps `always`, and the app role's deploy, which
steps through the roles that serve the release, tags each of them with its role's name. These tests read
the YAML; the default scenario's verify runs `site.yml --tags nginx` against converged hosts and checks what
ran (test_check_mode.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONCERNS = {"always", "python", "app", "processes", "gunicorn", "nginx", "tls", "loadbalancer", "monitoring"}


def _load(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text())


def _tags(entry: dict[str, Any]) -> set[str]:
    tags = entry.get("tags", [])
    return {tags} if isinstance(tags, str) else set(tags)


def _tasks(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks of a task list, blocks opened (a block's tags are its tasks' too)."""
    found = []
    for entry in entries:
        if "block" in entry:
            for part in ("block", "rescue", "always"):
                found += [{**task, "tags": sorted(_tags(task) | _tags(entry))} for task in _tasks(entry.get(part, []))]
        else:
            found.append(entry)
    return found


@pytest.mark.parametrize("playbook", ["playbooks/site.yml", "playbooks/deploy.yml"])
def test_every_task_of_the_playbook_carries_a_concern(playbook: str) -> None:
    untagged = []
    for play in _load(playbook):
        for task in _tasks(play.get("tasks", [])):
            tags = _tags(task) | _tags(play)
            assert tags <= CONCERNS, f"{play['name']} / {task['name']}: unknown tags {sorted(tags - CONCERNS)}"
            if not tags:
                untagged.append(f"{play['name']} / {task['name']}")
    assert not untagged, f"tasks without a concern's tag (they would not run with --tags): {untagged}"


def test_the_checks_run_whatever_the_tags() -> None:
    plays = _load("playbooks/site.yml")
    checks = [play for play in plays if play["name"].startswith("Check ")]
    assert len(checks) == 2
    for play in checks:
        assert _tags(play) == {"always"}, play["name"]


def test_each_step_of_the_deploy_runs_under_its_concern() -> None:
    deploy = _tasks(_load("roles/app/tasks/deploy.yml"))
    untagged = [task["name"] for task in deploy if not _tags(task)]
    assert not untagged, untagged
    assert all(_tags(task) <= CONCERNS for task in deploy)
    serve = next(task for task in deploy if task["name"] == "Serve: apply the roles that serve the release")
    assert _tags(serve) == {"always"}
    expression = serve["ansible.builtin.include_role"]["apply"]["tags"][0]
    loop_var = serve["loop_control"]["loop_var"]
    # Every role site.yml serves (the apply entry point or another, "role:entry") gets its name.
    roles = {
        "flaskops.deploy.gunicorn": "gunicorn",
        "flaskops.deploy.nginx": "nginx",
        "flaskops.deploy.nginx:site": "nginx",
    }
    for role, tag in roles.items():
        assert jinja2.Template(expression).render({loop_var: role}) == tag
    site = (ROOT / "playbooks/site.yml").read_text()
    assert all(role in site for role in roles)
    # The dynamic includes tag what they include (their own tags stay on the include).
    for task in deploy:
        include = task.get("ansible.builtin.include_tasks") or task.get("ansible.builtin.include_role")
        if isinstance(include, dict):
            assert include.get("apply", {}).get("tags"), task["name"]


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (
            "roles/nginx/tasks/apply.yml",
            ["Put the TLS certificate in place", "Get the certificate from the ACME CA, and keep it renewed"],
        ),
        (
            "roles/nginx/tasks/site.yml",
            [
                "Install what the site needs and put its TLS certificate in place",
                "Get the site's certificate from the ACME CA, and keep it renewed",
            ],
        ),
        (
            "roles/loadbalancer/tasks/apply.yml",
            ["Generate a self-signed certificate", "Get the ACME certificate, once for all balancers"],
        ),
    ],
)
def test_certificates_run_under_tls(path: str, names: list[str]) -> None:
    tasks = {task["name"]: task for task in _tasks(_load(path))}
    for name in names:
        task = tasks[name]
        include = task.get("ansible.builtin.include_tasks") or task.get("ansible.builtin.include_role")
        # The include is picked by --tags tls, and what it includes carries tls too.
        assert "tls" in _tags(task), name
        assert include["apply"]["tags"] == ["tls"], name


def test_processes_run_under_their_own_tag() -> None:
    tasks = {task["name"]: task for task in _tasks(_load("roles/app/tasks/deploy.yml"))}
    for name in (
        "Lock: take the app's deploy lock, or wait for the deploy that holds it",
        "Identify: read the app's state on the host, if another deploy may have changed it",
        "Identify: name the release after its source",
        "Processes: run the app's processes and timers on the live release",
        "Unlock: give the app's deploy lock back",
    ):
        assert "processes" in _tags(tasks[name]), name
    name = "Drain, build, preflight, switch, verify: the new release, live behind a health gate"
    assert "processes" not in _tags(tasks[name]), name
