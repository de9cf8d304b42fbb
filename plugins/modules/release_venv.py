#!/usr/bin/python
"""Build a release's virtualenv from the host's wheelhouse, in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: release_venv
author: flaskops.deploy maintainers (@flaskops)
short_description: A release's own virtualenv, filled from a wheelhouse shared by every release on the host
description:
  - Creates the virtualenv (C(python -m venv)), builds wheels of what must be built first (a project with only
    a C(pyproject.toml), an sdist), downloads into the wheelhouse only the files it does not hold yet
    (C(pip download)), then installs everything from the wheelhouse alone (C(pip install --no-index)).
  - The O(packages) it installed are recorded in C(.flaskops-packages) in the virtualenv (a JSON list), so that a
    later run can tell what is there without asking pip.
  - One call instead of one task per step. A step that fails stops the build with the command and the last
    lines of what it printed (pip's own error, such as C(No space left on device)).
  - The download holds an exclusive lock on the wheelhouse (C(.lock) in it), so that builds of several apps of
    one host at the same time (or of several hosts sharing one wheelhouse directory) never read a file that
    another pip is still writing.
options:
  venv:
    description: The virtualenv to create.
    type: path
    required: true
  python:
    description: The interpreter that creates it.
    type: path
    default: /usr/bin/python3
  wheelhouse:
    description: The directory of wheels and sdists shared by every release and app on the host (created when missing).
    type: path
    default: /var/cache/flaskops/wheels
  project:
    description:
      - The release's directory. Its O(requirements_file) is installed when it has one; without one, a
        C(pyproject.toml) there is built into a wheel and installed.
    type: path
  requirements_file:
    description: The requirements file, relative to O(project).
    type: str
    default: requirements.txt
  build:
    description: Projects (directories) or sdists to build into wheels of the release's own first.
    type: list
    elements: path
    default: []
  build_dir:
    description: Where the wheels of O(build) are written.
    type: path
  share_dir:
    description:
      - A directory of virtualenvs shared by the releases of one app. When a release builds nothing of its own (no
        O(build), no project built from its C(pyproject.toml), no local path in its requirements), its venv is the one
        there whose requirements file, packages, interpreter and indexes are the same, made only once - O(venv)
        becomes a link to it - so a release that changes only code builds no venv and downloads nothing.
      - Empty builds every venv in O(venv) itself.
    type: path
  packages:
    description: Requirement specifiers or wheel files to install beside the requirements file.
    type: list
    elements: str
    default: []
  index_url:
    description: The package index to download from; empty for pip's default or the host's C(pip.conf).
    type: str
    default: ""
  extra_index_urls:
    description: More package indexes to download from.
    type: list
    elements: str
    default: []
  lock:
    description:
      - The deploy lock this play holds (C(path), C(holder) as M(flaskops.deploy.deploy_lock) returned it, C(lease)
        in seconds), whose lease the build renews while it runs, so that a long build is never taken over.
    type: dict
attributes:
  check_mode:
    support: none
    description: Cannot build a virtualenv without building it.
"""

EXAMPLES = r"""
- name: Install the release's packages into its own venv
  flaskops.deploy.release_venv:
    venv: /srv/shop/releases/3f2a9c1e0b7d/.venv
    project: /srv/shop/releases/3f2a9c1e0b7d
    packages: [gunicorn==27.0.1]
  register: app_venv_result
"""

RETURN = r"""
downloaded:
  description: Files pip saved into the wheelhouse in this run (empty when the wheelhouse had everything).
  type: list
  elements: str
  returned: success
download_output:
  description: What C(pip download) printed.
  type: str
  returned: success
built:
  description: The wheels built from O(build).
  type: list
  elements: str
  returned: success
reused:
  description: Whether O(venv) links to a shared virtualenv that an earlier release built.
  type: bool
  returned: success
target:
  description: The virtualenv O(venv) is, or links to.
  type: str
  returned: success
"""

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.deploy_lock import Renewal

RECORD = ".flaskops-packages"
COMPLETE = ".flaskops-venv"
# A requirement that names something on disk makes the venv depend on the release's own files.
LOCAL = ("-e", "--editable", "-r", "--requirement", "-c", "--constraint", ".", "/", "file:")
PIP_QUIET = ["--disable-pip-version-check", "--no-input", "--progress-bar=off"]


class BuildError(Exception):
    """A step that failed, with its command and the end of its output."""


def step(module: AnsibleModule, command: list[str]) -> str:
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PIP_ROOT_USER_ACTION": "ignore"}
    rc, out, err = module.run_command(command, environ_update=env)
    if rc != 0:
        lines = [line for line in (out + "\n" + err).splitlines() if line.strip()]
        raise BuildError(f"`{' '.join(command)}` failed (exit {rc}): {' | '.join(lines[-8:])}")
    return out


@contextlib.contextmanager
def locked(wheelhouse: str) -> Iterator[None]:
    """Holds the wheelhouse's lock: pip download writes its files in place, not atomically."""
    with open(os.path.join(wheelhouse, ".lock"), "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record(venv: str, packages: list[str]) -> None:
    path = os.path.join(venv, RECORD)
    try:
        with open(path, encoding="utf-8") as handle:
            known = set(json.load(handle))
    except (OSError, ValueError, TypeError):
        known = set()
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(sorted(known | set(packages)), handle)
        handle.write("\n")


def create(module: AnsibleModule, python: str, venv: str) -> list[str]:
    """The venv's pip, after making the venv if it does not exist yet."""
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        step(module, [python, "-m", "venv", venv])
    return [os.path.join(venv, "bin", "pip")]


def sources(params: dict[str, Any]) -> tuple[str, list[str]]:
    """The release's requirements file, if it has one, and what must be built into wheels first."""
    to_build = list(params["build"])
    project = params["project"]
    if project:
        candidate = os.path.join(project, params["requirements_file"])
        if os.path.isfile(candidate):
            return candidate, to_build
        if os.path.isfile(os.path.join(project, "pyproject.toml")):
            return "", [project, *to_build]
    return "", to_build


def shared_key(params: dict[str, Any], requirements_file: str, to_build: list[str]) -> str | None:
    """The name of the shared venv for these inputs, or None when this release needs a venv of its own."""
    if not params["share_dir"] or to_build:
        return None
    text = ""
    if requirements_file:
        with open(requirements_file, encoding="utf-8") as handle:
            text = handle.read()
    for line in text.splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement.startswith(LOCAL) or "file:" in requirement:
            return None
    packages = []
    for package in params["packages"]:
        if os.path.isfile(package):
            with open(package, "rb") as handle:
                packages.append(f"{os.path.basename(package)}:{hashlib.sha256(handle.read()).hexdigest()}")
        else:
            packages.append(package)
    inputs = [os.path.realpath(params["python"]), text, packages, params["index_url"], params["extra_index_urls"]]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:16]


def fill(module: AnsibleModule, venv: str, requirements_file: str, to_build: list[str]) -> dict[str, Any]:
    """Makes the venv if needed and installs everything into it from the wheelhouse."""
    params = module.params
    wheelhouse = params["wheelhouse"]
    pip = create(module, params["python"], venv)
    os.makedirs(wheelhouse, mode=0o755, exist_ok=True)
    index = (["--index-url=" + params["index_url"]] if params["index_url"] else []) + [
        "--extra-index-url=" + url for url in params["extra_index_urls"]
    ]
    built: list[str] = []
    if to_build:
        build_dir = params["build_dir"] or os.path.join(params["project"] or os.path.dirname(venv), ".dist", "built")
        step(
            module,
            [
                *pip,
                "wheel",
                *PIP_QUIET,
                "--no-deps",
                "--wheel-dir=" + build_dir,
                "--find-links=" + wheelhouse,
                *index,
                *to_build,
            ],
        )
        built = sorted(glob.glob(os.path.join(build_dir, "*.whl")))
    requirements = (["--requirement=" + requirements_file] if requirements_file else []) + built
    requirements += params["packages"]
    downloaded: list[str] = []
    output = ""
    if requirements:
        download = [*pip, "download", *PIP_QUIET, "--dest=" + wheelhouse, "--find-links=" + wheelhouse]
        with locked(wheelhouse):
            output = step(module, [*download, *index, *requirements])
        # pip also "saves" the wheels built from the release itself: those were not downloaded.
        own = {os.path.basename(path) for path in built}
        saved = [line.split("Saved ", 1)[1].strip() for line in output.splitlines() if "Saved " in line]
        downloaded = [path for path in saved if os.path.basename(path) not in own]
        step(module, [*pip, "install", *PIP_QUIET, "--no-index", "--find-links=" + wheelhouse, *requirements])
    record(venv, params["packages"])
    return {"downloaded": downloaded, "download_output": output, "built": built}


def build(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    venv = params["venv"]
    requirements_file, to_build = sources(params)
    key = shared_key(params, requirements_file, to_build)
    if key is None:
        return {**fill(module, venv, requirements_file, to_build), "reused": False, "target": venv}
    target = os.path.join(params["share_dir"], key)
    reused = os.path.isfile(os.path.join(target, COMPLETE))
    result: dict[str, Any] = {"downloaded": [], "download_output": "", "built": []}
    if not reused:
        # A venv is not relocatable (its scripts name its path): it is built where it stays.
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(params["share_dir"], mode=0o755, exist_ok=True)
        result = fill(module, target, requirements_file, to_build)
        with open(os.path.join(target, COMPLETE), "w", encoding="utf-8") as handle:
            json.dump({"requirements_file": requirements_file, "packages": params["packages"]}, handle)
            handle.write("\n")
    if os.path.islink(venv) or os.path.isfile(venv):
        os.unlink(venv)
    elif os.path.isdir(venv):
        shutil.rmtree(venv)
    os.symlink(target, venv)
    return {**result, "reused": reused, "target": target}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "venv": {"type": "path", "required": True},
            "python": {"type": "path", "default": "/usr/bin/python3"},
            "wheelhouse": {"type": "path", "default": "/var/cache/flaskops/wheels"},
            "project": {"type": "path"},
            "requirements_file": {"type": "str", "default": "requirements.txt"},
            "build": {"type": "list", "elements": "path", "default": []},
            "build_dir": {"type": "path"},
            "share_dir": {"type": "path"},
            "packages": {"type": "list", "elements": "str", "default": []},
            "index_url": {"type": "str", "default": ""},
            "extra_index_urls": {"type": "list", "elements": "str", "default": []},
            "lock": {"type": "dict"},
        },
        supports_check_mode=False,
    )
    lock = module.params["lock"] or {}
    try:
        # A long build keeps the deploy lock's lease alive (flaskops.deploy.deploy_lock).
        with Renewal(lock.get("path"), lock.get("holder"), int(lock.get("lease") or 0)):
            result = build(module)
    except BuildError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"building {module.params['venv']} failed: {exc}")
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
