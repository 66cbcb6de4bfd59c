"""The API's JSON shapes (pydantic): request bodies, records and listing envelopes.

Request bodies are strict: unknown fields, NUL characters, NaN/infinity, naive timestamps
and out-of-range numbers are refused with 422 naming the field, so nothing reaches the
database that one of the backends would reject or alter.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

__all__ = [
    "MAX_ID",
    "AIQuery",
    "AIQueryList",
    "CostAnalysis",
    "ErrorBody",
    "Experiment",
    "ExperimentCreate",
    "ExperimentList",
    "Health",
    "ModelCost",
    "OptimizationRun",
    "OptimizationRunCreate",
    "OptimizationRunList",
    "ReasoningQuery",
    "Status",
]

MAX_ID = 2**53 - 1  # exact in a double: safe for JavaScript clients and JSON schemas
_MAX_DEPTH = 32

Status = Literal["pending", "running", "completed", "failed"]
Goal = Literal["minimize", "maximize"]


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


def _check_json(value: Any, depth: int = 0) -> Any:
    """Refuse what JSON columns cannot hold: NaN/inf, NUL characters, deep nesting."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"must not nest deeper than {_MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must hold only finite numbers (no NaN or infinity)")
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_text(k)
            _check_json(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_json(v, depth + 1)
    return value


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema counts them (``3`` or ``3.0``), never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer")
        return int(value)
    return value


def _iso_text(value: Any) -> Any:
    """Timestamps arrive as ISO 8601 strings (or datetimes in Python), never as numbers."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string with a UTC offset")
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


# Numbers and strings are strict (no "1" -> 1 or true -> 1 coercion); FastAPI validates
# bodies in Python mode after JSON decoding, so model-wide strict mode would refuse
# ISO 8601 timestamps, which stay lax.
Text = Annotated[str, Field(strict=True), AfterValidator(_check_text)]
Name = Annotated[str, Field(strict=True, min_length=1, max_length=255), AfterValidator(_check_text)]
Method = Annotated[
    str,
    Field(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$"),
]
JSONObject = Annotated[dict[str, Any], AfterValidator(_check_json)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_to_utc)]
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
# Field before BeforeValidator: the other order loses the bounds from the JSON schema.
RecordId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_integer)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("end_time", check_fields=False)
    @classmethod
    def _end_after_start(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start_time")
        if end is not None and start is not None and end < start:
            raise ValueError("must not precede start_time")
        return end


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ExperimentCreate(_Request):
    """Body of ``POST /api/experiments``.

    ``method`` defaults to the run's method when ``optimization_run_id`` is given.
    """

    optimization_run_id: RecordId | None = None
    method: Method | None = None
    parameters: JSONObject
    context: JSONObject | None = None
    noise_estimate: Annotated[FiniteFloat, Field(ge=0)] | None = None
    results: JSONObject | None = None
    status: Status = "pending"
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    error_message: Annotated[Text, Field(max_length=10_000)] | None = None
    created_by: Name | None = None


class Experiment(_Record):
    """An experiment as stored and listed."""

    id: int
    optimization_run_id: int | None
    method: str | None
    parameters: dict[str, Any]
    context: dict[str, Any] | None
    noise_estimate: float | None
    results: dict[str, Any] | None
    status: Status
    start_time: datetime | None
    end_time: datetime | None
    error_message: str | None
    created_by: str | None
    created_at: datetime


class ExperimentList(BaseModel):
    """``GET /api/experiments``: newest first; ``count`` is the number returned."""

    experiments: list[Experiment]
    count: int


class OptimizationRunCreate(_Request):
    """Body of ``POST /api/optimization_runs``."""

    name: Name | None = None
    method: Method
    objective: Name | None = None
    goal: Goal = "minimize"
    parameter_space: JSONObject | None = None
    config: JSONObject | None = None
    status: Status = "pending"
    budget: Annotated[int, Field(ge=1, le=1_000_000_000), BeforeValidator(_json_integer)] | None = (
        None
    )
    best_value: FiniteFloat | None = None
    best_parameters: JSONObject | None = None
    results: JSONObject | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    error_message: Annotated[Text, Field(max_length=10_000)] | None = None
    created_by: Name | None = None


class OptimizationRun(_Record):
    """An optimization run as stored and listed.

    ``results`` of runs written by ``ardlib service seed-demo`` hold ``convergence``: a
    list of ``{"step", "best_observed", "best_true", "regret"}`` (best-so-far traces).
    """

    id: int
    name: str | None
    method: str
    objective: str | None
    goal: Goal
    parameter_space: dict[str, Any] | None
    config: dict[str, Any] | None
    status: Status
    budget: int | None
    best_value: float | None
    best_parameters: dict[str, Any] | None
    results: dict[str, Any] | None
    start_time: datetime | None
    end_time: datetime | None
    error_message: str | None
    created_by: str | None
    created_at: datetime


class OptimizationRunList(BaseModel):
    """``GET /api/optimization_runs``: newest first; ``count`` is the number returned."""

    optimization_runs: list[OptimizationRun]
    count: int


class AIQuery(_Record):
    """A logged reasoning query."""

    id: int
    query: str
    context: dict[str, Any] | None
    selected_model: str
    latency_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    trace_id: str | None
    created_by: str | None
    created_at: datetime


class ModelCost(BaseModel):
    """Cost and latency of one model's queries."""

    selected_model: str
    query_count: int
    total_cost_usd: float
    average_latency_ms: float


class CostAnalysis(BaseModel):
    """Totals over every query matching the filters (not only the ``limit`` returned)."""

    query_count: int
    total_cost_usd: float
    average_cost_per_query: float
    total_input_tokens: int
    total_output_tokens: int
    by_model: list[ModelCost]


class AIQueryList(BaseModel):
    """``GET /api/ai_queries``; ``cost_analysis`` is null unless requested."""

    ai_queries: list[AIQuery]
    count: int
    cost_analysis: CostAnalysis | None = None


class ReasoningQuery(BaseModel):
    """Body of ``POST /api/reasoning/query``; see :mod:`ardlib.service._reasoning` for the
    ``context`` keys the planner reads (other keys are kept in the log and ignored)."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[Text, Field(min_length=1, max_length=20_000)]
    context: JSONObject | None = None
    created_by: Name | None = None


class Health(BaseModel):
    """``GET /health``."""

    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unavailable"]
    database_backend: str


class ErrorBody(BaseModel):
    """Every error response: a message and a stable machine-readable code."""

    error: str
    code: str
    detail: list[dict[str, Any]] | None = None
