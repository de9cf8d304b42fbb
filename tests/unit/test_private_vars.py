"""A role's private __<role>_* variables never leave the role: what others need is published on purpose.

The app role publishes app_identity and app_deploy, the gunicorn role gunicorn_runtime (see their
READMEs); nothing else crosses a role's boundary.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
PRIVATE = re.compile(r"\b__(" + "|".join(ROLES) + r")_[a-z0-9_]+")
SKIP_DIRS = {".git", ".venv", ".ansible", "collections", "node_modules", "__pycache__", ".molecule-logs"}
SUFFIXES = {".yml", ".yaml", ".j2", ".py", ".md", ".sh", ".cfg", ".toml"}


def _files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        if path.is_file() and path.suffix in SUFFIXES and not SKIP_DIRS & set(path.relative_to(ROOT).parts):
            found.append(path)
    return found


def test_the_scan_sees_the_roles_and_their_private_variables() -> None:
    assert {"app", "gunicorn", "nginx", "loadbalancer"} <= set(ROLES)
    assert PRIVATE.search((ROOT / "roles" / "app" / "vars" / "main.yml").read_text())


def test_no_private_variable_is_read_or_written_outside_its_role() -> None:
    leaks = []
    for path in _files():
        relative = path.relative_to(ROOT)
        if relative == Path(__file__).relative_to(ROOT):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in PRIVATE.finditer(line):
                owner = match.group(1)
                if relative.parts[:2] != ("roles", owner):
                    leaks.append(f"{relative}:{number}: {match.group(0)}")
    assert not leaks, "private variables used outside their role:\n" + "\n".join(leaks)
