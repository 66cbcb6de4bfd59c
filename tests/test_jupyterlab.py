"""The Explorer in a real JupyterLab, driven through Debian's Chromium like a user would.

A JupyterLab server from this environment runs on a loopback port chosen by the OS, with a
token, its root in a temporary folder and every per-user Jupyter/IPython setting folder
there too, so no user setting is read (the environment's own ``.venv/etc/jupyter`` is, as
for ``make lab``). The notebook it opens reads a small results table written by the test
and leaves ``Explorer(...)`` last in its only cell. Chromium runs the notebook through
JupyterLab's own "Run > Run All Cells" menu, waits for the Explorer's figure, ticks the
"log scale" box and waits for the figure's pixels to change. Requests to anything but the
server are refused, so the test needs no network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "ardlib-jupyterlab-test"
NOTEBOOK = "explore.ipynb"
START_TIMEOUT = 30.0  # seconds for the server to write its runtime file
UI_TIMEOUT_MS = 30_000  # for JupyterLab to load, the kernel to run the cell, the widget to draw
REDRAW_TIMEOUT = 10.0  # seconds for a control change to reach the figure (well under 1 s here)

# A drawn <img> of the Explorer: its size and how much of it is not background.
IMAGE_JS = """img => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250) ink += 1;
    }
    const box = img.getBoundingClientRect();
    return {
        natural: [img.naturalWidth, img.naturalHeight],
        shown: [box.width, box.height],
        ink: ink / Math.max(1, pixels.length / 4),
        data: canvas.toDataURL("image/png"),
    };
}"""
IMAGE = ".jp-OutputArea-output img.widget-image"
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def _missing() -> str | None:
    """Why the test cannot run here, or None."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Debian's chromium is not installed at {CHROMIUM}"
    for module, extra in (
        ("jupyterlab", "lab"),
        ("playwright.sync_api", "browser"),
        ("ipywidgets", "reports"),
        ("matplotlib", "reports"),
    ):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install 'ardlib[{extra}]')"
    return None


if (_why := _missing()) is not None:
    pytest.skip(_why, allow_module_level=True)

from playwright.sync_api import Page, Route, sync_playwright  # noqa: E402

from ardlib.deploy._browser import CHROMIUM_ARGS  # noqa: E402


def small_study(seed: int = 7) -> pd.DataFrame:
    """1 problem × 1 noise × 2 planners × 6 replicates × 8 steps, positive regrets, tidy.

    Six replicates: the fewest the paired comparison accepts.
    """
    rng = np.random.default_rng(seed)
    steps, reps = 8, 6
    frames = []
    for planner, factor in (("bo", 0.05), ("random", 1.0)):
        regret = factor * np.exp(-0.4 * np.arange(steps))[None, :]
        regret = regret * np.exp(0.3 * rng.normal(size=(reps, steps)))
        rep, step = np.meshgrid(np.arange(reps), np.arange(steps), indexing="ij")
        frames.append(
            pd.DataFrame(
                {
                    "problem": "toy",
                    "noise": "none",
                    "planner": planner,
                    "replicate": rep.ravel(),
                    "step": step.ravel(),
                    "regret_rec": regret.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_notebook(path: Path) -> None:
    """One code cell, not yet run: read the table and leave the Explorer last."""
    source = 'from ardlib.reports import Explorer\n\nExplorer("results.parquet")'
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "explorer",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def isolated_env(home: Path) -> dict[str, str]:
    """This environment's variables with every per-user setting folder under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
    }
    for name, sub in dirs.items():
        (home / sub).mkdir(parents=True)
        env[name] = str(home / sub)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def wait_for_url(proc: subprocess.Popen[bytes], runtime: Path, log: Path) -> str:
    """The server's URL, from the runtime file it writes once it listens."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        for info in runtime.glob("jpserver-*.json"):
            try:
                data = json.loads(info.read_text())
            except ValueError:  # being written
                continue
            return str(data["url"]).rstrip("/")
        time.sleep(0.1)
    raise AssertionError(
        f"jupyter lab did not start in {START_TIMEOUT} s:\n{log.read_text()[-3000:]}"
    )


def _stat(pid: int) -> tuple[int, str] | None:
    """Parent pid and start time of a live process (Linux ``/proc``); None when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in "ZX" else (int(fields[1]), fields[19])  # Z: a zombie


def _children(pid: int) -> dict[int, str]:
    """The live children of ``pid`` (its kernels), with their start times."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None and stat[0] == pid:
            found[int(entry.name)] = stat[1]
    return found


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server (it shuts its kernels down); kill what survives, kernels included.

    Kernels run in sessions of their own, so they are found before the server stops and
    killed (by process group) only if the very same processes are still there after it.
    """
    kernels = _children(proc.pid)
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: the server stops and shuts its kernels down
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for pid, started in kernels.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """A running JupyterLab whose root holds the notebook and its table; yields its URL."""
    root = tmp_path / "root"
    root.mkdir()
    small_study().to_parquet(root / "results.parquet")
    write_notebook(root / NOTEBOOK)
    env = isolated_env(tmp_path / "home")
    log = tmp_path / "jupyter.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        "--ServerApp.port=0",  # the OS picks a free port; read back from the runtime file
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",  # ServerApp.token's name since jupyter_server 2
        f"--ServerApp.root_dir={root}",
        # Nothing that would look for the network: no news, no update check, no PyPI.
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # containers and CI often run as root; the server refuses without
        command.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield wait_for_url(proc, Path(env["JUPYTER_RUNTIME_DIR"]), log)
    finally:
        stop(proc)


def image_state(page: Page) -> dict[str, Any]:
    """Size, ink fraction and a digest of the pixels of the Explorer's figure."""
    state = page.locator(IMAGE).first.evaluate(IMAGE_JS)
    state["digest"] = hashlib.sha256(state.pop("data").encode()).hexdigest()
    return state


def outputs_text(page: Page) -> str:
    """What the notebook's output area shows (for failure messages)."""
    return " | ".join(page.locator(".jp-OutputArea-output").all_inner_texts())[-2000:]


def test_explorer_draws_and_redraws_in_jupyterlab(lab: str, tmp_path: Path) -> None:
    console_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})

            def loopback_only(route: Route) -> None:
                if route.request.url.startswith(lab):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", loopback_only)
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.on("pageerror", lambda err: console_errors.append(str(err)))
            try:
                _drive(page, lab)
            except BaseException:
                with contextlib.suppress(Exception):  # the picture of the failure, if any
                    page.screenshot(path=str(tmp_path / "jupyterlab.png"))
                raise
        finally:
            browser.close()
    assert not console_errors, console_errors


def _drive(page: Page, lab: str) -> None:
    page.goto(f"{lab}/lab/tree/{NOTEBOOK}?token={TOKEN}")
    # Run All before the session has its kernel would ask which kernel to start: wait for
    # the status bar to show the notebook's kernel idle.
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(state="visible")
    page.locator(".jp-StatusBar-Widget").get_by_text("Python 3 (ipykernel) | Idle").wait_for()

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    image = page.locator(IMAGE).first
    try:
        image.wait_for(state="visible")
        page.wait_for_function(
            "sel => { const i = document.querySelector(sel); return i && i.naturalWidth > 0; }",
            arg=IMAGE,
        )
    except Exception as exc:
        raise AssertionError(f"no Explorer figure; the output shows: {outputs_text(page)}") from exc
    assert page.locator(ERROR_OUTPUT).count() == 0, outputs_text(page)
    assert "Holm p" in outputs_text(page), outputs_text(page)  # the comparison table is shown

    before = image_state(page)
    assert before["natural"] == [640, 420], before  # Figure(figsize=(6.4, 4.2), dpi=100)
    assert before["shown"][0] >= 300 and before["shown"][1] >= 200, before
    assert 0.02 < before["ink"] < 0.9, before  # axes, lines and bands, not a blank or solid

    log_scale = page.get_by_role("checkbox", name="log scale")
    assert not log_scale.is_checked()
    log_scale.check()

    deadline = time.monotonic() + REDRAW_TIMEOUT
    after = image_state(page)
    while after["digest"] == before["digest"] and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        after = image_state(page)
    assert after["digest"] != before["digest"], "ticking 'log scale' did not redraw the figure"
    assert after["natural"] == before["natural"] and 0.02 < after["ink"] < 0.9, after
