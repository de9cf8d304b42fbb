"""`ansible-galaxy collection build` ships the collection and nothing of the test bed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Directories and files that belong to development, tests or caches: never in the tarball.
DEV_DIRS = frozenset(
    {
        ".git",
        ".github",
        ".ci",
        ".config",
        ".venv",
        ".venv-lowest",
        ".ansible",
        ".pytest_cache",
        ".ruff_cache",
        ".mypy_cache",
        ".molecule-logs",
        "__pycache__",
        "benchmarks",
        "collections",
        "molecule",
        "notes",
        "scripts",
        "tests",
    }
)
DEV_FILES = frozenset(
    {
        "Makefile",
        "requirements-dev.txt",
        "requirements-lowest.txt",
        "pyproject.toml",
        "ansible.cfg",
        ".gitignore",
        ".yamllint",
        ".ansible-lint",
        ".plugin-cache.yaml",
        "vault-password.txt",
    }
)
DEV_SUFFIXES = (".pyc", ".tar.gz", ".retry")


class Built(NamedTuple):
    members: dict[str, tarfile.TarInfo]
    manifest: dict[str, Any]
    files: dict[str, Any]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("galaxy")
    binary = shutil.which("ansible-galaxy") or str(Path(sys.executable).parent / "ansible-galaxy")
    build = subprocess.run(
        [binary, "collection", "build", "--output-path", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    tarball = out / f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    with tarfile.open(tarball) as archive:
        members = {member.name: member for member in archive.getmembers()}
        manifest, files = (
            json.load(archive.extractfile(name) or BytesIO()) for name in ("MANIFEST.json", "FILES.json")
        )
    return Built(members, manifest, files)


@pytest.fixture(scope="module")
def members(built: Built) -> dict[str, tarfile.TarInfo]:
    return built.members


def _is_dev(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        bool(set(path.parts) & DEV_DIRS)
        or path.name in DEV_FILES
        or name.endswith(DEV_SUFFIXES)
        or name.startswith("inventories/demo")
    )


def test_no_test_dev_or_cache_file_ships(members: dict[str, tarfile.TarInfo]) -> None:
    leaked = sorted(name for name in members if _is_dev(name))
    assert not leaked, f"galaxy.yml build_ignore lets these through: {leaked}"


def test_no_link_leaves_the_collection(members: dict[str, tarfile.TarInfo]) -> None:
    links = sorted(name for name, member in members.items() if member.issym() or member.islnk())
    assert not links, links


def test_everything_a_user_runs_ships(members: dict[str, tarfile.TarInfo]) -> None:
    wanted = {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.md", "meta/runtime.yml"}
    for role in sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").exists()):
        wanted |= {f"roles/{role.name}/{part}" for part in ("tasks/main.yml", "meta/argument_specs.yml", "README.md")}
    for folder in ("playbooks", "plugins"):
        wanted |= {
            path.relative_to(ROOT).as_posix()
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and not _is_dev(path.relative_to(ROOT).as_posix())
        }
    missing = sorted(wanted - set(members))
    assert not missing, f"missing from the tarball: {missing}"


def test_manifest_matches_galaxy_yml_and_the_members(built: Built) -> None:
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    info = built.manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (
        galaxy["namespace"],
        galaxy["name"],
        galaxy["version"],
    )
    listed = {entry["name"] for entry in built.files["files"]} - {"."}
    assert listed == set(built.members) - {"MANIFEST.json", "FILES.json"}
