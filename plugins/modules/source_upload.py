#!/usr/bin/python
"""Unpack a release's code into its directory on the host, from one archive or a git commit."""

from __future__ import annotations

DOCUMENTATION = r"""
module: source_upload
author: flaskops.deploy maintainers (@flaskops)
short_description: Puts a release's code in place in one call, from the controller or a git commit on the host
description:
  - With O(src) (a directory or a .tar.gz/.zip archive on the controller), the action plugin packs the files
    a release holds into one archive on the controller, sends it, and this module unpacks it once into
    O(dest), one transfer whatever the number of files.
  - With O(git_repo), the module exports O(git_version) of that repository on the host (C(git archive)) into
    O(dest) instead.
  - Either way the same files are left out as the P(flaskops.deploy.source_checksum#lookup) lookup leaves out
    of the release id - VCS folders, virtualenvs (any directory with a C(pyvenv.cfg)), byte-code and tool
    caches, and the patterns in O(exclude) - and the module returns the checksum of what it wrote, which is
    the lookup's checksum of the same source.
  - Without O(src) or O(git_repo), O(dest) is only created (a release of a package from an index).
  - O(dest) is created afresh (anything an interrupted build left there is removed first), owned by root,
    directories 0755, files 0644 or 0755 where the source file is executable.
options:
  src:
    description: A directory or an archive (.tar, .tar.gz, .tar.bz2, .tar.xz or .zip) on the controller.
    type: path
  as_file:
    description:
      - With O(src) a single file (a wheel or an sdist), the directory of the release it is placed in, as it is,
        instead of unpacking it.
    type: str
  name:
    description: With O(as_file), the file's name in the release; the action plugin sets it from O(src).
    type: str
  git_repo:
    description: A git repository on the host (a clone), exported at O(git_version).
    type: path
  git_version:
    description: The commit to export from O(git_repo).
    type: str
  dest:
    description: The release directory to create.
    type: path
    required: true
  exclude:
    description: More to leave out, as patterns (C(node_modules/), C(*.sqlite), C(docs/build)).
    type: list
    elements: str
    default: []
  checksum:
    description: The release id's checksum of the source; the upload fails if what it unpacked differs.
    type: str
attributes:
  check_mode:
    support: full
    description: Packs and checks the source, sends nothing.
"""

EXAMPLES = r"""
- name: Upload the code as one archive and unpack it into the release
  flaskops.deploy.source_upload:
    src: "{{ playbook_dir }}/../shop"
    dest: /srv/shop/releases/3f2a9c1e0b7d
    exclude: [node_modules/, "*.sqlite"]
"""

RETURN = r"""
files:
  description: Files written into O(dest).
  type: int
  returned: success
bytes:
  description: Bytes of file content written.
  type: int
  returned: success
checksum:
  description: The checksum of the written files, as the source_checksum lookup computes it.
  type: str
  returned: success
"""

import hashlib
import io
import os
import shutil
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.source_tree import (
    Entry,
    SourceError,
    checksum,
    tar_entries,
)


def _members(module: AnsibleModule) -> list[Entry]:
    params = module.params
    if params["src"]:
        if params["as_file"]:
            with open(params["src"], "rb") as handle:
                data = handle.read()
            folder = params["as_file"].strip("/")
            return [Entry(folder), Entry(f"{folder}/{params['name']}", False, data)]
        with open(params["src"], "rb") as handle:
            return tar_entries(handle, "the uploaded archive", params["exclude"])
    if not params["git_repo"]:
        return []
    command = ["git", "-C", params["git_repo"], "archive", "--format=tar", "--", params["git_version"]]
    rc, out, err = module.run_command(command, encoding=None)
    if rc != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-5:]
        module.fail_json(msg=f"{' '.join(command)} failed (exit {rc}): {' | '.join(tail)}", rc=rc)
    return tar_entries(io.BytesIO(out), f"git archive of {params['git_version']}", params["exclude"])


def _write(dest: Path, members: list[Entry]) -> tuple[int, int]:
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(mode=0o755, parents=True)
    dest.chmod(0o755)
    files = size = 0
    for entry in members:
        path = dest / entry.path
        if entry.is_dir:
            path.mkdir(mode=0o755, exist_ok=True)
            path.chmod(0o755)
            continue
        data = entry.data or b""
        with open(path, "wb") as handle:
            handle.write(data)
        path.chmod(0o755 if entry.executable else 0o644)
        files += 1
        size += len(data)
    if os.geteuid() == 0:
        os.chown(dest, 0, 0)
        for current, dirnames, filenames in os.walk(dest):
            for name in dirnames + filenames:
                os.lchown(os.path.join(current, name), 0, 0)
    return files, size


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path"},
            "as_file": {"type": "str"},
            "name": {"type": "str"},
            "git_repo": {"type": "path"},
            "git_version": {"type": "str"},
            "dest": {"type": "path", "required": True},
            "exclude": {"type": "list", "elements": "str", "default": []},
            "checksum": {"type": "str"},
        },
        mutually_exclusive=[("src", "git_repo")],
        required_together=[("git_repo", "git_version")],
        supports_check_mode=True,
    )
    try:
        members = _members(module)
    except (SourceError, OSError) as exc:
        module.fail_json(msg=f"the release's code could not be read: {exc}")
    if module.params["as_file"] and members:
        written = hashlib.sha256(members[-1].data or b"").hexdigest()
    else:
        written = checksum(members)
    expected = module.params["checksum"]
    if expected and expected != written:
        module.fail_json(
            msg=f"the code unpacked into {module.params['dest']} has checksum {written}, not the release id's "
            f"{expected}: the source changed while it was deployed; deploy again",
            checksum=written,
        )
    result: dict[str, Any] = {"changed": True, "checksum": written}
    if module.check_mode:
        module.exit_json(files=sum(1 for m in members if not m.is_dir), bytes=0, **result)
    try:
        files, size = _write(Path(module.params["dest"]), members)
    except OSError as exc:
        module.fail_json(msg=f"writing {module.params['dest']} failed: {exc}")
    module.exit_json(files=files, bytes=size, **result)


if __name__ == "__main__":
    main()
