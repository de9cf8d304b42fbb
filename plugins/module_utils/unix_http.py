"""One HTTP GET over a Unix socket: how the modules ask gunicorn for its health behind its socket.

The request is HTTP/1.0 with ``Connection: close``, so the answer ends where the connection does: no
keep-alive or chunked body to parse, and the same bytes whether the app is asked by release_preflight
(a release beside the live one) or live_health (the live one, just restarted).
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from typing import NamedTuple

# Longest wait to connect and send; a socket whose backlog is full blocks connect() until then.
CONNECT_TIMEOUT = 5.0


class Answer(NamedTuple):
    """An HTTP answer (status, body), or status -1 and why there is none."""

    status: int
    body: str
    why: str


def request(url_path: str) -> bytes:
    return f"GET {url_path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()


def parse_status(head: bytes) -> int:
    """The status code of an HTTP answer, -1 if it is not one."""
    parts = head.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return -1


def parse_answer(answer: bytes) -> Answer:
    head, _sep, body = answer.partition(b"\r\n\r\n")
    status = parse_status(head)
    return Answer(status, body.decode("utf-8", errors="replace"), "" if status != -1 else "the answer was not HTTP")


def get(
    socket_path: str,
    url_path: str,
    deadline: float,
    waiting: Callable[[], str] | None = None,
    poll: float = 0.25,
) -> Answer:
    """GET url_path on the socket, waiting for the answer until deadline (time.monotonic()).

    While no byte comes, waiting() is asked every poll seconds: a non-empty answer (the unit behind the
    socket crashed) ends the wait at once with that reason. Without it, a request queued on the socket of
    a dead service would wait out the whole deadline.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(max(0.1, min(CONNECT_TIMEOUT, deadline - time.monotonic())))
        try:
            sock.connect(socket_path)
            sock.sendall(request(url_path))
        except OSError as error:
            return Answer(-1, "", f"the socket refused the request: {error}")
        return _read(sock, deadline, waiting, poll)
    finally:
        sock.close()


def _read(sock: socket.socket, deadline: float, waiting: Callable[[], str] | None, poll: float) -> Answer:
    """The whole answer, read as it comes (select, so that waiting() runs between reads)."""
    answer = b""
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([sock], [], [], poll)
        if not ready:
            why = waiting() if waiting else ""
            if why:
                return Answer(-1, "", why)
            continue
        try:
            chunk = sock.recv(65536)
        except OSError as error:
            return Answer(-1, "", f"the connection broke: {error}")
        if not chunk:
            return parse_answer(answer)
        answer += chunk
    return Answer(-1, "", "no answer in time")
