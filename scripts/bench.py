#!/usr/bin/env python3
"""`make bench`: the project's benchmark on local test containers, printing one table.

Provisioning: on fresh containers (the Molecule platforms' docker flags), a first converge, an idempotent
converge, code-only deploys of a 20-file and a 1,000-file app from a directory, and a rollback, each timed and
counted (PLAY RECAP ok/changed/skipped), once through the docker connection and once over SSH as an
unprivileged user who may sudo (an sshd in the container, published on a loopback port); beside each, on its own
fresh container, the floor: a minimal hand-written playbook for the same stack (benchmarks/floor/floor.yml).

Serving: playbooks/tune.yml over /health, /cpu and /io (the collection's defaults and the guides' baseline among
the candidates) and the reference points of scripts/bench_probes.yml (the bare `gunicorn app:app`, the same
gunicorn without nginx, nginx's `return 200`), each in ROUNDS interleaved rounds (every candidate once, then
again in reverse order, ...): a figure is the median of its rounds with their spread, and a target is called
met or missed only where the spread allows it.

Several apps: on two more fresh containers (docker connection), one with one app and one with five
(`flaskops_apps`), a first converge, an idempotent converge and a code deploy of one app, side by side; the
other four apps' gunicorn PIDs are compared before and after that deploy.

Writes benchmarks/latest.md (and benchmarks/tune/) and prints it. All traffic stays inside the containers, on
their loopback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "flaskops-bench"
ENDPOINTS = ("/health", "/cpu", "/io")
MATCHING = {"/cpu": "(c) cpu profile", "/io": "(c) io profile"}
SSH_PORT = 22790
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
PROVISIONING = (
    ("first", "first converge (fresh host)"),
    ("again", "idempotent converge"),
    ("deploy20", "code-only deploy, 20 files"),
    ("deploy1000", "code-only deploy, 1,000 files"),
    ("rollback", "rollback"),
)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=3600)
    if check and result.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])}... failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return result


def ansible_env() -> dict[str, str]:
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_INJECT_FACT_VARS": "false",
        "ANSIBLE_FORCE_COLOR": "0",
        # As a user would run it: pipelining on (ControlPersist is Ansible's own default for SSH).
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
    }


def playbook(inventory: Path, path: Path, *extra: str) -> dict[str, Any]:
    """Runs a playbook; returns its wall seconds and its PLAY RECAP counts."""
    started = time.monotonic()
    result = run(["ansible-playbook", "-i", str(inventory), str(path), *extra], env=ansible_env())
    seconds = time.monotonic() - started
    recap = result.stdout.split("PLAY RECAP")[-1]
    counts = {key: sum(int(n) for n in re.findall(rf"{key}=(\d+)", recap)) for key in ("ok", "changed", "skipped")}
    return {"seconds": seconds, **counts, "stdout": result.stdout}


def start_container(image: str, name: str, ssh_port: int | None = None) -> None:
    run(["docker", "rm", "-f", name], check=False)
    ports = ["-p", f"127.0.0.1:{ssh_port}:22"] if ssh_port else []
    run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--hostname",
            name,
            *DOCKER_FLAGS,
            *ports,
            image,
            "/lib/systemd/systemd",
        ]
    )
    for _ in range(30):
        state = run(["docker", "exec", name, "systemctl", "is-system-running"], check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    sys.exit(f"bench: systemd in {name} did not boot")


def docker_inventory(work: Path, name: str) -> Path:
    path = work / f"{name}.yml"
    path.write_text(
        f"app_servers:\n  hosts:\n    {name}:\n      ansible_connection: community.docker.docker\n"
        "      ansible_python_interpreter: /usr/bin/python3\n  vars:\n"
        "    python_trusted_ca_file: /etc/ssl/certs/ca-certificates.crt\n"
    )
    return path


def ssh_inventory(work: Path, name: str, port: int, key: Path) -> Path:
    path = work / f"{name}-ssh.yml"
    path.write_text(
        f"app_servers:\n  hosts:\n    {name}:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
        f"      ansible_user: deploy\n      ansible_ssh_private_key_file: {key}\n"
        "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n"
        "      ansible_python_interpreter: /usr/bin/python3\n  vars:\n"
        "    python_trusted_ca_file: /etc/ssl/certs/ca-certificates.crt\n"
    )
    return path


def let_in_over_ssh(name: str, key: Path) -> None:
    """An sshd and a user deploy who may sudo without a password, as on cloud images."""
    public = key.with_suffix(".pub").read_text().strip()
    script = (
        "set -e; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null;"
        " id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy;"
        " echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy; chmod 0440 /etc/sudoers.d/deploy;"
        f" install -d -m 0700 -o deploy -g deploy ~deploy/.ssh; echo '{public}' > ~deploy/.ssh/authorized_keys;"
        " chown deploy:deploy ~deploy/.ssh/authorized_keys; chmod 0600 ~deploy/.ssh/authorized_keys;"
        " systemctl enable --now ssh"
    )
    run(["docker", "exec", name, "bash", "-c", script])


def app_sources(work: Path) -> dict[str, Path]:
    """The example app with 20 files in all, and with 1,000."""
    sources = {}
    for files in (20, 1000):
        source = work / f"app{files}"
        shutil.copytree(ROOT / "roles" / "app" / "files" / "example", source)
        extra = files - sum(1 for p in source.rglob("*") if p.is_file())
        (source / "pkg").mkdir()
        for number in range(extra):
            (source / "pkg" / f"module_{number}.py").write_text(f"VALUE = {number}\n")
        sources[f"deploy{files}"] = source
    return sources


def change(source: Path, note: str) -> None:
    with (source / "app.py").open("a") as handle:
        handle.write(f"\n# bench: {note}\n")


def archive(source: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return dest


def provision(image: str, work: Path, connection: str, key: Path) -> dict[str, dict[str, Any]]:
    """The collection's rows and the floor's, through one connection, each on a fresh container."""
    rows: dict[str, dict[str, Any]] = {}
    for kind in ("collection", "floor"):
        name = f"{NAME}-{kind}-{connection}"
        port = SSH_PORT + (1 if kind == "floor" else 0) if connection == "ssh" else None
        start_container(image, name, port)
        if port:
            let_in_over_ssh(name, key)
            inventory = ssh_inventory(work, name, port, key)
        else:
            inventory = docker_inventory(work, name)
        playbook(docker_inventory(work, name), ROOT / "molecule" / "resources" / "prepare.yml")
        sources = app_sources(work / f"{kind}-{connection}")
        log(f"{connection}, {kind}: first converge, idempotent converge, two code deploys, a rollback")
        if kind == "collection":
            rows["first"] = playbook(inventory, ROOT / "site.yml")
            rows["again"] = playbook(inventory, ROOT / "site.yml")
            for label, source in sources.items():
                change(source, label)
                rows[label] = playbook(
                    inventory,
                    ROOT / "playbooks" / "deploy.yml",
                    "-e",
                    "app_source=dir",
                    "-e",
                    f"app_source_dir={source}",
                )
            rows["rollback"] = playbook(inventory, ROOT / "playbooks" / "rollback.yml")
        else:
            floor = ROOT / "benchmarks" / "floor" / "floor.yml"
            archives = [archive(sources["deploy20"], work / f"floor-{connection}-0.tar.gz")]
            ca = ["-e", "floor_ca_file=/etc/ssl/certs/ca-certificates.crt"]
            rows["floor first"] = playbook(inventory, floor, *ca, "-e", f"floor_archive={archives[0]}")
            rows["floor again"] = playbook(inventory, floor, *ca, "-e", f"floor_archive={archives[0]}")
            for label, source in sources.items():
                change(source, label)
                archives.append(archive(source, work / f"floor-{connection}-{label}.tar.gz"))
                rows[f"floor {label}"] = playbook(inventory, floor, *ca, "-e", f"floor_archive={archives[-1]}")
            # The floor's way back is to deploy the archive before again.
            rows["floor rollback"] = playbook(inventory, floor, *ca, "-e", f"floor_archive={archives[-2]}")
            run(["docker", "rm", "-f", name], check=False)
    for row in rows.values():
        row.pop("stdout", None)
    return rows


APPS = 5
APPS_ROWS = (
    ("first", "first converge (fresh host)"),
    ("again", "idempotent converge"),
    ("deploy", "code deploy of one app"),
)


def gunicorn_pids(name: str) -> dict[str, str]:
    """Each gunicorn service's main PID in a container."""
    script = (
        "for u in /etc/systemd/system/gunicorn-*.service; do n=$(basename $u .service);"
        ' echo "$n $(systemctl show -P MainPID $n)"; done'
    )
    lines = run(["docker", "exec", name, "sh", "-c", script]).stdout.split("\n")
    return dict(line.split() for line in lines if line.strip())


def apps_bench(image: str, work: Path, rounds: int) -> dict[str, Any]:
    """One app on one host against five, each on a fresh container: converge, idempotent runs, a code deploy.

    Both containers are converged first; the idempotent runs then alternate between them, ROUNDS times (the
    median and the spread are kept), so that the machine's noise falls on both sides of the ratio alike.
    """
    rows: dict[str, Any] = {}
    hosts: dict[int, dict[str, Any]] = {}
    for count in (1, APPS):
        name = f"{NAME}-apps{count}"
        start_container(image, name)
        inventory = docker_inventory(work, name)
        playbook(inventory, ROOT / "molecule" / "resources" / "prepare.yml")
        sources = []
        for number in range(1, count + 1):
            source = work / f"apps{count}" / f"a{number}"
            shutil.copytree(ROOT / "roles" / "app" / "files" / "example", source)
            sources.append(source)
        if count == 1:
            settings = ["-e", "app_source=dir", "-e", f"app_source_dir={sources[0]}"]
        else:
            apps = [
                {
                    "app_name": f"a{n}",
                    "app_source": "dir",
                    "app_source_dir": str(source),
                    "nginx_server_names": [f"a{n}.test"],
                }
                for n, source in enumerate(sources, 1)
            ]
            (work / "apps.json").write_text(json.dumps({"flaskops_apps": apps}))
            settings = ["-e", f"@{work / 'apps.json'}"]
        hosts[count] = {"name": name, "inventory": inventory, "sources": sources, "settings": settings}
        log(f"{count} app(s) on one host: first converge")
        rows[f"{count} first"] = playbook(inventory, ROOT / "site.yml", *settings)
    runs: dict[int, list[dict[str, Any]]] = {count: [] for count in hosts}
    for number in range(rounds):
        log(f"idempotent converges, round {number + 1} of {rounds}")
        for count in (1, APPS) if number % 2 == 0 else (APPS, 1):
            runs[count].append(playbook(hosts[count]["inventory"], ROOT / "site.yml", *hosts[count]["settings"]))
    for count, results in runs.items():
        median, low, high = spread([result["seconds"] for result in results])
        rows[f"{count} again"] = {
            **results[0],
            "seconds": median,
            "low": low,
            "high": high,
            "rounds": [result["seconds"] for result in results],
        }
    for count, host in hosts.items():
        log(f"{count} app(s) on one host: a code deploy of one app")
        sources = host["sources"]
        target = sources[len(sources) // 2]
        change(target, "apps bench")
        before = gunicorn_pids(host["name"])
        one = ["-e", f"app=a{len(sources) // 2 + 1}"] if count > 1 else []
        deploy = ROOT / "playbooks" / "deploy.yml"
        rows[f"{count} deploy"] = playbook(host["inventory"], deploy, *host["settings"], *one)
        after = gunicorn_pids(host["name"])
        if count > 1:
            others = [unit for unit in before if unit != f"gunicorn-a{len(sources) // 2 + 1}"]
            rows["restarted"] = [unit for unit in others if before[unit] != after.get(unit)]
            rows["others"] = others
        run(["docker", "rm", "-f", host["name"]], check=False)
    for row in rows.values():
        if isinstance(row, dict):
            row.pop("stdout", None)
    return rows


def round_verdict(ratios: list[float], target: float) -> str:
    """PASS or FAIL where every round agrees, WITHIN NOISE where the rounds straddle the target."""
    if all(ratio <= target for ratio in ratios):
        return "PASS"
    if all(ratio > target for ratio in ratios):
        return "FAIL"
    return "WITHIN NOISE"


def apps_table(rows: dict[str, Any]) -> list[str]:
    def tasks(row: dict[str, Any]) -> int:
        return int(row["ok"]) + int(row["skipped"])

    def seconds(row: dict[str, Any]) -> str:
        spread_ = f" ({row['low']:.1f}-{row['high']:.1f})" if "low" in row else ""
        return f"{row['seconds']:.1f} s{spread_}"

    table = [
        f"| run | 1 app: seconds | 1 app: tasks | {APPS} apps: seconds (x 1 app) | {APPS} apps: tasks |"
        " tasks per extra app |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in APPS_ROWS:
        one, many = rows[f"1 {key}"], rows[f"{APPS} {key}"]
        if key == "deploy":
            per_app = "(one app deployed)"
        else:
            per_app = f"{(tasks(many) - tasks(one)) / (APPS - 1):.1f}"
        table.append(
            f"| {label} | {seconds(one)} | {tasks(one)} | {seconds(many)}"
            f" ({many['seconds'] / one['seconds']:.2f} x) | {tasks(many)} | {per_app} |"
        )
    # Round by round (the runs alternate), so that the verdict holds only where every round agrees.
    ratios = [many / one for one, many in zip(rows["1 again"]["rounds"], rows[f"{APPS} again"]["rounds"], strict=True)]
    again = rows[f"{APPS} again"]["seconds"] / rows["1 again"]["seconds"]
    per_app = (tasks(rows[f"{APPS} again"]) - tasks(rows["1 again"])) / (APPS - 1)
    deploy = rows[f"{APPS} deploy"]["seconds"] / rows["1 deploy"]["seconds"]
    table += [
        "",
        f"- idempotent, {APPS} apps against 1: {again:.2f} x, rounds {' '.join(f'{r:.2f}' for r in ratios)}"
        f" (target at most 2 x: {round_verdict(ratios, 2)}); {per_app:.1f} task results per extra app"
        f" (target at most 25: {'PASS' if per_app <= 25 else 'FAIL'})",
        f"- a code deploy of one app among {APPS} against the one-app deploy: {deploy:.2f} x (target at most 1.1 x:"
        f" {'PASS' if deploy <= 1.1 else 'FAIL'}); the other apps' gunicorn restarted:"
        f" {len(rows['restarted'])} of {len(rows['others'])} {rows['restarted'] or ''}",
    ]
    return table


def spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


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


class Figures:
    """Every measured figure of the serving half, by (row, endpoint), one value per round."""

    def __init__(self) -> None:
        self.rps: dict[tuple[str, str], list[float]] = {}
        self.p99: dict[tuple[str, str], list[float]] = {}
        self.failures: dict[tuple[str, str], int] = {}
        self.rss: dict[str, list[float]] = {}

    def add(self, row: str, endpoint: str, rps: float, p99: float, failures: int) -> None:
        self.rps.setdefault((row, endpoint), []).append(rps)
        self.p99.setdefault((row, endpoint), []).append(p99)
        self.failures[(row, endpoint)] = self.failures.get((row, endpoint), 0) + failures

    def has(self, row: str, endpoint: str) -> bool:
        return (row, endpoint) in self.rps

    def cell(self, row: str, endpoint: str, best: tuple[str, str] | None = None) -> str:
        if not self.has(row, endpoint):
            return "-"
        rps, low, high = spread(self.rps[(row, endpoint)])
        text = f"{rps:.0f} req/s ({low:.0f}-{high:.0f}), p99 {statistics.median(self.p99[(row, endpoint)]):.0f} ms"
        if self.failures[(row, endpoint)]:
            text += f", **{self.failures[(row, endpoint)]} failed**"
        if best and self.has(*best):
            text += f" ({rps / statistics.median(self.rps[best]):.2f} of d)"
        return text

    def ratio(self, a: tuple[str, str], b: tuple[str, str], key: str = "rps") -> tuple[float, float, float] | None:
        """The ratio of medians, and the lowest and highest the rounds allow."""
        source = self.rps if key == "rps" else self.p99
        if a not in source or b not in source:
            return None
        ma, la, ha = spread(source[a])
        mb, lb, hb = spread(source[b])
        return ma / mb, la / hb, ha / lb


def verdict(value: tuple[float, float, float] | None, threshold: float, at_least: bool, fmt: str = "{:.2f}") -> str:
    """PASS or FAIL only where every round agrees; otherwise the spread straddles the target."""
    if value is None:
        return "-"
    median, low, high = value
    shown = f"{fmt.format(median)} ({fmt.format(low)}-{fmt.format(high)})"
    if at_least:
        word = "PASS" if low >= threshold else "FAIL" if high < threshold else "WITHIN NOISE"
    else:
        word = "PASS" if high <= threshold else "FAIL" if low > threshold else "WITHIN NOISE"
    return f"{word} {shown}"


def best_of(figures: Figures, candidates: Iterable[str], endpoint: str) -> tuple[str, str] | None:
    clean = [(c, endpoint) for c in candidates if figures.has(c, endpoint) and not figures.failures[(c, endpoint)]]
    return max(clean, key=lambda key: statistics.median(figures.rps[key])) if clean else None


def serving_table(figures: Figures, candidates: list[str]) -> list[str]:
    best = {e: best_of(figures, candidates, e) for e in ENDPOINTS}

    def line(label: str, cells: list[str]) -> str:
        return f"| {label} | " + " | ".join(cells) + " |"

    table = ["| row | /health | /cpu (~5 ms of Python) | /io (50 ms wait) |", "|---|---|---|---|"]
    table.append(
        line("(a) `gunicorn app:app`: 1 sync worker, TCP", [figures.cell("bare", e, best[e]) for e in ENDPOINTS])
    )
    table.append(
        line(
            "(b) guides' baseline: 3 gthread x 4, nginx",
            [figures.cell("(b) guides' baseline 3 gthread x 4", e, best[e]) for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "(c) collection defaults, default profile (mixed), nginx",
            [figures.cell("known-good", e, best[e]) for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "(c) collection defaults, matching profile, nginx",
            [
                "-" if e not in MATCHING else f"{MATCHING[e][4:]}: {figures.cell(MATCHING[e], e, best[e])}"
                for e in ENDPOINTS
            ],
        )
    )
    table.append(
        line(
            "(d) best candidate of the sweep (by median)",
            [f"{best[e][0]}: {figures.cell(*best[e])}" if best[e] else "-" for e in ENDPOINTS],
        )
    )
    table.append(line("(e) nginx `return 200`", [figures.cell("ceiling", "/"), "-", "-"]))
    table.append(
        line("(c) default profile through nginx, beside the next row", [figures.cell("nginx", e) for e in ENDPOINTS])
    )
    table.append(
        line(
            "the same gunicorn.conf.py reached directly on TCP (no nginx)",
            [figures.cell("direct", e) for e in ENDPOINTS],
        )
    )
    for name, label in (
        ("(c) max_requests 0", "(c) default profile, max_requests 0 (no recycling)"),
        ("(c) max_requests 1000/100", "(c) default profile, max_requests 1000/100 (the guides' recycling)"),
    ):
        table.append(line(label, [figures.cell(name, e, best[e]) for e in ENDPOINTS]))

    def rel(a: str, e: str, b: tuple[str, str] | None, key: str = "rps") -> tuple[float, float, float] | None:
        return figures.ratio((a, e), b, key) if b else None

    table.append(
        line(
            "target: (c) matching profile >= 0.9 x (d)",
            [verdict(rel(MATCHING[e], e, best[e]), 0.9, True) if e in MATCHING else "-" for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "target: (c) default profile >= 0.8 x (d)",
            [verdict(rel("known-good", e, best[e]), 0.8, True) for e in ENDPOINTS],
        )
    )
    table.append(
        line(
            "target: (c) >= 5 x (a) on I/O",
            ["-", "-", verdict(figures.ratio(("known-good", "/io"), ("bare", "/io")), 5, True, "{:.1f} x")],
        )
    )
    cells = []
    for e in ENDPOINTS:
        text = verdict(rel("known-good", e, best[e], "p99"), 1.5, False)
        if e in MATCHING:
            text = f"default {text}; matching {verdict(rel(MATCHING[e], e, best[e], 'p99'), 1.5, False)}"
        cells.append(text)
    table.append(line("target: p99 (c) <= 1.5 x p99 (d)", cells))
    cells = []
    for e in ENDPOINTS:
        r = figures.ratio(("nginx", e), ("direct", e))
        cells.append("-" if r is None else f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f}) of direct req/s")
    table.append(line("nginx overhead (reported): through nginx / direct", cells))
    cells = []
    for e in ENDPOINTS:
        r = figures.ratio(("known-good", e), ("(c) max_requests 0", e))
        p = figures.ratio(("known-good", e), ("(c) max_requests 0", e), "p99")
        cells.append("-" if r is None or p is None else f"req/s {r[0]:.2f} x, p99 {p[0]:.2f} x")
    table.append(line("cost of the default recycling (vs max_requests 0)", cells))
    known = figures.rss.get("known-good", [])
    peak = max((max(v) for v in figures.rss.values()), default=0.0)
    table.append(
        line(
            "peak RSS of the stack (gunicorn + nginx) under load",
            [f"(c) defaults: {max(known):.0f} MiB" if known else "-", f"any candidate: {peak:.0f} MiB", "-"],
        )
    )
    return table


def provisioning_table(rows: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    table = [
        "| run | docker: seconds (x floor) | docker: tasks ok/changed/skipped | floor (docker) |"
        " ssh: seconds (x floor) | ssh: tasks ok/changed/skipped | floor (ssh) |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in PROVISIONING:
        cells = []
        for connection in ("docker", "ssh"):
            ours, floor = rows[connection][key], rows[connection][f"floor {key}"]
            cells += [
                f"{ours['seconds']:.1f} s ({ours['seconds'] / floor['seconds']:.2f} x)",
                f"{ours['ok'] + ours['skipped']} ({ours['ok']}/{ours['changed']}/{ours['skipped']})",
                f"{floor['seconds']:.1f} s, {floor['ok'] + floor['skipped']} tasks",
            ]
        table.append(f"| {label} | " + " | ".join(cells) + " |")
    return table


def serve(image: str, work: Path, args: argparse.Namespace, out: Path) -> tuple[Figures, list[str], list[str]]:
    """The serving half on a fresh container converged with the collection's defaults."""
    start_container(image, NAME)
    inventory = docker_inventory(work, NAME)
    playbook(inventory, ROOT / "molecule" / "resources" / "prepare.yml")
    playbook(inventory, ROOT / "site.yml")
    figures = Figures()
    names = ["known-good"] + [c.get("name") or "" for c in CANDIDATES]
    points = [
        {"probe": probe, "endpoint": e, "url": base + e, "services": services}
        for probe, base, services in (
            ("bare", "http://127.0.0.1:8000", ["bench-bare"]),
            ("nginx", "http://127.0.0.1", ["gunicorn-flaskapp", "nginx"]),
            ("direct", "http://127.0.0.1:8001", ["bench-direct"]),
        )
        for e in ENDPOINTS
    ] + [{"probe": "ceiling", "endpoint": "/", "url": "http://127.0.0.1:8081/", "services": ["nginx"]}]
    versions: list[str] = []
    for round_number in range(args.rounds):
        forward = round_number % 2 == 0
        log(f"serving, round {round_number + 1} of {args.rounds} ({'forward' if forward else 'reverse'} order)")
        tune_vars = {
            "loadtest_endpoints": list(ENDPOINTS),
            "loadtest_duration": args.duration,
            "loadtest_warmup": args.warmup,
            "loadtest_connections": 32,
            "loadtest_candidates": CANDIDATES if forward else CANDIDATES[::-1],
            "loadtest_report_dir": str(out / "tune"),
        }
        playbook(inventory, ROOT / "playbooks" / "tune.yml", "-e", json.dumps(tune_vars))
        for row in json.loads((out / "tune" / NAME / "results.json").read_text())["rows"]:
            figures.add(row["candidate"], row["endpoint"], row["rps"], row["latency_ms"]["p99"], row["failures"])
            figures.rss.setdefault(row["candidate"], []).append(row["stack_rss"])
        probes_file = work / f"probes-{round_number}.json"
        probe_vars = {
            "bench_out": str(probes_file),
            "bench_duration": args.duration,
            "bench_warmup": args.warmup,
            "bench_points": points if forward else points[::-1],
        }
        playbook(inventory, ROOT / "scripts" / "bench_probes.yml", "-e", json.dumps(probe_vars))
        probes = json.loads(probes_file.read_text())
        versions = probes["versions"]
        for result in probes["probes"]:
            item = result["item"]
            figures.add(item["probe"], item["endpoint"], result["rps"], result["latency_ms"]["p99"], result["failures"])
    named = [n for n in names if n]
    unnamed = sorted({key[0] for key in figures.rps} - set(named) - {"bare", "nginx", "direct", "ceiling"})
    return figures, named + unnamed, versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per candidate and endpoint")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the serving half (3 or more)")
    parser.add_argument("--keep", action="store_true", help="leave the serving container running")
    parser.add_argument("--out", default=str(ROOT / "benchmarks"))
    parser.add_argument(
        "--parts", default="provisioning,apps,serving", help="which parts to run: provisioning, apps, serving"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    image = os.environ.get("FLASKOPS_IMAGE_BOOKWORM", "flaskops/debian:bookworm")
    out = Path(args.out)
    started = time.monotonic()
    load_start = loadavg()
    log(f"load average at start: {load_start} on {host_facts()}")

    work = Path(tempfile.mkdtemp(prefix="flaskops-bench-"))
    key = work / "id_ed25519"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    rows: dict[str, Any] = {}
    apps: dict[str, Any] = {}
    figures, candidates, versions = Figures(), [], []
    try:
        if "provisioning" in parts:
            rows = {connection: provision(image, work, connection, key) for connection in ("docker", "ssh")}
        if "apps" in parts:
            apps = apps_bench(image, work, args.rounds)
        if "serving" in parts:
            figures, candidates, versions = serve(image, work, args, out)
    finally:
        for name in [f"{NAME}-{k}-{c}" for k in ("collection", "floor") for c in ("docker", "ssh")] + [
            f"{NAME}-apps{count}" for count in (1, APPS)
        ]:
            run(["docker", "rm", "-f", name], check=False)
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
        f"- versions: {'; '.join([*versions, ansible_core])}",
        f"- whole run {minutes:.1f} min",
        "",
    ]
    if rows:
        lines += [
            "## Provisioning",
            "",
            "Each run on fresh containers, one for the collection and one for the floor (`benchmarks/floor/floor.yml`:",
            "the same stack in a minimal hand-written playbook, no checks, releases or health gates), through the",
            "docker connection and over SSH as a user who sudoes (pipelining on, Ansible's ControlPersist). Tasks are",
            "the PLAY RECAP's ok + skipped (ok/changed/skipped): exact, where seconds vary with the machine.",
            "",
            *provisioning_table(rows),
            "",
        ]
    if apps:
        lines += [
            "## Several apps on one host",
            "",
            f"One app on one fresh container, {APPS} (`flaskops_apps`, the example app five times under other names)"
            " on another, through the docker connection; the deploy is `deploy.yml` of one app's changed code"
            f" (`-e app=a3` among {APPS}). Both are converged first; the idempotent runs then alternate between"
            f" them, {args.rounds} rounds: the median, the lowest and highest in brackets. Tasks are the PLAY RECAP's"
            " ok + skipped, summed over the hosts of the run (each app is an inventory host of its own).",
            "",
            *apps_table(apps),
            "",
        ]
    if candidates:
        lines += [
            "## Serving",
            "",
            f"Each figure: {args.warmup} s warm-up, then {args.duration} s measured, in {args.rounds} interleaved"
            " rounds (every candidate once, then again in reverse order, ...); the median, with the lowest and highest"
            " round in brackets. A target is PASS or FAIL only where every round agrees; WITHIN NOISE where the rounds"
            " straddle it. (d) is, per endpoint, the candidate with the highest median req/s and no failed request."
            " The last round's sweep (every candidate, CPU and RSS, chart) is in tune/flaskops-bench/report.md.",
            "",
            *serving_table(figures, candidates),
            "",
        ]
    out.mkdir(parents=True, exist_ok=True)
    # A run of some parts only (--parts) leaves the whole run's latest.md alone.
    every = {"provisioning", "apps", "serving"}
    name = "latest.md" if parts >= every else f"latest-{'-'.join(sorted(parts & every))}.md"
    (out / name).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
