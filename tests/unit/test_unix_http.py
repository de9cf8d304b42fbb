"""unix_http.get against real servers on Unix sockets: an HTTP app, one that never answers, one that is not HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import ThreadingUnixStreamServer
from typing import ClassVar

import pytest
from ansible_collections.flaskops.deploy.plugins.module_utils.unix_http import get, parse_status


class Handler(BaseHTTPRequestHandler):
    """Answers each path as the test says; remembers what it was asked."""

    routes: ClassVar[dict[str, tuple[int, bytes, float]]] = {}
    seen: ClassVar[list[tuple[str, str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.request_version, self.path, self.headers.get("Host", "")))
        status, body, delay = self.routes.get(self.path, (404, b"no such page", 0.0))
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def app(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "app.sock")
    Handler.routes, Handler.seen = {}, []
    httpd = ThreadingUnixStreamServer(path, Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield path
    httpd.shutdown()
    httpd.server_close()


def serve_once(path: str, reply: bytes) -> threading.Thread:
    """A server that reads one request and sends reply, whatever was asked, then closes."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def answer() -> None:
        connection, _address = listener.accept()
        connection.recv(65536)
        connection.sendall(reply)
        connection.close()
        listener.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_an_answer_gives_its_status_and_body(app: str) -> None:
    Handler.routes["/health"] = (200, b'{"status": "ok"}', 0.0)
    assert get(app, "/health", soon()) == (200, '{"status": "ok"}', "")
    assert Handler.seen == [("HTTP/1.0", "/health", "localhost")]


def test_an_error_status_is_an_answer_too(app: str) -> None:
    Handler.routes["/health"] = (503, b"warming up", 0.0)
    answer = get(app, "/health", soon())
    assert answer.status == 503 and answer.body == "warming up" and answer.why == ""


def test_a_large_body_is_read_to_its_end(app: str) -> None:
    Handler.routes["/big"] = (200, b"x" * 300_000, 0.0)
    assert len(get(app, "/big", soon()).body) == 300_000


def test_a_slow_answer_is_waited_for(app: str) -> None:
    Handler.routes["/slow"] = (200, b"done", 0.8)
    asked: list[float] = []

    def waiting() -> str:
        asked.append(time.monotonic())
        return ""

    answer = get(app, "/slow", soon(), waiting, poll=0.1)
    assert answer.status == 200 and answer.body == "done"
    assert len(asked) >= 3  # asked while it waited, and told to go on


def test_waiting_ends_the_wait_with_its_reason(silent_socket: str) -> None:
    start = time.monotonic()

    def waiting() -> str:
        return "the service exited" if time.monotonic() - start > 0.5 else ""

    assert get(silent_socket, "/health", soon(30), waiting, poll=0.1) == (-1, "", "the service exited")
    assert time.monotonic() - start < 2


def test_no_answer_runs_out_at_the_deadline(silent_socket: str) -> None:
    start = time.monotonic()
    assert get(silent_socket, "/health", soon(0.6)) == (-1, "", "no answer in time")
    assert 0.6 <= time.monotonic() - start < 2


def test_a_missing_socket_refuses(tmp_path: Path) -> None:
    answer = get(str(tmp_path / "none.sock"), "/health", soon())
    assert answer.status == -1 and answer.why.startswith("the socket refused the request: ")


def test_an_answer_that_is_not_http_says_so(tmp_path: Path) -> None:
    path = str(tmp_path / "other.sock")
    thread = serve_once(path, b"SSH-2.0-OpenSSH_9.2\r\n")
    assert get(path, "/health", soon()) == (-1, "", "the answer was not HTTP")
    thread.join(5)


def test_a_connection_closed_without_an_answer_is_not_http(tmp_path: Path) -> None:
    path = str(tmp_path / "closes.sock")
    thread = serve_once(path, b"")
    assert get(path, "/health", soon()).why == "the answer was not HTTP"
    thread.join(5)


def test_status_line_parsing() -> None:
    assert parse_status(b"HTTP/1.1 200 OK\r\nServer: x") == 200
    assert parse_status(b"HTTP/1.0 502 Bad Gateway") == 502
    assert parse_status(b"garbage") == -1
    assert parse_status(b"") == -1
