"""Release ids follow the content, not the clock or the byte-code caches."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.flaskops.deploy.plugins.lookup.source_checksum import LookupModule, tree_checksum


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("app = 1\n")
    (root / "pkg" / "mod.py").write_text("x = 2\n")
    return root


def test_same_content_same_checksum(tmp_path: Path) -> None:
    assert tree_checksum(_tree(tmp_path / "a")) == tree_checksum(_tree(tmp_path / "b"))


def test_caches_and_vcs_do_not_count(tmp_path: Path) -> None:
    before = tree_checksum(_tree(tmp_path))
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-313.pyc").write_bytes(b"\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: x\n")
    assert tree_checksum(tmp_path) == before


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
def test_any_real_change_changes_it(tmp_path: Path, change: object) -> None:
    root = _tree(tmp_path)
    before = tree_checksum(root)
    change(root)  # type: ignore[operator]
    assert tree_checksum(root) != before


def test_a_single_file(tmp_path: Path) -> None:
    wheel = tmp_path / "shop-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    assert tree_checksum(wheel) == "fcab7fcc2b4cffd9bb45003bfc2e468a04ef6f77ca8200a7341f027631584d25"  # sha256(b"PK")


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AnsibleLookupError, match="neither a file nor a directory"):
        LookupModule().run([str(tmp_path / "nope")])
