"""The public surface: every subpackage's ``__all__`` is exactly what it exports, and
every public callable carries a numpydoc docstring (STYLE.md: one small, documented
surface): numpydoc's own validator finds no missing docstring (GL08), no undocumented or
unknown parameter (PR01, PR02) and no missing Returns section (RT01)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

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
    "ardlib.provenance",
    "ardlib.testsel",
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


NUMPYDOC_CODES = {"GL08", "PR01", "PR02", "RT01"}


def _public_callables(name: str) -> Iterator[tuple[str, Any]]:
    """(import path, object) of every public function, class and public method."""
    mod = importlib.import_module(name)
    for attr in mod.__all__:
        obj = getattr(mod, attr)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield f"{obj.__module__}.{obj.__qualname__}", obj
        if inspect.isclass(obj):
            for meth, fn in vars(obj).items():
                inherited = getattr(fn, "__doc__", None) is None and inspect.getdoc(
                    getattr(obj, meth)
                )  # an override documented by the method it overrides
                if (
                    not meth.startswith("_")
                    and not inherited
                    and (inspect.isfunction(fn) or isinstance(fn, classmethod | staticmethod))
                ):
                    yield f"{obj.__module__}.{obj.__qualname__}.{meth}", fn


def _numpydoc_errors(path: str, obj: Any) -> list[str]:
    errors = [(code, msg) for code, msg in validate(path)["errors"] if code in NUMPYDOC_CODES]
    if inspect.isclass(obj):
        # A class documents its constructor's parameters under Parameters, or under
        # Attributes when they are stored under the same names (result objects, errors);
        # an inherited constructor is documented by the base class.
        errors = [(c, m) for c, m in errors if c != "PR01"]
        if dataclasses.is_dataclass(obj) or "__init__" in vars(obj):
            doc = NumpyDocString(inspect.getdoc(obj) or "")
            items = [*doc["Attributes"], *doc["Parameters"]]
            named = {n.strip().lstrip("*") for item in items for n in item.name.split(",")}
            params = [
                p.name
                for p in inspect.signature(obj).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
            missing = sorted(p for p in params if p not in named)
            if missing:
                errors.append(("PR01", f"{missing} under neither Parameters nor Attributes"))
    return [f"{path}: {code} {msg}" for code, msg in errors]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_public_callable_has_numpydoc_sections(name: str) -> None:
    seen: set[str] = set()
    problems = []
    for path, obj in _public_callables(name):
        if path not in seen:
            seen.add(path)
            problems += _numpydoc_errors(path, obj)
    assert problems == [], "\n".join(problems)


def _heavy_imports_of(code: str, heavy: tuple[str, ...]) -> list[str]:
    """The modules of the ``heavy`` packages loaded after running ``code`` in a fresh
    interpreter."""
    import json
    import subprocess
    import sys

    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_every_subpackage_loads_none_of_their_modules() -> None:
    """SPEC 1 lazy loading: a subpackage's names load on first access, so importing every
    subpackage (as the ``ardlib`` command does) imports no heavy dependency."""
    code = f"for name in {SUBPACKAGES!r}:\n    __import__(name)"
    heavy = ("matplotlib", "papermill", "fastapi", "sqlalchemy", "ipywidgets", "pyinstrument")
    assert _heavy_imports_of(code, heavy) == []


def test_the_command_line_starts_without_the_numeric_stack() -> None:
    """Building the ``ardlib`` parser imports no numpy, scipy, pandas, pyarrow or httpx: a
    subcommand imports what it needs. (``ardlib study run`` starts its workers' fork server
    first, so the server's imports overlap this process's; a parser that imported
    scipy.stats through ``ardlib.regress._check`` had spent 0.8 s before any subcommand
    ran.)"""
    code = "from ardlib import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass"
    heavy = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "httpx")
    assert _heavy_imports_of(code, heavy) == []


@pytest.mark.slow  # a fresh interpreter importing numpy, scipy and pyarrow (about 1 s)
def test_the_study_workers_preload_leaves_out_what_only_the_main_process_uses() -> None:
    """The fork server's preload (the command line, the cell runner, the planners and
    problems) imports neither pandas nor tqdm nor httpx: the workers build Arrow tables
    and report nothing, and those three were about 0.35 s of the preload that every
    worker's first cell waits for."""
    from ardlib.study._forkserver import PRELOAD

    modules = ["ardlib.cli"] + [m for m in PRELOAD if m != "__main__"]
    code = "\n".join(f"import {m}" for m in modules)
    assert _heavy_imports_of(code, ("pandas", "tqdm", "httpx")) == []
