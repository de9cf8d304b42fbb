"""Bad input: each wrong setting stops site.yml before the host changes, naming the variable and what is allowed.

Every case runs the real `ansible-playbook site.yml` against the converged Debian 12 host and its two apps
(CASES_HOST: the checks are the controller's, and the Debian 13 host would only double the runs' cost), and the
host's own messages are checked; cases one table of rules checks share a run (TOGETHER). The host's managed
files, units and processes are fingerprinted before and after all cases: they must not differ.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import testinfra
from testinfra.host import Host
from testinfra.utils.ansible_runner import AnsibleRunner

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
INVENTORY = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "inventory"
BUSY_PORT = 8081
# The host the cases run on (with its apps), the one that carries monitoring too.
CASES_HOST = "flaskops-default"
BAD_REPO = "/srv/badinput/repo.git"

# ACME settings that pass, for the cases that spoil one of them.
ACME: dict[str, Any] = {
    "nginx_tls_enabled": True,
    "nginx_tls_self_signed": False,
    "nginx_tls_acme": True,
    "nginx_acme_email": "ops@example.com",
    "nginx_server_names": ["shop.example.com", "www.shop.example.com"],
}

# (case id, extra vars, phrases the error must contain)
CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("app_name with a space", {"app_name": "Bad Name"}, ['app_name="Bad Name" must be', "lower case"]),
    # The example inventory once suggested this one; it used to be ignored without a word.
    (
        "a misspelt variable",
        {"nginx_server_name": "shop.example.com"},
        ["nginx_server_name is no variable of the collection; did you mean nginx_server_names?"],
    ),
    ("unknown app_source", {"app_source": "svn"}, ["app_source", "example, dir, archive, git, package"]),
    ("dir source without a directory", {"app_source": "dir"}, ["app_source=dir needs app_source_dir"]),
    (
        "archive that does not exist",
        {"app_source": "archive", "app_source_archive": "/nonexistent/app.tar.gz"},
        ["app_source=archive needs app_source_archive", "/nonexistent/app.tar.gz"],
    ),
    (
        "wheel that does not exist",
        {"app_source": "package", "app_package": "/nonexistent/app-1.0-py3-none-any.whl"},
        ["app_source=package needs app_package"],
    ),
    (
        "two sources at once",
        {"app_source": "example", "app_git_repo": "https://git.example.invalid/app.git"},
        ["app_git_repo is set too"],
    ),
    ("app_module without a colon", {"app_module": "app"}, ['app_module="app" must be "module:variable"']),
    ("health path without a slash", {"app_health_path": "health"}, ['app_health_path="health" must be']),
    ("one release kept", {"app_keep_releases": 1}, ["app_keep_releases=1 must be 2 or more"]),
    ("bad environment variable name", {"app_env": {"1BAD": "x"}}, ["app_env must map", "1BAD"]),
    ("app running as root", {"app_user": "root"}, ['app_user="root"', "must not run as root"]),
    (
        "unreachable repository",
        # -e app: storefront's entry names a directory, which a git source refuses first.
        {
            "app": "flaskapp",
            "app_source": "git",
            "app_git_repo": "https://127.0.0.1:9/nothing.git",
            "app_git_ref": "main",
        },
        ['app_git_repo="https://127.0.0.1:9/nothing.git" cannot be read from the host'],
    ),
    (
        "missing git ref",
        {"app": "flaskapp", "app_source": "git", "app_git_repo": f"file://{BAD_REPO}", "app_git_ref": "no-such-tag"},
        ['app_git_ref="no-such-tag" is no branch or tag'],
    ),
    ("two apps with the same name", {"app_root": "/srv/other"}, ['app_name="flaskapp" is taken on this host']),
    # Several apps on one host (flaskops_apps): what two of them would both claim is refused, naming both.
    (
        "two apps with one root",
        {
            "flaskops_apps": [
                {"app_name": "flaskapp"},
                {"app_name": "blog", "app_root": "/srv/flaskapp", "nginx_server_names": ["blog.test"]},
            ]
        },
        [": apps flaskapp and blog have the same app_root (/srv/flaskapp, /srv/flaskapp)"],
    ),
    (
        "an app inside another's root",
        {
            "flaskops_apps": [
                {"app_name": "flaskapp"},
                {"app_name": "blog", "app_root": "/srv/flaskapp/blog", "nginx_server_names": ["blog.test"]},
            ]
        },
        [": apps flaskapp and blog have nested app_roots"],
    ),
    (
        "one server name twice on a port",
        {"flaskops_apps": [{"app_name": "flaskapp"}, {"app_name": "blog", "nginx_server_names": ["localhost"]}]},
        [": apps flaskapp and blog both answer localhost on port 80"],
    ),
    (
        "two apps with one user",
        {
            "flaskops_apps": [
                {"app_name": "flaskapp"},
                {"app_name": "blog", "app_user": "publisher", "nginx_server_names": ["blog.test"]},
                {"app_name": "notes", "app_user": "publisher", "nginx_server_names": ["notes.test"]},
            ]
        },
        [": apps blog and notes have the same app_user (publisher)"],
    ),
    # storefront is not in this list, but the host carries it (its record from converge).
    (
        "the socket of an app deployed there",
        {
            "flaskops_apps": [
                {"app_name": "flaskapp"},
                {
                    "app_name": "blog",
                    "gunicorn_socket_path": "/run/gunicorn/storefront.sock",
                    "nginx_server_names": ["blog.test"],
                },
            ]
        },
        [
            ": apps blog and storefront (deployed there already) have the same gunicorn_socket_path"
            " (/run/gunicorn/storefront.sock)"
        ],
    ),
    (
        "a misspelt key in an app entry",
        {"flaskops_apps": [{"app_name": "flaskapp"}, {"app_name": "blog", "nginx_server_name": ["blog.example.com"]}]},
        ["flaskops_apps[1] (blog): nginx_server_name is no variable of an app; did you mean nginx_server_names?"],
    ),
    (
        "a host's setting in an app entry",
        {"flaskops_apps": [{"app_name": "flaskapp"}, {"app_name": "blog", "nginx_worker_connections": 4096}]},
        ["flaskops_apps[1] (blog): nginx_worker_connections is a setting of the whole host"],
    ),
    (
        "apps that do not fit in memory",
        {
            "flaskops_apps": [
                {"app_name": "flaskapp"},
                {"app_name": "blog", "gunicorn_workers": 999, "nginx_server_names": ["blog.test"]},
            ]
        },
        ["MiB for their gunicorn workers, more than the", "blog", "999 x 16 (set)"],
    ),
    ("workers of the wrong type", {"gunicorn_workers": "many"}, ["gunicorn_workers", "int"]),
    ("zero workers", {"gunicorn_workers": 0}, ["gunicorn_workers=0 must be 1 or more"]),
    ("negative workers", {"gunicorn_workers": -3}, ["gunicorn_workers=-3 must be 1 or more"]),
    ("unknown worker class", {"gunicorn_worker_class": "uwsgi"}, ["gunicorn_worker_class", "gthread"]),
    ("unknown workload", {"gunicorn_workload": "heavy"}, ["gunicorn_workload", "cpu, io, mixed"]),
    ("socket outside /run", {"gunicorn_socket_path": "/tmp/app.sock"}, ["gunicorn_socket_path=", "under /run/"]),
    ("world-writable socket", {"gunicorn_socket_mode": "0666"}, ['gunicorn_socket_mode="0666"', "gives other users"]),
    ("zero timeout", {"gunicorn_timeout": 0}, ["gunicorn_timeout=0 must be 1 second or more"]),
    ("eventlet on gunicorn 27", {"gunicorn_worker_class": "eventlet"}, ["eventlet needs gunicorn_version below 24"]),
    ("port out of range", {"nginx_listen_port": 70000}, ["nginx_listen_port=70000", "1 to 65535"]),
    ("port already in use", {"nginx_listen_port": BUSY_PORT}, [f"nginx_listen_port={BUSY_PORT}", "already in use"]),
    (
        "TLS without a certificate",
        {"nginx_tls_enabled": True, "nginx_tls_self_signed": False},
        ["nginx_tls_enabled=true needs nginx_tls_acme=true, nginx_tls_self_signed=true or both nginx_tls_certificate"],
    ),
    # The argument spec is the one source of choices: its message names them.
    ("TLS 1.4", {"nginx_tls_protocols": ["TLSv1.4"]}, ["nginx_tls_protocols", "TLSv1.2, TLSv1.3", "TLSv1.4"]),
    # Paths meant to stay inside the app's tree.
    (
        "a shared dir that escapes the app's tree",
        {"app_shared_dirs": ["../../../etc/cron.d"]},
        ['app_shared_dirs=["../../../etc/cron.d"]', "must be relative"],
    ),
    (
        "an absolute requirements file",
        {"app_requirements_file": "/etc/passwd"},
        ['app_requirements_file="/etc/passwd"'],
    ),
    (
        "an exclude pattern outside the source",
        {"app_source_exclude": ["../secrets"]},
        ["app_source_exclude=", "../secrets"],
    ),
    (
        "task files for a step the deploy does not have, and a relative one",
        {"app_deploy_tasks": {"deploy": ["/etc/hostname"], "build": ["notify.yml"]}},
        ["app_deploy_tasks must map steps", "deploy (no such step)", '"notify.yml"'],
    ),
    # Accounts the role did not create are never modified.
    (
        "an existing system account",
        {"app_user": "nobody"},
        ['app_user="nobody" is an existing account', "never modifies"],
    ),
    ("the group of other accounts", {"app_group": "www-data"}, ['app_group="www-data" is the group of other accounts']),
    # Files and directories named by a variable exist, on the host or the controller.
    (
        "TLS with a certificate that is not on the host",
        {
            "nginx_tls_self_signed": False,
            "nginx_tls_certificate": "/etc/ssl/none.pem",
            "nginx_tls_certificate_key": "/etc/ssl/none.key",
        },
        ["nginx_tls_certificate=/etc/ssl/none.pem and nginx_tls_certificate_key=/etc/ssl/none.key", "do not exist"],
    ),
    (
        "TLS files to copy that are not on the controller",
        {
            "nginx_tls_self_signed": False,
            "nginx_tls_certificate": "/etc/nginx/tls/shop.crt",
            "nginx_tls_certificate_key": "/etc/nginx/tls/shop.key",
            "nginx_tls_certificate_src": "/nonexistent/shop.crt",
            "nginx_tls_certificate_key_src": "/nonexistent/shop.key",
        },
        ['nginx_tls_certificate_src="/nonexistent/shop.crt"', "must be files on the controller"],
    ),
    (
        "an interpreter that is not there",
        {"app_python": "/usr/bin/python9"},
        ['app_python="/usr/bin/python9" does not exist'],
    ),
    (
        "an ACME webroot that is not there",
        {"nginx_acme_webroot": "/var/www/none"},
        ['nginx_acme_webroot="/var/www/none"'],
    ),
    # One run for several bad ACME settings: the checks report every rule that fails.
    (
        "ACME settings HTTP-01 and the CA cannot work with",
        {
            **ACME,
            "nginx_acme_email": "",
            "nginx_server_names": ["shop.example.com", "192.0.2.10", "*.example.com"],
            "nginx_acme_directory_url": "http://acme.example.com/directory",
            "nginx_acme_eab_kid": "kid-1",
            "nginx_tls_self_signed": True,
        },
        [
            'nginx_acme_email="" must be an e-mail address with nginx_tls_acme=true',
            '["192.0.2.10", "*.example.com"] cannot get a certificate over HTTP-01',
            "not for IP addresses, wildcards (*.example.com needs DNS-01)",
            'nginx_acme_directory_url="http://acme.example.com/directory" must be an https:// URL',
            'nginx_acme_eab_kid="kid-1" and nginx_acme_eab_hmac_key (hidden) must be set together',
            "nginx_tls_acme=true needs nginx_tls_enabled=true, and excludes nginx_tls_self_signed=true",
        ],
    ),
    (
        "ACME for the default local names",
        {key: value for key, value in ACME.items() if key != "nginx_server_names"},
        ['"localhost"', '"127.0.0.1"', "cannot get a certificate over HTTP-01"],
    ),
    (
        "a CA bundle not on the controller",
        {"python_trusted_ca_file": "/nonexistent/ca.pem"},
        ["python_trusted_ca_file="],
    ),
    (
        "a site template that does not exist",
        {"nginx_site_template": "none.conf.j2"},
        ['nginx_site_template="none.conf.j2"'],
    ),
    # Values the role would write wrongly.
    (
        "a map in app_env",
        {"app_env": {"CONF": {"a": 1}}},
        ["app_env values must be strings, numbers or booleans", "CONF"],
    ),
    # Exporters on every address would be on the public one too.
    (
        "monitoring on every address, and a duration Prometheus cannot read",
        {"monitoring_enabled": True, "monitoring_listen_address": "0.0.0.0", "monitoring_retention": "two weeks"},
        [
            'monitoring_listen_address="0.0.0.0" must be one address of this host on its private network',
            "monitoring_retention must be a Prometheus duration such as 15s, 2m or 15d.",
        ],
    ),
    (
        "gunicorn_extra_settings for what the role owns",
        {"gunicorn_extra_settings": {"bind": "0.0.0.0:8000", "workers": 9}},
        [
            "gunicorn_extra_settings sets what the role writes",
            "bind (set gunicorn_socket_path)",
            "workers (set gunicorn_workers)",
        ],
    ),
]

SNAPSHOT = r"""
find /etc/nginx /etc/gunicorn /etc/systemd/system /etc/logrotate.d /etc/prometheus /etc/mtail /etc/default /srv \
  /var/cache/flaskops /etc/passwd /etc/group \
  -xdev -path /var/cache/flaskops/wheels -prune -o \( -type f -o -type l -o -type d \) -printf '%p %s %m %u %T@ %l\n' \
  2>/dev/null | sort
systemctl show -p MainPID -p ExecMainStartTimestamp -p ActiveState nginx.service 'gunicorn-*.service' \
  'gunicorn-*.socket' | sort
"""


# Cases whose settings one table of rules checks (the table reports every rule that fails), run together:
# one site.yml run instead of several, each case still checked on its own phrases. The variables differ
# from case to case of a group (_runs checks it); a case that needs a setting alone, or one that fails
# before or after that table (the argument spec, another role, the host), keeps a run of its own.
TOGETHER: list[tuple[str, ...]] = [
    (  # the app role's table
        "app_module without a colon",
        "health path without a slash",
        "one release kept",
        "bad environment variable name",
        "a shared dir that escapes the app's tree",
        "an absolute requirements file",
        "an exclude pattern outside the source",
        "task files for a step the deploy does not have, and a relative one",
        "an interpreter that is not there",
        "the group of other accounts",
    ),
    (  # gunicorn's
        "zero workers",
        "socket outside /run",
        "world-writable socket",
        "zero timeout",
        "gunicorn_extra_settings for what the role owns",
    ),
    (  # gunicorn's argument spec (Ansible lists every argument it refuses)
        "workers of the wrong type",
        "unknown worker class",
        "unknown workload",
    ),
    (  # nginx's
        "TLS without a certificate",
        "an ACME webroot that is not there",
        "a site template that does not exist",
    ),
]


def _runs() -> list[tuple[list[str], dict[str, Any]]]:
    """The site.yml runs: each with the cases it answers for and its extra vars."""
    settings = {case: extra_vars for case, extra_vars, _ in CASES}
    grouped = [case for group in TOGETHER for case in group]
    assert len(grouped) == len(set(grouped)) and set(grouped) <= set(settings), "TOGETHER names each case once"
    runs: list[tuple[list[str], dict[str, Any]]] = []
    for group in TOGETHER:
        merged: dict[str, Any] = {}
        for case in group:
            assert not set(merged) & set(settings[case]), f"{case}: a variable another case of its group sets"
            merged.update(settings[case])
        runs.append((list(group), merged))
    runs += [([case], settings[case]) for case in settings if case not in grouped]
    return runs


def _messages(node: Any) -> Iterator[str]:
    """Every msg of a failed task result in the json callback's output."""
    if isinstance(node, dict):
        # A failed loop item of assert carries evaluated_to=false rather than failed=true.
        if (node.get("failed") or node.get("evaluated_to") is False) and isinstance(node.get("msg"), str):
            yield node["msg"]
        for value in node.values():
            yield from _messages(value)
    elif isinstance(node, list):
        for value in node:
            yield from _messages(value)


def _env(cache_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        # Facts are gathered once for all cases.
        "ANSIBLE_GATHERING": "smart",
        "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache_dir),
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "3600",
    }


def _host_messages(output: dict[str, Any], name: str) -> list[str]:
    """The messages of one host's failed tasks in the json callback's output, its apps' ("<app>@<host>") included."""
    found: list[str] = []
    for play in output.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                if host == name or host.endswith(f"@{name}"):
                    found += _messages(result)
    return found


def _site(extra_vars: dict[str, Any], cache_dir: Path) -> tuple[int, str, dict[str, Any]]:
    env = _env(cache_dir)
    cmd = ["ansible-playbook", "-i", str(INVENTORY), str(PROJECT / "site.yml"), "-e", json.dumps(extra_vars)]
    cmd += ["--limit", f"~^(.+@)?{CASES_HOST}$"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=600)
    start = result.stdout.find("{")
    output = json.loads(result.stdout[start:]) if start >= 0 else {}
    return result.returncode, result.stdout + result.stderr, output


def _hosts() -> list[Host]:
    names = AnsibleRunner(str(INVENTORY)).get_hosts("app_servers")
    assert CASES_HOST in names, f"{CASES_HOST} is not among the app hosts {names}"
    return [testinfra.get_host(f"ansible://{CASES_HOST}?ansible_inventory={INVENTORY}")]


@pytest.fixture(scope="module")
def every_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Runs every case once on all hosts, with each host set up for the cases that need something there."""
    hosts = _hosts()
    for target in hosts:
        target.run_expect([0], "command -v git || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git")
        target.run_expect(
            [0],
            f"test -d {BAD_REPO} || (git init -q --bare {BAD_REPO} && d=$(mktemp -d) && git -C $d init -q -b main"
            f" && git -C $d -c user.email=t@t -c user.name=t commit -q --allow-empty -m one"
            f" && git -C $d push -q {BAD_REPO} main && rm -rf $d)",
        )
        target.run_expect(
            [0],
            f"systemd-run --unit=badinput-busy-port --collect python3 -m http.server {BUSY_PORT} --bind 0.0.0.0",
        )
    cache = tmp_path_factory.mktemp("facts")
    subprocess.run(  # facts once, into the cache every case reads
        ["ansible", "-i", str(INVENTORY), CASES_HOST, "-m", "ansible.builtin.setup"],
        env={**_env(cache), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal"},
        capture_output=True,
        check=True,
        timeout=300,
    )
    names = [target.backend.get_hostname() for target in hosts]
    before = {name: target.check_output(SNAPSHOT) for name, target in zip(names, hosts, strict=True)}
    runs = _runs()
    with ThreadPoolExecutor(max_workers=3) as pool:
        outputs = list(pool.map(lambda run: _site(run[1], cache), runs))
    results = {case: output for (cases, _), output in zip(runs, outputs, strict=True) for case in cases}
    after = {name: target.check_output(SNAPSHOT) for name, target in zip(names, hosts, strict=True)}
    for target in hosts:
        target.run("systemctl stop badinput-busy-port.service")
    yield {"results": results, "before": before, "after": after}


@pytest.fixture
def outcomes(host: Host, every_case: dict[str, Any]) -> dict[str, Any]:
    """What every case did on this host."""
    name = host.backend.get_hostname()
    if name != CASES_HOST:
        pytest.skip(f"the cases run on {CASES_HOST}: the checks are the controller's, one host shows them")
    return {
        "name": name,
        "results": every_case["results"],
        "before": every_case["before"][name].splitlines(),
        "after": every_case["after"][name].splitlines(),
    }


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20


def test_every_case_has_a_run_and_groups_save_runs() -> None:
    runs = _runs()
    assert sorted(case for cases, _ in runs for case in cases) == sorted(c[0] for c in CASES)
    assert len(runs) < len(CASES)


def test_no_case_changed_the_host(outcomes: dict[str, Any]) -> None:
    before, after = set(outcomes["before"]), set(outcomes["after"])
    assert after == before, f"before only: {sorted(before - after)[:20]}; after only: {sorted(after - before)[:20]}"


@pytest.mark.parametrize(("case", "extra_vars", "phrases"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_stops_before_any_change(
    outcomes: dict[str, Any], case: str, extra_vars: dict[str, Any], phrases: list[str]
) -> None:
    rc, raw, output = outcomes["results"][case]
    assert rc != 0, f"{case}: site.yml accepted {extra_vars}"
    text = "\n".join(_host_messages(output, outcomes["name"]))
    for phrase in phrases:
        assert phrase in text, f"{case}: {phrase!r} not in the error on {outcomes['name']}:\n{text or raw[-3000:]}"
    host_stats = output.get("stats", {}).get(outcomes["name"], {})
    assert host_stats.get("changed", 0) == 0, f"{case}: the failed run reported changes: {host_stats}"
