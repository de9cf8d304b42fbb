"""An app's processes and timers (app_processes, app_timers) as the systemd units that run them."""

from __future__ import annotations

import re
from typing import Any

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
SIGNALS = ("TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "KILL", "WINCH")
PROCESS_KEYS = {"command", "count", "stop_signal", "stop_timeout", "placement"}
TIMER_KEYS = {"command", "on_calendar", "randomized_delay", "persistent", "placement"}
# Where an entry runs across the hosts that carry the app: on each, or on one (a beat, a nightly job).
PLACEMENTS = ("all", "one")
DEFAULT_PLACEMENT = {"app_processes": "all", "app_timers": "one"}
UNIT_DIR = "/etc/systemd/system"


def _number(value: Any, lowest: int) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= lowest and not isinstance(value, bool) else None


def app_units(
    processes: dict[str, Any] | None, timers: dict[str, Any] | None, app: str, here: bool = True
) -> dict[str, Any]:
    """Unit names, unit files (as config_files entries) and what is wrong with the input, for one app.

    A process runs as <app>.<name>.service, or with count > 1 as instances 1..count of <app>.<name>@.service;
    a timer as <app>.<name>.timer starting <app>.<name>.service. App and entry names have no dot, so
    "<app>." names this app's units alone. An entry with ``placement: one`` (the default of timers) runs on one
    host of those that carry the app: where ``here`` is false it has no unit (one left there is stopped).
    """
    problems: list[str] = []
    units: dict[str, Any] = {"processes": [], "timers": [], "files": [], "run": [], "timers_run": []}
    for kind, given, keys in (
        ("app_processes", processes or {}, PROCESS_KEYS),
        ("app_timers", timers or {}, TIMER_KEYS),
    ):
        if not isinstance(given, dict):
            problems.append(f'{kind} must map names to settings, e.g. {{worker: {{command: "rq worker"}}}}')
            continue
        for name, spec in sorted(given.items()):
            where = f"{kind}.{name}"
            if not NAME.match(str(name)):
                problems.append(
                    f"{where}: the name must be 1 to 31 lower case letters, digits, '-' or '_', starting with a letter"
                )
                continue
            if not isinstance(spec, dict):
                problems.append(f"{where} must be a map of settings with at least command")
                continue
            unknown = sorted(set(spec) - keys)
            if unknown:
                problems.append(f"{where}: unknown settings {unknown}; allowed: {sorted(keys)}")
            command = spec.get("command")
            if not isinstance(command, str) or not command.strip():
                problems.append(f"{where}.command must be the shell command to run")
                continue
            placement = spec.get("placement", DEFAULT_PLACEMENT[kind])
            if placement not in PLACEMENTS:
                problems.append(
                    f"{where}.placement={placement!r} must be all (every host of the app) or one (one of them)"
                )
                continue
            if placement == "one" and not here:
                continue
            if kind == "app_processes":
                count = _number(spec.get("count", 1), 1)
                timeout = _number(spec.get("stop_timeout", 30), 1)
                signal = str(spec.get("stop_signal", "TERM")).upper().removeprefix("SIG")
                if count is None:
                    problems.append(f"{where}.count={spec.get('count')!r} must be a whole number, 1 or more")
                if timeout is None:
                    problems.append(
                        f"{where}.stop_timeout={spec.get('stop_timeout')!r} must be a number of seconds, 1 or more"
                    )
                if signal not in SIGNALS:
                    problems.append(
                        f"{where}.stop_signal={spec.get('stop_signal')!r} must be one of {', '.join(SIGNALS)}"
                    )
                if count is None or timeout is None or signal not in SIGNALS:
                    continue
                template = count > 1
                file = f"{app}.{name}@.service" if template else f"{app}.{name}.service"
                run = [f"{app}.{name}@{i}.service" for i in range(1, count + 1)] if template else [file]
                entry = {
                    "name": name,
                    "command": command,
                    "count": count,
                    "stop_signal": signal,
                    "stop_timeout": timeout,
                    "file": file,
                    "units": run,
                }
                units["processes"].append(entry)
                units["files"].append(
                    {"dest": f"{UNIT_DIR}/{file}", "template": "process.service.j2", "vars": {"app_unit": entry}}
                )
                units["run"] += run
            else:
                calendar = spec.get("on_calendar")
                delay = _number(spec.get("randomized_delay", 0), 0)
                if not isinstance(calendar, str) or not calendar.strip():
                    problems.append(f'{where}.on_calendar must be a systemd calendar expression, e.g. "*-*-* 03:00:00"')
                    continue
                if delay is None:
                    problems.append(
                        f"{where}.randomized_delay={spec.get('randomized_delay')!r} must be seconds, 0 or more"
                    )
                    continue
                if name in {p["name"] for p in units["processes"]}:
                    problems.append(f"{where}: app_processes has a process of the same name")
                    continue
                entry = {
                    "name": name,
                    "command": command,
                    "on_calendar": calendar,
                    "randomized_delay": delay,
                    "persistent": bool(spec.get("persistent", True)),
                    "service": f"{app}.{name}.service",
                    "timer": f"{app}.{name}.timer",
                }
                units["timers"].append(entry)
                for suffix in ("service", "timer"):
                    units["files"].append(
                        {
                            "dest": f"{UNIT_DIR}/{app}.{name}.{suffix}",
                            "template": f"timer.{suffix}.j2",
                            "vars": {"app_unit": entry},
                        }
                    )
                units["timers_run"].append(entry["timer"])
    units["problems"] = problems
    units["calendars"] = [t["on_calendar"] for t in units["timers"]]
    return units


def systemd_quote(value: str) -> str:
    """One argument of a unit's Exec= line, double-quoted (systemd still expands $NAME and %-specifiers)."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class FilterModule:
    """flaskops.deploy filters for the app's systemd units."""

    def filters(self) -> dict[str, Any]:
        return {"app_units": app_units, "systemd_quote": systemd_quote}
