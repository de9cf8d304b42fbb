"""The monitoring role's release metrics script (roles/monitoring/files/release-metrics.py), run on real files."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "monitoring" / "files" / "release-metrics.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_metrics", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _paths(root: Path) -> dict[str, str]:
    """An app's paths as apps.json gives them (the app role's app_identity: history_file, current_link)."""
    return {"history": str(root / "releases.log"), "current": str(root / "current")}


def _app(root: Path, live: str | None, entries: list[dict[str, str]], junk: str = "") -> None:
    (root / "releases").mkdir(parents=True)
    if live:
        (root / "releases" / live).mkdir()
        os.symlink(f"releases/{live}", root / "current")
    lines = [json.dumps(entry) for entry in entries] + ([junk] if junk else [])
    (root / "releases.log").write_text("".join(line + "\n" for line in lines))


def test_the_live_release_its_source_and_the_deploy_counts(script: ModuleType, tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    _app(
        shop,
        "bbbbbbbbbbbb",
        [
            {
                "time": "2026-12-01T10:00:00Z",
                "release": "aaaaaaaaaaaa",
                "result": "live",
                "action": "deploy",
                "source": "v1",
            },
            {
                "time": "2026-12-02T10:00:00Z",
                "release": "bbbbbbbbbbbb",
                "result": "live",
                "action": "deploy",
                "source": "v2",
            },
            {"time": "2026-12-03T10:00:00Z", "release": "cccccccccccc", "result": "refused", "action": "deploy"},
        ],
        junk="not json",
    )
    apps = tmp_path / "apps.json"
    apps.write_text(json.dumps([{"name": "shop", **_paths(shop), "service": "gunicorn-shop", "workers": 3}]))
    out = tmp_path / "flaskops.prom"
    assert script.main(str(apps), str(out)) == 0
    text = out.read_text()
    assert 'flaskops_release_info{app="shop",release="bbbbbbbbbbbb",source="v2"} 1' in text
    assert 'flaskops_release_live_since_timestamp_seconds{app="shop"} 1796205600.0' in text
    assert 'flaskops_deploys_total{app="shop",action="deploy",result="live"} 2' in text
    assert 'flaskops_deploys_total{app="shop",action="deploy",result="refused"} 1' in text
    assert 'flaskops_last_deploy_timestamp_seconds{app="shop",result="refused"} 1796292000.0' in text
    assert 'flaskops_gunicorn_workers_configured{app="shop"} 3' in text
    assert "# TYPE flaskops_deploys_total counter" in text
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert not list(tmp_path.glob(".flaskops-*")), "the temporary file is left behind"


def test_an_app_not_deployed_yet_and_label_values_escaped(script: ModuleType, tmp_path: Path) -> None:
    new = tmp_path / "new"
    _app(new, None, [])
    odd = tmp_path / "odd"
    _app(odd, "dddddddddddd", [{"time": "x", "release": "dddddddddddd", "result": "live", "source": 'dir "a\\b"'}])
    apps = [{"name": "new", **_paths(new), "workers": 2}, {"name": "odd", **_paths(odd), "workers": 1}]
    lines = script.app_metrics(apps[0]) + script.app_metrics(apps[1])
    assert 'flaskops_release_info{app="new",release="",source=""} 1' in lines
    assert 'flaskops_release_live_since_timestamp_seconds{app="new"} 0.0' in lines
    assert 'flaskops_release_info{app="odd",release="dddddddddddd",source="dir \\"a\\\\b\\""} 1' in lines
