"""The selection model: gradient boosting over (change, test) features, with a threshold
calibrated for change-level recall.

:class:`SelectionModel` ranks the candidate tests of a change (those executing a changed
line) by predicted failure probability and keeps those at or above ``threshold_``.  The
threshold is chosen on the training changes only: out-of-fold probabilities from an inner
:class:`~sklearn.model_selection.GroupKFold` by module (so, as on held-out changes, the
model never saw the change's module) give each faulty training change a *catch score*, the
largest probability among its failing tests; the threshold is the largest value that still
catches ``target_recall`` of them.  The learner is scikit-learn's
:class:`~sklearn.ensemble.HistGradientBoostingClassifier` (seeded; missing values and the
operator family handled natively).

:func:`train_selector` fits one on a whole dataset for ``ardlib testsel run``;
:func:`save_selector` / :func:`load_selector` keep it with the data digest and revision it
was trained on (joblib: load only files you made, as with any pickle).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import utc_now
from .._validation import check_int, check_real
from ._features import FEATURES, FailureHistory, build_features, coverage_index
from ._load import SelectionData
from ._source import statement_lines

__all__ = [
    "SelectionModel",
    "TrainedSelector",
    "catch_threshold",
    "load_selector",
    "mutant_changes",
    "pair_labels",
    "save_selector",
    "train_selector",
]

_FORMAT = 1


def catch_threshold(
    scores: np.ndarray, target_recall: float, weights: np.ndarray | None = None
) -> float:
    """The largest threshold that catches at least ``target_recall`` of the changes.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Catch score of each faulty change: the largest predicted probability among its
        failing tests (0 when it has none).
    target_recall : float
        Share of changes to catch, in (0, 1].
    weights : ndarray of shape (n,), optional
        Weight of each change (sampling weights); equal by default.

    Returns
    -------
    float
        The largest ``t`` with ``sum(w[scores >= t]) >= target_recall * sum(w)``; 0 without
        changes (select every candidate).
    """
    s = np.asarray(scores, dtype=float)
    if s.size == 0:
        return 0.0
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(-s, kind="stable")
    caught = np.cumsum(w[order])
    k = int(np.searchsorted(caught, target_recall * caught[-1] * (1 - 1e-12)))
    return float(s[order][min(k, s.size - 1)])


def _catch_scores(
    change_id: np.ndarray, failed: np.ndarray, proba: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.DataFrame({"c": change_id, "p": np.where(failed, proba, -1.0), "w": weight})
    best = frame.groupby("c").agg(p=("p", "max"), w=("w", "first"))
    best = best[best["p"] >= 0]
    return best["p"].to_numpy(), best["w"].to_numpy()


class SelectionModel:
    """Gradient-boosted failure probabilities of candidate tests, recall-calibrated.

    Parameters
    ----------
    target_recall : float, default 0.99
        Change-level recall the selection is meant to reach on new changes.
    miss_safety : float, default 2.0
        The threshold is calibrated to miss at most ``(1 - target_recall) / miss_safety`` of
        the faulty training changes out of fold, not ``1 - target_recall``: a threshold set
        exactly at the target on the training changes misses it on new changes about half
        the time (the first dataset: 0.99 out of fold, 0.985 held out). 1 calibrates at the
        target itself. Chosen after that result and before the dataset it is evaluated on
        was collected.
    inner_splits : int, default 4
        Folds of the inner GroupKFold that calibrates the threshold (>= 2).
    max_iter : int, default 200
        Boosting iterations.
    learning_rate : float, default 0.1
        Shrinkage.
    random_state : int, default 0
        Seed of the learner.

    Attributes
    ----------
    estimator_ : HistGradientBoostingClassifier
        Fitted on every training pair.
    threshold_ : float
        Probability at or above which a candidate is selected.
    calibration_ : dict
        ``n_changes`` (faulty training changes), ``recall`` (out-of-fold recall at the
        threshold), ``target`` (the out-of-fold recall calibrated for), ``n_splits`` (inner
        folds used).
    """

    def __init__(
        self,
        *,
        target_recall: float = 0.99,
        miss_safety: float = 2.0,
        inner_splits: int = 4,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        random_state: int = 0,
    ) -> None:
        self.target_recall = target_recall
        self.miss_safety = miss_safety
        self.inner_splits = inner_splits
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    @staticmethod
    def _threads() -> Any:
        # One OpenMP thread: on a 2-core machine under load the learner's thread wake-ups
        # cost 10-20x the arithmetic (0.5 s -> 9 s for a 600-row fit, measured).
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="openmp")

    def _estimator(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            categorical_features=[FEATURES.index("kind")],
            early_stopping=False,
            random_state=self.random_state,
        )

    @staticmethod
    def _matrix(features: pd.DataFrame) -> np.ndarray:
        missing = [c for c in FEATURES if c not in features]
        if missing:
            raise ValueError(f"The 'features' parameter lacks the column(s) {missing}.")
        X = features[list(FEATURES)].to_numpy(dtype=float)
        # Missing numbers (a rate without runs) become -1: a column of only NaN breaks the
        # learner's binning (scikit-learn 1.9), and -1 is below every rate.  The operator
        # family stays NaN, the categorical "missing".
        numeric = np.arange(X.shape[1]) != FEATURES.index("kind")
        X[:, numeric] = np.nan_to_num(X[:, numeric], nan=-1.0)
        return X

    def fit(
        self, features: pd.DataFrame, failed: Any, groups: Any, sample_weight: Any = None
    ) -> SelectionModel:
        """Fit the classifier and calibrate the threshold.

        Parameters
        ----------
        features : DataFrame
            From :func:`~ardlib.testsel.build_features`: ``change_id`` and the features.
        failed : array-like of shape (n,)
            Whether each pair's test fails on its change.
        groups : array-like of shape (n,)
            Group of each pair's change (its module) for the inner GroupKFold.
        sample_weight : array-like of shape (n,), optional
            Weight of each pair's change (the mutant's sampling weight): used by the
            learner and by the threshold's recall; equal by default.

        Returns
        -------
        SelectionModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            If a setting is out of range, the lengths differ, or both classes are not present.
        """
        owner = "SelectionModel"
        target = check_real(
            self.target_recall, "target_recall", owner=owner, low=0.0, high=1.0, low_inclusive=False
        )
        safety = check_real(self.miss_safety, "miss_safety", owner=owner, low=1.0)
        target = 1.0 - (1.0 - target) / safety
        splits = check_int(self.inner_splits, "inner_splits", owner=owner, low=2)
        check_int(self.max_iter, "max_iter", owner=owner, low=1)
        X = self._matrix(features)
        y = np.asarray(failed, dtype=bool)
        g = np.asarray(groups)
        if not (len(X) == len(y) == len(g)):
            raise ValueError(
                f"The 'failed' and 'groups' parameters of {owner}.fit must have one entry per "
                f"row of 'features' ({len(X)}). Got {len(y)} and {len(g)}."
            )
        if y.all() or not y.any():
            raise ValueError(
                f"The 'failed' parameter of {owner}.fit must hold both failing and passing pairs."
            )
        cid = features["change_id"].to_numpy()
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if len(w) != len(y):
            raise ValueError(
                f"The 'sample_weight' parameter of {owner}.fit must have one entry per row "
                f"of 'features' ({len(X)}). Got {len(w)}."
            )
        used = min(splits, len(np.unique(g)))
        with self._threads():
            self._fit(X, y, g, cid, w, used, target)
        return self

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        g: np.ndarray,
        cid: np.ndarray,
        w: np.ndarray,
        used: int,
        target: float,
    ) -> None:
        from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped]

        oof = np.full(len(y), np.nan)
        if used >= 2:
            for tr, va in GroupKFold(n_splits=used).split(X, y, g):
                if y[tr].all() or not y[tr].any():
                    oof[va] = 1.0  # nothing to learn from: keep everything in this fold
                    continue
                est = self._estimator().fit(X[tr], y[tr], sample_weight=w[tr])
                oof[va] = est.predict_proba(X[va])[:, 1]
        scores, sw = _catch_scores(cid, y, np.nan_to_num(oof, nan=1.0), w)
        self.threshold_ = catch_threshold(scores, target, sw) if used >= 2 else 0.0
        caught = scores >= self.threshold_
        self.calibration_ = {
            "n_changes": int(scores.size),
            "recall": float(sw[caught].sum() / sw.sum()) if scores.size else 1.0,
            "target": float(target),
            "n_splits": int(used),
        }
        self.estimator_ = self._estimator().fit(X, y, sample_weight=w)

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise ValueError("This SelectionModel is not fitted yet; call fit first.")

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Predicted failure probability of each pair.

        Parameters
        ----------
        features : DataFrame
            With the :data:`~ardlib.testsel.FEATURES` columns.

        Returns
        -------
        ndarray of shape (n,)
            Probabilities in [0, 1].
        """
        self._check_fitted()
        if len(features) == 0:
            return np.zeros(0)
        with self._threads():
            return np.asarray(self.estimator_.predict_proba(self._matrix(features))[:, 1])

    def select(self, features: pd.DataFrame) -> np.ndarray:
        """Which pairs to run: probability at or above :attr:`threshold_`.

        Parameters
        ----------
        features : DataFrame
            With the :data:`~ardlib.testsel.FEATURES` columns.

        Returns
        -------
        ndarray of shape (n,)
            Boolean mask.
        """
        return self.predict_proba(features) >= self.threshold_


def mutant_changes(
    mutants: pd.DataFrame, sources: dict[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mutants as changes: their changed lines and their attributes.

    Parameters
    ----------
    mutants : DataFrame
        ``mutant_id``, ``path``, ``line``, ``module``, ``kind``, ``lines_changed``.
    sources : dict, optional
        Path -> source at the data's revision: a mutated line then stands for every line of
        its statement (coverage records a multi-line statement on some of its lines), as
        ``ardlib testsel run`` reads a changed line.

    Returns
    -------
    (DataFrame, DataFrame)
        Changed lines (``change_id``, ``path``, ``line``) and attributes indexed by
        ``change_id`` (``module``, ``kind``, ``lines_changed``).
    """
    rows = []
    for mid, path, line in zip(mutants["mutant_id"], mutants["path"], mutants["line"], strict=True):
        text = (sources or {}).get(path)
        for n in statement_lines(text, int(line)) if text is not None else [int(line)]:
            rows.append((mid, path, n))
    lines = pd.DataFrame(rows, columns=["change_id", "path", "line"])
    cols = [c for c in ("module", "kind", "lines_changed") if c in mutants]
    attrs = mutants.set_index("mutant_id")[cols]
    attrs.index.name = "change_id"
    return lines, attrs


def pair_labels(features: pd.DataFrame, outcomes: pd.DataFrame) -> np.ndarray:
    """Whether each (change, test) pair's test failed on its change.

    Parameters
    ----------
    features : DataFrame
        ``change_id``, ``nodeid`` (one row per pair).
    outcomes : DataFrame
        ``mutant_id``, ``nodeid``, ``failed``.

    Returns
    -------
    ndarray of shape (n,)
        True where the outcome failed, errored or timed out; a pair without an outcome did
        not fail.
    """
    failed = outcomes.loc[outcomes["failed"], ["mutant_id", "nodeid"]]
    keys = pd.MultiIndex.from_frame(failed.rename(columns={"mutant_id": "change_id"}))
    return np.asarray(
        pd.MultiIndex.from_frame(features[["change_id", "nodeid"]]).isin(keys), dtype=bool
    )


@dataclass
class TrainedSelector:
    """A selection model with what it was trained on, as ``ardlib testsel run`` uses it.

    Attributes
    ----------
    model : SelectionModel
        Fitted on every change of the dataset.
    history : FailureHistory
        Failure counts of every test over every change (the features' past failure rates).
    data_digest : str
        :func:`~ardlib.testsel.data_digest` of the training data.
    revision : str
        The revision the data was collected at.
    info : dict
        ``created_at``, ``sklearn``, ``n_changes``, ``n_pairs``, ``target_recall``.
    """

    model: SelectionModel
    history: FailureHistory
    data_digest: str
    revision: str
    info: dict[str, Any] = field(default_factory=dict)


def train_selector(
    data: SelectionData,
    *,
    target_recall: float = 0.99,
    random_state: int = 0,
    root: str | os.PathLike[str] | None = ".",
    model_options: dict[str, Any] | None = None,
) -> TrainedSelector:
    """Fit a :class:`SelectionModel` on every covered mutant of a dataset.

    Parameters
    ----------
    data : SelectionData
        From :func:`~ardlib.testsel.load_selection_data` (with ``sources``, for function
        features).
    target_recall : float, default 0.99
        Change-level recall the threshold is calibrated for.
    random_state : int, default 0
        Seed of the learner.
    root : str or path-like or None, default "."
        Repository root for the import graph (None: every distance unknown).
    model_options : dict, optional
        Further keyword arguments of :class:`SelectionModel`.

    Returns
    -------
    TrainedSelector
    """
    import sklearn  # type: ignore[import-untyped]

    index = coverage_index(data.coverage, data.tests, data.sources, root=root)
    covered = data.mutants[data.mutants["usable"]]
    lines, attrs = mutant_changes(covered, data.sources)
    modules = attrs["module"]
    history = FailureHistory.from_outcomes(
        data.outcomes[data.outcomes["mutant_id"].isin(covered["mutant_id"])], modules
    )
    feats = build_features(lines, attrs, index, history)
    y = pair_labels(feats, data.outcomes)
    model = SelectionModel(
        target_recall=target_recall, random_state=random_state, **(model_options or {})
    )
    weights = feats["change_id"].map(covered.set_index("mutant_id")["weight"]).to_numpy()
    model.fit(feats, y, feats["change_id"].map(modules).to_numpy(), sample_weight=weights)
    info = {
        "created_at": utc_now(),
        "sklearn": sklearn.__version__,
        "n_changes": int(feats["change_id"].nunique()),
        "n_pairs": len(feats),
        "target_recall": float(target_recall),
        "threshold": float(model.threshold_),
    }
    return TrainedSelector(model, history, data.digest, data.revision, info)


def save_selector(selector: TrainedSelector, path: str | os.PathLike[str]) -> Path:
    """Write a trained selector with joblib.

    Parameters
    ----------
    selector : TrainedSelector
        From :func:`train_selector`.
    path : str or path-like
        Target file (parent folders are created).

    Returns
    -------
    Path
        The file written.
    """
    import joblib  # type: ignore[import-untyped]

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"format": _FORMAT, "selector": selector}, target)
    return target


def load_selector(path: str | os.PathLike[str]) -> TrainedSelector:
    """Read a selector written by :func:`save_selector`.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    TrainedSelector

    Raises
    ------
    OSError
        If the file does not exist.
    ValueError
        If it is not a selector of this format, or was made by another scikit-learn version.
    """
    import joblib
    import sklearn

    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"The 'model' file {str(target)!r} does not exist.")
    try:
        obj = joblib.load(target)
    except Exception as exc:  # a truncated or foreign file: say so in one line
        raise ValueError(f"The 'model' file {str(target)!r} cannot be read: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("format") != _FORMAT:
        raise ValueError(f"The 'model' file {str(target)!r} is not a test-selection model.")
    selector = obj["selector"]
    made_with = selector.info.get("sklearn")
    if made_with != sklearn.__version__:
        raise ValueError(
            f"The 'model' file {str(target)!r} was trained with scikit-learn {made_with}, "
            f"this is {sklearn.__version__}; retrain it."
        )
    return selector
