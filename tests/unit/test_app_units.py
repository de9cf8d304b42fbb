"""The app's processes and timers as units, the shared sandbox, the release history table, the deploy lock."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.flaskops.deploy.plugins.action.deploy_lock import gone, this_play
from ansible_collections.flaskops.deploy.plugins.filter.app_units import app_units, systemd_quote
from ansible_collections.flaskops.deploy.plugins.filter.release_table import release_table
from ansible_collections.flaskops.deploy.plugins.filter.systemd_sandbox import systemd_sandbox
from ansible_collections.flaskops.deploy.plugins.module_utils.systemd import up
from ansible_collections.flaskops.deploy.plugins.modules import deploy_lock, units_running
from module_runner import fake_systemd, run_module

PROCESSES = {
    "worker": {
        "command": "celery -A shop.tasks worker -n w%i",
        "count": 2,
        "stop_signal": "SIGTERM",
        "stop_timeout": 600,
    },
    "beat": {"command": "celery -A shop.tasks beat"},
}
TIMERS = {"report": {"command": "flask report", "on_calendar": "*-*-* 03:00:00", "randomized_delay": 600}}


def test_each_process_and_timer_gets_its_units() -> None:
    units = app_units(PROCESSES, TIMERS, "shop")
    assert units["problems"] == []
    assert units["run"] == ["shop.beat.service", "shop.worker@1.service", "shop.worker@2.service"]
    assert units["timers_run"] == ["shop.report.timer"]
    assert [f["dest"] for f in units["files"]] == [
        "/etc/systemd/system/shop.beat.service",
        "/etc/systemd/system/shop.worker@.service",
        "/etc/systemd/system/shop.report.service",
        "/etc/systemd/system/shop.report.timer",
    ]
    worker = next(p for p in units["processes"] if p["name"] == "worker")
    assert (worker["stop_signal"], worker["stop_timeout"], worker["count"]) == ("TERM", 600, 2)
    beat = next(p for p in units["processes"] if p["name"] == "beat")
    assert (beat["stop_signal"], beat["stop_timeout"], beat["count"]) == ("TERM", 30, 1)
    assert units["calendars"] == ["*-*-* 03:00:00"]


def test_what_runs_once_runs_only_on_the_apps_one_host() -> None:
    processes = {**PROCESSES, "beat": {"command": "celery -A shop.tasks beat", "placement": "one"}}
    here = app_units(processes, TIMERS, "shop", here=True)
    elsewhere = app_units(processes, TIMERS, "shop", here=False)
    assert here["run"] == ["shop.beat.service", "shop.worker@1.service", "shop.worker@2.service"]
    assert here["timers_run"] == ["shop.report.timer"]
    # Elsewhere: the workers (placement all, the default of processes), no beat, no timer (one, theirs).
    assert elsewhere["run"] == ["shop.worker@1.service", "shop.worker@2.service"]
    assert elsewhere["timers_run"] == [] and elsewhere["timers"] == []
    assert [f["dest"] for f in elsewhere["files"]] == ["/etc/systemd/system/shop.worker@.service"]
    # A timer may run everywhere too.
    everywhere = app_units({}, {"clean": {"command": "x", "on_calendar": "hourly", "placement": "all"}}, "shop", False)
    assert everywhere["timers_run"] == ["shop.clean.timer"]


@pytest.mark.parametrize(
    ("processes", "timers", "problem"),
    [
        ({"Worker": {"command": "x"}}, {}, "app_processes.Worker: the name must be"),
        ({"worker": {}}, {}, "app_processes.worker.command must be"),
        ({"worker": {"command": "x", "count": 0}}, {}, "count=0 must be a whole number, 1 or more"),
        ({"worker": {"command": "x", "stop_signal": "STOP"}}, {}, "stop_signal='STOP' must be one of"),
        ({"worker": {"command": "x", "restart": "always"}}, {}, "unknown settings ['restart']"),
        ({}, {"report": {"command": "x"}}, "app_timers.report.on_calendar must be"),
        (
            {"report": {"command": "x"}},
            {"report": {"command": "y", "on_calendar": "daily"}},
            "a process of the same name",
        ),
        ("not a map", {}, "app_processes must map names to settings"),
        ({"beat": {"command": "x", "placement": "two"}}, {}, "placement='two' must be all"),
    ],
)
def test_what_cannot_run_is_named(processes: Any, timers: dict[str, Any], problem: str) -> None:
    assert any(problem in found for found in app_units(processes, timers, "shop")["problems"])


def test_a_command_is_one_quoted_argument_of_exec() -> None:
    assert systemd_quote('exec flask --app shop say "hi" \\o/') == '"exec flask --app shop say \\"hi\\" \\\\o/"'


def test_the_sandbox_makes_only_the_given_paths_writable() -> None:
    lines = systemd_sandbox(["/srv/shop/shared"], ["AF_UNIX"], memory_deny_write_execute=False)
    assert "ProtectSystem=strict" in lines and "ReadWritePaths=/srv/shop/shared" in lines
    assert "RestrictAddressFamilies=AF_UNIX" in lines and "MemoryDenyWriteExecute=no" in lines
    assert lines.index("ProtectSystem=strict") < lines.index("ReadWritePaths=/srv/shop/shared")


def test_the_history_table_marks_the_entry_that_made_the_live_release_live() -> None:
    history = "\n".join(
        json.dumps(entry)
        for entry in (
            {"time": "t1", "release": "aaa", "action": "deploy", "result": "live", "source": "dir:1"},
            {"time": "t2", "release": "bbb", "action": "deploy", "result": "refused", "reason": "It does not load"},
            {"time": "t3", "release": "ccc", "action": "deploy", "result": "live", "source": "dir:3"},
            {"time": "t4", "release": "aaa", "action": "rollback", "result": "live", "source": "release aaa"},
        )
    )
    rows = release_table(history + "\nnot json\n", live="aaa")
    assert len(rows) == 5
    assert "aaa *" in rows[4] and "aaa *" not in rows[1]
    assert "It does not load" in rows[2]
    assert release_table("", live="aaa") == ["no release history on this host yet"]
    assert len(release_table(history, live="aaa", last=2)) == 3


# --- deploy_lock -----------------------------------------------------------------------------------


def _lock(path: Path, monkeypatch: pytest.MonkeyPatch, **args: Any) -> dict[str, Any]:
    return run_module(deploy_lock, {"path": str(path), **args}, monkeypatch)


def test_the_lock_is_held_once_and_given_back_by_its_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    me = {"by": "ada@ctl", "controller": "ctl", "pid": 10, "started": "5"}
    other = {"by": "bob@ctl2", "controller": "ctl2", "pid": 11, "started": "6"}
    lock = tmp_path / "lock"
    assert _lock(lock, monkeypatch, holder=me, timeout=0)["held"]
    assert _lock(lock, monkeypatch, holder=me, timeout=0)["held"], "the same play holds it already"
    busy = _lock(lock, monkeypatch, holder=other, timeout=1)
    assert not busy["held"] and busy["holder"]["by"] == "ada@ctl" and busy["holder"]["since"]
    _lock(lock, monkeypatch, holder=other, state="free")
    assert lock.exists(), "only its holder gives it back"
    freed = _lock(lock, monkeypatch, holder=me, state="free")
    assert not freed["held"] and not lock.exists()
    assert not freed["changed"], "the lock is bookkeeping: a run that changes nothing stays changed=0"


def test_a_stale_holder_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = {"by": "ada@ctl", "controller": "ctl", "pid": 10, "started": "5"}
    me = {"by": "ada@ctl", "controller": "ctl", "pid": 12, "started": "7"}
    lock = tmp_path / "lock"
    _lock(lock, monkeypatch, holder=stale, timeout=0)
    taken = _lock(lock, monkeypatch, holder=me, timeout=0, take_over=stale)
    assert taken["held"] and taken["taken_over"]["pid"] == 10


def test_a_lease_run_out_frees_the_lock_for_anyone_and_a_live_holder_renews_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job killed in another container (AWX): its pid means nothing here, its lease does."""
    job1 = {"by": "awx@job-1", "controller": "automation-job-1", "pid": 7, "started": "1"}
    job2 = {"by": "awx@job-2", "controller": "automation-job-2", "pid": 7, "started": "1"}
    lock = tmp_path / "lock"
    first = _lock(lock, monkeypatch, holder=job1, timeout=0, lease=60)
    assert first["held"] and first["holder"]["expires"] > time.time() + 50
    assert not _lock(lock, monkeypatch, holder=job2, timeout=1, lease=60)["held"], "a live lease is waited for"
    # job1 renews at its next step: the lease starts again, since stays.
    entry = json.loads(lock.read_text())
    lock.write_text(json.dumps({**entry, "expires": time.time() + 5}))
    renewed = _lock(lock, monkeypatch, holder=job1, timeout=0, lease=60)
    assert renewed["holder"]["expires"] > time.time() + 50 and renewed["holder"]["since"] == entry["since"]
    # job1 dies: nobody renews; once the lease has run out, job2 takes the lock while it waits.
    lock.write_text(json.dumps({**entry, "expires": time.time() + 1.5}))
    taken = _lock(lock, monkeypatch, holder=job2, timeout=10, lease=60)
    assert taken["held"] and taken["taken_over"]["by"] == "awx@job-1" and taken["holder"]["by"] == "awx@job-2"
    assert not _lock(lock, monkeypatch, holder=job1, timeout=0, lease=60)["held"], "the old job lost it"
    # Without a lease a lock never expires by itself.
    other = tmp_path / "other"
    assert "expires" not in _lock(other, monkeypatch, holder=job1, timeout=0)["holder"]
    assert not deploy_lock.expired(json.loads(other.read_text()), now=time.time() + 10**9)


def test_a_read_before_the_lock_still_holds_only_if_nobody_took_the_lock_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deploy reads the app's state again after taking its lock only when another deploy may have changed it."""
    me = {"by": "ada@ctl", "controller": "ctl", "pid": 10, "started": "5"}
    other = {"by": "bob@ctl2", "controller": "ctl2", "pid": 11, "started": "6"}
    lock = tmp_path / "lock"
    read_at = time.time()
    assert _lock(lock, monkeypatch, holder=me, timeout=0, unchanged_since=read_at)["unchanged"], "never taken yet"
    _lock(lock, monkeypatch, holder=me, state="free")
    later = time.time() + 0.01
    assert _lock(lock, monkeypatch, holder=me, timeout=0, unchanged_since=later)["unchanged"], "taken before the read"
    _lock(lock, monkeypatch, holder=me, state="free")
    # Another deploy took it after the read (and gave it back): what was read may have changed.
    assert not _lock(lock, monkeypatch, holder=me, timeout=0, unchanged_since=read_at)["unchanged"]
    assert not _lock(lock, monkeypatch, holder=me, timeout=0, unchanged_since=time.time())["unchanged"], "held already"
    _lock(lock, monkeypatch, holder=me, state="free")
    # Waited for another holder: never unchanged, whenever it took the lock.
    _lock(lock, monkeypatch, holder=other, timeout=0)
    entry = json.loads(lock.read_text())
    lock.write_text(json.dumps({**entry, "lease": 1, "expires": time.time() + 1.2}))
    waited = _lock(lock, monkeypatch, holder=me, timeout=10, unchanged_since=time.time() + 100)
    assert waited["held"] and not waited["unchanged"]
    assert (
        "unchanged" in _lock(lock, monkeypatch, holder=me, timeout=0)
        and not _lock(tmp_path / "third", monkeypatch, holder=me, timeout=0)["unchanged"]
    ), "without unchanged_since nothing is said to hold"


def test_a_play_of_this_controller_that_is_gone_is_told_from_one_that_runs() -> None:
    me = this_play()
    assert me["pid"] == os.getppid() and me["started"]
    assert not gone(me)
    assert gone({**me, "pid": 999999999})
    assert gone({**me, "started": "not when it started"})
    assert not gone({**me, "controller": "another-controller", "pid": 999999999})


@pytest.mark.parametrize(
    ("state", "before", "is_up"),
    [
        ({"ActiveState": "active", "NRestarts": "2"}, 2, True),
        ({"ActiveState": "active", "NRestarts": "0"}, 2, True),
        ({"ActiveState": "active", "NRestarts": "3"}, 2, False),
        ({"ActiveState": "activating", "SubState": "auto-restart", "NRestarts": "0"}, 0, False),
        ({"ActiveState": "failed"}, 0, False),
    ],
)
def test_a_process_is_up_when_active_and_not_restarted_since(state: dict[str, str], before: int, is_up: bool) -> None:
    assert up(state, before) is is_up


# --- units_running, against systemctl and journalctl as they answer -----------------------------------

BEAT_JOURNAL = """celery beat v5.4.0 (opalescent) is starting.
    . db -> celerybeat-schedule
Traceback (most recent call last):
  File "/usr/lib/python3.11/dbm/__init__.py", line 95, in open
OSError: [Errno 30] Read-only file system: 'celerybeat-schedule'
shop.beat.service: Main process exited, code=exited, status=1/FAILURE
shop.beat.service: Failed with result 'exit-code'.
"""
RUNNING = {"ActiveState": "active", "SubState": "running", "UnitFileState": "enabled", "NRestarts": "0"}
TIMER = {"ActiveState": "active", "SubState": "waiting", "UnitFileState": "enabled"}


def test_processes_that_stay_up_are_restarted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units = {"shop.beat.service": {"before": RUNNING, "after": RUNNING}, "shop.report.timer": {"before": TIMER}}
    calls = fake_systemd(tmp_path / "bin", monkeypatch, units, {})
    args = {"units": ["shop.beat.service", "shop.report.timer"], "restart": ["shop.beat.service"], "settle": 1}
    result = run_module(units_running, args, monkeypatch)
    assert not result.get("failed") and result["started"] == ["shop.beat.service"]
    assert "restart -- shop.beat.service" in calls.read_text().splitlines()


def test_a_process_that_dies_is_named_with_its_exception_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = {**RUNNING, "ActiveState": "activating", "SubState": "auto-restart", "NRestarts": "1"}
    live = {"WorkingDirectory": "/srv/shop/current"}
    units = {"shop.beat.service": {"before": {**RUNNING, **live}, "after": {**crashing, **live}}}
    fake_systemd(tmp_path / "bin", monkeypatch, units, {"shop.beat.service": BEAT_JOURNAL})
    args = {"units": ["shop.beat.service"], "restart": ["shop.beat.service"], "settle": 5}
    result = run_module(units_running, args, monkeypatch)
    assert result["failed"] and result["failed_units"] == ["shop.beat.service"]
    assert result["msg"].startswith(
        "shop.beat.service is activating: OSError: [Errno 30] Read-only file system: 'celerybeat-schedule' | "
    )
    assert "status=1/FAILURE" in result["msg"]
    assert "celery beat --schedule instance/celerybeat-schedule" in result["msg"]
