"""Run inside the instance: slow clients trickle request bodies while a probe times other requests.

Usage: python3 slow_clients.py TARGET SLOW_CLIENTS SECONDS
TARGET is tcp:HOST:PORT (through nginx) or unix:PATH (straight to gunicorn's socket).
Prints JSON: the probe's latencies (seconds) and HTTP statuses (0: no answer).
Sent as a script argument (python3 -c), so it needs nothing but the standard library.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

BODY_BYTES = 100
TRICKLE_EVERY = 0.25  # seconds per byte: far below nginx's client_body_timeout


def connect(target: str) -> socket.socket:
    if target.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(target[len("unix:") :])
        return sock
    host, port = target[len("tcp:") :].rsplit(":", 1)
    return socket.create_connection((host, int(port)))


def slow_client(target: str, seconds: float) -> None:
    """A POST whose body arrives a byte at a time and never completes within `seconds`."""
    sock = connect(target)
    head = (
        "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {BODY_BYTES}\r\n\r\n"
    )
    sock.sendall(head.encode())
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.sendall(b"x")
        time.sleep(TRICKLE_EVERY)
    sock.close()


def probe_once(target: str, timeout: float) -> int:
    sock = connect(target)
    sock.settimeout(timeout)
    sock.sendall(b"GET /data HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def main(target: str, slow_clients: int, seconds: float) -> None:
    threads = [threading.Thread(target=slow_client, args=(target, seconds)) for _ in range(slow_clients)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # every slow client is connected and trickling
    latencies: list[float] = []
    statuses: list[int] = []
    deadline = time.monotonic() + seconds - 1.0
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            statuses.append(probe_once(target, seconds + 5))
        except OSError:
            statuses.append(0)
        latencies.append(round(time.monotonic() - start, 4))
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    print(json.dumps({"latencies": latencies, "statuses": statuses}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
