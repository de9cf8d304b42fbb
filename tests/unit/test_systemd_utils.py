"""module_utils/systemd: `systemctl show` read by unit name, the one crash decision, the journal's cause first.

systemd is not PID 1 where the unit tests run, so `systemctl show` output is given as systemd 252 prints it.
"""

from __future__ import annotations

import pytest
from ansible_collections.flaskops.deploy.plugins.module_utils.systemd import (
    crashed,
    journal_summary,
    parse_show,
    restarts,
    shared_dir,
    show,
    show_command,
    unit_name,
    up,
)

# Asked for: nginx (no type: a service), sshd.service (an alias of ssh.service), shop.nope.service (unknown).
SHOWN = """Id=nginx.service
Names=nginx.service
ActiveState=active
NRestarts=0

Id=ssh.service
Names=ssh.service sshd.service
ActiveState=active

Id=shop.nope.service
Names=shop.nope.service
LoadState=not-found
ActiveState=inactive
"""

# A Celery beat whose schedule file lies in the read-only release: its banner, Celery's log, a traceback
# whose first exception is only the context of the second, then systemd's lines.
CELERY_BEAT = """celery beat v5.4.0 (opalescent) is starting.
__    -    ... __   -        _
LocalTime -> 2026-12-01 10:00:00
Configuration ->
    . broker -> redis://localhost:6379/0
    . loader -> celery.loaders.app.AppLoader
    . scheduler -> celery.beat.PersistentScheduler
    . db -> celerybeat-schedule
    . logfile -> [stderr]@%WARNING
    . maxinterval -> 5.00 minutes (300s)
[2026-12-01 10:00:00,100: ERROR/MainProcess] Removing corrupted schedule file 'celerybeat-schedule': OSError(30)
[2026-12-01 10:00:00,101: CRITICAL/MainProcess] beat raised exception <class 'OSError'>: OSError(30)
Traceback (most recent call last):
  File "/srv/shop/current/.venv/lib/python3.11/site-packages/kombu/utils/objects.py", line 40, in __get__
    return obj.__dict__[self.__name__]
KeyError: 'scheduler'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/shop/current/.venv/lib/python3.11/site-packages/celery/beat.py", line 537, in setup_schedule
    self._store = self._open_schedule()
  File "/usr/lib/python3.11/shelve.py", line 243, in open
    return DbfilenameShelf(filename, flag, protocol, writeback)
  File "/usr/lib/python3.11/dbm/__init__.py", line 95, in open
    return mod.open(file, flag, mode)
OSError: [Errno 30] Read-only file system: 'celerybeat-schedule'
shop.beat.service: Main process exited, code=exited, status=1/FAILURE
shop.beat.service: Failed with result 'exit-code'.
"""


def test_units_are_found_by_name_whatever_the_order_and_aliases() -> None:
    asked = ["shop.nope.service", "sshd.service", "nginx"]
    found = parse_show(SHOWN, asked)
    assert list(found) == asked
    assert found["nginx"]["NRestarts"] == "0"
    assert found["sshd.service"]["Id"] == "ssh.service"
    assert found["shop.nope.service"]["LoadState"] == "not-found"


def test_a_unit_systemctl_printed_nothing_for_is_left_out_not_given_a_neighbours_state() -> None:
    # systemctl shows the valid names even when one is refused; by position the last two would be shifted.
    found = parse_show(SHOWN, ["bad name", "nginx.service", "ssh.service", "shop.nope.service"])
    assert "bad name" not in found
    assert found["nginx.service"]["Id"] == "nginx.service" and found["ssh.service"]["Id"] == "ssh.service"


def test_nothing_shown_is_nothing_found() -> None:
    assert parse_show("", ["nginx.service"]) == {}


def test_a_name_without_a_type_is_a_service() -> None:
    assert [unit_name(n) for n in ("nginx", "shop.worker@1", "shop.report.timer", "gunicorn-shop.socket")] == [
        "nginx.service",
        "shop.worker@1.service",
        "shop.report.timer",
        "gunicorn-shop.socket",
    ]


def test_one_command_for_all_units_with_id_and_names_asked_once() -> None:
    assert show_command(["a.service", "b.timer"], ["Id", "ActiveState", "NRestarts"]) == [
        "systemctl",
        "show",
        "--no-pager",
        "-p",
        "Id,Names,ActiveState,NRestarts",
        "--",
        "a.service",
        "b.timer",
    ]


def test_show_runs_one_command_and_reads_it_whatever_its_exit_code() -> None:
    commands: list[list[str]] = []

    def systemctl(argv: list[str]) -> tuple[int, str, str]:
        commands.append(argv)
        return 1, SHOWN, "Unit name bad name is not valid."

    assert set(show(systemctl, ["nginx", "sshd.service"], ["ActiveState"])) == {"nginx", "sshd.service"}
    assert len(commands) == 1
    assert show(systemctl, [], ["ActiveState"]) == {} and len(commands) == 1


# Both callers' cases: live_health watches a restarted gunicorn, units_running a process or a timer.
@pytest.mark.parametrize(
    ("state", "before", "why", "is_up"),
    [
        ({"ActiveState": "active", "SubState": "running", "NRestarts": "2"}, 2, "", True),
        ({"ActiveState": "active", "SubState": "running", "NRestarts": "0"}, 2, "", True),  # reset by a restart
        ({"ActiveState": "activating", "SubState": "start", "NRestarts": "0"}, 0, "", False),  # may still come up
        (
            {"ActiveState": "activating", "SubState": "auto-restart", "NRestarts": "0", "ExecMainStatus": "1"},
            0,
            "the service exited (status 1) and systemd is restarting it",
            False,
        ),
        (
            {"ActiveState": "active", "SubState": "running", "NRestarts": "3"},
            2,
            "the service exited (status ?) and systemd is restarting it",
            False,
        ),
        ({"ActiveState": "failed", "Result": "exit-code"}, 0, "the unit failed (exit-code)", False),
        ({"ActiveState": "inactive", "SubState": "dead"}, 0, "the service is stopped", False),
        ({"ActiveState": "active", "SubState": "waiting"}, 0, "", True),  # a timer: no NRestarts
        ({"ActiveState": "failed", "SubState": "failed"}, 0, "the unit failed (unknown)", False),  # a timer
        ({}, 0, "", False),  # systemctl said nothing: not a crash, not up either
    ],
)
def test_one_decision_of_crashed_and_up(state: dict[str, str], before: int, why: str, is_up: bool) -> None:
    assert crashed(state, before) == why
    assert up(state, before) is is_up


def test_restarts_of_a_unit_without_a_count_are_none() -> None:
    assert [restarts(s) for s in ({"NRestarts": "4"}, {}, {"NRestarts": "[not set]"})] == [4, 0, 0]


def test_a_celery_beat_on_the_read_only_release_leads_with_its_exception_and_gets_the_hint() -> None:
    summary = journal_summary(CELERY_BEAT, tail=8, shared="/srv/shop/shared")
    assert summary[0] == "OSError: [Errno 30] Read-only file system: 'celerybeat-schedule'"
    assert "KeyError: 'scheduler'" not in summary  # only what Python was handling when the real error came
    assert "shop.beat.service: Main process exited, code=exited, status=1/FAILURE" in summary
    assert summary[-1].startswith("Hint: the release is read-only")
    assert "celery beat --schedule instance/celerybeat-schedule" in summary[-1]
    assert "/srv/shop/shared/" in summary[-1]
    assert len(summary) == len(set(summary))


def test_no_hint_without_a_shared_directory_or_a_read_only_write() -> None:
    assert not any(line.startswith("Hint:") for line in journal_summary(CELERY_BEAT))
    crash = "Traceback (most recent call last):\nImportError: this release's jobs cannot be imported\nexit"
    summary = journal_summary(crash, shared="/srv/shop/shared")
    assert summary == [
        "ImportError: this release's jobs cannot be imported",
        "Traceback (most recent call last):",
        "exit",
    ]


def test_a_unit_restarting_in_a_loop_is_summed_up_once() -> None:
    run = "[ERROR] Worker (pid:7) exited with code 3\nredis.exceptions.ConnectionError: Error 111 connecting\n"
    summary = journal_summary(run * 5 + "Started shop.worker@1.service.\n", tail=1)
    assert summary == [
        "redis.exceptions.ConnectionError: Error 111 connecting",
        "[ERROR] Worker (pid:7) exited with code 3",
        "Started shop.worker@1.service.",
    ]


def test_without_an_error_the_last_lines_are_the_summary() -> None:
    assert journal_summary("a\n\nb\nc\nd\ne\n") == ["b", "c", "d", "e"]


def test_the_shared_directory_is_beside_the_live_release() -> None:
    assert shared_dir("/srv/shop/current") == "/srv/shop/shared"
    assert shared_dir("/srv/shop/current/") == "/srv/shop/shared"
    assert shared_dir("") == "<app_root>/shared"
    assert shared_dir("/") == "<app_root>/shared"
