"""TLS for the nginx and loadbalancer roles, written once: Mozilla's "intermediate" profile, the front's rules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# https://ssl-config.mozilla.org/ "intermediate" (guidelines 5.7): TLS 1.2 and 1.3, AEAD ciphers with
# forward secrecy; TLS 1.3's ciphers need no choosing.
_INTERMEDIATE_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
)
# The standard ffdhe2048 group of RFC 7919, which Mozilla recommends for DHE instead of generated parameters.
_FFDHE2048 = """-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""

_PROFILES: dict[str, dict[str, Any]] = {
    "intermediate": {
        "protocols": list(_INTERMEDIATE_PROTOCOLS),
        "ciphers": list(_INTERMEDIATE_CIPHERS),
        "dhparam": _FFDHE2048,
    },
}


def tls_profile(name: str, part: str | None = None) -> Any:
    """The profile called name (its protocols, ciphers and DH group), or one part of it."""
    if name not in _PROFILES:
        raise AnsibleFilterError(f"tls_profile: no profile {name!r}; known: {', '.join(sorted(_PROFILES))}")
    profile = _PROFILES[name]
    if part is None:
        return {key: (list(value) if isinstance(value, list) else value) for key, value in profile.items()}
    if part not in profile:
        raise AnsibleFilterError(f"tls_profile: no part {part!r}; known: {', '.join(sorted(profile))}")
    value = profile[part]
    return list(value) if isinstance(value, list) else value


# A name the CA can prove over HTTP-01 (a file fetched from it on port 80): a DNS name with a dot, no
# wildcard, no IP address (v4 or v6).
_NOT_HTTP01 = re.compile(r"^(\*|.*\*.*|[0-9.]+|.*:.*|[^.]+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIRECTORY_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")
_CIPHER = re.compile(r"^[A-Za-z0-9+!@=_.-]+$")
_FRONT_SETTINGS = (
    "listen_port",
    "https_port",
    "tls_enabled",
    "tls_acme",
    "tls_self_signed",
    "tls_certificate",
    "tls_certificate_key",
    "tls_protocols",
    "tls_ciphers",
    "hsts_max_age",
    "acme_email",
    "acme_directory_url",
    "acme_eab_kid",
    "acme_eab_hmac_key",
    "server_names",
)


def _json(value: Any) -> str:
    return json.dumps(value)


def _port(value: Any) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    return port if 1 <= port <= 65535 else None


def front_errors(settings: Mapping[str, Any], prefix: str, names_variable: str) -> list[str]:
    """What is wrong with a front end's TLS, HTTPS, HSTS and ACME settings, each message naming the variables.

    settings holds the front end's values without its prefix (see _FRONT_SETTINGS), and where the front end has it,
    tls_certificate_src. prefix is the role's ("nginx", "loadbalancer"), names_variable the variable that lists the
    names to certify. An app's site and the load balancer's check the same rules with these words.
    """
    if prefix not in ("nginx", "loadbalancer"):
        raise AnsibleFilterError(f"front_errors: prefix must be nginx or loadbalancer, not {prefix!r}")
    missing = [key for key in _FRONT_SETTINGS if key not in settings]
    if missing:
        raise AnsibleFilterError(f"front_errors: settings lack {', '.join(missing)}")
    errors = _tls_errors(settings, prefix)
    errors += _acme_errors(settings, prefix, names_variable)
    return errors


def _tls_errors(settings: Mapping[str, Any], prefix: str) -> list[str]:
    errors: list[str] = []
    tls = bool(settings["tls_enabled"])
    https = _port(settings["https_port"])
    if https is None or (tls and https == _port(settings["listen_port"])):
        errors.append(
            f"{prefix}_https_port={_json(settings['https_port'])} must be a TCP port number from 1 to 65535,"
            f" other than {prefix}_listen_port ({_json(settings['listen_port'])})."
        )
    own = [str(settings["tls_certificate"] or ""), str(settings["tls_certificate_key"] or "")]
    if (
        tls
        and not settings["tls_acme"]
        and (
            bool(settings["tls_self_signed"]) == any(own)
            or (any(own) and not all(path.startswith("/") for path in own))
        )
    ):
        errors.append(
            f"{prefix}_tls_enabled=true needs {prefix}_tls_acme=true, {prefix}_tls_self_signed=true or both"
            f" {prefix}_tls_certificate and {prefix}_tls_certificate_key as absolute paths on the host, exactly one"
            f" of them (got {prefix}_tls_self_signed={_json(bool(settings['tls_self_signed']))},"
            f" {_json(own[0])} and {_json(own[1])})."
        )
    ciphers = [str(cipher) for cipher in settings["tls_ciphers"] or []]
    if not ciphers or any(not _CIPHER.match(cipher) for cipher in ciphers):
        errors.append(
            f"{prefix}_tls_ciphers={_json(ciphers)} must be a non-empty list of OpenSSL cipher names,"
            ' e.g. ["ECDHE-RSA-AES128-GCM-SHA256"].'
        )
    try:
        max_age_ok = int(settings["hsts_max_age"]) >= 0
    except (TypeError, ValueError):
        max_age_ok = False
    if not settings["tls_protocols"] or not max_age_ok:
        errors.append(
            f"{prefix}_tls_protocols={_json(list(settings['tls_protocols'] or []))} must name at least one protocol,"
            f" and {prefix}_hsts_max_age={_json(settings['hsts_max_age'])} be 0 seconds or more."
        )
    return errors


def _acme_errors(settings: Mapping[str, Any], prefix: str, names_variable: str) -> list[str]:
    errors: list[str] = []
    acme = bool(settings["tls_acme"])
    excluded = [f"{prefix}_tls_self_signed=true", f"{prefix}_tls_certificate"] + (
        [f"{prefix}_tls_certificate_src"] if "tls_certificate_src" in settings else []
    )
    own = [str(settings.get(key) or "") for key in ("tls_certificate", "tls_certificate_key", "tls_certificate_src")]
    if acme and (not settings["tls_enabled"] or settings["tls_self_signed"] or any(own)):
        errors.append(
            f"{prefix}_tls_acme=true needs {prefix}_tls_enabled=true, and excludes {', '.join(excluded[:-1])}"
            f" and {excluded[-1]}"
            " (the CA's certificate takes their place)."
        )
    if acme and not _EMAIL.match(str(settings["acme_email"] or "")):
        errors.append(
            f"{prefix}_acme_email={_json(settings['acme_email'])} must be an e-mail address with"
            f" {prefix}_tls_acme=true: the CA account's contact (Let's Encrypt, ZeroSSL and most CAs send expiry"
            " and policy notices there)."
        )
    if acme and not _DIRECTORY_URL.match(str(settings["acme_directory_url"] or "")):
        errors.append(
            f"{prefix}_acme_directory_url={_json(settings['acme_directory_url'])} must be an https:// URL of an ACME"
            " directory (RFC 8555 talks to the CA over HTTPS only), e.g. https://acme-v02.api.letsencrypt.org/directory."
        )
    names = [str(name) for name in settings["server_names"] or []]
    bad = [name for name in names if _NOT_HTTP01.match(name)]
    if acme and bad:
        errors.append(
            f"{names_variable}={_json(names)}: {_json(bad)} cannot get a certificate over HTTP-01 with"
            f" {prefix}_tls_acme=true: the CA proves each name by fetching a file from it on port 80, which works for"
            " DNS names only - not for IP addresses, wildcards (*.example.com needs DNS-01) or names without a dot"
            ' such as localhost. List the public names, e.g. ["shop.example.com", "www.shop.example.com"].'
        )
    elif acme and not names:
        errors.append(f"{names_variable}=[] must list the DNS names to certify with {prefix}_tls_acme=true.")
    if bool(str(settings["acme_eab_kid"] or "")) != bool(str(settings["acme_eab_hmac_key"] or "")):
        errors.append(
            f"{prefix}_acme_eab_kid={_json(settings['acme_eab_kid'])} and {prefix}_acme_eab_hmac_key (hidden) must be"
            " set together (External Account Binding needs both), or neither."
        )
    return errors


class FilterModule:
    """flaskops.deploy filters for TLS."""

    def filters(self) -> dict[str, Any]:
        return {"tls_profile": tls_profile, "front_errors": front_errors}
