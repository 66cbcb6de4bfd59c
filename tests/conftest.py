"""Collection of the test tiers.

A module marked slow as a whole (a top-level ``pytestmark`` holding ``pytest.mark.slow``)
is not even imported when the run deselects the slow tier (``-m "not slow"``, as ``make
test-fast`` runs): every one of its tests would be deselected anyway, and importing it can
cost seconds (``test_service_fuzz`` builds its schemathesis schema at import).  Any other
marker expression, or none, collects it as usual.

The ``hide_package`` fixture makes a package look uninstalled for one test.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# jsonschema (which nbformat, hence papermill, imports) registers its "iri" format checkers
# only when rfc3987_syntax imports, and that import builds a Lark grammar: 1.2 s of CPU in
# every test process that touches a notebook. No schema ardlib validates uses the iri formats,
# so test processes go without them (where a plugin imported jsonschema first, as nbval does
# in the whole suite, they stay).
sys.modules.setdefault("rfc3987_syntax", None)

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


@pytest.fixture
def hide_package(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """A function that makes ``import name`` fail for each name given, as if not installed.

    Every submodule already imported in this process is hidden too: with only
    ``sys.modules[name] = None``, ``from name.sub import x`` still finds ``name.sub`` in
    ``sys.modules`` and never looks at ``name`` (the BoTorch tests passed in a fresh
    process and failed once an earlier test had imported ``botorch.models``).
    """

    def hide(*names: str) -> None:
        for name in names:
            loaded = [key for key in sys.modules if key.startswith(name + ".")]
            for key in [name, *loaded]:
                monkeypatch.setitem(sys.modules, key, None)

    return hide
