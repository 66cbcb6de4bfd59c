"""Emulated experiments: Gaussian-process surrogates of real laboratory datasets.

An :class:`Emulator` answers "what would the lab have measured at x?" with the posterior
mean of a GP (Matern-5/2 ARD, learned noise, :mod:`ardlib.gp`) fitted to a
:class:`~ardlib.objectives.Dataset`; the measurement noise the lab showed is available as
:meth:`Emulator.noise_model`.  Its ground truth (``optimal_value``, ``optimizers``) is
the best posterior mean, found by a thorough multi-start search when the emulator is
built, and saved with it.

Modelling choices
-----------------
* Inputs are scaled to the unit cube by the dataset's bounds.  The output model is chosen
  per dataset by grouped cross-validation on the same folds (:mod:`._emulator_select`):
  the measurements as measured (``identity``), their ``log`` (strictly positive data) or
  their ``yeo-johnson`` transform; ``identity`` is kept unless a candidate's CV R^2 in
  original units is higher by ``margin`` (0.01).  The emulator's value is the
  back-transformed posterior mean (the predictive median); the optimum search runs on the
  transformed mean (the maps are monotone).  :attr:`Emulator.selection_` holds the table.
* Hyperparameters are fitted on at most ``max_fit_points`` rows drawn by the seeded
  ``rng`` (speed); the GP is then conditioned on every row with them.
* ``noise_sd`` is the pooled replicate standard deviation when the dataset repeats
  parameter rows (hplc, fullerenes, photo_pce10), else the GP's learned noise.
* The build refuses datasets the GP cannot emulate: grouped k-fold cross-validated R^2
  of the chosen model below ``min_r2`` raises.
* The optimum is kept where the posterior mean puts it, but :attr:`Emulator.support_`
  says how far it lies from the data (lengthscales to the nearest row, posterior sd over
  noise sd) and flags it as extrapolated beyond
  :data:`~._emulator_select.FAR_LENGTHSCALES` or :data:`~._emulator_select.FAR_SD_RATIO`.

Mixtures
--------
When the dataset's parameters are mixture fractions (``constraint == "simplex"``,
photo_pce10) the emulator's feasible set is the simplex: ``simplex`` is True,
:meth:`Emulator.evaluate_true` rejects rows whose sum is not one (within 1e-6) and
:meth:`Emulator.project` maps box points onto the simplex.  Planners, which all work in a
box, get :class:`SimplexEmulator` instead: the same emulator seen through the uniform
stick-breaking map of ``[0, 1]^(d-1)`` onto the simplex (a uniform design in the box is
uniform on the mixtures).  The registry's ``"emulator:photo_pce10"`` is that wrapper.

Build once, load fast
---------------------
:meth:`Emulator.save` writes a JSON artifact (hyperparameters, the sha256 of the training
files, cross-validation, optimum, noise); :meth:`Emulator.load` re-reads the dataset,
verifies the hashes and conditions the GP with the stored hyperparameters, which
reproduces the built emulator's predictions exactly.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._io import write_json
from .._rng import as_generator
from .._threads import single_threaded_blas
from .._validation import check_int, check_points, check_real
from ..gp import Posterior
from ._base import Objective, frozen
from ._datasets import Dataset, load_dataset, replicate_noise_sd
from ._emulator_fit import (
    CVResult,
    PosteriorMean,
    condition,
    cv_predict,
    cv_result,
    fit_theta,
    group_folds,
    search_optimum,
    y_scale,
)
from ._emulator_select import (
    CANDIDATES,
    DEFAULT_MARGIN,
    CandidateScore,
    ModelSelection,
    OptimumSupport,
    OutputTransform,
    fold_r2,
    optimum_support,
    select_model,
)
from ._emulator_simplex import (
    SIMPLEX_ATOL,
    box_to_simplex,
    off_simplex_rows,
    project_simplex,
    simplex_to_box,
)
from ._noise import GaussianNoise

__all__ = ["CVResult", "Emulator", "SimplexEmulator"]

Array = NDArray[np.float64]
FORMAT = "ardlib-emulator/1"
_OPTIMUM_RTOL = 1e-9  # stored vs recomputed optimum on load


class Emulator(Objective):
    """GP posterior mean of a laboratory dataset, as a benchmark problem.

    Build one with :meth:`fit` (fits the GP, cross-validates it and searches the optimum:
    seconds) or read a saved build with :meth:`load`; the constructor only stores a fitted
    state (and conditions the GP on the data with it).

    Parameters
    ----------
    dataset : Dataset
        The data.
    theta : array-like
        GP hyperparameters (log lengthscales, log signal and noise variance) in
        standardized units.
    cv : CVResult
        The cross-validation of the build.
    optimizer : array-like of shape (d,) or (1, d)
        The best posterior-mean point found by the build (clipped into the box).
    max_fit_points, n_folds : int
        Settings the build used (see :meth:`fit`).
    min_r2 : float
        The R^2 floor the build was held to.
    rng : int
        Seed of the build.
    build_seconds : float, optional
        Wall time of the build (not saved: see ``build_seconds_``).
    transform : OutputTransform, optional
        The output model (default ``identity``: the measurements as measured).
    selection : ModelSelection, optional
        The cross-validation of every candidate output model (``None``: not recorded).

    Attributes
    ----------
    name : str
        ``"emulator:<dataset>"``.
    dim, bounds, goal, reference, optimal_value, optimizers
        The :class:`Objective` contract, in the dataset's units; ``optimizers`` has one row.
    dataset : Dataset
    simplex : bool
        True when the feasible set is the simplex (mixture fractions).
    noise_sd : float
        Measurement noise standard deviation (original units).
    noise_source : {"replicates", "gp"}
        Where ``noise_sd`` comes from.
    n_replicate_groups : int
    gp_noise_sd_ : float
        The GP's learned noise standard deviation.
    theta_ : ndarray
        GP hyperparameters (log lengthscales, log signal and noise variance), standardized
        units of the full (transformed) data.
    cv_ : CVResult
        Cross-validation of the chosen model, original units.
    transform_ : OutputTransform
        The output model; ``model_`` is its name.
    selection_ : ModelSelection or None
        Every candidate's cross-validation and the choice.
    support_ : OptimumSupport
        How far the optimizer lies from the data, and whether it is flagged extrapolated.
    build_seconds_ : float
        Wall time of the build (fit, cross-validation, optimum search) in this process;
        NaN for an emulator loaded from an artifact. Artifacts leave timings out, so
        rebuilding with the same data, settings and seed writes the same bytes.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        theta: ArrayLike,
        cv: CVResult,
        optimizer: ArrayLike,
        max_fit_points: int = 300,
        n_folds: int = 5,
        min_r2: float = 0.7,
        rng: int = 0,
        build_seconds: float = float("nan"),
        transform: OutputTransform | None = None,
        selection: ModelSelection | None = None,
    ) -> None:
        self.max_fit_points, self.n_folds = max_fit_points, n_folds
        self.min_r2, self.rng = min_r2, rng
        self._set_dataset(dataset)
        self._set_model(np.asarray(theta, dtype=float), transform or OutputTransform("identity"))
        self.cv_ = cv
        self.selection_ = selection
        self.build_seconds_ = float(build_seconds)
        self._set_optimum(np.asarray(optimizer, dtype=float).reshape(1, -1))

    @classmethod
    def fit(
        cls,
        dataset: Dataset | str,
        *,
        data_root: str | os.PathLike[str] | None = None,
        max_fit_points: int = 300,
        n_folds: int = 5,
        min_r2: float = 0.7,
        rng: int = 0,
        candidates: Sequence[str] = CANDIDATES,
        margin: float = DEFAULT_MARGIN,
    ) -> Emulator:
        """Build an emulator: choose the output model by CV, search the optimum (seconds).

        Parameters
        ----------
        dataset : Dataset or str
            The data, or a dataset name read with :func:`~ardlib.objectives.load_dataset`.
        data_root : path, optional
            Where a dataset name is read from (default resolution of ``load_dataset``).
        max_fit_points : int >= 10, default 300
            Rows used to fit the hyperparameters (drawn by ``rng`` when there are more).
        n_folds : int >= 2, default 5
            Folds of the cross-validation.
        min_r2 : float <= 1, default 0.7
            Floor on the cross-validated R^2; below it the build raises.
        rng : int, default 0
            Seed of the subsample, folds and optimum search (an int so builds record it).
            ``identity`` uses the stream of builds before model selection (so its
            emulators are unchanged); candidate ``k`` fits with ``SeedSequence([rng, k])``.
        candidates : sequence of str, default ("identity", "log", "yeo-johnson")
            Output models to cross-validate, ``"identity"`` first; ``log`` is skipped on
            data with a measurement <= 0.
        margin : float >= 0, default 0.01
            CV R^2 a candidate must gain over ``identity`` to be chosen
            (:func:`~._emulator_select.select_model`).

        Returns
        -------
        Emulator

        Raises
        ------
        ValueError
            On a bad setting (named), a constant measurement, or a cross-validated R^2
            of the chosen model below ``min_r2``.
        """
        owner = f"{cls.__name__}.fit"
        ds = load_dataset(dataset, data_root) if isinstance(dataset, str) else dataset
        max_fit_points = check_int(max_fit_points, "max_fit_points", owner=owner, low=10)
        n_folds = check_int(n_folds, "n_folds", owner=owner, low=2)
        min_r2 = check_real(min_r2, "min_r2", owner=owner, high=1.0)
        rng = check_int(rng, "rng", owner=owner, low=0)
        margin = check_real(margin, "margin", owner=owner, low=0.0)
        candidates = _check_candidates(candidates, owner)
        start = time.perf_counter()
        gen = as_generator(rng)
        if y_scale(ds.y) <= 0.0:
            raise ValueError(f"Dataset {ds.name!r} has a constant measurement; nothing to emulate.")
        self = cls.__new__(cls)  # the box and unit-cube data, before any fitting
        self._set_dataset(ds)
        Xu, y = self._Xu, ds.y
        fits: dict[str, tuple[OutputTransform, Array]] = {}
        scores: list[CandidateScore] = []
        folds = np.empty(0, dtype=np.intp)
        for k, name in enumerate(candidates):
            if not OutputTransform.applicable(name, y):
                continue
            g = gen if k == 0 else np.random.default_rng(np.random.SeedSequence([rng, k]))
            t = OutputTransform.fit(name, y)
            theta = fit_theta(Xu, t.forward(y), max_fit_points=max_fit_points, rng=g)
            if k == 0:  # the folds come after identity's fit, as before model selection
                folds = group_folds(Xu, n_folds, gen)
            mu, zabs = cv_predict(
                Xu,
                y,
                theta,
                folds,
                n_folds=n_folds,
                max_fit_points=max_fit_points,
                rng=g,
                transform=None if k == 0 else partial(OutputTransform.fit, name),
            )
            fits[name] = (t, theta)
            cv_k = cv_result(y, mu, zabs, n_folds)
            scores.append(CandidateScore(name, cv_k, fold_r2(y, mu, folds, n_folds)))
        selection = select_model(scores, margin)
        transform, theta = fits[selection.chosen]
        cv = next(c.cv for c in scores if c.model == selection.chosen)
        if not cv.r2 >= min_r2:
            raise ValueError(
                f"Emulator for dataset {ds.name!r} has cross-validated R^2 = {cv.r2:.4f} "
                f"(model {selection.chosen!r}), below the floor min_r2 = {min_r2:g}; "
                "refusing to build it."
            )
        self._set_model(theta, transform)
        sign = 1.0 if self.goal == "maximize" else -1.0
        anchors = ds.X if self.simplex else self._Xu
        best = search_optimum(self._mean, sign, anchors, simplex=self.simplex, rng=gen)
        return cls(
            ds,
            theta=theta,
            cv=cv,
            optimizer=self._from_unit(best[None, :]),
            max_fit_points=max_fit_points,
            n_folds=n_folds,
            min_r2=min_r2,
            rng=rng,
            build_seconds=time.perf_counter() - start,
            transform=transform,
            selection=selection,
        )

    # ------------------------------------------------------------------ set-up helpers
    def _set_dataset(self, ds: Dataset) -> None:
        self.dataset = ds
        self._name = f"emulator:{ds.name}"
        self._set_box(ds.bounds)
        self.goal = ds.goal
        self.simplex = ds.constraint == "simplex"
        if self.simplex and not np.array_equal(ds.bounds, np.tile([0.0, 1.0], (ds.dim, 1))):
            raise ValueError(f"Dataset {ds.name!r}: mixture fractions must have bounds [0, 1].")
        self.reference = (
            f"GP emulator (Matern-5/2, posterior mean) of the {ds.name} dataset: "
            f"{ds.reference}; data via the Olympus project (aspuru-guzik-group/olympus)"
        )
        self._Xu = self._to_unit(ds.X)
        sd, groups = replicate_noise_sd(ds)
        self.n_replicate_groups = groups
        self._replicate_sd = sd

    def _set_model(self, theta: Array, transform: OutputTransform) -> None:
        self.theta_ = frozen(theta)
        self.transform_ = transform
        self.model_ = transform.name
        self.gp_ = condition(self._Xu, transform.forward(self.dataset.y), self.theta_)
        self._mean = PosteriorMean(self.gp_)
        self.gp_noise_sd_ = float(np.sqrt(self.gp_.noise_var_) * self.gp_.y_std_)
        if transform.name != "identity":  # delta method, averaged over the data rows
            slope = transform.inverse_slope(self._mean(self._Xu))
            self.gp_noise_sd_ *= float(np.sqrt(np.mean(slope**2)))
        if self._replicate_sd is not None:
            self.noise_sd, self.noise_source = self._replicate_sd, "replicates"
        else:
            self.noise_sd, self.noise_source = self.gp_noise_sd_, "gp"

    def _set_optimum(self, x: Array) -> float:
        x = np.clip(x, self.bounds[:, 0], self.bounds[:, 1])
        self.optimizers = frozen(x)
        value = float(self.evaluate_true(self.optimizers)[0])
        self.optimal_value = value
        with single_threaded_blas():
            self.support_: OptimumSupport = optimum_support(self.gp_, self._to_unit(x)[0])
        return value

    def _to_unit(self, X: Array) -> Array:
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        return (X - lo) / (hi - lo)

    def _from_unit(self, Z: Array) -> Array:
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        return lo + Z * (hi - lo)

    # ------------------------------------------------------------------ the contract
    @property
    def name(self) -> str:  # type: ignore[override]
        """Registry name, ``"emulator:<dataset>"``."""
        return self._name

    def _evaluate(self, X: Array) -> Array:
        if self.simplex:
            bad = off_simplex_rows(X)
            if bad.size:
                raise ValueError(
                    f"The 'X' parameter of {type(self).__name__} ({self._name}) must hold "
                    f"mixtures: every row must sum to 1 within {SIMPLEX_ATOL:g}; rows "
                    f"{bad[:10].tolist()} do not (row {bad[0]} sums to "
                    f"{float(X[bad[0]].sum())!r}). Use project(X) or SimplexEmulator."
                )
        with single_threaded_blas():
            return self.transform_.inverse(self._mean(self._to_unit(X)))

    def predict(self, X: ArrayLike) -> Posterior:
        """Emulator value (= :meth:`evaluate_true`) and latent variance at ``X`` (n, d).

        For a transformed output model ``g`` the value is the back-transformed mean
        ``g^-1(mu)`` (the predictive median) and the variance is mapped by the delta method,
        ``g^-1'(mu)^2 var``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Points in the dataset's units.

        Returns
        -------
        ardlib.gp.Posterior
            ``mean`` and ``var`` of shape (n,), original units; add ``noise_sd**2`` for the
            variance of a new measurement.
        """
        mean = self.evaluate_true(X)
        Z = self._to_unit(check_points(X, self.bounds, owner=type(self).__name__))
        with single_threaded_blas():
            mu, var = self.gp_.predict_standardized(Z)
        var = var * self.gp_.y_std_**2
        if self.transform_.name != "identity":
            slope = self.transform_.inverse_slope(self.gp_.y_mean_ + self.gp_.y_std_ * mu)
            var = slope**2 * var
        return Posterior(mean, var)

    def noise_model(self) -> GaussianNoise:
        """Gaussian measurement noise with the lab's standard deviation :attr:`noise_sd`.

        Returns
        -------
        GaussianNoise
        """
        return GaussianNoise(sd=self.noise_sd)

    def project(self, X: ArrayLike) -> Array:
        """Nearest feasible points: onto the simplex when :attr:`simplex`, else into the box.

        Parameters
        ----------
        X : array-like of shape (n, d)

        Returns
        -------
        ndarray of shape (n, d)
            Euclidean projection of each row (Duchi et al. 2008 for the simplex; clipping
            for the box).
        """
        pts = check_points(X, owner=f"{type(self).__name__}.project")
        if pts.shape[1] != self.dim:
            raise ValueError(
                f"The 'X' parameter of {type(self).__name__}.project must have shape "
                f"(n, {self.dim}). Got shape {pts.shape}."
            )
        if self.simplex:
            return project_simplex(pts)
        return np.clip(pts, self.bounds[:, 0], self.bounds[:, 1])

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The build as JSON-able data (what :meth:`save` writes).

        Returns
        -------
        dict
            Format, dataset and its sha256, settings, output model, hyperparameters, noise,
            CV, model selection, optimum and its support.
        """
        return {
            "format": FORMAT,
            "dataset": self.dataset.name,
            "sha256": dict(self.dataset.sha256),
            "settings": {
                "max_fit_points": self.max_fit_points,
                "n_folds": self.n_folds,
                "min_r2": self.min_r2,
                "rng": self.rng,
            },
            "model": self.transform_.to_dict(),
            "theta": [float(t) for t in self.theta_],
            "noise": {
                "sd": self.noise_sd,
                "source": self.noise_source,
                "n_replicate_groups": self.n_replicate_groups,
                "gp_noise_sd": self.gp_noise_sd_,
            },
            "cv": self.cv_.to_dict(),
            "selection": None if self.selection_ is None else self.selection_.to_dict(),
            "optimum": {
                "value": self.optimal_value,
                "optimizers": np.asarray(self.optimizers).tolist(),
                "support": self.support_.to_dict(),
            },
            "n": self.dataset.n,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the build to ``path`` (JSON; parent folders created). Returns the path.

        Parameters
        ----------
        path : str or path-like
            The JSON file (parent folders created).

        Returns
        -------
        pathlib.Path
        """
        return write_json(path, self.to_dict(), sort_keys=False)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, data_root: str | os.PathLike[str] | None = None
    ) -> Emulator:
        """Rebuild a saved emulator from its artifact and the dataset files.

        Artifacts written before model selection (no ``"model"`` field) load as
        ``identity``.

        Parameters
        ----------
        path : path
            A file written by :meth:`save`.
        data_root : path, optional
            Where the dataset is read from (``load_dataset``'s default resolution).

        Raises
        ------
        ValueError
            If the file is not an emulator artifact, if a dataset file's sha256 differs
            from the one the emulator was built from (the message names the file), or if
            the stored optimum no longer matches the model.
        """
        src = Path(path)
        try:
            state = json.loads(src.read_text(encoding="utf-8"))
            fmt, name = state["format"], state["dataset"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{str(src)!r} is not an emulator artifact: {exc!r}.") from exc
        if fmt != FORMAT:
            raise ValueError(f"{str(src)!r} has format {fmt!r}; this ardlib reads {FORMAT!r}.")
        ds = load_dataset(name, data_root)
        for fname, digest in state["sha256"].items():
            if ds.sha256.get(fname) != digest:
                raise ValueError(
                    f"Dataset file {ds.root / name / fname} changed since the emulator "
                    f"{str(src)!r} was built: sha256 {ds.sha256.get(fname)} != stored "
                    f"{digest}. Rebuild the emulator (build_emulators)."
                )
        settings = state["settings"]
        self = cls(
            ds,
            theta=state["theta"],
            cv=CVResult(**state["cv"]),
            optimizer=state["optimum"]["optimizers"],
            max_fit_points=settings["max_fit_points"],
            n_folds=settings["n_folds"],
            min_r2=settings["min_r2"],
            rng=settings["rng"],
            transform=OutputTransform.from_dict(state.get("model")),
            selection=(
                ModelSelection.from_dict(state["selection"]) if state.get("selection") else None
            ),
        )
        stored, value = float(state["optimum"]["value"]), float(self.optimal_value or 0.0)
        if not abs(value - stored) <= _OPTIMUM_RTOL * abs(stored):
            raise ValueError(
                f"Emulator artifact {str(src)!r}: stored optimum {stored!r} but the model gives "
                f"{value!r} there; rebuild the emulator (build_emulators)."
            )
        return self

    def __repr__(self) -> str:
        return f"Emulator({self.dataset.name!r}, n={self.dataset.n}, dim={self.dim})"


def _check_candidates(candidates: Sequence[str], owner: str) -> list[str]:
    out = list(candidates)
    if not out or out[0] != "identity" or len(set(out)) < len(out) or set(out) - set(CANDIDATES):
        raise ValueError(
            f"The 'candidates' parameter of {owner} must list distinct output models of "
            f"{list(CANDIDATES)}, 'identity' first. Got {out!r}."
        )
    return out


class SimplexEmulator(Objective):
    """A mixture emulator seen from the box ``[0, 1]^(d-1)``, for box-bounded planners.

    ``u`` maps to the mixture ``x = box_to_simplex(u)`` by uniform stick breaking:
    ``v_i = 1 - (1 - u_i)^(1/(d-i))``, ``x_i = v_i prod_{j<i} (1 - v_j)``,
    ``x_d = prod_j (1 - v_j)`` (so ``x >= 0``, ``sum(x) = 1``, and uniform ``u`` gives
    uniform mixtures).  Values, goal, noise and name are the wrapped emulator's.

    Parameters
    ----------
    emulator : Emulator
        An emulator with ``simplex`` True.

    Attributes
    ----------
    emulator : Emulator
    optimizers : ndarray of shape (1, d-1)
        The emulator's optimizer in box coordinates.
    noise_sd : float
    """

    def __init__(self, emulator: Emulator) -> None:
        if not getattr(emulator, "simplex", False):
            raise ValueError(
                "The 'emulator' parameter of SimplexEmulator must be an Emulator of mixture "
                f"data (simplex=True). Got {emulator!r}."
            )
        self.emulator = emulator
        self._set_box(np.tile([0.0, 1.0], (emulator.dim - 1, 1)))
        self.goal = emulator.goal
        self.noise_sd = emulator.noise_sd
        self.reference = (
            f"{emulator.reference}; mixture parametrized by uniform stick breaking of "
            f"[0, 1]^{self.dim}"
        )
        assert emulator.optimizers is not None
        self.optimizers = frozen(simplex_to_box(np.asarray(emulator.optimizers)))
        self.optimal_value = float(self.evaluate_true(self.optimizers)[0])

    @property
    def name(self) -> str:  # type: ignore[override]
        """Registry name, the wrapped emulator's."""
        return self.emulator.name

    def to_simplex(self, U: ArrayLike) -> Array:
        """Mixtures (n, d) of box points ``U`` (n, d-1).

        Parameters
        ----------
        U : array-like of shape (n, d-1)
            Box points.

        Returns
        -------
        ndarray of shape (n, d)
        """
        return box_to_simplex(check_points(U, self.bounds, name="U", owner=type(self).__name__))

    def from_simplex(self, X: ArrayLike) -> Array:
        """Box points (n, d-1) of mixtures ``X`` (n, d); inverse of :meth:`to_simplex`.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Mixtures.

        Returns
        -------
        ndarray of shape (n, d-1)
        """
        pts = check_points(X, self.emulator.bounds, owner=f"{type(self).__name__}.from_simplex")
        return simplex_to_box(pts)

    def noise_model(self) -> GaussianNoise:
        """The wrapped emulator's measurement noise.

        Returns
        -------
        GaussianNoise
        """
        return self.emulator.noise_model()

    def _evaluate(self, X: Array) -> Array:
        return self.emulator.evaluate_true(box_to_simplex(X))

    def __repr__(self) -> str:
        return f"SimplexEmulator({self.emulator!r})"
