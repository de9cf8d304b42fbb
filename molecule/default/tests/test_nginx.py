"""nginx as the production front end, as a client of the two sites would notice it.

flaskapp (gthread) is served over TLS on 443, its port 80 redirects; storefront (two sync workers) is
on plain HTTP 8080 with static files, a 1m body limit and a rate limit of 20r/s (burst 10).
Everything runs inside the instance against its own loopback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from testinfra.host import Host

TLS_APP = "flaskapp"
TLS_CERT = f"/etc/nginx/tls/{TLS_APP}.crt"
TLS_KEY = f"/etc/nginx/tls/{TLS_APP}.key"
HTTPS = "https://localhost"
SYNC_APP = "storefront"
SYNC_SOCKET = f"/run/gunicorn/{SYNC_APP}.sock"
PLAIN = "http://127.0.0.1:8080"
BODY_LIMIT = 1024 * 1024  # nginx_client_max_body_size: 1m in converge.yml
HASHED_ASSET = "/static/css/site.3f9a1c2e7b.css"
SLOW_CLIENTS_SCRIPT = (Path(__file__).parent / "slow_clients.py").read_text()


def _curl(host: Host, *args: str) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-case names) and body of one request made inside the instance."""
    placeholders = " ".join(["%s"] * len(args))
    cmd = host.run(f"curl -4 -sS -i --max-time 10 --cacert {TLS_CERT} {placeholders}", *args)
    assert cmd.rc == 0, (cmd.rc, cmd.stderr)
    head, _, body = cmd.stdout.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


# --- Static files, bodies, compression ----------------------------------------------------------------


def test_a_hashed_static_file_is_served_by_nginx_for_a_year(host: Host) -> None:
    status, headers, body = _curl(host, f"{PLAIN}{HASHED_ASSET}")
    assert status == 200
    assert body == host.file(f"/srv/{SYNC_APP}/current{HASHED_ASSET}").content_string
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    # The app has no static route: gunicorn itself answers 404 for the same path.
    direct = host.run(
        "runuser -u www-data -- curl -sS -o /dev/null -w '%%{http_code}' --unix-socket %s http://localhost%s",
        SYNC_SOCKET,
        HASHED_ASSET,
    )
    assert direct.stdout == "404", direct.stdout


def test_a_static_file_without_hash_is_cached_briefly(host: Host) -> None:
    status, headers, body = _curl(host, f"{PLAIN}/static/hello.txt")
    assert status == 200
    assert body.startswith("A plain static file")
    assert headers["cache-control"] == "public, max-age=3600"


def test_text_is_compressed(host: Host) -> None:
    # Headers only (-D -): the compressed body stays out of the output.
    out = host.check_output("curl -sS -D - -o /dev/null -H 'Accept-Encoding: gzip' %s", f"{PLAIN}{HASHED_ASSET}")
    assert out.startswith("HTTP/1.1 200"), out
    assert re.search(r"^Content-Encoding: gzip\s*$", out, re.MULTILINE | re.IGNORECASE), out


@pytest.mark.parametrize(("size", "expected"), [(BODY_LIMIT - 1024, 200), (BODY_LIMIT + 1, 413)])
def test_an_upload_under_the_limit_passes_and_one_over_gets_413(host: Host, size: int, expected: int) -> None:
    cmd = host.run(
        "head -c %s /dev/zero | curl -sS -w '\\n%%{http_code}' --max-time 20 "
        "-H 'Content-Type: application/octet-stream' --data-binary @- %s/upload",
        str(size),
        PLAIN,
    )
    assert cmd.rc == 0, cmd.stderr
    body, _, status = cmd.stdout.rpartition("\n")
    assert int(status) == expected, cmd.stdout
    if expected == 200:
        assert json.loads(body) == {"received": size}


# --- TLS -----------------------------------------------------------------------------------------------


def _handshake(host: Host, port: int, *options: str) -> str:
    placeholders = " ".join(["%s"] * len(options))
    cmd = host.run(
        f"echo | timeout 10 openssl s_client -connect 127.0.0.1:%s -servername localhost {placeholders}",
        str(port),
        *options,
    )
    return cmd.stdout if cmd.rc == 0 else f"FAILED rc={cmd.rc}: {cmd.stderr[-300:]}"


@pytest.mark.parametrize("version", ["1_2", "1_3"])
def test_tls_1_2_and_1_3_handshakes_succeed(host: Host, version: str) -> None:
    out = _handshake(host, 443, f"-tls{version}")
    # OpenSSL 3.0 (Debian 12) prints "Protocol : TLSv1.x"; 3.5 (Debian 13) only "New, TLSv1.x, Cipher is".
    assert re.search(rf"(Protocol\s*:\s*|New, )TLSv{version.replace('_', '.')}\b", out), out


def test_tls_1_1_is_refused_by_nginx(host: Host) -> None:
    # The client offers TLS 1.1 with the legacy ciphers it needs (security level 0). A throwaway
    # openssl server that allows TLS 1.1 completes the very same handshake, so the refusal below is
    # nginx's, not a client that cannot speak TLS 1.1.
    legacy = ("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    control = host.run(
        "timeout 10 openssl s_server -accept 127.0.0.1:14443 -cert %s -key %s -tls1_1 -cipher DEFAULT:@SECLEVEL=0 "
        "-naccept 1 -quiet & sleep 1; _out=$(echo | timeout 5 openssl s_client -connect 127.0.0.1:14443 %s %s %s); "
        '_rc=$?; wait; echo "$_out"; exit $_rc',
        TLS_CERT,
        TLS_KEY,
        *legacy,
    )
    assert control.rc == 0 and re.search(r"Protocol\s*:\s*TLSv1\.1", control.stdout), control.stdout + control.stderr
    assert _handshake(host, 443, *legacy).startswith("FAILED")


def test_https_answers_with_http2_and_a_certificate_for_the_name(host: Host) -> None:
    cmd = host.run(
        "curl -4 -sS --http2 --cacert %s -w '\\n%%{http_version}' %s/data",
        TLS_CERT,
        HTTPS,
    )
    assert cmd.rc == 0, cmd.stderr  # --cacert: the self-signed certificate is valid for "localhost"
    body, _, version = cmd.stdout.rpartition("\n")
    assert json.loads(body) == {"message": "Microservice response"}
    assert version == "2"


def test_http_redirects_to_https(host: Host) -> None:
    status, headers, _ = _curl(host, "http://localhost/data?page=2")
    assert status == 301
    assert headers["location"] == f"{HTTPS}/data?page=2"


# --- Headers ------------------------------------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "SAMEORIGIN",
    "content-security-policy": "frame-ancestors 'self'",
}


@pytest.mark.parametrize(
    "url", [f"{HTTPS}/data", f"{HTTPS}/no-such-page", f"{PLAIN}/data", f"{PLAIN}{HASHED_ASSET}", f"{PLAIN}/static/nope"]
)
def test_security_headers_are_on_every_answer(host: Host, url: str) -> None:
    _, headers, _ = _curl(host, url)
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, headers)
    if url.startswith(HTTPS):
        assert headers["strict-transport-security"] == "max-age=63072000"
    else:
        assert "strict-transport-security" not in headers  # HSTS only over HTTPS


@pytest.mark.parametrize("url", [f"{HTTPS}/data", f"{PLAIN}/static/nope", f"{PLAIN}/upload"])
def test_the_nginx_version_is_not_disclosed(host: Host, url: str) -> None:
    status, headers, body = _curl(host, url)  # a proxied answer, nginx's own 404 and the app's 405
    assert headers["server"] == "nginx", (status, headers)
    assert not re.search(r"nginx/\d", body)


# --- Limits and unknown names -------------------------------------------------------------------------


def _hey_statuses(host: Host, url: str) -> dict[int, int]:
    out = host.check_output("hey -n 120 -c 12 -t 10 %s", url)
    assert "Error distribution" not in out, out
    return {int(code): int(count) for code, count in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}


def test_past_the_rate_limit_the_client_gets_429(host: Host) -> None:
    limited = _hey_statuses(host, f"{PLAIN}/health")
    print(f"storefront, 20r/s burst 10, 120 requests at once: {limited}")
    assert set(limited) == {200, 429}, limited
    assert limited[200] >= 11  # the burst passes
    assert limited[429] >= 60  # most of the rest does not
    # The same load on the site without a limit: every request passes.
    unlimited = _hey_statuses(host, f"{HTTPS}/health")
    assert unlimited == {200: 120}, unlimited


@pytest.mark.parametrize("url", ["http://127.0.0.1/", f"{PLAIN}/", "http://127.0.0.1:8080/static/hello.txt"])
def test_an_unknown_host_gets_no_answer(host: Host, url: str) -> None:
    known = host.run("curl -4 -sS -o /dev/null --max-time 5 %s", url)
    assert known.rc == 0, known.stderr
    unknown = host.run("curl -4 -sS -o /dev/null --max-time 5 -H 'Host: unknown.example' %s", url)
    assert unknown.rc == 52, (unknown.rc, unknown.stderr)  # 52: empty reply, nginx closed the connection (444)


def test_an_unknown_name_gets_no_tls_handshake(host: Host) -> None:
    cmd = host.run(
        "curl -sS -k -o /dev/null --max-time 5 --resolve unknown.example:443:127.0.0.1 https://unknown.example/"
    )
    assert cmd.rc == 35, (cmd.rc, cmd.stderr)  # 35: the handshake was refused, no certificate shown


# --- Slow clients -------------------------------------------------------------------------------------


def _slow_clients(host: Host, target: str, user: str) -> tuple[list[float], list[int]]:
    cmd = host.run("runuser -u %s -- python3 -c %s %s 6 6", user, SLOW_CLIENTS_SCRIPT, target)
    assert cmd.rc == 0, cmd.stderr
    result = json.loads(cmd.stdout)
    return result["latencies"], result["statuses"]


def test_slow_clients_do_not_occupy_the_sync_workers(host: Host) -> None:
    """Six clients trickle request bodies for 6 s at two sync workers; others must keep their latency."""
    # Straight at gunicorn's socket, the slow clients hold both workers: the other requests wait.
    direct_latencies, _ = _slow_clients(host, f"unix:{SYNC_SOCKET}", "www-data")
    # Through nginx, which holds the slow bodies itself, they are answered at once.
    latencies, statuses = _slow_clients(host, "tcp:127.0.0.1:8080", "nobody")
    print(
        f"6 slow clients, 2 sync workers: straight at the socket {len(direct_latencies)} probes, slowest "
        f"{max(direct_latencies):.3f} s; through nginx {len(latencies)} probes, slowest {max(latencies):.3f} s"
    )
    assert max(direct_latencies) > 2.0, direct_latencies  # proves the slow clients do hold sync workers
    assert len(latencies) >= 20
    assert set(statuses) == {200}, statuses
    assert max(latencies) < 0.5, latencies


# --- Friendly error pages -----------------------------------------------------------------------------


def test_maintenance_flag_gives_503_with_a_friendly_page(host: Host) -> None:
    flag = f"/etc/nginx/maintenance/{SYNC_APP}.on"
    host.run_expect([0], "touch %s", flag)
    try:
        status, headers, body = _curl(host, f"{PLAIN}/data")
        static_status, _, _ = _curl(host, f"{PLAIN}/static/hello.txt")
    finally:
        host.run_expect([0], "rm -f %s", flag)
    assert status == 503
    assert "Down for maintenance" in body
    assert headers.get("retry-after") == "60"
    assert static_status == 200  # the page's assets still load
    assert _curl(host, f"{PLAIN}/data")[0] == 200


def test_an_app_that_does_not_answer_gives_502_with_a_friendly_page(host: Host) -> None:
    units = f"gunicorn-{SYNC_APP}.socket gunicorn-{SYNC_APP}.service"
    host.run_expect([0], f"systemctl stop {units}")
    try:
        status, _, body = _curl(host, f"{PLAIN}/data")
    finally:
        host.run_expect([0], f"systemctl start gunicorn-{SYNC_APP}.socket")
    assert status == 502
    assert "Back in a moment" in body
    assert _curl(host, f"{PLAIN}/data")[0] == 200
