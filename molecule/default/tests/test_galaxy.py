"""The collection as a Galaxy user gets it: build the tarball, install it, run flaskops.deploy.site.

From the verify phase, against the scenario's converged hosts: `ansible-galaxy collection build`, then
`ansible-galaxy collection install <tarball> -p <empty dir>`, then `ansible-playbook flaskops.deploy.site`
(one run for every host) with ANSIBLE_COLLECTIONS_PATH=<that dir> only, from a directory outside the checkout
(so neither its ansible.cfg nor its collections/ link is seen), with the variables the scenario's converge.yml
gives its first import of flaskops.deploy.site (the whole stack for the first app; a second app's run would
only repeat the same roles at the price of another idempotence run). The host is converged, so the run must
succeed and change nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from testinfra.host import Host

SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1]))
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SCENARIO.parents[1]))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
SITE = "flaskops.deploy.site"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    return str(BIN / name) if (BIN / name).exists() else shutil.which(name) or name


def _run(*cmd: str, cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _first_site_import() -> dict[str, Any]:
    """The vars of the first `import_playbook: flaskops.deploy.site` in converge.yml."""
    plays = yaml.safe_load((SCENARIO / "converge.yml").read_text()) or []
    imports = [
        play.get("vars") or {}
        for play in plays
        if (play.get("ansible.builtin.import_playbook") or play.get("import_playbook")) == SITE
    ]
    return imports[0] if imports else {}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The tarball built from the checkout and installed into an empty path; the env that sees only it."""
    work = tmp_path_factory.mktemp("galaxy")
    collections = work / "collections"
    collections.mkdir()
    config = work / "ansible.cfg"
    config.write_text("[defaults]\ninterpreter_python = auto_silent\n")
    # Nothing of the checkout's Ansible settings (molecule's own ANSIBLE_* included) carries over.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env |= {
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_INJECT_FACT_VARS": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "false",
        # Fewer round trips per task; the docker connection supports it.
        "ANSIBLE_PIPELINING": "true",
    }

    build = _run(
        _tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), str(PROJECT), cwd=work, env=env
    )
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = next(work.glob("flaskops-deploy-*.tar.gz"))

    # --offline: no Galaxy server is reachable here; the dependencies (ansible.posix, community.crypto)
    # are satisfied by the ansible package, as for a user who installed it.
    install = _run(
        _tool("ansible-galaxy"),
        "collection",
        "install",
        "--offline",
        str(tarball),
        "-p",
        str(collections),
        cwd=work,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return work, env


def test_the_installed_collection_is_the_only_flaskops_deploy(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    listing = _run(
        _tool("ansible-galaxy"), "collection", "list", "flaskops.deploy", "--format", "json", cwd=work, env=env
    )
    assert listing.returncode == 0, listing.stderr
    paths = [path for path, found in json.loads(listing.stdout).items() if "flaskops.deploy" in found]
    assert paths == [str(work / "collections" / "ansible_collections")], paths


@pytest.fixture(scope="module")
def galaxy_site(installed: tuple[Path, dict[str, str]]) -> subprocess.CompletedProcess[str]:
    """One run of flaskops.deploy.site from the installed tarball on every host of the scenario, as a user runs it."""
    assert INVENTORY, "MOLECULE_INVENTORY_FILE is not set: run this through molecule verify"
    work, env = installed
    extra = work / "converge-vars.json"
    extra.write_text(json.dumps(_first_site_import()))
    return _run(_tool("ansible-playbook"), "-i", INVENTORY, "-e", f"@{extra}", SITE, cwd=work, env=env)


def test_site_from_the_installed_tarball_changes_nothing_on_a_converged_host(
    host: Host, galaxy_site: subprocess.CompletedProcess[str]
) -> None:
    play = galaxy_site
    name = host.backend.get_hostname()
    assert play.returncode == 0, play.stdout[-4000:] + play.stderr[-2000:]
    # The host's own line and each of its apps' ("<app>@<host>").
    recaps = re.findall(rf"^((?:\S+@)?{re.escape(name)})\s+:\s+(.*)$", play.stdout, flags=re.MULTILINE)
    assert len(recaps) == 3, play.stdout[-2000:]
    for line, found in recaps:
        counts = dict(re.findall(r"(\w+)=(\d+)", found))
        assert int(counts["ok"]) > 0, f"{line}: {found}"
        assert (counts["changed"], counts["failed"], counts["unreachable"]) == ("0", "0", "0"), (
            f"{line}: {found}\nchanged: {_changed_tasks(play.stdout)}"
        )


def _changed_tasks(output: str) -> list[str]:
    """The tasks that reported a change, for the failure message."""
    task, changed = "", []
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:"):
            changed.append(task)
    return changed
