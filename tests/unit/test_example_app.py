"""The bundled example app answers what the README promises."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest
from flask.testing import FlaskClient

APP_FILE = Path(__file__).resolve().parents[2] / "roles" / "app" / "files" / "example" / "app.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flaskops_example_app", APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client() -> FlaskClient:
    return _load_example().app.test_client()


def test_health(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_data(client: FlaskClient) -> None:
    response = client.get("/data")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Microservice response"}


def test_unknown_path_is_404(client: FlaskClient) -> None:
    assert client.get("/nope").status_code == 404


def test_cpu_endpoint_does_the_same_work_every_time(client: FlaskClient) -> None:
    first = client.get("/cpu")
    second = client.get("/cpu")
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert first.get_json()["iterations"] == 60_000


def test_cpu_work_is_deterministic_and_scales() -> None:
    module = _load_example()
    assert module.cpu_work(10) == sum(n * n % 7 for n in range(10))
    assert module.cpu_work(1000) != module.cpu_work(2000)


def test_io_endpoint_waits_about_50_ms(client: FlaskClient) -> None:
    started = time.perf_counter()
    response = client.get("/io")
    waited = time.perf_counter() - started
    assert response.status_code == 200
    assert response.get_json() == {"waited_ms": 50}
    assert waited >= 0.05
