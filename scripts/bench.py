#!/usr/bin/env python3
"""`make bench`: one run on one local test container, printing one table of ratios.

Starts `flaskops-bench` with the Molecule platforms' docker flags, times a first converge, an
idempotent converge and a code-only deploy, runs playbooks/tune.yml over /health, /cpu and /io
(the collection's defaults and the guides' baseline among the candidates), measures the bare
`gunicorn app:app`, the same gunicorn without nginx and nginx's `return 200` with
scripts/bench_probes.yml, then writes benchmarks/latest.md (and benchmarks/tune/) and prints it.
All traffic stays inside the container, on its loopback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "flaskops-bench"
ENDPOINTS = ("/health", "/cpu", "/io")
MATCHING = {"/cpu": "(c) cpu profile", "/io": "(c) io profile"}
DOCKER_FLAGS = [
    "--cap-add",
    "SYS_ADMIN",
    "--cgroupns=host",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
]
# The sweep: the collection's defaults (known-good = mixed profile), the other profiles, the
# guides' baseline, recycling variants, and what the profiles could pick instead.
CANDIDATES: list[dict[str, Any]] = [
    {"name": "(b) guides' baseline 3 gthread x 4", "worker_class": "gthread", "workers": 3, "threads": 4},
    {"name": "(c) cpu profile", "workload": "cpu"},
    {"name": "(c) io profile", "workload": "io"},
    {"name": "(c) max_requests 0", "max_requests": 0, "max_requests_jitter": 0},
    {"name": "(c) max_requests 1000/100", "max_requests": 1000, "max_requests_jitter": 100},
    {"worker_class": "sync", "workers": 3},
    {"worker_class": "gthread", "workers": 5, "threads": 4},
    {"worker_class": "gthread", "workers": 3, "threads": 16},
    {"worker_class": "gthread", "workers": 5, "threads": 8},
    {"worker_class": "gevent", "workers": 3},
    {"worker_class": "gevent", "workers": 5},
]


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=3600)
    if check and result.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])}... failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return result


def playbook(inventory: Path, path: Path, *extra: str, check: bool = True) -> tuple[float, str]:
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_INJECT_FACT_VARS": "false",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    started = time.monotonic()
    result = run(["ansible-playbook", "-i", str(inventory), str(path), *extra], env=env, check=check)
    return time.monotonic() - started, result.stdout


def changed(output: str) -> int:
    match = re.search(r"changed=(\d+)", output.split("PLAY RECAP")[-1])
    return int(match.group(1)) if match else -1


def start_container(image: str) -> None:
    run(["docker", "rm", "-f", NAME], check=False)
    run(["docker", "run", "-d", "--name", NAME, "--hostname", NAME, *DOCKER_FLAGS, image, "/lib/systemd/systemd"])
    for _ in range(30):
        state = run(["docker", "exec", NAME, "systemctl", "is-system-running"], check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    sys.exit(f"bench: systemd in {NAME} did not boot")


def host_facts() -> str:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    mib = int(mem.split()[1]) // 1024
    return f"{os.cpu_count()} vCPUs, {mib} MiB, kernel {platform.release()}"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def noise_warning(load: str) -> list[str]:
    """A loud line when other work competed for the CPUs: the figures are then not comparable."""
    one_minute = float(load.split()[0])
    cpus = os.cpu_count() or 1
    if one_minute <= cpus / 2:
        return []
    return [
        f"- **NOISY RUN**: the 1-minute load average ({one_minute:.1f}) was above half the vCPUs ({cpus}) at the"
        " start: other work shared the CPUs, so figures vary run to run; rerun `make bench` at a quieter moment"
    ]


def cell(row: dict[str, Any] | None, best: dict[str, Any] | None = None) -> str:
    if not row:
        return "-"
    text = f"{row['rps']:.0f} req/s, p99 {row['latency_ms']['p99']:.0f} ms"
    if row["failures"]:
        text += f", **{row['failures']} failed**"
    if best and best.get("rps"):
        text += f" ({row['rps'] / best['rps']:.2f} of d)"
    return text


def verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} {text}"


def build_table(sweep: list[dict[str, Any]], probes: dict[str, Any], timings: dict[str, Any]) -> list[str]:
    def of(candidate: str, endpoint: str) -> dict[str, Any] | None:
        return next((r for r in sweep if r["candidate"] == candidate and r["endpoint"] == endpoint), None)

    def probe(kind: str, endpoint: str) -> dict[str, Any] | None:
        return next((r for r in probes[kind] if r["item"] == endpoint), None)

    best = {}
    for endpoint in ENDPOINTS:
        clean = [r for r in sweep if r["endpoint"] == endpoint and r["failures"] == 0]
        best[endpoint] = max(clean, key=lambda r: r["rps"]) if clean else None

    def line(label: str, cells: list[str]) -> str:
        return f"| {label} | " + " | ".join(cells) + " |"

    table = ["| row | /health | /cpu (~5 ms of Python) | /io (50 ms wait) |", "|---|---|---|---|"]
    table.append(
        line("(a) `gunicorn app:app`: 1 sync worker, TCP", [cell(probe("bare", e), best[e]) for e in ENDPOINTS])
    )
    table.append(
        line(
            "(b) guides' baseline: 3 gthread x 4, nginx",
            [cell(of("(b) guides' baseline 3 gthread x 4", e), best[e]) for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "(c) collection defaults, default profile (mixed), nginx",
            [cell(of("known-good", e), best[e]) for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "(c) collection defaults, matching profile, nginx",
            [
                "-" if e not in MATCHING else f"{MATCHING[e][4:]}: {cell(of(MATCHING[e], e), best[e])}"
                for e in ENDPOINTS
            ],
        )
    )
    table.append(
        line(
            "(d) best candidate of the sweep",
            [f"{best[e]['candidate']}: {cell(best[e])}" if best[e] else "-" for e in ENDPOINTS],
        )
    )
    ceiling = probes["ceiling"]
    table.append(line("(e) nginx `return 200`", [cell(ceiling), "-", "-"]))
    table.append(
        line(
            "(c) default profile through nginx, measured again beside the next row",
            [cell(probe("nginx", e)) for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "the same gunicorn.conf.py reached directly on TCP (no nginx)",
            [cell(probe("direct", e)) for e in ENDPOINTS],
        )
    )

    for name, label in (
        ("(c) max_requests 0", "(c) default profile, max_requests 0 (no recycling)"),
        ("(c) max_requests 1000/100", "(c) default profile, max_requests 1000/100 (the guides' recycling)"),
    ):
        table.append(line(label, [cell(of(name, e), best[e]) for e in ENDPOINTS]))

    # Targets, reported either way.
    def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None, key: str = "rps") -> float | None:
        if not a or not b:
            return None
        va = a["rps"] if key == "rps" else a["latency_ms"]["p99"]
        vb = b["rps"] if key == "rps" else b["latency_ms"]["p99"]
        return va / vb if vb else None

    cells = []
    for e in ENDPOINTS:
        r = ratio(of(MATCHING[e], e), best[e]) if e in MATCHING else None
        cells.append("-" if r is None else verdict(r >= 0.9, f"{r:.2f}"))
    table.append(line("target: (c) matching profile >= 0.9 x (d)", cells))
    cells = []
    for e in ENDPOINTS:
        r = ratio(of("known-good", e), best[e])
        cells.append("-" if r is None else verdict(r >= 0.8, f"{r:.2f}"))
    table.append(line("target: (c) default profile >= 0.8 x (d)", cells))
    r = ratio(of("known-good", "/io"), probe("bare", "/io"))
    table.append(line("target: (c) >= 5 x (a) on I/O", ["-", "-", "-" if r is None else verdict(r >= 5, f"{r:.1f} x")]))
    cells = []
    for e in ENDPOINTS:
        p_default = ratio(of("known-good", e), best[e], "p99")
        p_match = ratio(of(MATCHING[e], e), best[e], "p99") if e in MATCHING else None
        text = "-" if p_default is None else verdict(p_default <= 1.5, f"default {p_default:.2f}")
        if p_match is not None:
            text += f"; {verdict(p_match <= 1.5, f'matching {p_match:.2f}')}"
        cells.append(text)
    table.append(line("target: p99 (c) <= 1.5 x p99 (d)", cells))
    cells = []
    for e in ENDPOINTS:
        r = ratio(probe("nginx", e), probe("direct", e))
        cells.append("-" if r is None else f"{r:.2f} of direct req/s")
    table.append(line("nginx overhead (reported): through nginx / direct", cells))
    cells = []
    for e in ENDPOINTS:
        on, off = of("known-good", e), of("(c) max_requests 0", e)
        if on and off:
            cells.append(
                f"req/s {on['rps'] / off['rps']:.2f} x, p99 {on['latency_ms']['p99']:.0f} vs "
                f"{off['latency_ms']['p99']:.0f} ms"
            )
        else:
            cells.append("-")
    table.append(line("cost of the default recycling (vs max_requests 0)", cells))
    table.append(
        line(
            "provisioning: first converge / idempotent converge / code-only deploy",
            [
                f"{timings['first']:.0f} s",
                f"{timings['again']:.0f} s (changed={timings['again_changed']})",
                f"{timings['deploy']:.0f} s",
            ],
        )
    )
    stack = [r["stack_rss"] for r in sweep if r["candidate"] == "known-good"]
    peak_all = max(r["stack_rss"] for r in sweep)
    table.append(
        line(
            "peak RSS of the stack (gunicorn + nginx) under load",
            [f"(c) defaults: {max(stack):.0f} MiB" if stack else "-", f"any candidate: {peak_all:.0f} MiB", "-"],
        )
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per candidate and endpoint")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="leave the container running")
    parser.add_argument("--out", default=str(ROOT / "benchmarks"))
    args = parser.parse_args()
    image = os.environ.get("FLASKOPS_IMAGE_BOOKWORM", "flaskops/debian:bookworm")
    out = Path(args.out)
    started = time.monotonic()
    load_start = loadavg()
    log(f"load average at start: {load_start} on {host_facts()}")

    work = Path(tempfile.mkdtemp(prefix="flaskops-bench-"))
    inventory = work / "hosts.yml"
    inventory.write_text(
        "app_servers:\n  hosts:\n    flaskops-bench:\n      ansible_connection: community.docker.docker\n"
        "      ansible_python_interpreter: /usr/bin/python3\n  vars:\n"
        "    python_trusted_ca_file: /etc/ssl/certs/ca-certificates.crt\n"
    )
    try:
        log(f"starting {NAME} from {image}")
        start_container(image)
        playbook(inventory, ROOT / "molecule" / "resources" / "prepare.yml")
        log("first converge")
        first, _ = playbook(inventory, ROOT / "site.yml")
        log("idempotent converge")
        again, output = playbook(inventory, ROOT / "site.yml")
        log("code-only deploy")
        source = work / "app"
        shutil.copytree(ROOT / "roles" / "app" / "files" / "example", source)
        with (source / "app.py").open("a") as handle:
            handle.write("\n# bench: a code change\n")
        deploy, _ = playbook(
            inventory, ROOT / "playbooks" / "deploy.yml", "-e", "app_source=dir", "-e", f"app_source_dir={source}"
        )
        timings = {"first": first, "again": again, "again_changed": changed(output), "deploy": deploy}

        log(f"tuning sweep: {len(CANDIDATES) + 1} configs x {len(ENDPOINTS)} endpoints")
        tune_vars = {
            "loadtest_endpoints": list(ENDPOINTS),
            "loadtest_duration": args.duration,
            "loadtest_warmup": args.warmup,
            "loadtest_connections": 32,
            "loadtest_candidates": CANDIDATES,
            "loadtest_report_dir": str(out / "tune"),
        }
        playbook(inventory, ROOT / "playbooks" / "tune.yml", "-e", json.dumps(tune_vars))
        sweep = json.loads((out / "tune" / NAME / "results.json").read_text())["rows"]

        log("reference points: bare default, direct gunicorn, nginx return 200")
        probes_file = work / "probes.json"
        probe_vars = {"bench_out": str(probes_file), "bench_duration": args.duration, "bench_warmup": args.warmup}
        playbook(inventory, ROOT / "scripts" / "bench_probes.yml", "-e", json.dumps(probe_vars))
        probes = json.loads(probes_file.read_text())
    finally:
        if not args.keep:
            run(["docker", "rm", "-f", NAME], check=False)
        shutil.rmtree(work, ignore_errors=True)

    ansible_core = run(["ansible", "--version"]).stdout.splitlines()[0]
    minutes = (time.monotonic() - started) / 60
    lines = [
        "# make bench",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}",
        f"- host: {host_facts()}; the load generator (wrk, 1 thread, 32 connections) runs in the same container",
        f"- load average (1/5/15 min) at start: {load_start}; at the end: {loadavg()}",
        *noise_warning(load_start),
        f"- versions: {'; '.join(probes['versions'])}; {ansible_core}",
        f"- each figure: {args.warmup} s warm-up, then {args.duration} s measured; whole run {minutes:.1f} min",
        "- (d) is, per endpoint, the candidate with the most req/s and no failed request; its name says what it ran."
        " The whole sweep (every candidate, CPU and RSS, chart) is in tune/flaskops-bench/report.md.",
        "",
        *build_table(sweep, probes, timings),
        "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
