"""Releases, secrets and the deploy/rollback playbooks, as a user sees them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from testinfra.host import Host

APP_ROOT = "/srv/flaskapp"
SECRET = "s3cr3t-7f4e1b9a"
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
FIXTURES = EPHEMERAL / "fixtures"


def _version(host: Host) -> str:
    return json.loads(host.check_output("curl -sS --fail --max-time 5 http://127.0.0.1/version"))["version"]


def _playbook(name: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"), "ANSIBLE_FORCE_COLOR": "0"}
    cmd = ["ansible-playbook", "-v", "-i", str(EPHEMERAL / "inventory"), str(PROJECT / "playbooks" / name), *extra]
    start = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=600)
    return result, time.monotonic() - start


def test_secret_is_not_in_systemctl_show(host: Host) -> None:
    shown = host.check_output("systemctl show gunicorn-flaskapp.service")
    assert SECRET not in shown
    assert f"EnvironmentFiles={APP_ROOT}/shared/env" in shown


def test_env_file_is_readable_only_by_root_and_the_app_group(host: Host) -> None:
    env_file = host.file(f"{APP_ROOT}/shared/env")
    assert (env_file.user, env_file.group, env_file.mode) == ("root", "flaskapp", 0o640)
    assert host.run("runuser -u nobody -- cat %s/shared/env", APP_ROOT).rc != 0


def test_a_multi_line_value_reaches_the_app_intact(host: Host) -> None:
    """Through systemd's own parser of the unit's EnvironmentFile, as the service reads it."""
    shown = host.check_output(
        "systemd-run --wait --pipe --quiet --property=EnvironmentFile=%s/shared/env printenv MULTILINE", APP_ROOT
    )
    assert shown == 'line one\nline "two" with a \\ and $HOME'


def test_release_code_is_not_writable_by_the_app(host: Host) -> None:
    live = host.check_output("readlink -f %s/current", APP_ROOT)
    assert host.file(f"{live}/app.py").user == "root"
    assert host.run("runuser -u flaskapp -- touch %s/app.py", live).rc != 0
    assert host.run("runuser -u flaskapp -- touch %s/.venv/new-file", live).rc != 0


def test_keeps_three_releases_with_live_and_previous(host: Host) -> None:
    releases = host.check_output("ls %s/releases", APP_ROOT).split()
    assert len(releases) <= 3
    for link in ("current", "previous"):
        assert host.check_output("basename $(readlink %s/%s)", APP_ROOT, link) in releases


def test_shared_files_outlive_releases_and_hooks_ran_as_the_app(host: Host) -> None:
    assert host.file(f"{APP_ROOT}/current/instance/keep.txt").content_string == "outlives releases\n"
    marker = host.file(f"{APP_ROOT}/shared/instance/before-hook-ran")
    assert marker.exists and marker.user == "flaskapp"


def _deploy_dir(name: str) -> tuple[subprocess.CompletedProcess[str], float]:
    return _playbook("deploy.yml", "-e", json.dumps({"app_source": "dir", "app_source_dir": str(FIXTURES / name)}))


def test_deploy_and_rollback_playbooks(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    same, t_same = _deploy_dir("dir-v2")
    assert same.returncode == 0, same.stdout[-3000:] + same.stderr[-2000:]
    assert "changed=0" in same.stdout, "redeploying the live release changed something"
    assert _version(host) == "v2"

    new, t_new = _deploy_dir("dir-v7")
    assert new.returncode == 0, new.stdout[-3000:] + new.stderr[-2000:]
    assert _version(host) == "v7"
    v7_release = host.check_output("basename $(readlink %s/current)", APP_ROOT)

    back, t_back = _playbook("rollback.yml")
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-2000:]
    assert _version(host) == "v2"

    named, t_named = _playbook("rollback.yml", "-e", f"app_release={v7_release}")
    assert named.returncode == 0, named.stdout[-3000:] + named.stderr[-2000:]
    assert _version(host) == "v7"

    missing, _ = _playbook("rollback.yml", "-e", "app_release=0123456789ab")
    assert missing.returncode != 0
    # A failed task's message may go to stderr (display_failed_stderr), and Ansible folds long
    # messages over lines: look in both, with the whitespace collapsed.
    said = " ".join((missing.stdout + missing.stderr).split())
    assert 'app_release="0123456789ab" is not a complete release' in said, said[-3000:]
    assert _version(host) == "v7"

    for result in (same, new, back, named, missing):
        assert SECRET not in result.stdout + result.stderr
    with capsys.disabled():
        print(
            f"\nwall time: redeploy of the live release {t_same:.1f} s, code deploy {t_new:.1f} s,"
            f" rollback {t_back:.1f} s, rollback to a named release {t_named:.1f} s"
        )
