"""execution-environment.yml (ansible-builder 3) carries what galaxy.yml and meta/runtime.yml promise."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text())


def _ee_collections() -> dict[str, str]:
    collections = _load("execution-environment.yml")["dependencies"]["galaxy"]["collections"]
    return {c["name"]: c.get("version", "*") for c in collections}


def test_schema_version_3() -> None:
    ee = _load("execution-environment.yml")
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    assert {"ansible_core", "ansible_runner", "galaxy"} <= set(ee["dependencies"])


def test_every_collection_dependency_is_in_the_image_with_the_same_range() -> None:
    wanted = _load("galaxy.yml").get("dependencies") or {}
    present = _ee_collections()
    for name, version in wanted.items():
        assert name in present, f"{name} (galaxy.yml) is missing from execution-environment.yml"
        assert present[name] == version, f"{name}: {present[name]} in the image, {version} in galaxy.yml"


def test_ansible_core_starts_where_runtime_yml_does() -> None:
    required = _load("meta/runtime.yml")["requires_ansible"]
    lower = re.search(r">=\s*([\d.]+)", required)
    assert lower, required
    core = _load("execution-environment.yml")["dependencies"]["ansible_core"]["package_pip"]
    floor = re.search(r">=\s*([\d.]+)", core)
    assert floor, core
    assert tuple(map(int, floor.group(1).split("."))) >= tuple(map(int, lower.group(1).split(".")[:2]))


def test_the_lowest_core_tested_is_the_floor_runtime_yml_states() -> None:
    """requirements-lowest.txt (make lowest, LOWEST_SCENARIOS) pins the release line meta/runtime.yml starts at."""
    lower = re.search(r">=\s*(\d+)\.(\d+)", _load("meta/runtime.yml")["requires_ansible"])
    assert lower
    pins = dict(
        line.split("==", 1) for line in (ROOT / "requirements-lowest.txt").read_text().splitlines() if "==" in line
    )
    assert pins["ansible-core"].split(".")[:2] == [lower.group(1), lower.group(2)]


def test_galaxy_dependencies_are_the_collections_the_content_calls() -> None:
    called: set[str] = set()
    for path in [*ROOT.glob("roles/*/*/*.yml"), *ROOT.glob("playbooks/*.yml"), ROOT / "site.yml"]:
        for match in re.finditer(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(), re.MULTILINE):
            called.add(match.group(1))
    called -= {"ansible.builtin", "flaskops.deploy"}
    assert called == set(_load("galaxy.yml")["dependencies"])


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


def _run(*argv: str, cwd: Path) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=300, check=False, cwd=cwd)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    return done.stdout


def _listed(name: str) -> list[str]:
    """The entries of one of the collection's requirement files, without comments."""
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection as built and installed from its tarball (its dependencies left out: no Galaxy here)."""
    work = tmp_path_factory.mktemp("ee")
    _run(_tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT), cwd=work)
    tarball = next(work.glob("flaskops-deploy-*.tar.gz"))
    # From work, not ROOT: ansible.cfg there points at this checkout, which would count as installed already.
    _run(_tool("ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", str(work / "installed"),
         str(tarball), cwd=work)  # fmt: skip
    return work / "installed"


def test_the_collection_declares_its_controller_side_needs() -> None:
    meta = _load("meta/execution-environment.yml")
    assert meta["version"] == 1
    files = meta["dependencies"]
    assert set(files) == {"python", "system"}
    for name in files.values():
        assert (ROOT / name).is_file(), name
        assert _listed(name), f"{name} lists nothing"
    assert any(entry.startswith("matplotlib") for entry in _listed(files["python"]))


def test_ansible_builder_reads_them_from_the_installed_collection(installed: Path) -> None:
    out = _run(_tool("ansible-builder"), "introspect", "--sanitize", str(installed), cwd=installed)
    found = yaml.safe_load(out)
    files = _load("meta/execution-environment.yml")["dependencies"]
    for kind in ("python", "system"):
        ours = [
            entry.split("#")[0].strip() for entry in found[kind] if entry.endswith("from collection flaskops.deploy")
        ]
        assert ours == _listed(files[kind]), f"{kind}: ansible-builder found {found[kind]}"


def test_ansible_builder_creates_the_build_context(tmp_path: Path) -> None:
    _run(
        _tool("ansible-builder"), "create", "-f", str(ROOT / "execution-environment.yml"), "-c", str(tmp_path),
        "--output-filename", "Containerfile", cwd=tmp_path,
    )  # fmt: skip
    ee = _load("execution-environment.yml")
    context = tmp_path / "_build"
    assert yaml.safe_load((context / "requirements.yml").read_text()) == {
        "collections": ee["dependencies"]["galaxy"]["collections"]
    }
    assert (context / "bindep.txt").read_text().split("\n") == ee["dependencies"]["system"]
    containerfile = (tmp_path / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{ee["images"]["base_image"]["name"]}"' in containerfile
    assert ee["dependencies"]["ansible_core"]["package_pip"] in containerfile
