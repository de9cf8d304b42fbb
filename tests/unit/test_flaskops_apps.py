"""flaskops_apps: the entries checked, and the apps of one host kept apart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ansible_collections.flaskops.deploy.plugins.filter.flaskops_apps import (
    FilterModule,
    app_conflicts,
    app_entries_errors,
    app_host,
    backend_group,
    balancer_conflicts,
    balancer_sites,
    host_batches,
    singleton_hosts,
)


def test_good_entries_pass() -> None:
    apps = [
        {"app_name": "shop", "nginx_server_names": ["shop.example.com"], "gunicorn_worker_class": "sync"},
        {"app_name": "blog", "app_state": "absent"},
    ]
    assert app_entries_errors(apps) == []


@pytest.mark.parametrize(
    ("apps", "message"),
    [
        ({"app_name": "shop"}, "flaskops_apps must be a list of maps"),
        (["shop"], r"flaskops_apps\[0\] must be a map with app_name"),
        ([{"app_name": "Shop!"}], r"flaskops_apps\[0\]: app_name='Shop!' must be lower case"),
        ([{"nginx_listen_port": 80}], r"flaskops_apps\[0\]: app_name=None"),
        (
            [{"app_name": "a"}, {"app_name": "a"}],
            r"flaskops_apps\[1\] \(a\): app_name a is already the name of flaskops_apps\[0\]",
        ),
        ([{"app_name": "a", "app_state": "gone"}], "app_state='gone' must be one of: present, absent"),
        (
            [{"app_name": "a", "nginx_server_name": ["a.example.com"]}],
            r"nginx_server_name is no variable of an app; did you mean nginx_server_names\?",
        ),
        ([{"app_name": "a", "python_packages": []}], "python_packages is a setting of the whole host"),
        (
            [{"app_name": "a", "nginx_worker_connections": 4096}],
            "nginx_worker_connections is a setting of the whole host",
        ),
        ([{"app_name": "a", "colour": "blue"}], "colour is no variable of an app; an entry takes"),
    ],
)
def test_bad_entries_are_named(apps: Any, message: str) -> None:
    errors = app_entries_errors(apps)
    assert len(errors) == 1
    assert re.search(message, errors[0]), errors


def _claim(name: str, host: str = "web1", **claim: Any) -> dict[str, Any]:
    base = {
        "host": host,
        "name": name,
        "root": f"/srv/{name}",
        "user": name,
        "group": name,
        "socket": f"/run/gunicorn/{name}.sock",
        "service": f"gunicorn-{name}",
        "server_names": [f"{name}.example.com"],
        "ports": [80],
    }
    return {**base, **claim}


def test_apps_apart_do_not_clash() -> None:
    assert app_conflicts([_claim("shop"), _claim("blog"), _claim("shop", host="web2")]) == []


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (_claim("blog", root="/srv/shop"), "web1: apps shop and blog have the same app_root (/srv/shop, /srv/shop)"),
        (_claim("blog", root="/srv/shop/blog"), "nested app_roots"),
        (_claim("blog", user="shop"), "have the same app_user (shop)"),
        (_claim("blog", group="shop"), "have the same app_group (shop)"),
        (_claim("blog", socket="/run/gunicorn/shop.sock"), "have the same gunicorn_socket_path"),
        (_claim("blog", service="gunicorn-shop"), "have the same gunicorn_service_name"),
        (_claim("blog", server_names=["shop.example.com"]), "both answer shop.example.com on port 80"),
        (_claim("shop"), "have the same app_name"),
    ],
)
def test_clashes_name_both_apps(second: dict[str, Any], message: str) -> None:
    messages = app_conflicts([_claim("shop"), second])
    assert any(message in text for text in messages), messages


def test_the_same_name_on_another_port_is_no_clash() -> None:
    assert app_conflicts([_claim("shop"), _claim("blog", server_names=["shop.example.com"], ports=[8080])]) == []


def test_a_root_that_only_starts_alike_is_not_nested() -> None:
    assert app_conflicts([_claim("shop"), _claim("shop2", root="/srv/shop2")]) == []


def test_an_app_deployed_before_counts_and_is_named_so() -> None:
    deployed = _claim("legacy", root="/srv/shop", deployed=True)
    messages = app_conflicts([_claim("shop"), deployed])
    assert messages == [
        "web1: apps shop and legacy (deployed there already) have the same app_root (/srv/shop, /srv/shop); "
        "one app's tree (its environment file, its shared data) would become the other's"
    ]


def test_an_app_and_its_own_earlier_deploy_are_one_app() -> None:
    assert app_conflicts([_claim("shop"), _claim("shop", deployed=True)]) == []
    # Two apps deployed before do not stop this run: only what this run brings is refused.
    assert app_conflicts([_claim("a", deployed=True), _claim("b", root="/srv/a", deployed=True)]) == []


def test_an_app_host_has_the_hosts_settings_with_its_entry_over_them() -> None:
    entry = {"app_name": "blog", "nginx_listen_port": 8080}
    settings = {"nginx_listen_port": 80, "nginx_tls_enabled": True}
    connection = {"ansible_host": "10.0.0.5", "ansible_user": "deploy"}
    assert app_host(entry, "web1", settings, connection) == {
        "app_runs_singletons": True,
        "name": "blog@web1",
        "groups": ["flaskops_app_instances"],
        "flaskops_host": "web1",
        "app_name": "blog",
        "nginx_listen_port": 8080,
        "nginx_tls_enabled": True,
        "ansible_host": "10.0.0.5",
        "ansible_user": "deploy",
    }
    removed = app_host({"app_name": "old", "app_state": "absent"}, "web1", {}, {})
    assert removed["groups"] == ["flaskops_app_removals"]


def test_a_balancer_gets_a_site_per_app_over_the_hosts_that_carry_it() -> None:
    claims = [
        {"name": "shop", "server_names": ["shop.example.com"], "http_port": 80, "health_path": "/health"},
        {
            "name": "blog",
            "server_names": ["blog.example.com", "www.blog.example.com"],
            "http_port": 8080,
            "health_path": "/ping",
        },
        {"name": "shop", "server_names": ["shop.example.com"], "http_port": 80, "health_path": "/health"},
    ]
    sites = balancer_sites(
        claims, "lb1", {"loadbalancer_tls_enabled": True}, {"ansible_host": "10.0.0.9"}, removed=["old"]
    )
    assert [site["name"] for site in sites] == ["blog@lb1", "shop@lb1", "old@lb1"]
    blog, shop, old = sites
    assert blog["groups"] == ["flaskops_balancer_sites"] and old["groups"] == ["flaskops_balancer_removals"]
    assert blog["loadbalancer_backend_group"] == "flaskops_hosts_blog" == backend_group("blog")
    assert (blog["loadbalancer_backend_host"], blog["loadbalancer_backend_port"], blog["loadbalancer_health_path"]) == (
        "blog.example.com",
        8080,
        "/ping",
    )
    # One catch-all default server on the balancer: the first site's.
    assert [blog["loadbalancer_default_server"], shop["loadbalancer_default_server"]] == [True, False]
    assert shop["loadbalancer_tls_enabled"] and shop["ansible_host"] == "10.0.0.9" and shop["flaskops_host"] == "lb1"
    assert backend_group("my-app") == "flaskops_hosts_my_app"


def test_two_apps_answering_one_name_clash_on_the_balancer_whatever_their_hosts_ports() -> None:
    claims = [
        {"name": "shop", "server_names": ["localhost", "shop.example.com"]},
        {"name": "blog", "server_names": ["localhost"]},
        {"name": "shop", "server_names": ["localhost", "shop.example.com"]},
    ]
    assert balancer_conflicts(claims, "lb1", 80) == [
        "lb1: apps blog and shop both answer localhost on port 80: nginx would keep one site and drop the other; "
        "give each app its own nginx_server_names or port"
    ]
    assert balancer_conflicts(claims[:1] + claims[2:], "lb1") == []


def test_each_apps_singletons_run_on_the_first_host_that_carries_it() -> None:
    hosts = ["web1", "web2", "web3"]
    host_vars = [
        {"flaskops_apps": [{"app_name": "shop"}, {"app_name": "blog", "app_state": "absent"}]},
        {"flaskops_apps": [{"app_name": "shop"}, {"app_name": "blog"}]},
        {"app_name": "api"},  # a host with one app
    ]
    first = singleton_hosts(hosts, host_vars)
    assert first == {"shop": "web1", "blog": "web2", "api": "web3"}
    assert app_host({"app_name": "shop"}, "web2", {}, {}, first)["app_runs_singletons"] is False
    assert app_host({"app_name": "blog"}, "web2", {}, {}, first)["app_runs_singletons"] is True
    # The host's variables or the entry choose otherwise.
    assert app_host({"app_name": "shop", "app_runs_singletons": True}, "web2", {}, {}, first)["app_runs_singletons"]
    assert singleton_hosts(["web1"], [{}]) == {"flaskapp": "web1"}
    # A play's app_name (not in hostvars) names the app of every host with one app, not those with flaskops_apps.
    assert singleton_hosts(["web1", "web2", "web3"], [{}, {"app_name": "a"}, host_vars[0]], "sync") == {
        "sync": "web1",
        "shop": "web3",
    }


def test_the_filters_are_registered() -> None:
    assert set(FilterModule().filters()) == {
        "app_entries_errors",
        "app_conflicts",
        "app_host",
        "balancer_sites",
        "backend_group",
        "balancer_conflicts",
        "singleton_hosts",
        "host_batches",
    }


CLUSTER = ["flaskapp@app1", "shop@app1", "blog@app1", "flaskapp@app2", "shop@app2", "api@app2", "solo"]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, [3, 3, 1]),
        ("1", [3, 3, 1]),
        (2, [6, 1]),
        ("50%", [3, 3, 1]),  # 50 % of 3 hosts rounds down to 1
        ("100%", [7]),
        ("10%", [3, 3, 1]),  # at least 1 host
        ([1, "100%"], [3, 4]),
        ([1, 1, 5], [3, 3, 1]),
    ],
)
def test_host_batches_count_machines(serial: Any, expected: list[int]) -> None:
    assert host_batches(CLUSTER, serial) == expected
    assert sum(expected) == len(CLUSTER)


def test_host_batches_one_app_hosts_are_ansibles_own_serial() -> None:
    assert host_batches(["web1", "web2", "web3"], 2) == [2, 1]
    assert host_batches(["web1", "web2", "web3"], "34%") == [1, 1, 1]


def test_host_batches_follow_the_limit() -> None:
    limit = ["shop@app1", "shop@app2", "solo"]
    assert host_batches(CLUSTER, 1, limit) == [1, 1, 1]
    assert host_batches(CLUSTER, 1, ["nothing"]) == [1]
    assert host_batches([], 1) == [1]
