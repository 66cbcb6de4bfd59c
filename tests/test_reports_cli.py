"""``ardlib report``, ``report-index`` and ``report-all``: parameters, exit status, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ardlib.cli import main

# Writes its parameters and a metrics file with a "report" object; fails when told to.
BODY = """\
from ardlib.reports import Report
report = Report(name, "Demo " + name, metrics_path=f"reports/metrics/{name}.json")
report.check("budget positive", budget > 0, f"budget must be positive, got {budget}")
report.metric("params", {"budget": budget, "planners": planners, "study": study})
report.finish(summary=f"budget {budget}")
"""


def _notebook(path: Path) -> None:
    import nbformat
    from nbformat import v4

    params = f"name = {path.stem!r}\nbudget = 10\nplanners = ['random']\nstudy = {{'seed': 1}}"
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell(f"# Demo {path.stem}"),
            v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
            v4.new_code_cell(BODY),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "notebooks").mkdir()
    _notebook(tmp_path / "notebooks" / "demo.ipynb")
    (tmp_path / "params.yaml").write_text(
        "demo:\n  budget: 20\n  study: {seed: 5}\nproblems:\n  max_error_ulps: 64\n"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def two_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog over two analytic problems (building every registered one is slow)."""
    monkeypatch.setattr("ardlib.reports._catalog.list_problems", lambda: ["branin", "hartmann3"])


def _params(repo: Path, name: str = "demo") -> dict[str, object]:
    return json.loads((repo / "reports" / "metrics" / f"{name}.json").read_text())["params"]


def test_report_passes_the_params_section_and_overrides_to_the_runner(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parameters ``report`` hands the notebook runner (no kernel: the runner is
    recorded; test_reports_run runs a real kernel with typed parameters, in the slow tier)."""
    from ardlib.reports._run import ReportResult

    calls: list[tuple[str, dict[str, object], dict[str, object]]] = []

    def run_report(name: str, params: dict[str, object], **kwargs: object) -> ReportResult:
        calls.append((name, params, kwargs))
        html = Path(str(kwargs["out_dir"])) / f"{name}.html"
        return ReportResult(name, html, html, True, None, 0.5)

    monkeypatch.setattr("ardlib.reports._run.run_report", run_report)
    argv = ["report", "demo", "-p", "planners", "[random, gpbo]", "-p", "study.seed", "7"]
    assert main(argv) == 0
    ((name, params, kwargs),) = calls
    assert name == "demo" and Path(str(kwargs["notebooks_dir"])) == Path("notebooks")
    assert params == {"budget": 20, "planners": ["random", "gpbo"], "study": {"seed": 7}}
    assert "demo: passed in 0.5 s" in capsys.readouterr().out


@pytest.mark.slow  # a Jupyter kernel (~1.5 s), as every notebook run; the fast tier keeps
# the parameters handed to the runner
# (test_report_passes_the_params_section_and_overrides_to_the_runner)
def test_report_uses_the_params_section_and_overrides(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "demo", "-p", "planners", "[random, gpbo]", "-p", "study.seed", "7"]
    assert main(argv) == 0
    assert _params(repo) == {"budget": 20, "planners": ["random", "gpbo"], "study": {"seed": 7}}
    assert (repo / "reports" / "demo.html").is_file()
    assert "demo: passed in" in capsys.readouterr().out


@pytest.mark.slow  # a Jupyter kernel; exit 1 stays fast in test_catalog_failure_exits_1
def test_failed_report_exits_1_with_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "demo", "-p", "budget", "-1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "ardlib: demo failed: AssertionError: demo report failed: budget positive: "
        "budget must be positive, got -1"
    )
    assert "demo.html" in err
    assert (repo / "reports" / "demo.html").is_file()


def test_unknown_parameter_exits_2_naming_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "demo", "-p", "budgte", "3"]) == 2
    err = capsys.readouterr().err
    assert "Unknown parameter 'budgte'" in err
    assert "Valid parameters: budget, name, planners, study" in err


def test_unknown_notebook_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "nosuch"]) == 2
    assert "No notebook" in capsys.readouterr().err


def test_max_ulps_is_only_for_problems(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "demo", "--max-ulps", "3"]) == 2
    assert "--max-ulps applies to 'problems' only" in capsys.readouterr().err


def test_catalog_without_its_notebook_writes_plain_html(repo: Path, two_problems: None) -> None:
    assert main(["report", "problems", "--max-ulps", "128"]) == 0
    metrics = json.loads((repo / "reports" / "metrics" / "problems.json").read_text())
    assert metrics["max_error_ulps"] == 128
    assert metrics["report"]["passed"] is True and metrics["report"]["html"] == "problems.html"
    assert [p["name"] for p in metrics["problems"]] == ["branin", "hartmann3"]
    assert "<table" in (repo / "reports" / "problems.html").read_text()


def test_catalog_failure_exits_1(
    repo: Path, two_problems: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # A negative tolerance fails every problem with a known optimum.
    assert main(["report", "problems", "-p", "max_error_ulps", "-1"]) == 1
    assert capsys.readouterr().err == (
        "ardlib: problems failed: 2 problems, 2 optima checked, 2 failed (branin, hartmann3) "
        "(see reports/problems.html)\n"
    )


def test_report_index(repo: Path, two_problems: None) -> None:
    assert main(["report", "problems"]) == 0
    assert main(["report-index"]) == 0
    page = (repo / "reports" / "index.html").read_text()
    assert '<a href="problems.html">problems</a>' in page


@pytest.mark.slow  # two Jupyter kernels; the fast tier keeps `report demo` and the index
def test_report_all_runs_everything_then_the_index(
    repo: Path, two_problems: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _notebook(repo / "notebooks" / "other.ipynb")
    (repo / "params.yaml").write_text("other:\n  budget: 0\n")
    assert main(["report-all"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("ardlib: other failed: AssertionError: other report failed")
    assert err[-1] == "ardlib: 1 of 3 reports failed"
    page = (repo / "reports" / "index.html").read_text()
    for name in ("demo", "other", "problems"):
        assert f'<a href="{name}.html">{name}</a>' in page
    assert page.count('class="fail"') == 1
    assert _params(repo) == {"budget": 10, "planners": ["random"], "study": {"seed": 1}}


def test_quick_look_elsewhere_redirects_figures_and_metrics(tmp_path: Path) -> None:
    from ardlib.reports._cli import _redirect_outputs

    valid = {"figures_dir", "metrics_path", "budget"}
    params = {"figures_dir": "reports/figures/x", "metrics_path": "reports/metrics/x.json"}
    _redirect_outputs(params, valid, tmp_path / "quick", explicit=set())
    assert params == {
        "figures_dir": str(tmp_path / "quick" / "figures/x"),
        "metrics_path": str(tmp_path / "quick" / "metrics/x.json"),
    }
    kept = {"figures_dir": "reports/figures/x", "metrics_path": "mine.json"}
    _redirect_outputs(kept, valid, tmp_path / "quick", explicit={"figures_dir"})
    assert kept == {"figures_dir": "reports/figures/x", "metrics_path": "mine.json"}
    same = {"figures_dir": "reports/figures/x"}
    _redirect_outputs(same, valid, Path("reports"), explicit=set())
    assert same == {"figures_dir": "reports/figures/x"}
