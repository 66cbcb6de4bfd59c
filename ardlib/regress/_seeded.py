"""Seeded single campaigns: record their outcome, rerun them and compare.

A seeded campaign is deterministic: the same code on the same machine reproduces it bit
for bit (the validation report's reproducibility check).  The baseline keeps the full
specification (problem, planner class and settings, noise, budget, seed), so a check
reruns exactly what was recorded, and its outcome: the final recommended true value, the
trajectory (every evaluated point and its true value) and a SHA-256 of that trajectory
rounded to ``seeded_hash_digits`` (8) significant digits.

Tolerance: ``seeded_rtol`` (1e-6).  Another machine may link another BLAS (OpenBLAS, MKL,
Accelerate) or pick other CPU kernels; dot products then sum in another order and the GP's
Cholesky factors, likelihoods and gradients differ by ~1e-15 relative.  The L-BFGS
hyperparameter fits and acquisition ascents stop on tolerances of their own (~1e-8 to
1e-6), so a campaign that makes the same decisions reproduces its points and values to
well within 1e-6 (relative to the box width for points, to ``max(|y|, 1)`` for values),
while a change to the algorithm moves them by orders of magnitude more.  The hash is the
fast path: equal hashes pass at once; unequal hashes (a value rounded across a digit
boundary) fall back to the tolerance.  Should a near-tie between two candidate points flip
on another machine, the trajectory diverges from that step on and the check says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..study import PLANNER_PRESETS, NoiseSpec, PlannerSpec, ProblemSpec, run_campaign
from ._baseline import json_float
from ._report import make_row

__all__ = [
    "DEFAULT_SEEDED_RUNS",
    "HASH_DIGITS",
    "SEEDED_RTOL",
    "SeededRun",
    "compare_seeded",
    "record_seeded",
    "trajectory_sha256",
]

#: Relative tolerance of seeded-campaign points and values (see the module notes).
SEEDED_RTOL = 1e-6

#: Significant digits the trajectory is rounded to before hashing.
HASH_DIGITS = 8


@dataclass(frozen=True)
class SeededRun:
    """A seeded campaign whose outcome a baseline pins.

    Parameters
    ----------
    name : str
        Label in the baseline and the verdict table, e.g. ``"gpbo-branin"``.
    problem : str
        Registry name of the problem.
    planner : str, default "gpbo"
        A planner preset (:data:`ardlib.study.PLANNER_PRESETS`); the baseline stores its
        class and settings, so a later change to the preset shows up as a regression.
    budget : int, default 20
        Evaluations.
    seed : int, default 20261126
        The campaign's cell seed (``rng`` of :func:`ardlib.study.run_campaign`).
    noise : dict, optional
        A noise spec such as ``{"model": "GaussianNoise", "sd": 0.1}``; None measures the
        true values.
    """

    name: str
    problem: str
    planner: str = "gpbo"
    budget: int = 20
    seed: int = 20261126
    noise: Mapping[str, Any] | None = field(default=None)

    def spec(self) -> dict[str, Any]:
        """The JSON-able specification the baseline stores and a check reruns.

        Returns
        -------
        dict
            Problem, planner settings, budget and seed.

        Raises
        ------
        ValueError
            If ``planner`` is not a preset name.
        """
        if self.planner not in PLANNER_PRESETS:
            raise ValueError(
                f"The 'planner' parameter of SeededRun must be one of "
                f"{', '.join(map(repr, PLANNER_PRESETS))}. Got {self.planner!r}."
            )
        cls, params = PLANNER_PRESETS[self.planner]
        return {
            "problem": self.problem,
            "planner": {"name": self.planner, "cls": cls, "params": dict(params)},
            "noise": None if self.noise is None else dict(self.noise),
            "budget": self.budget,
            "seed": self.seed,
        }


#: The seeded campaigns a baseline records by default: GP-BO (20 evaluations) on Branin
#: without noise and on Hartmann-6 with Gaussian noise (sd 0.1), about a second in all.
DEFAULT_SEEDED_RUNS: tuple[SeededRun, ...] = (
    SeededRun("gpbo-branin", "branin"),
    SeededRun("gpbo-hartmann6-noisy", "hartmann6", noise={"model": "GaussianNoise", "sd": 0.1}),
)


def trajectory_sha256(
    x: NDArray[np.float64], y: NDArray[np.float64], digits: int = HASH_DIGITS
) -> str:
    """SHA-256 of a trajectory rounded to ``digits`` significant digits.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Evaluated points.
    y : ndarray of shape (n,)
        Their true values (NaN allowed).
    digits : int
        Significant digits kept; ``-0.0`` is written as ``0.0``.

    Returns
    -------
    str
        Hex digest of one line per evaluation, ``x_1 ... x_d y`` in ``%.{digits-1}e``.
    """
    fmt = f".{digits - 1}e"
    rows = np.column_stack([x, y]) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = "\n".join(" ".join(format(v, fmt) for v in row) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _run(spec: Mapping[str, Any]) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Run a stored spec: (points (n, d), true values (n,), final recommended true value)."""
    p = spec["planner"]
    noise = None if spec["noise"] is None else NoiseSpec("seeded", spec["noise"])
    c = run_campaign(
        ProblemSpec(spec["problem"]),
        PlannerSpec(p["name"], p["cls"], p["params"]),
        spec["budget"],
        noise,
        rng=spec["seed"],
    )
    x = np.array(c.results["x"].tolist(), dtype=float)
    return x, c.results["y_true"].to_numpy(dtype=float), float(c.results["y_true_rec"].iloc[-1])


def record_seeded(runs: Iterable[SeededRun] = DEFAULT_SEEDED_RUNS) -> list[dict[str, Any]]:
    """Run each campaign and return its baseline entry.

    Parameters
    ----------
    runs : iterable of SeededRun

    Returns
    -------
    list of dict
        ``name``, ``spec``, ``final_y_true_rec``, ``trajectory`` (``x``, ``y_true``) and
        ``trajectory_sha256``.
    """
    out = []
    for run in runs:
        spec = run.spec()
        x, y, final = _run(spec)
        out.append(
            {
                "name": run.name,
                "spec": spec,
                "final_y_true_rec": json_float(final),
                "trajectory": {"x": x.tolist(), "y_true": [json_float(v) for v in y]},
                "trajectory_sha256": trajectory_sha256(x, y, HASH_DIGITS),
            }
        )
    return out


def _deviation(a: NDArray[np.float64], b: NDArray[np.float64], scale: Any) -> NDArray[np.float64]:
    """Per-row max of |a - b| / scale, NaN-aware (NaN == NaN counts as equal)."""
    same_nan = np.isnan(a) & np.isnan(b)
    dev = np.where(same_nan, 0.0, np.abs(a - b) / scale)
    dev = np.where(np.isnan(dev), np.inf, dev)
    return np.asarray(dev.reshape(dev.shape[0], -1).max(axis=1))


def _trajectory_row(
    name: str, entry: Mapping[str, Any], x: NDArray[np.float64], y: NDArray[np.float64], tol: Any
) -> dict[str, Any]:
    rtol, digits = float(tol["seeded_rtol"]), int(tol["seeded_hash_digits"])
    label = f"{name}: trajectory"
    digest = trajectory_sha256(x, y, digits)
    if digest == entry["trajectory_sha256"]:
        detail = f"sha256 {digest[:12]} matches ({digits} significant digits)"
        return make_row("seeded", label, "pass", detail, tolerance=rtol)
    bx = np.asarray(entry["trajectory"]["x"], dtype=float)
    by = np.asarray([np.nan if v is None else v for v in entry["trajectory"]["y_true"]])
    if bx.shape != x.shape:
        detail = f"shape was {bx.shape}, now {x.shape}"
        return make_row("seeded", label, "regressed", detail, tolerance=rtol)
    bounds = np.asarray(ProblemSpec(entry["spec"]["problem"]).build().bounds)
    dev = np.maximum(
        _deviation(x, bx, bounds[:, 1] - bounds[:, 0]),
        _deviation(y, by, np.maximum(np.abs(by), 1.0)),
    )
    worst = float(dev.max()) if dev.size else 0.0
    if worst <= rtol:
        detail = f"sha256 differs (rounding) but max relative deviation {worst:.2g} <= {rtol:g}"
        return make_row("seeded", label, "pass", detail, tolerance=rtol)
    step = int(np.argmax(dev > rtol))
    detail = f"differs from step {step} on (relative deviation {dev[step]:.3g} > {rtol:g})"
    return make_row("seeded", label, "regressed", detail, tolerance=rtol)


def compare_seeded(
    entries: Iterable[Mapping[str, Any]], tolerances: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rerun every stored campaign; two verdict rows each (final value, trajectory).

    Parameters
    ----------
    entries : iterable of dict
        The baseline's ``seeded`` section.
    tolerances : dict
        With ``seeded_rtol`` and ``seeded_hash_digits``.
    """
    rtol = float(tolerances["seeded_rtol"])
    rows = []
    for entry in entries:
        name = str(entry["name"])
        try:
            x, y, final = _run(entry["spec"])
        except Exception as exc:  # any failure to rerun is a regression to report, not a crash
            detail = f"rerun raised {type(exc).__name__}: {exc}"
            rows.append(make_row("seeded", f"{name}: final y_true_rec", "regressed", detail))
            continue
        base = entry["final_y_true_rec"]
        base_f = np.nan if base is None else float(base)
        tol = rtol * max(abs(base_f), 1.0) if base is not None else 0.0
        same = (np.isnan(base_f) and np.isnan(final)) or abs(final - base_f) <= tol
        detail = "identical" if final == base_f else f"|diff| = {abs(final - base_f):.3g}"
        rows.append(
            make_row(
                "seeded",
                f"{name}: final y_true_rec",
                "pass" if same else "regressed",
                detail,
                baseline=base_f,
                current=final,
                tolerance=tol,
            )
        )
        rows.append(_trajectory_row(name, entry, x, y, tolerances))
    return rows
