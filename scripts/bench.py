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

A fleet: on a docker network of their own, a balancer and one app host against a balancer and FLEET app hosts
(docker connection, forks 10, deploy_serial 25%): a first converge, then idempotent site.yml runs and rolling code
deploys (playbooks/deploy.yml, in batches), each alternating between the fleets and between ansible-playbook and
ansible-runner (the runner's overhead), ROUNDS times, with the load average after each run.

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
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ansible_runner

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


def ansible_settings() -> dict[str, str]:
    """What every run of the benchmark sets in Ansible's environment, ansible-playbook's and ansible-runner's."""
    return {
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_INJECT_FACT_VARS": "false",
        "ANSIBLE_FORCE_COLOR": "0",
        # As a user would run it: pipelining on (ControlPersist is Ansible's own default for SSH).
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
    }


def ansible_env() -> dict[str, str]:
    return {**os.environ, **ansible_settings()}


def recap(stdout: str) -> dict[str, int]:
    """The PLAY RECAP's ok, changed and skipped, summed over the hosts."""
    text = stdout.split("PLAY RECAP")[-1]
    return {key: sum(int(n) for n in re.findall(rf"{key}=(\d+)", text)) for key in ("ok", "changed", "skipped")}


def playbook(inventory: Path, path: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs a playbook; returns its wall seconds and its PLAY RECAP counts."""
    started = time.monotonic()
    result = run(["ansible-playbook", "-i", str(inventory), str(path), *extra], env=env or ansible_env())
    seconds = time.monotonic() - started
    return {"seconds": seconds, **recap(result.stdout), "stdout": result.stdout}


def start_container(image: str, name: str, ssh_port: int | None = None, network: str | None = None) -> None:
    run(["docker", "rm", "-f", name], check=False)
    ports = ["-p", f"127.0.0.1:{ssh_port}:22"] if ssh_port else []
    networks = ["--network", network] if network else []
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
            *networks,
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
        rows[f"{count} again"] = median_row(results)
    # The code deploys of one app alternate the same way, its code changed before each.
    deploys: dict[int, list[dict[str, Any]]] = {count: [] for count in hosts}
    rows["restarted"], rows["others"] = [], []
    for number in range(rounds):
        log(f"a code deploy of one app, round {number + 1} of {rounds}")
        for count in (1, APPS) if number % 2 == 0 else (APPS, 1):
            host = hosts[count]
            sources = host["sources"]
            change(sources[len(sources) // 2], f"apps bench, round {number}")
            before = gunicorn_pids(host["name"])
            one = ["-e", f"app=a{len(sources) // 2 + 1}"] if count > 1 else []
            deploy = ROOT / "playbooks" / "deploy.yml"
            deploys[count].append(playbook(host["inventory"], deploy, *host["settings"], *one))
            after = gunicorn_pids(host["name"])
            if count > 1:
                others = [unit for unit in before if unit != f"gunicorn-a{len(sources) // 2 + 1}"]
                rows["restarted"] += [unit for unit in others if before[unit] != after.get(unit)]
                rows["others"] = others
    for count, results in deploys.items():
        rows[f"{count} deploy"] = median_row(results)
    for host in hosts.values():
        run(["docker", "rm", "-f", host["name"]], check=False)
    for row in rows.values():
        if isinstance(row, dict):
            row.pop("stdout", None)
    return rows


def median_row(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The first round's counts with the rounds' median seconds, their spread and each round's seconds."""
    median, low, high = spread([result["seconds"] for result in results])
    return {
        **results[0],
        "seconds": median,
        "low": low,
        "high": high,
        "rounds": [result["seconds"] for result in results],
    }


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
    deploy_ratios = [
        many / one for one, many in zip(rows["1 deploy"]["rounds"], rows[f"{APPS} deploy"]["rounds"], strict=True)
    ]
    table += [
        "",
        f"- idempotent, {APPS} apps against 1: {again:.2f} x, rounds {' '.join(f'{r:.2f}' for r in ratios)}"
        f" (target at most 2 x: {round_verdict(ratios, 2)}); {per_app:.1f} task results per extra app"
        f" (target at most 25: {'PASS' if per_app <= 25 else 'FAIL'})",
        f"- a code deploy of one app among {APPS} against the one-app deploy: {deploy:.2f} x, rounds"
        f" {' '.join(f'{r:.2f}' for r in deploy_ratios)} (target at most 1.1 x: {round_verdict(deploy_ratios, 1.1)});"
        f" the other apps' gunicorn restarted in any round: {len(set(rows['restarted']))} of {len(rows['others'])}"
        f" {sorted(set(rows['restarted'])) or ''}",
    ]
    return table


FLEET = 8
FLEET_NETWORK = f"{NAME}-fleet"
# Ansible working on 10 hosts at once; the roll takes app hosts a quarter at a time.
FLEET_SERIAL = "25%"
FLEET_FORKS = 10
WAYS = ("ansible-playbook", "ansible-runner")
# What each kind of run plays, at which deploy_serial, and how: the idempotent run with every app host at once
# (the goal's row), and again in the roll's batches (what an inventory that sets deploy_serial gets).
FLEET_KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "again": ("site.yml", "100%", WAYS),
    "again-batches": ("site.yml", FLEET_SERIAL, ("ansible-playbook",)),
    "deploy": ("playbooks/deploy.yml", FLEET_SERIAL, WAYS),
}
FLEET_ROWS = (
    ("first", "ansible-playbook", f"first converge (fresh hosts, `deploy_serial: {FLEET_SERIAL}`)"),
    ("again", "ansible-playbook", "idempotent `site.yml`, every app host at once (`deploy_serial: 100%`)"),
    ("again", "ansible-runner", "idempotent `site.yml`, every app host at once, through ansible-runner"),
    (
        "again-batches",
        "ansible-playbook",
        f"idempotent `site.yml` in the roll's batches (`deploy_serial: {FLEET_SERIAL}`)",
    ),
    ("deploy", "ansible-playbook", f"rolling code deploy (`deploy.yml`, `deploy_serial: {FLEET_SERIAL}`)"),
    ("deploy", "ansible-runner", "rolling code deploy, through ansible-runner"),
)


def fleet_hosts(size: int) -> list[str]:
    """A fleet's containers: its balancer, then its app hosts."""
    return [f"{NAME}-fleet{size}-lb", *(f"{NAME}-fleet{size}-app{number}" for number in range(1, size + 1))]


def fleet_inventory(work: Path, size: int) -> Path:
    balancer, *apps = fleet_hosts(size)
    inventory = {
        "all": {
            "vars": {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}
        },
        "loadbalancers": {"hosts": {balancer: None}},
        "app_servers": {
            "hosts": dict.fromkeys(apps),
            "vars": {"python_trusted_ca_file": "/etc/ssl/certs/ca-certificates.crt"},
        },
    }
    path = work / f"fleet{size}.yml"
    path.write_text(json.dumps(inventory, indent=2))  # JSON is YAML
    return path


def fleet_settings() -> dict[str, str]:
    return {**ansible_settings(), "ANSIBLE_FORKS": str(FLEET_FORKS)}


def batches(stdout: str) -> int:
    """The batches of a run's rolling play: Ansible prints the play's header again for each."""
    headers = Counter(re.findall(r"^PLAY \[(.*)\]", stdout, re.MULTILINE))
    return max(headers.values(), default=0)


def expected_batches(size: int) -> int:
    """Ansible's reading of a percentage serial: a floor, at least one host a batch."""
    per_batch = max(1, size * int(FLEET_SERIAL.rstrip("%")) // 100)
    return -(-size // per_batch)


def runner_playbook(work: Path, inventory: Path, path: str, extravars: dict[str, Any]) -> dict[str, Any]:
    """The same run as an ansible-runner job, each with a private data directory of its own as AWX gives it."""
    private = Path(tempfile.mkdtemp(prefix="job-", dir=work))
    started = time.monotonic()
    job = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(ROOT),
        playbook=path,
        inventory=str(inventory),
        extravars=extravars,
        envvars=fleet_settings(),
        quiet=True,
        timeout=3600,
    )
    seconds = time.monotonic() - started
    with job.stdout as handle:
        stdout = handle.read()
    if job.rc != 0:
        sys.exit(f"bench: ansible-runner {path} ended {job.status} (rc {job.rc}):\n{stdout[-4000:]}")
    return {"seconds": seconds, **recap(stdout), "stdout": stdout}


def containers_cpu(ids: list[str]) -> float | None:
    """CPU seconds the containers have used so far (their cgroups, v1 or v2), None where this host hides them."""
    total = 0.0
    for cid in ids:
        v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage")
        v2 = [
            Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat"),
            Path(f"/sys/fs/cgroup/docker/{cid}/cpu.stat"),
        ]
        if v1.exists():
            total += int(v1.read_text()) / 1e9
            continue
        stat = next((path for path in v2 if path.exists()), None)
        if stat is None:
            return None
        usage = re.search(r"^usage_usec (\d+)", stat.read_text(), re.MULTILINE)
        total += int(usage.group(1)) / 1e6 if usage else 0.0
    return total


def children_cpu() -> float:
    """CPU seconds of this process's finished children: ansible-playbook, its workers and the docker CLI."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fleet_run(way: str, work: Path, fleet: dict[str, Any], path: str, serial: str) -> dict[str, Any]:
    """One run of a playbook of the checkout on a fleet, with ansible-playbook or ansible-runner.

    Besides the wall seconds, the CPU seconds the controller spent (ansible and the docker CLI it calls) and those
    spent inside the fleet's containers (the modules run there): on this machine both share the same CPUs, where
    a real fleet runs each host's modules on that host's own.
    """
    extravars = {"deploy_serial": serial, "app_source": "dir", "app_source_dir": str(fleet["source"])}
    controller, hosts = children_cpu(), containers_cpu(fleet["ids"])
    if way == "ansible-runner":
        result = runner_playbook(work, fleet["inventory"], path, extravars)
    else:
        env = {**os.environ, **fleet_settings()}
        result = playbook(fleet["inventory"], ROOT / path, "-e", json.dumps(extravars), env=env)
    result["controller_cpu"] = children_cpu() - controller
    after = containers_cpu(fleet["ids"])
    result["hosts_cpu"] = after - hosts if after is not None and hosts is not None else None
    result["batches"] = batches(result.pop("stdout"))
    result["load"] = float(loadavg().split()[0])
    log(
        f"{fleet['size']} app host(s), {way} {path} at {serial}: {result['seconds']:.1f} s,"
        f" {result['batches']} batch(es),"
        f" ok={result['ok']} changed={result['changed']} skipped={result['skipped']}, load {result['load']:.2f}"
    )
    return result


def rounds_row(results: list[dict[str, Any]]) -> dict[str, Any]:
    """A row of several rounds: the median seconds and the spread; each round's seconds, batches and load."""
    return {
        **median_row(results),
        "batches": sorted({result["batches"] for result in results}),
        "controller_cpu": statistics.median(result["controller_cpu"] for result in results),
        "hosts_cpu": None
        if any(result["hosts_cpu"] is None for result in results)
        else statistics.median(result["hosts_cpu"] for result in results),
        "load": [result["load"] for result in results],
    }


def fleet_bench(image: str, work: Path, rounds: int, size: int) -> dict[str, Any]:
    """One app host behind a balancer against SIZE behind another, on a docker network of their own.

    Both fleets are converged first; the idempotent site.yml runs then alternate between them and between
    ansible-playbook and ansible-runner, ROUNDS times, and so do the rolling code deploys (the app's code changed
    before each), so that the machine's noise falls on every side of the ratios alike.
    """
    rows: dict[str, Any] = {"load start": loadavg()}
    run(["docker", "network", "rm", FLEET_NETWORK], check=False)
    run(["docker", "network", "create", FLEET_NETWORK])
    fleets: dict[int, dict[str, Any]] = {}
    for count in (1, size):
        for name in fleet_hosts(count):
            start_container(image, name, network=FLEET_NETWORK)
        source = work / f"fleet{count}"
        shutil.copytree(ROOT / "roles" / "app" / "files" / "example", source)
        ids = [run(["docker", "inspect", "-f", "{{.Id}}", name]).stdout.strip() for name in fleet_hosts(count)]
        fleets[count] = {"size": count, "inventory": fleet_inventory(work, count), "source": source, "ids": ids}
        env = {**os.environ, **fleet_settings()}
        playbook(fleets[count]["inventory"], ROOT / "molecule" / "resources" / "prepare.yml", env=env)
    for count, fleet in fleets.items():
        log(f"{count} app host(s) behind a balancer: first converge")
        first = fleet_run("ansible-playbook", work, fleet, "site.yml", FLEET_SERIAL)
        rows[f"{count} first ansible-playbook"] = rounds_row([first])
    runs: dict[str, list[dict[str, Any]]] = {}
    for key, (path, serial, ways) in FLEET_KINDS.items():
        order = [(count, way) for way in ways for count in (1, size)]
        for number in range(rounds):
            log(f"fleet, {path} at {serial}: round {number + 1} of {rounds}")
            for count, way in order if number % 2 == 0 else order[::-1]:
                if key == "deploy":
                    change(fleets[count]["source"], f"fleet round {number + 1}, {way}")
                runs.setdefault(f"{count} {key} {way}", []).append(fleet_run(way, work, fleets[count], path, serial))
    rows |= {label: rounds_row(results) for label, results in runs.items()}
    rows["load end"] = loadavg()
    for count in fleets:
        for name in fleet_hosts(count):
            run(["docker", "rm", "-f", name], check=False)
    run(["docker", "network", "rm", FLEET_NETWORK], check=False)
    return rows


def fleet_table(rows: dict[str, Any], size: int) -> list[str]:
    def tasks(row: dict[str, Any]) -> str:
        return f"{row['ok'] + row['skipped']} ({row['ok']}/{row['changed']}/{row['skipped']})"

    def seconds(row: dict[str, Any]) -> str:
        spread_ = f" ({row['low']:.1f}-{row['high']:.1f})" if len(row["rounds"]) > 1 else ""
        return f"{row['seconds']:.1f} s{spread_}"

    def load(row: dict[str, Any]) -> str:
        return " ".join(f"{value:.2f}" for value in row["load"])

    def per_round(a: str, b: str) -> list[float]:
        """Row a's seconds over row b's, round by round (the runs alternate)."""
        return [x / y for x, y in zip(rows[a]["rounds"], rows[b]["rounds"], strict=True)]

    table = [
        f"| run | 1 host: seconds | 1 host: tasks | 1 host: load after | {size} hosts: seconds (x 1 host) |"
        f" {size} hosts: tasks | {size} hosts: batches | {size} hosts: load after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, way, label in FLEET_ROWS:
        one, many = rows[f"1 {key} {way}"], rows[f"{size} {key} {way}"]
        one_cell, ratios = seconds(one), [f"{many['seconds'] / one['seconds']:.2f} x"]
        if way != "ansible-playbook":
            # The runner's overhead: against the same run through ansible-playbook.
            plain_one, plain_many = rows[f"1 {key} ansible-playbook"], rows[f"{size} {key} ansible-playbook"]
            one_cell += f" ({one['seconds'] / plain_one['seconds']:.2f} x ansible-playbook)"
            ratios.append(f"{many['seconds'] / plain_many['seconds']:.2f} x ansible-playbook")
        table.append(
            f"| {label} | {one_cell} | {tasks(one)} | {load(one)} | {seconds(many)} ({'; '.join(ratios)}) |"
            f" {tasks(many)} | {'/'.join(str(b) for b in many['batches'])} | {load(many)} |"
        )
    again = per_round(f"{size} again ansible-playbook", "1 again ansible-playbook")
    batched = per_round(f"{size} again-batches ansible-playbook", "1 again-batches ansible-playbook")
    deploy = per_round(f"{size} deploy ansible-playbook", "1 deploy ansible-playbook")
    rolled = rows[f"{size} deploy ansible-playbook"]["batches"] + rows[f"{size} deploy ansible-runner"]["batches"]
    expected = expected_batches(size)
    check = "as expected" if set(rolled) == {expected} else f"**expected {expected}**"
    table += [
        "",
        f"- idempotent `site.yml`, {size} hosts against 1 (forks {FLEET_FORKS}):"
        f" {statistics.median(again):.2f} x, rounds {' '.join(f'{r:.2f}' for r in again)}"
        f" (target at most 2.5 x: {round_verdict(again, 2.5)}); in the roll's {expected} batches"
        f" {statistics.median(batched):.2f} x, rounds {' '.join(f'{r:.2f}' for r in batched)} (reported)",
        f"- the roll of {size} hosts at `deploy_serial: {FLEET_SERIAL}` against one host's deploy:"
        f" {statistics.median(deploy):.2f} x, rounds {' '.join(f'{r:.2f}' for r in deploy)}"
        f" (target at most 4.5 x: {round_verdict(deploy, 4.5)}); {'/'.join(str(b) for b in sorted(set(rolled)))}"
        f" batches ({check})",
    ]
    overhead = []
    for key, label in (("again", "idempotent"), ("deploy", "deploy")):
        for count in (1, size):
            ratios = per_round(f"{count} {key} ansible-runner", f"{count} {key} ansible-playbook")
            median, low, high = spread(ratios)
            overhead.append(f"{label}, {count} host{'s' if count > 1 else ''} {median:.2f} x ({low:.2f}-{high:.2f})")
    table += [
        f"- ansible-runner's overhead (its seconds over ansible-playbook's, round by round): {'; '.join(overhead)}",
        f"- load average (1/5/15 min) at the part's start: {rows['load start']}; at its end: {rows['load end']}",
    ]
    if size != FLEET:
        table.append(f"- **{size} app hosts, not {FLEET}** (--fleet-size): the targets are set for {FLEET}")
    return [*table, "", *fleet_cpu_table(rows, size)]


def fleet_cpu_table(rows: dict[str, Any], size: int) -> list[str]:
    """Where the CPU went: the controller's (ansible, the docker CLI) and the containers' (modules on the hosts)."""

    def cpu(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    def share(row: dict[str, Any]) -> str:
        if row["hosts_cpu"] is None:
            return "-"
        return f"{(row['controller_cpu'] + row['hosts_cpu']) / row['seconds']:.2f}"

    table = [
        f"The same runs by CPU seconds (medians): the controller's (ansible-playbook or the runner, their workers, the"
        f" docker CLI) and the containers' (the modules running on the hosts). Here both share {os.cpu_count()}"
        " vCPUs, where a real fleet runs each host's modules on that host's own: CPUs busy is (controller + hosts) /"
        " wall seconds, out of the machine's; the docker daemon's own work (a runc exec per task) counts in neither.",
        "",
        f"| run | 1 host: controller CPU s | 1 host: hosts' CPU s | 1 host: CPUs busy | {size} hosts: controller CPU s"
        f" (x 1 host) | {size} hosts: hosts' CPU s (x 1 host) | {size} hosts: CPUs busy |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, way, label in FLEET_ROWS:
        one, many = rows[f"1 {key} {way}"], rows[f"{size} {key} {way}"]
        hosts_ratio = (
            f" ({many['hosts_cpu'] / one['hosts_cpu']:.1f} x)" if many["hosts_cpu"] and one["hosts_cpu"] else ""
        )
        table.append(
            f"| {label} | {cpu(one['controller_cpu'])} | {cpu(one['hosts_cpu'])} | {share(one)} |"
            f" {cpu(many['controller_cpu'])} ({many['controller_cpu'] / max(one['controller_cpu'], 0.1):.1f} x) |"
            f" {cpu(many['hosts_cpu'])}{hosts_ratio} | {share(many)} |"
        )
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
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of the serving, apps and fleet parts (3 or more)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the serving container running")
    parser.add_argument("--out", default=str(ROOT / "benchmarks"))
    parser.add_argument(
        "--parts",
        default="provisioning,apps,serving,fleet",
        help="which parts to run: provisioning, apps, serving, fleet",
    )
    # A smaller fleet, to try the fleet part out: its targets are set for FLEET hosts.
    parser.add_argument("--fleet-size", type=int, default=FLEET, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fleet_size < 2:
        parser.error("--fleet-size must be 2 or more")
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
    fleet: dict[str, Any] = {}
    figures, candidates, versions = Figures(), [], []
    try:
        if "provisioning" in parts:
            rows = {connection: provision(image, work, connection, key) for connection in ("docker", "ssh")}
        if "apps" in parts:
            apps = apps_bench(image, work, args.rounds)
        if "serving" in parts:
            figures, candidates, versions = serve(image, work, args, out)
        if "fleet" in parts:
            fleet = fleet_bench(image, work, args.rounds, args.fleet_size)
    finally:
        for name in [
            *(f"{NAME}-{k}-{c}" for k in ("collection", "floor") for c in ("docker", "ssh")),
            *(f"{NAME}-apps{count}" for count in (1, APPS)),
            *fleet_hosts(1),
            *fleet_hosts(args.fleet_size),
        ]:
            run(["docker", "rm", "-f", name], check=False)
        run(["docker", "network", "rm", FLEET_NETWORK], check=False)
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
            f" (`-e app=a3` among {APPS}). Both are converged first; the idempotent runs, then the code deploys"
            f" (the app's code changed before each), alternate between them, {args.rounds} rounds: the median, the"
            " lowest and highest in brackets. Tasks are the PLAY RECAP's"
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
    if fleet:
        lines += [
            "## A fleet",
            "",
            f"A balancer and 1 app host against a balancer and {args.fleet_size} app hosts, fresh containers on a"
            f" docker network of their own (`{FLEET_NETWORK}`), through the docker connection, every run at `forks`"
            f" {FLEET_FORKS} (ANSIBLE_FORKS), the example app from a directory (`app_source: dir`), `deploy_serial` as"
            " each row says. Both fleets are converged first; the idempotent `site.yml` runs then alternate"
            " between the fleets and between `ansible-playbook` and `ansible-runner` (a job with a private data"
            f" directory of its own, as AWX runs it), {args.rounds} rounds, and so do the rolling code deploys"
            " (`playbooks/deploy.yml`, the app's code changed before each): the median, the lowest and highest in"
            " brackets. Tasks are the PLAY RECAP's ok + skipped (ok/changed/skipped), summed over the hosts; batches,"
            " how many times the rolling play's header was printed; load, the 1-minute load average right after"
            " each round's run.",
            "",
            *fleet_table(fleet, args.fleet_size),
            "",
        ]
    out.mkdir(parents=True, exist_ok=True)
    # A run of some parts only (--parts) leaves the whole run's latest.md alone.
    every = {"provisioning", "apps", "serving", "fleet"}
    name = "latest.md" if parts >= every else f"latest-{'-'.join(sorted(parts & every))}.md"
    (out / name).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
