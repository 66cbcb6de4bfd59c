"""Fuzz every operation of the service's OpenAPI schema (schemathesis) against a live
server with auth on: no 5xx, and responses that conform to the schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ardlib.service import Settings, create_app

if TYPE_CHECKING:
    from conftest_service import LiveServer

# The shared fixtures (api, api_server, backend, postgres, ...), loaded explicitly.
pytest_plugins = ["conftest_service"]

KEY = "fuzz-key"
SEMANTIC_REFUSALS = (
    "no optimization run has id",
    "NUL",
    "lone surrogates",
    "must not precede start_time",
    "nest deeper",
    "out of range once converted to UTC",  # e.g. 0001-01-01T00:00:00+01:00
)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(
    database_factory: Callable[[], str], serve_app: Any, settings_for: Any
) -> Iterator[LiveServer]:
    """A live server with auth on, on each backend (NUL characters, huge numbers and deep
    JSON reach PostgreSQL's type checks too)."""
    app = create_app(settings_for(database_factory(), api_key=KEY))
    with serve_app(app) as server:
        yield server


# The schema comes from an app configured like the live one (building an app opens no
# database connection).  schemathesis.pytest.from_fixture would load it from the live
# server instead, but its lazy loader does not run under pytest 9 (it sets
# ``node._nodeid``, which pytest 9 removed).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite:///never-opened.db", api_key=KEY)).openapi()
)


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_fails_or_breaks_its_schema(
    case: schemathesis.Case, fuzz_server: LiveServer
) -> None:

    response = case.call(base_url=fuzz_server.url, headers={"X-API-Key": KEY}, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    # Schemathesis's positive_data_acceptance refuses any 422 to schema-valid data; the API
    # documents refusals the schema cannot express (a reference to a run that does not exist,
    # text holding NUL characters, which PostgreSQL cannot store, an end before the start,
    # a timestamp that leaves the years 1-9999 in UTC):
    # allow those only.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and response.status_code == 422:
        assert any(why in response.json()["error"] for why in SEMANTIC_REFUSALS), response.text


def test_live_schema_is_the_fuzzed_one_and_covers_every_endpoint(fuzz_server: LiveServer) -> None:
    import httpx

    raw = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    assert raw == schema.raw_schema
    assert set(raw["paths"]) == {
        "/health",
        "/api/experiments",
        "/api/optimization_runs",
        "/api/ai_queries",
        "/api/reasoning/query",
    }
