"""ardlib.reports.Report: the protocol every report notebook follows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ardlib._io import sha256_file
from ardlib.reports import Report, write_index


def _report(tmp_path: Path) -> Report:
    return Report(
        "demo",
        "Demo report",
        metrics_path=tmp_path / "metrics" / "demo.json",
        figures_dir=tmp_path / "figures",
    )


def test_passing_report_writes_what_the_index_reads(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    assert rep.check("exact", True, "20 of 20\n problems") is True
    rep.metric("accuracy", {"n": 20})
    (tmp_path / "demo.html").write_text("<html></html>")
    path = rep.finish()
    doc = json.loads(path.read_text())
    assert doc["report"]["passed"] is True and doc["report"]["summary"] == "1/1 checks passed"
    assert doc["checks"] == {"exact": True}
    assert doc["check_details"] == {"exact": "20 of 20 problems"}
    assert doc["accuracy"] == {"n": 20}
    assert doc["report"]["git_revision"] == rep.meta["git_revision"]
    page = write_index(tmp_path).read_text()
    assert "Demo report" in page and "1 report: 1 passed, 0 failed" in page


def test_failed_check_writes_the_file_then_raises_naming_it(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    rep.check("reproducible", True)
    rep.check("sentinel", False, "p_holm = 0.2")
    with pytest.raises(AssertionError, match=r"demo report failed: sentinel: p_holm = 0.2$"):
        rep.finish()
    doc = json.loads(rep.metrics_path.read_text())
    assert doc["report"]["passed"] is False
    assert doc["report"]["summary"] == "1/2 checks passed; failed: sentinel"
    assert rep.finish(raise_on_failure=False) == rep.metrics_path


def test_extra_failures_raise_without_changing_the_verdict(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    rep.check("ran", True)
    with pytest.raises(AssertionError, match="slower than HEAD~1"):
        rep.finish(extra_failures=["slower than HEAD~1"])
    assert json.loads(rep.metrics_path.read_text())["report"]["passed"] is True


def test_a_report_without_checks_fails(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    assert rep.passed is False
    with pytest.raises(AssertionError, match="no check was recorded"):
        rep.finish()


def test_bad_use_is_refused_with_the_name(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    rep.check("a", True)
    with pytest.raises(ValueError, match="already has a check named 'a'"):
        rep.check("a", False)
    with pytest.raises(ValueError, match=r"Report\.metric must not be 'checks'"):
        rep.metric("checks", 1)
    with pytest.raises(ValueError, match="'name' parameter of Report must be a file stem"):
        Report("a/b", "x", metrics_path=tmp_path / "m.json")
    with pytest.raises(FileNotFoundError, match=r"needs the input file .*absent\.csv"):
        rep.input(tmp_path / "absent.csv")


def test_inputs_and_figures_are_recorded(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = tmp_path / "data.csv"
    data.write_text("x\n1\n")
    rep = _report(tmp_path)
    rep.input(data)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    pdf, png = rep.figure(fig, "line", show=False)
    assert not plt.fignum_exists(fig.number)  # closed: a notebook cell draws it only once
    rep.check("ok", True)
    doc = json.loads(rep.finish().read_text())
    assert doc["inputs"] == {str(data): sha256_file(data)}
    assert doc["figures"] == {"line": [str(pdf), str(png)]} and pdf.is_file() and png.is_file()
    assert list(rep.check_table()["check"]) == ["ok"]
