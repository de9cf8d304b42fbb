"""Release ids follow the content, and the upload carries exactly what the id counts."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.flaskops.deploy.plugins.lookup.source_checksum import LookupModule, tree_checksum
from ansible_collections.flaskops.deploy.plugins.module_utils.source_tree import (
    SourceError,
    checksum,
    entries,
    pack,
    tar_entries,
)


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("app = 1\n")
    (root / "pkg" / "mod.py").write_text("x = 2\n")
    return root


def _paths(root: Path, patterns: list[str] | None = None) -> list[str]:
    return [entry.path for entry in entries(root, patterns or []) if not entry.is_dir]


def test_same_content_same_checksum(tmp_path: Path) -> None:
    assert tree_checksum(_tree(tmp_path / "a")) == tree_checksum(_tree(tmp_path / "b"))


def test_caches_vcs_and_virtualenvs_do_not_count(tmp_path: Path) -> None:
    before = tree_checksum(_tree(tmp_path))
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-313.pyc").write_bytes(b"\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: x\n")
    # A checkout's own virtualenv, under any name: pyvenv.cfg marks it.
    for venv in (".venv", "env"):
        (tmp_path / venv / "bin").mkdir(parents=True)
        (tmp_path / venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (tmp_path / venv / "bin" / "pip").write_text("#!/bin/sh\n")
    (tmp_path / ".ruff_cache").mkdir()
    (tmp_path / ".ruff_cache" / "x").write_text("")
    assert tree_checksum(tmp_path) == before
    assert _paths(tmp_path) == ["app.py", "pkg/mod.py"]


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "app.py").write_text("app = 2\n"),
        lambda root: (root / "pkg" / "mod.py").rename(root / "pkg" / "other.py"),
        lambda root: (root / "app.py").chmod(0o755),
        lambda root: (root / "new.txt").write_text(""),
    ],
    ids=["content", "rename", "executable bit", "new file"],
)
def test_any_real_change_changes_it(tmp_path: Path, change: Callable[[Path], object]) -> None:
    root = _tree(tmp_path)
    before = tree_checksum(root)
    change(root)
    assert tree_checksum(root) != before


@pytest.mark.parametrize(
    ("patterns", "kept"),
    [
        (["node_modules/"], ["app.py", "data.sqlite", "docs/build/x.html", "pkg/mod.py"]),
        (["*.sqlite"], ["app.py", "docs/build/x.html", "node_modules/a/index.js", "pkg/mod.py"]),
        (["docs/build"], ["app.py", "data.sqlite", "node_modules/a/index.js", "pkg/mod.py"]),
    ],
    ids=["a directory at any depth", "a name", "a path from the top"],
)
def test_user_patterns_leave_out_what_they_name(tmp_path: Path, patterns: list[str], kept: list[str]) -> None:
    root = _tree(tmp_path)
    (root / "node_modules" / "a").mkdir(parents=True)
    (root / "node_modules" / "a" / "index.js").write_text("")
    (root / "data.sqlite").write_bytes(b"SQLite")
    (root / "docs" / "build").mkdir(parents=True)
    (root / "docs" / "build" / "x.html").write_text("")
    assert _paths(root, patterns) == kept
    assert tree_checksum(root, patterns) != tree_checksum(root)


@pytest.mark.parametrize("pattern", ["../etc", "/etc", "a/../../b", ""])
def test_a_pattern_outside_the_source_is_refused(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(SourceError):
        entries(_tree(tmp_path), [pattern])


def _archive(tmp_path: Path, kind: str) -> Path:
    """The same files as _tree, plus a venv, in a tar.gz or zip (parents left implicit, as tools do)."""
    files = {"app.py": b"app = 1\n", "pkg/mod.py": b"x = 2\n", ".venv/pyvenv.cfg": b"home = /usr\n"}
    if kind == "zip":
        path = tmp_path / "app.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in files.items():
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        return path
    path = tmp_path / "app.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_an_archive_and_a_directory_of_the_same_files_have_the_same_id(tmp_path: Path, kind: str) -> None:
    assert tree_checksum(_archive(tmp_path, kind)) == tree_checksum(_tree(tmp_path / "dir"))


def test_an_archive_member_outside_the_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(SourceError, match="outside the release"):
        entries(path)


def test_the_upload_carries_what_the_id_counts(tmp_path: Path) -> None:
    """Packed on the controller, read back on the host: the same files, the same modes, the same checksum."""
    root = _tree(tmp_path / "src")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "empty").mkdir()
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"\0")
    members = entries(root)
    buffer = io.BytesIO()
    files, size = pack(members, buffer)
    assert (files, size) == (3, len("app = 1\n") + len("x = 2\n") + len("#!/bin/sh\n"))
    buffer.seek(0)
    unpacked = tar_entries(buffer, "test")
    assert [(e.path, e.executable, e.is_dir) for e in unpacked] == [(e.path, e.executable, e.is_dir) for e in members]
    assert checksum(unpacked) == checksum(members) == tree_checksum(root)
    assert "empty" in [e.path for e in unpacked if e.is_dir]


def test_a_single_file(tmp_path: Path) -> None:
    wheel = tmp_path / "shop-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    sha256_of_pk = "fcab7fcc2b4cffd9bb45003bfc2e468a04ef6f77ca8200a7341f027631584d25"
    assert tree_checksum(wheel, whole_file=True) == sha256_of_pk


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AnsibleLookupError, match="neither a file nor a directory"):
        LookupModule().run([str(tmp_path / "nope")])


def test_the_lookup_takes_the_exclude_list(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "x.sqlite").write_text("")
    assert LookupModule().run([str(root)], exclude=["*.sqlite"]) == [tree_checksum(root, ["*.sqlite"])]
