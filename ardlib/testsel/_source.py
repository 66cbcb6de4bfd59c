"""What the source says without running it: the static import graph and function spans.

- :func:`import_graph` parses every ``.py`` (and lazy_loader's ``__init__.pyi`` stubs, whose
  ``from ._x import y`` lines are the package's real imports) under the given folders with
  :mod:`ast` and returns module -> the modules it imports, imports inside functions
  included.  Test modules also import ``tests.conftest`` (pytest loads it for them).
- :func:`import_distances` is the breadth-first shortest path from each test module to every
  module it reaches; :data:`UNREACHABLE` stands for "no import path".
- :func:`function_spans` lists the functions of a source text with their line spans, and
  :func:`line_kinds` says for each line whether it runs inside a function body (``"body"``,
  what per-test coverage can see), at import time (``"import"``: module and class level,
  signatures, decorators, docstrings) or is no code (``"none"``: blank or comment lines).
"""

from __future__ import annotations

import ast
import functools
import io
import os
import tokenize
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "UNREACHABLE",
    "FunctionSpan",
    "function_spans",
    "import_distances",
    "import_graph",
    "innermost_function",
    "line_kinds",
    "module_name",
    "statement_lines",
]

# Import distance of a module no import path reaches (a tree model only needs it large).
UNREACHABLE = 99


def module_name(path: str) -> str:
    """The dotted module name of a repository path.

    Parameters
    ----------
    path : str
        E.g. ``ardlib/gp/_model.py``, ``ardlib/gp/__init__.py`` or ``tests/test_gp.py``.

    Returns
    -------
    str
        ``ardlib.gp._model``, ``ardlib.gp``, ``tests.test_gp``.
    """
    parts = list(Path(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files(root: Path, folders: Iterable[str]) -> dict[str, Path]:
    """Module name -> file (``.py`` first, a package's ``.pyi`` stub under its own key)."""
    found: dict[str, Path] = {}
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*.py*")):
            if f.suffix not in (".py", ".pyi") or "__pycache__" in f.parts:
                continue
            rel = f.relative_to(root).as_posix()
            name = module_name(rel.removesuffix("i") if f.suffix == ".pyi" else rel)
            key = name + ("|stub" if f.suffix == ".pyi" else "")
            found[key] = f
    return found


def _resolve(name: str, modules: set[str]) -> str | None:
    """The longest prefix of ``name`` that is a known module."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports_of(tree: ast.AST, me: str, is_package: bool, modules: set[str]) -> set[str]:
    out: set[str] = set()
    package = me if is_package else me.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for n in names:
            # Test files import helpers beside them by bare name (tests/ is on sys.path).
            hit = _resolve(n, modules) or _resolve(f"tests.{n}", modules)
            if hit and hit != me:
                out.add(hit)
    return out


def import_graph(
    root: str | os.PathLike[str] = ".", folders: Iterable[str] = ("ardlib", "tests")
) -> dict[str, set[str]]:
    """The static import graph of the modules under ``folders``.

    Parameters
    ----------
    root : str or path-like, default "."
        The repository root; modules are named relative to it (``ardlib.gp._model``).
    folders : iterable of str, default ("ardlib", "tests")
        Folders under ``root`` to parse.

    Returns
    -------
    dict
        Module -> set of modules it imports directly (only modules found under
        ``folders``).  A file that does not parse imports nothing.
    """
    base = Path(root)
    files = _files(base, folders)
    modules = {k.removesuffix("|stub") for k in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for key, f in files.items():
        me = key.removesuffix("|stub")
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        graph[me] |= _imports_of(tree, me, f.stem == "__init__", modules)
    if "tests.conftest" in graph:
        for m in graph:
            if m.startswith("tests.") and m != "tests.conftest":
                graph[m].add("tests.conftest")
    return graph


def import_distances(graph: dict[str, set[str]], source: str) -> dict[str, int]:
    """Shortest import-path lengths from ``source`` to every module it reaches.

    Parameters
    ----------
    graph : dict
        As returned by :func:`import_graph`.
    source : str
        The importing module, e.g. ``tests.test_gp``.

    Returns
    -------
    dict
        Module -> number of import edges (``source`` itself at 0); modules not reached
        are absent (use :data:`UNREACHABLE` for them).
    """
    dist = {source: 0}
    queue = deque([source])
    while queue:
        m = queue.popleft()
        for n in graph.get(m, ()):
            if n not in dist:
                dist[n] = dist[m] + 1
                queue.append(n)
    return dist


@dataclass(frozen=True)
class FunctionSpan:
    """A function or method of a source file.

    Attributes
    ----------
    qualname : str
        Python's ``__qualname__``: ``Class.method``, ``outer.<locals>.inner``.
    start, end : int
        First and last line of the whole definition (decorators excluded).
    body_start : int
        First line of the body that runs when the function is called (after the
        signature and the docstring).
    """

    qualname: str
    start: int
    end: int
    body_start: int


def function_spans(source: str) -> list[FunctionSpan]:
    """Every function of a source text, outermost first.

    Parameters
    ----------
    source : str
        Python source.

    Returns
    -------
    list of FunctionSpan
        Sorted by ``start``; nested functions follow their parent.

    Raises
    ------
    ValueError
        If ``source`` does not parse.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"The 'source' parameter does not parse: {exc}") from None
    out: list[FunctionSpan] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                body = child.body
                first = body[0]
                doc = (
                    isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                )
                start_body = body[1].lineno if doc and len(body) > 1 else first.lineno
                if doc and len(body) == 1:
                    start_body = (first.end_lineno or first.lineno) + 1
                out.append(
                    FunctionSpan(name, child.lineno, child.end_lineno or child.lineno, start_body)
                )
                visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return sorted(out, key=lambda s: s.start)


def innermost_function(spans: list[FunctionSpan], line: int) -> FunctionSpan | None:
    """The innermost function whose body holds ``line``, or None.

    Parameters
    ----------
    spans : list of FunctionSpan
        From :func:`function_spans`.
    line : int
        1-based line number.

    Returns
    -------
    FunctionSpan or None
        None when ``line`` is outside every function body (import-time code).
    """
    best = None
    for s in spans:
        if s.body_start <= line <= s.end and (best is None or s.start >= best.start):
            best = s
    return best


def _code_lines(source: str) -> set[int]:
    """Lines holding a token other than a comment, newline or indentation."""
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    lines: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type not in skip:
                lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return set(range(1, source.count("\n") + 2))
    return lines


def line_kinds(source: str, lines: Iterable[int]) -> dict[int, str]:
    """Classify lines of a source text by when they run.

    Parameters
    ----------
    source : str
        Python source.
    lines : iterable of int
        1-based line numbers.

    Returns
    -------
    dict
        Line -> ``"body"`` (inside a function body: runs when the function is called, so
        per-test coverage sees it), ``"import"`` (runs at import time or is a signature,
        decorator or docstring: no test's coverage holds it) or ``"none"`` (blank or
        comment only).  A source that does not parse makes every line ``"import"``.
    """
    wanted = list(lines)
    try:
        spans = function_spans(source)
    except ValueError:
        return dict.fromkeys(wanted, "import")
    code = _code_lines(source)
    out = {}
    for line in wanted:
        if line not in code:
            out[line] = "none"
        elif innermost_function(spans, line) is not None:
            out[line] = "body"
        else:
            out[line] = "import"
    return out


def statement_lines(source: str, line: int) -> list[int]:
    """The lines of the innermost statement holding ``line`` (a compound one's header only).

    Coverage records a multi-line statement under some of its lines; a changed line is
    executed when any line of its statement is.

    Parameters
    ----------
    source : str
        Python source.
    line : int
        1-based line number.

    Returns
    -------
    list of int
        ``[line]`` when no statement holds it or the source does not parse.
    """
    best: tuple[int, int] | None = None
    for start, end in _statement_spans(source):
        if start <= line <= end and (best is None or end - start <= best[1] - best[0]):
            best = (start, end)
    return list(range(best[0], best[1] + 1)) if best else [line]


@functools.lru_cache(maxsize=64)
def _statement_spans(source: str) -> tuple[tuple[int, int], ...]:
    """(first, last) line of every statement; a compound statement's header only."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        start, end = node.lineno, node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = max(start, body[0].lineno - 1)  # header of a compound statement
            decorators = [d.lineno for d in getattr(node, "decorator_list", [])]
            start = min([start, *decorators])
        out.append((start, end))
    return tuple(out)
