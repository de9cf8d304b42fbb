#!/usr/bin/python
"""Run one bounded load test on the target and measure the services it hits."""

from __future__ import annotations

DOCUMENTATION = r"""
module: loadtest_run
author: flaskops.deploy maintainers (@flaskops)
short_description: One bounded load test with wrk or hey, with the CPU and memory of the services under test
description:
  - Runs C(wrk) or C(hey) on the target against a URL for a fixed time (after an optional warm-up
    run whose figures are thrown away) and returns requests per second, latency percentiles and
    failed requests, parsed from the tool's output.
  - Meanwhile it measures the systemd services named in O(services), for instance the app's gunicorn
    unit and nginx, for the CPU their processes used during the run (100 = one core) and the peak of
    the summed resident memory (RSS), sampled four times a second.
  - It only reads the host; it never reports a change. In check mode it runs nothing.
options:
  url:
    description: The URL to load, normally the host's own loopback (C(http://127.0.0.1/health)).
    type: str
    required: true
  tool:
    description: The load generator, from the distribution's package of the same name.
    type: str
    choices: [wrk, hey]
    default: wrk
  duration:
    description: Seconds the measured run lasts; the tool stops by itself.
    type: int
    default: 10
  warmup:
    description: Seconds of load before the measured run (caches, lazy imports, new workers); 0 for none.
    type: int
    default: 2
  connections:
    description: Concurrent connections the tool keeps open.
    type: int
    default: 32
  threads:
    description: Threads of C(wrk) (C(hey) ignores it).
    type: int
    default: 1
  timeout:
    description: Seconds after which one request counts as failed.
    type: int
    default: 10
  services:
    description: systemd services whose processes' CPU time and resident memory are measured.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Load the health endpoint through nginx for 10 seconds
  flaskops.deploy.loadtest_run:
    url: http://127.0.0.1/health
    duration: 10
    connections: 32
    services: [gunicorn-flaskapp, nginx]
  register: loadtest_run_result
"""

RETURN = r"""
requests:
  description: Requests answered (any status) during the measured run.
  type: int
  returned: success
failures:
  description: Requests that failed (socket errors, timeouts, statuses other than 2xx/3xx).
  type: int
  returned: success
error_rate:
  description: RV(failures) / all attempts, 0 to 1.
  type: float
  returned: success
rps:
  description: Requests per second.
  type: float
  returned: success
latency_ms:
  description: Latency percentiles p50, p95, p99 and the maximum, in milliseconds.
  type: dict
  returned: success
cpu_percent:
  description: CPU used by each service's processes during the run, 100 = one core.
  type: dict
  returned: success
rss_mb:
  description: Peak summed resident memory of each service's processes, MiB.
  type: dict
  returned: success
"""

import json
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flaskops.deploy.plugins.module_utils.systemd import show

# wrk prints this line from its done() hook: every figure in one JSON object.
WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FLASKOPS_WRK {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CGROUP_ROOTS = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")


class ParseError(ValueError):
    """The tool's output lacks the figures we need."""


def parse_wrk(output: str) -> dict[str, Any]:
    """Figures from wrk's output with WRK_SCRIPT loaded."""
    match = re.search(r"^FLASKOPS_WRK (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise ParseError(f"no FLASKOPS_WRK line in wrk's output:\n{output[-2000:]}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    failures = socket_errors + raw["status"]
    attempts = raw["requests"] + socket_errors
    return {
        "requests": raw["requests"],
        "failures": failures,
        "error_rate": failures / attempts if attempts else 1.0,
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "latency_ms": {
            "p50": round(raw["p50_us"] / 1000, 2),
            "p95": round(raw["p95_us"] / 1000, 2),
            "p99": round(raw["p99_us"] / 1000, 2),
            "max": round(raw["max_us"] / 1000, 2),
        },
        "errors": {key: raw[key] for key in ("connect", "read", "write", "timeout", "status")},
    }


def parse_hey(output: str) -> dict[str, Any]:
    """Figures from hey's text summary."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps:
        raise ParseError(f"no Requests/sec in hey's output:\n{output[-2000:]}")
    percentiles = {int(p): round(float(s) * 1000, 2) for p, s in re.findall(r"(\d+)%+ in ([\d.]+) secs", output)}
    slowest = re.search(r"Slowest:\s+([\d.]+) secs", output)
    statuses = {int(code): int(count) for code, count in re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)}
    errors_section = output.split("Error distribution:", 1)[1] if "Error distribution:" in output else ""
    socket_errors = sum(int(count) for count in re.findall(r"^\s*\[(\d+)\]\s", errors_section, re.MULTILINE))
    answered = sum(statuses.values())
    bad_status = sum(count for code, count in statuses.items() if not 200 <= code < 400)
    failures = socket_errors + bad_status
    attempts = answered + socket_errors
    return {
        "requests": answered,
        "failures": failures,
        "error_rate": failures / attempts if attempts else 1.0,
        "rps": float(rps.group(1)),
        "latency_ms": {
            "p50": percentiles.get(50, 0.0),
            "p95": percentiles.get(95, 0.0),
            "p99": percentiles.get(99, 0.0),
            "max": round(float(slowest.group(1)) * 1000, 2) if slowest else 0.0,
        },
        "errors": {"socket": socket_errors, "status": bad_status},
    }


def with_port(url: str) -> str:
    """An explicit port: wrk resolves "http" through /etc/services, which minimal images lack."""
    match = re.match(r"^(https?)://([^/:]+)(/.*)?$", url)
    if not match:
        return url
    scheme, host, path = match.groups()
    return f"{scheme}://{host}:{443 if scheme == 'https' else 80}{path or '/'}"


def tool_command(
    tool: str, url: str, seconds: int, connections: int, threads: int, timeout: int, script: str
) -> list[str]:
    """The command line of one bounded run."""
    if tool == "wrk":
        return [
            "wrk",
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout}s",
            "-s",
            script,
            url,
        ]
    return ["hey", "-z", f"{seconds}s", "-c", str(connections), "-t", str(timeout), url]


def cgroup_pids(group: str) -> list[int]:
    """Every process of a systemd unit, from its cgroup (v1's name=systemd hierarchy or v2)."""
    if not group:
        return []
    for root in CGROUP_ROOTS:
        procs = Path(root + group) / "cgroup.procs"
        if procs.is_file():
            try:
                return [int(pid) for pid in procs.read_text().split()]
            except OSError:
                return []
    return []


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime of the processes plus that of their reaped children (recycled workers)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(value) for value in fields[11:15])
    return total


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total


class ServiceSampler(threading.Thread):
    """Peak RSS of each service while the load runs."""

    def __init__(self, groups: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.groups = groups
        self.peak_kib = dict.fromkeys(groups, 0)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for service, group in self.groups.items():
                self.peak_kib[service] = max(self.peak_kib[service], rss_kib(cgroup_pids(group)))
            self.stop.wait(0.25)


def run_tool(module: AnsibleModule, command: list[str]) -> str:
    """One bounded run: wrk's -d and hey's -z stop the tool by themselves."""
    rc, stdout, stderr = module.run_command(command)
    if rc != 0:
        raise RuntimeError(f"{' '.join(command)} exited {rc}: {stderr or stdout}")
    return stdout


def control_groups(module: AnsibleModule, services: list[str]) -> dict[str, str]:
    """Each service's cgroup, where its processes are found; '' for one systemd does not run."""
    states = show(module.run_command, services, ["ControlGroup"])
    return {name: states.get(name, {}).get("ControlGroup", "") for name in services}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "tool": {"type": "str", "choices": ["wrk", "hey"], "default": "wrk"},
            "duration": {"type": "int", "default": 10},
            "warmup": {"type": "int", "default": 2},
            "connections": {"type": "int", "default": 32},
            "threads": {"type": "int", "default": 1},
            "timeout": {"type": "int", "default": 10},
            "services": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["duration"] < 1 or params["warmup"] < 0 or params["connections"] < 1:
        module.fail_json(msg="duration and connections must be at least 1, warmup 0 or more")
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg="check mode: no load generated")

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(WRK_SCRIPT)
        script = handle.name
    try:
        args = (params["tool"], with_port(params["url"]))
        options = (params["connections"], params["threads"], params["timeout"], script)
        groups = control_groups(module, params["services"])
        if params["warmup"]:
            run_tool(module, tool_command(*args, params["warmup"], *options))
        before = {name: cpu_ticks(cgroup_pids(group)) for name, group in groups.items()}
        sampler = ServiceSampler(groups)
        sampler.start()
        started = time.monotonic()
        output = run_tool(module, tool_command(*args, params["duration"], *options))
        elapsed = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
        after = {name: cpu_ticks(cgroup_pids(group)) for name, group in groups.items()}
        figures = parse_wrk(output) if params["tool"] == "wrk" else parse_hey(output)
    except (RuntimeError, ParseError) as exc:
        module.fail_json(msg=str(exc))
    finally:
        os.unlink(script)

    figures["cpu_percent"] = {
        name: round((after[name] - before[name]) / CLOCK_TICKS / elapsed * 100, 1) for name in params["services"]
    }
    figures["rss_mb"] = {name: round(kib / 1024, 1) for name, kib in sampler.peak_kib.items()}
    module.exit_json(changed=False, tool=params["tool"], url=params["url"], duration=params["duration"], **figures)


if __name__ == "__main__":
    main()
