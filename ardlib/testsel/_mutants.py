"""Mutation sites of ``ardlib/`` from cosmic-ray's operators, sampled and dated.

A *site* is one (file, operator, occurrence) that cosmic-ray's core operators can mutate,
numbered exactly as cosmic-ray numbers them (``cosmic_ray.mutating.mutate_code(source,
operator, occurrence)`` applies it).  Only sites inside the body of a function or method
are kept: the runner replaces function code in a live process, which cannot redo what a
module or class body did at import (module-level sites are counted, not sampled).
Operators that need arguments (``VariableReplacer``, ``VariableInserter``) are not used, as
``cosmic-ray init`` skips them without configuration.
"""

from __future__ import annotations

import ast
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .._rng import RNGLike, as_generator

__all__ = [
    "blame_lines",
    "enumerate_sites",
    "function_spans",
    "operator_kind",
    "sample_sites",
]

_KINDS = (
    ("core/ReplaceBinaryOperator_", "binary_operator"),
    ("core/ReplaceComparisonOperator_", "comparison"),
    ("core/ReplaceUnaryOperator_", "unary"),
    ("core/NumberReplacer", "number"),
    ("core/ReplaceTrueWithFalse", "boolean"),
    ("core/ReplaceFalseWithTrue", "boolean"),
    ("core/ReplaceAndWithOr", "boolean"),
    ("core/ReplaceOrWithAnd", "boolean"),
    ("core/AddNot", "boolean"),
    ("core/ExceptionReplacer", "exception"),
    ("core/ReplaceBreakWithContinue", "keyword"),
    ("core/ReplaceContinueWithBreak", "keyword"),
    ("core/ZeroIterationForLoop", "loop"),
)


def operator_kind(name: str) -> str:
    """The short family of a cosmic-ray operator name (``"other"`` when not listed).

    Parameters
    ----------
    name : str
        A cosmic-ray operator name such as ``"core/ReplaceBinaryOperator_Add_Sub"``.

    Returns
    -------
    str
        One of ``binary_operator``, ``comparison``, ``unary``, ``number``, ``boolean``,
        ``exception``, ``keyword``, ``loop`` or ``other``.
    """
    for prefix, kind in _KINDS:
        if name.startswith(prefix):
            return kind
    return "other"


def function_spans(source: str) -> list[tuple[int, int, str]]:
    """The body of every function in ``source``: ``(first_line, last_line, qualname)``.

    Parameters
    ----------
    source : str
        Python source of one module.

    Returns
    -------
    list of (int, int, str)
        One entry per ``def``/``async def``, in source order; the span runs from the first
        statement of the body to the function's last line (decorators, arguments and
        annotations, evaluated when the ``def`` runs, are outside it).  Qualified names
        follow Python's ``__qualname__`` (``C.m``, ``f.<locals>.g``).
    """
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qual = prefix + child.name
                end = child.end_lineno or child.body[-1].lineno
                spans.append((child.body[0].lineno, end, qual))
                visit(child, qual + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return sorted(spans)


def _innermost(spans: list[tuple[int, int, str]], line: int) -> str | None:
    best: tuple[int, str] | None = None
    for first, last, qual in spans:
        if first <= line <= last and (best is None or first >= best[0]):
            best = (first, qual)
    return None if best is None else best[1]


def _operators() -> list[tuple[str, object]]:
    import cosmic_ray.plugins  # type: ignore[import-untyped]

    ops = []
    for name in cosmic_ray.plugins.operator_names():
        cls = cosmic_ray.plugins.get_operator(name)
        if not cls.arguments():
            ops.append((name, cls()))
    return ops


def enumerate_sites(root: Path, paths: list[str]) -> tuple[pd.DataFrame, int]:
    """Every cosmic-ray mutation site inside a function body of the given modules.

    Parameters
    ----------
    root : Path
        Repository root.
    paths : list of str
        Repository-relative module paths (``ardlib/gp/_model.py``).

    Returns
    -------
    sites : pandas.DataFrame
        One row per site, in (path, operator, occurrence) order: ``path``, ``module``
        (dotted), ``function`` (innermost qualname), ``line`` (1-based line of the mutated
        node), ``operator``, ``occurrence`` (cosmic-ray's index of the site among that
        operator's sites in the file).
    n_module_level : int
        Sites outside every function body (module and class bodies, decorators,
        signatures), which are left out.
    """
    from cosmic_ray.ast import ast_nodes, get_ast  # type: ignore[import-untyped]

    ops = _operators()
    rows: list[tuple[str, str, str, int, str, int]] = []
    excluded = 0
    for rel in paths:
        source = (Path(root) / rel).read_text(encoding="utf-8")
        spans = function_spans(source)
        module = rel[: -len(".py")].replace("/", ".").removesuffix(".__init__")
        nodes = list(ast_nodes(get_ast(source)))
        for name, op in ops:
            occurrence = 0
            for node in nodes:
                for start, _end in op.mutation_positions(node):  # type: ignore[attr-defined]
                    qual = _innermost(spans, start[0])
                    if qual is None:
                        excluded += 1
                    else:
                        rows.append((rel, module, qual, start[0], name, occurrence))
                    occurrence += 1
    cols = ["path", "module", "function", "line", "operator", "occurrence"]
    return pd.DataFrame(rows, columns=cols), excluded


def sample_sites(sites: pd.DataFrame, n: int, rng: RNGLike) -> pd.DataFrame:
    """A uniform sample of ``n`` sites without replacement, in enumeration order.

    Parameters
    ----------
    sites : pandas.DataFrame
        Output of :func:`enumerate_sites`.
    n : int
        Sample size (all sites when ``n`` is at least their number).
    rng : int, Generator or None
        Seed or generator; the same seed and sites give the same sample.

    Returns
    -------
    pandas.DataFrame
        The chosen rows, re-indexed from 0 (the index is the ``mutant_id``).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"The 'n' parameter of sample_sites must be an int >= 1. Got {n!r}.")
    gen = as_generator(rng)
    k = min(int(n), len(sites))
    chosen = np.sort(gen.choice(len(sites), size=k, replace=False))
    return sites.iloc[chosen].reset_index(drop=True)


def blame_lines(root: Path, path: str) -> dict[int, tuple[str, str]]:
    """``git blame`` of one file: the commit and author time of every line.

    Parameters
    ----------
    root : Path
        Root of the git work tree.
    path : str
        Repository-relative file path.

    Returns
    -------
    dict of int to (str, str)
        Line number (1-based) to (commit sha, ISO 8601 UTC author time).  Lines not
        committed yet get git's all-zero sha and the time git reports for them (now).

    Raises
    ------
    ValueError
        If git cannot blame the file.
    """
    proc = subprocess.run(
        ["git", "blame", "--porcelain", "--", path],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        raise ValueError(f"git blame failed for {path}: {proc.stderr.strip()}")
    times: dict[str, str] = {}
    out: dict[int, tuple[str, str]] = {}
    sha, final = "", 0
    for text in proc.stdout.splitlines():
        if text.startswith("\t"):
            out[final] = (sha, times.get(sha, ""))
            continue
        head = text.split(" ")
        if len(head) >= 3 and len(head[0]) == 40 and head[1].isdigit() and head[2].isdigit():
            sha, final = head[0], int(head[2])
        elif head[0] == "author-time":
            stamp = datetime.fromtimestamp(int(head[1]), tz=UTC)
            times[sha] = stamp.isoformat().replace("+00:00", "Z")
    return out
