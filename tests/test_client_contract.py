"""The client's models against the reference service's OpenAPI schema, its API contract.

For every endpoint the client calls, each field a client record reads is in the response
schema with a type the client parses, each query parameter the client sends is one the
endpoint declares, and each request body the client builds (every keyword given, and only
the required ones) is valid under the request schema. A field renamed on either side fails
here.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from ardlib.client import AIQuery, Client, CostAnalysis, Experiment, Health, OptimizationRun
from ardlib.client._models import field_kinds

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

pytest.importorskip("fastapi", reason="the service extra is not installed")

#: (method, path, record class, where the record is in the answer: a list key, or None)
RESPONSES = [
    ("get", "/health", Health, None),
    ("get", "/api/experiments", Experiment, "experiments"),
    ("get", "/api/optimization_runs", OptimizationRun, "optimization_runs"),
    ("get", "/api/ai_queries", AIQuery, "ai_queries"),
    ("get", "/api/ai_queries", CostAnalysis, "cost_analysis"),
    ("post", "/api/experiments", Experiment, None),
    ("post", "/api/optimization_runs", OptimizationRun, None),
]
#: JSON types the client accepts for each kind of field (None: any JSON value).
ACCEPTS: dict[str, set[str] | None] = {
    "id": {"integer", "string"},
    "str": {"string"},
    "int": {"integer"},
    "float": {"number", "integer"},
    "datetime": {"string"},
    "json": None,
}
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
#: Client method -> (path, a value for every keyword but idempotency_key, the required ones)
CREATES: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "create_experiment": (
        "/api/experiments",
        {
            "parameters": {"x": 0.5}, "method": "bayesian_optimization",
            "optimization_run_id": 1, "status": "completed", "context": {"lab": "A"},
            "noise_estimate": 0.1, "results": {"y": 1.0}, "start_time": T0, "end_time": T0,
            "error_message": "none", "created_by": "ana",
        },
        ("parameters",),
    ),
    "create_optimization_run": (
        "/api/optimization_runs",
        {
            "method": "bayesian_optimization", "name": "run", "objective": "branin",
            "goal": "minimize", "parameter_space": {"bounds": [[0, 1]]}, "config": {"k": 1},
            "status": "running", "budget": 30, "best_value": 0.4,
            "best_parameters": {"x": 0.5}, "results": {"convergence": []}, "start_time": T0,
            "end_time": T0, "error_message": "none", "created_by": "ana",
        },
        ("method",),
    ),
}  # fmt: skip
#: Listing method -> a value for every keyword
LISTINGS: dict[str, dict[str, Any]] = {
    "experiments": {"status": "failed", "optimization_run_id": 3, "created_by": "ana", "limit": 5},
    "optimization_runs": {"status": "failed", "method": "bo", "created_by": "ana", "limit": 5},
    "ai_queries": {
        "selected_model": "gp", "created_by": "ana", "limit": 5, "include_cost_analysis": False,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from ardlib.service import Settings, create_app

    db = tmp_path_factory.mktemp("contract") / "service.db"
    schema: dict[str, Any] = create_app(Settings(database_url=f"sqlite:///{db}")).openapi()
    return schema


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a ``$ref`` followed, and ``anyOf [X, null]`` reduced to ``X``."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    if len(options) == 1:
        schema = options[0]
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return _resolve(doc, doc["components"]["schemas"][name])
    return schema


def _json_types(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """The JSON types a value of ``schema`` may have, ``null`` left out."""
    options = schema.get("anyOf", [schema])
    return {_resolve(doc, s).get("type", "any") for s in options if s.get("type") != "null"}


def _record_schema(doc: dict[str, Any], method: str, path: str, key: str | None) -> Any:
    responses = doc["paths"][path][method]["responses"]
    ok = next(r for status, r in responses.items() if status.startswith("2"))
    schema = _resolve(doc, ok["content"]["application/json"]["schema"])
    if key is not None:
        schema = _resolve(doc, schema["properties"][key])
        schema = _resolve(doc, schema.get("items", schema))
    return schema


@pytest.mark.parametrize(("method", "path", "model", "key"), RESPONSES)
def test_every_field_the_client_reads_is_in_the_response_schema(
    openapi: dict[str, Any], method: str, path: str, model: type, key: str | None
) -> None:
    props = _record_schema(openapi, method, path, key)["properties"]
    problems = []
    for name, kind in field_kinds(model).items():
        if name not in props:
            problems.append(f"{model.__name__}.{name} is not in the {method.upper()} {path} answer")
            continue
        accepted, types = ACCEPTS[kind], _json_types(openapi, props[name])
        if accepted is not None and not types <= accepted:
            problems.append(f"{model.__name__}.{name} ({kind}) cannot parse JSON {sorted(types)}")
        if kind == "datetime" and _resolve(openapi, props[name]).get("format") != "date-time":
            problems.append(f"{model.__name__}.{name} expects a date-time string")
    assert problems == []


@pytest.mark.parametrize("key", ["experiments", "optimization_runs", "ai_queries"])
def test_every_listing_has_the_list_and_the_count_the_client_reads(
    openapi: dict[str, Any], key: str
) -> None:
    props = _record_schema(openapi, "get", f"/api/{key}", None)["properties"]
    assert _json_types(openapi, props[key]) == {"array"}
    assert _json_types(openapi, props["count"]) == {"integer"}


def _validator(doc: dict[str, Any], path: str) -> Draft202012Validator:
    # imported here, not at the top: jsonschema's format checker loads an IRI grammar
    # (~1.5 s), which every xdist worker would otherwise pay at collection
    from jsonschema import Draft202012Validator, FormatChecker

    body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator(
        {**body, "components": doc["components"]}, format_checker=FormatChecker()
    )


def _sent(call: str, kwargs: dict[str, Any], answer: Any) -> httpx.Request:
    """The request ``Client.<call>(**kwargs)`` sends (answered with ``answer``)."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=answer)

    with Client("http://svc.test", transport=httpx.MockTransport(handler)) as client:
        getattr(client, call)(**kwargs)
    return sent[0]


def _keywords(call: str) -> set[str]:
    return set(inspect.signature(getattr(Client, call)).parameters) - {"self"}


@pytest.mark.parametrize("call", sorted(LISTINGS))
def test_every_query_parameter_the_client_sends_is_declared(
    openapi: dict[str, Any], call: str
) -> None:
    assert set(LISTINGS[call]) == _keywords(call)  # a new keyword joins this test
    request = _sent(call, LISTINGS[call], {call: [], "count": 0})
    declared = {p["name"] for p in openapi["paths"][f"/api/{call}"]["get"]["parameters"]}
    assert set(request.url.params) == set(LISTINGS[call]) and set(request.url.params) <= declared


@pytest.mark.parametrize("call", sorted(CREATES))
def test_every_body_the_client_sends_is_valid_under_the_request_schema(
    openapi: dict[str, Any], call: str
) -> None:
    path, full, required = CREATES[call]
    assert set(full) == _keywords(call) - {"idempotency_key"}  # a new keyword joins this test
    validator = _validator(openapi, path)
    for kwargs in (full, {k: full[k] for k in required}):
        body = json.loads(_sent(call, kwargs, {"id": 1}).content)
        assert set(body) == set(kwargs)
        assert [e.message for e in validator.iter_errors(body)] == []


def test_the_reasoning_body_is_valid_under_the_request_schema(openapi: dict[str, Any]) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        done = b'event: done\ndata: {"trace_id": "t"}\n\n'
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=done)

    context = {"parameter_space": {"bounds": [[0, 1]]}, "goal": "minimize"}
    with Client("http://svc.test", transport=httpx.MockTransport(handler)) as client:
        assert [e.kind for e in client.reason("next?", context=context)] == ["done"]
    body = json.loads(sent[0].content)
    errors = _validator(openapi, "/api/reasoning/query").iter_errors(body)
    assert [e.message for e in errors] == []
