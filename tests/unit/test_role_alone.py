"""gunicorn and nginx used without the app role: their paths have no fallback, the run says what to set.

Their paths follow app_identity, which the app role publishes. Alone, a role once fell back to paths below
/srv/<name> that nothing had made; now their defaults are empty and the role's checks stop with a message naming
the variables to set; once they are set that message is gone. Runs the real ansible-playbook against localhost
in check mode (gunicorn's checks read nothing on the machine; nginx's read its state, changing nothing).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HINT = "app_identity, which flaskops.deploy.app publishes when it runs first; used alone, the role needs"


def _run(tmp_path: Path, role: str, *extra: str) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "alone.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.include_role:\n        name: flaskops.deploy.{role}\n        tasks_from: validate\n"
    )
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"), "ANSIBLE_FORCE_COLOR": "0"}
    # Modules run with the controller's own Python, whatever the machine's python3 is.
    local = ["-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"]
    command = ["ansible-playbook", *local, "--check", str(playbook), *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)


@pytest.mark.parametrize(
    ("role", "names"),
    [
        ("gunicorn", ["gunicorn_chdir", "gunicorn_environment_file", "gunicorn_read_write_paths"]),
        ("nginx", ["nginx_app_root"]),
    ],
)
def test_alone_the_role_stops_naming_what_to_set(tmp_path: Path, role: str, names: list[str]) -> None:
    result = _run(tmp_path, role)
    output = " ".join((result.stdout + result.stderr).split())  # the YAML callback folds long messages
    assert result.returncode != 0
    assert HINT in output, output[-2000:]
    for name in names:
        assert name in output
    assert "/srv/" not in output


def test_once_they_are_set_the_message_is_gone(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        "gunicorn",
        "-e",
        '{"gunicorn_chdir": "/opt/shop/current", "gunicorn_environment_file": "/opt/shop/env",'
        ' "gunicorn_read_write_paths": ["/opt/shop/data"]}',
    )
    # The run goes on to checks that need the host's facts (this play gathered none): it may stop there.
    assert HINT not in " ".join((result.stdout + result.stderr).split())
    assert "Check the gunicorn settings" in result.stdout
