"""The tutorials in notebooks/tutorials run from top to bottom (nbval, lax mode: every cell
must execute without error; outputs are not compared), each in a scratch copy of the
folder so the data, emulators and study stores they write stay out of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[1] / "notebooks" / "tutorials"
NOTEBOOKS = sorted(p.name for p in TUTORIALS.glob("*.ipynb"))


def test_the_two_tutorials_exist_and_carry_no_outputs() -> None:
    assert NOTEBOOKS == ["benchmark_your_planner.ipynb", "bring_your_dataset.ipynb"]
    import nbformat

    for name in NOTEBOOKS:
        nb = nbformat.read(TUTORIALS / name, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.get("outputs") and c.get("execution_count") is None for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tutorial_runs_under_nbval(name: str, tmp_path: Path) -> None:
    work = tmp_path / "tutorials"
    shutil.copytree(TUTORIALS, work, ignore=shutil.ignore_patterns("tutorial_store", "my_*"))
    shutil.copy(TUTORIALS / "my_planner.py", work / "my_planner.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", name],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
