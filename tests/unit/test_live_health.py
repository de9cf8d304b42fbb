"""live_health against a real HTTP server on a Unix socket; the unit's state is what systemctl would print."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import ThreadingUnixStreamServer
from typing import ClassVar

import pytest
from ansible_collections.flaskops.deploy.plugins.module_utils import systemd, unix_http
from ansible_collections.flaskops.deploy.plugins.modules import live_health
from module_runner import fake_systemd, run_module


class Handler(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    delay = 0.0

    def do_GET(self) -> None:
        time.sleep(self.delay)
        status = self.answers.pop(0) if self.answers else 200
        body = b'{"status": "ok"}' if status == 200 else b"not yet"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "app.sock")
    Handler.answers, Handler.delay = [], 0.0
    httpd = ThreadingUnixStreamServer(path, Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield path
    httpd.shutdown()
    httpd.server_close()


def up() -> str:
    return ""


def test_a_healthy_service_answers_at_once(server: str) -> None:
    result = live_health.watch(server, "/health", 5, up)
    assert result["healthy"] and result["status"] == 200 and result["seconds"] < 2


def test_a_slow_answer_is_waited_for_not_cut_off(server: str) -> None:
    Handler.delay = 1.5
    result = live_health.watch(server, "/health", 5, up)
    assert result["healthy"]
    assert result["seconds"] >= 1.5


def test_it_asks_again_after_an_answer_other_than_200(server: str) -> None:
    Handler.answers = [503, 503]
    result = live_health.watch(server, "/health", 5, up, retry_pause=0.05)
    assert result["healthy"]


def test_a_lasting_error_answer_is_reported(server: str) -> None:
    Handler.answers = [500] * 1000
    result = live_health.watch(server, "/health", 1, up, retry_pause=0.05)
    assert not result["healthy"] and result["status"] == 500
    assert "it answered 500: not yet" in result["reason"]


def test_a_crash_ends_the_wait_long_before_the_timeout(silent_socket: str) -> None:
    start = time.monotonic()
    crash_at = start + 0.6

    def still_up() -> str:
        return "the service exited" if time.monotonic() > crash_at else ""

    result = live_health.watch(silent_socket, "/health", 30, still_up)
    assert not result["healthy"] and result["reason"] == "the service exited"
    assert time.monotonic() - start < 3


def test_no_answer_at_all_runs_out_at_the_timeout(silent_socket: str) -> None:
    result = live_health.watch(silent_socket, "/health", 1, up)
    assert not result["healthy"] and result["status"] == -1
    assert 1 <= result["seconds"] < 3


def test_a_missing_socket_is_asked_again_until_the_timeout(tmp_path: Path) -> None:
    result = live_health.watch(str(tmp_path / "none.sock"), "/health", 1, up, retry_pause=0.1)
    assert not result["healthy"] and "refused" in result["reason"]


@pytest.mark.parametrize(
    ("state", "before", "down"),
    [
        ({"ActiveState": "active", "SubState": "running", "NRestarts": "2"}, 2, False),
        ({"ActiveState": "activating", "SubState": "start", "NRestarts": "0"}, 0, False),
        ({"ActiveState": "activating", "SubState": "auto-restart", "NRestarts": "0"}, 0, True),
        ({"ActiveState": "active", "SubState": "running", "NRestarts": "3"}, 2, True),
        ({"ActiveState": "failed", "SubState": "failed", "Result": "exit-code"}, 0, True),
        ({"ActiveState": "inactive", "SubState": "dead", "NRestarts": "0"}, 0, True),
        ({}, 0, False),
    ],
)
def test_what_counts_as_a_crash(state: dict[str, str], before: int, down: bool) -> None:
    assert bool(systemd.crashed(state, before)) is down


def test_status_line_parsing() -> None:
    assert unix_http.parse_status(b"HTTP/1.1 200 OK\r\nServer: x") == 200
    assert unix_http.parse_status(b"HTTP/1.0 502 Bad Gateway") == 502
    assert unix_http.parse_status(b"garbage") == -1


def test_the_journal_summary_leads_with_the_cause() -> None:
    journal = "\n".join(
        [
            "[INFO] Booting worker with pid: 7985",
            "Traceback (most recent call last):",
            '  File "/srv/app/app.py", line 9, in <module>',
            "OSError: [Errno 30] Read-only file system: '/var/lib/flaskapp-state/loaded'",
            "[ERROR] Worker (pid:7985) exited with code 3.",
            "[INFO] Worker (pid:7986) was sent SIGTERM!",
            "[INFO] Shutting down: Master",
            "[INFO] Reason: Worker failed to boot.",
        ]
    )
    summary = systemd.journal_summary(journal, tail=2)
    assert summary[0].startswith("OSError: [Errno 30] Read-only file system")
    assert summary[-1] == "[INFO] Reason: Worker failed to boot."
    assert len(summary) == len(set(summary))


def test_a_failed_unit_is_reported_at_once_with_its_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = {"ActiveState": "failed", "SubState": "failed", "Result": "exit-code", "NRestarts": "0"}
    journal = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'shop'\n[INFO] Reason: boot"
    fake_systemd(
        tmp_path / "bin", monkeypatch, {"gunicorn-shop.service": {"before": failed}}, {"gunicorn-shop.service": journal}
    )
    args = {"unit": "gunicorn-shop.service", "socket": str(tmp_path / "none.sock"), "timeout": 30}
    result = run_module(live_health, args, monkeypatch)
    assert result["healthy"] is False and result["status"] == -1 and result["seconds"] == 0.0
    assert result["reason"] == (
        "the unit failed (exit-code) | ModuleNotFoundError: No module named 'shop'"
        " | Traceback (most recent call last): | [INFO] Reason: boot"
    )
