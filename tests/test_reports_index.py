"""The report index and the provenance notebooks embed in their metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ardlib.reports import write_index


def _metrics(
    reports: Path, name: str, *, passed: bool = True, html: bool = True, **extra: object
) -> None:
    rec = {
        "name": name,
        "title": f"Title of {name}",
        "html": f"{name}.html",
        "passed": passed,
        "generated_at": "2026-11-26T18:41:07+00:00",
        "git_revision": "18af70a-dirty",
        "summary": f"summary of {name}",
        **extra,
    }
    (reports / "metrics").mkdir(parents=True, exist_ok=True)
    (reports / "metrics" / f"{name}.json").write_text(json.dumps({"report": rec, "x": 1}))
    if html:
        (reports / f"{name}.html").write_text("<html></html>")


def _rows(page: str) -> dict[str, str]:
    """Table rows keyed by report name (the first cell's text)."""
    rows = re.findall(r"<tr><td>(.*?)</tr>", page)
    return {re.sub(r"<[^>]+>", " ", r).split()[0]: r for r in rows}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    out = tmp_path / "reports"
    _metrics(out, "validation")
    _metrics(out, "problems", passed=False, summary="20 problems, 1 failed (branin)")
    _metrics(out, "gone", html=False)
    (out / "metrics" / "plain.json").write_text(json.dumps({"n": 3}))  # no report object
    return out


def test_index_lists_every_report_with_status(reports: Path) -> None:
    path = write_index(reports)
    assert path == reports / "index.html"
    page = path.read_text()
    rows = _rows(page)
    assert sorted(rows) == ["gone", "problems", "validation"]  # plain.json skipped
    ok = rows["validation"]
    assert '<a href="validation.html">validation</a>' in ok
    assert "Title of validation" in ok
    assert "2026-11-26 18:41 UTC" in ok
    assert "<code>18af70a-dirty</code>" in ok
    assert '<td class="pass">PASS</td>' in ok
    assert "summary of validation" in ok
    bad = rows["problems"]
    assert '<td class="fail">FAIL</td>' in bad
    assert "20 problems, 1 failed (branin)" in bad
    gone = rows["gone"]
    assert "<a " not in gone
    assert "HTML missing: gone.html" in gone
    assert "3 reports: 2 passed, 1 failed, 1 with HTML missing." in page
    assert "<script" not in page


def test_index_escapes_text(tmp_path: Path) -> None:
    _metrics(tmp_path, "x", title="<script>alert(1)</script>", summary="a & b\nsecond line")
    page = write_index(tmp_path).read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b second line" in page


def test_index_is_deterministic(reports: Path) -> None:
    first = write_index(reports).read_bytes()
    assert write_index(reports).read_bytes() == first


def test_index_of_no_reports(tmp_path: Path) -> None:
    page = write_index(tmp_path).read_text()
    assert "0 reports: 0 passed, 0 failed." in page


def test_incomplete_report_object_names_file_and_keys(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "v.json").write_text(json.dumps({"report": {"name": "v"}}))
    with pytest.raises(ValueError, match=r"v\.json.*lacks 'title', 'html', 'passed'"):
        write_index(tmp_path)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "broken.json").write_text("{")
    with pytest.raises(ValueError, match=r"broken\.json.*not valid JSON"):
        write_index(tmp_path)
