"""What a user of nginx_tls_acme and loadbalancer_tls_acme notices, with pebble as the CA.

The hosts reach each other by the scenario network's aliases; every HTTPS check verifies the chain against
pebble's root (fetched from its management port), as a browser would against Let's Encrypt's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import testinfra
from testinfra.host import Host

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
INVENTORY = EPHEMERAL / "inventory"
ROOT = "/root/pebble-root.pem"
HMAC_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


def _host(name: str) -> Host:
    return testinfra.get_host(f"ansible://flaskops-acme-{name}?ansible_inventory={INVENTORY}")


@pytest.fixture(scope="module")
def hosts() -> dict[str, Host]:
    """The hosts, each holding pebble's root (it is made anew each time pebble starts)."""
    found = {name: _host(name) for name in ("ca", "web", "app", "lb1", "lb2")}
    for name in ("web", "app", "lb1", "lb2"):
        found[name].run_expect([0], f"curl -sSf https://ca.flaskops.test:15000/roots/0 -o {ROOT}")
    return found


def _https(host: Host, name: str, path: str = "/") -> tuple[str, str]:
    """Status and headers of https://name/path on the host's own 443, verified with pebble's root."""
    out = host.check_output(
        f"curl -sS --cacert {ROOT} --resolve {name}:443:127.0.0.1 -D - -o /dev/null https://{name}{path}"
    )
    return out.splitlines()[0], out


def _served(host: Host, name: str) -> dict[str, str]:
    out = host.check_output(
        f"openssl s_client -connect 127.0.0.1:443 -servername {name} </dev/null 2>/dev/null"
        " | openssl x509 -noout -serial -issuer -ext subjectAltName -nameopt RFC2253"
    )
    lines = out.splitlines()
    return {
        "serial": next(line.split("=", 1)[1] for line in lines if line.startswith("serial=")),
        "issuer": next(line.split("=", 1)[1] for line in lines if line.startswith("issuer=")),
        "names": next((line.strip() for line in lines if "DNS:" in line), ""),
    }


@pytest.mark.parametrize("name", ["shop.flaskops.test", "www.shop.flaskops.test"])
def test_the_app_host_serves_the_cas_certificate_for_each_name(hosts: dict[str, Host], name: str) -> None:
    status, headers = _https(hosts["web"], name, "/health")
    assert " 200" in status, headers
    assert "strict-transport-security: max-age=63072000" in headers.lower()


def test_the_certificate_names_both_names_and_comes_from_pebble(hosts: dict[str, Host]) -> None:
    served = _served(hosts["web"], "shop.flaskops.test")
    assert "DNS:shop.flaskops.test" in served["names"] and "DNS:www.shop.flaskops.test" in served["names"]
    assert "Pebble Intermediate CA" in served["issuer"]


def test_plain_http_redirects_but_answers_the_challenge_path(hosts: dict[str, Host]) -> None:
    web = hosts["web"]
    web.run_expect([0], "install -D -m 0644 /dev/null /var/lib/flaskops-acme/.well-known/acme-challenge/probe")
    web.run_expect([0], "echo token > /var/lib/flaskops-acme/.well-known/acme-challenge/probe")
    redirect = web.check_output(
        "curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: shop.flaskops.test' http://127.0.0.1/cart"
    )
    assert redirect == "301 https://shop.flaskops.test/cart"
    challenge = web.check_output(
        "curl -sS -H 'Host: shop.flaskops.test' http://127.0.0.1/.well-known/acme-challenge/probe"
    )
    assert challenge == "token"


def test_certbots_timer_renews_and_its_hook_reloads_nginx_after_a_test(hosts: dict[str, Host]) -> None:
    for name in ("web", "lb1"):
        timer = hosts[name].service("certbot.timer")
        assert timer.is_enabled and timer.is_running, name
        hook = hosts[name].file("/etc/letsencrypt/renewal-hooks/deploy/50-flaskops-reload-nginx")
        assert hook.mode == 0o755 and hook.user == "root"
        assert "nginx -t -q\nsystemctl reload nginx" in hook.content_string


def test_keys_stay_private_on_the_hosts(hosts: dict[str, Host]) -> None:
    web = hosts["web"]
    assert web.file("/etc/letsencrypt/accounts").mode == 0o700
    assert web.file("/etc/letsencrypt/archive").mode == 0o700
    keys = web.check_output("find /etc/letsencrypt/archive /etc/nginx/tls -name '*key*' -type f -printf '%m %p\\n'")
    assert keys and all(line.startswith("600 ") for line in keys.splitlines()), keys
    for name in ("web", "lb1", "lb2"):
        found = hosts[name].run(f"grep -rl {HMAC_KEY} /etc /var/log /root /run")
        assert found.rc == 1, f"{name}: the EAB key is in {found.stdout}"


def test_the_output_reports_each_expiry_and_never_the_eab_key() -> None:
    log = PROJECT / ".molecule-logs" / "acme.log"
    if not log.exists():
        pytest.skip("run by scripts/molecule.sh (make test), which keeps the scenario's output")
    # Molecule frames and folds Ansible's output: unframe it, then read it as one line.
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
    text = " ".join(re.sub(r"^ *│ ?", "", line).strip() for line in text.splitlines())
    assert "TASK [flaskops.deploy.nginx : Ask the CA for the certificate" in text
    assert HMAC_KEY not in text
    expiry = (
        r"serial [0-9a-f]+, expires 20\d\d-\d\d-\d\dT[\d:+]+ \(\d+ days left\); certbot.timer renews it 30 days before"
    )
    assert re.search(
        r"HTTPS for shop.flaskops.test, www.shop.flaskops.test: certificate from CN=Pebble Intermediate CA [0-9a-f]+, "
        + expiry,
        text,
    )
    assert re.search(
        r"HTTPS for lb.flaskops.test: certificate from CN=Pebble Intermediate CA [0-9a-f]+, " + expiry, text
    )
    assert re.search(
        r"flaskops-acme-lb2 serves the certificate of flaskops-acme-lb1 for lb.flaskops.test: serial [0-9a-f]+", text
    )
    assert re.search(
        r"flaskops-acme-lb2 serves serial [0-9a-f]+ for lb.flaskops.test, expiring .* the same as flaskops-acme-lb1",
        text,
    )


def test_both_balancers_serve_one_certificate_issued_once(hosts: dict[str, Host]) -> None:
    first, second = _served(hosts["lb1"], "lb.flaskops.test"), _served(hosts["lb2"], "lb.flaskops.test")
    assert "Pebble Intermediate CA" in first["issuer"] and first["names"] == "DNS:lb.flaskops.test"
    assert first["serial"] == second["serial"]
    # certbot and its account live on the first balancer only; the second holds a copy of the pair.
    assert hosts["lb1"].file("/etc/letsencrypt/live/flaskapp-lb/fullchain.pem").exists
    assert not hosts["lb2"].package("certbot").is_installed
    copy = hosts["lb2"].file("/etc/nginx/tls/flaskapp-lb.acme.key")
    assert copy.is_file and not copy.is_symlink and copy.mode == 0o600


@pytest.mark.parametrize("balancer", ["lb1", "lb2"])
def test_each_balancer_terminates_tls_and_forwards_to_the_app_host(hosts: dict[str, Host], balancer: str) -> None:
    status, headers = _https(hosts[balancer], "lb.flaskops.test", "/health")
    assert " 200" in status, headers
    assert "x-served-by: flaskops-acme-app" in headers.lower()
    assert "strict-transport-security: max-age=63072000" in headers.lower()
    version = hosts[balancer].check_output(
        f"curl -sS --http2 --cacert {ROOT} --resolve lb.flaskops.test:443:127.0.0.1 -o /dev/null"
        " -w '%{http_version}' https://lb.flaskops.test/health"
    )
    assert version == "2"
    redirect = hosts[balancer].check_output(
        "curl -sS -o /dev/null -w '%{redirect_url}' -H 'Host: lb.flaskops.test' http://127.0.0.1/health"
    )
    assert redirect == "https://lb.flaskops.test/health"


def test_the_app_host_behind_the_balancers_needs_no_certificate(hosts: dict[str, Host]) -> None:
    app = hosts["app"]
    assert not app.file("/etc/letsencrypt").exists
    assert not app.socket("tcp://0.0.0.0:443").is_listening


# --- Refusals on the balancers, before anything changes -----------------------------
SNAPSHOT = (
    "find /etc/nginx /etc/letsencrypt -xdev \\( -type f -o -type l \\) -printf '%p %s %m %T@ %l\\n' | sort;"
    " systemctl show -p MainPID -p ExecMainStartTimestamp nginx.service"
)
BAD = {
    "loadbalancer_server_names": ["lb.flaskops.test", "192.0.2.7"],
    "loadbalancer_acme_email": "",
    "loadbalancer_acme_directory_url": "http://ca.flaskops.test/dir",
}


@pytest.fixture(scope="module")
def refused(hosts: dict[str, Host]) -> dict[str, Any]:
    before = {name: hosts[name].check_output(SNAPSHOT) for name in ("lb1", "lb2")}
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    }
    cmd = ["ansible-playbook", "-i", str(INVENTORY), str(PROJECT / "site.yml"), "-e", json.dumps(BAD)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=600)
    after = {name: hosts[name].check_output(SNAPSHOT) for name in ("lb1", "lb2")}
    return {"rc": result.returncode, "out": result.stdout + result.stderr, "before": before, "after": after}


@pytest.mark.parametrize(
    "phrase",
    [
        '["192.0.2.7"]',
        "loadbalancer_server_names=",
        "works for DNS names only",
        'loadbalancer_acme_email="" must be an e-mail address',
        'loadbalancer_acme_directory_url="http://ca.flaskops.test/dir" must be an https:// URL',
    ],
)
def test_bad_acme_settings_on_the_balancers_are_refused(refused: dict[str, Any], phrase: str) -> None:
    assert refused["rc"] != 0
    assert phrase in refused["out"].replace('\\"', '"')


def test_a_refusal_changes_nothing_on_the_balancers(refused: dict[str, Any]) -> None:
    assert refused["rc"] != 0
    assert refused["before"] == refused["after"]
