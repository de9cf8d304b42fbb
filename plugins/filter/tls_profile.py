"""Mozilla's "intermediate" TLS profile, in one place for the nginx and loadbalancer roles."""

from __future__ import annotations

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


class FilterModule:
    """flaskops.deploy filters for TLS."""

    def filters(self) -> dict[str, Any]:
        return {"tls_profile": tls_profile}
