"""Shared fixtures; no bytecode lands in role files/ directories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.dont_write_bytecode = True

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def _expose_collection() -> None:
    """Make `ansible_collections.flaskops.deploy` importable from the checkout."""
    import ansible_collections  # the ansible package's own namespace

    ansible_collections.__path__.append(str(ROOT / "collections" / "ansible_collections"))


_expose_collection()
