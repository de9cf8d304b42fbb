"""Jobs as AWX and AAP run them: ansible-runner, a private data directory per job, nothing kept between jobs.

A deploy job is killed while it holds the deploy lock, as a job whose container is thrown away (its controller
named like one, so that no pid check can tell it is gone); the next job waits for the lock's lease to run out,
takes it over and deploys; its artifacts carry the live release and the capacity; a third job rolls back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import ansible_runner
import pytest
from testinfra.host import Host

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
LOCK = "/run/lock/flaskops-shop.lock"
HOOK_MARK = "/srv/shop/shared/instance/slow-job-hook"
LEASE = 15
# What the last deploy of side_effect.yml left: no timer, no idler.
KEEP = {
    "app_timers": {},
    "app_processes": {"worker": {"command": "python worker.py", "count": 2, "stop_signal": "TERM", "stop_timeout": 60}},
    "app_lock_lease": LEASE,
}


def _job(tmp: Path, name: str, playbook: str, extravars: dict[str, Any], **kwargs: Any) -> Any:
    """A job of its own private data directory, the project this checkout, as a job template runs it."""
    (tmp / name).mkdir()
    return (ansible_runner.run_async if kwargs.pop("asynchronous", False) else ansible_runner.run)(
        private_data_dir=str(tmp / name),
        project_dir=str(PROJECT),
        playbook=f"playbooks/{playbook}",
        inventory=str(EPHEMERAL / "inventory"),
        extravars={**KEEP, **extravars},
        envvars={"ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"), "ANSIBLE_INJECT_FACT_VARS": "false"},
        quiet=True,
        **kwargs,
    )


def _stdout(runner: Any) -> str:
    return runner.stdout.read()[-3000:] if runner.stdout else ""


@pytest.fixture(scope="module")
def jobs(host: Host, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("runner")
    fixtures = EPHEMERAL / "fixtures"
    host.run("rm -f %s", HOOK_MARK)
    cancel = threading.Event()
    thread, killed = _job(
        tmp,
        "job-1",
        "deploy.yml",
        {
            "app_source_dir": str(fixtures / "jobs-v2"),
            "app_hooks_before_switch": [f"touch {HOOK_MARK} && sleep 40"],
        },
        asynchronous=True,
        cancel_callback=cancel.is_set,
    )
    deadline = time.monotonic() + 240
    while not host.file(HOOK_MARK).exists:
        assert time.monotonic() < deadline, "job 1 never reached its hook"
        assert thread.is_alive(), f"job 1 ended before its hook: {_stdout(killed)}"
        time.sleep(1)
    cancel.set()  # the job's container goes away mid-deploy, the lock held
    thread.join(60)
    held = json.loads(host.file(LOCK).content_string)
    # As a job container would have named it: no pid of it means anything to the next job.
    host.check_output(
        "python3 -c %s",
        f"import json; d = json.load(open('{LOCK}')); d['controller'] = 'automation-job-1';"
        f" json.dump(d, open('{LOCK}', 'w'))",
    )
    started = time.time()
    deployed = _job(tmp, "job-2", "deploy.yml", {"app_source_dir": str(fixtures / "jobs-v2"), "app_lock_timeout": 120})
    ended = time.time()
    live_after_deploy = host.file("/srv/shop/current").linked_to
    version_after_deploy = host.file("/srv/shop/current/version.txt").content_string.strip()
    rolled_back = _job(tmp, "job-3", "rollback.yml", {})
    return {
        "killed": killed,
        "held": held,
        "started": started,
        "ended": ended,
        "deployed": deployed,
        "live_after_deploy": live_after_deploy,
        "version_after_deploy": version_after_deploy,
        "rolled_back": rolled_back,
    }


def test_a_killed_job_leaves_the_lock_held_with_a_lease(jobs: dict[str, Any]) -> None:
    assert jobs["killed"].status == "canceled", jobs["killed"].status
    assert jobs["held"]["lease"] == LEASE and jobs["held"]["expires"] > 0, jobs["held"]


def test_the_next_job_waits_for_the_lease_then_takes_the_lock_and_deploys(host: Host, jobs: dict[str, Any]) -> None:
    deployed = jobs["deployed"]
    assert deployed.rc == 0 and deployed.status == "successful", _stdout(deployed)
    # It started while the lease still ran: only the lease's end can have let it in.
    assert jobs["started"] < jobs["held"]["expires"] <= jobs["ended"], jobs
    assert jobs["version_after_deploy"] == "v2"
    assert not host.file(LOCK).exists, "the job gave the lock back"


def test_the_jobs_artifacts_carry_the_live_release_and_the_capacity(jobs: dict[str, Any]) -> None:
    stats = next(e for e in jobs["deployed"].events if e["event"] == "playbook_on_stats")
    live = stats["event_data"]["artifact_data"]["flaskops_apps_live"]["flaskops-processes"]
    assert jobs["live_after_deploy"].endswith("/" + live["release"]), live
    assert live["app"] == "shop" and live["source"] and live["workers"] == 2 and live["worker_class"], live


def test_a_job_rolls_back(host: Host, jobs: dict[str, Any]) -> None:
    rolled_back = jobs["rolled_back"]
    assert rolled_back.rc == 0, _stdout(rolled_back)
    assert host.file("/srv/shop/current").linked_to != jobs["live_after_deploy"]
