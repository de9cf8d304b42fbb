"""gunicorn's worker classes, as the collection knows them: the one list.

The filters and the report import it. YAML cannot import Python, so the lists kept in YAML (the gunicorn
role's argument spec choices and the maps of what each class needs in its vars/main.yml, the gunicorn_capacity
filter's documented choices) are checked against this one by tests/unit/test_worker_classes.py.
"""

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
# Classes gunicorn itself ships, so nothing is installed beside it; every other class needs a pip extra of
# gunicorn or a package of its own (the maps keyed by worker class in the gunicorn role's vars/main.yml).
BUILT_IN_CLASSES: tuple[str, ...] = ("sync", "gthread", "asgi")
