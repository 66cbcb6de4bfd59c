"""Features of a (change, candidate test) pair, computed from coverage, source and history.

A *change* is a set of changed lines, in the coordinates of the coverage data: a mutant is
one line, a real diff many, possibly in several files.  Its *candidates* are the tests that
execute at least one changed line (coverage-based selection's set): in the mutant data only
those tests were run, so a test that executes none of the changed lines never fails there and
is never a candidate (changes no test's coverage can see, code run at import time, are
handled by the selection rule, not by the model: see :mod:`ardlib.testsel._select`).

Features (:data:`FEATURES`), per pair:

- ``n_lines_covered``, ``frac_lines_covered``: changed lines the test executes (count, share);
- ``executes_function``, ``function_share``: whether the test executes the changed function
  and the share of that function's covered lines it executes (the largest over functions);
- ``n_covering``: how many tests execute a changed line (specificity of the change);
- ``import_distance``: shortest static import path from the test module to a changed module
  (:data:`~ardlib.testsel._source.UNREACHABLE` when none);
- ``past_failure_rate``, ``past_runs``: the test's failure rate and run count over the
  *training* changes of other modules (:class:`FailureHistory`), and
  ``past_failure_rate_package``: the same over training changes in the changed module's
  package, other modules only;
- ``duration_s``, ``test_breadth`` (lines the test executes), ``test_file_lines`` (lines of
  the changed files it executes);
- ``lines_changed``, ``n_files``: the change's size; ``kind``: the mutation operator's family
  (integer code of :data:`KINDS`, missing for a real diff);
- ``name_match``: the test file is named after a changed module (:func:`heuristic_match`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._source import (
    UNREACHABLE,
    function_spans,
    import_distances,
    import_graph,
    innermost_function,
    module_name,
)

__all__ = [
    "FEATURES",
    "KINDS",
    "CoverageIndex",
    "FailureHistory",
    "build_features",
    "coverage_index",
    "heuristic_match",
    "package_of",
]

KINDS = (
    "binary_operator",
    "comparison",
    "number",
    "boolean",
    "unary",
    "exception",
    "keyword",
    "other",
)
FEATURES = (
    "n_lines_covered",
    "frac_lines_covered",
    "executes_function",
    "function_share",
    "n_covering",
    "import_distance",
    "past_failure_rate",
    "past_runs",
    "past_failure_rate_package",
    "duration_s",
    "test_breadth",
    "test_file_lines",
    "lines_changed",
    "n_files",
    "kind",
    "name_match",
)


def package_of(module: str) -> str:
    """The first package under ``ardlib`` of a dotted module (``ardlib.gp._model`` -> ``gp``).

    Parameters
    ----------
    module : str
        Dotted module name.

    Returns
    -------
    str
        The subpackage, or the module's last part for a top-level module (``ardlib._io`` ->
        ``_io``).
    """
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _tokens(name: str) -> list[str]:
    return [t for t in name.strip("_").split("_") if t]


def heuristic_match(test_file: str, changed_path: str) -> bool:
    """The changed-file heuristic: is the test file named after the changed module?

    A test file ``tests/test_<t1>_<t2>...py`` matches ``ardlib/<pkg>/.../<mod>.py`` when
    ``t1`` is ``pkg`` (``ardlib/gp/_model.py`` -> ``tests/test_gp*.py``) or the module's
    own name, split at underscores, appears as consecutive whole tokens
    (``ardlib/gp/_model.py`` -> ``tests/test_*_model_*.py``; ``ardlib/_io.py`` ->
    ``tests/test_io*.py``; ``model`` does not match ``models``).  ``__init__`` modules
    match by package only.

    Parameters
    ----------
    test_file : str
        E.g. ``tests/test_gp_large.py``.
    changed_path : str
        E.g. ``ardlib/gp/_model.py``.

    Returns
    -------
    bool
        Whether the rule selects the file for the change.
    """
    stem = Path(test_file).stem
    if not stem.startswith("test_"):
        return False
    tokens = _tokens(stem.removeprefix("test_"))
    parts = Path(changed_path).with_suffix("").parts
    pkg = parts[1] if len(parts) > 2 else None
    mod = parts[-1]
    if pkg and tokens and tokens[0] == pkg.strip("_"):
        return True
    if mod == "__init__":
        return False
    want = _tokens(mod)
    return bool(want) and any(
        tokens[i : i + len(want)] == want for i in range(len(tokens) - len(want) + 1)
    )


@dataclass
class CoverageIndex:
    """Coverage joined with what the source says, computed once per dataset.

    Build it with :func:`coverage_index`.

    Attributes
    ----------
    coverage : DataFrame
        ``nodeid``, ``path``, ``line``, ``func`` (``path::qualname`` of the innermost
        function holding the line, or ``""``).
    tests : DataFrame
        Indexed by ``nodeid``: ``file``, ``duration_s``, ``module`` (dotted),
        ``test_breadth``.
    func_lines : Series
        ``func`` -> number of its lines any test executes.
    spans : dict
        Path -> list of :class:`~ardlib.testsel._source.FunctionSpan`.
    distances : dict
        Test module -> {module: import distance}.
    """

    coverage: pd.DataFrame
    tests: pd.DataFrame
    func_lines: pd.Series
    spans: dict[str, list] = field(default_factory=dict)
    distances: dict[str, dict[str, int]] = field(default_factory=dict)

    def function_of(self, path: str, line: int) -> str:
        """The ``path::qualname`` id of the innermost function holding a line.

        Parameters
        ----------
        path : str
            Repository path.
        line : int
            Line in the coverage data's coordinates.

        Returns
        -------
        str
            ``""`` when the line is outside every function or the source is unknown.
        """
        span = innermost_function(self.spans.get(path, []), int(line))
        return f"{path}::{span.qualname}" if span else ""


def coverage_index(
    coverage: pd.DataFrame,
    tests: pd.DataFrame,
    sources: dict[str, str],
    *,
    root: str | os.PathLike[str] | None = ".",
) -> CoverageIndex:
    """Index coverage by function and the tests by module and import distance.

    Parameters
    ----------
    coverage : DataFrame
        ``nodeid``, ``path``, ``line``.
    tests : DataFrame
        ``nodeid``, ``file``, ``duration_s``.
    sources : dict
        Path -> source text at the coverage data's revision (for function spans); a path
        without source gets no function ids.
    root : str or path-like or None, default "."
        Repository root for the static import graph (``ardlib/`` and ``tests/``); None
        leaves every distance at :data:`~ardlib.testsel._source.UNREACHABLE`.

    Returns
    -------
    CoverageIndex
    """
    spans = {}
    for path, text in sources.items():
        try:
            spans[path] = function_spans(text)
        except ValueError:
            continue
    cov = coverage[["nodeid", "path", "line"]].copy()
    keys = cov[["path", "line"]].drop_duplicates()
    keys["func"] = [
        f"{p}::{s.qualname}" if (s := innermost_function(spans.get(p, []), int(n))) else ""
        for p, n in zip(keys["path"], keys["line"], strict=True)
    ]
    cov = cov.merge(keys, on=["path", "line"], how="left")
    func_lines = keys[keys["func"] != ""].groupby("func").size()
    t = tests.set_index("nodeid")[["file", "duration_s"]].copy()
    t["module"] = [module_name(str(f)) for f in t["file"]]
    t["test_breadth"] = cov.groupby("nodeid").size().reindex(t.index).fillna(0).to_numpy()
    distances: dict[str, dict[str, int]] = {}
    if root is not None:
        graph = import_graph(root)
        for m in t["module"].unique():
            distances[m] = import_distances(graph, m)
    return CoverageIndex(cov, t, func_lines, spans, distances)


@dataclass
class FailureHistory:
    """How often each test failed on the training changes, by module of the change.

    Build it with :meth:`from_outcomes` on training changes only; a pair's rate then leaves
    out the changes of the pair's own module (so a training row never sees its own label,
    and a held-out module is never in the history).

    Attributes
    ----------
    by_test : DataFrame
        Indexed by ``nodeid``: ``fails``, ``runs``.
    by_test_module : DataFrame
        Indexed by (``nodeid``, ``module``): ``fails``, ``runs``.
    by_test_package : DataFrame
        Indexed by (``nodeid``, ``package``): ``fails``, ``runs``.
    """

    by_test: pd.DataFrame
    by_test_module: pd.DataFrame
    by_test_package: pd.DataFrame

    @classmethod
    def from_outcomes(cls, outcomes: pd.DataFrame, modules: pd.Series) -> FailureHistory:
        """Count failures and runs of each test on a set of changes.

        Parameters
        ----------
        outcomes : DataFrame
            ``mutant_id`` (the change), ``nodeid``, ``failed`` (bool), for training changes
            only.
        modules : Series
            Change id -> dotted module of the change.

        Returns
        -------
        FailureHistory
        """
        o = outcomes[["mutant_id", "nodeid", "failed"]].copy()
        o["module"] = o["mutant_id"].map(modules)
        o["package"] = o["module"].map(package_of)
        o["fails"] = o["failed"].astype(int)
        o["runs"] = 1

        def agg(keys: list[str]) -> pd.DataFrame:
            return o.groupby(keys)[["fails", "runs"]].sum()

        return cls(agg(["nodeid"]), agg(["nodeid", "module"]), agg(["nodeid", "package"]))

    @classmethod
    def empty(cls) -> FailureHistory:
        """A history with no changes (every rate missing).

        Returns
        -------
        FailureHistory
        """
        return cls.from_outcomes(
            pd.DataFrame({"mutant_id": [], "nodeid": [], "failed": []}), pd.Series(dtype=str)
        )

    def rates(
        self, nodeids: pd.Series, modules: pd.Series | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Failure rates of tests, leaving out each pair's own module.

        Parameters
        ----------
        nodeids : Series
            The pairs' tests.
        modules : Series or None
            The pairs' changed modules (aligned with ``nodeids``); None leaves nothing out
            (a real change, which is not in the history).

        Returns
        -------
        (ndarray, ndarray, ndarray)
            ``past_failure_rate`` (NaN when the test never ran), ``past_runs`` and
            ``past_failure_rate_package`` (NaN without runs in the package).
        """
        ids = pd.Index(nodeids)
        f = self.by_test["fails"].reindex(ids).fillna(0).to_numpy(float)
        r = self.by_test["runs"].reindex(ids).fillna(0).to_numpy(float)
        if modules is None:
            pf = np.full(len(ids), np.nan)
            pr = np.zeros(len(ids))
        else:
            mods = pd.Series(modules).astype(str).to_numpy()
            pkgs = np.array([package_of(m) for m in mods], dtype=object)
            mi = pd.MultiIndex.from_arrays([ids, mods])
            pi = pd.MultiIndex.from_arrays([ids, pkgs])
            own_f = self.by_test_module["fails"].reindex(mi).fillna(0).to_numpy(float)
            own_r = self.by_test_module["runs"].reindex(mi).fillna(0).to_numpy(float)
            f, r = f - own_f, r - own_r
            pf = self.by_test_package["fails"].reindex(pi).fillna(0).to_numpy(float) - own_f
            pr = self.by_test_package["runs"].reindex(pi).fillna(0).to_numpy(float) - own_r
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(r > 0, f / np.maximum(r, 1), np.nan)
            rate_pkg = np.where(pr > 0, pf / np.maximum(pr, 1), np.nan)
        return rate, r, rate_pkg


def build_features(
    changes: pd.DataFrame,
    attrs: pd.DataFrame,
    index: CoverageIndex,
    history: FailureHistory,
    *,
    leave_out_module: bool = True,
) -> pd.DataFrame:
    """Features of every (change, candidate test) pair.

    Parameters
    ----------
    changes : DataFrame
        One row per changed line: ``change_id``, ``path``, ``line`` (coverage coordinates).
    attrs : DataFrame
        Indexed by ``change_id``: ``module`` (dotted; the changed module used for the
        leave-one-module-out failure rates) and optionally ``kind`` and ``lines_changed``.
    index : CoverageIndex
        From :func:`coverage_index`.
    history : FailureHistory
        Built from training changes only.
    leave_out_module : bool, default True
        Leave each pair's own module out of its failure rates (training and held-out
        mutants); False for a real change.

    Returns
    -------
    DataFrame
        ``change_id``, ``nodeid`` and the :data:`FEATURES` columns, one row per pair whose
        test executes at least one changed line; sorted by change and test.
    """
    ch = changes[["change_id", "path", "line"]].drop_duplicates()
    n_lines = ch.groupby("change_id").size()
    n_files = ch.groupby("change_id")["path"].nunique()
    hits = ch.merge(index.coverage, on=["path", "line"])
    pairs = hits.groupby(["change_id", "nodeid"]).size().rename("n_lines_covered").reset_index()
    cid = pairs["change_id"]
    pairs["frac_lines_covered"] = pairs["n_lines_covered"] / cid.map(n_lines).to_numpy()
    pairs["n_covering"] = cid.map(pairs.groupby("change_id").size()).to_numpy()
    # Functions the change touches, and the share of each one's lines each test executes.
    ch_funcs = ch.assign(
        func=[index.function_of(p, n) for p, n in zip(ch["path"], ch["line"], strict=True)]
    )
    ch_funcs = ch_funcs.loc[ch_funcs["func"] != "", ["change_id", "func"]].drop_duplicates()
    test_func = index.coverage[index.coverage["func"] != ""].groupby(["nodeid", "func"]).size()
    fshare = ch_funcs.merge(pairs[["change_id", "nodeid"]], on="change_id")
    fshare["share"] = (
        test_func.reindex(pd.MultiIndex.from_frame(fshare[["nodeid", "func"]])).fillna(0).to_numpy()
        / fshare["func"].map(index.func_lines).fillna(1).to_numpy()
    )
    best = fshare.groupby(["change_id", "nodeid"])["share"].max()
    pairs["function_share"] = (
        best.reindex(pd.MultiIndex.from_frame(pairs[["change_id", "nodeid"]])).fillna(0).to_numpy()
    )
    pairs["executes_function"] = (pairs["function_share"] > 0).astype(float)
    # Static import distance from the test module to the nearest changed module.
    ch_mods = ch.groupby("change_id")["path"].agg(lambda s: sorted({module_name(p) for p in s}))
    t = index.tests
    tmods = t["module"].reindex(pairs["nodeid"]).to_numpy()
    pairs["import_distance"] = [
        min(
            (index.distances.get(tm, {}).get(m, UNREACHABLE) for m in ch_mods[c]),
            default=UNREACHABLE,
        )
        for c, tm in zip(cid, tmods, strict=True)
    ]
    mods = cid.map(attrs["module"]) if leave_out_module else None
    rate, runs, rate_pkg = history.rates(pairs["nodeid"], mods)
    pairs["past_failure_rate"], pairs["past_runs"] = rate, runs
    pairs["past_failure_rate_package"] = rate_pkg
    pairs["duration_s"] = t["duration_s"].reindex(pairs["nodeid"]).to_numpy(float)
    pairs["test_breadth"] = t["test_breadth"].reindex(pairs["nodeid"]).to_numpy(float)
    file_lines = (
        ch[["change_id", "path"]]
        .drop_duplicates()
        .merge(index.coverage[["nodeid", "path"]], on="path")
        .groupby(["change_id", "nodeid"])
        .size()
    )
    pairs["test_file_lines"] = (
        file_lines.reindex(pd.MultiIndex.from_frame(pairs[["change_id", "nodeid"]]))
        .fillna(0)
        .to_numpy()
    )
    size = attrs.get("lines_changed", n_lines)
    pairs["lines_changed"] = cid.map(size).fillna(cid.map(n_lines)).to_numpy(float)
    pairs["n_files"] = cid.map(n_files).to_numpy(float)
    codes = {k: float(i) for i, k in enumerate(KINDS)}
    kinds = cid.map(attrs["kind"]) if "kind" in attrs else pd.Series(np.nan, index=pairs.index)
    pairs["kind"] = [codes.get(k, np.nan) if isinstance(k, str) else np.nan for k in kinds]
    paths = ch.groupby("change_id")["path"].agg(lambda s: sorted(set(s)))
    files = t["file"].reindex(pairs["nodeid"]).astype(str).to_numpy()
    memo: dict[tuple[str, str], bool] = {}

    def named(f: str, p: str) -> bool:
        if (f, p) not in memo:
            memo[f, p] = heuristic_match(f, p)
        return memo[f, p]

    pairs["name_match"] = [
        float(any(named(f, p) for p in paths[c])) for c, f in zip(cid, files, strict=True)
    ]
    cols = ["change_id", "nodeid", *FEATURES]
    return pairs[cols].sort_values(["change_id", "nodeid"], ignore_index=True)
