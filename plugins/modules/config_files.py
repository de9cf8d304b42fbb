#!/usr/bin/python
"""Write a role's configuration - directories, files, links, removals - in one call, tested as a whole."""

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
author: flaskops.deploy maintainers (@flaskops)
short_description: A role's directories, files and links in one call, optionally tested as a whole
description:
  - Brings a set of directories, files (their content rendered on the controller, usually with the
    C(ansible.builtin.template) lookup), symbolic links and removals to the state given, in one round trip
    whatever their number, and reports what changed, with a diff per file in C(--diff) mode.
  - A file is written atomically (a temporary file beside it, then a rename), and only when its content
    differs; owner, group and mode are corrected either way. A file's O(files[].validate) command checks the
    temporary file before it replaces the live one, as C(ansible.builtin.template) does.
  - With O(test), a command that checks everything together (C(nginx -t)) runs once after the changes; when it
    fails, every file, link and removal is put back as it was (new ones are removed) and the module fails
    with the command's own message. Nothing is left behind, no backup file either.
  - In check mode nothing is written and nothing is tested; the diff shows what would change.
options:
  directories:
    description: Directories to create (with their parents), or whose owner, group and mode to correct.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: A directory, or a list of directories with the same owner, group and mode.
        type: list
        elements: path
        required: true
      owner:
        description: Its owner.
        type: str
        default: root
      group:
        description: Its group.
        type: str
        default: root
      mode:
        description: Its mode, as an octal string.
        type: str
        default: "0755"
  files:
    description: Files and their content.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: The file.
        type: path
        required: true
      content:
        description: Its whole content; or O(files[].template).
        type: str
      template:
        description:
          - A template to render on the controller for its content, as C(ansible.builtin.template) finds it (the role's
            C(templates/), a path), instead of O(files[].content).
        type: str
      vars:
        description: Variables for O(files[].template) alone (the loop variable of a list of similar files).
        type: dict
      owner:
        description: Its owner.
        type: str
        default: root
      group:
        description: Its group.
        type: str
        default: root
      mode:
        description: Its mode, as an octal string.
        type: str
        default: "0644"
      validate:
        description: A command that checks the new content before it goes live; C(%s) is the file to check.
        type: str
  links:
    description: Symbolic links.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: The link.
        type: path
        required: true
      src:
        description: What it points at.
        type: path
        required: true
  absent:
    description: Files or links to remove.
    type: list
    elements: path
    default: []
  purge:
    description: Directories from which files and links matching a pattern, not in O(files) or O(links), go.
    type: list
    elements: dict
    default: []
    suboptions:
      dir:
        description: The directory.
        type: path
        required: true
      pattern:
        description: A shell pattern of file names.
        type: str
        default: "*"
  test:
    description: A command (argv) that checks the whole configuration after a change; on failure everything is put back.
    type: list
    elements: str
  lock:
    description:
      - A lock file held (C(flock)) from the first write to the end of O(test) and of any putting back, so that two
        calls on one host (two apps writing their nginx sites at once) never test or undo each other's half-written
        configuration.
    type: path
attributes:
  check_mode:
    support: full
    description: Reports what would change, with the diff, and writes nothing.
  diff_mode:
    support: full
    description: A diff per file, and per directory, link or removal.
"""

EXAMPLES = r"""
- name: Write nginx.conf and the site, tested as a whole before nginx loads them
  flaskops.deploy.config_files:
    files:
      - dest: /etc/nginx/nginx.conf
        content: "{{ lookup('ansible.builtin.template', 'nginx.conf.j2') }}"
      - dest: /etc/nginx/sites-available/shop.conf
        content: "{{ lookup('ansible.builtin.template', 'site.conf.j2') }}"
    links:
      - {dest: /etc/nginx/sites-enabled/shop.conf, src: /etc/nginx/sites-available/shop.conf}
    absent: [/etc/nginx/sites-enabled/default]
    test: [nginx, -t]
  register: nginx_config_result
  notify: Reload nginx
"""

RETURN = r"""
changed_paths:
  description: Every path this run created, rewrote, re-linked, re-owned or removed.
  type: list
  elements: str
  returned: always
test_output:
  description: What O(test) printed (it prints to stderr), when it ran.
  type: str
  returned: when the test ran
"""

import fcntl
import fnmatch
import grp
import os
import pwd
import shlex
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.basic import AnsibleModule

MAX_DIFF_BYTES = 104448  # what ansible.builtin.copy shows at most


class ConfigError(Exception):
    """A change that cannot be made, with the reason."""


@dataclass
class Undo:
    """How to put one path back as it was before this run."""

    path: str
    kind: str  # "absent", "file", "link" or "directory"
    content: bytes = b""
    target: str = ""
    mode: int = 0
    uid: int = 0
    gid: int = 0


@dataclass
class Run:
    module: AnsibleModule
    check: bool
    changed: list[str] = field(default_factory=list)
    diffs: list[dict[str, Any]] = field(default_factory=list)
    undo: list[Undo] = field(default_factory=list)


def _ids(owner: str, group: str, check: bool) -> tuple[int, int] | None:
    try:
        uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError as exc:
        if check:  # a dry run on a new host: the account is only simulated so far
            return None
        raise ConfigError(f"no such user or group: {exc.args[0]}") from exc
    return uid, gid


def _remember(path: str) -> Undo:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Undo(path, "absent")
    if stat.S_ISLNK(info.st_mode):
        return Undo(path, "link", target=os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return Undo(path, "directory", mode=stat.S_IMODE(info.st_mode), uid=info.st_uid, gid=info.st_gid)
    with open(path, "rb") as handle:
        content = handle.read()
    return Undo(path, "file", content=content, mode=stat.S_IMODE(info.st_mode), uid=info.st_uid, gid=info.st_gid)


def _text(data: bytes) -> str:
    if len(data) > MAX_DIFF_BYTES:
        return f"({len(data)} bytes: too long to show)\n"
    return data.decode("utf-8", errors="replace")


def _attrs_differ(before: Undo, mode: int, ids: tuple[int, int] | None) -> bool:
    return ids is None or before.mode != mode or (before.uid, before.gid) != ids


def ensure_directory(run: Run, spec: dict[str, Any]) -> None:
    path, mode = spec["path"], int(spec["mode"], 8)
    ids = _ids(spec["owner"], spec["group"], run.check)
    before = _remember(path)
    if before.kind not in ("absent", "directory"):
        raise ConfigError(f"{path} exists and is not a directory")
    if before.kind == "directory" and not _attrs_differ(before, mode, ids):
        return
    run.changed.append(path)
    run.diffs.append({"before": {"path": path, "state": before.kind}, "after": {"path": path, "state": "directory"}})
    if run.check:
        return
    run.undo.append(before)
    if before.kind == "absent":
        os.makedirs(path, exist_ok=True)
    if ids is None:
        raise ConfigError(f"{path}: no such owner or group")
    os.chown(path, *ids)
    os.chmod(path, mode)


def _validate(run: Run, command: str, candidate: str, dest: str) -> None:
    argv = [candidate if part == "%s" else part.replace("%s", candidate) for part in shlex.split(command)]
    rc, out, err = run.module.run_command(argv, environ_update={"PYTHONDONTWRITEBYTECODE": "1"})
    if rc != 0:
        lines = (out + err).strip().splitlines()[-15:]
        raise ConfigError(f"{dest} was not changed: `{command}` refused the new content: {' | '.join(lines)}")


def ensure_file(run: Run, spec: dict[str, Any]) -> None:
    dest, mode = spec["dest"], int(spec["mode"], 8)
    content = spec["content"].encode("utf-8")
    ids = _ids(spec["owner"], spec["group"], run.check)
    before = _remember(dest)
    if before.kind == "directory":
        raise ConfigError(f"{dest} is a directory, not a file")
    same_content = before.kind == "file" and before.content == content
    if same_content and not _attrs_differ(before, mode, ids):
        return
    run.changed.append(dest)
    if not same_content:
        run.diffs.append(
            {
                "before_header": dest if before.kind != "absent" else f"{dest} (absent)",
                "after_header": dest,
                "before": _text(before.content) if before.kind == "file" else "",
                "after": _text(content),
            }
        )
    else:
        run.diffs.append(
            {"before": {"path": dest, "mode": f"{before.mode:04o}"}, "after": {"path": dest, "mode": spec["mode"]}}
        )
    if run.check:
        return
    if ids is None:
        raise ConfigError(f"{dest}: no such owner or group")
    if same_content:
        run.undo.append(before)
        os.chown(dest, *ids)
        os.chmod(dest, mode)
        return
    directory = os.path.dirname(dest) or "."
    if not os.path.isdir(directory):
        raise ConfigError(f"{dest}: its directory {directory} does not exist")
    handle, candidate = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chown(candidate, *ids)
        os.chmod(candidate, mode)
        if spec.get("validate"):
            _validate(run, spec["validate"], candidate, dest)
        run.undo.append(before)
        os.replace(candidate, dest)
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)


def ensure_link(run: Run, spec: dict[str, Any]) -> None:
    dest, src = spec["dest"], spec["src"]
    before = _remember(dest)
    if before.kind == "link" and before.target == src:
        return
    if before.kind == "directory":
        raise ConfigError(f"{dest} is a directory, not a link")
    run.changed.append(dest)
    run.diffs.append(
        {
            "before": {"path": dest, "state": before.kind, "src": before.target},
            "after": {"path": dest, "state": "link", "src": src},
        }
    )
    if run.check:
        return
    temporary = f"{dest}.flaskops-new"
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(src, temporary)
    run.undo.append(before)
    os.replace(temporary, dest)


def ensure_absent(run: Run, path: str) -> None:
    before = _remember(path)
    if before.kind == "absent":
        return
    if before.kind == "directory":
        raise ConfigError(f"{path} is a directory: only files and links are removed")
    run.changed.append(path)
    run.diffs.append({"before": {"path": path, "state": before.kind}, "after": {"path": path, "state": "absent"}})
    if run.check:
        return
    run.undo.append(before)
    os.unlink(path)


def restore(undo: list[Undo]) -> list[str]:
    """Puts every path back, newest change first; returns what could not be put back."""
    failures = []
    for item in reversed(undo):
        try:
            if os.path.islink(item.path) or os.path.isfile(item.path):
                os.unlink(item.path)
            if item.kind == "file":
                with open(item.path, "wb") as out:
                    out.write(item.content)
                os.chown(item.path, item.uid, item.gid)
                os.chmod(item.path, item.mode)
            elif item.kind == "link":
                os.symlink(item.target, item.path)
            elif item.kind == "directory":
                if os.path.isdir(item.path):
                    os.chown(item.path, item.uid, item.gid)
                    os.chmod(item.path, item.mode)
            elif item.kind == "absent" and os.path.isdir(item.path):
                shutil.rmtree(item.path)
        except OSError as exc:
            failures.append(f"{item.path}: {exc.strerror}")
    return failures


def main() -> None:
    path_owner = {"owner": {"type": "str", "default": "root"}, "group": {"type": "str", "default": "root"}}
    module = AnsibleModule(
        argument_spec={
            "directories": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "list", "elements": "path", "required": True},
                    "mode": {"type": "str", "default": "0755"},
                    **path_owner,
                },
            },
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "dest": {"type": "path", "required": True},
                    "content": {"type": "str"},
                    # Rendered into content by the action plugin, on the controller.
                    "template": {"type": "str"},
                    "vars": {"type": "dict"},
                    "mode": {"type": "str", "default": "0644"},
                    "validate": {"type": "str"},
                    **path_owner,
                },
            },
            "links": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"dest": {"type": "path", "required": True}, "src": {"type": "path", "required": True}},
            },
            "absent": {"type": "list", "elements": "path", "default": []},
            "purge": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"dir": {"type": "path", "required": True}, "pattern": {"type": "str", "default": "*"}},
            },
            "test": {"type": "list", "elements": "str"},
            "lock": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    lock = None
    if params["lock"] and not module.check_mode:
        # Closed (and so released) when the module's process ends, whichever way it ends.
        lock = open(params["lock"], "a", encoding="utf-8")
        fcntl.flock(lock, fcntl.LOCK_EX)
    run = Run(module=module, check=module.check_mode)
    wanted = {spec["dest"] for spec in params["files"] + params["links"]}
    removals = list(params["absent"])
    for purge in params["purge"]:
        if os.path.isdir(purge["dir"]):
            for name in sorted(os.listdir(purge["dir"])):
                path = os.path.join(purge["dir"], name)
                if fnmatch.fnmatch(name, purge["pattern"]) and path not in wanted and not os.path.isdir(path):
                    removals.append(path)
    missing = [spec["dest"] for spec in params["files"] if spec["content"] is None]
    if missing:
        module.fail_json(msg=f"config_files: no content for {', '.join(missing)} (give content or template)")
    try:
        for spec in params["directories"]:
            for path in spec["path"]:
                ensure_directory(run, {**spec, "path": path})
        for spec in params["files"]:
            ensure_file(run, spec)
        for spec in params["links"]:
            ensure_link(run, spec)
        for path in removals:
            ensure_absent(run, path)
    except (ConfigError, OSError) as exc:
        failures = restore(run.undo)
        module.fail_json(
            msg=f"{exc}; nothing was changed{'' if not failures else ' except: ' + '; '.join(failures)}",
            changed_paths=[],
        )
    result: dict[str, Any] = {"changed": bool(run.changed), "changed_paths": run.changed, "diff": run.diffs}
    if run.changed and params["test"] and not run.check:
        rc, out, err = module.run_command(params["test"])
        result["test_output"] = (out + err).strip()
        if rc != 0:
            failures = restore(run.undo)
            module.fail_json(
                msg=f"`{' '.join(params['test'])}` rejected the new configuration; every file is back as it was"
                f"{'' if not failures else ' except: ' + '; '.join(failures)}: {result['test_output']}",
                changed_paths=[],
                test_output=result["test_output"],
                rc=rc,
            )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
