"""An app's deploy lock file: who holds it since when, and until when its lease runs (deploy_lock, release_venv)."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from typing import Any


def read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def taken_mark(path: str) -> str:
    """The file whose mtime says when the lock was last taken or given back (it outlives the lock file)."""
    return f"{path}.taken"


def last_taken(path: str) -> float | None:
    """When the lock was last taken or given back (the host's clock), None if never since boot (/run is a tmpfs)."""
    try:
        return os.stat(taken_mark(path)).st_mtime
    except OSError:
        return None


def mark_taken(path: str) -> None:
    with open(taken_mark(path), "a", encoding="utf-8"):
        pass
    os.utime(taken_mark(path))


def same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    keys = ("controller", "pid", "started")
    return bool(a) and bool(b) and all(a.get(k) == b.get(k) for k in keys)  # type: ignore[union-attr]


def expired(holder: dict[str, Any] | None, now: float | None = None) -> bool:
    """Whether the holder's lease has run out (a holder without a lease never expires)."""
    try:
        expires = float((holder or {}).get("expires", 0))
    except (TypeError, ValueError):
        return False
    return expires > 0 and expires < (time.time() if now is None else now)


def write(path: str, holder: dict[str, Any], exclusive: bool, lease: int = 0, since: str = "") -> bool:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    entry = {**holder, "since": since or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if lease > 0:
        entry["lease"] = lease
        entry["expires"] = round(time.time() + lease, 1)
    data = json.dumps(entry) + "\n"
    if not exclusive:
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(temporary, path)
        return True
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(data)
    return True


def replace_if(path: str, current: dict[str, Any] | None, holder: dict[str, Any], lease: int, since: str = "") -> bool:
    """Write the lock for holder if it still names current (checked and written under a guard: one taker wins)."""
    with open(f"{path}.guard", "a", encoding="utf-8") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        found = read(path)
        if found != current:
            return False
        write(path, holder, exclusive=False, lease=lease, since=since)
        return True


class Renewal:
    """Renews the lease of a lock this play holds, every few seconds, while a long step runs (a build).

    Used as a context manager around the step; does nothing without a path or a lease. A lock that another holder
    has taken in the meantime is left alone.
    """

    def __init__(self, path: str | None, holder: dict[str, Any] | None, lease: int = 0) -> None:
        self.path, self.holder, self.lease = path, holder or {}, lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew(self) -> bool:
        current = read(self.path) if self.path else None
        if not self.path or self.lease <= 0 or not same(current, self.holder):
            return False
        return replace_if(self.path, current, self.holder, self.lease, since=str((current or {}).get("since", "")))

    def _run(self) -> None:
        while not self._stop.wait(max(1.0, min(30.0, self.lease / 3))):
            self.renew()

    def __enter__(self) -> Renewal:
        if self.path and self.lease > 0:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
