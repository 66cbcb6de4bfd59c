"""Evaluate test selection on held-out faulty changes, side by side with the baselines.

Splits (:func:`module_grouped_split`, :func:`time_ordered_split`):

- **module-grouped**: :class:`~sklearn.model_selection.GroupKFold` by the mutated module
  (``n_splits`` folds, deterministic); every covered mutant is held out exactly once, by a
  model trained on other modules only (no module is on both sides of a fold);
- **time-ordered**: one cut at the ``train_share`` quantile of the mutated line's author
  time (``line_time``, from git blame): train on lines written before it, test on the rest.

Methods, per held-out change (a mutant some test executes):

- ``model``: candidates (tests executing the changed line) at or above the fold's
  recall-calibrated threshold (:class:`~ardlib.testsel.SelectionModel`);
- ``coverage``: every candidate (pytest-testmon's rule);
- ``heuristic``: every test in a file named after the changed module
  (:func:`~ardlib.testsel.heuristic_match`);
- ``random``: tests of the whole universe in a seeded random order, as many as fit in the
  model's test-seconds for that change.

Metrics: ``recall`` is the share of *killed* held-out mutants caught (at least one selected
test fails, errors or times out); ``seconds_share`` is the selected tests' clean durations
over the whole universe's (the fast tier), averaged over every held-out change, killed or
not.  Both weight each mutant by its sampling ``weight`` (sites with expensive covering
tests were thinned out in the sample; the weight undoes it), so they estimate the
population of function-body sites; the unweighted figures are reported beside them.
Intervals come from a plain seeded percentile bootstrap over held-out changes, the same
resamples for every method (so differences between methods are paired): recall is a ratio
over the killed changes of each resample and sits near 1, where BCa's jackknife acceleration
is degenerate, and the percentile interval never leaves [0, 1].
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, as_generator
from .._validation import check_int, check_real
from ._features import FailureHistory, build_features, coverage_index, heuristic_match
from ._load import SelectionData
from ._model import SelectionModel, mutant_changes, pair_labels

__all__ = [
    "METHODS",
    "MethodResult",
    "SelectionEvaluation",
    "Split",
    "SplitResult",
    "evaluate_selection",
    "module_grouped_split",
    "time_ordered_split",
]

METHODS = ("model", "coverage", "heuristic", "random")


@dataclass(frozen=True)
class Split:
    """Train/test folds of changes.

    Attributes
    ----------
    name : str
        ``module_grouped`` or ``time_ordered``.
    folds : list of (ndarray, ndarray)
        Training and held-out change ids of each fold.
    description : dict
        How the split was made (kind, folds, cut, counts), for the metrics JSON.
    """

    name: str
    folds: list[tuple[np.ndarray, np.ndarray]]
    description: dict[str, Any]


def module_grouped_split(mutants: pd.DataFrame, *, n_splits: int = 5) -> Split:
    """GroupKFold of changes by module: no module on both sides of any fold.

    Parameters
    ----------
    mutants : DataFrame
        ``mutant_id`` and ``module``.
    n_splits : int, default 5
        Folds (at most the number of modules).

    Returns
    -------
    Split
        Every change is held out exactly once.

    Raises
    ------
    ValueError
        If ``n_splits`` < 2 or there are fewer modules than folds.
    """
    from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped]

    k = check_int(n_splits, "n_splits", owner="module_grouped_split", low=2)
    groups = mutants["module"].astype(str).to_numpy()
    n_mod = len(np.unique(groups))
    if n_mod < k:
        raise ValueError(
            f"The 'n_splits' parameter of module_grouped_split must be <= the number of "
            f"modules ({n_mod}). Got {k}."
        )
    ids = mutants["mutant_id"].to_numpy()
    folds = [(ids[tr], ids[te]) for tr, te in GroupKFold(n_splits=k).split(ids, groups=groups)]
    return Split(
        "module_grouped",
        folds,
        {
            "kind": f"sklearn GroupKFold(n_splits={k}) by mutated module; each change held "
            "out once, by a model trained on the other modules",
            "n_folds": k,
            "n_modules": n_mod,
        },
    )


def time_ordered_split(mutants: pd.DataFrame, *, train_share: float = 0.7) -> Split:
    """Train on lines written before a cut in time, test on lines written after it.

    Parameters
    ----------
    mutants : DataFrame
        ``mutant_id`` and ``line_time`` (UTC timestamps; rows without one are left out).
    train_share : float, default 0.7
        Quantile of ``line_time`` where the cut falls.

    Returns
    -------
    Split
        One fold; the description holds the cut.

    Raises
    ------
    ValueError
        If ``train_share`` is outside (0, 1) or either side is empty.
    """
    share = check_real(
        train_share,
        "train_share",
        owner="time_ordered_split",
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    if "line_time" not in mutants:
        raise ValueError("The 'mutants' parameter of time_ordered_split lacks 'line_time'.")
    m = mutants.dropna(subset=["line_time"])
    times = pd.to_datetime(m["line_time"], utc=True)
    cut = times.sort_values().iloc[int(share * (len(times) - 1))]  # the lower quantile
    train = m.loc[times < cut, "mutant_id"].to_numpy()
    test = m.loc[times >= cut, "mutant_id"].to_numpy()
    if len(train) == 0 or len(test) == 0:
        raise ValueError(
            f"time_ordered_split: the cut at the {share:g} quantile ({cut}) leaves "
            f"{len(train)} training and {len(test)} held-out changes; need both."
        )
    return Split(
        "time_ordered",
        [(train, test)],
        {
            "kind": f"line author time (git blame) before / from the {share:g} quantile",
            "cut": str(cut),
            "n_folds": 1,
            "n_without_time": int(len(mutants) - len(m)),
        },
    )


@dataclass(frozen=True)
class MethodResult:
    """One method's recall and test-seconds share on a split, with bootstrap intervals.

    Attributes
    ----------
    recall, recall_low, recall_high : float
        Share of killed held-out changes caught, and its interval.
    seconds_share, seconds_share_low, seconds_share_high : float
        Mean share of the universe's test-seconds run per held-out change, and its interval.
    n_changes, n_killed : int
        Held-out changes, and how many of them are killed.
    recall_unweighted, seconds_share_unweighted : float
        The same two statistics with every mutant counted once (the headline figures
        weight each mutant by its sampling weight, as population estimates).
    """

    recall: float
    recall_low: float
    recall_high: float
    seconds_share: float
    seconds_share_low: float
    seconds_share_high: float
    n_changes: int
    n_killed: int
    recall_unweighted: float = float("nan")
    seconds_share_unweighted: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``recall``, ``seconds_share`` and ``[low, high]`` intervals.

        Returns
        -------
        dict
        """
        return {
            "recall": self.recall,
            "recall_ci": [self.recall_low, self.recall_high],
            "seconds_share": self.seconds_share,
            "seconds_share_ci": [self.seconds_share_low, self.seconds_share_high],
            "n_changes": self.n_changes,
            "n_killed": self.n_killed,
            "recall_unweighted": self.recall_unweighted,
            "seconds_share_unweighted": self.seconds_share_unweighted,
        }


@dataclass
class SplitResult:
    """What one split measured.

    Attributes
    ----------
    split : Split
        The folds and their description.
    methods : dict
        Method name -> :class:`MethodResult` at the operating point.
    per_change : DataFrame
        One row per held-out change: ``change_id``, ``module``, ``kind``, ``killed``,
        ``fold``, and per method ``<m>_seconds`` and ``<m>_caught``.
    curves : DataFrame
        ``method``, ``knob`` (threshold or budget), ``recall``, ``seconds_share``.
    misses : DataFrame
        Killed held-out changes the model missed (coverage catches every killed change).
    thresholds : list of float
        The model's calibrated threshold in each fold.
    counts : dict
        Training and held-out changes, killed changes, pairs.
    """

    split: Split
    methods: dict[str, MethodResult]
    per_change: pd.DataFrame
    curves: pd.DataFrame
    misses: pd.DataFrame
    thresholds: list[float]
    counts: dict[str, int] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The operating point of every method as a table.

        Returns
        -------
        DataFrame
            One row per method: recall and seconds share with their intervals.
        """
        rows = [{"method": m, **vars(r)} for m, r in self.methods.items()]
        return pd.DataFrame(rows).set_index("method")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: one object per method plus ``split``, ``counts``, ``thresholds``.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {m: r.to_dict() for m, r in self.methods.items()}
        out["split"] = self.split.description
        out["counts"] = self.counts
        out["thresholds"] = self.thresholds
        out["misses_by_kind"] = {
            str(k): int(v) for k, v in self.misses.groupby("kind").size().items()
        }
        out["misses_by_module"] = {
            str(k): int(v) for k, v in self.misses.groupby("module").size().items()
        }
        return out


@dataclass
class SelectionEvaluation:
    """Every split's results, as returned by :func:`evaluate_selection`.

    Attributes
    ----------
    splits : dict
        Split name -> :class:`SplitResult`.
    settings : dict
        The arguments the evaluation ran with.
    total_seconds : float
        Test-seconds of the whole universe.
    """

    splits: dict[str, SplitResult]
    settings: dict[str, Any]
    total_seconds: float

    def to_metrics(self) -> dict[str, Any]:
        """The metrics JSON: one object per split (methods at the operating point inside).

        Returns
        -------
        dict
            ``{"module_grouped": {"model": {"recall": ..., "seconds_share": ...}, ...},
            "time_ordered": {...}, "settings": {...}, "total_seconds": ...}``.
        """
        out: dict[str, Any] = {n: r.to_dict() for n, r in self.splits.items()}
        out["settings"] = self.settings
        out["total_seconds"] = self.total_seconds
        return out


def _bootstrap(
    killed: np.ndarray,
    weight: np.ndarray,
    caught: dict[str, np.ndarray],
    seconds: dict[str, np.ndarray],
    total: float,
    n_resamples: int,
    confidence: float,
    gen: np.random.Generator,
) -> dict[str, MethodResult]:
    n = killed.size
    idx = gen.integers(0, n, size=(n_resamples, n))
    w = weight[idx]
    wk = (weight * killed)[idx]
    n_k = np.maximum(wk.sum(axis=1), 1e-300)
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    out = {}
    for m in caught:
        c = caught[m] & killed
        s = seconds[m] / total
        rec_b = (weight * c)[idx].sum(axis=1) / n_k
        sh_b = (weight * s)[idx].sum(axis=1) / w.sum(axis=1)
        out[m] = MethodResult(
            float((weight * c).sum() / max((weight * killed).sum(), 1e-300)),
            float(np.quantile(rec_b, lo)),
            float(np.quantile(rec_b, hi)),
            float((weight * s).sum() / weight.sum()),
            float(np.quantile(sh_b, lo)),
            float(np.quantile(sh_b, hi)),
            int(n),
            int(killed.sum()),
            float(c.sum() / max(killed.sum(), 1)),
            float(s.mean()),
        )
    return out


def _first_fail_seconds(
    change_ids: np.ndarray,
    failing: dict[Any, set[str]],
    nodeids: np.ndarray,
    durations: np.ndarray,
    gen: np.random.Generator,
) -> np.ndarray:
    """Per change: test-seconds of a random order of the universe up to its first failure."""
    out = np.full(change_ids.size, np.inf)
    pos = {n: i for i, n in enumerate(nodeids)}
    for j, c in enumerate(change_ids):
        fails = failing.get(c)
        if not fails:
            continue
        order = gen.permutation(nodeids.size)
        cum = np.cumsum(durations[order])
        ranks = np.empty(nodeids.size, dtype=np.int64)
        ranks[order] = np.arange(nodeids.size)
        first = min(ranks[pos[f]] for f in fails if f in pos)
        out[j] = cum[first]
    return out


def _curves(
    held: pd.DataFrame,
    proba: pd.DataFrame,
    first_fail: np.ndarray,
    total: float,
    points: int,
) -> pd.DataFrame:
    rows = []
    killed = held["killed"].to_numpy(bool)
    w = held["weight"].to_numpy(float)
    wk = max(float((w * killed).sum()), 1e-300)

    def point(method: str, knob: float, caught: np.ndarray, seconds: np.ndarray) -> None:
        rows.append({
            "method": method,
            "knob": knob,
            "recall": float((w * (caught & killed)).sum() / wk),
            "seconds_share": float((w * seconds).sum() / w.sum() / total),
        })  # fmt: skip

    ids = held["change_id"]
    qs = np.unique(np.quantile(proba["p"], np.linspace(0, 1, points))) if len(proba) else [0.0]
    for t in [*qs, np.inf]:
        sel = proba[proba["p"] >= t]
        secs = sel.groupby("change_id")["duration_s"].sum().reindex(ids).fillna(0).to_numpy()
        hit = sel[sel["failed"]].groupby("change_id").size().reindex(ids).fillna(0).to_numpy()
        point("model", float(t), hit > 0, secs)
    for b in np.linspace(0, 1, points):
        point("random", float(b), first_fail <= b * total, np.full(len(held), b * total))
    for m in ("coverage", "heuristic"):
        point(m, float("nan"), held[f"{m}_caught"].to_numpy(bool),
              held[f"{m}_seconds"].to_numpy(float))  # fmt: skip
    return pd.DataFrame(rows)


def _heuristic_frame(
    held: pd.DataFrame, tests: pd.DataFrame, failing: dict[Any, set[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and caught of the changed-file heuristic, per change (memoised by path)."""
    by_path: dict[str, tuple[float, set[str]]] = {}
    secs, caught = [], []
    for c, path in zip(held["change_id"], held["path"], strict=True):
        if path not in by_path:
            mask = np.array([heuristic_match(f, path) for f in tests["file"].astype(str)])
            by_path[path] = (
                float(tests.loc[mask, "duration_s"].sum()),
                set(tests.loc[mask, "nodeid"]),
            )
        s, chosen = by_path[path]
        secs.append(s)
        caught.append(bool(failing.get(c, set()) & chosen))
    return np.array(secs), np.array(caught, dtype=bool)


def _run_split(
    split: Split,
    feats: pd.DataFrame,
    y: np.ndarray,
    data: SelectionData,
    covered: pd.DataFrame,
    *,
    target_recall: float,
    seed: int,
    gen: np.random.Generator,
    n_resamples: int,
    confidence: float,
    curve_points: int,
    options: dict[str, Any],
) -> SplitResult:
    modules = covered.set_index("mutant_id")["module"]
    weights = covered.set_index("mutant_id")["weight"]
    total = data.total_seconds
    parts = []
    thresholds = []
    n_train = 0
    for fold, (train_ids, test_ids) in enumerate(split.folds):
        tr_out = data.outcomes[data.outcomes["mutant_id"].isin(train_ids)]
        hist = FailureHistory.from_outcomes(tr_out, modules)
        f = feats.copy()
        rate, runs, rate_pkg = hist.rates(f["nodeid"], f["change_id"].map(modules))
        f["past_failure_rate"], f["past_runs"], f["past_failure_rate_package"] = (
            rate,
            runs,
            rate_pkg,
        )
        is_tr = f["change_id"].isin(train_ids).to_numpy()
        is_te = f["change_id"].isin(test_ids).to_numpy()
        model = SelectionModel(target_recall=target_recall, random_state=seed, **options)
        model.fit(
            f[is_tr],
            y[is_tr],
            f.loc[is_tr, "change_id"].map(modules).to_numpy(),
            sample_weight=f.loc[is_tr, "change_id"].map(weights).to_numpy(),
        )
        thresholds.append(float(model.threshold_))
        part = f.loc[is_te, ["change_id", "nodeid", "duration_s"]].copy()
        part["p"] = model.predict_proba(f[is_te])
        part["failed"] = y[is_te]
        part["selected"] = part["p"] >= model.threshold_
        part["fold"] = fold
        parts.append(part)
        n_train += int(np.isin(covered["mutant_id"], train_ids).sum())
    proba = pd.concat(parts, ignore_index=True)
    held_ids = np.concatenate([te for _, te in split.folds])
    held = covered[covered["mutant_id"].isin(held_ids)].rename(columns={"mutant_id": "change_id"})
    held = held[["change_id", "path", "module", "kind", "killed", "weight"]].reset_index(drop=True)
    fold_of = {c: i for i, (_, te) in enumerate(split.folds) for c in te}
    held["fold"] = held["change_id"].map(fold_of)
    failing = proba[proba["failed"]].groupby("change_id")["nodeid"].agg(set).to_dict()
    grp = proba.groupby("change_id")
    ids = held["change_id"]
    held["coverage_seconds"] = grp["duration_s"].sum().reindex(ids).fillna(0).to_numpy()
    held["coverage_caught"] = ids.map(lambda c: c in failing).to_numpy(bool)
    sel = proba[proba["selected"]]
    held["model_seconds"] = (
        sel.groupby("change_id")["duration_s"].sum().reindex(ids).fillna(0).to_numpy()
    )
    held["model_caught"] = (
        sel[sel["failed"]].groupby("change_id").size().reindex(ids).fillna(0).to_numpy() > 0
    )
    held["heuristic_seconds"], held["heuristic_caught"] = _heuristic_frame(
        held, data.tests, failing
    )
    universe = data.tests["nodeid"].to_numpy()
    first_fail = _first_fail_seconds(
        ids.to_numpy(), failing, universe, data.tests["duration_s"].to_numpy(float), gen
    )
    held["random_seconds"] = held["model_seconds"]
    held["random_caught"] = first_fail <= held["model_seconds"].to_numpy()
    killed = held["killed"].to_numpy(bool)
    methods = _bootstrap(
        killed,
        held["weight"].to_numpy(float),
        {m: held[f"{m}_caught"].to_numpy(bool) for m in METHODS},
        {m: held[f"{m}_seconds"].to_numpy(float) for m in METHODS},
        total,
        n_resamples,
        confidence,
        gen,
    )
    misses = held[killed & ~held["model_caught"].to_numpy(bool)].copy()
    misses["n_failing"] = misses["change_id"].map(lambda c: len(failing.get(c, ())))
    counts = {
        "n_train_changes": n_train,
        "n_test_changes": len(held),
        "n_test_killed": int(killed.sum()),
        "n_test_pairs": len(proba),
        "n_missed_by_model": len(misses),
    }
    curves = _curves(held, proba, first_fail, total, curve_points)
    return SplitResult(split, methods, held, curves, misses, thresholds, counts)


def evaluate_selection(
    data: SelectionData,
    *,
    target_recall: float = 0.99,
    n_splits: int = 5,
    train_share: float = 0.7,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    curve_points: int = 41,
    splits: tuple[str, ...] = ("module_grouped", "time_ordered"),
    rng: RNGLike = 0,
    root: str | os.PathLike[str] | None = ".",
    model_options: dict[str, Any] | None = None,
) -> SelectionEvaluation:
    """Evaluate the model and the baselines on held-out mutants.

    Parameters
    ----------
    data : SelectionData
        From :func:`~ardlib.testsel.load_selection_data` (with ``sources``).
    target_recall : float, default 0.99
        Change-level recall the model is meant to reach; its threshold is calibrated on the
        training changes with :class:`SelectionModel`'s ``miss_safety`` (by default to miss
        at most half as many: 0.995).
    n_splits : int, default 5
        Folds of the module-grouped split.
    train_share : float, default 0.7
        Where the time-ordered split cuts (quantile of line author time).
    n_resamples : int, default 2000
        Bootstrap resamples of held-out changes.
    confidence : float, default 0.95
        Level of the two-sided percentile intervals.
    curve_points : int, default 41
        Points of each recall-versus-seconds curve.
    splits : tuple of str, default ("module_grouped", "time_ordered")
        Which splits to run.
    rng : None, int, SeedSequence or Generator, default 0
        Seeds the model (its integer seed is drawn from it), the random baseline and the
        bootstrap.
    root : str or path-like or None, default "."
        Repository root for the static import graph (None: every distance unknown).
    model_options : dict, optional
        Further keyword arguments of :class:`~ardlib.testsel.SelectionModel`
        (``max_iter``, ``learning_rate``, ``inner_splits``).

    Returns
    -------
    SelectionEvaluation

    Raises
    ------
    ValueError
        If a setting is out of range, a split is unknown, or no mutant is covered.
    """
    owner = "evaluate_selection"
    target = check_real(
        target_recall, "target_recall", owner=owner, low=0.0, high=1.0, low_inclusive=False
    )
    n_res = check_int(n_resamples, "n_resamples", owner=owner, low=100)
    level = check_real(
        confidence,
        "confidence",
        owner=owner,
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    points = check_int(curve_points, "curve_points", owner=owner, low=2)
    unknown = sorted(set(splits) - {"module_grouped", "time_ordered"})
    if unknown:
        raise ValueError(
            f"The 'splits' parameter of {owner} must name module_grouped and/or "
            f"time_ordered. Got {unknown}."
        )
    gen = as_generator(rng)
    seed = int(gen.integers(0, 2**31 - 1))
    covered = data.mutants[data.mutants["usable"]].reset_index(drop=True)
    if covered.empty:
        raise ValueError(f"The 'data' parameter of {owner} has no mutant any test executes.")
    index = coverage_index(data.coverage, data.tests, data.sources, root=root)
    lines, attrs = mutant_changes(covered, data.sources)
    feats = build_features(lines, attrs, index, FailureHistory.empty())
    y = pair_labels(feats, data.outcomes)
    made = {
        "module_grouped": lambda: module_grouped_split(covered, n_splits=n_splits),
        "time_ordered": lambda: time_ordered_split(covered, train_share=train_share),
    }
    results = {
        name: _run_split(
            made[name](),
            feats,
            y,
            data,
            covered,
            target_recall=target,
            seed=seed,
            gen=gen,
            n_resamples=n_res,
            confidence=level,
            curve_points=points,
            options=dict(model_options or {}),
        )
        for name in splits
    }
    settings = {
        "target_recall": target,
        "n_splits": n_splits,
        "train_share": train_share,
        "n_resamples": n_res,
        "confidence": level,
        "bootstrap": "seeded percentile bootstrap over held-out changes, paired across methods",
        "candidates": "tests executing at least one changed line",
        "data_revision": data.revision,
        "data_digest": data.digest,
        "model_options": dict(model_options or {}),
    }
    return SelectionEvaluation(results, settings, data.total_seconds)
