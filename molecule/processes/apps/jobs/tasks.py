"""The jobs the worker runs: each writes its id once, with the release that ran it."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path

HERE = Path(__file__).parent
VERSION = (HERE / "version.txt").read_text().strip()
if VERSION == "broken-jobs":
    raise ImportError("this release's jobs cannot be imported (version.txt says broken-jobs)")
INSTANCE = HERE / "instance"


def record(job_id: str, seconds: float = 0.0) -> str:
    """Marks the start (for a job meant to be in progress at a deploy), works, then writes '<id> <release>'."""
    (INSTANCE / f"started-{job_id}").write_text(VERSION)
    time.sleep(seconds)
    with (INSTANCE / "jobs.log").open("a") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.write(f"{job_id} {VERSION}\n")
    return VERSION
