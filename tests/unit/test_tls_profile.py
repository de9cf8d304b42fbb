"""tls_profile keeps Mozilla's intermediate profile in one place."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.flaskops.deploy.plugins.filter.tls_profile import front_errors, tls_profile


def test_intermediate_protocols_and_ciphers() -> None:
    assert tls_profile("intermediate", "protocols") == ["TLSv1.2", "TLSv1.3"]
    ciphers = tls_profile("intermediate", "ciphers")
    assert ciphers[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
    assert all("GCM" in c or "CHACHA20" in c for c in ciphers)
    assert not any(c.startswith(("AES", "RSA", "DES")) for c in ciphers), "no cipher without forward secrecy"


def test_dhparam_is_ffdhe2048() -> None:
    pem = tls_profile("intermediate", "dhparam")
    assert pem.startswith("-----BEGIN DH PARAMETERS-----\nMIIBCAKCAQEA//////////+t+FRY")
    assert pem.endswith("-----END DH PARAMETERS-----\n")


def test_whole_profile_is_a_copy() -> None:
    profile = tls_profile("intermediate")
    profile["protocols"].append("TLSv1")
    assert tls_profile("intermediate", "protocols") == ["TLSv1.2", "TLSv1.3"]


@pytest.mark.parametrize(
    ("name", "part", "message"),
    [("modern2", None, "no profile 'modern2'"), ("intermediate", "curves", "no part 'curves'")],
)
def test_unknown_names_are_refused(name: str, part: str | None, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        tls_profile(name, part)


# --- front_errors: the TLS and ACME rules an app's site and the balancer's share ------------------------------------

GOOD: dict[str, object] = {
    "listen_port": 80,
    "https_port": 443,
    "tls_enabled": True,
    "tls_acme": True,
    "tls_self_signed": False,
    "tls_certificate": "",
    "tls_certificate_key": "",
    "tls_protocols": ["TLSv1.2", "TLSv1.3"],
    "tls_ciphers": tls_profile("intermediate", "ciphers"),
    "hsts_max_age": 63072000,
    "acme_email": "ops@example.com",
    "acme_directory_url": "https://acme-v02.api.letsencrypt.org/directory",
    "acme_eab_kid": "",
    "acme_eab_hmac_key": "",
    "server_names": ["shop.example.com", "www.shop.example.com"],
}


@pytest.mark.parametrize("prefix", ["nginx", "loadbalancer"])
def test_settings_that_work_together_pass(prefix: str) -> None:
    assert front_errors(GOOD, prefix, f"{prefix}_server_names") == []
    # Without ACME, the ACME settings are not looked at (but half an EAB still is).
    assert (
        front_errors(
            {**GOOD, "tls_acme": False, "tls_self_signed": True, "acme_email": "", "server_names": ["localhost"]},
            prefix,
            "x",
        )
        == []
    )


def test_every_broken_rule_is_named_with_the_prefix() -> None:
    bad = {
        **GOOD,
        "tls_self_signed": True,
        "acme_email": "",
        "acme_directory_url": "http://acme.example.com/directory",
        "acme_eab_kid": "kid-1",
        "server_names": ["shop.example.com", "192.0.2.10", "*.example.com"],
    }
    errors = front_errors(bad, "loadbalancer", "loadbalancer_server_names")
    assert len(errors) == 5
    text = " ".join(errors)
    assert (
        "loadbalancer_tls_acme=true needs loadbalancer_tls_enabled=true, and excludes loadbalancer_tls_self_signed"
        in text
    )
    assert "tls_certificate_src" not in text  # the balancer has no such setting
    assert 'loadbalancer_acme_email="" must be an e-mail address' in text
    assert 'loadbalancer_acme_directory_url="http://acme.example.com/directory" must be an https:// URL' in text
    assert '["192.0.2.10", "*.example.com"] cannot get a certificate over HTTP-01' in text
    assert 'loadbalancer_acme_eab_kid="kid-1" and loadbalancer_acme_eab_hmac_key (hidden) must be set together' in text
    assert "nginx_" not in text


def test_nginx_names_its_certificate_from_the_controller_too() -> None:
    errors = front_errors({**GOOD, "tls_certificate_src": "/tmp/shop.crt"}, "nginx", "nginx_server_names")
    assert errors == [
        "nginx_tls_acme=true needs nginx_tls_enabled=true, and excludes nginx_tls_self_signed=true,"
        " nginx_tls_certificate and nginx_tls_certificate_src (the CA's certificate takes their place)."
    ]


@pytest.mark.parametrize(
    ("names", "phrase"),
    [
        (["localhost"], '["localhost"] cannot get a certificate'),
        (["127.0.0.1"], '["127.0.0.1"] cannot get a certificate'),
        (["2001:db8::1"], '["2001:db8::1"] cannot get a certificate'),
        (["*.example.com"], "wildcards (*.example.com needs DNS-01)"),
        ([], "nginx_server_names=[] must list the DNS names to certify"),
    ],
)
def test_names_http01_cannot_prove(names: list[str], phrase: str) -> None:
    errors = front_errors({**GOOD, "server_names": names}, "nginx", "nginx_server_names")
    assert len(errors) == 1 and phrase in errors[0]


def test_half_an_external_account_binding_is_refused_even_without_acme() -> None:
    errors = front_errors(
        {**GOOD, "tls_enabled": False, "tls_acme": False, "acme_eab_hmac_key": "secret"}, "nginx", "nginx_server_names"
    )
    assert errors == [
        'nginx_acme_eab_kid="" and nginx_acme_eab_hmac_key (hidden) must be set together (External Account Binding'
        " needs both), or neither."
    ]
    assert "secret" not in errors[0]


def test_a_caller_mistake_is_an_error_not_a_pass() -> None:
    with pytest.raises(AnsibleFilterError, match="front_errors: prefix must be nginx or loadbalancer"):
        front_errors(GOOD, "apache", "x")
    with pytest.raises(AnsibleFilterError, match="settings lack server_names"):
        front_errors({key: value for key, value in GOOD.items() if key != "server_names"}, "nginx", "x")


SELF_SIGNED: dict[str, object] = {**GOOD, "tls_acme": False, "tls_self_signed": True}


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        ({"tls_self_signed": False}, 'exactly one of them (got loadbalancer_tls_self_signed=false, "" and "")'),
        ({"tls_certificate": "/etc/ssl/lb.crt", "tls_certificate_key": "/etc/ssl/lb.key"}, "exactly one of them"),
        (
            {"tls_self_signed": False, "tls_certificate": "lb.crt", "tls_certificate_key": "/etc/ssl/lb.key"},
            'as absolute paths on the host, exactly one of them (got loadbalancer_tls_self_signed=false, "lb.crt"',
        ),
        ({"https_port": 80}, "loadbalancer_https_port=80 must be a TCP port number from 1 to 65535, other than"),
        ({"https_port": 70000}, "loadbalancer_https_port=70000 must be a TCP port number"),
        ({"tls_ciphers": ["ECDHE RSA"]}, 'loadbalancer_tls_ciphers=["ECDHE RSA"] must be a non-empty list'),
        ({"tls_ciphers": []}, "loadbalancer_tls_ciphers=[] must be a non-empty list"),
        ({"tls_protocols": []}, "loadbalancer_tls_protocols=[] must name at least one protocol"),
        ({"hsts_max_age": -1}, "loadbalancer_hsts_max_age=-1 be 0 seconds or more"),
    ],
)
def test_both_front_ends_check_https_certificate_and_profile(change: dict[str, object], phrase: str) -> None:
    errors = front_errors({**SELF_SIGNED, **change}, "loadbalancer", "loadbalancer_server_names")
    assert len(errors) == 1 and phrase in errors[0], errors
    nginx = front_errors({**SELF_SIGNED, **change}, "nginx", "nginx_server_names")
    assert nginx == [error.replace("loadbalancer_", "nginx_") for error in errors]


def test_without_tls_only_the_port_ranges_count() -> None:
    plain = {**SELF_SIGNED, "tls_enabled": False, "tls_self_signed": False, "https_port": 80}
    assert front_errors(plain, "nginx", "nginx_server_names") == []
    assert front_errors({**plain, "https_port": 0}, "nginx", "nginx_server_names") != []


def test_the_hosts_own_certificate_is_the_one_kind() -> None:
    own = {**SELF_SIGNED, "tls_self_signed": False, "tls_certificate": "/c.pem", "tls_certificate_key": "/k.pem"}
    assert front_errors(own, "nginx", "nginx_server_names") == []
    errors = front_errors({**own, "tls_acme": True}, "nginx", "nginx_server_names")
    assert len(errors) == 1 and "excludes nginx_tls_self_signed=true and nginx_tls_certificate (" in errors[0]
