"""Several apps on a host: the entries of ``flaskops_apps`` checked, and the apps of one host kept apart.

``app_entries_errors`` checks the list an inventory gives (``flaskops_apps``) before anything runs;
``app_conflicts`` compares what each app of a host claims there (its root, account, socket, unit and
server names), including the apps a host already carries from an earlier run or another inventory.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

from ansible.utils.helpers import pct_to_int
from ansible_collections.flaskops.deploy.plugins.filter.unknown_variables import known_variables

# Settings of the host, not of one app: one nginx, one Python, one balancer. An entry may not set them.
HOST_WIDE = frozenset(
    {
        "nginx_reject_unknown_hosts",
        "nginx_listen_ipv6",
        "nginx_remove_default_site",
        "nginx_catchall_ports",
        "nginx_tls_protocols",
        "nginx_tls_ciphers",
        "nginx_worker_processes",
        "nginx_worker_connections",
        "nginx_worker_rlimit_nofile",
        "nginx_listen_backlog",
        "nginx_somaxconn",
        "nginx_gzip_types",
        "nginx_trusted_proxies",
        "gunicorn_mem_reserve_mb",
        "gunicorn_host_memory_mb",
    }
)
HOST_WIDE_ROLES = ("python", "loadbalancer")
# The roles whose variables an entry may set.
APP_ROLES = ("app", "gunicorn", "nginx", "loadtest")
NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
STATES = ("present", "absent")


def app_entries_errors(apps: Any, variable: str = "flaskops_apps", roles_dir: str = "") -> list[str]:
    """One message per problem of the list of apps; none when every entry is usable.

    e.g. ['flaskops_apps[1] (shop): nginx_server_name is no variable of an app; did you mean nginx_server_names?'].
    """
    if not isinstance(apps, list):
        return [f"{variable} must be a list of maps, each with app_name, e.g. [{{app_name: shop}}, {{app_name: blog}}]"]
    known = known_variables(roles_dir) if roles_dir else known_variables()
    allowed = sorted(set().union(*(known.get(role, frozenset()) for role in APP_ROLES)) - HOST_WIDE)
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(apps):
        where = f"{variable}[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where} must be a map with app_name, got {entry!r}")
            continue
        name = entry.get("app_name")
        if not isinstance(name, str) or not NAME.match(name):
            errors.append(
                f"{where}: app_name={name!r} must be lower case letters, digits, '-' and '_', starting with a letter"
            )
            continue
        where = f"{where} ({name})"
        if name in seen:
            errors.append(f"{where}: app_name {name} is already the name of {variable}[{seen[name]}]")
        seen.setdefault(name, index)
        state = entry.get("app_state", "present")
        if state not in STATES:
            errors.append(f"{where}: app_state={state!r} must be one of: {', '.join(STATES)}")
        for key in sorted(map(str, entry)):
            if key in HOST_WIDE or key.startswith(tuple(f"{role}_" for role in HOST_WIDE_ROLES)):
                errors.append(f"{where}: {key} is a setting of the whole host; set it for the host or its group")
            elif key not in allowed:
                nearest = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = (
                    f"did you mean {nearest[0]}?" if nearest else "an entry takes app_*, gunicorn_*, nginx_* settings"
                )
                errors.append(f"{where}: {key} is no variable of an app; {hint}")
    return errors


def singleton_hosts(
    hosts: Iterable[str], host_vars: Iterable[Mapping[str, Any]], one_app_name: str | None = None
) -> dict[str, str]:
    """The host that runs each app's singletons (``placement: one``, the release command): the first that carries it.

    ``hosts`` in inventory order (the whole group, not the --limit), with each host's variables (``hostvars``):
    its ``flaskops_apps``, or for a host with one app its ``app_name`` (``flaskapp``, the role's default, if unset).
    ``one_app_name``, when given, is the name a play gives every host with one app (a play's ``vars``, which
    ``hostvars`` does not hold); it wins over their ``app_name``.
    """
    first: dict[str, str] = {}
    for host, variables in zip(hosts, host_vars, strict=False):
        apps = variables.get("flaskops_apps")
        if isinstance(apps, list):
            names = [
                str(app.get("app_name"))
                for app in apps
                if isinstance(app, Mapping) and app.get("app_state", "present") != "absent"
            ]
        else:
            name = one_app_name or variables.get("app_name")
            names = [name if isinstance(name, str) else "flaskapp"]
        for app in names:
            first.setdefault(app, str(host))
    return first


def app_host(
    entry: Mapping[str, Any],
    host: str,
    settings: Mapping[str, Any],
    connection: Mapping[str, Any],
    singletons: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The add_host arguments of one app of a host: ``<app>@<host>`` with the host's settings, the entry over them.

    Its groups: ``flaskops_app_instances``, or ``flaskops_app_removals`` for an entry with ``app_state: absent``;
    ``flaskops_host`` names the host it runs on, and the host's connection settings reach the same machine.
    ``app_runs_singletons`` is true where ``singletons`` (``singleton_hosts``) puts the app on this host, unless
    the host's settings or the entry say otherwise.
    """
    name = str(entry["app_name"])
    absent = entry.get("app_state", "present") == "absent"
    return {
        "app_runs_singletons": (singletons or {}).get(name, host) == host,
        **settings,
        **entry,
        **connection,
        "name": f"{name}@{host}",
        "groups": ["flaskops_app_removals" if absent else "flaskops_app_instances"],
        "flaskops_host": host,
    }


def backend_group(app: str) -> str:
    """The group of the app hosts that carry an app (a balancer's upstream for it)."""
    return "flaskops_hosts_" + app.replace("-", "_")


def balancer_sites(
    claims: Iterable[Mapping[str, Any]],
    balancer: str,
    settings: Mapping[str, Any],
    connection: Mapping[str, Any],
    removed: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The add_host arguments of a balancer's site per app: ``<app>@<balancer>``, in app order.

    ``claims``: what each app instance published (``flaskops_app_claim``: ``name``, ``server_names``,
    ``http_port``, ``health_path``), any instance of an app standing for all. Each site balances the group of
    the hosts that carry its app (``backend_group``) with the balancer's own settings; the first one carries
    the balancer's catch-all server. ``removed``: apps marked absent, whose sites go
    (group ``flaskops_balancer_removals``).
    """
    by_app: dict[str, Mapping[str, Any]] = {}
    for claim in claims:
        by_app.setdefault(str(claim["name"]), claim)
    sites = []
    for index, (app, claim) in enumerate(sorted(by_app.items())):
        names = list(claim.get("server_names") or [])
        sites.append(
            {
                **settings,
                **connection,
                "name": f"{app}@{balancer}",
                "groups": ["flaskops_balancer_sites"],
                "flaskops_host": balancer,
                "loadbalancer_name": app,
                "loadbalancer_backend_group": backend_group(app),
                "loadbalancer_server_names": names,
                "loadbalancer_backend_host": names[0] if names else "localhost",
                "loadbalancer_backend_port": int(claim.get("http_port") or 80),
                "loadbalancer_health_path": claim.get("health_path") or "/health",
                "loadbalancer_default_server": index == 0,
            }
        )
    for app in sorted(set(removed) - set(by_app)):
        sites.append(
            {
                **settings,
                **connection,
                "name": f"{app}@{balancer}",
                "groups": ["flaskops_balancer_removals"],
                "flaskops_host": balancer,
                "loadbalancer_name": app,
            }
        )
    return sites


def host_batches(instances: Iterable[str], serial: Any = 1, limit: Iterable[str] | None = None) -> list[int]:
    """A play's serial that rolls machines, not apps: deploy_serial counted in the hosts the apps run on.

    ``instances`` are a play's hosts in order, an app among several being "<app>@<host>"; the apps of one host
    come one after the other (as ``app_instances.yml`` adds them). ``serial`` is deploy_serial: a number, "N%"
    or a list of them, counted in hosts as Ansible counts them; ``limit``, when given, the inventory hosts
    --limit lets in. Returns the sizes of the batches in inventory hosts, e.g. ['a@web1', 'b@web1', 'a@web2']
    with serial 1 -> [2, 1]: the apps of a host switch together, one host out of the balancers at a time.
    """
    allowed = None if limit is None else set(limit)
    runs: list[list[str]] = []
    for name in instances:
        if allowed is not None and name not in allowed:
            continue
        host = name.split("@", 1)[1] if "@" in name else name
        if runs and runs[-1][0] == host:
            runs[-1].append(name)
        else:
            runs.append([host, name])
    items = serial if isinstance(serial, list) else [serial]
    # Ansible's own reading of a play's serial: a floor, at least 1 for a percentage.
    sizes = [pct_to_int(str(item), len(runs)) for item in items] or [1]
    batches: list[int] = []
    index = 0
    while runs:
        size = sizes[min(index, len(sizes) - 1)]
        if size <= 0:
            size = len(runs)
        taken, runs = runs[:size], runs[size:]
        batches.append(sum(len(run) - 1 for run in taken))
        index += 1
    return batches or [1]


def _inside(inner: str, outer: str) -> bool:
    inner, outer = inner.rstrip("/") + "/", outer.rstrip("/") + "/"
    return inner.startswith(outer)


def _label(claim: Mapping[str, Any]) -> str:
    where = " (deployed there already)" if claim.get("deployed") else ""
    return f"{claim.get('name')}{where}"


def app_conflicts(claims: Iterable[Mapping[str, Any]]) -> list[str]:
    """What two apps of one host both claim, one message per clash, naming both apps and the host.

    Each claim: ``host``, ``name``, ``root``, ``user``, ``group``, ``socket``, ``service`` (its systemd unit's
    name), ``server_names`` and ``ports``, and ``deployed`` for an app the host already carries but which is
    not in this run (an earlier run's, another inventory's). An app in this run and the same app deployed
    before are one app, not a clash.
    """
    by_host: dict[str, list[Mapping[str, Any]]] = {}
    for claim in claims:
        by_host.setdefault(str(claim.get("host")), []).append(claim)
    messages: list[str] = []
    for host, apps in sorted(by_host.items()):
        for first, second in combinations(apps, 2):
            if first.get("deployed") and second.get("deployed"):
                continue
            pair = f"{host}: apps {_label(first)} and {_label(second)}"
            if first.get("name") == second.get("name"):
                if not (first.get("deployed") or second.get("deployed")):
                    messages.append(f"{pair} have the same app_name; each app needs its own")
                continue
            for key, variable in (
                ("user", "app_user"),
                ("group", "app_group"),
                ("socket", "gunicorn_socket_path"),
                ("service", "gunicorn_service_name"),
            ):
                if first.get(key) and first.get(key) == second.get(key):
                    messages.append(f"{pair} have the same {variable} ({first.get(key)}); each app needs its own")
            root_a, root_b = str(first.get("root", "")), str(second.get("root", ""))
            if root_a and root_b and (_inside(root_a, root_b) or _inside(root_b, root_a)):
                relation = "the same app_root" if root_a.rstrip("/") == root_b.rstrip("/") else "nested app_roots"
                messages.append(
                    f"{pair} have {relation} ({root_a}, {root_b}); one app's tree (its environment file, its "
                    "shared data) would become the other's"
                )
            for port in sorted(set(map(int, first.get("ports") or [])) & set(map(int, second.get("ports") or []))):
                names = sorted(set(first.get("server_names") or []) & set(second.get("server_names") or []))
                if names:
                    messages.append(
                        f"{pair} both answer {', '.join(names)} on port {port}: nginx would keep one site and "
                        "drop the other; give each app its own nginx_server_names or port"
                    )
    return messages


def balancer_conflicts(claims: Iterable[Mapping[str, Any]], balancer: str, port: Any = 80) -> list[str]:
    """Server names two apps would both answer on a balancer, where every app's site listens on its one port."""
    by_app: dict[str, Mapping[str, Any]] = {}
    for claim in claims:
        by_app.setdefault(str(claim["name"]), claim)
    return app_conflicts(
        {"host": balancer, "name": app, "server_names": claim.get("server_names") or [], "ports": [port]}
        for app, claim in sorted(by_app.items())
    )


class FilterModule:
    """flaskops.deploy filters for several apps on a host."""

    def filters(self) -> dict[str, Any]:
        return {
            "app_entries_errors": app_entries_errors,
            "app_conflicts": app_conflicts,
            "app_host": app_host,
            "balancer_sites": balancer_sites,
            "backend_group": backend_group,
            "balancer_conflicts": balancer_conflicts,
            "singleton_hosts": singleton_hosts,
            "host_batches": host_batches,
        }
