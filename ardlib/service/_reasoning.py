"""Answer reasoning queries with ardlib's planners instead of a language model.

The planner reads these keys of the query's ``context`` (others are ignored)::

    {
      "parameter_space": {
        "bounds": [[low, high], ...],          # one row per parameter, low < high, d <= 20
        "names": ["temperature", ...]          # optional, d distinct names (default x1..xd)
      },
      "observations": {                        # optional
        "X": [[x1, ..., xd], ...],             # n <= 500 points inside the bounds
        "y": [value or null, ...]              # n outcomes; null marks a failed experiment
      },
      "goal": "minimize" | "maximize",         # optional, default "minimize"
      "seed": 0                                # optional int >= 0: same inputs, same answer
    }

Without ``parameter_space`` the answer says what is needed.  With it, the preliminary
answer is a space-filling point (the scrambled-Sobol' candidate farthest from every
evaluated point, model ``ardlib-sobol``); the final answer is the suggestion of
:class:`~ardlib.planners.BayesianOptimization` told every observation (model
``ardlib-gpbo``), with the GP's predicted mean and standard deviation there and a
plain-language explanation, or a space-filling point while fewer than two experiments
succeeded.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from ..planners import BayesianOptimization, Sobol

__all__ = [
    "CONTEXT_EXAMPLE",
    "MAX_DIM",
    "MAX_OBSERVATIONS",
    "Answer",
    "ContextError",
    "Reasoner",
    "SearchProblem",
    "final_answer",
    "parse_context",
    "preliminary_answer",
]

MAX_DIM = 20
MAX_OBSERVATIONS = 500
MIN_SUCCESSES = 2
GUIDE, SOBOL, GPBO = "ardlib-guide", "ardlib-sobol", "ardlib-gpbo"
PRELIMINARY_CONFIDENCE = 0.1
CONTEXT_EXAMPLE: dict[str, Any] = {
    "parameter_space": {"bounds": [[20.0, 80.0], [0.5, 5.0]], "names": ["temperature", "time"]},
    "observations": {"X": [[25.0, 1.0], [60.0, 4.0]], "y": [0.42, None]},
    "goal": "maximize",
}
Array = NDArray[np.float64]


class ContextError(ValueError):
    """The query's context has a planner key of the wrong shape; the message names it."""


@dataclass(frozen=True)
class SearchProblem:
    """A parsed context: the box, the observations so far and the goal.

    Attributes
    ----------
    bounds : ndarray of shape (d, 2)
    names : tuple of str, length d
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
        NaN for failed experiments.
    goal : {"minimize", "maximize"}
    seed : int
    """

    bounds: Array
    names: tuple[str, ...]
    X: Array
    y: Array
    goal: str
    seed: int

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return int(self.bounds.shape[0])

    @property
    def n_success(self) -> int:
        """Number of successful observations."""
        return int(np.sum(~np.isnan(self.y)))

    def named(self, x: Array) -> dict[str, float]:
        """``{name: value}`` for a point of shape (d,)."""
        return {n: float(v) for n, v in zip(self.names, x, strict=True)}


@dataclass
class Answer:
    """One answer (preliminary or final) before it is wrapped into an event."""

    model: str
    content: str
    confidence: float
    is_preliminary: bool
    details: dict[str, Any] = field(default_factory=dict)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(space: object) -> tuple[Array, tuple[str, ...]]:
    if not isinstance(space, Mapping):
        raise ContextError(
            "context.parameter_space must be an object with 'bounds' ([[low, high], ...]) and "
            f"optional 'names'. Got {_short(space)}."
        )
    rows = space.get("bounds")
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_DIM:
        raise ContextError(
            f"context.parameter_space.bounds must be a list of 1 to {MAX_DIM} [low, high] "
            f"pairs. Got {_short(rows)}."
        )
    for i, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 2 and all(map(_number, row))):
            raise ContextError(
                f"context.parameter_space.bounds[{i}] must be a pair [low, high] of finite "
                f"numbers. Got {_short(row)}."
            )
        if not row[0] < row[1] or not math.isfinite(float(row[1]) - float(row[0])):
            raise ContextError(
                f"context.parameter_space.bounds[{i}] must have low < high. Got {_short(row)}."
            )
    d = len(rows)
    names = space.get("names")
    if names is None:
        return np.array(rows, dtype=float), tuple(f"x{i + 1}" for i in range(d))
    if (
        not isinstance(names, list)
        or len(names) != d
        or not all(isinstance(n, str) and n for n in names)
        or len(set(names)) != d
    ):
        raise ContextError(
            f"context.parameter_space.names must be a list of {d} distinct non-empty strings "
            f"(one per bounds row). Got {_short(names)}."
        )
    return np.array(rows, dtype=float), tuple(names)


def _observations(obs: object, bounds: Array) -> tuple[Array, Array]:
    d = bounds.shape[0]
    if obs is None:
        return np.empty((0, d)), np.empty(0)
    if not isinstance(obs, Mapping):
        raise ContextError(
            f"context.observations must be an object {{'X': [[...], ...], 'y': [...]}}. "
            f"Got {_short(obs)}."
        )
    X, y = obs.get("X", []), obs.get("y", [])
    if not isinstance(X, list) or len(X) > MAX_OBSERVATIONS:
        raise ContextError(
            f"context.observations.X must be a list of at most {MAX_OBSERVATIONS} points. "
            f"Got {_short(X)}."
        )
    if not isinstance(y, list) or len(y) != len(X):
        raise ContextError(
            f"context.observations.y must be a list of {len(X)} values (one per point in X; "
            f"null for a failed experiment). Got {_short(y)}."
        )
    lo, hi = bounds[:, 0], bounds[:, 1]
    for i, x in enumerate(X):
        ok = isinstance(x, list) and len(x) == d and all(map(_number, x))
        if not ok or not bool(np.all((np.asarray(x) >= lo) & (np.asarray(x) <= hi))):
            raise ContextError(
                f"context.observations.X[{i}] must be a list of {d} finite numbers inside "
                f"parameter_space.bounds. Got {_short(x)}."
            )
    for i, v in enumerate(y):
        if v is not None and not _number(v):
            raise ContextError(
                f"context.observations.y[{i}] must be a finite number or null (failed). "
                f"Got {_short(v)}."
            )
    Xa = np.array(X, dtype=float).reshape(len(X), d)
    ya = np.array([np.nan if v is None else float(v) for v in y], dtype=float)
    if ya.size and np.nanmax(np.abs(ya), initial=0.0) > 1e150:
        raise ContextError("context.observations.y must hold values of magnitude <= 1e150.")
    return Xa, ya


def parse_context(context: Mapping[str, Any] | None) -> SearchProblem | None:
    """The search problem a context describes, or None when it has no ``parameter_space``.

    Raises
    ------
    ContextError
        When a planner key is malformed; the message names it (``context.observations.X[3]``).
    """
    if not context or context.get("parameter_space") is None:
        return None
    bounds, names = _bounds(context["parameter_space"])
    X, y = _observations(context.get("observations"), bounds)
    goal = context.get("goal", "minimize")
    if goal not in ("minimize", "maximize"):
        raise ContextError(f"context.goal must be 'minimize' or 'maximize'. Got {_short(goal)}.")
    seed = context.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ContextError(f"context.seed must be an int in [0, 2**63). Got {_short(seed)}.")
    return SearchProblem(bounds, names, X, y, str(goal), int(seed))


def _fmt(problem: SearchProblem, x: Array) -> str:
    return ", ".join(f"{n} = {v:.4g}" for n, v in problem.named(x).items())


def _space_filling(problem: SearchProblem) -> Array:
    """The Sobol' candidate (of 256) farthest, in the unit cube, from every evaluated point."""
    lo, hi = problem.bounds[:, 0], problem.bounds[:, 1]
    U = Sobol(bounds=[[0.0, 1.0]] * problem.dim, rng=problem.seed).ask(256)
    if problem.X.shape[0]:
        seen = (problem.X - lo) / (hi - lo)
        gaps = np.min(np.linalg.norm(U[:, None, :] - seen[None, :, :], axis=2), axis=1)
        u = U[int(np.argmax(gaps))]
    else:
        u = U[0]
    return np.asarray(lo + u * (hi - lo), dtype=float)


def _needs() -> Answer:
    content = (
        "I can suggest the next experiment once the context describes the search: "
        "'parameter_space' with 'bounds' ([[low, high], ...], one pair per parameter) and "
        "optionally 'names'; 'observations' with 'X' (points tried) and 'y' (their outcomes, "
        "null for failed runs), at least 2 successful, for a model-based suggestion; and "
        "'goal' ('minimize' or 'maximize', default minimize)."
    )
    needs = ["context.parameter_space.bounds", "context.observations.X", "context.observations.y"]
    return Answer(GUIDE, content, 0.0, False, {"needs": needs, "context_example": CONTEXT_EXAMPLE})


def preliminary_answer(problem: SearchProblem | None) -> Answer:
    """The fast first answer: a space-filling point, or a note that no space was given."""
    if problem is None:
        return Answer(
            GUIDE,
            "No parameter space in the context; the final answer lists what I need.",
            0.0,
            True,
        )
    x = _space_filling(problem)
    content = (
        f"Preliminary suggestion (space-filling, no model yet): {_fmt(problem, x)}. "
        "It is the quasi-random candidate farthest from every experiment run so far; "
        "a model-based suggestion follows."
    )
    details = {"suggestion": {"x": x.tolist(), "parameters": problem.named(x), "method": "sobol"}}
    return Answer(SOBOL, content, PRELIMINARY_CONFIDENCE, True, details)


def _best(problem: SearchProblem) -> tuple[Array, float]:
    ok = ~np.isnan(problem.y)
    sign = 1.0 if problem.goal == "minimize" else -1.0
    i = int(np.argmin(np.where(ok, sign * problem.y, np.inf)))
    return problem.X[i], float(problem.y[i])


def _too_few(problem: SearchProblem) -> Answer:
    x = _space_filling(problem)
    k = problem.n_success
    content = (
        f"Next experiment: {_fmt(problem, x)}. With {k} successful observation"
        f"{'' if k == 1 else 's'} a Gaussian process cannot be fitted yet, so this is a "
        "space-filling point far from everything tried. Send at least "
        f"{MIN_SUCCESSES} successful observations (ideally {2 * problem.dim + 1} or more) "
        "for a model-based suggestion."
    )
    details = {
        "suggestion": {"x": x.tolist(), "parameters": problem.named(x), "method": "sobol"},
        "n_observations": int(problem.X.shape[0]),
        "n_successful": k,
    }
    return Answer(SOBOL, content, PRELIMINARY_CONFIDENCE, False, details)


def _gp_suggestion(problem: SearchProblem) -> dict[str, Any]:
    """Tell BayesianOptimization every observation and ask one point; GP prediction there."""
    bo = BayesianOptimization(
        bounds=problem.bounds, goal=problem.goal, rng=problem.seed, n_initial=1
    )
    bo.ask(1)  # consume the one-point initial design: the next ask is model-based
    bo.tell(problem.X, problem.y)
    x = bo.ask(1)[0]
    gp = bo.gp_
    if gp is None:  # pragma: no cover - ask fits the GP once two observations succeeded
        raise RuntimeError("BayesianOptimization did not fit its Gaussian process.")
    lo, hi = problem.bounds[:, 0], problem.bounds[:, 1]
    sign = 1.0 if problem.goal == "minimize" else -1.0
    post = gp.predict(((x - lo) / (hi - lo))[None, :])
    mean, std = sign * float(post.mean[0]), float(post.std[0])
    rec = bo.recommend()
    rec_mean = sign * float(gp.predict(((rec - lo) / (hi - lo))[None, :]).mean[0])
    return {"x": x, "mean": mean, "std": std, "rec": rec, "rec_mean": rec_mean}


def final_answer(problem: SearchProblem | None) -> Answer:
    """The final answer: GP-BO's suggestion with its prediction and an explanation.

    Confidence is ``1 / (1 + s / sd_y)``: near 1 when the predictive standard deviation
    ``s`` at the suggestion is small against the spread ``sd_y`` of the observed outcomes,
    0.5 when they are equal, near 0 for a purely exploratory point.
    """
    if problem is None:
        return _needs()
    if problem.n_success < MIN_SUCCESSES:
        return _too_few(problem)
    g = _gp_suggestion(problem)
    x, mean, std = g["x"], g["mean"], g["std"]
    best_x, best_y = _best(problem)
    ys = problem.y[~np.isnan(problem.y)]
    spread = float(np.std(ys)) or 1.0
    confidence = round(1.0 / (1.0 + std / spread), 3)
    gain = (best_y - mean) if problem.goal == "minimize" else (mean - best_y)
    z = gain / std if std > 0 else 0.0
    ei = float(gain * norm.cdf(z) + std * norm.pdf(z)) if std > 0 else max(gain, 0.0)
    n, n_failed = int(problem.X.shape[0]), int(problem.X.shape[0]) - problem.n_success
    word = "lower" if problem.goal == "minimize" else "higher"
    mood = (
        "The model is uncertain there, so the point also explores."
        if std > 0.5 * spread
        else "The model is fairly sure of this prediction, so the point mostly exploits."
    )
    content = (
        f"Next experiment: {_fmt(problem, x)}. A Gaussian process fitted to {n} observations"
        f"{f' ({n_failed} failed)' if n_failed else ''} predicts {mean:.4g} ± {std:.2g} "
        f"(mean ± one standard deviation) there; the best observed so far is {best_y:.4g} "
        f"at {_fmt(problem, best_x)}. The point maximizes the expected improvement "
        f"({ei:.3g}) over the best predicted value, trading a {word} predicted outcome "
        f"against uncertainty. {mood}"
    )
    details = {
        "suggestion": {
            "x": x.tolist(),
            "parameters": problem.named(x),
            "method": "bayesian_optimization",
            "acquisition": "log_ei",
            "predicted_mean": mean,
            "predicted_std": std,
            "expected_improvement": ei,
        },
        "best_observed": {"x": best_x.tolist(), "parameters": problem.named(best_x), "y": best_y},
        "recommended": {
            "x": g["rec"].tolist(),
            "parameters": problem.named(g["rec"]),
            "predicted_mean": g["rec_mean"],
        },
        "goal": problem.goal,
        "n_observations": n,
        "n_successful": problem.n_success,
    }
    return Answer(GPBO, content, confidence, False, details)


class Reasoner:
    """Computes answers one at a time (GP fits are CPU-bound and limit BLAS threads
    process-wide, so concurrent queries queue here rather than oversubscribe the CPU)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def final(self, problem: SearchProblem | None) -> Answer:
        """:func:`final_answer` under the lock."""
        with self._lock:
            return final_answer(problem)
