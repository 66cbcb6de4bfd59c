"""Describe the parts of a study as hashable, JSON-able specs, and hash them.

A spec is a small frozen value that says how to *build* a live object in any process:
:class:`ProblemSpec` (an objective), :class:`PlannerSpec` (a planner) and :class:`NoiseSpec`
(a noise/failure model).  Each has a canonical JSON form (sorted keys, no NaN) that is the
only thing hashed, so equal specs hash equally across processes, machines and sessions.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._io import canonical_json
from .._rng import RNGLike
from ..objectives._base import Objective
from ..objectives._noise_base import NoiseModel
from ..planners._base import Planner

__all__ = ["NoiseSpec", "PlannerSpec", "ProblemSpec"]

_RESERVED_PLANNER_PARAMS = ("bounds", "goal", "rng")


def _json_copy(value: object, name: str, owner: str) -> Any:
    """A JSON round-trip copy of ``value`` (tuples become lists), or a clear error."""
    try:
        return json.loads(canonical_json(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The '{name}' parameter of {owner} must be JSON-able (dicts with str keys, "
            f"lists, str, int, finite float, bool, None). Got {value!r}: {exc}"
        ) from exc


def _check_name(value: object, name: str, owner: str) -> str:
    """``value`` if it is a non-empty str, else a ValueError naming the parameter."""
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"The '{name}' parameter of {owner} must be a non-empty str. Got {value!r}."
        )
    return value


def object_path(obj: object) -> str:
    """Importable dotted path of a module-level class or function.

    The shortest already-imported package that exposes the same object is preferred, so
    ``RandomSearch`` maps to ``"ardlib.planners.RandomSearch"`` rather than its private module.

    Raises
    ------
    ValueError
        For lambdas, locally defined objects, or objects without a module.
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise ValueError(
            f"{obj!r} must be defined at module level (not a lambda or a local object) so "
            "that worker processes can import it; pass its dotted path instead."
        )
    parts = module.split(".")
    for i in range(1, len(parts)):
        prefix = sys.modules.get(".".join(parts[:i]))
        if prefix is not None and "." not in qualname and getattr(prefix, qualname, None) is obj:
            return f"{'.'.join(parts[:i])}.{qualname}"
    return f"{module}.{qualname}"


def resolve_path(path: str) -> Any:
    """Import and return the object at a dotted path such as ``"ardlib.planners.Sobol"``.

    Raises
    ------
    ImportError
        If no prefix of ``path`` is an importable module holding the rest as attributes.
    """
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        mod_name = ".".join(parts[:i])
        try:
            obj: Any = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (mod_name + ".").startswith(exc.name + "."):
                continue
            raise
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ImportError(f"Cannot import {path!r}: no module in its prefix defines the rest.")


def _objectives_function(name: str, who: str) -> Callable[..., Any]:
    """``ardlib.objectives.<name>``, imported at call time (it is written separately)."""
    fn = getattr(importlib.import_module("ardlib.objectives"), name, None)
    if fn is None:
        raise ImportError(
            f"{who} needs ardlib.objectives.{name}, which is not available in this version; "
            "pass a factory (problems) or a NoiseModel instance (noise) instead."
        )
    return fn


@dataclass(frozen=True, eq=False)
class ProblemSpec:
    """How to build a benchmark problem, by registry name or by factory.

    Parameters
    ----------
    name : str
        Registry name passed to ``ardlib.objectives.get_problem`` (imported when the problem
        is built, not before); with ``factory``, a free label for the problem.
    kwargs : dict, optional
        JSON-able keyword arguments for ``get_problem`` (or ``factory``), stored as their
        JSON round trip (tuples become lists), which is exactly what is hashed and passed.
    factory : callable or str, optional
        A module-level callable (or its dotted path) returning an
        :class:`~ardlib.objectives.Objective` when called with ``**kwargs``; for custom
        objectives that are not registered.

    Attributes
    ----------
    key : str
        The problem's identity in results and seeds: ``name``, or ``"name(k=v, ...)"`` with
        the kwargs in sorted order, e.g. ``"ackley(dim=5)"``.

    Raises
    ------
    ValueError
        If ``name`` is empty, ``kwargs`` is not JSON-able, or ``factory`` is neither a
        dotted path nor a module-level callable.

    Notes
    -----
    Equality and hashing use :meth:`to_json`: a factory given as a callable or as its
    dotted path is the same spec.  The factory's source code is not hashed; change
    ``name`` when you change what a custom factory builds.
    """

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    factory: Callable[..., Objective] | str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "name", "ProblemSpec")
        kwargs = _json_copy(dict(self.kwargs or {}), "kwargs", "ProblemSpec")
        object.__setattr__(self, "kwargs", kwargs)
        if self.factory is not None and not isinstance(self.factory, str):
            if not callable(self.factory):
                raise ValueError(
                    "The 'factory' parameter of ProblemSpec must be a callable or a dotted "
                    f"path. Got {self.factory!r}."
                )
            object_path(self.factory)  # fail early for lambdas and local functions

    @property
    def key(self) -> str:
        """Identity used in results and in cell seeds."""
        if not self.kwargs:
            return self.name
        args = ", ".join(f"{k}={canonical_json(v)}" for k, v in sorted(self.kwargs.items()))
        return f"{self.name}({args})"

    def to_json(self) -> dict[str, Any]:
        """JSON-able description that determines the problem.

        Returns
        -------
        dict
        """
        f = self.factory
        path = f if isinstance(f, str) or f is None else object_path(f)
        return {"name": self.name, "kwargs": self.kwargs, "factory": path}

    def build(self) -> Objective:
        """Build the objective (imports the registry or the factory lazily).

        Returns
        -------
        Objective

        Raises
        ------
        TypeError
            If the registry or factory returns something other than an Objective.
        """
        if self.factory is None:
            get_problem = _objectives_function("get_problem", f"ProblemSpec({self.name!r})")
            problem = get_problem(self.name, **self.kwargs)
        else:
            make = resolve_path(self.factory) if isinstance(self.factory, str) else self.factory
            problem = make(**self.kwargs)
        if not isinstance(problem, Objective):
            raise TypeError(
                f"ProblemSpec({self.key!r}) built a {type(problem).__name__}, not an Objective."
            )
        return problem

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProblemSpec) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_json()))


@dataclass(frozen=True, eq=False)
class PlannerSpec:
    """How to build a planner for a campaign: a name, a class and its settings.

    Parameters
    ----------
    name : str
        Label of the planner in results, e.g. ``"random"``; unique within a study.
    cls : type or str
        A :class:`~ardlib.planners.Planner` subclass or its dotted path, e.g.
        ``"ardlib.planners.RandomSearch"`` (imported when the planner is built).
    params : dict, optional
        JSON-able keyword settings for the constructor; ``bounds``, ``goal`` and ``rng`` are
        supplied by the campaign and may not appear here.

    Raises
    ------
    ValueError
        If ``name`` is empty, ``cls`` is neither a dotted path nor a module-level Planner
        subclass, or ``params`` is not JSON-able or sets ``bounds``, ``goal`` or ``rng``.

    Notes
    -----
    Equality and hashing use :meth:`to_json`; a class and its dotted path are the same
    spec.  The planner's source code is not hashed (``ardlib.__version__`` is, in studies).
    """

    name: str
    cls: type[Planner] | str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_name(self.name, "name", "PlannerSpec")
        if not isinstance(self.cls, str):
            if not (isinstance(self.cls, type) and issubclass(self.cls, Planner)):
                raise ValueError(
                    "The 'cls' parameter of PlannerSpec must be a Planner subclass or its "
                    f"dotted path. Got {self.cls!r}."
                )
            object_path(self.cls)
        params = _json_copy(dict(self.params or {}), "params", "PlannerSpec")
        bad = sorted(set(params) & set(_RESERVED_PLANNER_PARAMS))
        if bad:
            raise ValueError(
                "The 'params' parameter of PlannerSpec must not set "
                f"{', '.join(map(repr, bad))}: the campaign supplies bounds, goal and rng."
            )
        object.__setattr__(self, "params", params)

    def to_json(self) -> dict[str, Any]:
        """JSON-able description that determines the planner.

        Returns
        -------
        dict
        """
        path = self.cls if isinstance(self.cls, str) else object_path(self.cls)
        return {"name": self.name, "cls": path, "params": self.params}

    def build(self, *, bounds: Any, goal: str, rng: RNGLike) -> Planner:
        """A fresh planner for a campaign on a box ``bounds`` of shape (d, 2).

        Parameters
        ----------
        bounds : array-like of shape (d, 2)
            The problem's box.
        goal : {"minimize", "maximize"}
            The problem's goal.
        rng : int or Generator
            The planner's seed.

        Returns
        -------
        Planner

        Raises
        ------
        TypeError
            If ``cls`` does not resolve to a Planner subclass.
        """
        cls = resolve_path(self.cls) if isinstance(self.cls, str) else self.cls
        if not (isinstance(cls, type) and issubclass(cls, Planner)):
            raise TypeError(f"PlannerSpec({self.name!r}): {self.cls!r} is not a Planner subclass.")
        return cls(bounds=bounds, goal=goal, rng=rng, **self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlannerSpec) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_json()))


@dataclass(frozen=True, eq=False)
class NoiseSpec:
    """A labelled noise/failure model: a :class:`~ardlib.objectives.NoiseModel`, its spec
    dictionary, or None for noise-free measurements.

    Parameters
    ----------
    label : str
        Name of the noise setting in results and cell seeds, e.g. ``"gauss-0.1"``.
    model : NoiseModel, dict or None, default None
        A model (carried to workers by pickling), or a ``model.spec()`` dictionary rebuilt
        with ``ardlib.objectives.noise_from_spec`` when needed, or None (no noise).

    Raises
    ------
    ValueError
        If ``label`` is empty, or ``model`` is not a NoiseModel, a JSON-able dict or None.

    Notes
    -----
    The hash uses ``model.spec()``: a model whose ``spec()`` omits a setting that changes
    its output would make two different models hash alike.
    """

    label: str
    model: NoiseModel | Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        _check_name(self.label, "label", "NoiseSpec")
        if isinstance(self.model, Mapping):
            object.__setattr__(self, "model", _json_copy(dict(self.model), "model", "NoiseSpec"))
        elif self.model is not None and not isinstance(self.model, NoiseModel):
            raise ValueError(
                "The 'model' parameter of NoiseSpec must be a NoiseModel, a spec dict or None. "
                f"Got {self.model!r}."
            )
        else:
            self.to_json()  # fail early if model.spec() is not JSON-able

    def to_json(self) -> dict[str, Any]:
        """JSON-able description that determines the noise model.

        Returns
        -------
        dict
        """
        m = self.model
        spec = m.spec() if isinstance(m, NoiseModel) else m
        return {"label": self.label, "model": _json_copy(spec, "model", "NoiseSpec")}

    def build(self) -> NoiseModel | None:
        """The noise model (None for noise-free measurements).

        Returns
        -------
        NoiseModel or None

        Raises
        ------
        TypeError
            If ``noise_from_spec`` returns something other than a NoiseModel.
        """
        if self.model is None or isinstance(self.model, NoiseModel):
            return self.model
        noise_from_spec = _objectives_function("noise_from_spec", f"NoiseSpec({self.label!r})")
        model = noise_from_spec(dict(self.model))
        if not isinstance(model, NoiseModel):
            raise TypeError(f"noise_from_spec returned {type(model).__name__}, not a NoiseModel.")
        return model

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoiseSpec) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_json()))
