"""The modules that read and write a host in one call, run here against a temporary tree.

Each runs as Ansible runs it (its main(), its argument spec, its JSON answer); only the paths are
temporary. Owners are the user running the tests, so no root is needed.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible_collections.flaskops.deploy.plugins.modules import config_files, host_state, release_venv, upstream_server
from module_runner import run_module

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def run(
    module: ModuleType, args: dict[str, Any], check: bool = False, monkeypatch: pytest.MonkeyPatch | None = None
) -> dict[str, Any]:
    """The module's JSON answer for these arguments."""
    assert monkeypatch is not None
    return run_module(module, args, monkeypatch, check=check)


def _file(dest: Path, content: str, **extra: Any) -> dict[str, Any]:
    return {"dest": str(dest), "content": content, "owner": ME, "group": MY_GROUP, **extra}


# --- config_files ---------------------------------------------------------------------------------


def test_writes_a_set_then_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = {
        "directories": [
            {"path": [str(tmp_path / "d"), str(tmp_path / "e")], "owner": ME, "group": MY_GROUP, "mode": "0750"}
        ],
        "files": [_file(tmp_path / "d" / "a.conf", "a\n"), _file(tmp_path / "d" / "b.conf", "b\n", mode="0600")],
        "links": [{"dest": str(tmp_path / "e" / "a.conf"), "src": str(tmp_path / "d" / "a.conf")}],
    }
    first = run(config_files, args, monkeypatch=monkeypatch)
    assert first["changed"] and len(first["changed_paths"]) == 5
    assert (tmp_path / "d" / "b.conf").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o750
    assert os.readlink(tmp_path / "e" / "a.conf") == str(tmp_path / "d" / "a.conf")
    again = run(config_files, args, monkeypatch=monkeypatch)
    assert not again["changed"] and again["changed_paths"] == []


def test_check_mode_shows_the_diff_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.conf").write_text("old\n")
    result = run(config_files, {"files": [_file(tmp_path / "a.conf", "new\n")]}, check=True, monkeypatch=monkeypatch)
    assert result["changed"]
    assert result["diff"][0]["before"] == "old\n" and result["diff"][0]["after"] == "new\n"
    assert (tmp_path / "a.conf").read_text() == "old\n"


def test_a_failed_test_puts_every_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kept.conf").write_text("good\n")
    (tmp_path / "gone.conf").write_text("still here\n")
    args = {
        "files": [_file(tmp_path / "kept.conf", "bad\n"), _file(tmp_path / "new.conf", "new\n")],
        "absent": [str(tmp_path / "gone.conf")],
        # The test looks at what was written: it refuses "bad".
        "test": [
            "sh",
            "-c",
            f"! grep -q bad {tmp_path / 'kept.conf'} || {{ echo 'unknown directive bad' >&2; exit 1; }}",
        ],
    }
    result = run(config_files, args, monkeypatch=monkeypatch)
    assert result["failed"]
    assert "unknown directive bad" in result["msg"] and "every file is back" in result["msg"]
    assert (tmp_path / "kept.conf").read_text() == "good\n"
    assert (tmp_path / "gone.conf").read_text() == "still here\n"
    assert not (tmp_path / "new.conf").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.conf", "kept.conf"]  # no backup, no temporary file


def test_validate_refuses_before_the_live_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.conf.py").write_text("workers = 2\n")
    spec = _file(tmp_path / "app.conf.py", "workers = = 3\n", validate=f"{sys.executable} -m py_compile %s")
    result = run(config_files, {"files": [spec]}, monkeypatch=monkeypatch)
    assert result["failed"] and "refused the new content" in result["msg"] and "SyntaxError" in result["msg"]
    assert (tmp_path / "app.conf.py").read_text() == "workers = 2\n"


def test_purge_removes_what_is_no_longer_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("web1.conf", "web2.conf", "notes.txt"):
        (tmp_path / name).write_text("server x;\n")
    args = {
        "files": [_file(tmp_path / "web1.conf", "server x;\n")],
        "purge": [{"dir": str(tmp_path), "pattern": "*.conf"}],
    }
    result = run(config_files, args, monkeypatch=monkeypatch)
    assert result["changed_paths"] == [str(tmp_path / "web2.conf")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "web1.conf"]


def test_purge_keeps_the_links_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    available, enabled = tmp_path / "available", tmp_path / "enabled"
    available.mkdir()
    enabled.mkdir()
    (available / "c-80.conf").write_text("old\n")
    (enabled / "c-80.conf").symlink_to(available / "c-80.conf")
    (enabled / "c-8080.conf").symlink_to(available / "c-8080.conf")
    args = {
        "files": [_file(available / "c-80.conf", "old\n")],
        "links": [{"dest": str(enabled / "c-80.conf"), "src": str(available / "c-80.conf")}],
        "purge": [{"dir": str(enabled), "pattern": "c-*.conf"}, {"dir": str(available), "pattern": "c-*.conf"}],
    }
    result = run(config_files, args, monkeypatch=monkeypatch)
    assert result["changed_paths"] == [str(enabled / "c-8080.conf")]
    assert [p.name for p in enabled.iterdir()] == ["c-80.conf"]


def test_the_lock_makes_a_second_writer_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl
    import subprocess
    import time

    lock = tmp_path / "nginx.lock"
    # Another writer (a second process) holds the lock for a moment.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import fcntl,time; f=open({str(lock)!r},'a'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); time.sleep(1.5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    result = run(
        config_files, {"files": [_file(tmp_path / "a.conf", "x\n")], "lock": str(lock)}, monkeypatch=monkeypatch
    )
    waited = time.monotonic() - start
    holder.wait()
    assert result["changed"] and (tmp_path / "a.conf").read_text() == "x\n"
    assert waited > 0.5, "wrote while the other writer held the lock"
    with open(lock, "a", encoding="utf-8") as handle:  # released: taken at once
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


# --- host_state --------------------------------------------------------------------------------------


def test_reads_links_releases_accounts_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    releases = tmp_path / "releases"
    for name, complete in (("aaa", True), ("bbb", False)):
        (releases / name).mkdir(parents=True)
        if complete:
            (releases / name / ".flaskops-release").write_text("{}")
    (tmp_path / "current").symlink_to(releases / "aaa")
    (tmp_path / "note.json").write_text('["gunicorn==27.0.1"]\n')
    result = run(
        host_state,
        {
            "paths": [str(tmp_path / "current"), str(tmp_path / "missing")],
            "releases": {"dir": str(releases), "marker": ".flaskops-release"},
            "users": [ME, "no-such-user-flaskops"],
            "groups": [MY_GROUP],
            "read": [str(tmp_path / "note.json"), str(tmp_path / "missing")],
            "which": ["sh", "no-such-program-flaskops"],
            "sysctls": ["kernel.no_such_setting"],
        },
        monkeypatch=monkeypatch,
    )
    assert result["changed"] is False
    current = result["paths"][str(tmp_path / "current")]
    assert current["type"] == "link" and current["target"] == str(releases / "aaa")
    assert result["paths"][str(tmp_path / "missing")] == {"exists": False}
    assert {r["name"]: r["complete"] for r in result["releases"]} == {"aaa": True, "bbb": False}
    assert result["users"][ME]["exists"] and result["users"]["no-such-user-flaskops"] == {"exists": False}
    assert ME in result["groups"][MY_GROUP]["primary_of"] or result["groups"][MY_GROUP]["exists"]
    assert json.loads(result["read"][str(tmp_path / "note.json")]) == ["gunicorn==27.0.1"]
    assert result["read"][str(tmp_path / "missing")] is None
    assert result["which"]["sh"] and result["which"]["no-such-program-flaskops"] is None
    assert result["sysctls"]["kernel.no_such_setting"] == {"value": None, "writable": False}


def test_reads_a_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crypto = pytest.importorskip("cryptography")
    del crypto
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0xABC)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("shop.example.com"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "shop.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result = run(host_state, {"certificates": [str(path)]}, monkeypatch=monkeypatch)
    described = result["certificates"][str(path)]
    assert described["subject_alt_names"] == ["DNS:shop.example.com", "IP:127.0.0.1"]
    assert described["serial"] == "abc" and 88 <= described["days_left"] <= 90


# --- upstream_server ----------------------------------------------------------------------------------


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    for host in ("web1", "web2"):
        (tmp_path / f"{host}.conf").write_text(
            f"# managed\nserver 10.0.0.{host[-1]}:80 max_fails=3 fail_timeout=10s;\n"
        )
    return tmp_path


def test_the_last_server_up_stays_in(upstream: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (upstream / "web2.conf").write_text("server 10.0.0.2:80 down;\n")
    result = run(upstream_server, {"dir": str(upstream), "server": "web1", "state": "down"}, monkeypatch=monkeypatch)
    assert result["kept"] and not result["changed"]
    assert upstream_server.is_up((upstream / "web1.conf").read_text())


def test_a_server_of_the_same_batch_does_not_count_as_up(upstream: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = {"dir": str(upstream), "server": "web1", "state": "down", "batch": ["web1", "web2"]}
    assert run(upstream_server, args, check=True, monkeypatch=monkeypatch)["kept"]


def test_down_in_check_mode_shows_the_line(upstream: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(
        upstream_server, {"dir": str(upstream), "server": "web1", "state": "down"}, check=True, monkeypatch=monkeypatch
    )
    assert result["changed"] and "server 10.0.0.1:80 max_fails=3 fail_timeout=10s down;" in result["diff"]["after"]
    assert upstream_server.is_up((upstream / "web1.conf").read_text())  # check mode wrote nothing


def test_a_balancer_not_set_up_yet_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(
        upstream_server, {"dir": str(tmp_path / "none"), "server": "web1", "state": "up"}, monkeypatch=monkeypatch
    )
    assert result == {**result, "changed": False, "present": False}


def test_an_unhealthy_server_stays_out(upstream: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (upstream / "web1.conf").write_text("server 127.0.0.1:9 down;\n")  # nothing listens on port 9
    args = {"dir": str(upstream), "server": "web1", "state": "up", "health_path": "/health", "timeout": 1}
    failed = run(upstream_server, args, monkeypatch=monkeypatch)
    assert failed["failed"] and "answered -1 for /health" in failed["msg"]
    quiet = run(upstream_server, {**args, "required": False}, monkeypatch=monkeypatch)
    assert not quiet.get("failed") and not quiet["changed"] and quiet["status"] == -1
    assert not upstream_server.is_up((upstream / "web1.conf").read_text())


# --- release_venv -------------------------------------------------------------------------------------


def _venv_params(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "share_dir": str(tmp_path / "venvs"),
        "python": sys.executable,
        "packages": ["gunicorn==27.0.1"],
        "index_url": "",
        "extra_index_urls": [],
        "build": [],
        "project": str(tmp_path / "release"),
        "requirements_file": "requirements.txt",
        **extra,
    }


@pytest.mark.parametrize(
    ("requirements", "shared"),
    [
        ("Flask==3.1.3\n# a comment\n", True),
        ("-e .\n", False),
        ("./libs/helper\n", False),
        ("helper @ file:///srv/helper\n", False),
        ("-r more.txt\n", False),
    ],
    ids=["pinned", "editable", "local path", "file url", "include"],
)
def test_a_venv_is_shared_only_when_it_holds_nothing_of_the_release(
    tmp_path: Path, requirements: str, shared: bool
) -> None:
    (tmp_path / "release").mkdir()
    (tmp_path / "release" / "requirements.txt").write_text(requirements)
    params = _venv_params(tmp_path)
    requirements_file, to_build = release_venv.sources(params)
    key = release_venv.shared_key(params, requirements_file, to_build)
    assert (key is not None) == shared


def test_the_same_requirements_give_the_same_shared_venv(tmp_path: Path) -> None:
    keys = []
    for name in ("one", "two"):
        release = tmp_path / name
        release.mkdir()
        (release / "requirements.txt").write_text("Flask==3.1.3\n")
        params = _venv_params(tmp_path, project=str(release))
        keys.append(release_venv.shared_key(params, *release_venv.sources(params)))
    (tmp_path / "two" / "requirements.txt").write_text("Flask==3.1.2\n")
    params = _venv_params(tmp_path, project=str(tmp_path / "two"))
    changed = release_venv.shared_key(params, *release_venv.sources(params))
    assert keys[0] == keys[1] != changed


def test_a_project_built_from_its_pyproject_gets_a_venv_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "release").mkdir()
    (tmp_path / "release" / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    params = _venv_params(tmp_path)
    requirements_file, to_build = release_venv.sources(params)
    assert (requirements_file, to_build) == ("", [str(tmp_path / "release")])
    assert release_venv.shared_key(params, requirements_file, to_build) is None


def test_the_wheelhouse_lock_keeps_a_second_download_waiting(tmp_path: Path) -> None:
    """Two builds sharing a wheelhouse (two apps of a host, or hosts sharing the directory) take turns."""
    holder = subprocess.Popen(  # another process holds the lock for a moment, as a running download does
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX);"
            " print('held', flush=True); time.sleep(1.0)",
            str(tmp_path / ".lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    with release_venv.locked(str(tmp_path)):
        waited = time.monotonic() - start
    holder.wait(timeout=10)
    assert waited >= 0.5, f"the lock was taken while another process held it (after {waited:.2f} s)"
