"""The dashboard takes its colours from ``ardlib._palette``, the source the figures use too."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from ardlib._palette import OKABE_ITO, dashboard_palette
from ardlib.reports import planner_color

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest_plugins = ["conftest_service"]

STATIC = Path(__file__).resolve().parents[1] / "ardlib" / "service" / "static"
NAMES = [
    "random", "RandomSearch", "sobol", "Latin-Hypercube", "GP_BO", "bayesian_optimization",
    "adaptive_router", "reinforcement_learning", "thompson-42", "q.EI", "x", "Ünïcode bo",
]  # fmt: skip


def test_the_served_page_carries_the_palette(
    tmp_path: Path, serve_app: Any, settings_for: Any
) -> None:
    from ardlib.service import create_app

    app = create_app(settings_for(f"sqlite:///{tmp_path / 'service.db'}"))
    with serve_app(app) as server:
        page = httpx.get(f"{server.url}/analytics.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    meta = re.search(r'<meta name="ardlib-palette" content="([^"]*)">', page.text)
    assert meta is not None
    assert json.loads(html.unescape(meta.group(1))) == dashboard_palette()


def test_the_dashboard_script_copies_no_palette_colour() -> None:
    script = (STATIC / "analytics.js").read_text().upper()
    assert [c for c in OKABE_ITO if c.upper() in script] == []


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_dashboard_colours_methods_as_the_figures_do() -> None:
    script = (STATIC / "analytics.js").read_text()
    function = re.search(r"\n  function methodColor\(method\) \{\n.*?\n  \}\n", script, re.S)
    assert function is not None
    program = (
        f"const PALETTE = {json.dumps(dashboard_palette())};\n{function.group(0)}\n"
        f"console.log(JSON.stringify({json.dumps(NAMES)}.map(methodColor)));"
    )
    out = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [planner_color(n) for n in NAMES]
