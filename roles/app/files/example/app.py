"""The bundled example: a small Flask microservice, as in the guides.

Besides /health and /data it has two benchmark endpoints for the loadtest role
and `make bench`: /cpu does a fixed amount of pure-Python work (about 5 ms on
one core of a current server; it holds the GIL the whole time) and /io waits
50 ms without using the CPU, standing in for a database or an API call.
"""

import time

from flask import Flask, Response, jsonify

app = Flask(__name__)

# Loop turns of /cpu: about 5 ms of CPython 3.11 on the 2 vCPU test machines.
CPU_WORK_ITERATIONS = 60_000

# Seconds /io waits, as a typical database round trip would.
IO_WAIT_SECONDS = 0.05


def cpu_work(iterations: int = CPU_WORK_ITERATIONS) -> int:
    """The same arithmetic every call, so each request costs the same CPU."""
    total = 0
    for number in range(iterations):
        total += number * number % 7
    return total


@app.get("/health")
def health() -> tuple[Response, int]:
    """Liveness probe used by nginx checks and deploy health gates."""
    return jsonify({"status": "ok"}), 200


@app.get("/data")
def data() -> tuple[Response, int]:
    """A stand-in for a real endpoint."""
    return jsonify({"message": "Microservice response"}), 200


@app.get("/cpu")
def cpu() -> tuple[Response, int]:
    """CPU-bound: fixed Python work, no waiting."""
    return jsonify({"iterations": CPU_WORK_ITERATIONS, "result": cpu_work()}), 200


@app.get("/io")
def io() -> tuple[Response, int]:
    """I/O-bound: waits like a database call (gevent's patched sleep yields)."""
    time.sleep(IO_WAIT_SECONDS)
    return jsonify({"waited_ms": int(IO_WAIT_SECONDS * 1000)}), 200
