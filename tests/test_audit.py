"""The dependency-audit wrapper fails on vulnerabilities and never hides unchecked packages."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "audit", Path(__file__).resolve().parent.parent / "scripts" / "audit.py"
)
assert _SPEC is not None and _SPEC.loader is not None
audit = importlib.util.module_from_spec(_SPEC)
sys.modules["audit"] = audit  # dataclasses look their module up there
_SPEC.loader.exec_module(audit)

TODAY = dt.date(2026, 11, 26)
VULN = {
    "dependencies": [
        {"name": "numpy", "version": "2.4.6", "vulns": []},
        {
            "name": "Jinja2",
            "version": "3.1.0",
            "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.1.4"], "aliases": []}],
        },
    ],
    "fixes": [],
}


def test_known_vulnerability_fails() -> None:
    status, lines = audit.evaluate(VULN, [], TODAY)
    assert status == 1
    assert any("VULNERABLE Jinja2 3.1.0: GHSA-xxxx (fix: 3.1.4)" in line for line in lines)


def test_dated_ignore_silences_until_expiry() -> None:
    ign = audit.parse_ignores("GHSA-xxxx 2027-01-31 jinja2 no fix for our pin yet\n")
    status, lines = audit.evaluate(VULN, ign, TODAY)
    assert status == 0
    assert any(line.startswith("ignored GHSA-xxxx") for line in lines)
    status, lines = audit.evaluate(VULN, ign, dt.date(2027, 2, 1))
    assert status == 1
    assert any(line.startswith("EXPIRED IGNORE GHSA-xxxx") for line in lines)


def test_unchecked_packages_are_reported_and_strict_fails(tmp_path: Path) -> None:
    report = {"dependencies": [{"name": "a", "skip_reason": "not found"}], "fixes": []}
    status, lines = audit.evaluate(report, [], TODAY)
    assert status == 0
    assert "audited 0 of 1 locked packages; 1 not checked" in lines
    assert any(line.startswith("AUDIT INCOMPLETE") for line in lines)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    ignore = tmp_path / "none.txt"
    assert audit.main(["--report", str(path), "--ignore-file", str(ignore)]) == 0
    assert audit.main(["--report", str(path), "--ignore-file", str(ignore), "--strict"]) == 1


def test_malformed_ignore_line_names_the_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        audit.parse_ignores("# ok\nGHSA-1 not-a-date\n")
