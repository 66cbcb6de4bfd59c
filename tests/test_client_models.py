"""Typed results, DataFrames with proper dtypes, and how calls map to requests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pandas as pd
import pytest

from ardlib.client import (
    AIQuery,
    Client,
    CostAnalysis,
    Experiment,
    Health,
    OptimizationRun,
    ProtocolError,
    Records,
)
from ardlib.client._models import field_kinds

EXPERIMENTS = [
    {
        "id": 2, "optimization_run_id": 1, "method": "bayesian_optimization",
        "parameters": {"temperature": 310.5, "solvent": "water", "flow": {"rate": 2}},
        "context": {"lab": "A"}, "noise_estimate": 0.1, "results": {"yield": 0.8},
        "status": "completed", "start_time": "2024-05-01T10:00:00Z",
        "end_time": "2024-05-01T11:30:00+02:00", "error_message": None,
        "created_by": "ana", "created_at": "2024-05-01T11:31:00.123456",
        "new_server_field": 7,
    },
    {
        "id": 1, "optimization_run_id": None, "method": None,
        "parameters": {"temperature": 300, "flow": {"rate": 1.5}},
        "context": None, "noise_estimate": None, "results": None, "status": "failed",
        "start_time": None, "end_time": None, "error_message": "pump jammed",
        "created_by": None, "created_at": "2024-04-30T09:00:00+00:00",
    },
]  # fmt: skip

TIMESTAMP = "datetime64[ns, UTC]"


def _json_client(payload: object, seen: list[httpx.Request] | None = None) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, json=payload)

    return Client("http://svc.test", transport=httpx.MockTransport(handler), rng=0)


def test_experiment_fields_are_typed_and_extra_fields_kept() -> None:
    records = _json_client({"experiments": EXPERIMENTS, "count": 2}).experiments()
    assert isinstance(records, Records) and isinstance(records, Sequence)
    assert len(records) == 2 and records.reported_count == 2
    first = records[0]
    assert isinstance(first, Experiment)
    assert first.parameters == EXPERIMENTS[0]["parameters"]
    assert first.start_time == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert first.end_time == datetime(2024, 5, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    # A timestamp without offset is taken as UTC: every timestamp is aware.
    assert first.created_at == datetime(2024, 5, 1, 11, 31, 0, 123456, tzinfo=UTC)
    assert first.extra == {"new_server_field": 7}
    assert records[1].error_message == "pump jammed" and records[1].method is None
    assert [e.id for e in records] == [2, 1] and list(records[:1]) == [first]


def test_to_frame_has_nullable_dtypes_and_utc_timestamps() -> None:
    df = _json_client({"experiments": EXPERIMENTS, "count": 2}).experiments().to_frame()
    assert list(df.columns[:13]) == list(field_kinds(Experiment))
    assert df["id"].dtype == "Int64" and df["optimization_run_id"].dtype == "Int64"
    assert df["noise_estimate"].dtype == "Float64"
    assert df["status"].dtype == "string" and df["method"].dtype == "string"
    for col in ("start_time", "end_time", "created_at"):
        assert str(df[col].dtype) == TIMESTAMP, col
    assert df["parameters"].dtype == object and isinstance(df["parameters"][0], dict)
    assert df["end_time"][0] == pd.Timestamp("2024-05-01T09:30:00Z")  # converted to UTC
    assert df["optimization_run_id"].isna().tolist() == [False, True]
    assert df["new_server_field"].dtype == "Int64"
    assert df["new_server_field"].isna().tolist() == [False, True]


def test_to_frame_flattens_parameters_into_typed_columns() -> None:
    df = (
        _json_client({"experiments": EXPERIMENTS, "count": 2})
        .experiments()
        .to_frame(flatten_parameters=True)
    )
    assert "parameters" not in df.columns
    assert df["parameters.temperature"].dtype == "Float64"  # 310.5 and 300
    assert df["parameters.temperature"].tolist() == [310.5, 300.0]
    assert df["parameters.solvent"].dtype == "string"
    assert df["parameters.solvent"].isna().tolist() == [False, True]
    assert df["parameters.flow.rate"].tolist() == [2.0, 1.5]
    # The flattened columns sit where ``parameters`` was.
    cols = list(df.columns)
    assert cols[cols.index("method") + 1].startswith("parameters.")


def test_integral_floats_stay_floats_and_ints_stay_ints() -> None:
    rows = [
        {"id": "a", "parameters": {"x": 1.0, "n": 3}, "created_at": "2024-01-01T00:00:00Z"},
        {"id": "b", "parameters": {"x": 2.0, "n": 4}, "created_at": "2024-01-02T00:00:00Z"},
    ]
    df = _json_client({"experiments": rows, "count": 2}).experiments().to_frame(True)
    assert df["parameters.x"].dtype == "Float64" and df["parameters.n"].dtype == "Int64"
    assert df["id"].dtype == "string"  # string ids


def test_empty_listing_gives_typed_empty_frame() -> None:
    df = _json_client({"ai_queries": [], "count": 0}).ai_queries().to_frame()
    assert len(df) == 0 and list(df.columns) == list(field_kinds(AIQuery))
    assert str(df["created_at"].dtype) == TIMESTAMP
    assert df["input_tokens"].dtype == "Int64" and df["cost_usd"].dtype == "Float64"


def test_ai_queries_carry_cost_analysis() -> None:
    payload = {
        "ai_queries": [
            {
                "id": 1, "query": "q", "context": None, "selected_model": "gp-bo",
                "latency_ms": 12.5, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0,
                "created_by": None, "created_at": "2024-01-01T00:00:00Z",
            }
        ],
        "count": 1,
        "cost_analysis": {"total_cost_usd": 0.5, "average_cost_per_query": 0.5, "by_model": []},
    }  # fmt: skip
    records = _json_client(payload).ai_queries()
    assert records.cost_analysis == CostAnalysis(0.5, 0.5, extra={"by_model": []})
    query = records[0]
    assert isinstance(query.cost_usd, float) and query.input_tokens == 0
    assert records.to_frame()["latency_ms"].dtype == "Float64"


def test_optimization_runs_and_health_are_typed() -> None:
    run = {"id": 3, "method": "bayesian_optimization", "status": "running", "budget": 30,
           "best_value": 0.4, "created_at": "2024-01-01T00:00:00Z"}  # fmt: skip
    runs = _json_client({"optimization_runs": [run], "count": 1}).optimization_runs()
    assert isinstance(runs[0], OptimizationRun) and runs[0].budget == 30
    assert runs.to_frame()["budget"].dtype == "Int64"
    health = _json_client({"status": "ok", "version": "1.2", "database": "ok", "x": 1}).health()
    assert health == Health("ok", "1.2", "ok", extra={"x": 1}) and health.ok


def test_filters_become_query_parameters() -> None:
    seen: list[httpx.Request] = []
    client = _json_client({"experiments": [], "optimization_runs": [], "ai_queries": [],
                           "count": 0}, seen)  # fmt: skip
    client.experiments(status="completed", optimization_run_id=3, created_by="ana", limit=5)
    client.experiments()
    client.optimization_runs(method="bayesian_optimization", status="failed")
    client.ai_queries(selected_model="gp-bo", include_cost_analysis=False, limit=7)
    assert [(r.method, r.url.path, dict(r.url.params)) for r in seen] == [
        ("GET", "/api/experiments",
         {"status": "completed", "optimization_run_id": "3", "created_by": "ana", "limit": "5"}),
        ("GET", "/api/experiments", {"limit": "100"}),
        ("GET", "/api/optimization_runs",
         {"status": "failed", "method": "bayesian_optimization", "limit": "50"}),
        ("GET", "/api/ai_queries",
         {"selected_model": "gp-bo", "limit": "7", "include_cost_analysis": "false"}),
    ]  # fmt: skip


def test_bad_limit_is_refused_before_any_request() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(
        ValueError, match=r"'limit' parameter of Client\.experiments must be an int"
    ):
        _json_client({}, seen).experiments(limit=0)
    assert seen == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"experiments": [{"id": 1, "created_at": "yesterday"}], "count": 1},
         "field 'created_at' of experiment 1 must be an ISO 8601 timestamp"),
        ({"experiments": [{"id": 1, "noise_estimate": "high"}], "count": 1},
         "field 'noise_estimate' of experiment 1 must be a number"),
        ({"experiments": [{"method": "x"}], "count": 1}, "experiment without an 'id'"),
        ({"experiments": {"id": 1}, "count": 1}, "expected 'experiments' to be a JSON array"),
        ([1, 2], "expected a JSON object with 'experiments'"),
    ],
)  # fmt: skip
def test_wrong_shapes_are_protocol_errors_naming_the_field(payload: object, message: str) -> None:
    with pytest.raises(ProtocolError, match=message) as info:
        _json_client(payload).experiments()
    assert "GET http://svc.test/api/experiments?limit=100; 1 attempt)" in str(info.value)


def test_api_key_is_sent_but_never_shown() -> None:
    seen: list[httpx.Request] = []
    client = Client(
        "http://svc.test",
        "s3cret",
        transport=httpx.MockTransport(
            lambda r: seen.append(r) or httpx.Response(200, json={"status": "ok"})
        ),
    )
    client.health()
    assert seen[0].headers["X-API-Key"] == "s3cret"
    assert "s3cret" not in repr(client) and client.has_api_key


def test_create_experiment_sends_given_fields_and_an_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx.Response(201, json={"id": 9, **body, "created_at": "2024-01-01T00:00:00Z"})

    client = Client("http://svc.test", transport=httpx.MockTransport(handler))
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    exp = client.create_experiment(parameters={"x": 0.5}, optimization_run_id=3, start_time=start)
    assert exp.id == 9 and exp.parameters == {"x": 0.5} and exp.start_time == start
    assert json.loads(seen[0].content) == {
        "parameters": {"x": 0.5},
        "optimization_run_id": 3,
        "start_time": "2024-01-01T12:00:00+00:00",
    }
    key = seen[0].headers["Idempotency-Key"]
    assert uuid.UUID(key).version == 4
    client.create_experiment(parameters={"x": 0.5})
    assert seen[1].headers["Idempotency-Key"] != key  # a fresh key per call
    client.create_optimization_run(method="random", idempotency_key="run-1")
    assert seen[2].headers["Idempotency-Key"] == "run-1"
    assert json.loads(seen[2].content) == {"method": "random"}


@pytest.mark.parametrize("url", ["svc.test", "ftp://svc.test", "http://", 3])
def test_bad_base_url_is_refused(url: object) -> None:
    with pytest.raises(ValueError, match="'base_url' parameter of Client must be an http"):
        Client(url)  # type: ignore[arg-type]
