"""tls_profile keeps Mozilla's intermediate profile in one place."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.flaskops.deploy.plugins.filter.tls_profile import tls_profile


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
