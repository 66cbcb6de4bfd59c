"""Collection of the test tiers.

A module marked slow as a whole (a top-level ``pytestmark`` holding ``pytest.mark.slow``)
is not even imported when the run deselects the slow tier (``-m "not slow"``, as ``make
test-fast`` runs): every one of its tests would be deselected anyway, and importing it can
cost seconds (``test_service_fuzz`` builds its schemathesis schema at import).  Any other
marker expression, or none, collects it as usual.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

_MODULE_MARKS = re.compile(r"^pytestmark\s*=(.*?)(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


def _marked_slow_as_a_whole(path: Path) -> bool:
    match = _MODULE_MARKS.search(path.read_text(encoding="utf-8"))
    return match is not None and "pytest.mark.slow" in match.group(1)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if " ".join(str(config.option.markexpr).split()) != "not slow":
        return None
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return True if _marked_slow_as_a_whole(collection_path) else None
    return None
