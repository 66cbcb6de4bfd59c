"""Profile one benchmark: a flame graph to browse and a table of the top self-time frames.

The benchmark report keeps, per revision and per benchmark, pyinstrument's interactive
HTML page, the same profile as speedscope JSON, and the frames that spent the most *self*
time (time in the function's own code, not in its callees). :func:`diff_top_frames` lines
up the tables of a base and a head revision and ranks the frames whose share of the time
moved most.

Sampling is done by pyinstrument [pyinstrument]_, in wall time: at the first function call
or return (Python or C) after each ``interval`` seconds, the call stack is recorded with
the time elapsed since the previous sample. Times are therefore estimates: a loop that
makes no calls is sampled once, when it calls or returns; time spent descheduled (a busy
machine) lands on whatever stack comes next; and functions whose calls last less than
``interval`` are attributed unevenly. Profile calls that last well over ``interval``, for
long enough to average the noise, or lower ``interval``.

References
----------
.. [pyinstrument] J. Rickerby, "pyinstrument: Call stack profiler for Python",
   https://github.com/joerick/pyinstrument.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from time import perf_counter

import pandas as pd
import pyinstrument
from pyinstrument import Profiler
from pyinstrument.frame import Frame
from pyinstrument.renderers import HTMLRenderer, SpeedscopeRenderer
from pyinstrument.session import Session

from ardlib._validation import (
    check_int,
    check_real,
)  # absolute: this file also runs from a copy (see _revisions)

__all__ = [
    "FRAME_COLUMNS",
    "ProfileResult",
    "diff_top_frames",
    "load_top_frames",
    "profile_call",
    "save_profile",
]

#: Columns of :attr:`ProfileResult.top_frames`, in order.
FRAME_COLUMNS = ("function", "file", "line", "self_s", "self_share", "total_s")
_DIFF_COLUMNS = ("function", "file", "base_self_share", "head_self_share", "change")

# pyinstrument's page asks Google Fonts for its typefaces (a stylesheet added by app.js at
# run time); pointing that request at an empty inline stylesheet keeps the page offline and
# falls back to the local fonts named in its CSS.
_WEB_FONTS = re.compile(r"https?://fonts\.(?:googleapis|gstatic)\.com/[^\"'\s)]*")
_EMPTY_STYLESHEET = "data:text/css,"
_PYINSTRUMENT_DIR = os.path.dirname(os.path.abspath(pyinstrument.__file__)) + os.sep
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

_Key = tuple[str, str, int]


@dataclass(frozen=True, eq=False)
class ProfileResult:
    """Profile of one benchmark, as returned by :func:`profile_call`.

    Attributes
    ----------
    name : str
        The benchmark's name; :func:`save_profile` derives the file names from it.
    html : str
        pyinstrument's interactive page (flame graph, call tree, timeline), one
        self-contained file: script, styles and data are inline and it makes no network
        request (the web-font stylesheet pyinstrument links is replaced by an empty one).
    speedscope : str
        The profile in speedscope's JSON file format [speedscope]_, for
        https://www.speedscope.app or a local speedscope.
    top_frames : DataFrame
        One row per function seen under ``fn``, sorted by ``self_s`` descending, with
        columns

        - ``function``: the function's name (``<genexpr>``, ``<lambda>`` as Python names
          them; C functions by their own name);
        - ``file``: the source file relative to the deepest ``sys.path`` entry or
          top-level package's parent directory that holds it (``ardlib/gp/_model.py``,
          ``numpy/linalg/_linalg.py``), POSIX separators; absolute when no such root
          holds it; ``<built-in>`` for C functions;
        - ``line``: line of the function's ``def`` (0 for C functions);
        - ``self_s``: seconds sampled in the function's own code, summed over every call
          path and every call;
        - ``self_share``: ``self_s`` over the sum of ``self_s`` (the shares add up to 1);
        - ``total_s``: seconds sampled with the function anywhere on the stack, each
          sample counted once for recursive functions.
    seconds : float
        Wall time of the profiled calls, in seconds (profiler overhead included).
    calls : int
        How many times ``fn`` was called.

    References
    ----------
    .. [speedscope] J. Wong, "speedscope file format",
       https://www.speedscope.app/file-format-schema.json.
    """

    name: str
    html: str
    speedscope: str
    top_frames: pd.DataFrame
    seconds: float
    calls: int


def profile_call(
    fn: Callable[[], object],
    *,
    name: str,
    min_seconds: float = 1.0,
    max_calls: int = 10_000,
    interval: float = 0.001,
) -> ProfileResult:
    """Profile ``fn()`` called repeatedly, and summarise where the time went.

    ``fn`` is called at least once, then again until ``min_seconds`` of wall time have
    passed or it has been called ``max_calls`` times, whichever comes first, all under one
    pyinstrument session (async mode ``"disabled"``: everything that runs on this thread
    is sampled, an event loop started by ``fn`` included).

    Parameters
    ----------
    fn : callable
        The benchmark, called without arguments; its return value is discarded.
    name : str
        Name of the benchmark, non-empty.
    min_seconds : float, default 1.0
        Wall time to keep calling ``fn`` for, ``>= 0``; with 0 ``fn`` is called once.
        The number of samples, and so the precision of the shares, grows with it: at
        most about ``min_seconds / interval`` samples (fewer when ``fn`` seldom calls a
        function).
    max_calls : int, default 10_000
        Upper bound on the number of calls, ``>= 1``.
    interval : float, default 0.001
        Seconds of wall time between two stack samples, ``> 0``.

    Returns
    -------
    ProfileResult
        The HTML and speedscope renderings, the table of frames, the wall time and the
        number of calls.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    ValueError
        If ``name`` is not a non-empty str, ``min_seconds`` is not a finite float
        ``>= 0``, ``max_calls`` is not an int ``>= 1`` or ``interval`` is not a finite
        float ``> 0``.

    Notes
    -----
    *Which frames count.* Only frames called from ``fn`` (``fn``'s own frame included)
    enter :attr:`ProfileResult.top_frames`: the calling loop, the clock reads and
    pyinstrument's own frames (any frame in pyinstrument's package, with its callees) are
    left out. pyinstrument's pseudo-frames are folded into the frame they hang under, the
    way pyinstrument's ``Frame.total_self_time`` does: ``[self]`` holds a frame's own
    samples and ``[await]`` / ``[out-of-context]`` (which do not arise in async mode
    ``"disabled"``) time spent waiting, so that time counts as the frame's self time.

    Frames are aggregated by ``(function, file, line)`` over the whole call tree, so a
    helper called from many places gets one row with its full self time.

    Only the calling thread is sampled: work that ``fn`` hands to other threads or
    processes shows up as the time ``fn`` waits for it (``lock.acquire`` and the like).

    Examples
    --------
    >>> res = profile_call(lambda: sum(range(10_000)), name="sum", min_seconds=0.05)
    >>> res.calls >= 1 and res.top_frames.columns.tolist()[:3] == ["function", "file", "line"]
    True
    """
    owner = "profile_call"
    if not callable(fn):
        raise TypeError(f"The 'fn' parameter of {owner} must be callable. Got {type(fn).__name__}.")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"The 'name' parameter of {owner} must be a non-empty str. Got {name!r}.")
    min_s = check_real(min_seconds, "min_seconds", owner=owner, low=0.0)
    n_max = check_int(max_calls, "max_calls", owner=owner, low=1)
    step = check_real(interval, "interval", owner=owner, low=0.0, low_inclusive=False)

    session, seconds, calls = _sample(fn, name, min_s, n_max, step)
    html: str = HTMLRenderer().render(session)
    speedscope: str = SpeedscopeRenderer().render(session)
    return ProfileResult(
        name=name,
        html=_WEB_FONTS.sub(_EMPTY_STYLESHEET, html),
        speedscope=speedscope,
        top_frames=_frame_table(session),
        seconds=seconds,
        calls=calls,
    )


def save_profile(result: ProfileResult, directory: Path | str) -> dict[str, Path]:
    """Write a profile as ``<name>.html``, ``<name>.speedscope.json``, ``<name>.frames.csv``.

    Parameters
    ----------
    result : ProfileResult
        A result of :func:`profile_call`.
    directory : path-like
        Folder to write into; created if missing. Existing files are overwritten.

    Returns
    -------
    dict of str to Path
        The written files under the keys ``"html"``, ``"speedscope"`` and ``"frames"``.

    Notes
    -----
    ``<name>`` is ``result.name`` with every run of characters other than ASCII letters,
    digits, ``.``, ``_`` and ``-`` replaced by ``_`` and leading dots removed
    (``"gp/fit d=6"`` becomes ``gp_fit_d_6``); names that differ only there share files.
    """
    if not isinstance(result, ProfileResult):
        raise TypeError(
            "The 'result' parameter of save_profile must be a ProfileResult. "
            f"Got {type(result).__name__}."
        )
    stem = _UNSAFE_NAME.sub("_", result.name).lstrip(".")
    if not stem.strip("_"):
        raise ValueError(
            "The name of the ProfileResult passed to save_profile must contain a letter or "
            f"digit to name the files by. Got {result.name!r}."
        )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": folder / f"{stem}.html",
        "speedscope": folder / f"{stem}.speedscope.json",
        "frames": folder / f"{stem}.frames.csv",
    }
    paths["html"].write_text(result.html, encoding="utf-8")
    paths["speedscope"].write_text(result.speedscope, encoding="utf-8")
    result.top_frames.to_csv(paths["frames"], index=False, encoding="utf-8")
    return paths


def load_top_frames(path: Path | str) -> pd.DataFrame:
    """Read a ``<name>.frames.csv`` written by :func:`save_profile`.

    Parameters
    ----------
    path : path-like
        The CSV file.

    Returns
    -------
    DataFrame
        The table of :attr:`ProfileResult.top_frames`, same columns and dtypes.

    Raises
    ------
    ValueError
        If the file lacks one of the columns of :data:`FRAME_COLUMNS`.
    """
    # keep_default_na=False: a function may well be called "null" or "NA"
    table = pd.read_csv(
        path,
        dtype={"function": str, "file": str},
        keep_default_na=False,
        encoding="utf-8",
    )
    missing = [c for c in FRAME_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"The file {str(path)!r} passed to load_top_frames must have the columns "
            f"{list(FRAME_COLUMNS)}; it lacks {missing}."
        )
    table = table.loc[:, list(FRAME_COLUMNS)]
    return table.astype({"line": "int64", "self_s": float, "self_share": float, "total_s": float})


def diff_top_frames(base: pd.DataFrame, head: pd.DataFrame, *, n: int = 10) -> pd.DataFrame:
    """The frames whose share of self time changed most from ``base`` to ``head``.

    Parameters
    ----------
    base, head : DataFrame
        Tables of :attr:`ProfileResult.top_frames` (or :func:`load_top_frames`) of the
        same benchmark at two revisions; the columns ``function``, ``file`` and
        ``self_share`` are used.
    n : int, default 10
        Number of rows to return at most, ``>= 1``.

    Returns
    -------
    DataFrame
        At most ``n`` rows sorted by ``|change|`` descending (ties by function, file), with
        columns ``function``, ``file``, ``base_self_share``, ``head_self_share`` and
        ``change = head_self_share - base_self_share``.

    Raises
    ------
    ValueError
        If ``base`` or ``head`` lacks a column, or ``n`` is not an int ``>= 1``.

    Notes
    -----
    Rows are matched on ``(function, file)``, not on ``line``, so a function that moved
    within its file is still matched; rows sharing ``(function, file)`` (two nested
    functions of one name) are summed first. A frame present on one side only counts as
    share 0 on the other. Shares, not seconds, are compared: a revision that is faster
    overall still shows which functions take a larger part of what remains.
    """
    n_rows = check_int(n, "n", owner="diff_top_frames", low=1)
    keys = ["function", "file"]
    sides = []
    for label, table in (("base", base), ("head", head)):
        if not isinstance(table, pd.DataFrame):
            raise ValueError(
                f"The '{label}' parameter of diff_top_frames must be a DataFrame. "
                f"Got {type(table).__name__}."
            )
        missing = [c for c in (*keys, "self_share") if c not in table.columns]
        if missing:
            raise ValueError(
                f"The '{label}' parameter of diff_top_frames must have the columns "
                f"'function', 'file' and 'self_share'; it lacks {missing}."
            )
        share = table.groupby(keys, sort=False)["self_share"].sum()
        sides.append(share.rename(f"{label}_self_share"))
    diff = pd.concat(sides, axis=1).fillna(0.0).reset_index()
    diff.columns = pd.Index(["function", "file", "base_self_share", "head_self_share"])
    diff["change"] = diff["head_self_share"] - diff["base_self_share"]
    diff["_size"] = diff["change"].abs()
    diff = diff.sort_values(["_size", *keys], ascending=[False, True, True], kind="mergesort")
    return diff.loc[:, list(_DIFF_COLUMNS)].head(n_rows).reset_index(drop=True)


# ----------------------------------------------------------------------------- sampling
def _call_target(fn: Callable[[], object]) -> None:
    """Call ``fn``; its frame marks where the benchmark's frames start in the call tree."""
    fn()


_TARGET_CODE = _call_target.__code__


def _sample(
    fn: Callable[[], object], name: str, min_seconds: float, max_calls: int, interval: float
) -> tuple[Session, float, int]:
    """Call ``fn`` under the profiler; return the session, the wall time and the calls."""
    profiler = Profiler(interval=interval, async_mode="disabled")
    calls = 0
    start = perf_counter()
    profiler.start(target_description=f"benchmark {name!r}")
    try:
        while True:
            _call_target(fn)
            calls += 1
            seconds = perf_counter() - start
            if seconds >= min_seconds or calls >= max_calls:
                break
    finally:
        session = profiler.stop()
    return session, seconds, calls


# ------------------------------------------------------------------------- frame table
def _frame_table(session: Session) -> pd.DataFrame:
    """Aggregate the session's frames under :func:`_call_target` into the frame table."""
    root = session.root_frame()
    roots = _path_roots(session.sys_path)
    rows: dict[_Key, list[float]] = {}
    on_stack: Counter[_Key] = Counter()
    # Iterative depth-first walk (a deep recursion in fn must not hit the recursion
    # limit here); an entry with frame None closes the frame of its key.
    todo: list[tuple[Frame | None, bool, _Key | None]] = (
        [] if root is None else [(root, False, None)]
    )
    while todo:
        frame, inside, key = todo.pop()
        if frame is None:
            if key is not None:
                on_stack[key] -= 1
            continue
        if frame.function == _TARGET_CODE.co_name and frame.file_path == _TARGET_CODE.co_filename:
            todo.extend((child, True, None) for child in frame.children)
            continue
        if not inside:
            todo.extend((child, False, None) for child in frame.children)
            continue
        if frame.is_synthetic or (frame.file_path or "").startswith(_PYINSTRUMENT_DIR):
            continue
        key = (frame.function, _short_path(frame.file_path or "", roots), frame.line_no or 0)
        row = rows.setdefault(key, [0.0, 0.0])
        row[0] += max(frame.total_self_time, 0.0)
        if not on_stack[key]:  # recursion: only the outermost call adds its total time
            row[1] += frame.time
        on_stack[key] += 1
        todo.append((None, True, key))
        todo.extend((child, True, None) for child in frame.children)
    return _rows_to_table(rows)


def _rows_to_table(rows: dict[_Key, list[float]]) -> pd.DataFrame:
    table = pd.DataFrame(
        [(*key, self_s, total_s) for key, (self_s, total_s) in rows.items()],
        columns=["function", "file", "line", "self_s", "total_s"],
    ).astype({"function": str, "file": str, "line": "int64", "self_s": float, "total_s": float})
    total = float(table["self_s"].sum())
    table["self_share"] = table["self_s"] / total if total > 0 else 0.0
    table = table.sort_values(
        ["self_s", "function", "file", "line"],
        ascending=[False, True, True, True],
        kind="mergesort",
    )
    return table.loc[:, list(FRAME_COLUMNS)].reset_index(drop=True)


def _path_roots(sys_path: Iterable[str]) -> list[str]:
    """Folders to shorten source paths against, deepest first.

    The ``sys.path`` entries, plus the folder that holds each imported top-level package
    or module: an editable install (``ardlib`` itself) is found by an import hook, not
    through ``sys.path``.
    """
    found = {os.path.abspath(p) for p in sys_path if p}
    for mod_name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if "." in mod_name or not isinstance(file, str):
            continue
        folder = os.path.dirname(os.path.abspath(file))
        found.add(os.path.dirname(folder) if hasattr(module, "__path__") else folder)
    return sorted(found, key=len, reverse=True)


def _short_path(path: str, roots: Iterable[str]) -> str:
    """``path`` relative to the deepest of ``roots`` holding it, with ``/`` separators.

    Paths that are not files (``<built-in>``, ``<string>``) and files under none of the
    roots come back unchanged.
    """
    if not path or path.startswith("<") or not os.path.isabs(path):
        return path
    for root in roots:
        prefix = root if root.endswith(os.sep) else root + os.sep
        if path.startswith(prefix):
            return PurePath(os.path.relpath(path, root)).as_posix()
    return path
