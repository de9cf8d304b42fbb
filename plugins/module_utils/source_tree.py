"""What a release is made of: the files of a source tree or archive, minus what never belongs in one.

One rule for the release id (the source_checksum lookup) and for the upload (the source_upload action),
so the two never disagree about which files a release holds. Left out, at any depth: VCS folders,
virtualenvs (any directory holding a pyvenv.cfg, whatever its name), byte-code and tool caches, and
whatever the user's patterns name:

- ``node_modules/``: a directory of that name (a trailing slash means directories only);
- ``*.sqlite``: a file or directory whose name matches (no slash: matched against each name);
- ``docs/build``: a path relative to the top of the tree (a slash inside: matched against the path).

Only regular files and directories travel; a symlink to a file travels as the file it points to, a
symlink to a directory is not followed. Modes are normalised: 0755 for executables, 0644 otherwise.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# The names left out of every release, at any depth.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "__pycache__",
        ".venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
    }
)
IGNORED_SUFFIXES = (".pyc", ".pyo")
VENV_MARKER = "pyvenv.cfg"


class SourceError(Exception):
    """A source that cannot be read, or a pattern that makes no sense."""


@dataclass(frozen=True)
class Entry:
    """One member of a release: a directory (data is None) or a regular file."""

    path: str  # POSIX, relative, no leading "./"
    executable: bool = False
    data: bytes | None = None

    @property
    def is_dir(self) -> bool:
        return self.data is None


def check_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns as given, or SourceError naming the first that can never stay inside the tree."""
    checked = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip("/"):
            raise SourceError(f"{pattern!r} is not a pattern: give a name such as node_modules/ or *.sqlite")
        if pattern.startswith("/") or ".." in PurePosixPath(pattern).parts:
            raise SourceError(f"{pattern!r} must be relative to the top of the source, without '..'")
        checked.append(pattern)
    return checked


def excluded(relative: str, is_dir: bool, patterns: Iterable[str]) -> bool:
    """Whether a member (a path relative to the top) is left out by the built-in rules or a pattern."""
    parts = PurePosixPath(relative).parts
    if not parts:
        return False
    name = parts[-1]
    if is_dir and name in IGNORED_DIRS:
        return True
    if not is_dir and name.endswith(IGNORED_SUFFIXES):
        return True
    for pattern in patterns:
        dirs_only = pattern.endswith("/")
        bare = pattern.rstrip("/")
        if dirs_only and not is_dir:
            continue
        if "/" in bare:
            if fnmatch.fnmatchcase(relative, bare):
                return True
        elif fnmatch.fnmatchcase(name, bare):
            return True
    return False


def _walk_directory(root: Path, patterns: list[str]) -> Iterator[Entry]:
    if not root.is_dir():
        raise SourceError(f"{root} is not a directory on the controller")
    for current, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(current)
        keep_dirs = []
        for dirname in sorted(dirnames):
            path = base / dirname
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() or excluded(relative, True, patterns) or (path / VENV_MARKER).is_file():
                continue
            keep_dirs.append(dirname)
            yield Entry(relative)
        dirnames[:] = keep_dirs
        for filename in sorted(filenames):
            path = base / filename
            relative = path.relative_to(root).as_posix()
            if not path.is_file() or excluded(relative, False, patterns):
                continue
            try:
                data = path.read_bytes()
                executable = bool(path.stat().st_mode & 0o111)
            except OSError as exc:
                raise SourceError(f"{path} cannot be read: {exc.strerror}") from exc
            yield Entry(relative, executable, data)


def _safe_name(name: str, archive: str) -> str | None:
    """The member's path relative to the archive's top, or None for the top itself."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise SourceError(f"{archive}: member {name!r} would land outside the release")
    relative = path.as_posix()
    return None if relative == "." else relative


def _tar_members(tar: tarfile.TarFile) -> Iterator[tuple[str, bool, bool, bytes | None]]:
    for member in tar:
        if member.isdir():
            yield member.name, True, False, None
        elif member.isfile():
            handle = tar.extractfile(member)
            yield member.name, False, bool(member.mode & 0o111), handle.read() if handle else b""


def _archive_members(archive: Path) -> Iterator[tuple[str, bool, bool, bytes | None]]:
    """(name, is_dir, executable, data) of each directory and regular file of a tar or zip archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                is_dir = info.is_dir()
                mode = info.external_attr >> 16
                yield info.filename, is_dir, bool(mode & 0o111), None if is_dir else zf.read(info)
        return
    try:
        tar = tarfile.open(archive)
    except (tarfile.TarError, OSError) as exc:
        raise SourceError(f"{archive} is neither a .tar(.gz/.bz2/.xz) nor a .zip archive: {exc}") from exc
    with tar:
        yield from _tar_members(tar)


def _walk_archive(archive: Path, patterns: list[str]) -> Iterator[Entry]:
    if not archive.is_file():
        raise SourceError(f"{archive} is not a file on the controller")
    return _walk_members(_archive_members(archive), str(archive), patterns)


def tar_entries(fileobj: io.BufferedIOBase | io.BytesIO, label: str, patterns: Iterable[str] = ()) -> list[Entry]:
    """Every member a release holds, from a tar stream (git archive's output, or an upload)."""
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
            return sorted(_walk_members(_tar_members(tar), label, check_patterns(patterns)), key=lambda e: e.path)
    except tarfile.TarError as exc:
        raise SourceError(f"{label} is not a tar archive: {exc}") from exc


def _walk_members(
    found: Iterable[tuple[str, bool, bool, bytes | None]], label: str, patterns: list[str]
) -> Iterator[Entry]:
    members: dict[str, Entry] = {}
    for name, is_dir, executable, data in found:
        relative = _safe_name(name, label)
        if relative is None:
            continue
        parts = PurePosixPath(relative).parts
        # Archives may leave parent directories implicit; a release has them.
        for depth in range(1, len(parts)):
            members.setdefault("/".join(parts[:depth]), Entry("/".join(parts[:depth])))
        members[relative] = Entry(relative) if is_dir else Entry(relative, executable, data or b"")
    venvs = {
        entry.path.rpartition("/")[0]
        for entry in members.values()
        if not entry.is_dir and PurePosixPath(entry.path).name == VENV_MARKER
    }
    dropped: list[str] = []
    for relative in sorted(members):
        entry = members[relative]
        if any(relative.startswith(prefix + "/") for prefix in dropped):
            continue
        if excluded(relative, entry.is_dir, patterns) or (entry.is_dir and relative in venvs):
            if entry.is_dir:
                dropped.append(relative)
            continue
        yield entry


def entries(source: str | Path, patterns: Iterable[str] = ()) -> list[Entry]:
    """Every member a release of ``source`` (a directory or an archive) holds, sorted by path."""
    path = Path(source).expanduser()
    checked = check_patterns(patterns)
    if not path.is_dir() and not path.is_file():
        raise SourceError(f"{path} is neither a file nor a directory on the controller")
    found = _walk_directory(path, checked) if path.is_dir() else _walk_archive(path, checked)
    return sorted(found, key=lambda e: e.path)


def file_checksum(path: str | Path) -> str:
    """SHA-256 of one file's bytes as they are (a wheel or an sdist names its own content)."""
    try:
        return hashlib.sha256(Path(path).expanduser().read_bytes()).hexdigest()
    except OSError as exc:
        raise SourceError(f"{path} cannot be read on the controller: {exc.strerror}") from exc


def checksum(members: Iterable[Entry]) -> str:
    """SHA-256 over the kept files: relative path, executable bit and content, in path order.

    Directories do not count: the same files give the same id however the tree was packed.
    """
    digest = hashlib.sha256()
    for entry in members:
        if entry.is_dir:
            continue
        digest.update(f"{entry.path}\0{'x' if entry.executable else '-'}\0".encode())
        digest.update(hashlib.sha256(entry.data or b"").digest())
    return digest.hexdigest()


def pack(members: Iterable[Entry], fileobj: io.BufferedIOBase | io.BytesIO) -> tuple[int, int]:
    """Writes the members as one gzip'd tar (owner root, normalised modes); returns (files, bytes of content)."""
    files = size = 0
    with tarfile.open(fileobj=fileobj, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
        for entry in members:
            info = tarfile.TarInfo(entry.path)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            if entry.is_dir:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                continue
            data = entry.data or b""
            info.mode = 0o755 if entry.executable else 0o644
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            files += 1
            size += len(data)
    return files, size
