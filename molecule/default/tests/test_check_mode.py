"""Check mode: `site.yml --check --diff` against the converged host reports nothing to change and fails nothing.

(The cluster scenario's `check` step, before its converge, runs site.yml --check against three fresh hosts:
it must reach the end.)
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from testinfra.host import Host

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
INVENTORY = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "inventory"


def test_check_diff_on_a_converged_host_changes_nothing(host: Host) -> None:
    name = host.backend.get_hostname()
    before = host.check_output("systemctl show -p ExecMainStartTimestamp -p MainPID nginx 'gunicorn-*.service'")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"), "ANSIBLE_FORCE_COLOR": "0"}
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            str(INVENTORY),
            str(PROJECT / "site.yml"),
            "--check",
            "--diff",
            "--limit",
            f"~^(.+@)?{re.escape(name)}$",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )
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
    assert host.check_output("systemctl show -p ExecMainStartTimestamp -p MainPID nginx 'gunicorn-*.service'") == before
