"""The processes scenario's app: a web side and RQ jobs (tasks.py) in one release, as shops have them."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, jsonify

VERSION = (Path(__file__).parent / "version.txt").read_text().strip()

app = Flask(__name__)


@app.get("/health")
def health() -> tuple[Response, int]:
    return jsonify({"status": "ok"}), 200


@app.get("/version")
def version() -> Response:
    return jsonify({"version": VERSION})
