"""A sync-worker test app with static files and an upload endpoint, fronted by nginx.

Flask's own static route is off (static_folder=None): a file under /static/ that
answers 200 can only have come from nginx.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

app = Flask(__name__, static_folder=None)


@app.get("/health")
def health() -> tuple[Response, int]:
    return jsonify({"status": "ok"}), 200


@app.get("/data")
def data() -> tuple[Response, int]:
    return jsonify({"message": "Storefront response"}), 200


@app.post("/upload")
def upload() -> tuple[Response, int]:
    """Says how many bytes of body reached the app."""
    return jsonify({"received": len(request.get_data())}), 200


@app.get("/error")
def error() -> tuple[Response, int]:
    """An error the app itself answers, for the monitoring tests' 5xx ratio."""
    return jsonify({"error": "forced"}), 500
