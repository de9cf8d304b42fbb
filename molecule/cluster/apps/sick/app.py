"""A test app whose /health answers 500 on one host only: the one named in sick_host.txt."""

from __future__ import annotations

import socket
from pathlib import Path

from flask import Flask, Response, jsonify

HERE = Path(__file__).parent
VERSION = (HERE / "version.txt").read_text().strip()
SICK_HOST = (HERE / "sick_host.txt").read_text().strip()

app = Flask(__name__)


@app.get("/health")
def health() -> tuple[Response, int]:
    if socket.gethostname() == SICK_HOST:
        return jsonify({"status": "failing", "host": SICK_HOST}), 500
    return jsonify({"status": "ok"}), 200


@app.get("/version")
def version() -> Response:
    return jsonify({"version": VERSION})
