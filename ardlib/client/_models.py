"""Typed results of the API: frozen dataclasses built from the service's JSON.

Each record class declares its fields once, as dataclass fields; their annotations give
each field's kind (:func:`field_kinds`), which drives parsing here and the DataFrame dtypes
in :mod:`._records`.  Fields the service adds beyond the declared ones are kept in
``extra``; declared fields the service omits are ``None``, except ``id``.  Timestamps
become timezone-aware datetimes (a timestamp without offset is taken as UTC).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

__all__ = [
    "AIQuery",
    "CostAnalysis",
    "Experiment",
    "Health",
    "OptimizationRun",
    "field_kinds",
]

R = TypeVar("R", bound="_Record")


def _as_id(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("an int or a string")
    return value


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a string")
    return value


def _as_int(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("an integer")
    return value


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("a number")
    return float(value)


def _as_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("an ISO 8601 timestamp string")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise TypeError("an ISO 8601 timestamp string") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _as_json(value: Any) -> Any:
    return value


#: Annotation (without ``| None``) -> kind; any other annotation is JSON kept as is.
_KIND_OF = {"int | str": "id", "str": "str", "int": "int", "float": "float", "datetime": "datetime"}
_FIELD_KINDS: dict[type, dict[str, str]] = {}  # record class -> field_kinds, filled on first use
_CONVERT = {
    "id": _as_id,
    "str": _as_str,
    "int": _as_int,
    "float": _as_float,
    "datetime": _as_datetime,
    "json": _as_json,
}


def field_kinds(model: type[_Record]) -> dict[str, str]:
    """Field name -> kind of a record class, in declaration order (``extra`` left out).

    Parameters
    ----------
    model : type
        A record class such as :class:`Experiment`.

    Returns
    -------
    dict of str to str
        ``"id"``, ``"str"``, ``"int"``, ``"float"``, ``"datetime"`` or ``"json"``.
    """
    kinds = _FIELD_KINDS.get(model)
    if kinds is None:
        kinds = _FIELD_KINDS[model] = {
            f.name: _KIND_OF.get(str(f.type).removesuffix(" | None"), "json")
            for f in dataclasses.fields(model)  # type: ignore[arg-type]
            if f.name != "extra"
        }
    return kinds


class _Record:
    """Shared parsing for the record classes (frozen dataclasses ending with ``extra``)."""

    _LABEL: ClassVar[str] = "record"
    extra: dict[str, Any]

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """Build the record from one JSON object of the API (raises ``ValueError``)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"each {cls._LABEL} must be a JSON object; got {data!r:.80}")
        kinds = field_kinds(cls)
        if "id" in kinds and data.get("id") is None:
            raise ValueError(f"{cls._LABEL} without an 'id': {dict(data)!r:.200}")
        values: dict[str, Any] = {}
        for name, kind in kinds.items():
            raw = data.get(name)
            try:
                values[name] = None if raw is None else _CONVERT[kind](raw)
            except TypeError as exc:
                raise ValueError(
                    f"field {name!r} of {cls._LABEL} {data.get('id', '')!r} must be {exc}; "
                    f"got {raw!r:.80}"
                ) from None
        values["extra"] = {k: v for k, v in data.items() if k not in kinds}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The declared fields and the ``extra`` ones in one flat dict (datetimes kept)."""
        out = {name: getattr(self, name) for name in field_kinds(type(self))}
        out.update(self.extra)
        return out


@dataclasses.dataclass(frozen=True)
class Experiment(_Record):
    """One experiment of ``GET /api/experiments``.

    ``parameters`` is the point evaluated (name -> value); ``status`` one of pending,
    running, completed, failed; the ``*_time``/``created_at`` fields are aware datetimes.
    Fields beyond the API's are kept in ``extra``.

    Attributes
    ----------
    id : int or str
    optimization_run_id : int or str or None
    method : str or None
    parameters : dict or None
    context, results : JSON values
    noise_estimate : float or None
    status : str or None
    start_time, end_time : datetime or None
    error_message : str or None
    created_by : str or None
        Author.
    created_at : datetime or None
        When stored (aware).
    extra : dict
        Fields beyond the declared ones.
    """

    _LABEL: ClassVar[str] = "experiment"

    id: int | str
    optimization_run_id: int | str | None = None
    method: str | None = None
    parameters: dict[str, Any] | None = None
    context: Any = None
    noise_estimate: float | None = None
    results: Any = None
    status: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    error_message: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class OptimizationRun(_Record):
    """One optimization run (campaign) of ``GET /api/optimization_runs``.

    ``method`` names the planner (bayesian_optimization, reinforcement_learning,
    adaptive_router, ...); ``results`` may hold a ``convergence`` trace.  Fields beyond
    these are kept in ``extra``.

    Attributes
    ----------
    id : int or str
    name, method, objective, goal, status : str or None
    parameter_space, config, best_parameters, results : JSON values
    budget : int or None
    best_value : float or None
    start_time, end_time : datetime or None
    error_message : str or None
    created_by : str or None
        Author.
    created_at : datetime or None
        When stored (aware).
    extra : dict
        Fields beyond the declared ones.
    """

    _LABEL: ClassVar[str] = "optimization run"

    id: int | str
    name: str | None = None
    method: str | None = None
    objective: str | None = None
    goal: str | None = None
    parameter_space: Any = None
    config: Any = None
    status: str | None = None
    budget: int | None = None
    best_value: float | None = None
    best_parameters: Any = None
    results: Any = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    error_message: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class AIQuery(_Record):
    """One logged reasoning query of ``GET /api/ai_queries`` (model, latency, tokens, cost).

    Attributes
    ----------
    id : int or str
    query : str or None
    context : JSON value
    selected_model : str or None
    latency_ms, cost_usd : float or None
    input_tokens, output_tokens : int or None
    trace_id : str or None
    created_by : str or None
        Author.
    created_at : datetime or None
        When stored (aware).
    extra : dict
        Fields beyond the declared ones.
    """

    _LABEL: ClassVar[str] = "AI query"

    id: int | str
    query: str | None = None
    context: Any = None
    selected_model: str | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    trace_id: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class CostAnalysis(_Record):
    """The ``cost_analysis`` member of ``GET /api/ai_queries`` (US dollars).

    Attributes
    ----------
    total_cost_usd, average_cost_per_query : float or None
    extra : dict
        Fields beyond the declared ones.
    """

    _LABEL: ClassVar[str] = "cost analysis"

    total_cost_usd: float | None = None
    average_cost_per_query: float | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Health(_Record):
    """The answer of ``GET /health``: ``status`` ("ok" when healthy), ``version`` and
    ``database`` (its state); ``ok`` is True when ``status == "ok"``.

    Attributes
    ----------
    status, version : str or None
    database : JSON value
    extra : dict
        Fields beyond the declared ones.
    """

    _LABEL: ClassVar[str] = "health answer"

    status: str | None = None
    version: str | None = None
    database: Any = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the service reports ``status == "ok"``."""
        return self.status == "ok"
