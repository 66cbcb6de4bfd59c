"""Read the test-selection dataset (``data/testsel``) written by ``ardlib testsel collect``.

:func:`load_selection_data` reads the tables, checks their columns and returns a
:class:`SelectionData`; :func:`data_digest` is the SHA-256 a trained model records so that a
model is never applied to data it was not trained on.  The tables (one row each):

- ``tests.csv``: a test of the universe (the fast tier): ``nodeid``, ``file``, ``duration_s``
  (clean setup + call + teardown), ``outcome``;
- ``coverage.parquet``: a line of ``ardlib/`` a test executes: ``nodeid``, ``path``, ``line``;
- ``mutants.csv``: a faulty change (one mutated line): ``mutant_id``, ``path``, ``module``,
  ``function``, ``line``, ``operator``, ``kind``, ``lines_changed``, ``line_time``,
  ``n_covering``, ``killed``, ...;
- ``outcomes.parquet``: a test run under a mutant: ``mutant_id``, ``nodeid``, ``outcome``,
  ``duration_s`` (only tests that execute the mutated line were run);
- ``history.csv`` (optional): changed hunks of the repository's history;
- ``meta.json``: the revision the data was collected at, the seed, counts, the universe.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import _git_raw

__all__ = [
    "DATA_FILES",
    "FAILING_OUTCOMES",
    "RAN",
    "SelectionData",
    "data_digest",
    "load_selection_data",
    "read_sources",
    "source_mismatches",
]

# A test "catches" a change when, run against it, it ends in one of these.
FAILING_OUTCOMES = frozenset({"failed", "error", "timeout"})
# Mutant statuses whose covering tests ran (``timeout_all``: every test hit the limit).
RAN = frozenset({"run", "timeout_all"})
# The files a model's data digest covers (history.csv is description, not training data).
DATA_FILES = ("meta.json", "tests.csv", "coverage.parquet", "mutants.csv", "outcomes.parquet")

_COLUMNS = {
    "tests.csv": ("nodeid", "file", "duration_s"),
    "coverage.parquet": ("nodeid", "path", "line"),
    "mutants.csv": ("mutant_id", "path", "module", "function", "line", "kind", "killed"),
    "outcomes.parquet": ("mutant_id", "nodeid", "outcome"),
    "history.csv": ("commit", "time", "path", "line_start", "line_end"),
}


@dataclass
class SelectionData:
    """The tables of a test-selection dataset, as read by :func:`load_selection_data`.

    Attributes
    ----------
    tests : DataFrame
        One row per test of the universe; ``duration_s`` is float seconds.
    coverage : DataFrame
        ``nodeid``, ``path``, ``line``: the lines of ``ardlib/`` each test executes.
    mutants : DataFrame
        One row per mutant (a faulty change of one line); ``killed`` is bool,
        ``line_time`` a UTC timestamp (NaT when unknown), ``weight`` the inverse of the
        probability the site was kept in the sample (1 when the data have none) and
        ``usable`` whether its covering tests ran (status ``run`` or ``timeout_all``) and
        there is at least one (``n_covering > 0``).
    outcomes : DataFrame
        ``mutant_id``, ``nodeid``, ``outcome``, plus ``failed`` (bool: the outcome is in
        :data:`FAILING_OUTCOMES` and the test passed clean).
    meta : dict
        ``meta.json``: at least ``revision``.
    history : DataFrame or None
        ``history.csv`` when present.
    path : Path
        The folder the tables were read from.
    digest : str
        :func:`data_digest` of the folder.
    sources : dict
        Repository path -> source text at the data's revision (filled by :func:`read_sources`).
    """

    tests: pd.DataFrame
    coverage: pd.DataFrame
    mutants: pd.DataFrame
    outcomes: pd.DataFrame
    meta: dict[str, Any]
    history: pd.DataFrame | None = None
    path: Path = Path(".")
    digest: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = self.mutants
        # SCHEMA_CHANGES.md: sites whose covering tests are expensive were thinned out at
        # random; ``weight`` (1 / keep probability) makes estimates over the population.
        m["weight"] = m["weight"].astype(float) if "weight" in m else 1.0
        if "usable" not in m:
            ran = m["status"].astype(str).isin(RAN) if "status" in m else True
            m["usable"] = ran & (m["n_covering"] > 0)
        if "failed" not in self.outcomes:
            self.outcomes["failed"] = self.outcomes["outcome"].astype(str).isin(FAILING_OUTCOMES)

    @property
    def revision(self) -> str:
        """The commit the data was collected at (``meta["revision"]``).

        Returns
        -------
        str
            ``revision`` (or ``git_revision``) as recorded; empty when ``meta.json`` has none.
        """
        return str(self.meta.get("revision") or self.meta.get("git_revision") or "")

    @property
    def total_seconds(self) -> float:
        """Test-seconds of the whole universe (the sum of ``tests.duration_s``).

        Returns
        -------
        float
            The denominator of every ``seconds_share``.
        """
        return float(self.tests["duration_s"].sum())


def data_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 over the training files of a dataset folder (:data:`DATA_FILES`).

    Parameters
    ----------
    path : str or path-like
        The dataset folder.

    Returns
    -------
    str
        Hex digest of each file's name and bytes in :data:`DATA_FILES` order.

    Raises
    ------
    OSError
        If one of the files is missing.
    """
    h = hashlib.sha256()
    for name in DATA_FILES:
        target = Path(path) / name
        if not target.is_file():
            raise FileNotFoundError(f"The 'data' folder {str(path)!r} lacks {name}.")
        h.update(name.encode() + b"\0")
        with open(target, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _read(folder: Path, name: str) -> pd.DataFrame:
    target = folder / name
    if not target.is_file():
        raise FileNotFoundError(
            f"The 'data' folder {str(folder)!r} lacks {name}; make it with "
            "`ardlib testsel collect` (or `dvc repro testsel-collect`) first."
        )
    frame = pd.read_parquet(target) if name.endswith(".parquet") else pd.read_csv(target)
    missing = [c for c in _COLUMNS[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{target} lacks the column(s) {missing}; it has {list(frame.columns)}.")
    return frame


def _as_bool(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    return text.isin({"true", "1", "yes"})


def load_selection_data(
    path: str | os.PathLike[str] = "data/testsel", *, repo: str | os.PathLike[str] | None = None
) -> SelectionData:
    """Read and check a test-selection dataset.

    Parameters
    ----------
    path : str or path-like, default "data/testsel"
        The folder ``ardlib testsel collect`` wrote.
    repo : str or path-like, optional
        The git work tree the data describes; when given, the sources of every mutated file
        at the data's revision are read (:func:`read_sources`).

    Returns
    -------
    SelectionData
        The tables; mutants whose line no test executes stay in ``mutants`` (with
        ``n_covering == 0``) so that their share can be reported.

    Raises
    ------
    OSError
        If the folder or one of its required files is missing.
    ValueError
        If a table lacks a column, or ``meta.json`` has no ``revision``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The 'data' folder {str(folder)!r} does not exist; make it with "
            "`ardlib testsel collect` (or `dvc repro testsel-collect`) first."
        )
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"The 'data' folder {str(folder)!r} lacks meta.json.")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or not (meta.get("revision") or meta.get("git_revision")):
        raise ValueError(f"{meta_path} must be a JSON object with a 'revision'.")
    tests = _read(folder, "tests.csv")
    tests["duration_s"] = tests["duration_s"].astype(float)
    coverage = _read(folder, "coverage.parquet")[["nodeid", "path", "line"]]
    coverage = coverage.astype({"line": "int64"}).drop_duplicates(ignore_index=True)
    mutants = _read(folder, "mutants.csv")
    mutants["killed"] = _as_bool(mutants["killed"])
    mutants["line"] = mutants["line"].astype("int64")
    if "line_time" in mutants:
        mutants["line_time"] = pd.to_datetime(mutants["line_time"], utc=True, errors="coerce")
    if "n_covering" not in mutants:
        keys = coverage.groupby(["path", "line"]).size().rename("n_covering")
        mutants = mutants.join(keys, on=["path", "line"]).fillna({"n_covering": 0})
    if "lines_changed" not in mutants:
        mutants["lines_changed"] = 1
    outcomes = _read(folder, "outcomes.parquet")
    outcomes["failed"] = outcomes["outcome"].astype(str).isin(FAILING_OUTCOMES)
    if "outcome" in tests:  # a test that did not pass clean catches nothing by failing
        clean = set(tests.loc[tests["outcome"].astype(str) == "passed", "nodeid"])
        outcomes["failed"] &= outcomes["nodeid"].isin(clean)
    history = _read(folder, "history.csv") if (folder / "history.csv").is_file() else None
    data = SelectionData(
        tests=tests,
        coverage=coverage,
        mutants=mutants,
        outcomes=outcomes,
        meta=meta,
        history=history,
        path=folder,
        digest=data_digest(folder),
    )
    if repo is not None:
        data.sources = read_sources(sorted(mutants["path"].unique()), data.revision, repo)
    return data


def read_sources(
    paths: list[str], revision: str, repo: str | os.PathLike[str] = "."
) -> dict[str, str]:
    """The text of repository files at a revision (the working tree's copy as a fallback).

    Parameters
    ----------
    paths : list of str
        Paths relative to the work tree, e.g. ``ardlib/gp/_model.py``.
    revision : str
        A commit; ``git show REV:PATH`` is tried first.
    repo : str or path-like, default "."
        The git work tree.

    Returns
    -------
    dict
        Path -> text; a path neither git nor the working tree has is left out.
    """
    out: dict[str, str] = {}
    for p in paths:
        text = _git_raw(("show", f"{revision}:{p}"), repo) if revision else None
        if text is None and (Path(repo) / p).is_file():
            text = (Path(repo) / p).read_text(encoding="utf-8")
        if text is not None:
            out[p] = text
    return out


def source_mismatches(data: SelectionData) -> pd.DataFrame:
    """Mutants whose line, in the source at the data's revision, is in another function.

    The coverage and the mutants describe the files as they were collected; if the
    recorded revision is not the one collected (a commit landed during the run), line
    numbers point elsewhere and selection would map changes to the wrong tests.

    Parameters
    ----------
    data : SelectionData
        With ``sources`` (``load_selection_data(..., repo=...)``).

    Returns
    -------
    DataFrame
        ``path``, ``line``, ``function`` (recorded) and ``found`` (the innermost function
        at that line in the source, ``""`` if none) of every mismatch; mutants of files
        without source are not checked.
    """
    from ._source import function_spans, innermost_function

    rows = []
    spans = {}
    for path, line, func in zip(
        data.mutants["path"], data.mutants["line"], data.mutants["function"], strict=True
    ):
        text = data.sources.get(path)
        if text is None:
            continue
        if path not in spans:
            try:
                spans[path] = function_spans(text)
            except ValueError:
                spans[path] = []
        span = innermost_function(spans[path], int(line))
        found = span.qualname if span else ""
        if found != str(func):
            rows.append((path, int(line), str(func), found))
    return pd.DataFrame(rows, columns=["path", "line", "function", "found"])
