"""run_report end to end on small notebooks: parameters, working directory, kernel, failure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ardlib.reports import ReportFailed, ReportResult, run_report


def _notebook(path: Path, *cells: str, params: str = "budget = 10\nlabel = 'x'") -> Path:
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell(f"# Report {path.stem}"),
            v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
            *(v4.new_code_cell(c) for c in cells),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


WRITE_INFO = """\
import json, os, sys
from pathlib import Path
Path("reports/metrics").mkdir(parents=True, exist_ok=True)
Path("reports/metrics/info.json").write_text(json.dumps(
    {"budget": budget, "label": label, "executable": sys.executable, "cwd": os.getcwd()}))
print("budget is", budget)
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository-shaped directory: notebooks/ at the top, outputs in reports/."""
    root = tmp_path / "repo"
    _notebook(root / "notebooks" / "info.ipynb", WRITE_INFO)
    _notebook(
        root / "notebooks" / "boom.ipynb", "x = 1", "raise AssertionError('check failed: 3 of 20')"
    )
    return root


@pytest.mark.slow  # a Jupyter kernel (~1 s), as every other notebook run
def test_runs_in_the_repo_root_with_typed_parameters_and_this_python(repo: Path) -> None:
    result = run_report(
        "info",
        {"budget": 30, "label": "gpbo"},
        notebooks_dir=repo / "notebooks",
        out_dir=repo / "reports",
    )
    assert isinstance(result, ReportResult)
    assert result.passed and result.error is None and result.seconds > 0
    assert result.html_path == (repo / "reports" / "info.html").resolve()
    assert result.executed_path == (repo / "reports" / "executed" / "info.ipynb").resolve()
    info = json.loads((repo / "reports" / "metrics" / "info.json").read_text())
    assert info["budget"] == 30 and info["label"] == "gpbo"
    assert Path(info["cwd"]).resolve() == repo.resolve()
    assert Path(info["executable"]).resolve() == Path(sys.executable).resolve()
    page = result.html_path.read_text()
    assert "budget is 30" in page and "<title>Report info</title>" in page
    import nbformat

    executed = nbformat.read(result.executed_path, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


@pytest.mark.slow  # a Jupyter kernel (~1-2 s)
def test_defaults_apply_without_parameters(repo: Path) -> None:
    run_report("info", notebooks_dir=repo / "notebooks", out_dir=repo / "reports")
    info = json.loads((repo / "reports" / "metrics" / "info.json").read_text())
    assert (info["budget"], info["label"]) == (10, "x")


@pytest.mark.slow  # a Jupyter kernel (~1-2 s)
def test_cwd_can_be_chosen(repo: Path, tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    run_report("info", notebooks_dir=repo / "notebooks", out_dir=sandbox / "out", cwd=sandbox)
    assert (sandbox / "reports" / "metrics" / "info.json").is_file()
    assert not (repo / "reports" / "metrics").exists()


@pytest.mark.slow  # a Jupyter kernel (~1 s)
def test_failure_renders_html_then_raises(repo: Path) -> None:
    with pytest.raises(
        ReportFailed, match="report 'boom' failed: AssertionError: check failed"
    ) as err:
        run_report("boom", notebooks_dir=repo / "notebooks", out_dir=repo / "reports")
    result = err.value.result
    assert not result.passed
    assert result.error == "AssertionError: check failed: 3 of 20"
    page = result.html_path.read_text()
    assert "AssertionError" in page and "check failed: 3 of 20" in page


@pytest.mark.slow  # a Jupyter kernel (~1-2 s)
def test_timeout_is_a_failure(repo: Path) -> None:
    _notebook(repo / "notebooks" / "slow.ipynb", "import time\ntime.sleep(30)")
    with pytest.raises(ReportFailed, match="CellTimeoutError") as err:
        run_report("slow", notebooks_dir=repo / "notebooks", out_dir=repo / "reports", timeout=1)
    assert err.value.result.html_path.is_file()


def test_unknown_parameter_is_rejected_before_running(repo: Path) -> None:
    with pytest.raises(ValueError) as err:
        run_report(
            "info", {"budgte": 3}, notebooks_dir=repo / "notebooks", out_dir=repo / "reports"
        )
    assert str(err.value) == (
        "Unknown parameter 'budgte' for notebook 'info'. Valid parameters: budget, label."
    )
    assert not (repo / "reports" / "executed").exists()


def test_missing_notebook_lists_the_available_ones(repo: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"validation\.ipynb.*: boom, info\."):
        run_report("validation", notebooks_dir=repo / "notebooks")


@pytest.mark.parametrize("name", ["", "../info", "info.ipynb", "a/b"])
def test_name_must_be_a_stem(name: str, repo: Path) -> None:
    with pytest.raises(ValueError, match="must be a notebook stem"):
        run_report(name, notebooks_dir=repo / "notebooks")
