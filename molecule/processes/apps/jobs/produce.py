"""A steady stream of jobs: one every INTERVAL seconds until STOP exists (or MAX seconds pass).

Usage: produce.py PRODUCED STOP [INTERVAL] [MAX]. Each id enqueued is appended to PRODUCED.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from redis import Redis
from rq import Queue

produced, stop = Path(sys.argv[1]), Path(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
deadline = time.monotonic() + (float(sys.argv[4]) if len(sys.argv) > 4 else 600)
queue = Queue("jobs", connection=Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")))
number = 0
with produced.open("a") as out:
    while not stop.exists() and time.monotonic() < deadline:
        number += 1
        queue.enqueue("tasks.record", f"s{number}", 0.05)
        out.write(f"s{number}\n")
        out.flush()
        time.sleep(interval)
