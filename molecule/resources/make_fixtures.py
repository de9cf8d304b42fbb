"""Build the release scenario's sources on the controller: directories, an archive and a wheel.

Usage: make_fixtures.py OUTDIR. Each fixture is the versioned test app with its own version.txt.
"""

from __future__ import annotations

import base64
import hashlib
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


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for version in ("v1", "v2", "v7", "broken", "unhealthy"):
        make_dir(out, version)
    make_archive(out, "v3")
    make_wheel(out, "6.0")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
