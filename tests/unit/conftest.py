"""Shared fixtures; no bytecode lands in role files/ directories."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.dont_write_bytecode = True

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def silent_socket(tmp_path: Path) -> Iterator[str]:
    """A Unix socket that accepts connections into its backlog and never answers: a master whose workers are gone."""
    path = str(tmp_path / "silent.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(16)
    yield path
    sock.close()


def _expose_collection() -> None:
    """Make `ansible_collections.flaskops.deploy` importable from the checkout."""
    import ansible_collections  # the ansible package's own namespace

    ansible_collections.__path__.append(str(ROOT / "collections" / "ansible_collections"))


_expose_collection()
