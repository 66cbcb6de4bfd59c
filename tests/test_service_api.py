"""The reference service's data API against a live server, on SQLite and PostgreSQL:
health, listings, validated writes and idempotent retries."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import delete

import ardlib
from ardlib.service import Settings, create_app
from ardlib.service import _tables as t
from ardlib.service._records import ListingCache

if TYPE_CHECKING:
    from conftest_service import LiveServer

# The shared fixtures (api, api_server, backend, postgres, ...), loaded explicitly.
pytest_plugins = ["conftest_service"]


def _run(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"method": "bayesian_optimization", **fields}
    r = api.post("/api/optimization_runs", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _experiment(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"parameters": {"x": 1.0}, **fields}
    r = api.post("/api/experiments", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_health_reports_version_and_database(api: httpx.Client, backend: str) -> None:
    r = api.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "version": ardlib.__version__,
        "database": "ok",
        "database_backend": backend,
    }


def test_experiment_listing_filters_limits_and_sorts_newest_first(api: httpx.Client) -> None:
    run_a = _run(api, created_by="alice")
    run_b = _run(api, method="sobol", created_by="bob")
    made = [
        _experiment(api, optimization_run_id=run_a["id"], status="completed", created_by="alice"),
        _experiment(api, optimization_run_id=run_b["id"], status="failed", created_by="bob"),
        _experiment(api, optimization_run_id=run_a["id"], status="completed", created_by="bob"),
        _experiment(api, status="pending"),
    ]
    everything = api.get("/api/experiments").json()
    assert everything["count"] == 4
    assert [e["id"] for e in everything["experiments"]] == [e["id"] for e in reversed(made)]
    stamps = [e["created_at"] for e in everything["experiments"]]
    assert stamps == sorted(stamps, reverse=True)

    def ids(**params: Any) -> list[int]:
        body = api.get("/api/experiments", params=params).json()
        assert body["count"] == len(body["experiments"])
        return [e["id"] for e in body["experiments"]]

    assert ids(status="completed") == [made[2]["id"], made[0]["id"]]
    assert ids(optimization_run_id=run_a["id"]) == [made[2]["id"], made[0]["id"]]
    assert ids(created_by="bob") == [made[2]["id"], made[1]["id"]]
    assert ids(status="completed", created_by="bob") == [made[2]["id"]]
    assert ids(limit=2) == [made[3]["id"], made[2]["id"]]
    assert ids(created_by="nobody") == []
    # The method of an experiment defaults to its run's.
    assert [e["method"] for e in reversed(everything["experiments"])] == [
        "bayesian_optimization",
        "sobol",
        "bayesian_optimization",
        None,
    ]


def test_run_listing_filters_and_default_limit(api: httpx.Client, api_server: LiveServer) -> None:
    first = _run(api, method="sobol", status="completed", created_by="carol")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with api_server.app.state.db.writing() as session:
        session.add_all(
            t.OptimizationRun(
                method="random_search", status="running", created_at=base + timedelta(minutes=i)
            )
            for i in range(55)
        )
    listed = api.get("/api/optimization_runs").json()
    assert listed["count"] == 50  # the documented default limit
    assert listed["optimization_runs"][0]["id"] == first["id"]  # created now: the newest
    times = [r["created_at"] for r in listed["optimization_runs"][1:]]
    assert times == sorted(times, reverse=True)
    assert api.get("/api/optimization_runs", params={"limit": 1000}).json()["count"] == 56
    only = api.get("/api/optimization_runs", params={"method": "sobol"}).json()
    assert [r["id"] for r in only["optimization_runs"]] == [first["id"]]
    assert api.get("/api/optimization_runs", params={"status": "completed"}).json()["count"] == 1
    assert api.get("/api/optimization_runs", params={"created_by": "carol"}).json()["count"] == 1


def test_ai_query_listing_and_cost_analysis_over_the_filtered_set(
    api: httpx.Client, api_server: LiveServer
) -> None:
    base = datetime(2025, 3, 1, tzinfo=UTC)
    rows = [("gpt", 0.5, "ann"), ("gpt", 1.5, "ann"), ("gpt", 2.0, "ben"), ("claude", 4.0, "ann")]
    with api_server.app.state.db.writing() as session:
        session.add_all(
            t.AIQuery(
                query=f"q{i}",
                selected_model=model,
                latency_ms=10.0 * (i + 1),
                input_tokens=i,
                output_tokens=2 * i,
                cost_usd=cost,
                created_by=who,
                created_at=base + timedelta(seconds=i),
            )
            for i, (model, cost, who) in enumerate(rows)
        )
    plain = api.get("/api/ai_queries").json()
    assert plain["count"] == 4 and plain["cost_analysis"] is None
    assert [q["query"] for q in plain["ai_queries"]] == ["q3", "q2", "q1", "q0"]
    r = api.get(
        "/api/ai_queries",
        params={"selected_model": "gpt", "limit": 1, "include_cost_analysis": "true"},
    ).json()
    assert r["count"] == 1 and r["ai_queries"][0]["query"] == "q2"
    cost = r["cost_analysis"]  # over all three gpt queries, not only the one returned
    assert cost["query_count"] == 3
    assert cost["total_cost_usd"] == pytest.approx(4.0)
    assert cost["average_cost_per_query"] == pytest.approx(4.0 / 3)
    assert cost["total_input_tokens"] == 0 + 1 + 2
    assert cost["by_model"] == [
        {
            "selected_model": "gpt",
            "query_count": 3,
            "total_cost_usd": pytest.approx(4.0),
            "average_latency_ms": pytest.approx(20.0),
        }
    ]
    ann = api.get(
        "/api/ai_queries", params={"created_by": "ann", "include_cost_analysis": True}
    ).json()
    assert ann["cost_analysis"]["total_cost_usd"] == pytest.approx(6.0)
    assert [m["selected_model"] for m in ann["cost_analysis"]["by_model"]] == ["claude", "gpt"]
    empty = api.get(
        "/api/ai_queries", params={"created_by": "zed", "include_cost_analysis": True}
    ).json()
    assert empty["cost_analysis"]["average_cost_per_query"] == 0.0


def test_created_records_round_trip_with_utc_timestamps(api: httpx.Client) -> None:
    run = _run(
        api,
        name="demo",
        objective="branin",
        goal="minimize",
        budget=20,
        best_value=0.4,
        parameter_space={"bounds": [[-5, 10], [0, 15]]},
        results={"trace": [1.0, 0.5]},
        status="running",
        start_time="2025-06-01T12:00:00+02:00",
    )
    assert run["start_time"] in ("2025-06-01T10:00:00Z", "2025-06-01T10:00:00+00:00")
    exp = _experiment(
        api,
        optimization_run_id=run["id"],
        method="sobol",
        parameters={"temperature": 61.5, "solvent": "water", "flags": [1, 2, {"deep": None}]},
        context={"operator": "ü"},
        noise_estimate=0.25,
        results={"yield": 0.7},
        status="completed",
        start_time="2025-06-01T10:00:00Z",
        end_time="2025-06-01T10:30:00-01:00",
        error_message=None,
        created_by="robot-1",
    )
    listed = api.get("/api/experiments").json()["experiments"]
    assert listed == [exp]
    assert exp["method"] == "sobol" and exp["parameters"]["flags"][2] == {"deep": None}
    end = datetime.fromisoformat(exp["end_time"].replace("Z", "+00:00"))
    assert end == datetime(2025, 6, 1, 11, 30, tzinfo=UTC) and end.utcoffset() == timedelta(0)
    created = datetime.fromisoformat(exp["created_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert api.get("/api/optimization_runs").json()["optimization_runs"] == [run]


BAD_EXPERIMENTS = [
    ({"parameters": {"x": 1}, "status": "done"}, "field 'status'"),
    ({}, "field 'parameters'"),
    ({"parameters": [1, 2]}, "field 'parameters'"),
    ({"parameters": {"x": 1}, "noise_estimate": -0.1}, "field 'noise_estimate'"),
    ({"parameters": {"x": 1}, "noise_estimate": "0.1"}, "field 'noise_estimate'"),
    ({"parameters": {"x": 1}, "optimization_run_id": 0}, "field 'optimization_run_id'"),
    ({"parameters": {"x": 1}, "optimization_run_id": 10**6}, "field 'optimization_run_id'"),
    ({"parameters": {"x": 1}, "start_time": "2025-01-01T00:00:00"}, "field 'start_time'"),
    (
        {
            "parameters": {"x": 1},
            "start_time": "2025-01-02T00:00:00Z",
            "end_time": "2025-01-01T00:00:00Z",
        },
        "field 'end_time'",
    ),
    ({"parameters": {"x": 1}, "created_by": "a\x00b"}, "field 'created_by'"),
    ({"parameters": {"x": "a\x00"}}, "field 'parameters'"),
    ({"parameters": {"x": 1}, "colour": "red"}, "field 'colour'"),
]


@pytest.mark.parametrize(("body", "names"), BAD_EXPERIMENTS)
def test_invalid_experiment_is_refused_naming_the_field(
    api: httpx.Client, body: dict[str, Any], names: str
) -> None:
    r = api.post("/api/experiments", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/json"
    err = r.json()
    assert err["code"] == "validation_error"
    assert names in err["error"]
    assert api.get("/api/experiments").json()["count"] == 0


def test_non_finite_numbers_and_bad_json_are_refused(api: httpx.Client) -> None:
    nan_body = '{"parameters": {"x": NaN}}'  # Python's json accepts NaN; the API must not
    r = api.post("/api/experiments", content=nan_body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "field 'parameters'" in r.json()["error"]
    r = api.post(
        "/api/optimization_runs",
        content='{"method": "sobol", "best_value": Infinity}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "field 'best_value'" in r.json()["error"]
    r = api.post(
        "/api/experiments", content="{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = api.post("/api/optimization_runs", json={"status": "running"})
    assert r.status_code == 422 and "field 'method'" in r.json()["error"]
    r = api.get("/api/experiments", params={"limit": 1001})
    assert r.status_code == 422 and "query parameter 'limit'" in r.json()["error"]
    r = api.get("/api/experiments", params={"status": "sleeping"})
    assert r.status_code == 422 and "query parameter 'status'" in r.json()["error"]
    r = api.get("/api/experiments", params={"created_by": "a\x00"})
    assert r.status_code == 422 and "query parameter 'created_by'" in r.json()["error"]
    assert api.get("/api/optimization_runs").json()["count"] == 0


def test_idempotency_key_replays_the_original_response(api: httpx.Client) -> None:
    body = {"parameters": {"x": 1.5, "y": 2}, "status": "completed"}
    first = api.post("/api/experiments", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    # The same request, keys in another order and other spacing: the same request.
    again = api.post(
        "/api/experiments",
        content=json.dumps({"status": "completed", "parameters": {"y": 2, "x": 1.5}}, indent=2),
        headers={"Idempotency-Key": "k-1", "content-type": "application/json"},
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert api.get("/api/experiments").json()["count"] == 1

    other = api.post(
        "/api/experiments", json={**body, "status": "failed"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict" and "k-1" in other.json()["error"]
    elsewhere = api.post(
        "/api/optimization_runs", json={"method": "sobol"}, headers={"Idempotency-Key": "k-1"}
    )
    assert elsewhere.status_code == 409
    assert api.get("/api/experiments").json()["count"] == 1
    assert api.get("/api/optimization_runs").json()["count"] == 0

    run = api.post(
        "/api/optimization_runs", json={"method": "sobol"}, headers={"Idempotency-Key": "k-2"}
    )
    run_again = api.post(
        "/api/optimization_runs", json={"method": "sobol"}, headers={"Idempotency-Key": "k-2"}
    )
    assert run.json()["id"] == run_again.json()["id"]
    # A refused request stores nothing, not even its key.
    bad = api.post(
        "/api/experiments",
        json={"parameters": {}, "status": "?"},
        headers={"Idempotency-Key": "k-3"},
    )
    assert bad.status_code == 422
    ok = api.post("/api/experiments", json={"parameters": {}}, headers={"Idempotency-Key": "k-3"})
    assert ok.status_code == 201 and "idempotent-replayed" not in ok.headers
    r = api.post("/api/experiments", json=body, headers={"Idempotency-Key": "bad key"})
    assert r.status_code == 422 and "header 'Idempotency-Key'" in r.json()["error"]


def test_concurrent_retries_with_one_key_create_exactly_one_row(
    api: httpx.Client, api_server: LiveServer
) -> None:

    n = 12
    barrier = threading.Barrier(n)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def post(key: str | None) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        # verify=False: plain HTTP, no CA bundle to load for each of the 2 x 12 clients
        with httpx.Client(base_url=api_server.url, timeout=60.0, verify=False) as client:
            barrier.wait()
            r = client.post("/api/experiments", json={"parameters": {"x": 3}}, headers=headers)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=post, args=("same-key",)) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [r.status_code for r in results] == [201] * n
    assert len({r.json()["id"] for r in results}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in results) == n - 1
    assert api.get("/api/experiments").json()["count"] == 1

    # Without a key every request is a new experiment (the key is what deduplicates).
    barrier.reset()
    results.clear()
    threads = [threading.Thread(target=post, args=(None,)) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [r.status_code for r in results] == [201] * n
    assert api.get("/api/experiments").json()["count"] == 1 + n


@pytest.mark.slow
def test_cached_listings_see_every_write_from_any_worker(
    new_database_url: str,
    serve_app: Callable[..., contextlib.AbstractContextManager[LiveServer]],
    settings_for: Callable[..., Settings],
) -> None:
    # Two apps on one database stand for two worker processes, each with its own cache.
    a, b = create_app(settings_for(new_database_url)), create_app(settings_for(new_database_url))
    with serve_app(a) as sa, serve_app(b) as sb, httpx.Client() as http:
        first = http.get(f"{sa.url}/api/experiments").json()
        assert first["count"] == 0
        assert http.get(f"{sa.url}/api/experiments").json() == first  # served from a's cache
        made = http.post(f"{sb.url}/api/experiments", json={"parameters": {"x": 1.0}}).json()
        seen = http.get(f"{sa.url}/api/experiments").json()
        assert [e["id"] for e in seen["experiments"]] == [made["id"]]
        # A bulk delete through ardlib's sessions (as seed-demo does) is seen too.
        with a.state.db.writing() as session:
            session.execute(delete(t.Experiment))
        assert http.get(f"{sb.url}/api/experiments").json()["count"] == 0
        # Different filters are different entries, and a logged query changes ai_queries.
        assert http.get(f"{sa.url}/api/experiments", params={"limit": 1}).json()["count"] == 0
        with a.state.db.writing() as session:
            session.add(
                t.AIQuery(query="q", selected_model="m", latency_ms=1.0, created_at=t.utcnow())
            )
        assert http.get(f"{sb.url}/api/ai_queries").json()["count"] == 1


def test_listing_cache_keeps_the_newest_generation_and_a_bounded_size() -> None:
    cache = ListingCache(max_entries=2)
    cache.put("k", 2, b"new")
    cache.put("k", 1, b"old")  # a slower reader of an older snapshot must not win
    assert cache.get("k", 2) == b"new"
    assert cache.get("k", 1) is None
    cache.put("a", 2, b"a")
    cache.put("b", 2, b"b")  # evicts "k", the least recently used
    assert cache.get("k", 2) is None
    assert cache.get("a", 2) == b"a"
    with pytest.raises(ValueError, match=r"'max_entries'.*>= 1"):
        ListingCache(max_entries=0)
