"""systemd as the collection's modules read it: units' properties, whether a unit crashed, and why.

One reading of ``systemctl show`` for every module that asks about units (host_state, live_health,
units_running, loadtest_run), one decision of "did it crash" for the two that watch a unit come up
(live_health, units_running), and one summary of a unit's journal that leads with the cause, so that a
failed deploy says the same thing whichever module noticed.

The functions take the module's ``run_command`` (``Runner``), not the module: they stay testable without
an AnsibleModule and keep module_utils free of argument parsing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence

# A unit's properties as `systemctl show` prints them, e.g. {"ActiveState": "active", "NRestarts": "0"}.
UnitState = dict[str, str]
# AnsibleModule.run_command as these functions call it: argv in, (rc, stdout, stderr) out.
Runner = Callable[[list[str]], tuple[int, str, str]]

# The types systemctl recognises; any other name is a service to it ("nginx" is "nginx.service").
UNIT_TYPES = (
    ".service",
    ".socket",
    ".target",
    ".timer",
    ".path",
    ".mount",
    ".automount",
    ".swap",
    ".slice",
    ".scope",
    ".device",
)
# The last line of a Python traceback: the exception that ended the process ("OSError: ...",
# "redis.exceptions.ConnectionError: ...").
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception)\b")
# Other lines that say why a process stopped: gunicorn's error log and its master's last word.
ERROR_LINE = re.compile(r"Reason:|\[ERROR\]")
READ_ONLY = re.compile(r"\[Errno 30\]|Read-only file system")
# Enough of the journal to reach back past a traceback, a banner and systemd's own lines to the exception.
JOURNAL_LINES = 60


def unit_name(name: str) -> str:
    """The name systemctl gives the unit `name` stands for: a name without a unit type is a service."""
    return name if name.endswith(UNIT_TYPES) else f"{name}.service"


def show_command(units: Sequence[str], properties: Iterable[str]) -> list[str]:
    """One `systemctl show` for all the units, asking for their Id and Names too, which parse_show needs."""
    wanted = ["Id", "Names", *(name for name in properties if name not in ("Id", "Names"))]
    return ["systemctl", "show", "--no-pager", "-p", ",".join(wanted), "--", *units]


def parse_show(output: str, units: Sequence[str]) -> dict[str, UnitState]:
    """Each unit's properties from show_command's output, found by the unit's Id or one of its Names.

    Not by position: a unit systemctl cannot show (an invalid name) leaves no block, and every block after
    it would be matched with the wrong unit. A unit systemd does not know still gets a block
    (LoadState=not-found); one without a block is left out, so callers see "no state" rather than another
    unit's. Names holds the aliases: `sshd.service` is shown with Id=ssh.service.
    """
    by_name: dict[str, UnitState] = {}
    for block in output.strip().split("\n\n"):
        state = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        for name in [state.get("Id", ""), *state.get("Names", "").split()]:
            if name:
                by_name.setdefault(name, state)
    return {unit: by_name[unit_name(unit)] for unit in units if unit_name(unit) in by_name}


def show(run: Runner, units: Sequence[str], properties: Iterable[str]) -> dict[str, UnitState]:
    """The properties of several units in one call, {unit as asked: {property: value}}.

    systemctl's exit code is not read: it is 1 when one of several names is invalid, and the others are
    shown all the same.
    """
    if not units:
        return {}
    _rc, out, _err = run(show_command(units, properties))
    return parse_show(out, units)


def restarts(state: UnitState) -> int:
    """How often systemd restarted the unit on its own (NRestarts; a timer has none)."""
    value = state.get("NRestarts", "0")
    return int(value) if value.isdigit() else 0


def crashed(state: UnitState, restarts_before: int) -> str:
    """Why a unit in this state is down and will not come up by itself, or '' while it runs or may still.

    NRestarts survives some manual restarts and is reset by others, so a crash is a count above its value
    when the watch began (restarts_before); a lower count is someone's restart, not a crash. An unknown
    state (systemctl said nothing) is no crash: the caller asks again.
    """
    if not state:
        return ""
    if state.get("ActiveState") == "failed":
        return f"the unit failed ({state.get('Result', 'unknown')})"
    if state.get("SubState") == "auto-restart" or restarts(state) > restarts_before:
        return f"the service exited (status {state.get('ExecMainStatus', '?')}) and systemd is restarting it"
    if state.get("ActiveState") == "inactive":
        return "the service is stopped"
    return ""


def up(state: UnitState, restarts_before: int = 0) -> bool:
    """Running and not crashed since the watch began: a service active and not restarted by systemd, a
    timer active (waiting for its next run). Stricter than `not crashed`: a unit still starting is not up."""
    return state.get("ActiveState") == "active" and not crashed(state, restarts_before)


def journal_command(unit: str, lines: int = JOURNAL_LINES) -> list[str]:
    return ["journalctl", "--no-pager", "-o", "cat", "-n", str(lines), "-u", unit]


def read_journal(run: Runner, unit: str, lines: int = JOURNAL_LINES) -> str:
    """The unit's last journal lines, messages only; '' when there is no journal to read."""
    _rc, out, _err = run(journal_command(unit, lines))
    return out


def shared_dir(working_directory: str) -> str:
    """The app's shared/ directory for a unit that runs in the live release (<app_root>/current)."""
    path = working_directory.rstrip("/")
    if os.path.basename(path) == "current":
        return os.path.join(os.path.dirname(path), "shared")
    return "<app_root>/shared"


def read_only_hint(shared: str) -> str:
    """What to do about a write into the release: the sandbox leaves only the shared directories writable."""
    return (
        "Hint: the release is read-only to the app; write into one of its shared directories instead "
        f"(app_shared_dirs, below {shared}/ and linked into every release, such as instance/), e.g. "
        "`celery beat --schedule instance/celerybeat-schedule`"
    )


def journal_summary(journal: str, tail: int = 4, shared: str = "") -> list[str]:
    """The lines that say why a unit stopped, cause first, each once: the last exception (the one that ended the
    process, not one it was handling), up to two other error lines (gunicorn's reason), the journal's last lines.

    The last lines alone show a crashing Celery beat as its banner and systemd's status=1/FAILURE. With
    `shared` (the app's shared/ directory), a write into the read-only release also gets read_only_hint.
    """
    lines = [line.strip() for line in journal.splitlines() if line.strip()]
    last = lines[-tail:]
    exceptions = [line for line in lines if EXCEPTION_LINE.search(line)]
    cause = exceptions[-1:]
    others = _unique(line for line in lines if ERROR_LINE.search(line) and line not in cause)
    summary = cause + [line for line in others[-2:] if line not in last] + [line for line in last if line not in cause]
    if shared and any(READ_ONLY.search(line) for line in cause or lines):
        summary.append(read_only_hint(shared))
    return summary


def _unique(lines: Iterable[str]) -> list[str]:
    """Each line once, where it last appeared: a unit restarting in a loop logs the same error each time."""
    found = list(lines)
    return [line for index, line in enumerate(found) if line not in found[index + 1 :]]
