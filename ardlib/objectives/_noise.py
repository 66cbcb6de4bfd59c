"""Noise and failure models: explicitly seeded, composable measurement error.

Every model is a :class:`~ardlib.objectives.NoiseModel`: ``observe(objective, X, step=,
rng=)`` builds the noise-free :class:`~ardlib.objectives.Observation` and ``transform``
turns it into what a lab would report.  Models compose left to right with
:class:`Compose`; the usual order is input noise, then output noise and drift, then
failures: ``Compose(InputNoise(sd=0.02), GaussianNoise(sd=0.1), FailureModel(prob=0.05))``.

Guarantees
----------
- **Explicit seeding.** A model draws only from the Generator it is given (never from
  NumPy's global state), so the same seed gives a byte-identical Observation.
- **Draws do not depend on values.** Each model draws a fixed number of variates, in a fixed
  order, whatever the values of ``y`` and ``X``: standard variates are drawn first and then
  scaled.  Two planners evaluating different points with generators in the same state (the
  study engine's common random numbers) get the same standardised draws.
- **Immutability.** ``transform`` never writes into the Observation it receives.
- **Failures are sticky.** Failed experiments have ``y = NaN`` after every model; a model
  applied after a failure keeps it failed with its first ``reason``.
- **Composition is prefix-stable.** :class:`Compose` gives model ``i`` its own child
  generator, which depends only on the parent's state and ``i``: appending a model never
  changes the draws of the models before it.
- **Round trip.** ``noise_from_spec(model.spec())`` rebuilds an equal model (same ``spec``,
  same output for the same seed); ``spec()`` is JSON-able.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_choice, check_int, check_real
from ._base import Objective
from ._noise_base import NoiseModel, Observation

__all__ = [
    "Compose",
    "DriftNoise",
    "FailureModel",
    "GaussianNoise",
    "HeteroscedasticNoise",
    "InputNoise",
    "NoNoise",
    "OutlierNoise",
    "noise_from_spec",
]

Region: TypeAlias = (
    Callable[[NDArray[np.float64]], ArrayLike] | Mapping[str, Any] | Sequence[Mapping[str, Any]]
)

#: Largest step index a random-walk drift accepts (the path up to it is held in memory).
_MAX_WALK_STEP = 10_000_000


def _children(rng: np.random.Generator, k: int) -> list[np.random.Generator]:
    """``k`` independent generators; child ``i`` depends only on ``rng``'s state and ``i``.

    Draws exactly four 63-bit integers from ``rng`` (whatever ``k``) as the entropy of a
    :class:`numpy.random.SeedSequence` and spawns ``k`` children from it.
    """
    entropy = rng.integers(0, 2**63, size=4, dtype=np.int64)
    seq = np.random.SeedSequence([int(e) for e in entropy])
    return [np.random.default_rng(child) for child in seq.spawn(k)]


def _measured(obs: Observation, y: NDArray[np.float64], **changes: object) -> Observation:
    """A copy of ``obs`` with new measurements ``y``; failed experiments keep ``y = NaN``."""
    return obs.with_(y=np.where(obs.failed, np.nan, y), **changes)


class _Model(NoiseModel):
    """Shared plumbing: settings validated on construction and again on use, and a repr."""

    def _check(self) -> dict[str, Any]:
        """Validated, normalised settings; raises ValueError naming the bad one."""
        return {}

    def _real(self, name: str, **limits: Any) -> float:
        return check_real(getattr(self, name), name, owner=type(self).__name__, **limits)

    def _store(self) -> None:
        vars(self).update(self._check())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class _SdModel(_Model):
    """A model with one setting, a standard deviation ``sd >= 0``."""

    def __init__(self, *, sd: float) -> None:
        self.sd = sd
        self._store()

    def _check(self) -> dict[str, Any]:
        return {"sd": self._real("sd", low=0.0)}


class NoNoise(_Model):
    """Exact measurements: ``y_obs = y``.  Draws nothing from ``rng``."""

    def __init__(self) -> None:
        pass

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        return obs


class GaussianNoise(_SdModel):
    """Additive homoscedastic Gaussian measurement noise.

    ``y_obs = y + sd * Z`` with ``Z ~ N(0, 1)`` iid per experiment, i.e. the error is
    ``N(0, sd**2)``.

    Parameters
    ----------
    sd : float >= 0
        Standard deviation of the error, in units of the objective.

    Notes
    -----
    Draws ``n`` standard normals (one per row, in row order) from ``rng``, then scales them.
    """

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        sd = self._check()["sd"]
        z = rng.standard_normal(obs.y.shape[0])
        return _measured(obs, obs.y + sd * z)


class HeteroscedasticNoise(_Model):
    """Gaussian noise whose standard deviation grows with the magnitude of the signal.

    ``y_obs = y + s(y) * Z`` with ``Z ~ N(0, 1)`` iid per experiment and

    ``s(y) = sqrt(floor_sd**2 + (relative_sd * |y|)**2)``,

    i.e. a relative (multiplicative-like) error of ``relative_sd * |y|`` added in quadrature
    to an absolute floor ``floor_sd``.  ``y`` is the value this model receives (the true
    value at ``X_actual``, plus whatever earlier models in a :class:`Compose` added).

    Parameters
    ----------
    relative_sd : float >= 0
        Standard deviation per unit of ``|y|`` (0.05 means 5 % of the signal).
    floor_sd : float >= 0, default 0.0
        Absolute standard deviation that remains where ``y`` is 0.

    Notes
    -----
    Draws ``n`` standard normals from ``rng`` and scales each by its own ``s(y_i)``; the
    draws do not depend on ``y``.
    """

    def __init__(self, *, relative_sd: float, floor_sd: float = 0.0) -> None:
        self.relative_sd = relative_sd
        self.floor_sd = floor_sd
        self._store()

    def _check(self) -> dict[str, Any]:
        return {
            "relative_sd": self._real("relative_sd", low=0.0),
            "floor_sd": self._real("floor_sd", low=0.0),
        }

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        s = self._check()
        z = rng.standard_normal(obs.y.shape[0])
        scale = np.hypot(s["floor_sd"], s["relative_sd"] * np.abs(obs.y))
        return _measured(obs, obs.y + scale * z)


class OutlierNoise(_Model):
    """Heavy-tailed noise (scaled Student t) plus occasional gross outliers.

    ``y_obs = y + sd * T + B * outlier_scale * sd * Z``, independently per experiment, with
    ``T ~ t(df)`` (Student t with ``df`` degrees of freedom), ``B ~ Bernoulli(outlier_prob)``
    and ``Z ~ N(0, 1)``, all independent.

    ``sd`` is the *scale* of the t error, not its standard deviation: ``sd * T`` has
    standard deviation ``sd * sqrt(df / (df - 2))`` for ``df > 2`` and infinite variance
    for ``df <= 2``.  An outlier adds an extra ``N(0, (outlier_scale * sd)**2)`` error.

    Parameters
    ----------
    sd : float >= 0
        Scale of the Student-t error.
    df : float > 0, default 3.0
        Degrees of freedom; smaller is heavier-tailed (``df = 1`` is Cauchy).
    outlier_prob : float in [0, 1], default 0.0
        Probability that an experiment is a gross outlier.
    outlier_scale : float >= 0, default 10.0
        Standard deviation of the outlier error, in units of ``sd``.

    Notes
    -----
    Draws, in this order, ``n`` standard t variates, ``n`` uniforms (outlier indicators
    ``B = U < outlier_prob``) and ``n`` standard normals, whatever the settings' values.
    """

    def __init__(
        self,
        *,
        sd: float,
        df: float = 3.0,
        outlier_prob: float = 0.0,
        outlier_scale: float = 10.0,
    ) -> None:
        self.sd = sd
        self.df = df
        self.outlier_prob = outlier_prob
        self.outlier_scale = outlier_scale
        self._store()

    def _check(self) -> dict[str, Any]:
        return {
            "sd": self._real("sd", low=0.0),
            "df": self._real("df", low=0.0, low_inclusive=False),
            "outlier_prob": self._real("outlier_prob", low=0.0, high=1.0),
            "outlier_scale": self._real("outlier_scale", low=0.0),
        }

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        s = self._check()
        n = obs.y.shape[0]
        t = rng.standard_t(s["df"], size=n)
        is_outlier = rng.random(n) < s["outlier_prob"]
        z = rng.standard_normal(n)
        error = s["sd"] * t + np.where(is_outlier, s["outlier_scale"] * s["sd"] * z, 0.0)
        return _measured(obs, obs.y + error)


class DriftNoise(_Model):
    """Slow drift of the instrument over a campaign, driven by the step index.

    ``y_obs = y + offset(step)`` where

    - ``kind="linear"``: ``offset(t) = rate * t`` (deterministic; draws nothing);
    - ``kind="random_walk"``: ``offset(t) = rate * (Z_0 + ... + Z_{t-1})`` with
      ``Z_k ~ N(0, 1)`` iid, so ``offset(0) = 0`` and ``offset(t) ~ N(0, t * rate**2)``.

    Parameters
    ----------
    rate : float
        Drift per step (linear; any sign) or standard deviation of one step's increment
        (random walk; must be >= 0).
    kind : {"linear", "random_walk"}, default "linear"

    Notes
    -----
    The random walk is one path per generator state: the model draws four integers from
    ``rng`` to seed a child generator and reads ``Z_0, Z_1, ...`` from it in order.  So for a
    given ``rng`` state the offset is a fixed function of the step index alone: observing
    steps ``[0, 1, ..., 9]`` in one call, one at a time (each call given a generator in that
    same state), or in any order and batching gives the same offset for each step.

    The path comes from ``rng`` and nothing else (two random walks composed draw two
    independent paths).  Coherence across separate calls therefore requires a generator in
    the same state at every call; a different generator per call -- as a study gives each
    batch its own noise stream -- gives the correct marginal ``N(0, t * rate**2)`` at each
    step but from independent paths.  Observe a whole campaign's steps in one call for one
    coherent walk.  Steps must lie in
    ``[0, 10_000_000]``; the path up to the largest step is generated, so the cost is
    linear in that step.
    """

    def __init__(self, *, rate: float, kind: str = "linear") -> None:
        self.rate = rate
        self.kind = kind
        self._store()

    def _check(self) -> dict[str, Any]:
        kind = check_choice(self.kind, "kind", ("linear", "random_walk"), owner="DriftNoise")
        low = 0.0 if kind == "random_walk" else None
        return {"rate": self._real("rate", low=low), "kind": kind}

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        s = self._check()
        if s["kind"] == "linear":
            offset = s["rate"] * obs.step.astype(float)
        else:
            offset = s["rate"] * _walk(rng, obs.step)
        return _measured(obs, obs.y + offset)


def _walk(rng: np.random.Generator, steps: NDArray[np.int64]) -> NDArray[np.float64]:
    """Standard random-walk path ``W(t) = Z_0 + ... + Z_{t-1}`` read at ``steps``."""
    if steps.size and (steps.min() < 0 or steps.max() > _MAX_WALK_STEP):
        bad = int(steps.min()) if steps.min() < 0 else int(steps.max())
        raise ValueError(
            "The 'step' parameter of DriftNoise(kind='random_walk') must hold ints in "
            f"[0, {_MAX_WALK_STEP}]. Got {bad}."
        )
    child = _children(rng, 1)[0]
    top = int(steps.max()) if steps.size else 0
    path = np.concatenate([[0.0], np.cumsum(child.standard_normal(top))])
    return np.asarray(path[steps], dtype=float)


class InputNoise(_SdModel):
    """Actuation noise: the experiment runs near, not at, the requested point.

    ``X_actual = clip(X_in + sd * w * Z, low, high)`` per dimension, with ``Z ~ N(0, 1)``
    iid per entry, ``w = high - low`` the bound width of that dimension and ``X_in`` the
    incoming ``X_actual`` (the requested ``X`` when this model comes first).  Clipping to
    the bounds puts a point mass on the faces of the box.

    The measurement is re-evaluated where the experiment ran:
    ``y_obs = objective.evaluate_true(X_actual) + e`` where ``e = y_in - f(X_in)`` is any
    measurement error earlier models already added (0 when this model comes first, which is
    the recommended order).  ``y_true`` stays the truth at the requested ``X``.

    Parameters
    ----------
    sd : float >= 0
        Standard deviation of the actuation error as a fraction of each bound width.

    Notes
    -----
    Draws an ``(n, d)`` array of standard normals from ``rng`` (row-major), then scales.
    """

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        sd = self._check()["sd"]
        low, high = objective.bounds[:, 0], objective.bounds[:, 1]
        z = rng.standard_normal(obs.X_actual.shape)
        x_actual = np.clip(obs.X_actual + sd * (high - low) * z, low, high)
        if np.array_equal(obs.X_actual, obs.X):
            before = obs.y_true
        else:
            before = objective.evaluate_true(obs.X_actual)
        y = objective.evaluate_true(x_actual) + (obs.y - before)
        return _measured(obs, y, X_actual=x_actual)


class FailureModel(_Model):
    """Failed experiments: random failures and regions where experiments always fail.

    Experiment ``i`` fails if ``U_i < prob`` (``U_i ~ Uniform[0, 1)`` iid) or if its
    ``X_actual`` (where it actually ran) lies in ``region``.  A failed experiment reports
    ``y = NaN``, ``failed = True`` and ``reason``.  Experiments that had already failed stay
    failed and keep their first reason.

    Parameters
    ----------
    prob : float in [0, 1], default 0.0
        Probability that any single experiment fails.
    region : None, callable, dict or list of dicts, default None
        Points that always fail:

        - a callable ``region(X_actual) -> ndarray of bool, shape (n,)`` given the
          ``(n, d)`` points (a copy);
        - ``{"dim": j, "above": v}``: fails where ``X_actual[:, j] > v``;
        - ``{"dim": j, "below": v}``: fails where ``X_actual[:, j] < v``;
        - a list of such dicts: fails where any of them does.

        For :meth:`spec` a callable must be a module-level function of an importable
        module (recorded as ``{"callable": "module:qualname"}``); lambdas, nested functions
        and functions defined in ``__main__`` are refused because two of them could not be
        told apart in a study hash.
    reason : str, default "failed"
        Recorded in ``Observation.reason`` for experiments this model fails.

    Notes
    -----
    Draws ``n`` uniforms from ``rng`` whatever ``prob`` and ``region``.
    """

    def __init__(
        self, *, prob: float = 0.0, region: Region | None = None, reason: str = "failed"
    ) -> None:
        self.prob = prob
        self.region = region
        self.reason = reason
        self._store()

    def _check(self) -> dict[str, Any]:
        if not isinstance(self.reason, str):
            raise ValueError(
                f"The 'reason' parameter of FailureModel must be a str. Got {self.reason!r}."
            )
        return {
            "prob": self._real("prob", low=0.0, high=1.0),
            "region": _check_region(self.region),
            "reason": self.reason,
        }

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        s = self._check()
        new = rng.random(obs.y.shape[0]) < s["prob"]
        if s["region"] is not None:
            new |= _region_mask(s["region"], obs.X_actual)
        new &= ~obs.failed
        failed = obs.failed | new
        reason = tuple(s["reason"] if f else r for f, r in zip(new, obs.reason, strict=True))
        return obs.with_(y=np.where(failed, np.nan, obs.y), failed=failed, reason=reason)

    def spec(self) -> dict[str, object]:
        """JSON-able description; a callable region is recorded by its import path.

        Returns
        -------
        dict
            As :meth:`NoiseModel.spec`, ``region`` as a dotted path when callable.
        """
        out = super().spec()
        if callable(self.region):
            out["region"] = {"callable": _callable_path(self.region)}
        return out


_REGION_HELP = (
    "None, a callable X_actual -> bool array of shape (n,), a dict {'dim': j, 'above': v} "
    "or {'dim': j, 'below': v}, or a non-empty list of such dicts"
)


def _check_region(region: object) -> object:
    if region is None or callable(region):
        return region
    if isinstance(region, Mapping):
        return _check_rule(region)
    if isinstance(region, list | tuple) and region and all(isinstance(r, Mapping) for r in region):
        return tuple(_check_rule(r) for r in region)
    raise ValueError(
        f"The 'region' parameter of FailureModel must be {_REGION_HELP}. Got {region!r}."
    )


def _check_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    keys = set(rule)
    if keys not in ({"dim", "above"}, {"dim", "below"}):
        raise ValueError(
            f"The 'region' parameter of FailureModel must be {_REGION_HELP}. "
            f"Got a dict with keys {sorted(map(str, keys))}."
        )
    side = "above" if "above" in keys else "below"
    return {
        "dim": check_int(rule["dim"], "region['dim']", owner="FailureModel", low=0),
        side: check_real(rule[side], f"region[{side!r}]", owner="FailureModel"),
    }


def _region_mask(region: Any, X: NDArray[np.float64]) -> NDArray[np.bool_]:
    n, d = X.shape
    if callable(region):
        mask = np.asarray(region(X.copy()))
        if mask.shape != (n,) or mask.dtype != np.bool_:
            raise ValueError(
                "The 'region' callable of FailureModel must return a bool array of shape "
                f"({n},). Got dtype {mask.dtype} and shape {mask.shape}."
            )
        return mask
    mask = np.zeros(n, dtype=bool)
    for rule in (region,) if isinstance(region, Mapping) else region:
        j = rule["dim"]
        if j >= d:
            raise ValueError(
                f"The 'region' parameter of FailureModel refers to dim {j}, but the "
                f"objective has {d} dimension(s) (dims 0..{d - 1})."
            )
        mask |= X[:, j] > rule["above"] if "above" in rule else X[:, j] < rule["below"]
    return mask


def _callable_path(func: Callable[..., object]) -> str:
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    path = f"{module}:{qualname}"
    named = bool(module and qualname) and "<" not in str(qualname) and module != "__main__"
    if not named or _resolve_callable(path, check=False) is not func:
        raise ValueError(
            "FailureModel.spec() needs a region that can be named: a dict spec, a list of "
            "dict specs, or a module-level function of an importable module. Got "
            f"{func!r}, which has no stable import path."
        )
    return path


def _resolve_callable(path: str, *, check: bool = True) -> object:
    module, _, qualname = path.partition(":")
    try:
        obj: object = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        if not check:
            return None
        raise ValueError(
            f"The region callable {path!r} in a FailureModel spec cannot be imported."
        ) from exc
    if check and not callable(obj):
        raise ValueError(f"The region {path!r} in a FailureModel spec is not callable.")
    return obj


class Compose(_Model):
    """Apply several models in turn, left to right, each with its own generator.

    ``Compose(A, B, C).transform(obj, obs, rng)`` is ``C(B(A(obs)))`` where model ``i``
    draws from child generator ``i``.  The children come from a
    :class:`numpy.random.SeedSequence` whose entropy is four integers drawn from ``rng``,
    spawned in order, so child ``i`` depends only on ``rng``'s state and ``i``: appending a
    model does not change the draws of the earlier ones, and a model's draws do not depend
    on how many variates the models before it consumed.

    Parameters
    ----------
    *models : NoiseModel
        The models, applied first to last.  Put :class:`InputNoise` first and
        :class:`FailureModel` last.  ``Compose()`` reports exact values.

    Examples
    --------
    >>> lab = Compose(InputNoise(sd=0.01), GaussianNoise(sd=0.1), FailureModel(prob=0.05))
    """

    def __init__(self, *models: NoiseModel) -> None:
        self.models = tuple(models)
        self._store()

    def _check(self) -> dict[str, Any]:
        for i, model in enumerate(self.models):
            if not isinstance(model, NoiseModel):
                raise ValueError(
                    "The 'models' parameter of Compose must hold only NoiseModel instances. "
                    f"Got {type(model).__name__} at position {i}."
                )
        return {"models": tuple(self.models)}

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        models = self._check()["models"]
        for model, child in zip(models, _children(rng, len(models)), strict=True):
            obs = model.transform(objective, obs, child)
        return obs

    def __repr__(self) -> str:
        return f"Compose({', '.join(map(repr, self.models))})"


_MODELS: dict[str, type[_Model]] = {
    cls.__name__: cls
    for cls in (
        NoNoise,
        GaussianNoise,
        HeteroscedasticNoise,
        OutlierNoise,
        DriftNoise,
        InputNoise,
        FailureModel,
        Compose,
    )
}


def noise_from_spec(spec: Mapping[str, Any]) -> NoiseModel:
    """Rebuild a model from :meth:`NoiseModel.spec` (e.g. after a JSON round trip).

    Parameters
    ----------
    spec : dict
        ``{"model": <class name>, <setting>: <value>, ...}``; a :class:`Compose` holds
        ``{"models": [spec, ...]}``.  A FailureModel region recorded as
        ``{"callable": "module:qualname"}`` is imported (which runs that module's import).

    Returns
    -------
    NoiseModel
        A model with the same ``spec()``, giving the same output for the same seed.

    Raises
    ------
    ValueError
        If the spec names an unknown model, lacks or adds settings, or holds bad values.
    """
    name = spec.get("model") if isinstance(spec, Mapping) else None
    if not isinstance(name, str) or name not in _MODELS:
        raise ValueError(
            "The 'spec' parameter of noise_from_spec must be a dict whose 'model' key is one "
            f"of {', '.join(map(repr, _MODELS))}. Got {spec!r}."
        )
    settings = {k: v for k, v in spec.items() if k != "model"}
    if name == "Compose":
        _check_keys(name, settings, required=set(), allowed={"models"})
        models = settings.get("models", [])
        if not isinstance(models, list | tuple):
            raise ValueError(
                f"The 'models' setting of a Compose spec must be a list of specs. Got {models!r}."
            )
        return Compose(*(noise_from_spec(m) for m in models))
    params = inspect.signature(_MODELS[name]).parameters.values()
    _check_keys(
        name,
        settings,
        required={p.name for p in params if p.default is inspect.Parameter.empty},
        allowed={p.name for p in params},
    )
    region = settings.get("region")
    if isinstance(region, Mapping) and set(region) == {"callable"}:
        settings["region"] = _resolve_callable(str(region["callable"]))
    return _MODELS[name](**settings)


def _check_keys(
    name: str, settings: Mapping[str, Any], *, required: set[str], allowed: set[str]
) -> None:
    missing, unknown = required - set(settings), set(settings) - allowed
    if missing or unknown:
        raise ValueError(
            f"The 'spec' parameter of noise_from_spec has bad settings for {name}: "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}; expected {sorted(allowed)}."
        )
