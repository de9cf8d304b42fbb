"""gunicorn's worker classes, as the collection knows them: one list for the filters and the report."""

from __future__ import annotations

# The order is the docs' order: two classes that take one request per thread, then those an event
# loop drives, which gunicorn sizes by worker_connections.
WORKER_CLASSES: tuple[str, ...] = (
    "sync",
    "gthread",
    "gevent",
    "eventlet",
    "tornado",
    "asgi",
    "uvicorn_worker.UvicornWorker",
    "uvicorn.workers.UvicornWorker",
)
# Sized by worker_connections: the greenlet workers and the event-loop workers.
CONNECTION_CLASSES: tuple[str, ...] = WORKER_CLASSES[2:]
