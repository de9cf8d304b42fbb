"""A test app whose behaviour follows version.txt: one source tree, every kind of release."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, jsonify

VERSION = (Path(__file__).parent / "version.txt").read_text().strip()
if VERSION == "broken":
    raise ImportError("this release cannot be imported (version.txt says broken)")

app = Flask(__name__)


@app.get("/health")
def health() -> tuple[Response, int]:
    """Fails on purpose in the release marked unhealthy."""
    if VERSION == "unhealthy":
        return jsonify({"status": "failing"}), 500
    return jsonify({"status": "ok"}), 200


@app.get("/version")
def version() -> Response:
    return jsonify({"version": VERSION})


@app.get("/greeting")
def greeting() -> Response:
    """Shows a non-secret variable from app_env, to prove env changes take effect."""
    return jsonify({"greeting": os.environ.get("GREETING", "")})
