"""The bundled example: a small Flask microservice, as in the guides."""

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/health")
def health() -> tuple[Response, int]:
    """Liveness probe used by nginx checks and deploy health gates."""
    return jsonify({"status": "ok"}), 200


@app.get("/data")
def data() -> tuple[Response, int]:
    """A stand-in for a real endpoint."""
    return jsonify({"message": "Microservice response"}), 200
