#!/usr/bin/python
"""Read, in one call, the state of the host that a role decides on."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
author: flaskops.deploy maintainers (@flaskops)
short_description: Everything a role needs to know about a host, read in one call
description:
  - One round trip instead of a C(stat), C(getent), C(slurp) or C(systemctl show) per question - paths
    (links and what they point at), the releases of an app with their completion markers, systemd units,
    accounts, installed packages, listeners on TCP ports, kernel settings and programs on the PATH.
  - It only reads the host, never reports a change, and runs in check mode too.
options:
  paths:
    description: Paths to describe (not followed when they are links).
    type: list
    elements: path
    default: []
  read:
    description: Small text files whose content is wanted (at most 64 KiB each; a missing file reads as null).
    type: list
    elements: path
    default: []
  releases:
    description: A directory of releases (one subdirectory each) and the marker file of a complete one.
    type: dict
    suboptions:
      dir:
        description: The directory holding the releases.
        type: path
        required: true
      marker:
        description: The file a release holds once it is complete, relative to the release.
        type: str
        required: true
  listdirs:
    description: Directories whose entries (names, sorted) are wanted; a missing directory lists nothing.
    type: list
    elements: path
    default: []
  certificates:
    description:
      - PEM certificates to read (the first of each file) - names, expiry, serial and issuer. Needs the
        C(cryptography) library on the host (Debian's C(python3-cryptography)); without it only C(exists) is told.
    type: list
    elements: path
    default: []
  units:
    description: systemd units to describe (a missing unit is reported as C(load_state=not-found)).
    type: list
    elements: str
    default: []
  unit_globs:
    description: Shell patterns of unit names whose loaded units are listed (C(shop.*) - what runs of this app).
    type: list
    elements: str
    default: []
  users:
    description: Accounts to look up in the user database.
    type: list
    elements: str
    default: []
  groups:
    description: Groups to look up, with their members and the accounts whose primary group they are.
    type: list
    elements: str
    default: []
  packages:
    description: Debian packages whose installed version is wanted.
    type: list
    elements: str
    default: []
  ports:
    description: TCP ports whose listening programs are wanted.
    type: list
    elements: int
    default: []
  sysctls:
    description: Kernel settings to read from C(/proc/sys), e.g. C(net.core.somaxconn).
    type: list
    elements: str
    default: []
  calendars:
    description: systemd calendar expressions (C(OnCalendar=)) to check with C(systemd-analyze calendar).
    type: list
    elements: str
    default: []
  which:
    description: Programs to find on the PATH.
    type: list
    elements: str
    default: []
  health:
    description:
      - Services to ask once for their health over their Unix socket (a GET of O(health[].path), at most 5 seconds),
        each only when its O(health[].unit) is active - a read never starts a socket-activated service.
    type: list
    elements: dict
    default: []
    suboptions:
      unit:
        description: The service behind the socket.
        type: str
        required: true
      socket:
        description: The Unix socket it listens on.
        type: path
        required: true
      path:
        description: The URL path of its health check.
        type: str
        default: /health
attributes:
  check_mode:
    support: full
    description: It only reads, in check mode too.
"""

EXAMPLES = r"""
- name: Read the app's releases, links, units and accounts
  flaskops.deploy.host_state:
    paths: [/srv/shop/current, /srv/shop/previous]
    releases: {dir: /srv/shop/releases, marker: .flaskops-release}
    units: [gunicorn-shop.service, gunicorn-shop.socket]
    users: [shop]
    groups: [shop]
    packages: [python3-venv, nginx]
  register: app_state_result
"""

RETURN = r"""
paths:
  description: Per path - exists, type (file, directory, link, socket, other), target (of a link), mode (octal
    string), owner, group, uid, gid, mtime.
  type: dict
  returned: always
listdirs:
  description: Per directory - the names of its entries.
  type: dict
  returned: always
read:
  description: Per file - its content, or null when it cannot be read.
  type: dict
  returned: always
releases:
  description: The releases, newest first - name, path, mtime, complete (the marker exists), venv (where its
    C(.venv) links to, if it is a link).
  type: list
  elements: dict
  returned: always
certificates:
  description: Per certificate - exists, subject_alt_names (C(DNS:name), C(IP:address)), not_after (ISO 8601),
    days_left, serial (hex) and issuer.
  type: dict
  returned: always
units:
  description: Per unit - load_state, active_state, sub_state, unit_file_state, fragment_path, working_directory,
    the C(--config) file of its ExecStart (config), and the path its socket listens on (listen).
  type: dict
  returned: always
unit_globs:
  description: Per pattern - the names of the loaded units that match it.
  type: dict
  returned: always
users:
  description: Per account - exists, uid, gid, group (primary), home, shell.
  type: dict
  returned: always
groups:
  description: Per group - exists, gid, members, primary_of (accounts whose primary group it is).
  type: dict
  returned: always
packages:
  description: Per package - its installed version, or null.
  type: dict
  returned: always
ports:
  description: Per port - the programs listening on it (C(ss -ltnp)); null where C(ss) is missing.
  type: dict
  returned: always
sysctls:
  description: Per setting - value (string) and writable (bool); value null where it does not exist.
  type: dict
  returned: always
calendars:
  description: Per expression - valid, and next (when it elapses next, as systemd says), or error.
  type: dict
  returned: always
which:
  description: Per program - its path, or null.
  type: dict
  returned: always
health:
  description: Per unit of O(health) - the HTTP status it answered, or -1 (not active, no answer, not HTTP).
  type: dict
  returned: always
read_at:
  description: The host's clock (seconds since the epoch) as the reading began - what was read is at least this
    recent (M(flaskops.deploy.deploy_lock) compares it with the lock's last taker).
  type: float
  returned: always
"""

import grp
import os
import pwd
import re
import shutil
import stat
import time
from datetime import UTC, datetime
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.systemd import show
from ansible_collections.flaskops.deploy.plugins.module_utils.unix_http import get

# Longest wait for one health answer: a read, not a health gate (live_health waits, and tells why).
HEALTH_TIMEOUT = 5.0

UNIT_PROPERTIES = ("LoadState", "ActiveState", "SubState", "UnitFileState", "FragmentPath", "WorkingDirectory")


def _run(module: AnsibleModule, command: list[str]) -> tuple[int, str]:
    """The exit code and output of a read-only command; 127 when it is not there."""
    if shutil.which(command[0]) is None:
        return 127, ""
    rc, out, _err = module.run_command(command)
    return rc, out


def describe_path(path: str) -> dict[str, Any]:
    try:
        info = os.lstat(path)
    except OSError:
        return {"exists": False}
    kind = "other"
    for name, test in (
        ("link", stat.S_ISLNK),
        ("directory", stat.S_ISDIR),
        ("file", stat.S_ISREG),
        ("socket", stat.S_ISSOCK),
    ):
        if test(info.st_mode):
            kind = name
            break
    described: dict[str, Any] = {
        "exists": True,
        "type": kind,
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "uid": info.st_uid,
        "gid": info.st_gid,
        "owner": _user_name(info.st_uid),
        "group": _group_name(info.st_gid),
        "mtime": info.st_mtime,
    }
    if kind == "link":
        described["target"] = os.readlink(path)
    return described


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(65536)
    except OSError:
        return None


def certificate(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            pem = handle.read()
    except OSError:
        return {"exists": False}
    try:
        from cryptography import x509
    except ImportError:
        return {"exists": True}
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return {"exists": True, "valid": False}
    names: list[str] = []
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [f"DNS:{name}" for name in extension.get_values_for_type(x509.DNSName)]
        names += [f"IP:{address}" for address in extension.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=UTC)
    return {
        "exists": True,
        "valid": True,
        "subject_alt_names": names,
        "not_after": not_after.isoformat(),
        "days_left": (not_after - datetime.now(UTC)).days,
        "serial": f"{cert.serial_number:x}",
        "issuer": cert.issuer.rfc4514_string(),
    }


def releases(directory: str, marker: str) -> list[dict[str, Any]]:
    found = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        path = os.path.join(directory, name)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        found.append(
            {
                "name": name,
                "path": path,
                "mtime": os.stat(path).st_mtime,
                "complete": os.path.isfile(os.path.join(path, marker)),
                "venv": os.readlink(os.path.join(path, ".venv")) if os.path.islink(os.path.join(path, ".venv")) else "",
            }
        )
    return sorted(found, key=lambda r: r["mtime"], reverse=True)


def _unit_file_settings(path: str) -> dict[str, str]:
    """The --config of ExecStart and the ListenStream of a unit file the gunicorn role wrote."""
    settings: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return settings
    if match := re.search(r"^ExecStart=.*?--config[= ](\S+)", text, re.MULTILINE):
        settings["config"] = match.group(1)
    if match := re.search(r"^ListenStream=(\S+)", text, re.MULTILINE):
        settings["listen"] = match.group(1)
    return settings


def units(module: AnsibleModule, names: list[str]) -> dict[str, dict[str, Any]]:
    described: dict[str, dict[str, Any]] = {name: {"load_state": "not-found"} for name in names}
    if not names or shutil.which("systemctl") is None:
        return described
    for name, values in show(module.run_command, names, UNIT_PROPERTIES).items():
        unit = {
            "load_state": values.get("LoadState", "not-found"),
            "active_state": values.get("ActiveState", "inactive"),
            "sub_state": values.get("SubState", ""),
            "unit_file_state": values.get("UnitFileState", ""),
            "fragment_path": values.get("FragmentPath", ""),
            "working_directory": values.get("WorkingDirectory", ""),
        }
        if unit["fragment_path"]:
            unit.update(_unit_file_settings(unit["fragment_path"]))
        described[name] = unit
    return described


def loaded_units(module: AnsibleModule, pattern: str) -> list[str]:
    rc, out = _run(module, ["systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager", "--", pattern])
    return sorted(line.split()[0] for line in out.splitlines() if line.strip()) if rc == 0 else []


def calendar(module: AnsibleModule, expression: str) -> dict[str, Any]:
    if shutil.which("systemd-analyze") is None:
        return {"valid": True, "next": ""}
    rc, out, err = module.run_command(["systemd-analyze", "calendar", "--", expression])
    if rc != 0:
        return {"valid": False, "error": (out + err).strip().splitlines()[-1] if (out + err).strip() else f"exit {rc}"}
    found = re.search(r"Next elapse: (.*)", out)
    return {"valid": True, "next": found.group(1).strip() if found else ""}


def users(names: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            found[name] = {"exists": False}
            continue
        found[name] = {
            "exists": True,
            "uid": entry.pw_uid,
            "gid": entry.pw_gid,
            "group": _group_name(entry.pw_gid),
            "home": entry.pw_dir,
            "shell": entry.pw_shell,
        }
    return found


def groups(names: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    wanted = set(names)
    primary: dict[int, list[str]] = {}
    if wanted:
        for entry in pwd.getpwall():
            primary.setdefault(entry.pw_gid, []).append(entry.pw_name)
    for name in names:
        try:
            entry = grp.getgrnam(name)
        except KeyError:
            found[name] = {"exists": False}
            continue
        found[name] = {
            "exists": True,
            "gid": entry.gr_gid,
            "members": sorted(entry.gr_mem),
            "primary_of": sorted(primary.get(entry.gr_gid, [])),
        }
    return found


def packages(module: AnsibleModule, names: list[str]) -> dict[str, str | None]:
    versions: dict[str, str | None] = dict.fromkeys(names)
    if not names:
        return versions
    _rc, out = _run(module, ["dpkg-query", "-W", "-f", r"${Package}\t${db:Status-Abbrev}\t${Version}\n", "--", *names])
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in versions and parts[1].startswith("ii"):
            versions[parts[0]] = parts[2]
    return versions


def ports(module: AnsibleModule, numbers: list[int]) -> dict[str, list[str] | None]:
    listening: dict[str, list[str] | None] = {str(n): [] for n in numbers}
    if not numbers:
        return listening
    rc, out = _run(module, ["ss", "-Hltnp"])
    if rc != 0:
        return dict.fromkeys(listening)
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        port = fields[3].rsplit(":", 1)[-1]
        if port in listening:
            programs = re.findall(r'\(\("([^"]+)"', line) or ["unknown"]
            listening[port] = sorted(set(listening[port] or []) | set(programs))  # type: ignore[arg-type]
    return listening


def sysctls(names: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        path = "/proc/sys/" + name.replace(".", "/")
        try:
            with open(path, encoding="utf-8") as handle:
                value: str | None = handle.read().strip()
        except OSError:
            value = None
        found[name] = {"value": value, "writable": value is not None and os.access(path, os.W_OK)}
    return found


def health(module: AnsibleModule, services: list[dict[str, str]]) -> dict[str, int]:
    """Per unit, the status its health check answers now; -1 when the unit is not active (it is not woken)."""
    active = {
        name: state.get("ActiveState") == "active"
        for name, state in show(module.run_command, [s["unit"] for s in services], ("ActiveState",)).items()
    }
    deadline = time.monotonic() + HEALTH_TIMEOUT
    return {s["unit"]: get(s["socket"], s["path"], deadline).status if active.get(s["unit"]) else -1 for s in services}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "default": []},
            "read": {"type": "list", "elements": "path", "default": []},
            "listdirs": {"type": "list", "elements": "path", "default": []},
            "releases": {
                "type": "dict",
                "options": {"dir": {"type": "path", "required": True}, "marker": {"type": "str", "required": True}},
            },
            "certificates": {"type": "list", "elements": "path", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "unit_globs": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "str", "default": []},
            "groups": {"type": "list", "elements": "str", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "ports": {"type": "list", "elements": "int", "default": []},
            "sysctls": {"type": "list", "elements": "str", "default": []},
            "calendars": {"type": "list", "elements": "str", "default": []},
            "which": {"type": "list", "elements": "str", "default": []},
            "health": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "unit": {"type": "str", "required": True},
                    "socket": {"type": "path", "required": True},
                    "path": {"type": "str", "default": "/health"},
                },
            },
        },
        supports_check_mode=True,
    )
    params = module.params
    read_at = time.time()
    module.exit_json(
        changed=False,
        read_at=read_at,
        paths={path: describe_path(path) for path in params["paths"]},
        read={path: read_text(path) for path in params["read"]},
        listdirs={path: sorted(os.listdir(path)) if os.path.isdir(path) else [] for path in params["listdirs"]},
        releases=releases(params["releases"]["dir"], params["releases"]["marker"]) if params["releases"] else [],
        certificates={path: certificate(path) for path in params["certificates"]},
        units=units(module, params["units"]),
        unit_globs={pattern: loaded_units(module, pattern) for pattern in params["unit_globs"]},
        users=users(params["users"]),
        groups=groups(params["groups"]),
        packages=packages(module, params["packages"]),
        ports=ports(module, params["ports"]),
        sysctls=sysctls(params["sysctls"]),
        calendars={expression: calendar(module, expression) for expression in params["calendars"]},
        which={name: shutil.which(name) for name in params["which"]},
        health=health(module, params["health"]) if params["health"] else {},
    )


if __name__ == "__main__":
    main()
