"""Size gunicorn for a host: worker class from the workload, processes from vCPUs, a memory cap.

The rules, per worker class (vCPUs from ``ansible_facts['processor_vcpus']``):

* ``sync``: (2 x vCPUs) + 1 processes, one request each; the guides' formula.
* ``gthread``: vCPUs + 1 processes (at least 2) x 16 threads for a mixed or
  I/O-bound workload (2 if the user picks gthread for a cpu one), so total
  concurrency grows with threads rather than with memory-hungry processes.
  16 comes from `make bench` on a quiet 2 vCPU host: 3 x 16 served more than
  the guides' 3 x 4 on every endpoint (/health 1.13 x, ~5 ms of Python 1.21 x,
  a 50 ms wait 2.73 x) with a lower p99 on each (benchmarks/latest.md).
* ``gevent`` / ``eventlet``: vCPUs + 1 processes, each with ``worker_connections``
  (1000) greenlets: the processes only need to keep every core busy.
* ``tornado`` and ASGI (gunicorn's own ``asgi``, ``uvicorn_worker.UvicornWorker``,
  ``uvicorn.workers.UvicornWorker``): one process per vCPU, each runs its own
  event loop.

Then memory caps the processes: workers x ``mem_per_worker_mb`` must fit in
``memtotal_mb - mem_reserve_mb``; never fewer than one. A worker count the user
sets explicitly is used as it is.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ansible.errors import AnsibleFilterError
from ansible_collections.flaskops.deploy.plugins.module_utils.worker_classes import (
    CONNECTION_CLASSES,
    WORKER_CLASSES,
)

WORKLOAD_CLASSES: dict[str, str] = {"cpu": "sync", "io": "gthread", "mixed": "gthread"}
GTHREAD_THREADS: dict[str, int] = {"cpu": 2, "mixed": 16, "io": 16}
DEFAULT_WORKER_CONNECTIONS = 1000


class Capacity(TypedDict):
    worker_class: str
    workers: int
    threads: int
    worker_connections: int
    concurrency: int
    formula: str
    cap: str
    summary: str


def _positive_int(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise AnsibleFilterError(f"{name} must be an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"{name} must be an integer, got {value!r}") from exc
    if number < minimum:
        raise AnsibleFilterError(f"{name} must be at least {minimum}, got {number}")
    return number


def worker_class_for(workload: str, worker_class: str = "") -> str:
    """The worker class: the user's if set, else the workload profile's."""
    if worker_class:
        if worker_class not in WORKER_CLASSES:
            raise AnsibleFilterError(
                f"gunicorn_worker_class={worker_class!r} is not one of: {', '.join(WORKER_CLASSES)}"
            )
        return worker_class
    if workload not in WORKLOAD_CLASSES:
        raise AnsibleFilterError(f"gunicorn_workload={workload!r} is not one of: {', '.join(WORKLOAD_CLASSES)}")
    return WORKLOAD_CLASSES[workload]


def _by_cpu(worker_class: str, vcpus: int) -> tuple[int, str]:
    if worker_class == "sync":
        return 2 * vcpus + 1, f"(2 x {vcpus} vCPUs) + 1"
    if worker_class in ("gthread", "gevent", "eventlet"):
        return max(2, vcpus + 1), f"{vcpus} vCPUs + 1" + (" (at least 2)" if vcpus + 1 < 2 else "")
    return vcpus, f"1 per vCPU x {vcpus}"


def gunicorn_capacity(
    vcpus: Any,
    memtotal_mb: Any,
    workload: str = "mixed",
    worker_class: str = "",
    workers: Any = 0,
    threads: Any = 0,
    worker_connections: Any = 0,
    mem_per_worker_mb: Any = 128,
    mem_reserve_mb: Any = 512,
) -> Capacity:
    """Compute gunicorn's worker class, processes, threads and connections for one host."""
    cpus = _positive_int("processor_vcpus", vcpus, 1)
    memory = _positive_int("memtotal_mb", memtotal_mb, 1)
    # None (the role's default) and 0 both mean: computed from the host.
    explicit_workers = _positive_int("gunicorn_workers", 0 if workers is None else workers)
    explicit_threads = _positive_int("gunicorn_threads", threads)
    explicit_connections = _positive_int("gunicorn_worker_connections", worker_connections)
    per_worker = _positive_int("gunicorn_mem_per_worker_mb", mem_per_worker_mb, 1)
    reserve = _positive_int("gunicorn_mem_reserve_mb", mem_reserve_mb)
    chosen_class = worker_class_for(workload, worker_class)

    if explicit_workers:
        count, formula, cap = explicit_workers, "set by gunicorn_workers", "none (set explicitly)"
    else:
        by_cpu, formula = _by_cpu(chosen_class, cpus)
        fits = max(1, (memory - reserve) // per_worker)
        count = min(by_cpu, fits)
        cap = (
            f"memory ({memory} - {reserve} MiB) / {per_worker} MiB = {fits}"
            + (f", capped from {by_cpu}" if count < by_cpu else ", not reached")
        )

    if chosen_class == "gthread":
        thread_count = explicit_threads or GTHREAD_THREADS.get(workload, 16)
    else:
        thread_count = 1
    connections = explicit_connections or DEFAULT_WORKER_CONNECTIONS
    if chosen_class in CONNECTION_CLASSES:
        concurrency = count * connections
    else:
        concurrency = count * thread_count

    shape = f"{count} {chosen_class} workers"
    if chosen_class == "gthread":
        shape += f" x {thread_count} threads"
    elif concurrency != count:
        shape += f" x {connections} connections"
    summary = f"{shape} on {cpus} vCPUs / {memory} MiB (workload {workload}): {formula}; memory cap: {cap}"
    return Capacity(
        worker_class=chosen_class,
        workers=count,
        threads=thread_count,
        worker_connections=connections,
        concurrency=concurrency,
        formula=formula,
        cap=cap,
        summary=summary,
    )


class FilterModule:
    """flaskops.deploy capacity filters."""

    def filters(self) -> dict[str, Any]:
        return {"gunicorn_capacity": gunicorn_capacity}
