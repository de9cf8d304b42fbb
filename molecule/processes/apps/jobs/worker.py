"""The app's RQ worker. It imports the jobs before it starts, so that a release whose jobs cannot be imported
fails to start (and its deploy with it) instead of failing job after job."""

from __future__ import annotations

import os

import tasks  # noqa: F401  (the check above)
from redis import Redis
from rq import Queue, Worker

connection = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
Worker([Queue("jobs", connection=connection)], connection=connection).work()
