"""The app's RQ worker. It imports the jobs before it starts, so that a release whose jobs cannot be imported
fails to start (and its deploy with it) instead of failing job after job.

At SIGTERM (every release switch) an idle RQ 1.16 worker raises out of its blocking dequeue: a job Redis
hands over at that moment is left in the queue's intermediate list, and RQ's maintenance marks it failed ten
minutes later - a job lost at a deploy. This worker notes the request instead and stops between two
dequeues of at most a second, or once the job in hand is done (the warm shutdown RQ does when busy).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tasks  # the check above, and the release's version
from redis import Redis
from rq import Queue, Worker


class DeployFriendlyWorker(Worker):
    def _shutdown(self) -> None:
        self._stop_requested = True
        self.set_shutdown_requested_date()

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Any, Any] | None:
        while not self._stop_requested:
            result = super().dequeue_job_and_maintain_ttl(1, max_idle_time=1)
            if result is not None:
                return result
        return None


# A worker that keeps a state file in its working directory, as Celery beat keeps celerybeat-schedule by
# default: in the read-only release it cannot start, and its deploy must say why.
if tasks.VERSION == "state-in-release":
    Path("worker-state").write_text("started\n")

connection = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
DeployFriendlyWorker([Queue("jobs", connection=connection)], connection=connection).work()
