"""Every report notebook: stored clean (no outputs, one ``parameters`` cell) and runs at
smoke size (papermill's protocol; parameters from ``tests/notebook_smoke_params.yaml``)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_reports_figures_once import check_figures_once

from ardlib.reports import run_report
from ardlib.study._cli import run_study_command

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SMOKE_PARAMS = Path(__file__).with_name("notebook_smoke_params.yaml")
SMOKE_STUDIES = Path(__file__).with_name("notebook_smoke_studies.yaml")
# Notebooks whose smoke run is slow go here (they then run in the slow tier): more than 20 s,
# or, for problems (about 6 s: a kernel and every registered problem), more than the fast
# tier can afford; test_reports_run keeps run_report's kernel path in the fast tier.
SLOW: set[str] = {"validation", "deployment", "benchmark", "problems", "test_selection"}


def _smoke_params() -> dict[str, Any]:
    data = yaml.safe_load(SMOKE_PARAMS.read_text()) or {}
    assert isinstance(data, dict), f"{SMOKE_PARAMS.name} must map notebook names to parameters"
    return data


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


def test_smoke_params_name_existing_notebooks() -> None:
    unknown = sorted(set(_smoke_params()) - {p.stem for p in NOTEBOOKS})
    assert unknown == [], f"{SMOKE_PARAMS.name} has entries for missing notebooks: {unknown}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    dirty = [
        f"cell {i} ({' '.join(cell.source.split())[:40]!r}): "
        + ", ".join(
            what
            for what, bad in (
                ("outputs", bool(cell.get("outputs"))),
                ("execution_count", cell.get("execution_count") is not None),
            )
            if bad
        )
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert dirty == [], f"{path.name} is stored with outputs; clear them: " + "; ".join(dirty)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_has_one_parameters_cell(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: cells tagged 'parameters': {tagged}; need exactly one"
    assert nb.cells[tagged[0]].cell_type == "code", f"{path.name}: the parameters cell is not code"


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A repository-shaped working directory: a copy of data/, an empty reports/, and
    ``../shared`` pointing at the real shared directory, so notebooks write nothing into the
    working tree."""
    root = tmp_path / "repo"
    root.mkdir()
    if (ROOT / "data").is_dir():
        shutil.copytree(ROOT / "data", root / "data", symlinks=True)
    shared = (ROOT.parent / "shared").resolve()
    if shared.is_dir():
        os.symlink(shared, tmp_path / "shared")
    return root


def _smoke_cases() -> list[Any]:
    return [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else [])
        for p in NOTEBOOKS
    ]


@pytest.mark.parametrize("path", _smoke_cases())
def test_notebook_runs_at_smoke_size(path: Path, sandbox: Path) -> None:
    params = _smoke_params().get(path.stem) or {}
    if path.stem == "benchmark":  # compare this checkout's HEAD with its working tree
        params = {**params, "repo": str(ROOT), "baseline_revision": "HEAD"}
    if path.stem == "test_selection":  # the collected mutants (DVC), checked against ROOT's git
        if not (ROOT / "data" / "testsel" / "meta.json").is_file():
            pytest.skip("no data/testsel here: dvc pull, or dvc repro testsel-collect (~30 min)")
        params = {**params, "repo": str(ROOT), "data_dir": str(ROOT / "data" / "testsel")}
    setup = (yaml.safe_load(SMOKE_STUDIES.read_text()) or {}).get(path.stem)
    if setup:  # the studies the notebook reads, produced as the pipeline would
        spec = sandbox / "smoke_studies.yaml"
        spec.write_text(yaml.safe_dump({"studies": setup["studies"]}))
        args = argparse.Namespace(
            params=str(spec),
            section="studies",
            out=str(sandbox / setup["out"]),
            only=None,
            workers=2,
            scheduler=None,
            no_progress=True,
        )
        assert run_study_command(args) == 0
    result = run_report(
        path.stem,
        params,
        notebooks_dir=ROOT / "notebooks",
        out_dir=sandbox / "reports",
        cwd=sandbox,
    )
    assert result.passed
    assert result.html_path.is_file()
    # Each figure once (issue 15): checked on this run rather than on a second execution.
    problems = check_figures_once(result.executed_path, html=result.html_path)
    assert problems == [], f"{path.stem}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_papermill_sees_every_parameter(path: Path) -> None:
    """papermill's parser silently drops a line it cannot read (a comment holding '>=' did);
    the pipeline then refuses that parameter."""
    import ast

    import nbformat

    from ardlib.reports._run import notebook_parameters

    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assigned = {
        t.id
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert set(notebook_parameters(path)) == assigned
