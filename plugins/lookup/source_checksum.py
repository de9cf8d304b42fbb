"""Checksum a source tree or archive on the controller, for content-addressed release ids."""

from __future__ import annotations

DOCUMENTATION = r"""
name: source_checksum
author: flaskops.deploy maintainers (@flaskops)
version_added: "0.1.0"
short_description: SHA-256 of the files a release of a directory or archive on the controller holds
description:
  - Hashes every file a release of the source would hold (relative path, executable bit and content, in
    sorted order). The source is a directory, or a .tar(.gz/.bz2/.xz) or .zip archive whose top level
    is the app's root; a directory and an archive of the same files give the same checksum.
  - Left out, as the P(flaskops.deploy.source_upload#module) action leaves them out of the upload - VCS
    folders, virtualenvs (any directory with a C(pyvenv.cfg)), byte-code and tool caches, and the
    patterns in O(exclude). The same sources always give the same checksum.
  - The app role names releases after it, so deploying the same code twice creates no new release.
options:
  _terms:
    description: Directories or archives on the controller.
    required: true
  exclude:
    description:
      - More to leave out, as in C(app_source_exclude) - C(node_modules/) (a directory of that name at any
        depth), C(*.sqlite) (a name at any depth), C(docs/build) (a path from the top of the source).
    type: list
    elements: str
    default: []
  whole_file:
    description: Hash a file's bytes as they are instead of its members (a wheel or an sdist).
    type: bool
    default: false
"""

EXAMPLES = r"""
- ansible.builtin.debug:
    msg: "{{ lookup('flaskops.deploy.source_checksum', playbook_dir ~ '/../shop', exclude=['node_modules/']) }}"
"""

RETURN = r"""
_raw:
  description: One hex SHA-256 per source.
  type: list
  elements: str
"""

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.flaskops.deploy.plugins.module_utils.source_tree import (
    SourceError,
    checksum,
    entries,
    file_checksum,
)


def tree_checksum(path: Path, exclude: list[str] | None = None, whole_file: bool = False) -> str:
    """SHA-256 over every file a release of ``path`` holds (or over the file itself, with whole_file)."""
    try:
        return file_checksum(path) if whole_file else checksum(entries(path, exclude or []))
    except SourceError as exc:
        raise AnsibleLookupError(f"source_checksum: {exc}") from exc


class LookupModule(LookupBase):
    """Lookup entry point."""

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        exclude = [str(p) for p in kwargs.get("exclude") or []]
        whole_file = bool(kwargs.get("whole_file", False))
        return [tree_checksum(Path(str(term)).expanduser(), exclude, whole_file) for term in terms]
