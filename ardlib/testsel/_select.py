"""Choose the tests to run for the working tree against a base revision, and run them.

:func:`plan_selection` reads the changed lines (:func:`~ardlib.testsel._diff.
working_tree_changes`) and decides, per changed file:

- a test file (``tests/**/test_*.py``) added or changed: every test in it runs;
- a changed helper module under ``tests/`` other than ``conftest.py``: every test file that
  imports it (static import graph) runs; ``conftest.py``: the full fast tier;
- an ``ardlib/`` module: its changed lines are classified (:func:`~ardlib.testsel._source.
  line_kinds`).  Comment and blank lines need no test.  Lines that run at import time
  (module and class level, signatures, decorators, docstrings, a new module) are seen by no
  test's coverage, so every test file that imports the module, directly or not, runs.
  Lines in function bodies are moved to the coverage data's revision and their covering
  tests are the candidates; the model keeps those whose predicted failure probability
  reaches its threshold (``method="coverage"`` keeps them all).  A changed ``__init__.pyi``
  stub (lazy_loader's list of a package's names) counts as import-time code of the package.

Falls back to the full fast tier, and says why, when the data or the model is missing or
was made from other data, the data's revision is not in the repository, a changed line
cannot be moved to the data's revision (the code around it changed since), ``conftest.py``
changed, an ``ardlib/`` module was deleted, or a non-Python file under ``ardlib/`` changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._io import _git_raw
from ._diff import FileChange, git_show, line_map, working_tree_changes
from ._features import build_features, coverage_index
from ._load import load_selection_data, read_sources, source_mismatches
from ._model import TrainedSelector, load_selector
from ._source import import_distances, import_graph, line_kinds, module_name, statement_lines

__all__ = ["SelectionPlan", "plan_selection", "run_selection"]

FAST_TIER = ("-m", "not slow")


@dataclass
class SelectionPlan:
    """What to run for a change, and why.

    Attributes
    ----------
    base : str
        The base revision.
    fallback : str or None
        Why the full fast tier runs instead of a selection; None for a selection.
    targets : list of str
        Pytest arguments to run: node ids, and whole test files (empty with a fallback).
    reasons : dict
        Selected node id or file -> why it runs.
    skipped : dict
        Node id of the universe -> why it does not run.
    seconds : float
        Clean test-seconds of the selection (whole files: their known tests).
    total_seconds : float
        Test-seconds of the whole universe (0 when unknown).
    notes : list of str
        Changed files the selection does not look at, comment-only changes, ...
    """

    base: str
    fallback: str | None = None
    targets: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    total_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self, *, verbose: bool = False) -> str:
        """Lines saying what runs, what is skipped and why.

        Parameters
        ----------
        verbose : bool, default False
            List every selected and skipped test, not only the counts.

        Returns
        -------
        str
            Lines starting with ``testsel:``.
        """
        out = [f"testsel: changes against {self.base}"]
        out += [f"testsel: note: {n}" for n in self.notes]
        if self.fallback is not None:
            out.append(f"testsel: full fast tier ({' '.join(FAST_TIER)}): {self.fallback}")
            return "\n".join(out)
        share = f", {self.seconds / self.total_seconds:.1%}" if self.total_seconds else ""
        out.append(
            f"testsel: selected {len(self.targets)} target(s), {self.seconds:.1f} s of "
            f"{self.total_seconds:.1f} s{share}"
        )
        for why, n in _counts(self.reasons).items():
            out.append(f"testsel:   run {n}: {why}")
        out.append(f"testsel: skipped {len(self.skipped)} test(s)")
        for why, n in _counts(self.skipped).items():
            out.append(f"testsel:   skip {n}: {why}")
        if verbose:
            out += [f"testsel: run  {t}  ({self.reasons.get(t, '')})" for t in self.targets]
            out += [f"testsel: skip {t}  ({why})" for t, why in sorted(self.skipped.items())]
        return "\n".join(out)


def _counts(reasons: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for why in reasons.values():
        key = why.split(" [")[0]
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _is_test_file(path: str) -> bool:
    name = Path(path).name
    return path.startswith("tests/") and name.startswith("test_") and name.endswith(".py")


class _Fallback(Exception):
    """The selection cannot be trusted; the message says why."""


def _reaching(graph: dict[str, set[str]], module: str, test_files: list[str]) -> set[str]:
    """Test files whose module imports ``module``, directly or not."""
    return {f for f in test_files if module in import_distances(graph, module_name(f))}


@dataclass
class _Work:
    """Accumulates a plan's pieces while the changed files are read."""

    files: dict[str, str] = field(default_factory=dict)  # whole test files -> reason
    body: list[tuple[str, int]] = field(default_factory=list)  # (path, line) at data rev
    n_changed: int = 0  # changed body lines (the change's size, as a mutant's lines_changed)


def _ardlib_file(
    ch: FileChange,
    base: str,
    data_rev: str,
    repo: Path,
    work: _Work,
    graph: dict[str, set[str]],
    test_files: list[str],
    notes: list[str],
) -> None:
    if ch.path.endswith(".pyi"):  # a lazy_loader stub: the package's names, at import time
        module = module_name(ch.path.removesuffix("i"))
        for f in _reaching(graph, module, test_files):
            work.files.setdefault(f, f"imports {module}, whose stub changed")
        return
    if not ch.path.endswith(".py"):
        raise _Fallback(f"{ch.path} changed (not Python: tests may read it)")
    if ch.status == "deleted":
        raise _Fallback(f"{ch.path} was deleted")
    module = module_name(ch.path)
    new_text = (repo / ch.path).read_text(encoding="utf-8")
    if ch.status == "added":
        for f in _reaching(graph, module, test_files):
            work.files.setdefault(f, f"imports the new module {module}")
        return
    old_text = git_show(base, ch.old_path or ch.path, repo) or ""
    body_old: list[int] = []
    import_time = False
    for h in ch.hunks:
        new_kinds = line_kinds(new_text, h.new_lines)
        old_kinds = line_kinds(old_text, h.old_lines)
        kinds = set(new_kinds.values()) | set(old_kinds.values())
        if "import" in kinds:
            import_time = True
        if h.old_count:
            body_old += [n for n, k in old_kinds.items() if k == "body"]
        elif "body" in kinds:  # pure insertion into a function body: its neighbours
            near = line_kinds(old_text, [h.old_start, h.old_start + 1])
            inside = [n for n, k in near.items() if k == "body"]
            if not inside:
                import_time = True
            body_old += inside
        if kinds == {"none"}:
            notes.append(
                f"{ch.path}: lines {h.new_start}-{h.new_start + h.new_count - 1} "
                "are comments or blank (no test needed)"
            )
    if import_time:
        for f in _reaching(graph, module, test_files):
            work.files.setdefault(f, f"imports {module}, changed at import time")
    if not body_old:
        return
    data_text = git_show(data_rev, ch.old_path or ch.path, repo)
    if data_text is None:
        raise _Fallback(f"{ch.path} did not exist at the data's revision {data_rev[:12]}")
    to_data = line_map(old_text, data_text)
    work.n_changed += len(set(body_old))
    for n in sorted(set(body_old)):
        if n not in to_data:
            raise _Fallback(
                f"{ch.path}:{n} changed since the data's revision {data_rev[:12]} (its "
                "coverage is unknown); re-collect with `ardlib testsel collect`"
            )
        for m in statement_lines(data_text, to_data[n]):
            work.body.append((ch.path, m))


def _changed_since(data_rev: str, repo: Path) -> set[str]:
    """Test files that differ between the data's revision and the working tree."""
    out = _git_raw(("diff", "--name-only", data_rev, "--", "tests"), repo) or ""
    extra = _git_raw(("ls-files", "--others", "--exclude-standard", "--", "tests"), repo) or ""
    return {p for p in (out + "\n" + extra).splitlines() if p}


def plan_selection(
    base: str = "HEAD",
    *,
    data: str | os.PathLike[str] = "data/testsel",
    model: str | os.PathLike[str] | None = None,
    repo: str | os.PathLike[str] = ".",
) -> SelectionPlan:
    """Decide which tests of the fast tier the working tree's changes need.

    Parameters
    ----------
    base : str, default "HEAD"
        Base revision the working tree is compared with.
    data : str or path-like, default "data/testsel"
        The test-selection dataset (coverage at its revision, durations).
    model : str or path-like or None, default None
        None keeps every covering test (coverage-based selection, like pytest-testmon).
        A selector from :func:`~ardlib.testsel.save_selector` (the pipeline saves one at
        ``data/testsel_model/model.joblib``) keeps the covering tests it predicts may fail.
        Coverage is the default because on held-out mutants the model caught fewer faulty
        changes (0.986 against 1.000 on the dataset collected at 5fce4ae) to run 0.3
        points fewer test-seconds.
    repo : str or path-like, default "."
        The git work tree.

    Returns
    -------
    SelectionPlan
        With ``fallback`` set (and no targets) when the selection cannot be trusted.

    Raises
    ------
    ValueError
        If ``base`` is not a commit of ``repo`` (bad input, not a reason to fall back).
    """
    root = Path(repo)
    changes = working_tree_changes(base, root)
    plan = SelectionPlan(base)
    try:
        _plan(
            plan,
            changes,
            base,
            Path(data) if Path(data).is_absolute() else root / data,
            None if model is None else (Path(model) if Path(model).is_absolute() else root / model),
            root,
        )
    except _Fallback as exc:
        plan.fallback = str(exc)
        plan.targets, plan.reasons, plan.skipped = [], {}, {}
    return plan


def _plan(
    plan: SelectionPlan,
    changes: list[FileChange],
    base: str,
    data_dir: Path,
    model_path: Path | None,
    root: Path,
) -> None:
    try:
        data = load_selection_data(data_dir)
    except (OSError, ValueError) as exc:
        raise _Fallback(f"no usable test-selection data ({exc})") from None
    selector: TrainedSelector | None = None
    if model_path is not None:
        try:
            selector = load_selector(model_path)
        except (OSError, ValueError) as exc:
            raise _Fallback(f"no usable model ({exc})") from None
        if selector.data_digest != data.digest:
            raise _Fallback(
                f"the model {model_path} was trained on other data (digest "
                f"{selector.data_digest[:12]}, the data's is {data.digest[:12]}); retrain it"
            )
    rev = data.revision
    if _git_raw(("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"), root) is None:
        raise _Fallback(f"the data's revision {rev[:12]} is not a commit of this repository")
    data.sources = read_sources(sorted(data.mutants["path"].unique()), rev, root)
    wrong = source_mismatches(data)
    stale_paths = {p: f"{p}:{n} is in {f or 'no function'}, not {g}" for p, n, g, f in
                   wrong.itertuples(index=False)}  # fmt: skip
    tests = data.tests
    plan.total_seconds = data.total_seconds
    test_files = sorted(
        set(tests["file"].astype(str))
        | {p.relative_to(root).as_posix() for p in (root / "tests").rglob("test_*.py")}
    )
    graph = import_graph(root)
    work = _Work()
    for ch in changes:
        if ch.path.startswith("tests/"):
            if _is_test_file(ch.path):
                if ch.status != "deleted":
                    work.files[ch.path] = f"test file {ch.status} since {base}"
            elif Path(ch.path).name == "conftest.py":
                raise _Fallback(f"{ch.path} changed (fixtures every test may use)")
            elif ch.path.endswith(".py"):
                for f in _reaching(graph, module_name(ch.path), test_files):
                    work.files.setdefault(f, f"imports the changed helper {ch.path}")
        elif ch.path.startswith("ardlib/"):
            if ch.path in stale_paths:
                raise _Fallback(
                    f"the data do not match their revision {rev[:12]} in {ch.path} (mutant "
                    f"at {stale_paths[ch.path]}); re-collect with `ardlib testsel collect`"
                )
            _ardlib_file(ch, base, rev, root, work, graph, test_files, plan.notes)
        else:
            plan.notes.append(f"{ch.path} is not looked at")
    _choose(plan, data.tests, data.coverage, work, selector, rev, root)


def _choose(
    plan: SelectionPlan,
    tests: pd.DataFrame,
    coverage: pd.DataFrame,
    work: _Work,
    selector: TrainedSelector | None,
    rev: str,
    root: Path,
) -> None:
    durations = tests.set_index("nodeid")["duration_s"].astype(float)
    file_of = tests.set_index("nodeid")["file"].astype(str)
    chosen: dict[str, str] = {}
    lines = pd.DataFrame(work.body, columns=["path", "line"]).drop_duplicates()
    if not lines.empty:
        hits = coverage.merge(lines, on=["path", "line"])
        candidates = sorted(set(hits["nodeid"]))
        if selector is None:
            for n in candidates:
                chosen[n] = "executes a changed line (coverage selection)"
        elif candidates:
            paths = sorted(set(lines["path"]))
            srcs = {p: t for p in paths if (t := git_show(rev, p, root)) is not None}
            index = coverage_index(coverage, tests, srcs, root=root)
            change = lines.assign(change_id="change")
            attrs = pd.DataFrame(
                {"module": [module_name(paths[0])], "lines_changed": [float(work.n_changed)]},
                index=pd.Index(["change"], name="change_id"),
            )
            feats = build_features(change, attrs, index, selector.history, leave_out_module=False)
            p = selector.model.predict_proba(feats)
            thr = selector.model.threshold_
            for n, pn in zip(feats["nodeid"], p, strict=True):
                if pn >= thr:
                    chosen[n] = "executes a changed line; predicted to fail"
                else:
                    plan.skipped[n] = (
                        f"executes a changed line but predicted failure "
                        f"probability < {thr:.3g} [p={pn:.2g}]"
                    )
    stale = _changed_since(rev, root)
    whole = dict(work.files)
    for n, why in list(chosen.items()):
        f = file_of.get(n, n.split("::")[0])
        if f in stale and f not in whole:
            whole[f] = f"{why}; file changed since the data's revision, run whole"
    targets: dict[str, str] = {f: why for f, why in sorted(whole.items())}
    for n, why in sorted(chosen.items()):
        if file_of.get(n, n.split("::")[0]) not in whole:
            targets[n] = why
    plan.targets = list(targets)
    plan.reasons = targets
    in_whole = file_of.isin(set(whole))
    run_ids = set(chosen) | set(file_of.index[in_whole])
    plan.seconds = float(durations[durations.index.isin(run_ids)].sum())
    for n in tests["nodeid"]:
        if n not in run_ids and n not in plan.skipped:
            plan.skipped[n] = (
                "executes no changed line and imports no module changed at import time"
            )
    for n in run_ids:
        plan.skipped.pop(n, None)


def run_selection(
    plan: SelectionPlan,
    pytest_args: Sequence[str] = (),
    *,
    fallback: str = "full",
    dry_run: bool = False,
    repo: str | os.PathLike[str] = ".",
) -> int:
    """Run a plan's tests with pytest (or the full fast tier when the plan fell back).

    Parameters
    ----------
    plan : SelectionPlan
        From :func:`plan_selection`.
    pytest_args : sequence of str, optional
        Extra pytest arguments (e.g. ``-x``, ``-q``).
    fallback : {"full", "none"}, default "full"
        What a plan that fell back runs: the full fast tier, or nothing (exit 0; for a
        first CI stage where the data may be absent).
    dry_run : bool, default False
        Print the pytest command instead of running it.
    repo : str or path-like, default "."
        Where pytest runs.

    Returns
    -------
    int
        Pytest's exit status; 0 when nothing needs running or pytest collected nothing
        (its status 5).

    Raises
    ------
    ValueError
        If ``fallback`` is neither "full" nor "none".
    """
    if fallback not in ("full", "none"):
        raise ValueError(f"The 'fallback' parameter must be 'full' or 'none'. Got {fallback!r}.")
    if plan.fallback is not None and fallback == "none":
        print("testsel: skipped (--fallback none)")
        return 0
    if plan.fallback is None and not plan.targets:
        print("testsel: nothing to run")
        return 0
    cmd = [sys.executable, "-m", "pytest", *FAST_TIER, *plan.targets, *pytest_args]
    if dry_run:
        print("testsel: would run: " + " ".join(_quote(c) for c in cmd))
        return 0
    sys.stdout.flush()
    status = subprocess.run(cmd, cwd=repo, check=False).returncode
    if status == 5:  # pytest: nothing collected (e.g. a changed file holding only slow tests)
        print("testsel: the selection holds no fast-tier test")
        return 0
    return status


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
