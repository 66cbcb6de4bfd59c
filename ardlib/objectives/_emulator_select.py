"""Choosing an emulator's output model by cross-validation, and judging where its optimum lies.

* :class:`OutputTransform` is a monotone map of the measurements the GP models instead of
  the raw values: ``identity``, ``log`` (strictly positive data) or ``yeo-johnson``
  (Yeo and Johnson 2000, lambda by maximum likelihood, :func:`scipy.stats.yeojohnson`).
  Predictions are back-transformed with the *median* ``g^-1(mu)``: it is monotone in
  ``mu`` (so the optimum of the back-transformed mean is the optimum of ``mu``), it does
  not grow with the posterior variance (``exp(mu + var / 2)``, the lognormal mean, would
  inflate values far from the data, where the variance is large, and pull the optimum
  there) and it is what a single measurement is as likely to fall above as below.
  Variances are mapped by the delta method, ``var_y = g^-1'(mu)^2 var_z``.
* :func:`select_model` is the rule: keep ``identity`` unless another candidate's grouped
  cross-validated R^2 (original units, same folds) beats it by at least ``margin`` and by
  twice the standard error of the paired per-fold difference.
  :class:`ModelSelection` records every candidate's scores and the choice.
* :func:`optimum_support` measures how far an optimizer lies from the data: the distance
  to the nearest data row in units of the GP's lengthscales and the posterior standard
  deviation there relative to the GP's noise standard deviation (both on the model's
  scale); :data:`FAR_LENGTHSCALES` and :data:`FAR_SD_RATIO` are the flag's thresholds.
  A posterior sd above the noise sd means the emulator is less sure of its value there
  than of a single measurement; at the measured rows of the six datasets the ratio never
  exceeds 0.95 (median 0.3 to 0.75), and random points lie 0.07 to 0.4 lengthscales from
  the nearest row (median), so one lengthscale only catches true gaps.  The optimum is
  flagged, not moved: it is the emulator's exact optimum, which planners are scored
  against; the flag says its value is extrapolated rather than confirmed by the data.

References
----------
Yeo, I.-K. and Johnson, R. A. (2000). A new family of power transformations to improve
normality or symmetry. Biometrika 87(4), 954-959.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..gp import GaussianProcess
from ._emulator_fit import CVResult

__all__ = [
    "CANDIDATES",
    "DEFAULT_MARGIN",
    "FAR_LENGTHSCALES",
    "FAR_SD_RATIO",
    "CandidateScore",
    "ModelSelection",
    "OptimumSupport",
    "OutputTransform",
    "emulator_selection_rows",
    "optimum_support",
    "paired_se",
    "select_model",
]

Array = NDArray[np.float64]
CANDIDATES = ("identity", "log", "yeo-johnson")
DEFAULT_MARGIN = 0.01  # R^2 a candidate must gain over identity (see select_model)
FAR_LENGTHSCALES = 1.0  # optimum flagged beyond this distance to every data row ...
FAR_SD_RATIO = 1.0  # ... or with a posterior sd above the noise sd (see optimum_support)


@dataclass(frozen=True)
class OutputTransform:
    """A monotone increasing output map ``z = g(y)`` and its inverse.

    Parameters
    ----------
    name : {"identity", "log", "yeo-johnson"}
    lmbda : float, optional
        The Yeo-Johnson exponent (``nan`` for the other maps).
    lo, hi : float, optional
        Yeo-Johnson only: model values are clipped into ``[g(lo), g(hi)]`` before the
        inverse (``lo``/``hi`` are the data range widened by its span on each side), so
        the inverse stays finite where ``g`` is bounded (lambda < 0 or > 2).
    """

    name: str
    lmbda: float = float("nan")
    lo: float = -np.inf
    hi: float = np.inf

    @classmethod
    def fit(cls, name: str, y: Array) -> OutputTransform:
        """The transform ``name`` fitted to measurements ``y`` (n,).

        Parameters
        ----------
        name : {"identity", "log", "yeo-johnson"}
        y : ndarray of shape (n,)
            Training measurements (Yeo-Johnson's lambda is fitted on these only).

        Returns
        -------
        OutputTransform

        Raises
        ------
        ValueError
            If ``name`` is unknown, or ``log`` meets a measurement <= 0.
        """
        if name == "identity":
            return cls("identity")
        if name == "log":
            if not np.all(y > 0):
                raise ValueError("The 'log' output transform needs strictly positive data.")
            return cls("log")
        if name == "yeo-johnson":
            from scipy.stats import yeojohnson  # deferred: scipy.stats is slow to import

            _, lmbda = yeojohnson(np.asarray(y, dtype=float))
            span = float(np.max(y) - np.min(y))
            return cls(
                "yeo-johnson", float(lmbda), float(np.min(y)) - span, float(np.max(y)) + span
            )
        raise ValueError(
            f"The 'transform' parameter must be one of {list(CANDIDATES)}. Got {name!r}."
        )

    @staticmethod
    def applicable(name: str, y: Array) -> bool:
        """Whether ``name`` can model ``y``: ``log`` needs every measurement > 0.

        Parameters
        ----------
        name : str
            A transform's name.
        y : ndarray of shape (n,)
            The measurements.

        Returns
        -------
        bool
        """
        return name != "log" or bool(np.all(y > 0))

    def forward(self, y: Array) -> Array:
        """``g(y)``, elementwise (identity returns ``y`` itself).

        Parameters
        ----------
        y : ndarray of shape (n,)

        Returns
        -------
        ndarray of shape (n,)
        """
        if self.name == "identity":
            return y
        if self.name == "log":
            return np.log(y)
        lam = self.lmbda
        y = np.asarray(y, dtype=float)
        out = np.empty_like(y)
        pos = y >= 0
        yp, yn = y[pos], y[~pos]
        out[pos] = np.log1p(yp) if lam == 0 else ((yp + 1.0) ** lam - 1.0) / lam
        out[~pos] = -np.log1p(-yn) if lam == 2 else -((1.0 - yn) ** (2.0 - lam) - 1.0) / (2.0 - lam)
        return out

    def _clip(self, z: Array) -> Array:
        bounds = self.forward(np.array([self.lo, self.hi]))
        return np.clip(z, bounds[0], bounds[1])

    def inverse(self, z: Array) -> Array:
        """``g^-1(z)``, elementwise (identity returns ``z`` itself).

        Parameters
        ----------
        z : ndarray of shape (n,)

        Returns
        -------
        ndarray of shape (n,)
        """
        if self.name == "identity":
            return z
        if self.name == "log":
            return np.exp(z)
        lam = self.lmbda
        z = self._clip(np.asarray(z, dtype=float))
        out = np.empty_like(z)
        pos = z >= 0
        zp, zn = z[pos], z[~pos]
        out[pos] = np.expm1(zp) if lam == 0 else (lam * zp + 1.0) ** (1.0 / lam) - 1.0
        out[~pos] = (
            -np.expm1(-zn) if lam == 2 else 1.0 - (1.0 - (2.0 - lam) * zn) ** (1.0 / (2.0 - lam))
        )
        return out

    def inverse_slope(self, z: Array) -> Array:
        """``d g^-1 / dz`` at ``z`` (the delta method's factor; at the clip bound past it).

        Parameters
        ----------
        z : ndarray of shape (n,)

        Returns
        -------
        ndarray of shape (n,)
        """
        if self.name == "identity":
            return np.ones_like(z)
        if self.name == "log":
            return np.exp(z)
        lam = self.lmbda
        z = self._clip(np.asarray(z, dtype=float))
        out = np.empty_like(z)
        pos = z >= 0
        zp, zn = z[pos], z[~pos]
        out[pos] = np.exp(zp) if lam == 0 else (lam * zp + 1.0) ** (1.0 / lam - 1.0)
        out[~pos] = (
            np.exp(-zn) if lam == 2 else (1.0 - (2.0 - lam) * zn) ** (1.0 / (2.0 - lam) - 1.0)
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The transform as JSON-able data.

        Returns
        -------
        dict
            ``transform``, ``lambda``, ``lo``, ``hi`` (``None`` for the unused ones).
        """
        yj = self.name == "yeo-johnson"
        return {
            "transform": self.name,
            "lambda": self.lmbda if yj else None,
            "lo": self.lo if yj else None,
            "hi": self.hi if yj else None,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any] | None) -> OutputTransform:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        state : dict or None
            What :meth:`to_dict` wrote; ``None`` (artifacts before model selection) is
            identity.

        Returns
        -------
        OutputTransform
        """
        if not state or state.get("transform", "identity") == "identity":
            return cls("identity")
        if state["transform"] == "log":
            return cls("log")
        return cls("yeo-johnson", float(state["lambda"]), float(state["lo"]), float(state["hi"]))


@dataclass(frozen=True)
class CandidateScore:
    """One candidate output model's grouped cross-validation.

    Attributes
    ----------
    model : str
        The transform's name.
    cv : CVResult
        Pooled over the held-out rows, original units.
    fold_r2 : tuple of float
        R^2 of each fold's held-out rows (around that fold's mean), original units.
    """

    model: str
    cv: CVResult
    fold_r2: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-able data.

        Returns
        -------
        dict
            ``model``, ``cv`` (a dict) and ``fold_r2`` (a list).
        """
        return {"model": self.model, "cv": self.cv.to_dict(), "fold_r2": list(self.fold_r2)}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> CandidateScore:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        state : dict
            What :meth:`to_dict` wrote.

        Returns
        -------
        CandidateScore
        """
        return cls(state["model"], CVResult(**state["cv"]), tuple(state["fold_r2"]))


@dataclass(frozen=True)
class ModelSelection:
    """The candidates' cross-validation and the chosen output model.

    Attributes
    ----------
    chosen : str
    margin : float
        The smallest R^2 gain over ``identity`` a candidate needed (see
        :func:`select_model` for the standard-error part of the rule).
    candidates : tuple of CandidateScore
        In :data:`CANDIDATES` order; inapplicable ones (``log`` on data with values <= 0)
        are absent.
    rule : str
        The rule, in words.
    """

    chosen: str
    margin: float
    candidates: tuple[CandidateScore, ...]
    rule: str = field(default="")

    def table(self) -> list[dict[str, Any]]:
        """The candidates' scores, one row per candidate.

        Returns
        -------
        list of dict
            ``model``, ``r2``, ``rmse``, ``coverage90``, ``gain_se`` (standard error of
            the paired per-fold R^2 difference to identity) and ``chosen``.
        """
        base = self.candidates[0]
        return [
            {
                "model": c.model,
                "r2": c.cv.r2,
                "rmse": c.cv.rmse,
                "coverage90": c.cv.coverage90,
                "gain_se": paired_se(c, base) if c is not base else 0.0,
                "chosen": c.model == self.chosen,
            }
            for c in self.candidates
        ]

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-able data.

        Returns
        -------
        dict
        """
        out = asdict(self)
        out["candidates"] = [c.to_dict() for c in self.candidates]
        return out

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ModelSelection:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        state : dict
            What :meth:`to_dict` wrote.

        Returns
        -------
        ModelSelection
        """
        cands = tuple(CandidateScore.from_dict(c) for c in state["candidates"])
        return cls(state["chosen"], float(state["margin"]), cands, state.get("rule", ""))


def fold_r2(y: Array, mu: Array, folds: NDArray[np.intp], n_folds: int) -> tuple[float, ...]:
    """R^2 of the held-out predictions ``mu`` within each fold (around the fold's mean)."""
    out = []
    for k in range(n_folds):
        t = folds == k
        out.append(float(1.0 - np.sum((y[t] - mu[t]) ** 2) / np.sum((y[t] - y[t].mean()) ** 2)))
    return tuple(out)


def paired_se(candidate: CandidateScore, base: CandidateScore) -> float:
    """Standard error of the mean per-fold R^2 difference ``candidate - base``."""
    d = np.asarray(candidate.fold_r2) - np.asarray(base.fold_r2)
    return float(np.std(d, ddof=1) / np.sqrt(d.size))


def select_model(scores: list[CandidateScore], margin: float = DEFAULT_MARGIN) -> ModelSelection:
    """Keep ``identity`` unless another candidate's CV R^2 is clearly higher.

    A candidate qualifies when its pooled CV R^2 exceeds identity's by at least
    ``max(margin, 2 se)``, ``se`` the standard error of the paired per-fold R^2 difference
    (:func:`paired_se`); the best qualifying candidate is chosen.  On the tuning datasets
    (crossed_barrel, fullerenes, suzuki) the per-fold R^2 of one model varies by a sd of
    0.003 to 0.07 between folds and the paired difference's standard error is 0.001 to
    0.03, so a fixed margin alone would chase noise on the noisy datasets and be needlessly
    strict on the smooth ones; ``margin`` (0.01) is the smallest gain worth a change of
    model.

    Parameters
    ----------
    scores : list of CandidateScore
        ``identity`` first; every candidate scored on the same folds.
    margin : float, default :data:`DEFAULT_MARGIN`
        Smallest R^2 gain a candidate needs.

    Returns
    -------
    ModelSelection
    """
    base = scores[0]
    ok = [c for c in scores[1:] if c.cv.r2 >= base.cv.r2 + max(margin, 2.0 * paired_se(c, base))]
    chosen = max(ok, key=lambda c: c.cv.r2).model if ok else base.model
    rule = (
        "identity unless a candidate's grouped-CV R^2 (original units, same folds) exceeds "
        f"it by >= max({margin:g}, 2 x the standard error of the paired per-fold R^2 "
        "difference); then the best such candidate"
    )
    return ModelSelection(chosen, float(margin), tuple(scores), rule)


@dataclass(frozen=True)
class OptimumSupport:
    """How far an emulator's optimizer lies from its data.

    Attributes
    ----------
    nearest_lengthscales : float
        ``min_i sqrt(sum_j ((z_j - x_ij) / l_j)^2)`` over the data rows ``x_i``, unit-cube
        coordinates, ``l`` the GP's lengthscales.
    sd_ratio : float
        Posterior (latent) standard deviation at the optimizer over the GP's noise
        standard deviation, both on the model's scale.
    extrapolated : bool
        ``nearest_lengthscales > FAR_LENGTHSCALES`` or ``sd_ratio > FAR_SD_RATIO``.
    """

    nearest_lengthscales: float
    sd_ratio: float
    extrapolated: bool

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-able data.

        Returns
        -------
        dict
        """
        return asdict(self)


def optimum_support(gp: GaussianProcess, z: Array) -> OptimumSupport:
    """The :class:`OptimumSupport` of unit-cube point ``z`` (d,) under fitted ``gp``.

    Parameters
    ----------
    gp : GaussianProcess
        Conditioned on the data (its ``X_`` are the rows).
    z : ndarray of shape (d,)

    Returns
    -------
    OptimumSupport
    """
    ell = np.asarray(gp.lengthscale_, dtype=float)
    dist = float(np.sqrt(np.min(np.sum(((np.asarray(gp.X_) - z) / ell) ** 2, axis=1))))
    _, var = gp.predict_standardized(np.asarray(z, dtype=float)[None, :])
    ratio = float(np.sqrt(max(float(var[0]), 0.0) / gp.noise_var_))
    return OptimumSupport(dist, ratio, bool(dist > FAR_LENGTHSCALES or ratio > FAR_SD_RATIO))


_MODEL_LABELS = {"identity": "identity", "log": "log", "yeo-johnson": "Yeo-Johnson"}


def emulator_selection_rows(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The emulators' model selection and optimum support, one row per dataset, for reports.

    Parameters
    ----------
    metrics : dict
        ``{dataset: metrics}`` as :func:`~ardlib.objectives.build_emulators` returns (the
        ``"emulators"`` entry of ``data/emulators/metrics.json``).

    Returns
    -------
    list of dict
        Human column names: the dataset, the chosen model, the CV R^2 of every candidate
        (``None`` where not applicable or not recorded), the optimum's distance to the
        nearest row in lengthscales, its posterior sd over the noise sd, and the flag.
    """
    rows = []
    for name, m in sorted(metrics.items()):
        cands = {c["model"]: c["r2"] for c in m.get("candidates") or []}
        row: dict[str, Any] = {
            "Dataset": name,
            "Chosen model": _MODEL_LABELS.get(m.get("model", "identity")),
        }
        for key, label in _MODEL_LABELS.items():
            row[f"CV R² ({label})"] = cands.get(key)
        row["Optimum: lengthscales to nearest row"] = m.get("optimum_nearest_lengthscales")
        row["Optimum: posterior sd / noise sd"] = m.get("optimum_sd_ratio")
        row["Optimum extrapolated"] = m.get("optimum_extrapolated")
        rows.append(row)
    return rows
