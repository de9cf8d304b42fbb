"""Checksum a directory tree or a file on the controller, for content-addressed release ids."""

from __future__ import annotations

DOCUMENTATION = r"""
name: source_checksum
author: flaskops.deploy maintainers (@flaskops)
version_added: "0.1.0"
short_description: SHA-256 of a directory tree or a file on the controller
description:
  - Hashes every file below a directory (relative path, mode's executable bit and content, in
    sorted order), or a single file. Byte-code caches and VCS folders are left out, so the same
    sources always give the same checksum.
  - The app role names releases after it, so deploying the same code twice creates no new release.
options:
  _terms:
    description: Paths on the controller.
    required: true
"""

EXAMPLES = r"""
- ansible.builtin.debug:
    msg: "{{ lookup('flaskops.deploy.source_checksum', playbook_dir ~ '/../shop') }}"
"""

RETURN = r"""
_raw:
  description: One hex SHA-256 per path.
  type: list
  elements: str
"""

import hashlib
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

IGNORED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", ".tox", ".mypy_cache", ".pytest_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def tree_checksum(path: Path) -> str:
    """SHA-256 over a file, or over every kept file below a directory."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    if not path.is_dir():
        raise AnsibleLookupError(f"source_checksum: {path} is neither a file nor a directory on the controller")
    for file in sorted(p for p in path.rglob("*") if p.is_file() and _kept(p.relative_to(path))):
        relative = file.relative_to(path).as_posix()
        executable = "x" if file.stat().st_mode & 0o111 else "-"
        digest.update(f"{relative}\0{executable}\0".encode())
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _kept(relative: Path) -> bool:
    return not (set(relative.parts[:-1]) & IGNORED_DIRS) and not relative.name.endswith(IGNORED_SUFFIXES)


class LookupModule(LookupBase):
    """Lookup entry point."""

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        return [tree_checksum(Path(str(term)).expanduser()) for term in terms]
