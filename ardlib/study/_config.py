"""Build studies from plain configuration (a ``params.yaml`` section), for the pipeline.

One configuration maps study names to grids::

    branin:
      problems: [branin]                     # registry names, or {name: ..., kwargs: {...}}
      planners: [random, sobol, gpbo]        # presets (PLANNER_PRESETS) or full entries
      noises:                                # label -> noise spec (ardlib.objectives spec dict)
        sd0: null
        sd0.5: {model: GaussianNoise, sd: 0.5}
      replicates: 30
      budget: 100
      master_seed: 20261126

A planner entry may be a preset name or ``{name, cls, params}``.  Noise magnitudes may be
given relative to a problem's own scale with ``relative_to: noise_sd`` (the replicate noise
an emulator learned from its lab data): every ``sd``, ``floor_sd`` and ``rate`` in the spec
is then multiplied by that scale *before* hashing, so the stored study records the absolute
values it used.  Such a study must have a single problem.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .._validation import check_int
from ._specs import NoiseSpec, PlannerSpec, ProblemSpec
from ._study import Study

__all__ = ["PLANNER_PRESETS", "studies_from_config", "study_from_config"]

PLANNER_PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("ardlib.planners.RandomSearch", {}),
    "sobol": ("ardlib.planners.Sobol", {}),
    "lhs": ("ardlib.planners.LatinHypercube", {}),
    "gpbo": ("ardlib.planners.BayesianOptimization", {}),
    "gpbo_ucb": ("ardlib.planners.BayesianOptimization", {"acquisition": "ucb"}),
    "gpbo_noisy": ("ardlib.planners.BayesianOptimization", {"acquisition": "noisy_ei"}),
}
"""Planner names usable in configurations, with their class path and settings."""

_SCALED_KEYS = ("sd", "floor_sd", "rate")
_KEYS = {"problems", "planners", "noises", "replicates", "budget", "master_seed", "batch_size"}


def _problem(entry: Any) -> ProblemSpec:
    if isinstance(entry, str):
        return ProblemSpec(entry)
    if isinstance(entry, Mapping) and "name" in entry:
        return ProblemSpec(entry["name"], dict(entry.get("kwargs", {})))
    raise ValueError(
        f"A 'problems' entry must be a registry name or {{name, kwargs}}. Got {entry!r}."
    )


def _planner(entry: Any) -> PlannerSpec:
    if isinstance(entry, str):
        if entry not in PLANNER_PRESETS:
            raise ValueError(
                f"Unknown planner preset {entry!r}; presets: {', '.join(PLANNER_PRESETS)} "
                "(or give {name, cls, params})."
            )
        cls, params = PLANNER_PRESETS[entry]
        return PlannerSpec(entry, cls, params)
    if isinstance(entry, Mapping) and {"name", "cls"} <= set(entry):
        return PlannerSpec(entry["name"], entry["cls"], dict(entry.get("params", {})))
    raise ValueError(
        f"A 'planners' entry must be a preset name or {{name, cls, params}}. Got {entry!r}."
    )


def _scaled(spec: Any, scale: float) -> Any:
    """A copy of a noise spec dict with every magnitude multiplied by ``scale``."""
    if isinstance(spec, Mapping):
        return {
            k: (
                v * scale if k in _SCALED_KEYS and isinstance(v, int | float) else _scaled(v, scale)
            )
            for k, v in spec.items()
        }
    if isinstance(spec, list):
        return [_scaled(v, scale) for v in spec]
    return spec


def _noises(entries: Any, problems: list[ProblemSpec], study: str) -> list[NoiseSpec]:
    if not isinstance(entries, Mapping) or not entries:
        raise ValueError(f"Study {study!r}: 'noises' must be a non-empty mapping label -> spec.")
    out = []
    for label, raw in entries.items():
        spec = raw
        if isinstance(raw, Mapping) and "relative_to" in raw:
            rel = raw["relative_to"]
            spec = {k: copy.deepcopy(v) for k, v in raw.items() if k != "relative_to"}
            if len(problems) != 1:
                raise ValueError(
                    f"Study {study!r}: noise {label!r} is relative_to {rel!r}, which needs "
                    f"exactly one problem. Got {len(problems)}."
                )
            scale = getattr(problems[0].build(), str(rel), None)
            if not isinstance(scale, int | float) or not scale > 0:
                raise ValueError(
                    f"Study {study!r}: problem {problems[0].key!r} has no positive "
                    f"{rel!r} attribute to scale noise {label!r} by."
                )
            spec = _scaled(spec, float(scale))
        out.append(NoiseSpec(str(label), spec))
    return out


def study_from_config(name: str, cfg: Mapping[str, Any]) -> Study:
    """Build the :class:`Study` described by one configuration entry.

    Parameters
    ----------
    name : str
        The study's name (its entry in the section).
    cfg : mapping
        ``problems``, ``planners``, ``noises``, ``replicates``, ``budget``, ``master_seed``.

    Returns
    -------
    Study

    Raises
    ------
    ValueError
        Naming the study and the offending key when the entry is malformed.
    """
    unknown = set(cfg) - _KEYS
    if unknown:
        raise ValueError(
            f"Study {name!r}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(_KEYS)}."
        )
    missing = {"problems", "planners", "noises", "replicates", "budget", "master_seed"} - set(cfg)
    if missing:
        raise ValueError(f"Study {name!r}: missing key(s) {sorted(missing)}.")
    problems = [_problem(p) for p in cfg["problems"]]
    return Study(
        problems=problems,
        planners=[_planner(p) for p in cfg["planners"]],
        noises=_noises(cfg["noises"], problems, name),
        replicates=check_int(cfg["replicates"], "replicates", owner=f"study {name!r}", low=1),
        budget=check_int(cfg["budget"], "budget", owner=f"study {name!r}", low=1),
        master_seed=check_int(cfg["master_seed"], "master_seed", owner=f"study {name!r}", low=0),
        batch_size=check_int(
            cfg.get("batch_size", 1), "batch_size", owner=f"study {name!r}", low=1
        ),
    )


def studies_from_config(cfg: Mapping[str, Any]) -> dict[str, Study]:
    """Every study of a configuration section, by name (in the section's order).

    Parameters
    ----------
    cfg : mapping
        Study name -> entry (see :func:`study_from_config`).

    Returns
    -------
    dict
        Name -> Study.

    Raises
    ------
    ValueError
        If ``cfg`` is not a non-empty mapping.
    """
    if not isinstance(cfg, Mapping) or not cfg:
        raise ValueError("A studies configuration must be a non-empty mapping name -> study.")
    return {str(k): study_from_config(str(k), v) for k, v in cfg.items()}
