"""Check mode: `site.yml --check --diff`, one run over the converged hosts: nothing to change, nothing fails.

(The cluster scenario's `check` step, before its converge, runs site.yml --check against three fresh hosts:
it must reach the end.)
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import testinfra
from testinfra.host import Host
from testinfra.utils.ansible_runner import AnsibleRunner

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
INVENTORY = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "inventory"


STARTS = "systemctl show -p ExecMainStartTimestamp -p MainPID nginx 'gunicorn-*.service'"


def _site_check(*extra: str) -> subprocess.CompletedProcess[str]:
    """`site.yml --check --diff` as a user runs it, with more arguments."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"), "ANSIBLE_FORCE_COLOR": "0"}
    command = ["ansible-playbook", "-i", str(INVENTORY), str(PROJECT / "site.yml"), "--check", "--diff"]
    return subprocess.run([*command, *extra], capture_output=True, text=True, env=env, check=False, timeout=900)


def _limit(name: str) -> str:
    """--limit to one host and its apps ("<app>@<host>")."""
    return f"~^(.+@)?{re.escape(name)}$"


@pytest.fixture(scope="module")
def check_run() -> dict[str, Any]:
    """One `site.yml --check --diff` over every host of the scenario, with what ran on each before and after."""
    hosts = {
        name: testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")
        for name in AnsibleRunner(str(INVENTORY)).get_hosts("app_servers")
    }
    before = {name: target.check_output(STARTS) for name, target in hosts.items()}
    result = _site_check()
    after = {name: target.check_output(STARTS) for name, target in hosts.items()}
    return {"result": result, "before": before, "after": after}


def test_check_diff_on_a_converged_host_changes_nothing(host: Host, check_run: dict[str, Any]) -> None:
    name = host.backend.get_hostname()
    result = check_run["result"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # The host's own line and each of its apps' ("<app>@<host>"): two apps, two lines of their own.
    recaps = re.findall(rf"^((?:\S+@)?{re.escape(name)})\s+:\s+(.*)$", result.stdout, re.MULTILINE)
    assert len(recaps) == 3, result.stdout[-2000:]
    for line, counts in recaps:
        assert "changed=0" in counts and "failed=0" in counts, f"{line}: {counts}"
    # A user sees no warning either (a role looping over `item` inside a loop over `item` warned).
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "[WARNING]" in line]
    assert not warnings, "\n".join(warnings)
    # Nothing restarted or reloaded either.
    assert check_run["after"][name] == check_run["before"][name]


def test_tags_nginx_configures_nginx_and_nothing_else(host: Host) -> None:
    """`site.yml --tags nginx`: every check still runs, then only nginx's tasks run."""
    name = host.backend.get_hostname()
    if name != "flaskops-default":
        pytest.skip("tags are the controller's: one host shows them (the bookworm one)")
    before = host.check_output("md5sum /etc/nginx/sites-available/* /etc/gunicorn/*.conf.py 2>/dev/null; true")
    # One setting of each: nginx's reaches the sites (in check mode: reported), gunicorn's is not looked at.
    settings = ["-e", "nginx_client_max_body_size=7m", "-e", "gunicorn_timeout=91"]
    result = _site_check("--limit", _limit(name), "--tags", "nginx", *settings)
    output = result.stdout
    assert result.returncode == 0, output[-4000:] + result.stderr[-2000:]
    tasks = re.findall(r"^TASK \[(.+?)\] \*", output, re.MULTILINE)
    # The checks ran (they are tagged always) ...
    assert "flaskops.deploy.gunicorn : Check the gunicorn settings" in tasks
    # ... then nginx wrote each app's site (reported, check mode) ...
    site = "flaskops.deploy.nginx : Write the site, tested with the host's whole configuration before nginx loads it"
    assert site in tasks
    written = output.split(f"TASK [{site}]", 1)[1].split("TASK [", 1)[0]
    assert "changed: [flaskapp@flaskops-default]" in written, written
    assert "client_max_body_size 7m" in output  # the diff
    # ... and no step of another concern ran: no deploy lock, build or switch, no gunicorn or Python set-up.
    others = [
        task
        for task in tasks
        if re.match(r"flaskops\.deploy\.(app|gunicorn|python|loadbalancer) : ", task)
        and not re.search(r"Check |Validating arguments|Publish |Read the app's releases|Serve: restart", task)
    ]
    assert not others, others
    assert "timeout = 91" not in output
    assert host.check_output("md5sum /etc/nginx/sites-available/* /etc/gunicorn/*.conf.py 2>/dev/null; true") == before
