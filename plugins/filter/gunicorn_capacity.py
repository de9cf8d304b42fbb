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

Several apps on one host share it (``host_budget``): each app whose workers are
computed gets ``share`` of the vCPUs (equal shares by default) and the same share
of the memory that the apps with explicit worker counts leave; the rules above
then apply to that part of the host ("vCPUs + 1" becomes "vCPU share + 1",
rounded, at least one process). Apps whose workers cannot fit in the host's
memory are refused, with the table.
"""

from __future__ import annotations

import math
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


def _by_cpu(worker_class: str, vcpus: int, share: float = 1.0) -> tuple[int, str]:
    if share < 1.0:
        part = vcpus * share
        label = f"{part:.2f} of {vcpus} vCPUs"
        if worker_class == "sync":
            return max(1, math.floor(2 * part + 1.5)), f"(2 x {label}) + 1, rounded"
        if worker_class in ("gthread", "gevent", "eventlet"):
            return max(1, math.floor(part + 1.5)), f"{label} + 1, rounded"
        return max(1, math.floor(part + 0.5)), f"1 per vCPU x {label}, rounded, at least 1"
    if worker_class == "sync":
        return 2 * vcpus + 1, f"(2 x {vcpus} vCPUs) + 1"
    if worker_class in ("gthread", "gevent", "eventlet"):
        return max(2, vcpus + 1), f"{vcpus} vCPUs + 1" + (" (at least 2)" if vcpus + 1 < 2 else "")
    return vcpus, f"1 per vCPU x {vcpus}"


def _share(value: Any) -> float:
    try:
        share = float(value)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"gunicorn_host_share must be a number above 0 and at most 1, got {value!r}") from exc
    if not 0 < share <= 1:
        raise AnsibleFilterError(f"gunicorn_host_share must be a number above 0 and at most 1, got {value!r}")
    return share


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
    share: Any = 1,
    memory_budget_mb: Any = 0,
) -> Capacity:
    """Compute gunicorn's worker class, processes, threads and connections for one host (or its share of one).

    ``share`` is the part of the vCPUs this app's computed workers use; ``memory_budget_mb`` (0: the host's
    memory less the reserve) is the memory they must fit in. ``host_budget`` gives both for the apps of a host.
    """
    cpus = _positive_int("processor_vcpus", vcpus, 1)
    memory = _positive_int("memtotal_mb", memtotal_mb, 1)
    # None (the role's default) and 0 both mean: computed from the host.
    explicit_workers = _positive_int("gunicorn_workers", 0 if workers is None else workers)
    explicit_threads = _positive_int("gunicorn_threads", threads)
    explicit_connections = _positive_int("gunicorn_worker_connections", worker_connections)
    per_worker = _positive_int("gunicorn_mem_per_worker_mb", mem_per_worker_mb, 1)
    reserve = _positive_int("gunicorn_mem_reserve_mb", mem_reserve_mb)
    part = _share(share)
    budget = _positive_int("gunicorn_host_memory_mb", memory_budget_mb)
    chosen_class = worker_class_for(workload, worker_class)

    if explicit_workers:
        count, formula, cap = explicit_workers, "set by gunicorn_workers", "none (set explicitly)"
    else:
        by_cpu, formula = _by_cpu(chosen_class, cpus, part)
        if budget:
            fits = max(1, budget // per_worker)
            cap = f"memory share {budget} MiB / {per_worker} MiB = {fits}"
        else:
            fits = max(1, (memory - reserve) // per_worker)
            cap = f"memory ({memory} - {reserve} MiB) / {per_worker} MiB = {fits}"
        count = min(by_cpu, fits)
        cap += f", capped from {by_cpu}" if count < by_cpu else ", not reached"

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


class BudgetRow(TypedDict):
    app: str
    worker_class: str
    workers: int
    threads: int
    memory_mb: int
    share: float
    memory_budget_mb: int
    computed: bool


class Budget(TypedDict):
    rows: list[BudgetRow]
    memory_mb: int
    available_mb: int
    used_mb: int
    fits: bool
    table: list[str]


def host_budget(apps: list[dict[str, Any]], vcpus: Any, memtotal_mb: Any, mem_reserve_mb: Any = 512) -> Budget:
    """Share one host between its apps: each app's row, the memory they use in all, whether it fits, a table.

    ``apps``: one map per app with ``name`` and its gunicorn settings as ``gunicorn_capacity`` takes them
    (``workload``, ``worker_class``, ``workers``, ``threads``, ``worker_connections``, ``mem_per_worker_mb``),
    and optionally ``share`` (the part of the host the app's computed workers get; by default equal parts).
    Apps with an explicit worker count keep it; their memory comes off first, and the apps whose workers are
    computed share the rest.
    """
    memory = _positive_int("memtotal_mb", memtotal_mb, 1)
    reserve = _positive_int("gunicorn_mem_reserve_mb", mem_reserve_mb)
    available = max(0, memory - reserve)
    if not apps:
        return Budget(rows=[], memory_mb=memory, available_mb=available, used_mb=0, fits=True, table=[])

    def explicit(app: dict[str, Any]) -> int:
        return _positive_int(f"{app.get('name')}: gunicorn_workers", app.get("workers") or 0)

    def per_worker(app: dict[str, Any]) -> int:
        return _positive_int(f"{app.get('name')}: gunicorn_mem_per_worker_mb", app.get("mem_per_worker_mb", 128), 1)

    fixed_mb = sum(explicit(app) * per_worker(app) for app in apps if explicit(app))
    computed = [app for app in apps if not explicit(app)]
    default_share = 1.0 / len(apps)

    def share_of(app: dict[str, Any]) -> float:
        return _share(app["share"]) if app.get("share") else default_share

    # The memory the explicit worker counts leave, split among the computed apps in proportion to their shares.
    left = max(0, available - fixed_mb)
    computed_shares = sum(share_of(app) for app in computed) or 1.0
    rows: list[BudgetRow] = []
    for app in apps:
        share = share_of(app)
        is_computed = not explicit(app)
        budget = max(1, int(left * share / computed_shares)) if is_computed else 0
        capacity = gunicorn_capacity(
            vcpus,
            memory,
            workload=app.get("workload", "mixed"),
            worker_class=app.get("worker_class", ""),
            workers=explicit(app),
            threads=app.get("threads", 0) or 0,
            worker_connections=app.get("worker_connections", 0) or 0,
            mem_per_worker_mb=per_worker(app),
            mem_reserve_mb=reserve,
            share=share if len(apps) > 1 else 1,
            memory_budget_mb=budget if len(apps) > 1 else 0,
        )
        rows.append(
            BudgetRow(
                app=str(app.get("name")),
                worker_class=capacity["worker_class"],
                workers=capacity["workers"],
                threads=capacity["threads"],
                memory_mb=capacity["workers"] * per_worker(app),
                share=round(share, 4),
                memory_budget_mb=budget,
                computed=is_computed,
            )
        )
    used = sum(row["memory_mb"] for row in rows)
    table = [f"{'app':<20} {'worker class':<14} {'workers x threads':>17} {'memory MiB':>10} {'share':>6}"]
    for row in rows:
        shape = f"{row['workers']} x {row['threads']}" + ("" if row["computed"] else " (set)")
        share = f"{row['share']:.0%}" if row["computed"] else "-"
        table.append(f"{row['app']:<20} {row['worker_class']:<14} {shape:>17} {row['memory_mb']:>10} {share:>6}")
    table.append(f"{'all apps':<20} {'':<14} {'':>17} {used:>10} of {available} MiB ({memory} less {reserve} reserved)")
    return Budget(
        rows=rows, memory_mb=memory, available_mb=available, used_mb=used, fits=used <= available, table=table
    )


class FilterModule:
    """flaskops.deploy capacity filters."""

    def filters(self) -> dict[str, Any]:
        return {"gunicorn_capacity": gunicorn_capacity, "host_budget": host_budget}
