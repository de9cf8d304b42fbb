"""Build the release scenario's sources on the controller: directories, an archive, a wheel, an sdist, an index.

Usage: make_fixtures.py OUTDIR. Each fixture is the versioned test app with its own version.txt.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

APP = Path(__file__).resolve().parent / "apps" / "versioned"


def make_dir(out: Path, version: str) -> Path:
    target = out / f"dir-{version}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(APP, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "version.txt").write_text(f"{version}\n")
    return target


def make_archive(out: Path, version: str) -> Path:
    source = make_dir(out, version)
    archive = out / f"app-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(out: Path, version: str) -> Path:
    """A pure-Python wheel of the app as package versioned_app, with a top-level app module.

    The top-level ``app`` keeps the entry point ``app:app`` that the live gunicorn config names.
    """
    dist = "versioned_app"
    files = {
        "app.py": b"from versioned_app import app\n",
        f"{dist}/__init__.py": (APP / "app.py").read_bytes(),
        f"{dist}/version.txt": f"{version}\n".encode(),
        f"{dist}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: versioned-app\nVersion: {version}\nRequires-Dist: Flask==3.1.3\n"
        ).encode(),
        f"{dist}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: make_fixtures\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record_name = f"{dist}-{version}.dist-info/RECORD"
    record = "\n".join([*(_record_line(n, d) for n, d in files.items()), f"{record_name},,"]) + "\n"
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**files, record_name: record.encode()}.items():
            zf.writestr(name, data)
    return wheel


PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "versioned-app"
version = "{version}"
dependencies = ["Flask==3.1.3"]

[tool.setuptools]
py-modules = ["app"]
"""


def make_pyproject_dir(out: Path, version: str) -> Path:
    """A project that names its dependencies only in pyproject.toml."""
    target = make_dir(out, f"pyproject-{version}")
    (target / "requirements.txt").unlink()
    (target / "version.txt").write_text(f"{version}\n")
    (target / "pyproject.toml").write_text(PYPROJECT.format(version=version))
    return target


def make_sdist(out: Path, version: str) -> Path:
    """An sdist of the wheel's layout, built by setuptools on the host."""
    dist = "versioned_app"
    root = f"{dist}-{version}"
    files = {
        "app.py": b"from versioned_app import app\n",
        f"{dist}/__init__.py": (APP / "app.py").read_bytes(),
        f"{dist}/version.txt": f"{version}\n".encode(),
        "pyproject.toml": (
            PYPROJECT.format(version=version).replace(
                'py-modules = ["app"]', 'py-modules = ["app"]\npackages = ["versioned_app"]'
            )
            + '\n[tool.setuptools.package-data]\nversioned_app = ["version.txt"]\n'
        ).encode(),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: versioned-app\nVersion: {version}\n".encode(),
    }
    sdist = out / f"{dist}-{version}.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sdist


def make_index(out: Path, version: str) -> Path:
    """A PEP 503 simple index on disk (pip reads file:// indexes) holding one wheel."""
    project = out / "index" / "simple" / "versioned-app"
    project.mkdir(parents=True, exist_ok=True)
    wheel = make_wheel(project, version)
    (project / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="{wheel.name}">{wheel.name}</a></body></html>\n'
    )
    return project


def make_sandbox_sensitive_dir(out: Path, version: str) -> Path:
    """Loads by hand (and in the preflight), but not under the live unit's read-only file system."""
    target = make_dir(out, version)
    with (target / "app.py").open("a") as app:
        app.write(
            "\n# Writes outside the unit's ReadWritePaths: fine by hand, EROFS under ProtectSystem=strict.\n"
            'Path("/var/lib/flaskapp-state/loaded").write_text(VERSION)\n'
        )
    return target


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for version in ("v1", "v2", "v7", "broken", "unhealthy"):
        make_dir(out, version)
    make_archive(out, "v3")
    make_wheel(out, "6.0")
    make_sdist(out, "7.0")
    make_index(out, "8.0")
    make_pyproject_dir(out, "v9")
    make_sandbox_sensitive_dir(out, "v10")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
