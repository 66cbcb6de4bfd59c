"""The public surface: every subpackage's ``__all__`` is exactly what it exports, and
every public callable carries a docstring (STYLE.md: one small, documented surface)."""

from __future__ import annotations

import importlib
import inspect

import pytest

SUBPACKAGES = [
    "ardlib.objectives",
    "ardlib.planners",
    "ardlib.gp",
    "ardlib.study",
    "ardlib.stats",
    "ardlib.reports",
    "ardlib.deploy",
    "ardlib.client",
    "ardlib.service",
    "ardlib.bench",
    "ardlib.regress",
]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    mod = importlib.import_module(name)
    public = {
        k
        for k, v in vars(mod).items()
        if not k.startswith("_") and not inspect.ismodule(v) and k != "annotations"
    }
    public |= {k for k in mod.__all__ if k not in vars(mod) and getattr(mod, k, None) is not None}
    assert sorted(mod.__all__) == sorted(set(mod.__all__)), "duplicates in __all__"
    assert set(mod.__all__) == public


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_public_callable_is_documented(name: str) -> None:
    mod = importlib.import_module(name)
    missing = []
    for attr in mod.__all__:
        obj = getattr(mod, attr)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants and type aliases
        if not (inspect.getdoc(obj) or "").strip():
            missing.append(attr)
        if inspect.isclass(obj):
            for meth, fn in vars(obj).items():
                if meth.startswith("_") or not callable(fn):
                    continue
                if not (inspect.getdoc(fn) or "").strip():
                    missing.append(f"{attr}.{meth}")
    assert missing == []
