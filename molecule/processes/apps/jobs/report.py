"""The scheduled report: one line per run, with the release that ran it."""

from __future__ import annotations

import time
from pathlib import Path

HERE = Path(__file__).parent
with (HERE / "instance" / "report.txt").open("a") as out:
    out.write(f"{time.strftime('%H:%M:%S')} {(HERE / 'version.txt').read_text().strip()}\n")
